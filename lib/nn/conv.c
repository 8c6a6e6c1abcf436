/* conv.c — convolution: nb_conv2d, nb_conv1d (a conv2d of height 1) and nb_conv_transpose2d,
 * with their two column nodes, Im2colBackward and Col2imBackward; the whole convolution's node is
 * conv_whole.c's.
 *
 * How the work is done. Where the device has the whole convolution (the CPU: kernels/cpu/conv2d.c,
 * recorded as ConvolutionBackward by conv_whole.c), one call makes each image's columns and
 * multiplies them while they are in cache, and the batch's columns are never held. Elsewhere
 * (CUDA), and on the CPU for the tests that check this path (nb__conv_compose_on_cpu), the
 * convolution is composed. A convolution is a matrix product over columns: im2col (the device's
 * kernel, kernels/conv.h) lays each window of the input out as a column, (N, C·kH·kW, oH·oW),
 * and the weight (O, C·kH·kW) multiplies them, per group, through nb_matmul and so the device's
 * gemm (BLIS, cuBLAS; one strided-batched call over the batch, the weight's batch stride 0). A
 * 1x1 kernel with stride 1 and no padding needs no columns: the input itself is the matrix. The
 * transposed convolution runs the other way: the weight's transpose makes the columns from the
 * input, and col2im (gather form, deterministic) sums them into the output.
 *
 * Composed, the choice by shape: a 1x1 kernel with stride 1 and no padding multiplies the input as it is;
 * every other shape takes explicit columns. Columns cost memory (kH·kW times the input: 231 MB at
 * the ResNet shape of test/bench/bench_conv.c) but keep one pair of kernels for every device,
 * dtype and option, with all the arithmetic in the vendor's gemm. A perf profile of that whole
 * benchmark (its raw sgemm baseline included; 2-core Zen 4 at a load average of 11) gave BLIS
 * 38% of the samples, OpenMP's waiting threads 35%, the kernel's page faults 9%, im2col 2%, and
 * col2im 10%, when the CPU's was still a per-pixel gather (a divide per pixel and window); it now
 * adds window rows into planes (kernels/cpu/conv_typed.h).
 * The column buffers are ordinary tensors from the device's caching allocator, released as soon
 * as the op (or its backward) is done with them.
 *
 * Composed, the gradients come from autograd: the product's (weight and input columns), the bias's
 * broadcast add, and the column nodes, each of which is the other's adjoint: the gradient of
 * im2col is col2im of the gradient, and that of col2im is im2col. */
#include "../autocast.h"
#include "../half.h"
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../tensor.h"
#include "../view.h"
#include "conv_whole.h"

#include <string.h>

/* ---------------------------------------------------------------- the column nodes */

/* A convolution's geometry is an nbk_conv_args whose sizes are set (image, window, stride,
 * padding, dilation, windows); a kernel's call adds the dtype, batch, channels and addresses. */
static nbk_conv_args args_of(const nbk_conv_args *g, nb_dtype dtype, int64_t n, int64_t c)
{
    nbk_conv_args a = *g;
    a.dtype = dtype, a.n = n, a.c = c;
    return a;
}

/* x (N, C, h, w), floating -> its columns (N, C·kh·kw, oh·ow), recording Im2colBackward. */
static nb_tensor *columns(const char *op, const nb_tensor *x, const nbk_conv_args *g)
{
    const nb_device dev = x->storage->device;
    nb_tensor *xcopy = nb__is_contiguous(x) ? NULL : nb__untrack(nb__convert(op, x, x->dtype));
    if (!nb__is_contiguous(x) && !xcopy) return NULL;
    const nb_tensor *xc = xcopy ? xcopy : x;
    const int64_t rows_shape[3] = {x->shape[1], g->kh, g->kw}, window_shape[2] = {g->oh, g->ow};
    int64_t rows, windows, out_numel;
    nb_tensor *out = NULL;
    if (nb__checked_numel(op, 3, rows_shape, &rows) && nb__checked_numel(op, 2, window_shape, &windows)) {
        const int64_t shape[3] = {x->shape[0], rows, windows}; /* (N, C·kh·kw, oh·ow) */
        if (nb__checked_numel(op, 3, shape, &out_numel)) out = nb__alloc(op, 3, shape, x->dtype, dev);
    }
    if (out) {
        nbk_conv_args a = args_of(g, x->dtype, x->shape[0], x->shape[1]);
        a.image = nb__ptr(xc), a.cols = nb__ptr(out);
        if (nb__kernel_status(op, nb__device_table(dev.type)->im2col(nb__call(op, dev), &a)) != NB_OK) {
            nb_release(out);
            out = NULL;
        }
    }
    nb_release(xcopy);
    if (out && nb__needs_graph(1, &x)) {
        nb_node *node = nb__node_new(NB_NODE_IM2COL, op, 1, &x);
        if (!node) {
            nb_release(out);
            return NULL;
        }
        nb__conv_node_save(node, g);
        nb__set_history(out, node);
    }
    return out;
}

/* cols (N, C·kh·kw, oh·ow), floating -> the image (N, C, g->h, g->w) each of whose elements sums
 * the column elements that read it, recording Col2imBackward. */
static nb_tensor *image(const char *op, const nb_tensor *cols, const nbk_conv_args *g)
{
    const nb_device dev = cols->storage->device;
    nb_tensor *ccopy = nb__is_contiguous(cols) ? NULL : nb__untrack(nb__convert(op, cols, cols->dtype));
    if (!nb__is_contiguous(cols) && !ccopy) return NULL;
    const nb_tensor *cc = ccopy ? ccopy : cols;
    const int64_t channels = g->kh * g->kw > 0 ? cols->shape[1] / (g->kh * g->kw) : 0;
    const int64_t shape[4] = {cols->shape[0], channels, g->h, g->w}; /* (N, C, h, w) */
    int64_t numel;
    nb_tensor *out = nb__checked_numel(op, 4, shape, &numel) ? nb__alloc(op, 4, shape, cols->dtype, dev) : NULL;
    if (out) {
        nbk_conv_args a = args_of(g, cols->dtype, shape[0], channels);
        a.image = nb__ptr(out), a.cols = nb__ptr(cc);
        if (nb__kernel_status(op, nb__device_table(dev.type)->col2im(nb__call(op, dev), &a)) != NB_OK) {
            nb_release(out);
            out = NULL;
        }
    }
    nb_release(ccopy);
    if (out && nb__needs_graph(1, &cols)) {
        nb_node *node = nb__node_new(NB_NODE_COL2IM, op, 1, &cols);
        if (!node) {
            nb_release(out);
            return NULL;
        }
        nb__conv_node_save(node, g);
        nb__set_history(out, node);
    }
    return out;
}

/* The gradient of the columns' input: the gradient's columns summed back into the image. */
nb_status nb__backward_im2col(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    const nbk_conv_args geo = nb__conv_node_geometry(node, g->dtype, 0, 0);
    gi[0] = image(node->op, g, &geo);
    return gi[0] ? NB_OK : nb_last_status();
}

/* The gradient of the image's columns: the gradient's columns. */
nb_status nb__backward_col2im(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    const nbk_conv_args geo = nb__conv_node_geometry(node, g->dtype, 0, 0);
    gi[0] = columns(node->op, g, &geo);
    return gi[0] ? NB_OK : nb_last_status();
}

/* ---------------------------------------------------------------- checks */

/* The inputs' ndim, dtypes and devices: x of ndim (or ndim - 1, unbatched), weight of ndim, bias
 * (NULL or 1-D), all of x's floating dtype and device. */
static bool check_tensors(const char *op, const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                          int ndim, const char *layout)
{
    char xs[160], ws[160];
    if (nb__is_null(op, "input", x) || nb__is_null(op, "weight", weight)) return false;
    if (x->ndim != ndim && x->ndim != ndim - 1)
        return nb__fail(NB_ERR_SHAPE, "%s: expected a %d-D (batched) or %d-D (unbatched) input %s, got %s (%d-D)", op,
                        ndim, ndim - 1, layout, nb__shape_string(x->ndim, x->shape, xs, sizeof xs), x->ndim),
               false;
    if (weight->ndim != ndim)
        return nb__fail(NB_ERR_SHAPE, "%s: expected a %d-D weight, got %s (%d-D)", op, ndim,
                        nb__shape_string(weight->ndim, weight->shape, ws, sizeof ws), weight->ndim),
               false;
    if (bias && bias->ndim != 1)
        return nb__fail(NB_ERR_SHAPE, "%s: expected a 1-D bias, got %s (%d-D)", op,
                        nb__shape_string(bias->ndim, bias->shape, ws, sizeof ws), bias->ndim),
               false;
    const nb_tensor *all[3] = {x, weight, bias};
    if (!nb__check_devices(op, bias ? 3 : 2, all)) return false;
    if (!nb__is_float_kind(x->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a float32 or float64 (or float16 or bfloat16) input, got %s", op,
                        nb_dtype_name(x->dtype)),
               false;
    for (int i = 1; i < 3; i++)
        if (all[i] && all[i]->dtype != x->dtype)
            return nb__fail(NB_ERR_DTYPE, "%s: expected the %s to have the input's dtype %s, got %s", op,
                            i == 1 ? "weight" : "bias", nb_dtype_name(x->dtype), nb_dtype_name(all[i]->dtype)),
                   false;
    return true;
}

/* stride and dilation >= 1, padding >= 0, per spatial dim, groups >= 1. */
static bool check_numbers(const char *op, const int64_t *stride, const int64_t *padding, const int64_t *dilation,
                          int64_t groups, int dims)
{
    for (int i = 0; i < dims; i++) {
        if (stride[i] < 1)
            return nb__fail(NB_ERR_ARGUMENT, "%s: expected a positive stride, got %lld", op, (long long)stride[i]),
                   false;
        if (dilation[i] < 1)
            return nb__fail(NB_ERR_ARGUMENT, "%s: expected a positive dilation, got %lld", op,
                            (long long)dilation[i]),
                   false;
        if (padding[i] < 0)
            return nb__fail(NB_ERR_ARGUMENT, "%s: expected a non-negative padding, got %lld", op,
                            (long long)padding[i]),
                   false;
    }
    if (groups < 1)
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a positive number of groups, got %lld", op, (long long)groups),
               false;
    return true;
}

/* The kernel's sizes (dims 2, 3 of weight) are positive. */
static bool check_kernel(const char *op, const nb_tensor *weight)
{
    char ws[160];
    if (weight->shape[2] < 1 || weight->shape[3] < 1)
        return nb__fail(NB_ERR_SHAPE, "%s: expected a kernel of positive sizes, got a weight %s", op,
                        nb__shape_string(weight->ndim, weight->shape, ws, sizeof ws)),
               false;
    return true;
}

/* a·b + c, false when it overflows int64 */
static bool mul_add(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out) && !__builtin_add_overflow(*out, c, out);
}

static nb_tensor *too_large(const char *op, int dim)
{
    return nb__fail(NB_ERR_SHAPE, "%s: the options' sizes overflow int64 in spatial dim %d", op, dim);
}

/* ---------------------------------------------------------------- the ops */

/* Whether the CPU composes its convolutions as CUDA does (im2col, then the product), in place
 * of its whole-convolution kernel: off but for the tests that run that composition here. */
static _Thread_local bool compose_on_cpu;

/* A test hook (declared by the tests that use it). */
void nb__conv_compose_on_cpu(bool on)
{
    compose_on_cpu = on;
}

/* y (N, O, oh, ow) of the columns' product plus bias, in one call where the device has the whole
 * convolution; x (N, C, H, W) contiguous or not. */
static nb_tensor *conv_forward(const char *op, const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                               const nbk_conv_args *g, int64_t groups)
{
    const nb_device_type type = x->storage->device.type;
    if (nb__device_table(type)->conv2d_forward && !(type == NB_CPU && compose_on_cpu)) {
        const nbk_conv_args geo = args_of(g, x->dtype, x->shape[0], x->shape[1]);
        return nb__conv2d_whole(op, x, weight, bias, &geo, groups);
    }
    const int64_t n = x->shape[0], c = x->shape[1], o = weight->shape[0];
    const int64_t cg = c / groups, og = o / groups, k = cg * g->kh * g->kw, l = g->oh * g->ow;
    nb_tensor *t[8] = {NULL}, *out = NULL;
    const bool direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 &&
                        g->oh == g->h && g->ow == g->w;
    /* (N, C·kh·kw, oh·ow): the 1x1 case is the input itself */
    t[0] = direct ? nb_reshape(x, 3, (int64_t[]){n, c, l}) : columns(op, x, g);
    if (!t[0]) goto done;
    if (groups == 1) {
        t[1] = nb_reshape(weight, 2, (int64_t[]){o, k});            /* (O, C·kh·kw) */
        t[2] = t[1] ? nb_matmul(t[1], t[0]) : NULL;                 /* (N, O, oh·ow) */
    } else {
        t[3] = nb_reshape(t[0], 4, (int64_t[]){n, groups, k, l});   /* (N, G, Cg·kh·kw, oh·ow) */
        t[1] = t[3] ? nb_reshape(weight, 3, (int64_t[]){groups, og, k}) : NULL; /* (G, Og, Cg·kh·kw) */
        t[2] = t[1] ? nb_matmul(t[1], t[3]) : NULL;                 /* (N, G, Og, oh·ow) */
    }
    t[4] = t[2] ? nb_reshape(t[2], 4, (int64_t[]){n, o, g->oh, g->ow}) : NULL;
    if (!t[4]) goto done;
    if (!bias) {
        out = nb_retain(t[4]);
    } else {
        t[5] = nb_reshape(bias, 3, (int64_t[]){o, 1, 1});
        out = t[5] ? nb_add(t[4], t[5]) : NULL;
    }
done:
    for (int i = 0; i < 8; i++) nb_release(t[i]);
    return out;
}

/* Runs body's op on a batched x, or on x unsqueezed to a batch of one and squeezed after. */
typedef nb_tensor *(*batched_fn)(const char *op, const nb_tensor *x, const nb_tensor *weight,
                                 const nb_tensor *bias, const void *options);

static nb_tensor *run_batched(const char *op, batched_fn f, int ndim, const nb_tensor *x, const nb_tensor *weight,
                              const nb_tensor *bias, const void *options);

/* run_batched's arguments but the tensors, for its float32 route */
typedef struct conv_call {
    const char *op;
    batched_fn f;
    int ndim;
    const void *options;
} conv_call;

static nb_tensor *conv_in_float32(nb_tensor *const *w, const void *ctx)
{
    const conv_call *c = ctx;
    return run_batched(c->op, c->f, c->ndim, w[0], w[1], w[2], c->options);
}

/* Half inputs (x, weight and bias of one dtype, checked) stay half on a device whose column
 * kernels take them (CUDA: the products on tensor cores, kernels/device.h); elsewhere they run in
 * float32, rounded once (lib/half.c). */
static nb_tensor *run_batched(const char *op, batched_fn f, int ndim, const nb_tensor *x, const nb_tensor *weight,
                              const nb_tensor *bias, const void *options)
{
    if (!nb__device_table(x->storage->device.type)->half_columns) {
        bool taken;
        const conv_call call = {op, f, ndim, options};
        nb_tensor *h = nb__via_float32(3, (const nb_tensor *const[]){x, weight, bias}, x->dtype, conv_in_float32,
                                       &call, &taken);
        if (taken) return h;
    }
    nb__tracking_pause();
    nb_tensor *xb = x->ndim == ndim ? nb_retain((nb_tensor *)x) : nb_unsqueeze(x, 0);
    nb_tensor *y = xb ? f(op, xb, weight, bias, options) : NULL;
    nb_tensor *out = y && x->ndim != ndim ? nb_squeeze_dim(y, 0) : (y ? nb_retain(y) : NULL);
    nb_release(y);
    nb_release(xb);
    nb__tracking_resume();
    if (out) nb__scope_register(out);
    return out;
}

static nb_tensor *conv2d_batched(const char *op, const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                                 const void *options)
{
    const nb_conv2d_options *o = options;
    char xs[160], ws[160], bs[160];
    const int64_t c = x->shape[1], out_ch = weight->shape[0], groups = o->groups;
    if (out_ch % groups != 0 || c % groups != 0 || weight->shape[1] * groups != c)
        return nb__fail(NB_ERR_SHAPE,
                        "%s: expected the input's %lld channels and the weight's %lld outputs to divide into "
                        "%lld groups of %lld input channels each (the weight's dim 1), got input %s and weight %s",
                        op, (long long)c, (long long)out_ch, (long long)groups, (long long)weight->shape[1],
                        nb__shape_string(x->ndim, x->shape, xs, sizeof xs),
                        nb__shape_string(weight->ndim, weight->shape, ws, sizeof ws));
    if (bias && bias->shape[0] != out_ch)
        return nb__fail(NB_ERR_SHAPE, "%s: expected a bias of %lld elements (the weight's outputs), got %s", op,
                        (long long)out_ch, nb__shape_string(bias->ndim, bias->shape, bs, sizeof bs));
    if (!check_kernel(op, weight)) return NULL;
    nbk_conv_args g = {.h = x->shape[2], .w = x->shape[3], .kh = weight->shape[2], .kw = weight->shape[3],
                        .sh = o->stride[0], .sw = o->stride[1], .dh = o->dilation[0], .dw = o->dilation[1]};
    const int64_t size[2] = {g.h, g.w}, k[2] = {g.kh, g.kw}, d[2] = {g.dh, g.dw};
    int64_t top[2], windows[2];
    for (int i = 0; i < 2; i++) {
        int64_t extent, total, padded; /* the dilated kernel's size; both sides' padding; the padded size */
        if (!mul_add(d[i], k[i] - 1, 1, &extent)) return too_large(op, i);
        if (o->padding_rule == NB_CONV_PADDING_SAME) {
            top[i] = (extent - 1) / 2, total = extent - 1; /* the odd one out goes after, as PyTorch's */
        } else if (o->padding_rule == NB_CONV_PADDING_VALID) {
            top[i] = 0, total = 0;
        } else {
            top[i] = o->padding[i];
            if (!mul_add(o->padding[i], 2, 0, &total)) return too_large(op, i);
        }
        if (__builtin_add_overflow(size[i], total, &padded)) return too_large(op, i);
        if (padded < extent)
            return nb__fail(NB_ERR_SHAPE,
                            "%s: the kernel %s (dilated to %lld) is larger than the padded input %s (%lld with "
                            "padding) in spatial dim %d",
                            op, nb__shape_string(2, k, ws, sizeof ws), (long long)extent,
                            nb__shape_string(2, size, xs, sizeof xs), (long long)padded, i);
        windows[i] = (padded - extent) / (i == 0 ? g.sh : g.sw) + 1;
    }
    g.ph = top[0], g.pw = top[1];
    g.oh = windows[0], g.ow = windows[1];
    return conv_forward(op, x, weight, bias, &g, groups);
}

static bool check_conv2d_options(const char *op, const nb_conv2d_options *o)
{
    if (!check_numbers(op, o->stride, o->padding, o->dilation, o->groups, 2)) return false;
    if (o->padding_rule != NB_CONV_PADDING_EXPLICIT && o->padding_rule != NB_CONV_PADDING_VALID &&
        o->padding_rule != NB_CONV_PADDING_SAME)
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a padding rule of explicit, valid or same, got %d", op,
                        (int)o->padding_rule),
               false;
    if (o->padding_rule == NB_CONV_PADDING_SAME && (o->stride[0] != 1 || o->stride[1] != 1))
        return nb__fail(NB_ERR_ARGUMENT, "%s: padding same is not supported for strided convolutions (stride %lld, %lld)",
                        op, (long long)o->stride[0], (long long)o->stride[1]),
               false;
    return true;
}

nb_tensor *nb_conv2d(const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                     const nb_conv2d_options *options)
{
    const char *op = "nb_conv2d";
    nb__autocast ac; /* input, weight and bias in the autocast dtype */
    if (nb__autocast_lower(&ac, NB__AUTOCAST_ALL, 3, (const nb_tensor *[]){x, weight, bias}))
        return nb__autocast_done(&ac, nb_conv2d(ac.t[0], ac.t[1], ac.t[2], options));
    const nb_conv2d_options o = options ? *options : NB_CONV2D_DEFAULTS;
    if (!check_tensors(op, x, weight, bias, 4, "(N, C, H, W)") || !check_conv2d_options(op, &o)) return NULL;
    return run_batched(op, conv2d_batched, 4, x, weight, bias, &o);
}

/* (N, C, L) as (N, C, 1, L), the weight (O, C/groups, k) as (O, C/groups, 1, k). */
static nb_tensor *conv1d_batched(const char *op, const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                                 const void *options)
{
    const nb_conv1d_options *o1 = options;
    const nb_conv2d_options o = {.stride = {1, o1->stride},
                                 .padding = {0, o1->padding},
                                 .dilation = {1, o1->dilation},
                                 .groups = o1->groups,
                                 .padding_rule = o1->padding_rule};
    nb_tensor *x4 = nb_unsqueeze(x, 2);
    nb_tensor *w4 = x4 ? nb_unsqueeze(weight, 2) : NULL;
    nb_tensor *y4 = w4 ? conv2d_batched(op, x4, w4, bias, &o) : NULL;
    nb_tensor *y = y4 ? nb_squeeze_dim(y4, 2) : NULL;
    nb_release(x4);
    nb_release(w4);
    nb_release(y4);
    return y;
}

nb_tensor *nb_conv1d(const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                     const nb_conv1d_options *options)
{
    const char *op = "nb_conv1d";
    nb__autocast ac; /* input, weight and bias in the autocast dtype */
    if (nb__autocast_lower(&ac, NB__AUTOCAST_ALL, 3, (const nb_tensor *[]){x, weight, bias}))
        return nb__autocast_done(&ac, nb_conv1d(ac.t[0], ac.t[1], ac.t[2], options));
    const nb_conv1d_options o = options ? *options : NB_CONV1D_DEFAULTS;
    if (!check_tensors(op, x, weight, bias, 3, "(N, C, L)")) return NULL;
    const nb_conv2d_options o2 = {.stride = {1, o.stride}, .padding = {0, o.padding}, .dilation = {1, o.dilation},
                                  .groups = o.groups, .padding_rule = o.padding_rule};
    if (!check_conv2d_options(op, &o2)) return NULL;
    return run_batched(op, conv1d_batched, 3, x, weight, bias, &o);
}

/* The adjoint of conv2d: x (N, C, H, W), weight (C, O/groups, kh, kw) -> (N, O, oh, ow). */
static nb_tensor *conv_transpose2d_batched(const char *op, const nb_tensor *x, const nb_tensor *weight,
                                           const nb_tensor *bias, const void *options)
{
    const nb_conv_transpose2d_options *o = options;
    char xs[160], ws[160], bs[160];
    const int64_t n = x->shape[0], c = x->shape[1], groups = o->groups;
    if (c % groups != 0 || weight->shape[0] != c)
        return nb__fail(NB_ERR_SHAPE,
                        "%s: expected the input's %lld channels to divide into %lld groups and to match the "
                        "weight's dim 0, got input %s and weight %s",
                        op, (long long)c, (long long)groups, nb__shape_string(x->ndim, x->shape, xs, sizeof xs),
                        nb__shape_string(weight->ndim, weight->shape, ws, sizeof ws));
    const int64_t cg = c / groups, og = weight->shape[1], out_ch = og * groups;
    if (bias && bias->shape[0] != out_ch)
        return nb__fail(NB_ERR_SHAPE, "%s: expected a bias of %lld elements (the output channels), got %s", op,
                        (long long)out_ch, nb__shape_string(bias->ndim, bias->shape, bs, sizeof bs));
    if (!check_kernel(op, weight)) return NULL;
    nbk_conv_args g = {.kh = weight->shape[2], .kw = weight->shape[3], .sh = o->stride[0], .sw = o->stride[1],
                        .ph = o->padding[0], .pw = o->padding[1], .dh = o->dilation[0], .dw = o->dilation[1],
                        .oh = x->shape[2], .ow = x->shape[3]};
    const int64_t size[2] = {g.oh, g.ow}, k[2] = {g.kh, g.kw};
    int64_t out_size[2];
    for (int i = 0; i < 2; i++) {
        int64_t reach, cut;
        if (!mul_add(size[i] - 1, o->stride[i], o->output_padding[i] + 1, &out_size[i]) ||
            !mul_add(o->dilation[i], k[i] - 1, 0, &reach) || !mul_add(o->padding[i], 2, 0, &cut) ||
            __builtin_add_overflow(out_size[i], reach, &out_size[i]))
            return too_large(op, i);
        out_size[i] -= cut; /* both non-negative: no overflow */
        if (out_size[i] < 1)
            return nb__fail(NB_ERR_SHAPE,
                            "%s: the output would have size %lld in spatial dim %d (input %s, kernel %s, stride "
                            "%lld, padding %lld, dilation %lld, output_padding %lld)",
                            op, (long long)out_size[i], i, nb__shape_string(x->ndim, x->shape, xs, sizeof xs),
                            nb__shape_string(2, k, ws, sizeof ws), (long long)o->stride[i],
                            (long long)o->padding[i], (long long)o->dilation[i], (long long)o->output_padding[i]);
    }
    g.h = out_size[0], g.w = out_size[1];
    const int64_t kk = og * g.kh * g.kw, l = g.oh * g.ow;
    nb_tensor *t[8] = {NULL}, *out = NULL;
    if (groups == 1) {
        t[0] = nb_reshape(x, 3, (int64_t[]){n, c, l});                 /* (N, C, H·W) */
        t[1] = t[0] ? nb_reshape(weight, 2, (int64_t[]){c, kk}) : NULL; /* (C, Og·kh·kw) */
        t[2] = t[1] ? nb_transpose(t[1], 0, 1) : NULL;
        t[3] = t[2] ? nb_matmul(t[2], t[0]) : NULL;                     /* (N, O·kh·kw, H·W) */
    } else {
        t[0] = nb_reshape(x, 4, (int64_t[]){n, groups, cg, l});                 /* (N, G, Cg, H·W) */
        t[1] = t[0] ? nb_reshape(weight, 3, (int64_t[]){groups, cg, kk}) : NULL; /* (G, Cg, Og·kh·kw) */
        t[2] = t[1] ? nb_transpose(t[1], 1, 2) : NULL;
        t[4] = t[2] ? nb_matmul(t[2], t[0]) : NULL;                             /* (N, G, Og·kh·kw, H·W) */
        t[3] = t[4] ? nb_reshape(t[4], 3, (int64_t[]){n, groups * kk, l}) : NULL;
    }
    t[5] = t[3] ? image(op, t[3], &g) : NULL; /* (N, O, oh, ow) */
    if (t[5] && !bias) {
        out = nb_retain(t[5]);
    } else if (t[5]) {
        t[6] = nb_reshape(bias, 3, (int64_t[]){out_ch, 1, 1});
        out = t[6] ? nb_add(t[5], t[6]) : NULL;
    }
    for (int i = 0; i < 8; i++) nb_release(t[i]);
    return out;
}

nb_tensor *nb_conv_transpose2d(const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                               const nb_conv_transpose2d_options *options)
{
    const char *op = "nb_conv_transpose2d";
    nb__autocast ac; /* input, weight and bias in the autocast dtype */
    if (nb__autocast_lower(&ac, NB__AUTOCAST_ALL, 3, (const nb_tensor *[]){x, weight, bias}))
        return nb__autocast_done(&ac, nb_conv_transpose2d(ac.t[0], ac.t[1], ac.t[2], options));
    const nb_conv_transpose2d_options o = options ? *options : NB_CONV_TRANSPOSE2D_DEFAULTS;
    if (!check_tensors(op, x, weight, bias, 4, "(N, C, H, W)") ||
        !check_numbers(op, o.stride, o.padding, o.dilation, o.groups, 2))
        return NULL;
    for (int i = 0; i < 2; i++)
        if (o.output_padding[i] < 0 || (o.output_padding[i] >= o.stride[i] && o.output_padding[i] >= o.dilation[i]))
            return nb__fail(NB_ERR_ARGUMENT,
                            "%s: expected an output_padding smaller than either the stride or the dilation, got "
                            "output_padding %lld, stride %lld, dilation %lld",
                            op, (long long)o.output_padding[i], (long long)o.stride[i], (long long)o.dilation[i]);
    return run_batched(op, conv_transpose2d_batched, 4, x, weight, bias, &o);
}
