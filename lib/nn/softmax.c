/* softmax.c — nb_softmax and nb_log_softmax along any dim: argument checks, the device's kernels
 * (kernels/softmax.h) and their autograd nodes, SoftmaxBackward and LogSoftmaxBackward, whose backward is one fused
 * kernel over the saved output. */
#include "../autocast.h"
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../dtype.h"
#include "../half.h"
#include "../error.h"
#include "../ewise.h"
#include "../tensor.h"

/* A tensor of shape (ndim, shape) seen as (outer, n, inner) around dim d. */
static nbk_softmax_shape layout_of(int ndim, const int64_t *shape, int d, nb_dtype dtype)
{
    nbk_softmax_shape s = {.dtype = dtype, .outer = 1, .n = ndim > 0 ? shape[d] : 1, .inner = 1};
    for (int i = 0; i < d; i++) s.outer *= shape[i];
    for (int i = d + 1; i < ndim; i++) s.inner *= shape[i];
    return s;
}

/* y (the forward's output, saved in slot 2) and g give the input's gradient. */
static nb_status softmax_backward_common(nb_node *node, nb_tensor *g, nb_tensor **gi, bool take_log)
{
    nb_tensor *y = nb__node_saved(node, 2);
    if (!y) return nb_last_status();
    /* the kernel reads g in y's contiguous layout and dtype: convert only when it differs */
    const bool direct = g->dtype == y->dtype && nb__is_contiguous(g);
    nb_tensor *gc = direct ? NULL : nb__convert(node->op, g, y->dtype);
    if (!direct && !gc) return nb_last_status();
    const nb_device dev = y->storage->device;
    nb_tensor *out = nb__alloc(node->op, y->ndim, y->shape, y->dtype, dev);
    if (out) {
        const nbk_softmax_shape s = layout_of(y->ndim, y->shape, node->args.softmax.dim, y->dtype);
        nb_status st = nb__device_table(dev.type)->softmax_backward(nb__call(node->op, dev), &s, take_log,
                                                                    nb__ptr(y), nb__ptr(gc ? gc : g), nb__ptr(out));
        if (nb__kernel_status(node->op, st) != NB_OK) {
            nb_release(out);
            out = NULL;
        }
    }
    nb_release(gc);
    gi[0] = out;
    return nb_last_status();
}

/* grad_in = y * (g - sum(g * y, dim, keepdim)) */
nb_status nb__backward_softmax(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    return softmax_backward_common(node, g, gi, false);
}

/* grad_in = g - exp(y) * sum(g, dim, keepdim) */
nb_status nb__backward_log_softmax(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    return softmax_backward_common(node, g, gi, true);
}

static nb_tensor *softmax_op(const char *name, nb_node_kind kind, const nb_tensor *x, int dim, bool take_log)
{
    if (nb__is_null(name, "tensor", x)) return NULL;
    nb__autocast ac; /* float32 under CUDA's autocast */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_CUDA, 1, &x))
        return nb__autocast_done(&ac, softmax_op(name, kind, ac.t[0], dim, take_log));
    if (nb__is_half(x->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(x);
        nb_tensor *r = w ? softmax_op(name, kind, w, dim, take_log) : NULL;
        nb_release(w);
        return nb__narrow(r, x->dtype);
    }
    if (!nb__is_floating(x->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating tensor (float32, float64, float16 or bfloat16), got %s", name,
                        nb_dtype_name(x->dtype));
    const nb_device dev = x->storage->device;
    int d = nb__wrap_dim(name, dim, x->ndim);
    if (d < 0) return NULL;

    /* the kernel reads (outer, n, inner) contiguous elements: a strided input is copied once */
    const bool direct = nb__is_contiguous(x);
    nb_tensor *xc = direct ? NULL : nb__untrack(nb__convert(name, x, x->dtype));
    if (!direct && !xc) return NULL;
    nb_tensor *out = nb__alloc(name, x->ndim, x->shape, x->dtype, dev);
    if (out) {
        const nbk_softmax_shape s = layout_of(x->ndim, x->shape, d, x->dtype);
        nb_status st = nb__device_table(dev.type)->softmax(nb__call(name, dev), &s, take_log,
                                                           nb__ptr(xc ? xc : x), nb__ptr(out));
        if (nb__kernel_status(name, st) != NB_OK) {
            nb_release(out);
            out = NULL;
        }
    }
    nb_release(xc);
    if (!out || !nb__needs_graph(1, &x)) return out;

    nb_node *node = nb__node_new(kind, name, 1, &x);
    if (!node) {
        nb_release(out);
        return NULL;
    }
    node->args.softmax.dim = d;
    nb__set_history(out, node);
    if (!nb__node_save(node, 2, out, true)) {
        nb_release(out);
        return NULL;
    }
    return out;
}

nb_tensor *nb_softmax(const nb_tensor *x, int dim)
{
    return softmax_op("nb_softmax", NB_NODE_SOFTMAX, x, dim, false);
}

nb_tensor *nb_log_softmax(const nb_tensor *x, int dim)
{
    return softmax_op("nb_log_softmax", NB_NODE_LOG_SOFTMAX, x, dim, true);
}
