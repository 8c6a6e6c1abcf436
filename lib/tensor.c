/* tensor.c — tensor headers: allocation, views, reference counting and inspection. */
#include "autograd/node.h"
#include "error.h"
#include "graph.h"
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool nb__checked_numel(const char *op, int ndim, const int64_t *shape, int64_t *numel)
{
    int64_t span = 1, n = 1;
    for (int i = 0; i < ndim; i++) {
        char buf[200];
        if (shape[i] < 0)
            return nb__fail(NB_ERR_SHAPE, "%s: negative size %lld in shape %s", op, (long long)shape[i],
                            nb__shape_string(ndim, shape, buf, sizeof buf)),
                   false;
        if (__builtin_mul_overflow(span, shape[i] > 1 ? shape[i] : 1, &span) || span > NB_MAX_SPAN)
            return nb__fail(NB_ERR_SHAPE,
                            "%s: shape %s is too large: its sizes multiply past 2^59 elements, where element "
                            "counts and byte offsets would overflow",
                            op, nb__shape_string(ndim, shape, buf, sizeof buf)),
                   false;
        n *= shape[i]; /* at most span */
    }
    *numel = n;
    return true;
}

void nb__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i] > 1 ? shape[i] : 1;
    }
}

static nb_tensor *new_header(const char *op, nb_storage *s, int64_t offset, int ndim, const int64_t *shape,
                             const int64_t *strides, nb_dtype dtype)
{
    nb_tensor *t = malloc(sizeof *t);
    if (!t) return nb__fail(NB_ERR_MEMORY, "%s: out of memory allocating a tensor header", op);
    memset(t, 0, sizeof *t);
    atomic_init(&t->refcount, 1);
    atomic_init(&t->retains, 0);
    t->storage = s;
    t->offset = offset;
    t->ndim = ndim;
    t->dtype = dtype;
    if (ndim > 0) memcpy(t->shape, shape, (size_t)ndim * sizeof(int64_t)); /* shape may be NULL for 0-d */
    if (strides)
        memcpy(t->strides, strides, (size_t)ndim * sizeof(int64_t));
    else
        nb__contiguous_strides(ndim, shape, t->strides);
    nb__scope_register(t);
    return t;
}

nb_tensor *nb__alloc(const char *op, int ndim, const int64_t *shape, nb_dtype dtype, nb_device device)
{
    if (ndim < 0 || ndim > NB_MAX_DIMS)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %d dims given; expected 0 to %d", op, ndim, NB_MAX_DIMS);
    if (ndim > 0 && !shape) return nb__fail(NB_ERR_NULL, "%s: shape is NULL", op);
    size_t elem = nb_dtype_size(dtype);
    if (elem == 0) return nb__fail(NB_ERR_DTYPE, "%s: unknown dtype %d", op, (int)dtype);
    int64_t numel;
    if (!nb__checked_numel(op, ndim, shape, &numel)) return NULL;
    if (!nb__graph_allows(op, device)) return NULL;
    nb_storage *s = nb__storage_new(op, (size_t)numel * elem, device); /* refuses what no memory holds */
    if (!s) return NULL;
    nb_tensor *t = new_header(op, s, 0, ndim, shape, NULL, dtype);
    if (!t) nb__storage_release(s);
    return t;
}

nb_tensor *nb__view_of(const char *op, nb_storage *s, int64_t offset, int ndim, const int64_t *shape,
                       const int64_t *strides, nb_dtype dtype)
{
    nb_tensor *t = new_header(op, s, offset, ndim, shape, strides, dtype);
    if (t) nb__storage_retain(s);
    return t;
}

nb_tensor *nb_retain(nb_tensor *t)
{
    if (!t) return NULL;
    atomic_fetch_add_explicit(&t->retains, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->refcount, 1, memory_order_relaxed);
    return t;
}

nb_tensor *nb__retain_ref(nb_tensor *t)
{
    if (t) atomic_fetch_add_explicit(&t->refcount, 1, memory_order_relaxed);
    return t;
}

/* Takes back one of t's nb_retain references; false when none is out. */
static bool give_back_retain(nb_tensor *t)
{
    int n = atomic_load_explicit(&t->retains, memory_order_relaxed);
    while (n > 0)
        if (atomic_compare_exchange_weak_explicit(&t->retains, &n, n - 1, memory_order_relaxed, memory_order_relaxed))
            return true;
    return false;
}

/* Which reference a release gives back: one taken with nb_retain while any is out (so a retain
 * and a release pair up, in user and library code alike); otherwise the reference the tensor was
 * made with, which is its scope's when a scope owns it (the scope then forgets it). */
void nb_release(nb_tensor *t)
{
    if (!t) return;
    if (!give_back_retain(t)) nb__scope_forget(t);
    nb__release_ref(t);
}

void nb__release_ref(nb_tensor *t)
{
    if (!t) return;
    if (atomic_fetch_sub_explicit(&t->refcount, 1, memory_order_acq_rel) != 1) return;
    nb__scope_forget(t); /* freed: no scope may release it again */
    nb__storage_release(t->storage);
    nb_release(t->grad);
    if (t->grad_acc) t->grad_acc->leaf = NULL;
    nb__node_release(t->grad_fn);
    free(t);
}

bool nb__is_contiguous(const nb_tensor *t)
{
    if (nb__numel_of(t->ndim, t->shape) == 0) return true; /* no elements: any strides will do */
    int64_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 1) continue;
        if (t->strides[i] != expected) return false;
        expected *= t->shape[i];
    }
    return true;
}

bool nb__has_overlap(const nb_tensor *t)
{
    for (int i = 0; i < t->ndim; i++)
        if (t->strides[i] == 0 && t->shape[i] > 1) return true;
    return false;
}

int nb__wrap_dim(const char *op, int dim, int ndim)
{
    int range = ndim > 0 ? ndim : 1; /* a 0-d tensor accepts dim 0 and -1, as in PyTorch */
    if (dim < -range || dim >= range)
        return (nb__fail(NB_ERR_ARGUMENT, "%s: dim %d is out of range for a %d-d tensor (expected %d to %d)",
                         op, dim, ndim, -range, range - 1),
                -1);
    return dim < 0 ? dim + range : dim;
}

char *nb__shape_string(int ndim, const int64_t *shape, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, size - used, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

char *nb__device_string(nb_device d, char *buf, size_t size)
{
    if (d.type == NB_CPU)
        snprintf(buf, size, "cpu");
    else
        snprintf(buf, size, "cuda:%d", d.index);
    return buf;
}

/* ---------------------------------------------------------------- public inspection */

int nb_ndim(const nb_tensor *t) { return nb__is_null("nb_ndim", "tensor", t) ? -1 : t->ndim; }
const int64_t *nb_shape(const nb_tensor *t) { return nb__is_null("nb_shape", "tensor", t) ? NULL : t->shape; }
const int64_t *nb_strides(const nb_tensor *t)
{
    return nb__is_null("nb_strides", "tensor", t) ? NULL : t->strides;
}
int64_t nb_numel(const nb_tensor *t)
{
    return nb__is_null("nb_numel", "tensor", t) ? -1 : nb__numel_of(t->ndim, t->shape);
}
nb_dtype nb_dtype_of(const nb_tensor *t) { return t ? t->dtype : NB_FLOAT32; }
nb_device nb_device_of(const nb_tensor *t) { return t ? t->storage->device : NB_DEVICE_CPU; }
bool nb_is_contiguous(const nb_tensor *t) { return t && nb__is_contiguous(t); }

int64_t nb_size(const nb_tensor *t, int dim)
{
    if (nb__is_null("nb_size", "tensor", t)) return -1;
    int d = nb__wrap_dim("nb_size", dim, t->ndim);
    if (d < 0) return -1;
    return t->ndim == 0 ? 1 : t->shape[d];
}

void *nb_data(const nb_tensor *t)
{
    if (nb__is_null("nb_data", "tensor", t)) return NULL;
    if (t->storage->device.type != NB_CPU)
        return nb__fail(NB_ERR_DEVICE, "nb_data: the tensor is not on the cpu (copy it with nb_to first)");
    return nb__ptr(t);
}

char *nb_shape_string(const nb_tensor *t, char *buf, size_t size)
{
    if (!t) {
        if (size) snprintf(buf, size, "(null)");
        return buf;
    }
    return nb__shape_string(t->ndim, t->shape, buf, size);
}
