/* create.c — creation ops (empty, zeros, ones, full, arange, from a C array) and reading values
 * back out (copy to a C array, item). */
#include "autograd/record.h"
#include "device.h"
#include "dtype.h"
#include "error.h"
#include "ewise.h"
#include "graph.h"
#include "tensor.h"
#include "view.h"

#include <math.h>
#include <string.h>

/* Marks a new leaf as requiring grad when asked, refusing non-floating dtypes as PyTorch does. */
static nb_tensor *apply_requires_grad(const char *name, nb_tensor *t, bool requires_grad)
{
    if (!t || !requires_grad) return t;
    if (!nb__is_float_kind(t->dtype)) {
        nb__fail(NB_ERR_DTYPE, "%s: only floating point tensors can require gradients, got %s", name,
                 nb_dtype_name(t->dtype)); /* before the release: t may be freed there */
        nb_release(t);
        return NULL;
    }
    t->requires_grad = true;
    return t;
}

static nb_tensor *filled(const char *name, int ndim, const int64_t *shape, double value, nb_options o)
{
    nb_tensor *t = nb__alloc(name, ndim, shape, o.dtype, o.device);
    if (!t) return NULL;
    if (!nb_fill_(t, value)) {
        nb_release(t);
        return NULL;
    }
    return apply_requires_grad(name, t, o.requires_grad);
}

nb_tensor *nb_empty(int ndim, const int64_t *shape, nb_options o)
{
    return apply_requires_grad("nb_empty", nb__alloc("nb_empty", ndim, shape, o.dtype, o.device), o.requires_grad);
}

nb_tensor *nb_zeros(int ndim, const int64_t *shape, nb_options o) { return filled("nb_zeros", ndim, shape, 0, o); }
nb_tensor *nb_ones(int ndim, const int64_t *shape, nb_options o) { return filled("nb_ones", ndim, shape, 1, o); }
nb_tensor *nb_full(int ndim, const int64_t *shape, double value, nb_options o)
{
    return filled("nb_full", ndim, shape, value, o);
}

nb_tensor *nb_zeros_like(const nb_tensor *t)
{
    if (nb__is_null("nb_zeros_like", "tensor", t)) return NULL;
    return filled("nb_zeros_like", t->ndim, t->shape, 0, NB_OPTS(t->dtype, .device = t->storage->device));
}

nb_tensor *nb_ones_like(const nb_tensor *t)
{
    if (nb__is_null("nb_ones_like", "tensor", t)) return NULL;
    return filled("nb_ones_like", t->ndim, t->shape, 1, NB_OPTS(t->dtype, .device = t->storage->device));
}

nb_tensor *nb_arange(double start, double end, double step, nb_options o)
{
    if (step == 0 || !isfinite(start) || !isfinite(end) || !isfinite(step))
        return nb__fail(NB_ERR_ARGUMENT, "nb_arange: expected finite bounds and a nonzero step, got start %g, end %g, step %g",
                        start, end, step);
    if ((end - start) / step < 0)
        return nb__fail(NB_ERR_ARGUMENT, "nb_arange: the step %g moves away from end (start %g, end %g)",
                        step, start, end);
    double count = ceil((end - start) / step);
    if (count > 1e12) return nb__fail(NB_ERR_ARGUMENT, "nb_arange: %g elements is too many", count);
    int64_t n = (int64_t)count;
    /* made where it lives (nothing is copied, so a graph can capture it) */
    nb_tensor *t = nb__alloc("nb_arange", 1, &n, o.dtype, o.device);
    if (!t) return NULL;
    const nbk_device *table = nb__device_table(o.device.type); /* the allocation found it */
    nb_status st = table->arange(nb__call("nb_arange", o.device), o.dtype, start, step, n, nb__ptr(t));
    if (nb__kernel_status("nb_arange", st) != NB_OK) {
        nb_release(t);
        return NULL;
    }
    return apply_requires_grad("nb_arange", t, o.requires_grad);
}

nb_tensor *nb_from_array(const void *data, int ndim, const int64_t *shape, nb_options o)
{
    if (nb__is_null("nb_from_array", "data", data)) return NULL;
    nb_tensor *t = nb__alloc("nb_from_array", ndim, shape, o.dtype, NB_DEVICE_CPU);
    if (!t) return NULL;
    memcpy(nb__ptr(t), data, t->storage->nbytes);
    if (!nb__same_device(o.device, NB_DEVICE_CPU)) {
        nb_tensor *moved = nb_to(t, o.device);
        nb_release(t);
        t = moved;
    }
    return apply_requires_grad("nb_from_array", t, o.requires_grad);
}

nb_status nb_copy_to_array(const nb_tensor *t, void *dst, size_t dst_bytes)
{
    if (nb__is_null("nb_copy_to_array", "tensor", t) || nb__is_null("nb_copy_to_array", "dst", dst))
        return nb_last_status();
    size_t need = (size_t)nb__numel_of(t->ndim, t->shape) * nb_dtype_size(t->dtype);
    if (!nb__graph_allows_host_work("nb_copy_to_array", "reading values back to the host")) return nb_last_status();
    if (dst_bytes < need) {
        char shape[160];
        return nb__fail_status(NB_ERR_ARGUMENT,
                               "nb_copy_to_array: the destination holds %zu bytes; a %s tensor of shape %s needs %zu",
                               dst_bytes, nb_dtype_name(t->dtype),
                               nb__shape_string(t->ndim, t->shape, shape, sizeof shape), need);
    }
    nb_no_grad_begin(); /* reading values records nothing, even from a tensor that requires grad */
    nb_tensor *host = nb_to(t, NB_DEVICE_CPU);
    nb_no_grad_end();
    nb_tensor *c = host ? nb_contiguous(host) : NULL;
    nb_release(host);
    if (!c) return nb_last_status();
    memcpy(dst, nb__ptr(c), need);
    nb_release(c);
    return NB_OK;
}

double nb_item(const nb_tensor *t)
{
    if (nb__is_null("nb_item", "tensor", t)) return NAN;
    if (!nb__graph_allows_host_work("nb_item", "reading a value back to the host")) return NAN;
    int64_t n = nb__numel_of(t->ndim, t->shape);
    if (n != 1) {
        char shape[160];
        nb__fail(NB_ERR_SHAPE, "nb_item: expected a tensor with one element, got shape %s (%lld elements)",
                 nb__shape_string(t->ndim, t->shape, shape, sizeof shape), (long long)n);
        return NAN;
    }
    union { float f; double d; int64_t i; bool b; uint16_t h; } v;
    if (nb_copy_to_array(t, &v, sizeof v) != NB_OK) return NAN;
    switch (t->dtype) {
    case NB_FLOAT32: return v.f;
    case NB_FLOAT64: return v.d;
    case NB_INT64: return (double)v.i;
    case NB_BOOL: return v.b ? 1.0 : 0.0;
    case NB_FLOAT16: case NB_BFLOAT16: return nb_half_to_float(t->dtype, v.h);
    }
    return NAN;
}
