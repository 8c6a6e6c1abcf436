/* storage.c — reference-counted buffers. On the CPU the header and the 64-byte aligned data share
 * one block from nabla's block cache (kernels/cpu/host_cache.c). On a CUDA device the header is a
 * plain malloc and the data comes from the device's caching allocator (kernels/cuda/allocator.c). */
#include "../kernels/cpu/host_cache.h"
#include "error.h"
#include "tensor.h"

#include <stdlib.h>
#include <string.h>

#ifdef NB_HAVE_CUDA
#include "../kernels/cuda/cuda.h"
#endif

#define NB_ALIGN 64
/* The header is padded to one alignment unit so the data after it stays 64-byte aligned. */
_Static_assert(sizeof(nb_storage) <= NB_ALIGN, "storage header must fit in one alignment unit");

#define NB_MAX_BYTES ((size_t)1 << 46) /* 64 TiB: a corrupt size, not a tensor */

static nb_storage *cuda_storage_new(const char *op, size_t nbytes, nb_device device)
{
    char dev[32];
    nb__device_string(device, dev, sizeof dev);
#ifdef NB_HAVE_CUDA
    const int n = nbk_cuda_count();
    if (n == 0)
        return nb__fail(NB_ERR_DEVICE, "%s: cannot allocate on %s: no CUDA device is available (%s)", op, dev,
                        nbk_cuda_no_device_reason());
    if (device.index < 0 || device.index >= n) {
        if (n == 1)
            return nb__fail(NB_ERR_DEVICE, "%s: cannot allocate on %s: there is 1 CUDA device (cuda:0)", op, dev);
        return nb__fail(NB_ERR_DEVICE, "%s: cannot allocate on %s: there are %d CUDA devices (cuda:0 to cuda:%d)",
                        op, dev, n, n - 1);
    }
    nb_storage *s = malloc(sizeof *s);
    if (!s) return nb__fail(NB_ERR_MEMORY, "%s: out of memory allocating a storage header for %s", op, dev);
    void *data = NULL, *block = NULL;
    nb_status st = nbk_cuda_malloc(device.index, nbytes, &data, &block);
    if (st != NB_OK) {
        free(s);
        if (st == NB_ERR_MEMORY) return nb__fail(st, "%s: %s", op, nbk_cuda_error()); /* names size, device, stats */
        return nb__fail(st, "%s: cannot allocate %zu bytes on %s: %s", op, nbytes, dev, nbk_cuda_error());
    }
    memset(s, 0, sizeof *s);
    atomic_init(&s->refcount, 1);
    s->data = data;
    s->nbytes = nbytes;
    s->device = device;
    s->cuda_block = block;
    return s;
#else
    (void)nbytes;
    return nb__fail(NB_ERR_DEVICE, "%s: cannot allocate on %s: nabla was built without CUDA", op, dev);
#endif
}

nb_storage *nb__storage_new(const char *op, size_t nbytes, nb_device device)
{
    if (nbytes > NB_MAX_BYTES)
        return nb__fail(NB_ERR_MEMORY, "%s: cannot allocate %zu bytes: larger than any tensor", op, nbytes);
    if (device.type == NB_CUDA) return cuda_storage_new(op, nbytes, device);
    if (device.type != NB_CPU) {
        char dev[32];
        return nb__fail(NB_ERR_DEVICE, "%s: cannot allocate on %s: an unknown device type", op,
                        nb__device_string(device, dev, sizeof dev));
    }
    size_t capacity;
    void *block = nbk_host_alloc(NB_ALIGN + nbytes, &capacity);
    if (!block) return nb__fail(NB_ERR_MEMORY, "%s: out of memory allocating %zu bytes on the cpu", op, nbytes);
    nb_storage *s = block;
    s->capacity = capacity;
    atomic_init(&s->refcount, 1);
    s->data = (char *)block + NB_ALIGN;
    s->nbytes = nbytes;
    s->device = device;
    s->version = 0;
    s->cuda_block = NULL;
    return s;
}

void nb__storage_retain(nb_storage *s) { atomic_fetch_add_explicit(&s->refcount, 1, memory_order_relaxed); }

void nb__storage_release(nb_storage *s)
{
    if (!s) return;
    if (atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) != 1) return;
    if (s->device.type == NB_CUDA) {
#ifdef NB_HAVE_CUDA
        nbk_cuda_free(s->device.index, s->cuda_block);
#endif
        free(s);
        return;
    }
    nbk_host_free(s, s->capacity); /* header and data are one block */
}
