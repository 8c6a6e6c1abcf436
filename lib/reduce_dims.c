/* reduce_dims.c — reductions over a list of dims: nb_sum_dims, nb_mean_dims, nb_amax, nb_amin,
 * nb_any and nb_all. One plan folds every listed dim at once (kernels/reduce.h: its sum and
 * extreme rules hold as for a single dim), over the input's own strides; the kept dims are
 * written to a contiguous output. amax/amin record a node whose backward shares the gradient
 * evenly among the elements that tie for the extreme, as torch.amax does. */
#include "autocast.h"
#include "autograd/record.h"
#include "device.h"
#include "dtype.h"
#include "half.h"
#include "error.h"
#include "reduce.h"
#include "tensor.h"

#include <stdio.h>

bool nb__reduce_dims_mask(const char *op, const nb_tensor *t, int n, const int *dims, uint32_t *mask)
{
    if (n < 0 || (n > 0 && !dims))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a list of dims (n >= 0, dims not NULL), got n = %d%s", op,
                        n, n > 0 ? " and dims = NULL" : ""),
               false;
    const int range = t->ndim > 0 ? t->ndim : 1;
    if (n == 0) {
        *mask = (uint32_t)((1u << range) - 1);
        return true;
    }
    uint32_t m = 0;
    for (int i = 0; i < n; i++) {
        int d = nb__wrap_dim(op, dims[i], t->ndim);
        if (d < 0) return false;
        if (m & (1u << d))
            return nb__fail(NB_ERR_ARGUMENT, "%s: dim %d appears multiple times in the list of dims", op, d),
                   false;
        m |= 1u << d;
    }
    *mask = m;
    return true;
}

int nb__reduced_shape(const nb_tensor *t, uint32_t mask, bool keepdim, int64_t *shape)
{
    int nd = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (!(mask & (1u << i)))
            shape[nd++] = t->shape[i];
        else if (keepdim)
            shape[nd++] = 1;
    }
    return nd;
}

/* The plan folding the dims of mask: they keep their order, their index steps row-major over
 * the reduced dims alone (the tie rule's order); the other dims are outer dims whose outputs
 * are contiguous. */
static void plan_dims(const nb_tensor *t, uint32_t mask, nbk_reduce_plan *p)
{
    int64_t rs[NB_MAX_DIMS], rst[NB_MAX_DIMS], ris[NB_MAX_DIMS];
    int nr = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (!(mask & (1u << i)) || t->shape[i] == 1) continue;
        rs[nr] = t->shape[i];
        rst[nr] = t->strides[i];
        nr++;
    }
    int64_t step = 1;
    for (int i = nr - 1; i >= 0; i--) {
        ris[i] = step;
        step *= rs[i];
    }
    nr = nb__reduce_coalesce(nr, rs, rst, NULL, ris);
    if (nr == 0) { /* nothing to fold but one element each */
        rs[0] = 1, rst[0] = 0, ris[0] = 1;
        nr = 1;
    }
    p->red_ndim = nr;
    for (int i = 0; i < nr; i++) {
        p->red_shape[i] = rs[i];
        p->red_strides[i] = rst[i];
        p->red_index_strides[i] = ris[i];
    }
    int64_t os[NB_MAX_DIMS], oin[NB_MAX_DIMS], oout[NB_MAX_DIMS];
    int no = 0;
    for (int i = 0; i < t->ndim; i++) {
        if ((mask & (1u << i)) || t->shape[i] == 1) continue;
        os[no] = t->shape[i];
        oin[no] = t->strides[i];
        no++;
    }
    step = 1;
    for (int i = no - 1; i >= 0; i--) {
        oout[i] = step;
        step *= os[i];
    }
    no = nb__reduce_coalesce(no, os, oin, oout, NULL);
    p->outer_ndim = no;
    for (int i = 0; i < no; i++) {
        p->outer_shape[i] = os[i];
        p->outer_in_strides[i] = oin[i];
        p->outer_out_strides[i] = oout[i];
    }
}

typedef enum dims_kind { SUM, MEAN, AMAX, AMIN } dims_kind;

static nb_tensor *reduce_dims(const char *name, dims_kind kind, const nb_tensor *t, int n, const int *dims,
                              bool keepdim)
{
    if (nb__is_null(name, "tensor", t)) return NULL;
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? reduce_dims(name, kind, w, n, dims, keepdim) : NULL;
        nb_release(w);
        return nb__narrow(r, t->dtype);
    }
    if (kind == MEAN && !nb__is_floating(t->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating dtype (float32, float64, float16 or bfloat16), got %s", name,
                        nb_dtype_name(t->dtype));
    uint32_t mask;
    if (!nb__reduce_dims_mask(name, t, n, dims, &mask)) return NULL;
    if (kind == AMAX || kind == AMIN) {
        for (int i = 0; i < t->ndim; i++) {
            if ((mask & (1u << i)) && t->shape[i] == 0) {
                char s[160];
                return nb__fail(NB_ERR_ARGUMENT,
                                "%s: cannot reduce over dim %d of size 0: the operation has no identity "
                                "(the input has shape %s)",
                                name, i, nb__shape_string(t->ndim, t->shape, s, sizeof s));
            }
        }
    }
    int64_t shape[NB_MAX_DIMS];
    const int nd = nb__reduced_shape(t, mask, keepdim, shape);
    const nb_dtype out_dtype = kind == SUM && !nb__is_floating(t->dtype) ? NB_INT64 : t->dtype;
    nb_tensor *out = nb__alloc(name, nd, shape, out_dtype, t->storage->device);
    if (!out) return NULL;
    nbk_reduce_plan p;
    plan_dims(t, mask, &p);
    p.in = nb__ptr(t);
    p.values = nb__ptr(out);
    p.indices = NULL;
    p.divisor = kind == MEAN ? (double)nbk_numel(p.red_ndim, p.red_shape) : 1.0;
    static const nbk_reduce_op ops[] = {[SUM] = NBK_REDUCE_SUM, [MEAN] = NBK_REDUCE_SUM,
                                        [AMAX] = NBK_REDUCE_MAX, [AMIN] = NBK_REDUCE_MIN};
    const nb_device dev = t->storage->device;
    if (nb__numel_of(nd, shape) > 0) {
        const nbk_device *table = nb__device_table(dev.type);
        nb_status st = table->reduce(nb__call(name, dev), ops[kind], t->dtype, &p);
        if (nb__kernel_status(name, st) != NB_OK) {
            nb_release(out);
            return NULL;
        }
    }
    static const nb_reduce_dims_op grads[] = {[SUM] = NB_REDUCE_DIMS_SUM, [MEAN] = NB_REDUCE_DIMS_MEAN,
                                              [AMAX] = NB_REDUCE_DIMS_AMAX, [AMIN] = NB_REDUCE_DIMS_AMIN};
    if (!nb__autograd_record_reduce_dims(name, grads[kind], out, t, mask, keepdim)) {
        nb_release(out);
        return NULL;
    }
    return out;
}

nb_tensor *nb_sum_dims(const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    nb__autocast ac; /* float32 under CUDA's autocast */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_CUDA, 1, &t))
        return nb__autocast_done(&ac, nb_sum_dims(ac.t[0], n, dims, keepdim));
    return reduce_dims("nb_sum_dims", SUM, t, n, dims, keepdim);
}
nb_tensor *nb_mean_dims(const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    return reduce_dims("nb_mean_dims", MEAN, t, n, dims, keepdim);
}
nb_tensor *nb_amax(const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    return reduce_dims("nb_amax", AMAX, t, n, dims, keepdim);
}
nb_tensor *nb_amin(const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    return reduce_dims("nb_amin", AMIN, t, n, dims, keepdim);
}

/* any/all: bool max/min (kernels/reduce.h: "bool max is any, min is all"); other dtypes are
 * compared with 0 first. An empty any is false and an empty all true, as in PyTorch. */
static nb_tensor *any_all(const char *name, bool any, const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    if (nb__is_null(name, "tensor", t)) return NULL;
    uint32_t mask;
    if (!nb__reduce_dims_mask(name, t, n, dims, &mask)) return NULL;
    int64_t shape[NB_MAX_DIMS];
    const int nd = nb__reduced_shape(t, mask, keepdim, shape);
    nb_tensor *b;
    if (t->dtype == NB_BOOL) {
        b = nb_retain((nb_tensor *)t);
    } else {
        nb__tracking_pause();
        b = nb_ne_scalar(t, 0.0); /* ours: not in the scope */
        nb__tracking_resume();
        if (!b) return NULL;
    }
    nb_tensor *out = nb__alloc(name, nd, shape, NB_BOOL, t->storage->device);
    if (!out) goto done;
    bool empty = false;
    for (int i = 0; i < t->ndim; i++) empty = empty || ((mask & (1u << i)) && t->shape[i] == 0);
    if (nb__numel_of(nd, shape) > 0) {
        const nb_device dev = t->storage->device;
        const nbk_device *table = nb__device_table(dev.type);
        nb_status st;
        if (empty) { /* no elements to fold: the identity */
            st = nb_fill_(out, any ? 0.0 : 1.0) ? NB_OK : nb_last_status();
        } else {
            nbk_reduce_plan p;
            plan_dims(b, mask, &p);
            p.in = nb__ptr(b);
            p.values = nb__ptr(out);
            p.indices = NULL;
            p.divisor = 1.0;
            st = nb__kernel_status(name, table->reduce(nb__call(name, dev), any ? NBK_REDUCE_MAX : NBK_REDUCE_MIN,
                                                       NB_BOOL, &p));
        }
        if (st != NB_OK) {
            nb_release(out);
            out = NULL;
        }
    }
done:
    nb_release(b);
    return out;
}

nb_tensor *nb_any(const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    return any_all("nb_any", true, t, n, dims, keepdim);
}
nb_tensor *nb_all(const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    return any_all("nb_all", false, t, n, dims, keepdim);
}
