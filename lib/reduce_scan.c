/* reduce_scan.c — ops along one dim that see whole rows: nb_prod and nb_prod_dim, nb_cumsum,
 * nb_topk and nb_argsort (kernels/rows.h: their rules, the same on every device). The dim is
 * moved last and the input made contiguous (no copy when it already is), so the device sees
 * (rows, n); results are given back in the input's dim order, contiguous. */
#include "autocast.h"
#include "autograd/node.h"
#include "autograd/record.h"
#include "device.h"
#include "dtype.h"
#include "half.h"
#include "error.h"
#include "reduce.h"
#include "tensor.h"

#include <stdio.h>

/* ---------------------------------------------------------------- moving a dim last */

/* The permutation that moves dim d of an ndim tensor last (perm[i] is the source dim). */
static void last_perm(int ndim, int d, int *perm)
{
    int j = 0;
    for (int i = 0; i < ndim; i++)
        if (i != d) perm[j++] = i;
    perm[j] = d;
}

/* t with dim d last, contiguous, without history: the caller's (not in a scope). A 0-d t is
 * one row of one element. d < 0: every element in one row. */
static nb_tensor *rows_of(const nb_tensor *t, int d)
{
    nb_tensor *det = nb_detach(t), *r = NULL;
    if (!det) return NULL;
    if (d < 0 || t->ndim == 0) {
        r = nb_reshape(det, 1, (int64_t[]){nb__numel_of(t->ndim, t->shape)});
        nb_tensor *c = r ? nb_contiguous(r) : NULL;
        nb_release(r);
        r = c;
    } else {
        int perm[NB_MAX_DIMS];
        last_perm(t->ndim, d, perm);
        nb_tensor *p = nb_permute(det, t->ndim, perm);
        r = p ? nb_contiguous(p) : NULL;
        nb_release(p);
    }
    nb_release(det);
    return r;
}

/* out, computed in the dim order of rows_of(t, d) with shape (..., m), back in t's dim order as
 * a fresh contiguous tensor (out itself when d is already last). */
static nb_tensor *back_from_rows(nb_tensor *out, int ndim, int d)
{
    if (ndim == 0 || d == ndim - 1) return nb_retain(out);
    int perm[NB_MAX_DIMS], inverse[NB_MAX_DIMS];
    last_perm(ndim, d, perm);
    for (int i = 0; i < ndim; i++) inverse[perm[i]] = i;
    nb_tensor *p = nb_permute(out, ndim, inverse);
    nb_tensor *c = p ? nb_clone(p) : NULL;
    nb_release(p);
    return c;
}

/* The shape of rows_of(t, d) with its last size replaced by m. */
static int rows_shape(const nb_tensor *t, int d, int64_t m, int64_t *shape)
{
    if (t->ndim == 0) {
        shape[0] = m;
        return 1;
    }
    int perm[NB_MAX_DIMS];
    last_perm(t->ndim, d, perm);
    for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[perm[i]];
    shape[t->ndim - 1] = m;
    return t->ndim;
}

/* Begins the internal steps of an op: no history, temporaries not in the scope. */
static void internal_begin(void)
{
    nb_no_grad_begin();
    nb__tracking_pause();
}
static void internal_end(void)
{
    nb__tracking_resume();
    nb_no_grad_end();
}

static nb_status run_rows(const char *name, nbk_rows_op op, const nb_tensor *in, nb_tensor *out, int64_t n)
{
    const int64_t numel = nb__numel_of(in->ndim, in->shape);
    nbk_rows_args a = {.dtype = in->dtype,
                       .rows = n > 0 ? numel / n : nb__numel_of(out->ndim, out->shape),
                       .n = n,
                       .in = nb__ptr(in),
                       .out = nb__ptr(out)};
    if (a.rows == 0) return NB_OK;
    const nb_device dev = in->storage->device;
    return nb__kernel_status(name, nb__device_table(dev.type)->rows(nb__call(name, dev), op, &a));
}

/* ---------------------------------------------------------------- products */

/* The product of t along d (d < 0: of every element), shaped as the rows' outputs (..., 1). */
static nb_tensor *prod_rows(const char *name, const nb_tensor *t, int d, nb_tensor **out_rows)
{
    nb_tensor *r = rows_of(t, d);
    if (!r) return NULL;
    int64_t shape[NB_MAX_DIMS];
    int nd = rows_shape(r, r->ndim - 1, 1, shape);
    nb_tensor *out = nb__alloc(name, nd, shape, nb__is_floating(t->dtype) ? t->dtype : NB_INT64, t->storage->device);
    if (out && run_rows(name, NBK_ROWS_PROD, r, out, r->shape[r->ndim - 1]) != NB_OK) {
        nb_release(out);
        out = NULL;
    }
    nb_release(r);
    *out_rows = out;
    return out;
}

static nb_tensor *prod(const char *name, const nb_tensor *t, int dim, bool whole, bool keepdim)
{
    nb__autocast ac; /* float32 under autocast, on the CPU and CUDA */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_ALL, 1, &t))
        return nb__autocast_done(&ac, prod(name, ac.t[0], dim, whole, keepdim));
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? prod(name, w, dim, whole, keepdim) : NULL;
        nb_release(w);
        return nb__narrow(r, t->dtype);
    }
    if (nb__is_null(name, "tensor", t)) return NULL;
    int d = -1;
    if (!whole && (d = nb__wrap_dim(name, dim, t->ndim)) < 0) return NULL;
    int64_t shape[NB_MAX_DIMS];
    int nd = 0;
    if (!whole) nd = nb__reduced_shape(t, t->ndim > 0 ? 1u << d : 0u, keepdim, shape);
    internal_begin();
    nb_tensor *rows_out = NULL, *result = NULL;
    if (prod_rows(name, t, whole ? -1 : d, &rows_out)) {
        nb_tensor *back = whole || t->ndim == 0 ? nb_retain(rows_out) : back_from_rows(rows_out, t->ndim, d);
        result = back ? nb_reshape(back, nd, shape) : NULL;
        nb_tensor *fresh = result ? nb_contiguous(result) : NULL; /* a view of ours otherwise */
        nb_release(result);
        result = fresh;
        nb_release(back);
    }
    nb_release(rows_out);
    internal_end();
    if (!result) return NULL;
    result->is_view = false;
    nb__scope_register(result);
    nb_node *node;
    if (!nb__autograd_record_node(NB_NODE_PROD, name, result, 1, &t, &node) ||
        (node && !nb__node_save(node, 0, t, false))) {
        nb_release(result);
        return NULL;
    }
    if (node) {
        node->args.reduce.dim = whole ? -1 : d;
        node->args.reduce.keepdim = keepdim;
    }
    return result;
}

nb_tensor *nb_prod(const nb_tensor *t) { return prod("nb_prod", t, 0, true, false); }
nb_tensor *nb_prod_dim(const nb_tensor *t, int dim, bool keepdim) { return prod("nb_prod_dim", t, dim, false, keepdim); }

nb_tensor *nb__prod_others(const nb_tensor *t, int d)
{
    const char *name = "nb_prod (backward)";
    internal_begin();
    nb_tensor *r = rows_of(t, d), *result = NULL;
    nb_tensor *out = r ? nb__alloc(name, r->ndim, r->shape, t->dtype, t->storage->device) : NULL;
    if (out && run_rows(name, NBK_ROWS_PROD_OTHERS, r, out, r->shape[r->ndim - 1]) == NB_OK) {
        nb_tensor *back = d < 0 || t->ndim == 0 ? nb_retain(out) : back_from_rows(out, t->ndim, d);
        result = back ? nb_reshape(back, t->ndim, t->shape) : NULL;
        nb_release(back);
    }
    nb_release(out);
    nb_release(r);
    internal_end();
    if (result) nb__scope_register(result);
    return result;
}

/* ---------------------------------------------------------------- cumulative sums */

nb_tensor *nb_cumsum(const nb_tensor *t, int dim)
{
    const char *name = "nb_cumsum";
    nb__autocast ac; /* float32 under CUDA's autocast */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_CUDA, 1, &t)) return nb__autocast_done(&ac, nb_cumsum(ac.t[0], dim));
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? nb_cumsum(w, dim) : NULL;
        nb_release(w);
        return nb__narrow(r, t->dtype);
    }
    if (nb__is_null(name, "tensor", t)) return NULL;
    int d = nb__wrap_dim(name, dim, t->ndim);
    if (d < 0) return NULL;
    internal_begin();
    nb_tensor *r = rows_of(t, d), *result = NULL;
    nb_tensor *out = r ? nb__alloc(name, r->ndim, r->shape, nb__is_floating(t->dtype) ? t->dtype : NB_INT64,
                                   t->storage->device)
                       : NULL;
    if (out && run_rows(name, NBK_ROWS_CUMSUM, r, out, r->shape[r->ndim - 1]) == NB_OK) {
        nb_tensor *back = back_from_rows(out, t->ndim, d);
        result = back ? nb_reshape(back, t->ndim, t->shape) : NULL;
        nb_release(back);
    }
    nb_release(out);
    nb_release(r);
    internal_end();
    if (!result) return NULL;
    result->is_view = false;
    nb__scope_register(result);
    nb_node *node;
    if (!nb__autograd_record_node(NB_NODE_CUMSUM, name, result, 1, &t, &node)) {
        nb_release(result);
        return NULL;
    }
    if (node) node->args.reduce.dim = d;
    return result;
}

/* ---------------------------------------------------------------- sorts */

/* Sorts t along d, keeping the first k of each row: values (NULL: not wanted) and indices,
 * in t's dim order with dim d of size k. */
static nb_status sort_along(const char *name, const nb_tensor *t, int d, int64_t k, bool descending,
                            nb_tensor **values, nb_tensor **indices)
{
    internal_begin();
    nb_tensor *r = rows_of(t, d), *v = NULL, *ix = NULL;
    nb_status st = NB_OK;
    if (!r) goto done;
    int64_t shape[NB_MAX_DIMS];
    int nd = rows_shape(r, r->ndim - 1, k, shape);
    const nb_device dev = t->storage->device;
    ix = nb__alloc(name, nd, shape, NB_INT64, dev);
    if (values) v = nb__alloc(name, nd, shape, t->dtype, dev);
    if (!ix || (values && !v)) goto done;
    const int64_t n = r->shape[r->ndim - 1];
    nbk_sort_args a = {.dtype = t->dtype,
                       .rows = n > 0 ? nb__numel_of(r->ndim, r->shape) / n : 0,
                       .n = n,
                       .k = k,
                       .descending = descending,
                       .in = nb__ptr(r),
                       .values = v ? nb__ptr(v) : NULL,
                       .indices = (int64_t *)nb__ptr(ix)};
    if (a.rows > 0 && k > 0 &&
        nb__kernel_status(name, nb__device_table(dev.type)->sort(nb__call(name, dev), &a)) != NB_OK)
        goto done;
    int64_t out_shape[NB_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) out_shape[i] = i == d ? k : t->shape[i];
    nb_tensor *bi = back_from_rows(ix, t->ndim, d);
    *indices = bi ? nb_reshape(bi, t->ndim, out_shape) : NULL;
    nb_release(bi);
    if (values) {
        nb_tensor *bv = back_from_rows(v, t->ndim, d);
        *values = bv ? nb_reshape(bv, t->ndim, out_shape) : NULL;
        nb_release(bv);
    }
done:
    nb_release(r);
    nb_release(v);
    nb_release(ix);
    internal_end();
    if (!*indices || (values && !*values)) {
        nb_release(*indices);
        *indices = NULL;
        if (values) {
            nb_release(*values);
            *values = NULL;
        }
        st = nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_MEMORY;
        return st;
    }
    (*indices)->is_view = false;
    nb__scope_register(*indices);
    if (values) {
        (*values)->is_view = false;
        nb__scope_register(*values);
    }
    return NB_OK;
}

nb_status nb_topk(const nb_tensor *t, int64_t k, int dim, bool largest, bool sorted, nb_tensor **values,
                  nb_tensor **indices)
{
    const char *name = "nb_topk";
    (void)sorted; /* the first k are always given in sorted order, which sorted=false allows */
    if (!values || !indices) {
        nb__fail(NB_ERR_ARGUMENT, "%s: values and indices must point to where the results go", name);
        return nb_last_status();
    }
    *values = *indices = NULL;
    if (nb__is_null(name, "tensor", t)) return nb_last_status();
    if (nb__is_half(t->dtype)) { /* in float32, the values rounded back (exactly) (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_status st = w ? nb_topk(w, k, dim, largest, sorted, values, indices) : nb_last_status();
        nb_release(w);
        if (st == NB_OK && !(*values = nb__narrow(*values, t->dtype))) {
            nb_release(*indices);
            *indices = NULL;
            st = nb_last_status();
        }
        return st;
    }
    if (t->dtype == NB_BOOL) { /* as in PyTorch */
        nb__fail(NB_ERR_DTYPE, "%s: expected float32, float64 or int64, got bool", name);
        return nb_last_status();
    }
    int d = nb__wrap_dim(name, dim, t->ndim);
    if (d < 0) return nb_last_status();
    const int64_t n = t->ndim > 0 ? t->shape[d] : 1;
    if (k < 0 || k > n) {
        char s[160];
        nb__fail(NB_ERR_ARGUMENT, "%s: k = %lld is out of range for dim %d of size %lld (the input has shape %s)",
                 name, (long long)k, d, (long long)n, nb__shape_string(t->ndim, t->shape, s, sizeof s));
        return nb_last_status();
    }
    nb_status st = sort_along(name, t, d, k, largest, values, indices);
    if (st != NB_OK) return st;
    nb_node *node;
    if (!nb__autograd_record_node(NB_NODE_TOPK, name, *values, 1, &t, &node) ||
        (node && !nb__node_save(node, 1, *indices, false))) {
        nb_release(*values);
        nb_release(*indices);
        *values = *indices = NULL;
        return nb_last_status();
    }
    if (node) node->args.reduce.dim = d;
    return NB_OK;
}

nb_tensor *nb_argsort(const nb_tensor *t, int dim, bool descending)
{
    const char *name = "nb_argsort";
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? nb_argsort(w, dim, descending) : NULL;
        nb_release(w);
        return r;
    }
    if (nb__is_null(name, "tensor", t)) return NULL;
    int d = nb__wrap_dim(name, dim, t->ndim);
    if (d < 0) return NULL;
    nb_tensor *indices = NULL;
    if (sort_along(name, t, d, t->ndim > 0 ? t->shape[d] : 1, descending, NULL, &indices) != NB_OK) return NULL;
    return indices;
}
