/* storage.c — reference-counted buffers. On the CPU the header and the 64-byte aligned data share
 * one block from nabla's block cache (kernels/cpu/host_cache.c). */
#include "../kernels/cpu/host_cache.h"
#include "error.h"
#include "tensor.h"

#include <stdlib.h>
#include <string.h>

#define NB_ALIGN 64
/* The header is padded to one alignment unit so the data after it stays 64-byte aligned. */
_Static_assert(sizeof(nb_storage) <= NB_ALIGN, "storage header must fit in one alignment unit");

nb_storage *nb__storage_new(size_t nbytes, nb_device device)
{
    if (device.type != NB_CPU) {
        char dev[32];
        return nb__fail(NB_ERR_DEVICE, "cannot allocate on %s: nabla was built without CUDA",
                        nb__device_string(device, dev, sizeof dev));
    }
    if (nbytes > ((size_t)1 << 46)) /* 64 TiB: a corrupt size, not a tensor */
        return nb__fail(NB_ERR_MEMORY, "cannot allocate %zu bytes: larger than any tensor", nbytes);
    size_t capacity;
    void *block = nb_host_alloc(NB_ALIGN + nbytes, &capacity);
    if (!block) return nb__fail(NB_ERR_MEMORY, "out of memory allocating %zu bytes on the cpu", nbytes);
    nb_storage *s = block;
    s->capacity = capacity;
    atomic_init(&s->refcount, 1);
    s->data = (char *)block + NB_ALIGN;
    s->nbytes = nbytes;
    s->device = device;
    s->version = 0;
    return s;
}

void nb__storage_retain(nb_storage *s) { atomic_fetch_add_explicit(&s->refcount, 1, memory_order_relaxed); }

void nb__storage_release(nb_storage *s)
{
    if (!s) return;
    if (atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) != 1) return;
    nb_host_free(s, s->capacity); /* header and data are one block */
}
