/* conv_whole.c — a 2-D convolution in one call of a device that has the whole op
 * (kernels/device.h: conv2d_forward and conv2d_backward; the CPU), and its node,
 * ConvolutionBackward, whose backward is one call giving the gradients of the input, the weight
 * and the bias from the saved input and weight. lib/nn/conv.c checks the arguments, works out
 * the geometry and comes here when the device has the op; elsewhere it composes im2col and a
 * product. */
#include "conv_whole.h"

#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../ewise.h"
#include "../tensor.h"

/* t itself when contiguous, else an untracked contiguous copy (*copy holds it, to release). */
static const nb_tensor *dense(const char *op, const nb_tensor *t, nb_tensor **copy)
{
    *copy = NULL;
    if (!t || nb__is_contiguous(t)) return t;
    *copy = nb__untrack(nb__convert(op, t, t->dtype));
    return *copy;
}

static nbk_conv2d_args args_for(const nbk_conv_args *geo, int64_t outputs, int64_t groups, const nb_tensor *x,
                                const nb_tensor *weight, const nb_tensor *bias)
{
    return (nbk_conv2d_args){.geo = *geo,
                             .o = outputs,
                             .groups = groups,
                             .x = nb__ptr(x),
                             .weight = nb__ptr(weight),
                             .bias = bias ? nb__ptr(bias) : NULL};
}

void nb__conv_node_save(nb_node *node, const nbk_conv_args *g)
{
    node->args.conv.h = g->h, node->args.conv.w = g->w;
    node->args.conv.kh = g->kh, node->args.conv.kw = g->kw;
    node->args.conv.sh = g->sh, node->args.conv.sw = g->sw;
    node->args.conv.ph = g->ph, node->args.conv.pw = g->pw;
    node->args.conv.dh = g->dh, node->args.conv.dw = g->dw;
    node->args.conv.oh = g->oh, node->args.conv.ow = g->ow;
}

nbk_conv_args nb__conv_node_geometry(const nb_node *node, nb_dtype dtype, int64_t n, int64_t c)
{
    return (nbk_conv_args){.dtype = dtype, .n = n, .c = c, .h = node->args.conv.h, .w = node->args.conv.w,
                           .kh = node->args.conv.kh, .kw = node->args.conv.kw, .sh = node->args.conv.sh,
                           .sw = node->args.conv.sw, .ph = node->args.conv.ph, .pw = node->args.conv.pw,
                           .dh = node->args.conv.dh, .dw = node->args.conv.dw, .oh = node->args.conv.oh,
                           .ow = node->args.conv.ow};
}

nb_tensor *nb__conv2d_whole(const char *op, const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                            const nbk_conv_args *geo, int64_t groups)
{
    const nb_device dev = x->storage->device;
    nb_tensor *copies[3] = {NULL}, *out = NULL;
    const nb_tensor *xc = dense(op, x, &copies[0]);
    const nb_tensor *wc = xc ? dense(op, weight, &copies[1]) : NULL;
    const nb_tensor *bc = wc ? dense(op, bias, &copies[2]) : NULL;
    if (!xc || !wc || (bias && !bc)) goto done;
    const int64_t shape[4] = {geo->n, weight->shape[0], geo->oh, geo->ow}; /* (N, O, oh, ow) */
    out = nb__alloc(op, 4, shape, x->dtype, dev);
    if (!out) goto done;
    const nbk_conv2d_args a = args_for(geo, weight->shape[0], groups, xc, wc, bc);
    if (nb__kernel_status(op, nb__device_table(dev.type)->conv2d_forward(nb__call(op, dev), &a, nb__ptr(out))) !=
        NB_OK)
        goto fail;
    const nb_tensor *inputs[3] = {x, weight, bias};
    const int count = bias ? 3 : 2;
    if (nb__needs_graph(count, inputs)) {
        nb_node *node = nb__node_new(NB_NODE_CONVOLUTION, op, count, inputs);
        if (!node) goto fail;
        nb__conv_node_save(node, geo);
        node->args.conv.groups = groups;
        node->args.conv.has_bias = bias != NULL;
        nb__set_history(out, node);
        if (!nb__node_save(node, 0, xc, false) || !nb__node_save(node, 1, wc, false)) goto fail;
    }
    goto done;
fail:
    nb_release(out);
    out = NULL;
done:
    for (int i = 0; i < 3; i++) nb_release(copies[i]);
    return out;
}

/* The gradients of x, the weight and the bias (inputs 0, 1 and 2 when it has one), each only
 * where an input needs it, in one call of the device. */
nb_status nb__backward_convolution(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *x = nb__node_saved(node, 0);
    nb_tensor *w = x ? nb__node_saved(node, 1) : NULL;
    if (!w) return nb_last_status();
    const nb_device dev = x->storage->device;
    const bool direct = g->dtype == x->dtype && nb__is_contiguous(g);
    nb_tensor *gc = direct ? NULL : nb__untrack(nb__convert(node->op, g, x->dtype));
    if (!direct && !gc) return nb_last_status();
    nb_tensor *grads[3] = {NULL};
    bool ok = true;
    const int count = node->args.conv.has_bias ? 3 : 2;
    for (int i = 0; i < count && ok; i++)
        if (node->next[i].node)
            ok = (grads[i] = nb__alloc(node->op, node->input[i].ndim, node->input[i].shape, x->dtype, dev)) != NULL;
    if (ok) {
        const nbk_conv_args geo = nb__conv_node_geometry(node, x->dtype, x->shape[0], x->shape[1]);
        const nbk_conv2d_args a = args_for(&geo, w->shape[0], node->args.conv.groups, x, w, NULL);
        nb_status st = nb__device_table(dev.type)->conv2d_backward(
            nb__call(node->op, dev), &a, nb__ptr(gc ? gc : g), grads[0] ? nb__ptr(grads[0]) : NULL,
            grads[1] ? nb__ptr(grads[1]) : NULL, grads[2] ? nb__ptr(grads[2]) : NULL);
        ok = nb__kernel_status(node->op, st) == NB_OK;
    }
    nb_release(gc);
    for (int i = 0; i < count; i++) {
        if (!ok) nb_release(grads[i]);
        else gi[i] = grads[i];
    }
    return ok ? NB_OK : nb_last_status();
}
