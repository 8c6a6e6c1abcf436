/* reduce_stats.c — statistics over a list of dims: nb_var and nb_std (two passes: the mean, then
 * the sum of squared deviations from it, which stays accurate where one pass of sums of squares
 * cancels) and nb_logsumexp (the maximum taken out first, so nothing overflows), each one fused
 * pass of the device over rows (kernels/rows.h) with its own node; and nb_norm (p = 1, 2 or
 * infinity), computed from other ops (abs, square, sums, sqrt, amax) and recorded as one
 * NormBackward, whose gradient is PyTorch's (0 where a 2-norm is 0). */
#include "autocast.h"
#include "autograd/node.h"
#include "autograd/record.h"
#include "device.h"
#include "dtype.h"
#include "half.h"
#include "error.h"
#include "reduce.h"
#include "tensor.h"

#include <math.h>
#include <stdio.h>

/* The common checks: t, a floating dtype (unless ints are allowed), and the list of dims. */
static bool check(const char *name, const nb_tensor *t, bool ints_ok, int n, const int *dims, uint32_t *mask)
{
    if (nb__is_null(name, "tensor", t)) return false;
    if (!ints_ok && !nb__is_floating(t->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating dtype (float32, float64, float16 or bfloat16), got %s", name,
                        nb_dtype_name(t->dtype)),
               false;
    return nb__reduce_dims_mask(name, t, n, dims, mask);
}

/* The dims of mask as a list, and how many elements each output folds. */
static int mask_dims(const nb_tensor *t, uint32_t mask, int *dims, int64_t *count)
{
    int n = 0;
    *count = 1;
    const int range = t->ndim > 0 ? t->ndim : 1;
    for (int i = 0; i < range; i++) {
        if (!(mask & (1u << i))) continue;
        dims[n++] = i;
        if (t->ndim > 0) *count *= t->shape[i];
    }
    return n;
}

/* t with the dims of mask moved last (the kept dims first, in order), contiguous, viewed as
 * (rows, count): ours, without history. A 0-d t is one row of one element. */
static nb_tensor *rows_over(const nb_tensor *t, uint32_t mask, int64_t count)
{
    int64_t rows = 1;
    for (int i = 0; i < t->ndim; i++)
        if (!(mask & (1u << i))) rows *= t->shape[i];
    nb_no_grad_begin();
    nb__tracking_pause();
    nb_tensor *det = nb_detach(t), *p = NULL;
    if (det && t->ndim > 0) {
        int perm[NB_MAX_DIMS], j = 0;
        for (int i = 0; i < t->ndim; i++)
            if (!(mask & (1u << i))) perm[j++] = i;
        for (int i = 0; i < t->ndim; i++)
            if (mask & (1u << i)) perm[j++] = i;
        p = nb_permute(det, t->ndim, perm);
    } else if (det) {
        p = nb_retain(det);
    }
    nb_tensor *c = p ? nb_contiguous(p) : NULL;
    nb_tensor *r = c ? nb_reshape(c, 2, (int64_t[]){rows, count}) : NULL;
    nb_release(det), nb_release(p), nb_release(c);
    nb__tracking_resume();
    nb_no_grad_end();
    return r;
}

/* One fused pass of the device over the rows of t (floating) for op: the result, shaped by
 * mask and keepdim, recorded as a node of kind (NB_NODE_NONE: not recorded). */
static nb_tensor *fused(const char *name, nbk_rows_op op, nb_node_kind kind, const nb_tensor *t, uint32_t mask,
                        bool keepdim, double correction, int64_t count)
{
    int64_t shape[NB_MAX_DIMS];
    const int nd = nb__reduced_shape(t, mask, keepdim, shape);
    nb_tensor *rows = rows_over(t, mask, count);
    if (!rows) return NULL;
    nb_tensor *out = nb__alloc(name, nd, shape, t->dtype, t->storage->device);
    if (!out) goto fail;
    nbk_rows_args a = {.dtype = t->dtype,
                       .rows = rows->shape[0],
                       .n = count,
                       .in = nb__ptr(rows),
                       .out = nb__ptr(out),
                       .correction = correction};
    const nb_device dev = t->storage->device;
    if (a.rows > 0 &&
        nb__kernel_status(name, nb__device_table(dev.type)->rows(nb__call(name, dev), op, &a)) != NB_OK)
        goto fail;
    nb_release(rows);
    if (kind == NB_NODE_NONE) return out;
    nb_node *node;
    if (!nb__autograd_record_node(kind, name, out, 1, &t, &node)) {
        nb_release(out);
        return NULL;
    }
    if (node) {
        node->args.stat.mask = mask;
        node->args.stat.keepdim = keepdim;
        node->args.stat.correction = correction;
        const char *const *saved = nb_node_defs[kind].saved;
        if (!nb__node_save(node, 0, t, false) || (saved[2] && !nb__node_save(node, 2, out, true))) {
            nb_release(out);
            return NULL;
        }
    }
    return out;
fail:
    nb_release(rows);
    nb_release(out);
    return NULL;
}

static nb_tensor *variance(const char *name, const nb_tensor *t, int n, const int *dims, double correction,
                           bool keepdim, bool take_sqrt)
{
    uint32_t mask;
    if (!check(name, t, false, n, dims, &mask)) return NULL;
    int list[NB_MAX_DIMS];
    int64_t count;
    mask_dims(t, mask, list, &count);
    nb_tensor *var = fused(name, NBK_ROWS_VAR, take_sqrt ? NB_NODE_NONE : NB_NODE_VAR, t, mask, keepdim, correction,
                           count);
    if (!take_sqrt || !var) return var;
    /* std: the square root, recorded as one StdBackward over t (not var's node and sqrt's) */
    nb_no_grad_begin();
    nb_tensor *sd = nb_sqrt(var);
    nb_no_grad_end();
    nb_release(var);
    if (!sd) return NULL;
    nb_node *node;
    if (!nb__autograd_record_node(NB_NODE_STD, name, sd, 1, &t, &node) ||
        (node && (!nb__node_save(node, 0, t, false) || !nb__node_save(node, 2, sd, true)))) {
        nb_release(sd);
        return NULL;
    }
    if (node) {
        node->args.stat.mask = mask;
        node->args.stat.keepdim = keepdim;
        node->args.stat.correction = correction;
    }
    return sd;
}

nb_tensor *nb_var(const nb_tensor *t, int n, const int *dims, double correction, bool keepdim)
{
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? nb_var(w, n, dims, correction, keepdim) : NULL;
        nb_release(w);
        return nb__narrow(r, t->dtype);
    }
    return variance("nb_var", t, n, dims, correction, keepdim, false);
}

nb_tensor *nb_std(const nb_tensor *t, int n, const int *dims, double correction, bool keepdim)
{
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? nb_std(w, n, dims, correction, keepdim) : NULL;
        nb_release(w);
        return nb__narrow(r, t->dtype);
    }
    return variance("nb_std", t, n, dims, correction, keepdim, true);
}

nb_tensor *nb_logsumexp(const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    const char *name = "nb_logsumexp";
    nb__autocast ac; /* float32 under CUDA's autocast */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_CUDA, 1, &t))
        return nb__autocast_done(&ac, nb_logsumexp(ac.t[0], n, dims, keepdim));
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? nb_logsumexp(w, n, dims, keepdim) : NULL;
        nb_release(w);
        return nb__narrow(r, t->dtype);
    }
    uint32_t mask;
    if (!check(name, t, true, n, dims, &mask)) return NULL;
    int list[NB_MAX_DIMS];
    int64_t count;
    mask_dims(t, mask, list, &count);
    if (nb__is_floating(t->dtype)) return fused(name, NBK_ROWS_LOGSUMEXP, NB_NODE_LOGSUMEXP, t, mask, keepdim, 0, count);
    /* integers and bool give float32, as in PyTorch (and take no gradient) */
    nb__tracking_pause();
    nb_tensor *x = nb_to_dtype(t, NB_FLOAT32);
    nb__tracking_resume();
    nb_tensor *r = x ? fused(name, NBK_ROWS_LOGSUMEXP, NB_NODE_LOGSUMEXP, x, mask, keepdim, 0, count) : NULL;
    nb_release(x);
    return r;
}

nb_tensor *nb_norm(const nb_tensor *t, double p, int n, const int *dims, bool keepdim)
{
    const char *name = "nb_norm";
    nb__autocast ac; /* float32 under CUDA's autocast */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_CUDA, 1, &t))
        return nb__autocast_done(&ac, nb_norm(ac.t[0], p, n, dims, keepdim));
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? nb_norm(w, p, n, dims, keepdim) : NULL;
        nb_release(w);
        return nb__narrow(r, t->dtype);
    }
    uint32_t mask;
    if (!check(name, t, false, n, dims, &mask)) return NULL;
    if (!(p == 1.0 || p == 2.0 || p == INFINITY))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected p = 1, 2 or INFINITY, got %g", name, p);
    int list[NB_MAX_DIMS];
    int64_t count;
    const int nl = mask_dims(t, mask, list, &count);
    /* computed by recorded-free steps; the result gets one NormBackward */
    nb_no_grad_begin();
    nb__tracking_pause();
    nb_tensor *r = NULL;
    if (p == 2.0) {
        nb_tensor *sq = nb_pow_scalar(t, 2.0);
        nb_tensor *ss = nb_sum_dims(sq, nl, list, keepdim);
        r = nb_sqrt(ss);
        nb_release(sq), nb_release(ss);
    } else {
        nb_tensor *a = nb_abs(t);
        /* an empty infinity norm is 0, as the empty sum is (PyTorch's answer) */
        r = p == 1.0 || count == 0 ? nb_sum_dims(a, nl, list, keepdim) : nb_amax(a, nl, list, keepdim);
        nb_release(a);
    }
    nb__tracking_resume();
    nb_no_grad_end();
    if (!r) return NULL;
    nb__scope_register(r);
    nb_node *node;
    if (!nb__autograd_record_node(NB_NODE_NORM, name, r, 1, &t, &node) ||
        (node && (!nb__node_save(node, 0, t, false) || !nb__node_save(node, 2, r, true)))) {
        nb_release(r);
        return NULL;
    }
    if (node) {
        node->args.stat.mask = mask;
        node->args.stat.keepdim = keepdim;
        node->args.stat.correction = p;
    }
    return r;
}
