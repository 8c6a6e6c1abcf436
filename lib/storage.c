/* storage.c — reference-counted buffers, from the allocator of their device's table: on the CPU
 * the header and the 64-byte aligned data share one block of nabla's block cache; on a CUDA
 * device the header is host memory and the data comes from the device's caching allocator. */
#include "device.h"
#include "error.h"
#include "tensor.h"

#include <stdio.h>
#include <string.h>

#define NB_MAX_BYTES ((size_t)1 << 46) /* 64 TiB: a corrupt size, not a tensor */

nb_storage *nb__storage_new(const char *op, size_t nbytes, nb_device device)
{
    if (nbytes > NB_MAX_BYTES)
        return nb__fail(NB_ERR_MEMORY, "%s: cannot allocate %zu bytes: larger than any tensor", op, nbytes);
    char dev[32];
    const nbk_device *table = nb__device_exists(device, "%s: cannot allocate on", op);
    if (!table) return NULL;
    nbk_block b;
    nb_status st = table->alloc(nb__call(op, device), sizeof(nb_storage), nbytes, &b);
    if (st == NB_ERR_MEMORY) return nb__fail(st, "%s: %s", op, nbk_error()); /* names size and device */
    if (st != NB_OK)
        return nb__fail(st, "%s: cannot allocate %zu bytes on %s: %s", op, nbytes,
                        nb__device_string(device, dev, sizeof dev), nbk_error());
    nb_storage *s = b.header;
    memset(s, 0, sizeof *s);
    atomic_init(&s->refcount, 1);
    s->data = b.data;
    s->nbytes = nbytes;
    s->device = device;
    s->handle = b.handle;
    s->capacity = b.capacity;
    return s;
}

void nb__storage_retain(nb_storage *s) { atomic_fetch_add_explicit(&s->refcount, 1, memory_order_relaxed); }

void nb__storage_release(nb_storage *s)
{
    if (!s) return;
    if (atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) != 1) return;
    if (s->external) {
        nb__storage_free_external(s); /* memory nabla does not own (lib/blob.c) */
        return;
    }
    const nbk_block b = {.header = s, .data = s->data, .handle = s->handle, .capacity = s->capacity};
    nb__device_table(s->device.type)->free(s->device.index, &b); /* the header goes with it */
}
