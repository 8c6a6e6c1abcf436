/* norm.c — nb_layer_norm and nb_rms_norm over the last dims of a tensor: argument checks, one
 * fused kernel of the device forward (kernels/norm.h), and their autograd nodes LayerNormBackward
 * and RmsNormBackward, whose backward is one fused call giving the gradients of the input, the
 * weight and the bias from the saved input, weight and per-row statistics. */
#include "../autocast.h"
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../dtype.h"
#include "../half.h"
#include "../error.h"
#include "../ewise.h"
#include "../tensor.h"

#include <float.h>
#include <math.h>

/* t itself when contiguous, else an untracked contiguous copy (*copy holds it, to release). */
static const nb_tensor *contiguous_of(const char *op, const nb_tensor *t, nb_tensor **copy)
{
    *copy = NULL;
    if (!t || nb__is_contiguous(t)) return t;
    *copy = nb__untrack(nb__convert(op, t, t->dtype));
    return *copy;
}

/* Checks a norm's arguments: x floating with its last n sizes equal to normalized_shape (n >= 1),
 * weight and bias (either may be NULL) of that shape, x's dtype and device. Gives rows (the
 * product of x's other sizes) and cols (of the normalised ones). */
static bool check_norm(const char *op, const nb_tensor *x, int n, const int64_t *normalized_shape,
                       const nb_tensor *weight, const nb_tensor *bias, int64_t *rows, int64_t *cols)
{
    if (nb__is_null(op, "input", x)) return false;
    if (!nb__is_floating(x->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating input (float32, float64, float16 or bfloat16), got %s", op, nb_dtype_name(x->dtype)),
               false;
    if (n < 1 || !normalized_shape)
        return nb__fail(NB_ERR_ARGUMENT,
                        "%s: expected normalized_shape to have at least one dim, got %d dims%s", op, n,
                        n >= 1 ? " and a NULL list" : ""),
               false;
    char xs[160], ns[160];
    bool fits = n <= x->ndim;
    for (int i = 0; i < n && fits; i++) fits = x->shape[x->ndim - n + i] == normalized_shape[i];
    if (!fits)
        return nb__fail(NB_ERR_SHAPE, "%s: expected an input whose last %d dims are normalized_shape %s, got %s", op,
                        n, nb__shape_string(n, normalized_shape, ns, sizeof ns),
                        nb__shape_string(x->ndim, x->shape, xs, sizeof xs)),
               false;
    const nb_tensor *params[2] = {weight, bias};
    const char *names[2] = {"weight", "bias"};
    for (int k = 0; k < 2; k++) {
        const nb_tensor *p = params[k];
        if (!p) continue;
        const nb_tensor *pair[2] = {x, p};
        if (!nb__check_devices(op, 2, pair)) return false;
        if (p->dtype != x->dtype)
            return nb__fail(NB_ERR_DTYPE, "%s: expected a %s of the input's dtype %s, got %s", op, names[k],
                            nb_dtype_name(x->dtype), nb_dtype_name(p->dtype)),
                   false;
        bool same = p->ndim == n;
        for (int i = 0; i < n && same; i++) same = p->shape[i] == normalized_shape[i];
        if (!same)
            return nb__fail(NB_ERR_SHAPE, "%s: expected a %s of normalized_shape %s, got %s", op, names[k],
                            nb__shape_string(n, normalized_shape, ns, sizeof ns),
                            nb__shape_string(p->ndim, p->shape, xs, sizeof xs)),
                   false;
    }
    *rows = nb__numel_of(x->ndim - n, x->shape);
    *cols = nb__numel_of(n, x->shape + x->ndim - n);
    return true;
}

/* The gradients of x, weight and bias (inputs 0, 1, 2 as present) from the saved x (slot 0),
 * weight (slot 1) and statistics (slot 2), in one call of the device. */
nb_status nb__backward_norm(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    const bool has_w = node->args.norm.has_weight, has_b = node->args.norm.has_bias;
    const int bias_input = has_w ? 2 : 1;
    nb_tensor *x = nb__node_saved(node, 0);
    nb_tensor *w = x && has_w ? nb__node_saved(node, 1) : NULL;
    nb_tensor *stats = x && (w || !has_w) ? nb__node_saved(node, 2) : NULL;
    if (!stats) return nb_last_status();
    const nb_device dev = x->storage->device;
    /* the kernel reads g in x's contiguous layout and dtype: convert only when it differs */
    const bool direct = g->dtype == x->dtype && nb__is_contiguous(g);
    nb_tensor *gc = direct ? NULL : nb__untrack(nb__convert(node->op, g, x->dtype));
    if (!direct && !gc) return nb_last_status();
    nb_tensor *gx = NULL, *gw = NULL, *gb = NULL;
    bool ok = true;
    if (node->next[0].node) ok = (gx = nb__alloc(node->op, x->ndim, x->shape, x->dtype, dev)) != NULL;
    if (ok && has_w && node->next[1].node)
        ok = (gw = nb__alloc(node->op, node->input[1].ndim, node->input[1].shape, x->dtype, dev)) != NULL;
    if (ok && has_b && node->next[bias_input].node)
        ok = (gb = nb__alloc(node->op, node->input[bias_input].ndim, node->input[bias_input].shape, x->dtype,
                             dev)) != NULL;
    if (ok && (gx || gw || gb)) {
        const nbk_norm_args a = {
            .dtype = x->dtype,
            .rms = node->kind == NB_NODE_RMS_NORM,
            .rows = node->args.norm.rows,
            .cols = node->args.norm.cols,
            .x = nb__ptr(x),
            .weight = w ? nb__ptr(w) : NULL,
        };
        nb_status st = nb__device_table(dev.type)->norm_backward(
            nb__call(node->op, dev), &a, (const double *)nb__ptr(stats), nb__ptr(gc ? gc : g), gx ? nb__ptr(gx) : NULL,
            gw ? nb__ptr(gw) : NULL, gb ? nb__ptr(gb) : NULL);
        ok = nb__kernel_status(node->op, st) == NB_OK;
    }
    nb_release(gc);
    if (!ok) {
        nb_release(gx);
        nb_release(gw);
        nb_release(gb);
        return nb_last_status();
    }
    gi[0] = gx;
    if (has_w) gi[1] = gw;
    if (has_b) gi[bias_input] = gb;
    return NB_OK;
}

static nb_tensor *norm_op(const char *op, bool rms, const nb_tensor *x, int n, const int64_t *normalized_shape,
                          const nb_tensor *weight, const nb_tensor *bias, double eps)
{
    const nb_tensor *three[3] = {x, weight, bias};
    nb__autocast ac; /* layer norm in float32 under CUDA's autocast; RMS norm is on no list */
    if (nb__autocast_fp32(&ac, rms ? 0 : NB__AUTOCAST_CUDA, 3, three))
        return nb__autocast_done(&ac, norm_op(op, rms, ac.t[0], n, normalized_shape, ac.t[1], ac.t[2], eps));
    if (x && nb__any_half(3, three)) { /* in float32, rounded once to x's dtype (lib/half.c) */
        nb_tensor *wx = nb__widen(x), *ww = weight ? nb__widen(weight) : NULL, *wb = bias ? nb__widen(bias) : NULL;
        nb_tensor *r = wx && (ww || !weight) && (wb || !bias)
                           ? norm_op(op, rms, wx, n, normalized_shape, ww, wb, eps)
                           : NULL;
        nb_release(wx);
        nb_release(ww);
        nb_release(wb);
        return nb__narrow(r, x->dtype);
    }
    int64_t rows, cols;
    if (!check_norm(op, x, n, normalized_shape, weight, bias, &rows, &cols)) return NULL;
    const nb_device dev = x->storage->device;
    /* the kernel reads contiguous x, weight and bias: strided ones are copied once */
    nb_tensor *xcopy, *wcopy = NULL, *bcopy = NULL, *out = NULL, *stats = NULL;
    const nb_tensor *xc = contiguous_of(op, x, &xcopy);
    const nb_tensor *wc = xc ? contiguous_of(op, weight, &wcopy) : NULL;
    const nb_tensor *bc = xc && (wc || !weight) ? contiguous_of(op, bias, &bcopy) : NULL;
    if (!xc || (weight && !wc) || (bias && !bc)) goto fail;
    out = nb__alloc(op, x->ndim, x->shape, x->dtype, dev);
    /* no columns: no statistics are read, so none are kept (rows may be huge with no elements) */
    const int64_t stats_shape[2] = {2, cols > 0 ? rows : 0};
    stats = out ? nb__untrack(nb__alloc(op, 2, stats_shape, NB_FLOAT64, dev)) : NULL;
    if (!stats) goto fail;
    const nbk_norm_args a = {
        .dtype = x->dtype,
        .rms = rms,
        .rows = rows,
        .cols = cols,
        .eps = eps,
        .x = nb__ptr(xc),
        .weight = wc ? nb__ptr(wc) : NULL,
        .bias = bc ? nb__ptr(bc) : NULL,
    };
    nb_status st = nb__device_table(dev.type)->norm_forward(nb__call(op, dev), &a, nb__ptr(out),
                                                            (double *)nb__ptr(stats));
    if (nb__kernel_status(op, st) != NB_OK) goto fail;

    const nb_tensor *inputs[3] = {x};
    int count = 1;
    if (weight) inputs[count++] = weight;
    if (bias) inputs[count++] = bias;
    if (nb__needs_graph(count, inputs)) {
        nb_node *node = nb__node_new(rms ? NB_NODE_RMS_NORM : NB_NODE_LAYER_NORM, op, count, inputs);
        if (!node) goto fail;
        node->args.norm.rows = rows;
        node->args.norm.cols = cols;
        node->args.norm.has_weight = weight != NULL;
        node->args.norm.has_bias = bias != NULL;
        nb__set_history(out, node);
        if (!nb__node_save(node, 0, xc, false) || (wc && !nb__node_save(node, 1, wc, false)) ||
            !nb__node_save(node, 2, stats, false))
            goto fail;
    }
    nb_release(xcopy);
    nb_release(wcopy);
    nb_release(bcopy);
    nb_release(stats);
    return out;

fail:
    nb_release(xcopy);
    nb_release(wcopy);
    nb_release(bcopy);
    nb_release(stats);
    nb_release(out);
    return NULL;
}

nb_tensor *nb_layer_norm(const nb_tensor *x, int n, const int64_t *normalized_shape, const nb_tensor *weight,
                         const nb_tensor *bias, double eps)
{
    return norm_op("nb_layer_norm", false, x, n, normalized_shape, weight, bias, eps);
}

nb_tensor *nb_rms_norm(const nb_tensor *x, int n, const int64_t *normalized_shape, const nb_tensor *weight,
                       double eps)
{
    /* eps NAN: PyTorch's eps=None, the machine epsilon of x's dtype */
    if (isnan(eps) && x)
        eps = x->dtype == NB_FLOAT32    ? (double)FLT_EPSILON
              : x->dtype == NB_FLOAT16  ? 0x1p-10 /* torch.finfo(float16).eps */
              : x->dtype == NB_BFLOAT16 ? 0x1p-7
                                        : DBL_EPSILON;
    return norm_op("nb_rms_norm", true, x, n, normalized_shape, weight, NULL, eps);
}
