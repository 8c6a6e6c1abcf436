/* pool.c — 2-D pooling: nb_max_pool2d (and its indices), nb_avg_pool2d and
 * nb_adaptive_avg_pool2d, with PyTorch's checks and output sizes; one run of the device's pooling
 * kernel (kernels/pool.h) forward, and one backward (MaxPool2DWithIndicesBackward from the saved
 * indices, AvgPool2DBackward, AdaptiveAvgPool2DBackward), a gather that is the same on every
 * device and run. */
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../dtype.h"
#include "../error.h"
#include "../half.h"
#include "../ewise.h"
#include "../tensor.h"

#include <stdint.h>
#include <string.h>

/* What a pooling op was asked: its kind and, for max and average pooling, the window. */
typedef struct pool_request {
    nbk_pool_kind kind;
    int kernel[2], stride[2], padding[2], dilation[2];
    bool ceil_mode, count_include_pad;
    int64_t divisor;
    int64_t out[2]; /* adaptive: the output size */
} pool_request;

/* x NULL-checked, floating, 3-D or 4-D with non-zero C, H and W. */
static bool check_input(const char *op, const nb_tensor *x)
{
    if (nb__is_null(op, "input", x)) return false;
    if (!nb__is_float_kind(x->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a float32 or float64 input (or float16, bfloat16), got %s", op,
                        nb_dtype_name(x->dtype)),
               false;
    char xs[160];
    bool fits = x->ndim == 3 || x->ndim == 4;
    for (int i = x->ndim - 3; fits && i < x->ndim; i++) fits = x->shape[i] != 0;
    if (!fits)
        return nb__fail(NB_ERR_SHAPE,
                        "%s: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input with non-zero C, H and W, got %s",
                        op, nb__shape_string(x->ndim, x->shape, xs, sizeof xs)),
               false;
    return true;
}

/* Each of a pair of options at least min ("kernel_size" [0, 2]). */
static bool check_pair(const char *op, const char *name, const int *v, int min, const char *expected)
{
    if (v[0] >= min && v[1] >= min) return true;
    return nb__fail(NB_ERR_ARGUMENT, "%s: expected %s %s, got [%d, %d]", op, name, expected, v[0], v[1]), false;
}

/* PyTorch's pooling output size: floor or ceil of (in + 2 pad - dilation (kernel - 1) - 1) /
 * stride + 1, the ceiling's last window starting inside the input or its left padding. */
static int64_t output_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation, bool ceil_mode)
{
    const int64_t num = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
    int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) out--;
    return out;
}

/* The checked window of r (stride and dilation defaults filled in) and the output's last two
 * sizes. */
static bool check_window(const char *op, const nb_tensor *x, pool_request *r, int64_t *out)
{
    if (!check_pair(op, "kernel_size", r->kernel, 1, "> 0") ||
        !check_pair(op, "stride", r->stride, 0, ">= 0 (0: the kernel size)") ||
        !check_pair(op, "padding", r->padding, 0, ">= 0") ||
        !check_pair(op, "dilation", r->dilation, 0, ">= 0 (0: 1)"))
        return false;
    for (int i = 0; i < 2; i++) {
        if (r->stride[i] == 0) r->stride[i] = r->kernel[i];
        if (r->dilation[i] == 0) r->dilation[i] = 1;
    }
    if (r->padding[0] > r->kernel[0] / 2 || r->padding[1] > r->kernel[1] / 2)
        return nb__fail(NB_ERR_ARGUMENT,
                        "%s: expected padding at most half of kernel_size, got padding [%d, %d] for kernel_size "
                        "[%d, %d]",
                        op, r->padding[0], r->padding[1], r->kernel[0], r->kernel[1]),
               false;
    const int64_t *hw = x->shape + x->ndim - 2;
    for (int i = 0; i < 2; i++)
        out[i] = output_size(hw[i], r->kernel[i], r->padding[i], r->stride[i], r->dilation[i], r->ceil_mode);
    if (out[0] < 1 || out[1] < 1) {
        char xs[160];
        return nb__fail(NB_ERR_SHAPE,
                        "%s: input %s gives an output of %lld x %lld for kernel_size [%d, %d], stride [%d, %d], "
                        "padding [%d, %d], dilation [%d, %d]: too small (expected at least 1 x 1)",
                        op, nb__shape_string(x->ndim, x->shape, xs, sizeof xs), (long long)out[0], (long long)out[1],
                        r->kernel[0], r->kernel[1], r->stride[0], r->stride[1], r->padding[0], r->padding[1],
                        r->dilation[0], r->dilation[1]),
               false;
    }
    return true;
}

/* The kernel arguments of r over x's layout and an output of out sizes. */
static nbk_pool_args pool_args(const pool_request *r, nb_dtype dtype, int ndim, const int64_t *in_shape,
                               const int64_t *out)
{
    return (nbk_pool_args){
        .kind = r->kind,
        .dtype = dtype,
        .planes = nb__numel_of(ndim - 2, in_shape),
        .in_h = in_shape[ndim - 2],
        .in_w = in_shape[ndim - 1],
        .out_h = out[0],
        .out_w = out[1],
        .kh = r->kernel[0],
        .kw = r->kernel[1],
        .sh = r->stride[0],
        .sw = r->stride[1],
        .ph = r->padding[0],
        .pw = r->padding[1],
        .dh = r->dilation[0],
        .dw = r->dilation[1],
        .count_include_pad = r->count_include_pad,
        .divisor = r->divisor,
    };
}

static const nb_node_kind node_kinds[] = {
    [NBK_POOL_MAX] = NB_NODE_MAX_POOL2D,
    [NBK_POOL_AVG] = NB_NODE_AVG_POOL2D,
    [NBK_POOL_ADAPTIVE_AVG] = NB_NODE_ADAPTIVE_AVG_POOL2D,
};

/* Runs a checked request over x into an output of x's leading sizes and out; for max pooling
 * *indices receives the indices when asked (indices not NULL). */
static nb_tensor *pool_run(const char *op, const nb_tensor *x, const pool_request *r, const int64_t *out,
                           nb_tensor **indices)
{
    if (nb__is_half(x->dtype)) { /* in float32, rounded once (lib/half.c): max pooling exactly */
        nb_tensor *w = nb__widen(x);
        nb_tensor *y = w ? pool_run(op, w, r, out, indices) : NULL;
        nb_release(w);
        return nb__narrow(y, x->dtype);
    }
    const nb_device dev = x->storage->device;
    int64_t shape[4], numel;
    memcpy(shape, x->shape, (size_t)x->ndim * sizeof(int64_t));
    shape[x->ndim - 2] = out[0];
    shape[x->ndim - 1] = out[1];
    if (!nb__checked_numel(op, x->ndim, shape, &numel)) return NULL;
    /* the kernel reads a contiguous x: a strided one is copied once */
    nb_tensor *xcopy = nb__is_contiguous(x) ? NULL : nb__untrack(nb__convert(op, x, x->dtype));
    nb_tensor *y = NULL, *idx = NULL;
    if (!nb__is_contiguous(x) && !xcopy) goto fail;
    const nb_tensor *xc = xcopy ? xcopy : x;
    y = nb__alloc(op, x->ndim, shape, x->dtype, dev);
    if (!y) goto fail;
    if (r->kind == NBK_POOL_MAX && !(idx = nb__alloc(op, x->ndim, shape, NB_INT64, dev))) goto fail;
    const nbk_pool_args a = pool_args(r, x->dtype, x->ndim, x->shape, out);
    if (numel > 0) {
        nb_status st = nb__device_table(dev.type)->pool_forward(nb__call(op, dev), &a, nb__ptr(xc), nb__ptr(y),
                                                                idx ? (int64_t *)nb__ptr(idx) : NULL);
        if (nb__kernel_status(op, st) != NB_OK) goto fail;
    }
    if (nb__needs_graph(1, &x)) {
        nb_node *node = nb__node_new(node_kinds[r->kind], op, 1, &x);
        if (!node) goto fail;
        for (int i = 0; i < 2; i++) {
            node->args.pool.kernel[i] = r->kernel[i];
            node->args.pool.stride[i] = r->stride[i];
            node->args.pool.padding[i] = r->padding[i];
            node->args.pool.dilation[i] = r->dilation[i];
        }
        node->args.pool.count_include_pad = r->count_include_pad;
        node->args.pool.divisor = r->divisor;
        nb__set_history(y, node);
        if (idx && !nb__node_save(node, 0, idx, false)) goto fail;
    }
    nb_release(xcopy);
    if (indices) *indices = idx;
    else nb_release(idx);
    return y;

fail:
    nb_release(xcopy);
    nb_release(idx);
    nb_release(y);
    return NULL;
}

/* The input's gradient from g, the output's (and the saved indices of max pooling). */
nb_status nb__backward_pool2d(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    if (!node->next[0].node) return NB_OK;
    const nb_input_meta *in = &node->input[0];
    nb_tensor *idx = NULL;
    if (node->kind == NB_NODE_MAX_POOL2D && !(idx = nb__node_saved(node, 0))) return nb_last_status();
    const nb_device dev = in->device;
    /* the kernel reads g in the input's dtype, contiguous: convert only when it differs */
    const bool direct = g->dtype == in->dtype && nb__is_contiguous(g);
    nb_tensor *gc = direct ? NULL : nb__untrack(nb__convert(node->op, g, in->dtype));
    if (!direct && !gc) return nb_last_status();
    nb_tensor *gx = nb__alloc(node->op, in->ndim, in->shape, in->dtype, dev);
    if (!gx) {
        nb_release(gc);
        return nb_last_status();
    }
    pool_request r = {
        .kind = node->kind == NB_NODE_MAX_POOL2D ? NBK_POOL_MAX
                : node->kind == NB_NODE_AVG_POOL2D ? NBK_POOL_AVG
                                                   : NBK_POOL_ADAPTIVE_AVG,
        .count_include_pad = node->args.pool.count_include_pad,
        .divisor = node->args.pool.divisor,
    };
    for (int i = 0; i < 2; i++) {
        r.kernel[i] = node->args.pool.kernel[i];
        r.stride[i] = node->args.pool.stride[i];
        r.padding[i] = node->args.pool.padding[i];
        r.dilation[i] = node->args.pool.dilation[i];
    }
    const int64_t out[2] = {g->shape[g->ndim - 2], g->shape[g->ndim - 1]};
    const nbk_pool_args a = pool_args(&r, in->dtype, in->ndim, in->shape, out);
    if (nb__numel_of(in->ndim, in->shape) > 0) {
        nb_status st = nb__device_table(dev.type)->pool_backward(nb__call(node->op, dev), &a, nb__ptr(gc ? gc : g),
                                                                 idx ? (const int64_t *)nb__ptr(idx) : NULL,
                                                                 nb__ptr(gx));
        if (nb__kernel_status(node->op, st) != NB_OK) {
            nb_release(gc);
            nb_release(gx);
            return nb_last_status();
        }
    }
    nb_release(gc);
    gi[0] = gx;
    return NB_OK;
}

static nb_tensor *max_pool(const char *op, const nb_tensor *x, const nb_max_pool2d_options *o, nb_tensor **indices)
{
    if (!check_input(op, x)) return NULL;
    if (!o) return nb__fail(NB_ERR_ARGUMENT, "%s: expected options (a kernel_size at least), got NULL", op);
    pool_request r = {.kind = NBK_POOL_MAX, .ceil_mode = o->ceil_mode};
    memcpy(r.kernel, o->kernel_size, sizeof r.kernel);
    memcpy(r.stride, o->stride, sizeof r.stride);
    memcpy(r.padding, o->padding, sizeof r.padding);
    memcpy(r.dilation, o->dilation, sizeof r.dilation);
    int64_t out[2];
    if (!check_window(op, x, &r, out)) return NULL;
    return pool_run(op, x, &r, out, indices);
}

nb_tensor *nb_max_pool2d(const nb_tensor *x, const nb_max_pool2d_options *options)
{
    return max_pool("nb_max_pool2d", x, options, NULL);
}

nb_tensor *nb_max_pool2d_with_indices(const nb_tensor *x, const nb_max_pool2d_options *options, nb_tensor **indices)
{
    const char *op = "nb_max_pool2d_with_indices";
    if (!indices) return nb__fail(NB_ERR_ARGUMENT, "%s: expected a place for the indices, got NULL", op);
    *indices = NULL;
    return max_pool(op, x, options, indices);
}

nb_tensor *nb_avg_pool2d(const nb_tensor *x, const nb_avg_pool2d_options *o)
{
    const char *op = "nb_avg_pool2d";
    if (!check_input(op, x)) return NULL;
    if (!o) return nb__fail(NB_ERR_ARGUMENT, "%s: expected options (a kernel_size at least), got NULL", op);
    pool_request r = {
        .kind = NBK_POOL_AVG,
        .ceil_mode = o->ceil_mode,
        .count_include_pad = o->count_include_pad,
        .divisor = o->divisor_override,
        .dilation = {1, 1},
    };
    memcpy(r.kernel, o->kernel_size, sizeof r.kernel);
    memcpy(r.stride, o->stride, sizeof r.stride);
    memcpy(r.padding, o->padding, sizeof r.padding);
    int64_t out[2];
    if (!check_window(op, x, &r, out)) return NULL;
    return pool_run(op, x, &r, out, NULL);
}

nb_tensor *nb_adaptive_avg_pool2d(const nb_tensor *x, int64_t out_h, int64_t out_w)
{
    const char *op = "nb_adaptive_avg_pool2d";
    if (!check_input(op, x)) return NULL;
    if (out_h < 0 || out_w < 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected output sizes >= 0, got [%lld, %lld]", op, (long long)out_h,
                        (long long)out_w);
    const int64_t *hw = x->shape + x->ndim - 2;
    /* the windows' bounds multiply an output position by an input size */
    if ((out_h > 0 && hw[0] > NB_MAX_SPAN / out_h) || (out_w > 0 && hw[1] > NB_MAX_SPAN / out_w))
        return nb__fail(NB_ERR_SHAPE, "%s: output size [%lld, %lld] is too large for input sizes [%lld, %lld]", op,
                        (long long)out_h, (long long)out_w, (long long)hw[0], (long long)hw[1]);
    const pool_request r = {.kind = NBK_POOL_ADAPTIVE_AVG, .out = {out_h, out_w}};
    return pool_run(op, x, &r, r.out, NULL);
}
