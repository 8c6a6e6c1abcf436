/* blob.c — tensors over memory nabla does not own (nb_from_blob): the storage points at the
 * caller's memory, and the caller's deleter runs exactly once, when the last tensor or view that
 * shares the storage is released. DLPack imports and mmap'ed safetensors files use the same path. */
#include "device.h"
#include "error.h"
#include "tensor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nb__storage_free_external(nb_storage *s)
{
    if (s->device.type != NB_CPU) { /* queued kernels may still read or write the memory */
        const nbk_device *table = nb__device_table(s->device.type);
        if (table && table->synchronize) (void)table->synchronize(nb__call("nb_from_blob", s->device));
    }
    if (s->deleter) s->deleter(s->data, s->deleter_ctx);
    free(s);
}

nb_tensor *nb__from_blob(const char *op, void *data, int ndim, const int64_t *shape, const int64_t *strides,
                         nb_dtype dtype, nb_device device, void (*deleter)(void *data, void *ctx), void *ctx)
{
    if (ndim < 0 || ndim > NB_MAX_DIMS)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %d dims given; expected 0 to %d", op, ndim, NB_MAX_DIMS);
    if (ndim > 0 && !shape) return nb__fail(NB_ERR_NULL, "%s: shape is NULL", op);
    size_t elem = nb_dtype_size(dtype);
    if (elem == 0) return nb__fail(NB_ERR_DTYPE, "%s: unknown dtype %d", op, (int)dtype);
    int64_t numel;
    if (!nb__checked_numel(op, ndim, shape, &numel)) return NULL;
    char buf[200], dev[32];
    /* the bytes the view spans: the largest element offset plus one element */
    int64_t last = 0;
    for (int i = 0; i < ndim && strides; i++) {
        if (strides[i] < 0)
            return nb__fail(NB_ERR_ARGUMENT, "%s: stride %lld of dim %d is negative (strides %s); expected strides >= 0",
                            op, (long long)strides[i], i, nb__shape_string(ndim, strides, buf, sizeof buf));
        int64_t step;
        if (shape[i] > 0 && (__builtin_mul_overflow(shape[i] - 1, strides[i], &step) ||
                             __builtin_add_overflow(last, step, &last) || last >= NB_MAX_SPAN))
            return nb__fail(NB_ERR_ARGUMENT, "%s: strides %s over shape %s reach past 2^59 elements", op,
                            nb__shape_string(ndim, strides, buf, sizeof buf),
                            nb__shape_string(ndim, shape, dev, sizeof dev));
    }
    if (!strides) last = numel > 0 ? numel - 1 : 0;
    size_t nbytes = numel > 0 ? (size_t)(last + 1) * elem : 0;
    if (numel > 0 && !data)
        return nb__fail(NB_ERR_NULL, "%s: data is NULL for a shape %s of %lld elements", op,
                        nb__shape_string(ndim, shape, buf, sizeof buf), (long long)numel);
    if ((uintptr_t)data % elem != 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: data %p is not aligned to its %s elements (%zu bytes)", op, data,
                        nb_dtype_name(dtype), elem);
    if (!nb__device_exists(device, "%s: cannot wrap memory of", op)) return NULL;

    nb_storage *s = malloc(sizeof *s);
    if (!s) return nb__fail(NB_ERR_MEMORY, "%s: out of memory allocating a storage header", op);
    memset(s, 0, sizeof *s);
    atomic_init(&s->refcount, 1);
    s->data = data;
    s->nbytes = nbytes;
    s->device = device;
    s->external = true; /* no deleter until the tensor exists: a failure leaves data the caller's */
    nb_tensor *t = nb__view_of(op, s, 0, ndim, shape, strides, dtype);
    nb__storage_release(s); /* the tensor's reference is the only one now (or none: freed) */
    if (!t) return NULL;
    s->deleter = deleter;
    s->deleter_ctx = ctx;
    return t;
}

nb_tensor *nb_from_blob(void *data, int ndim, const int64_t *shape, const int64_t *strides, nb_dtype dtype,
                        nb_device device, void (*deleter)(void *data, void *ctx), void *ctx)
{
    return nb__from_blob("nb_from_blob", data, ndim, shape, strides, dtype, device, deleter, ctx);
}
