/* view.c — shape ops that share storage: reshape/view, t, transpose, permute, narrow, select,
 * squeeze, unsqueeze, expand. Each goes through nb__make_view so autograd sees one kind of node. */
#include "view.h"

#include "autograd/record.h"
#include "error.h"

#include <string.h>

nb_tensor *nb__make_view(const char *name, const nb_tensor *t, int64_t offset, int ndim,
                         const int64_t *shape, const int64_t *strides, const nb_view_args *args)
{
    int64_t numel; /* an expanded view may span more than its storage: its shape is checked too */
    if (!nb__checked_numel(name, ndim, shape, &numel)) return NULL;
    nb_tensor *v = nb__view_of(name, t->storage, offset, ndim, shape, strides, t->dtype);
    if (!v) return NULL;
    if (!nb__autograd_record_view(name, v, t, args)) {
        nb_release(v);
        return NULL;
    }
    return v;
}

nb_tensor *nb__alias(const char *name, const nb_tensor *t)
{
    nb_view_args args = {.kind = NB_VIEW_RESHAPE};
    return nb__make_view(name, t, t->offset, t->ndim, t->shape, t->strides, &args);
}

/* Fills in a -1 size from numel; false and an error when the shape cannot hold numel elements. */
static bool infer_shape(const char *name, const nb_tensor *t, int ndim, const int64_t *shape,
                        int64_t *out)
{
    if (ndim < 0 || ndim > NB_MAX_DIMS)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %d dims given; expected 0 to %d", name, ndim, NB_MAX_DIMS), false;
    if (ndim > 0 && !shape) return nb__fail(NB_ERR_NULL, "%s: shape is NULL", name), false;
    int infer = -1;
    int64_t known[NB_MAX_DIMS]; /* the sizes given, the one to infer as 1 */
    for (int i = 0; i < ndim; i++) {
        known[i] = shape[i];
        if (shape[i] == -1 && infer < 0) {
            infer = i;
            known[i] = 1;
            continue;
        }
        if (shape[i] < 0) {
            char buf[160];
            return nb__fail(NB_ERR_SHAPE, "%s: invalid size %lld in shape %s", name,
                            (long long)shape[i], nb__shape_string(ndim, shape, buf, sizeof buf)),
                   false;
        }
    }
    int64_t known_numel; /* checked: a product that wraps around must not pass for t's numel */
    if (!nb__checked_numel(name, ndim, known, &known_numel)) return false;
    int64_t numel = nb__numel_of(t->ndim, t->shape);
    if (ndim > 0) memcpy(out, shape, (size_t)ndim * sizeof(int64_t)); /* shape may be NULL for 0-d */
    if (infer >= 0) {
        if (known_numel == 0 || numel % known_numel != 0) goto mismatch;
        out[infer] = numel / known_numel;
    } else if (known_numel != numel) {
        goto mismatch;
    }
    return true;
mismatch:;
    char want[160], have[160];
    nb__fail(NB_ERR_SHAPE, "%s: shape %s is invalid for a tensor of shape %s (%lld elements)", name,
             nb__shape_string(ndim, shape, want, sizeof want),
             nb__shape_string(t->ndim, t->shape, have, sizeof have), (long long)numel);
    return false;
}

/* Strides that view t's elements in row-major order with new_shape, if t's strides allow it
 * (PyTorch's rule: each run of dims merged in t must be contiguous within itself). */
static bool view_strides(const nb_tensor *t, int ndim, const int64_t *shape, int64_t *strides)
{
    int64_t numel = nb__numel_of(t->ndim, t->shape);
    if (numel == 0 || t->ndim == 0) {
        nb__contiguous_strides(ndim, shape, strides);
        return true;
    }
    int view_d = ndim - 1;
    int64_t chunk_base_stride = t->ndim ? t->strides[t->ndim - 1] : 1;
    int64_t tensor_numel = 1, view_numel = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        tensor_numel *= t->shape[d];
        if (d == 0 || (t->shape[d - 1] != 1 && t->strides[d - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
                strides[view_d] = view_numel * chunk_base_stride;
                view_numel *= shape[view_d];
                view_d--;
            }
            if (view_numel != tensor_numel) return false;
            if (d > 0) {
                chunk_base_stride = t->strides[d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    return view_d == -1;
}

static nb_tensor *reshape_impl(const char *name, const nb_tensor *t, int ndim, const int64_t *shape,
                               bool may_copy)
{
    if (nb__is_null(name, "tensor", t)) return NULL;
    int64_t sizes[NB_MAX_DIMS], strides[NB_MAX_DIMS];
    if (!infer_shape(name, t, ndim, shape, sizes)) return NULL;
    nb_view_args args = {.kind = NB_VIEW_RESHAPE};
    if (view_strides(t, ndim, sizes, strides))
        return nb__make_view(name, t, t->offset, ndim, sizes, strides, &args);
    if (!may_copy) {
        char want[160], have[160], st[160];
        return nb__fail(NB_ERR_SHAPE,
                        "%s: cannot view a tensor of shape %s and strides %s as %s without a copy; "
                        "use nb_reshape or nb_contiguous first",
                        name, nb__shape_string(t->ndim, t->shape, have, sizeof have),
                        nb__shape_string(t->ndim, t->strides, st, sizeof st),
                        nb__shape_string(ndim, sizes, want, sizeof want));
    }
    nb_tensor *c = nb_clone(t);
    if (!c) return NULL;
    nb_tensor *v = nb__make_view(name, c, 0, ndim, sizes, NULL, &args);
    nb_release(c);
    return v;
}

nb_tensor *nb_reshape(const nb_tensor *t, int ndim, const int64_t *shape)
{
    return reshape_impl("nb_reshape", t, ndim, shape, true);
}

nb_tensor *nb_view(const nb_tensor *t, int ndim, const int64_t *shape)
{
    return reshape_impl("nb_view", t, ndim, shape, false);
}

nb_tensor *nb_flatten(const nb_tensor *t)
{
    int64_t all = -1;
    return reshape_impl("nb_flatten", t, 1, &all, true);
}

nb_tensor *nb_permute(const nb_tensor *t, int ndim, const int *dims)
{
    if (nb__is_null("nb_permute", "tensor", t) || nb__is_null("nb_permute", "dims", ndim ? dims : (void *)1))
        return NULL;
    if (ndim != t->ndim)
        return nb__fail(NB_ERR_ARGUMENT, "nb_permute: %d dims given for a %d-d tensor", ndim, t->ndim);
    nb_view_args args = {.kind = NB_VIEW_PERMUTE};
    int64_t shape[NB_MAX_DIMS], strides[NB_MAX_DIMS];
    bool seen[NB_MAX_DIMS] = {false};
    for (int i = 0; i < ndim; i++) {
        int d = nb__wrap_dim("nb_permute", dims[i], ndim);
        if (d < 0) return NULL;
        if (seen[d]) return nb__fail(NB_ERR_ARGUMENT, "nb_permute: dim %d appears twice", d);
        seen[d] = true;
        args.perm[i] = d;
        shape[i] = t->shape[d];
        strides[i] = t->strides[d];
    }
    return nb__make_view("nb_permute", t, t->offset, ndim, shape, strides, &args);
}

nb_tensor *nb_transpose(const nb_tensor *t, int dim0, int dim1)
{
    if (nb__is_null("nb_transpose", "tensor", t)) return NULL;
    if (t->ndim == 0) return nb__alias("nb_transpose", t);
    int d0 = nb__wrap_dim("nb_transpose", dim0, t->ndim);
    int d1 = d0 < 0 ? -1 : nb__wrap_dim("nb_transpose", dim1, t->ndim);
    if (d1 < 0) return NULL;
    int perm[NB_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) perm[i] = i;
    perm[d0] = d1;
    perm[d1] = d0;
    return nb_permute(t, t->ndim, perm);
}

nb_tensor *nb_t(const nb_tensor *t)
{
    if (nb__is_null("nb_t", "tensor", t)) return NULL;
    if (t->ndim > 2)
        return nb__fail(NB_ERR_ARGUMENT, "nb_t: expected a tensor of at most 2 dims, got %d (use nb_transpose)", t->ndim);
    if (t->ndim < 2) return nb__alias("nb_t", t);
    return nb_transpose(t, 0, 1);
}

nb_tensor *nb_narrow(const nb_tensor *t, int dim, int64_t start, int64_t length)
{
    if (nb__is_null("nb_narrow", "tensor", t)) return NULL;
    if (t->ndim == 0) return nb__fail(NB_ERR_ARGUMENT, "nb_narrow: cannot narrow a 0-d tensor");
    int d = nb__wrap_dim("nb_narrow", dim, t->ndim);
    if (d < 0) return NULL;
    const int64_t given = start; /* the message names what the caller passed */
    if (start < 0) start += t->shape[d];
    if (start < 0 || length < 0 || start > t->shape[d] || length > t->shape[d] - start)
        return nb__fail(NB_ERR_ARGUMENT,
                        "nb_narrow: start %lld and length %lld are out of range for dim %d of size %lld",
                        (long long)given, (long long)length, d, (long long)t->shape[d]);
    int64_t shape[NB_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[d] = length;
    nb_view_args args = {.kind = NB_VIEW_NARROW, .dim = d, .start = start, .length = length};
    return nb__make_view("nb_narrow", t, t->offset + start * t->strides[d], t->ndim, shape, t->strides, &args);
}

nb_tensor *nb_select(const nb_tensor *t, int dim, int64_t index)
{
    if (nb__is_null("nb_select", "tensor", t)) return NULL;
    if (t->ndim == 0) return nb__fail(NB_ERR_ARGUMENT, "nb_select: cannot select from a 0-d tensor");
    int d = nb__wrap_dim("nb_select", dim, t->ndim);
    if (d < 0) return NULL;
    int64_t i = index < 0 ? index + t->shape[d] : index;
    if (i < 0 || i >= t->shape[d])
        return nb__fail(NB_ERR_ARGUMENT, "nb_select: index %lld is out of range for dim %d of size %lld",
                        (long long)index, d, (long long)t->shape[d]);
    int64_t shape[NB_MAX_DIMS], strides[NB_MAX_DIMS];
    int n = 0;
    for (int k = 0; k < t->ndim; k++) {
        if (k == d) continue;
        shape[n] = t->shape[k];
        strides[n++] = t->strides[k];
    }
    nb_view_args args = {.kind = NB_VIEW_SELECT, .dim = d, .start = i, .length = 1};
    return nb__make_view("nb_select", t, t->offset + i * t->strides[d], n, shape, strides, &args);
}

/* Drops dim d when only_dim >= 0, else every size-1 dim. */
static nb_tensor *squeeze_impl(const char *name, const nb_tensor *t, int only_dim)
{
    int64_t shape[NB_MAX_DIMS], strides[NB_MAX_DIMS];
    int n = 0;
    for (int k = 0; k < t->ndim; k++) {
        bool drop = t->shape[k] == 1 && (only_dim < 0 || only_dim == k);
        if (drop) continue;
        shape[n] = t->shape[k];
        strides[n++] = t->strides[k];
    }
    nb_view_args args = {.kind = NB_VIEW_RESHAPE};
    return nb__make_view(name, t, t->offset, n, shape, strides, &args);
}

nb_tensor *nb_squeeze(const nb_tensor *t)
{
    if (nb__is_null("nb_squeeze", "tensor", t)) return NULL;
    return squeeze_impl("nb_squeeze", t, -1);
}

nb_tensor *nb_squeeze_dim(const nb_tensor *t, int dim)
{
    if (nb__is_null("nb_squeeze_dim", "tensor", t)) return NULL;
    int d = nb__wrap_dim("nb_squeeze_dim", dim, t->ndim);
    if (d < 0) return NULL;
    return squeeze_impl("nb_squeeze_dim", t, t->ndim == 0 ? -2 : d);
}

nb_tensor *nb_unsqueeze(const nb_tensor *t, int dim)
{
    if (nb__is_null("nb_unsqueeze", "tensor", t)) return NULL;
    if (t->ndim >= NB_MAX_DIMS)
        return nb__fail(NB_ERR_ARGUMENT, "nb_unsqueeze: a tensor has at most %d dims", NB_MAX_DIMS);
    int d = nb__wrap_dim("nb_unsqueeze", dim, t->ndim + 1);
    if (d < 0) return NULL;
    int64_t shape[NB_MAX_DIMS], strides[NB_MAX_DIMS];
    for (int k = 0, n = 0; k <= t->ndim; k++) {
        if (k == d) {
            shape[k] = 1;
            strides[k] = d < t->ndim ? t->strides[d] * t->shape[d] : 1;
            continue;
        }
        shape[k] = t->shape[n];
        strides[k] = t->strides[n++];
    }
    nb_view_args args = {.kind = NB_VIEW_RESHAPE};
    return nb__make_view("nb_unsqueeze", t, t->offset, t->ndim + 1, shape, strides, &args);
}

nb_tensor *nb_expand(const nb_tensor *t, int ndim, const int64_t *shape)
{
    if (nb__is_null("nb_expand", "tensor", t)) return NULL;
    if (ndim > 0 && nb__is_null("nb_expand", "shape", shape)) return NULL;
    if (ndim < t->ndim || ndim > NB_MAX_DIMS) {
        char have[160];
        return nb__fail(NB_ERR_SHAPE, "nb_expand: cannot expand a tensor of shape %s to %d dims", 
                        nb__shape_string(t->ndim, t->shape, have, sizeof have), ndim);
    }
    int64_t sizes[NB_MAX_DIMS], strides[NB_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        int j = i - (ndim - t->ndim);
        int64_t want = shape[i];
        if (j < 0) {
            if (want < 0) goto bad;
            sizes[i] = want;
            strides[i] = 0;
            continue;
        }
        if (want == -1) want = t->shape[j];
        if (want < 0 || (t->shape[j] != 1 && want != t->shape[j])) goto bad;
        sizes[i] = want;
        strides[i] = t->shape[j] == 1 && want != 1 ? 0 : t->strides[j];
    }
    nb_view_args args = {.kind = NB_VIEW_EXPAND};
    return nb__make_view("nb_expand", t, t->offset, ndim, sizes, strides, &args);
bad:;
    char have[160], want_s[160];
    return nb__fail(NB_ERR_SHAPE, "nb_expand: cannot expand shape %s to %s (only size-1 dims can grow)",
                    nb__shape_string(t->ndim, t->shape, have, sizeof have),
                    nb__shape_string(ndim, shape, want_s, sizeof want_s));
}
