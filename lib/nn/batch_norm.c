/* batch_norm.c — nb_batch_norm, PyTorch's F.batch_norm over the channel dim (dim 1) of an
 * (N, C, ...) input: argument checks, one fused kernel of the device forward
 * (kernels/batch_norm.h) that also updates the running statistics in place when training, and
 * the autograd node NativeBatchNormBackward, whose backward is one fused call giving the
 * gradients of the input, the weight and the bias from the saved input, weight and per-channel
 * statistics. The running statistics are buffers: no gradient flows through them. */
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../half.h"
#include "../tensor.h"

/* t itself when contiguous, else an untracked contiguous copy (*copy holds it, to release). */
static const nb_tensor *contiguous_of(const char *op, const nb_tensor *t, nb_tensor **copy)
{
    *copy = NULL;
    if (!t || nb__is_contiguous(t)) return t;
    *copy = nb__untrack(nb__convert(op, t, t->dtype));
    return *copy;
}

/* Checks one per-channel tensor (weight, bias, running_mean, running_var): x's dtype and device,
 * shape (C,). */
static bool check_channel_tensor(const char *op, const char *name, const nb_tensor *x, const nb_tensor *p,
                                 int64_t channels)
{
    if (!p) return true;
    const nb_tensor *pair[2] = {x, p};
    if (!nb__check_devices(op, 2, pair)) return false;
    if (p->dtype != x->dtype && !(nb__is_half(x->dtype) && p->dtype == NB_FLOAT32)) /* PyTorch's mixed case */
        return nb__fail(NB_ERR_DTYPE, "%s: expected a %s of the input's dtype %s%s, got %s", op, name,
                        nb_dtype_name(x->dtype), nb__is_half(x->dtype) ? " (or float32)" : "",
                        nb_dtype_name(p->dtype)),
               false;
    if (p->ndim != 1 || p->shape[0] != channels) {
        char ps[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected a %s of shape [%lld] (the input's channels, dim 1), got %s", op,
                        name, (long long)channels, nb__shape_string(p->ndim, p->shape, ps, sizeof ps)),
               false;
    }
    return true;
}

/* Checks the arguments and gives x as (n, c, s). */
static bool check_batch_norm(const char *op, const nb_tensor *x, const nb_tensor *running_mean,
                             const nb_tensor *running_var, const nb_tensor *weight, const nb_tensor *bias,
                             bool training, double momentum, double eps, int64_t *n, int64_t *c, int64_t *s)
{
    if (nb__is_null(op, "input", x)) return false;
    char xs[160];
    if (!nb__is_float_kind(x->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a float32 or float64 (or float16 or bfloat16) input, got %s", op,
                        nb_dtype_name(x->dtype)),
               false;
    if (x->ndim < 2)
        return nb__fail(NB_ERR_SHAPE, "%s: expected an input of 2 or more dims (N, C, ...), got %s", op,
                        nb__shape_string(x->ndim, x->shape, xs, sizeof xs)),
               false;
    if (!(eps >= 0))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected eps >= 0, got %g", op, eps), false;
    if (training && !(momentum == momentum))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a momentum that is a number, got %g", op, momentum), false;
    if (!training && (!running_mean || !running_var))
        return nb__fail(NB_ERR_ARGUMENT, "%s: running_mean and running_var must be given in evaluation mode, got %s",
                        op, !running_mean && !running_var ? "neither" : !running_mean ? "no running_mean"
                                                                                      : "no running_var"),
               false;
    *n = x->shape[0];
    *c = x->shape[1];
    *s = nb__numel_of(x->ndim - 2, x->shape + 2);
    const nb_tensor *per_channel[4] = {weight, bias, running_mean, running_var};
    const char *names[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int k = 0; k < 4; k++)
        if (!check_channel_tensor(op, names[k], x, per_channel[k], *c)) return false;
    for (int k = 2; k < 4; k++) {
        const nb_tensor *r = per_channel[k];
        if (r && training && !nb__is_contiguous(r))
            return nb__fail(NB_ERR_ARGUMENT, "%s: the %s is updated in place and must be contiguous", op, names[k]),
                   false;
    }
    if (training && *n * *s == 1)
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected more than 1 value per channel when training, got input size %s",
                        op, nb__shape_string(x->ndim, x->shape, xs, sizeof xs)),
               false;
    return true;
}

/* The gradients of x, weight and bias (inputs 0, 1, 2 as present) from the saved x (slot 0),
 * weight (slot 1) and statistics (slot 2), in one call of the device. */
nb_status nb__backward_batch_norm(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    const bool has_w = node->args.batch_norm.has_weight, has_b = node->args.batch_norm.has_bias;
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
        const nbk_batch_norm_args a = {
            .dtype = x->dtype,
            .training = node->args.batch_norm.training,
            .n = node->args.batch_norm.n,
            .c = node->args.batch_norm.c,
            .s = node->args.batch_norm.s,
            .x = nb__ptr(x),
            .weight = w ? nb__ptr(w) : NULL,
        };
        nb_status st = nb__device_table(dev.type)->batch_norm_backward(
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

/* A running statistic as float32 for the float32 route: a float32 one itself, a half one an
 * untracked float32 copy (*copy, written back by the caller). */
static nb_tensor *stat_in_float32(const char *op, nb_tensor *r, nb_tensor **copy)
{
    *copy = NULL;
    if (!r || !nb__is_half(r->dtype)) return r;
    *copy = nb__untrack(nb__convert(op, r, NB_FLOAT32));
    return *copy;
}

/* A half x (with weight, bias and running statistics of its dtype or float32, as PyTorch's mixed
 * batch norm under autocast takes them) normalised in float32 and rounded once (lib/half.c); half
 * running statistics are updated through float32 copies, written back rounded. */
static nb_tensor *batch_norm_in_float32(const char *op, const nb_tensor *x, nb_tensor *running_mean,
                                        nb_tensor *running_var, const nb_tensor *weight, const nb_tensor *bias,
                                        bool training, double momentum, double eps)
{
    nb_tensor *rm32, *rv32;
    nb_tensor *rm = stat_in_float32(op, running_mean, &rm32), *rv = stat_in_float32(op, running_var, &rv32);
    nb_tensor *wx = nb__widen(x), *ww = nb__widen(weight), *wb = nb__widen(bias);
    nb_tensor *r = NULL;
    if ((rm || !running_mean) && (rv || !running_var) && wx && (ww || !weight) && (wb || !bias))
        r = nb_batch_norm(wx, rm, rv, ww, wb, training, momentum, eps);
    if (r && training) {
        nb_no_grad_begin();
        if (rm32 && !nb_copy_(running_mean, rm32)) nb_release(r), r = NULL;
        if (r && rv32 && !nb_copy_(running_var, rv32)) nb_release(r), r = NULL;
        nb_no_grad_end();
    }
    nb_release(rm32), nb_release(rv32), nb_release(wx), nb_release(ww), nb_release(wb);
    return nb__narrow(r, x->dtype);
}

nb_tensor *nb_batch_norm(const nb_tensor *x, nb_tensor *running_mean, nb_tensor *running_var,
                         const nb_tensor *weight, const nb_tensor *bias, bool training, double momentum, double eps)
{
    const char *op = "nb_batch_norm";
    int64_t n, c, s;
    if (!check_batch_norm(op, x, running_mean, running_var, weight, bias, training, momentum, eps, &n, &c, &s))
        return NULL;
    if (nb__is_half(x->dtype))
        return batch_norm_in_float32(op, x, running_mean, running_var, weight, bias, training, momentum, eps);
    const nb_device dev = x->storage->device;
    /* the kernel reads contiguous x, weight and bias: strided ones are copied once */
    nb_tensor *xcopy, *wcopy = NULL, *bcopy = NULL, *out = NULL, *stats = NULL;
    const nb_tensor *xc = contiguous_of(op, x, &xcopy);
    const nb_tensor *wc = xc ? contiguous_of(op, weight, &wcopy) : NULL;
    const nb_tensor *bc = xc && (wc || !weight) ? contiguous_of(op, bias, &bcopy) : NULL;
    /* eval reads the running statistics: strided ones are copied too */
    nb_tensor *rmcopy = NULL, *rvcopy = NULL;
    const nb_tensor *rmc = training ? running_mean : contiguous_of(op, running_mean, &rmcopy);
    const nb_tensor *rvc = training ? running_var : contiguous_of(op, running_var, &rvcopy);
    if (!xc || (weight && !wc) || (bias && !bc) || (running_mean && !rmc) || (running_var && !rvc)) goto fail;
    out = nb__alloc(op, x->ndim, x->shape, x->dtype, dev);
    const int64_t stats_shape[2] = {2, c};
    stats = out ? nb__untrack(nb__alloc(op, 2, stats_shape, NB_FLOAT64, dev)) : NULL;
    if (!stats) goto fail;
    const nbk_batch_norm_args a = {
        .dtype = x->dtype,
        .training = training,
        .n = n,
        .c = c,
        .s = s,
        .eps = eps,
        .momentum = momentum,
        .x = nb__ptr(xc),
        .weight = wc ? nb__ptr(wc) : NULL,
        .bias = bc ? nb__ptr(bc) : NULL,
        .running_mean = rmc ? nb__ptr(rmc) : NULL,
        .running_var = rvc ? nb__ptr(rvc) : NULL,
    };
    nb_status st = nb__device_table(dev.type)->batch_norm_forward(nb__call(op, dev), &a, nb__ptr(out),
                                                                  (double *)nb__ptr(stats));
    if (nb__kernel_status(op, st) != NB_OK) goto fail;
    /* the running statistics were written in place (a batch with no elements leaves them) */
    if (training && n * s > 0) {
        if (running_mean) nb__bump_version(running_mean);
        if (running_var) nb__bump_version(running_var);
    }

    const nb_tensor *inputs[3] = {x};
    int count = 1;
    if (weight) inputs[count++] = weight;
    if (bias) inputs[count++] = bias;
    if (nb__needs_graph(count, inputs)) {
        nb_node *node = nb__node_new(NB_NODE_BATCH_NORM, op, count, inputs);
        if (!node) goto fail;
        node->args.batch_norm.n = n;
        node->args.batch_norm.c = c;
        node->args.batch_norm.s = s;
        node->args.batch_norm.has_weight = weight != NULL;
        node->args.batch_norm.has_bias = bias != NULL;
        node->args.batch_norm.training = training;
        nb__set_history(out, node);
        if (!nb__node_save(node, 0, xc, false) || (wc && !nb__node_save(node, 1, wc, false)) ||
            !nb__node_save(node, 2, stats, false))
            goto fail;
    }
    nb_release(xcopy);
    nb_release(wcopy);
    nb_release(bcopy);
    nb_release(rmcopy);
    nb_release(rvcopy);
    nb_release(stats);
    return out;

fail:
    nb_release(xcopy);
    nb_release(wcopy);
    nb_release(bcopy);
    nb_release(rmcopy);
    nb_release(rvcopy);
    nb_release(stats);
    nb_release(out);
    return NULL;
}
