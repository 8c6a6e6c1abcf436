/* rearrange.c — ops that copy a tensor's elements into a new arrangement, composed from views
 * and copies so that autograd records each step: nb_repeat (expanded views made dense:
 * ExpandBackward, CloneBackward), nb_flip (index_select with a reversed index:
 * IndexSelectBackward) and nb_roll (two narrowed views concatenated: CatBackward). */
#include "error.h"
#include "ewise.h"
#include "tensor.h"

#include <stdlib.h>
#include <string.h>

/* Runs with tracking paused: x is the caller's; the result is a copy, never a view of t. */
static nb_tensor *finish(const nb_tensor *t, nb_tensor *x)
{
    nb_tensor *out = x && x->storage == t->storage ? nb_clone(x) : x;
    if (out != x) nb_release(x);
    nb__tracking_resume();
    if (out) nb__scope_register(out);
    return out;
}

/* x repeated r times along d (r copies one after another) */
static nb_tensor *repeat_dim(nb_tensor *x, int d, int64_t r)
{
    if (x->ndim < NB_MAX_DIMS) { /* (.., s, ..) -> (.., 1, s, ..) -> (.., r, s, ..) -> (.., r·s, ..) */
        nb_tensor *u = nb_unsqueeze(x, d);
        int64_t shape[NB_MAX_DIMS];
        for (int k = 0; k < x->ndim + 1; k++) shape[k] = k == d ? r : -1;
        nb_tensor *e = u ? nb_expand(u, x->ndim + 1, shape) : NULL;
        int64_t flat[NB_MAX_DIMS];
        memcpy(flat, x->shape, sizeof flat);
        flat[d] = r * x->shape[d];
        nb_tensor *out = e ? nb_reshape(e, x->ndim, flat) : NULL;
        nb_release(u);
        nb_release(e);
        return out;
    }
    /* no room for another dim: r copies concatenated */
    nb_tensor **copies = malloc((size_t)(r > 0 ? r : 1) * sizeof(nb_tensor *)); /* (r,) */
    if (!copies) return nb__fail(NB_ERR_MEMORY, "nb_repeat: out of memory for %lld copies", (long long)r);
    for (int64_t k = 0; k < r; k++) copies[k] = x;
    nb_tensor *out = r > 0 ? nb_cat((int)r, copies, d) : nb_narrow(x, d, 0, 0);
    free(copies);
    return out;
}

nb_tensor *nb_repeat(const nb_tensor *t, int n, const int64_t *repeats)
{
    const char *op = "nb_repeat";
    if (nb__is_null(op, "input", t)) return NULL;
    if (n > 0 && nb__is_null(op, "repeats", repeats)) return NULL;
    if (n < t->ndim || n > NB_MAX_DIMS)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %d repeats given for a %d-d tensor (expected %d to %d)", op, n, t->ndim,
                        t->ndim, NB_MAX_DIMS);
    int64_t shape[NB_MAX_DIMS], out_shape[NB_MAX_DIMS], numel;
    for (int k = 0; k < n; k++) {
        shape[k] = k < n - t->ndim ? 1 : t->shape[k - (n - t->ndim)];
        if (repeats[k] < 0)
            return nb__fail(NB_ERR_ARGUMENT, "%s: repeat %lld for dim %d is negative", op, (long long)repeats[k], k);
        if (__builtin_mul_overflow(shape[k], repeats[k], &out_shape[k]))
            return nb__fail(NB_ERR_SHAPE, "%s: dim %d of size %lld repeated %lld times is past any tensor's size", op, k,
                            (long long)shape[k], (long long)repeats[k]);
    }
    if (!nb__checked_numel(op, n, out_shape, &numel)) return NULL;
    nb__tracking_pause();
    nb_tensor *x = nb_reshape(t, n, shape);
    for (int k = 0; k < n && x; k++) {
        if (repeats[k] == 1) continue;
        nb_tensor *next = repeat_dim(x, k, repeats[k]);
        nb_release(x);
        x = next;
    }
    return finish(t, x);
}

/* The dims a list names, each once; false and an error naming op otherwise. */
static bool dims_of(const char *op, const nb_tensor *t, int n, const int *dims, int *out)
{
    if (n > 0 && nb__is_null(op, "dims", dims)) return false;
    bool seen[NB_MAX_DIMS] = {false};
    for (int k = 0; k < n; k++) {
        const int d = nb__wrap_dim(op, dims[k], t->ndim > 0 ? t->ndim : 1);
        if (d < 0) return false;
        if (seen[d]) return nb__fail(NB_ERR_ARGUMENT, "%s: dim %d appears more than once", op, d), false;
        seen[d] = true;
        out[k] = d;
    }
    return true;
}

nb_tensor *nb_flip(const nb_tensor *t, int n, const int *dims)
{
    const char *op = "nb_flip";
    if (nb__is_null(op, "input", t)) return NULL;
    if (n < 0 || n > NB_MAX_DIMS) return nb__fail(NB_ERR_ARGUMENT, "%s: %d dims given", op, n);
    int ds[NB_MAX_DIMS];
    if (!dims_of(op, t, n, dims, ds)) return NULL;
    nb__tracking_pause();
    nb_tensor *x = nb_retain((nb_tensor *)t);
    for (int k = 0; k < n && x; k++) {
        const int64_t size = t->ndim > 0 ? t->shape[ds[k]] : 1;
        nb_tensor *idx = nb_arange((double)size - 1, -1, -1, NB_OPTS(NB_INT64, .device = t->storage->device));
        nb_tensor *next = idx ? nb_index_select(x, ds[k], idx) : NULL;
        nb_release(idx);
        nb_release(x);
        x = next;
    }
    return finish(t, x);
}

nb_tensor *nb_roll(const nb_tensor *t, int nshifts, const int64_t *shifts, int ndims, const int *dims)
{
    const char *op = "nb_roll";
    if (nb__is_null(op, "input", t)) return NULL;
    if (nshifts < 1) return nb__fail(NB_ERR_ARGUMENT, "%s: expected at least one shift, got %d", op, nshifts);
    if (nb__is_null(op, "shifts", shifts)) return NULL;
    if (ndims == 0 && nshifts != 1)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %d shifts given with no dims (the flattened tensor takes one)", op, nshifts);
    if (ndims != 0 && ndims != nshifts)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %d shifts and %d dims given; expected one shift per dim", op, nshifts, ndims);
    if (ndims < 0 || ndims > NB_MAX_DIMS) return nb__fail(NB_ERR_ARGUMENT, "%s: %d dims given", op, ndims);
    int ds[NB_MAX_DIMS];
    if (ndims > 0 && nb__is_null(op, "dims", dims)) return NULL;
    for (int k = 0; k < ndims; k++) /* a dim may be rolled twice, as in PyTorch */
        if ((ds[k] = nb__wrap_dim(op, dims[k], t->ndim > 0 ? t->ndim : 1)) < 0) return NULL;
    nb__tracking_pause();
    nb_tensor *x = ndims == 0 ? nb_flatten(t) : nb_retain((nb_tensor *)t);
    if (ndims == 0) ds[0] = 0;
    for (int k = 0; k < (ndims == 0 ? 1 : ndims) && x; k++) {
        if (x->ndim == 0) break;
        const int64_t size = x->shape[ds[k]];
        if (size == 0) continue;
        const int64_t s = (shifts[k] % size + size) % size;
        if (s == 0) continue;
        nb_tensor *parts[2] = {nb_narrow(x, ds[k], size - s, s), nb_narrow(x, ds[k], 0, size - s)};
        nb_tensor *next = parts[0] && parts[1] ? nb_cat(2, parts, ds[k]) : NULL;
        nb_release(parts[0]);
        nb_release(parts[1]);
        nb_release(x);
        x = next;
    }
    if (ndims == 0 && x) {
        nb_tensor *back = nb_reshape(x, t->ndim, t->shape);
        nb_release(x);
        x = back;
    }
    return finish(t, x);
}
