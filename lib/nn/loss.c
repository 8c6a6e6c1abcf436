/* loss.c — the losses of nabla/nn.h: nb_cross_entropy (one fused kernel forward and one
 * backward on the device, kernels/softmax.h, recorded as CrossEntropyBackward) and nb_mse_loss
 * (composed from recorded ops). Nothing is read back to the host: the labels are checked by the
 * device (on a GPU a bad one is reported at the next synchronisation, and the loss is NaN) and
 * the backward reads the loss's gradient where it lies. */
#include "../autocast.h"
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../dtype.h"
#include "../half.h"
#include "../error.h"
#include "../ewise.h"
#include "../iter.h"
#include "../tensor.h"
#include "../view.h"
#include "reduction.h"

/* The kernels' view of checked logits (N, C) and labels (N,), with the options of a node (zero
 * for nb_cross_entropy) and the class weights (NULL for none). */
static nbk_xent_args xent_args(const nb_tensor *logits, const nb_tensor *labels, const nb_node_args *o,
                               const nb_tensor *weight)
{
    return (nbk_xent_args){
        .dtype = logits->dtype,
        .rows = logits->shape[0],
        .classes = logits->shape[1],
        .logits = nb__ptr(logits),
        .row_stride = logits->strides[0],
        .col_stride = logits->strides[1],
        .labels = (const int64_t *)nb__ptr(labels),
        .label_stride = labels->strides[0],
        .class_weight = weight ? nb__ptr(weight) : NULL,
        .ignore = o->xent.ignore,
        .ignore_index = o->xent.ignore_index,
        .smoothing = o->xent.smoothing,
        .log_probs = o->xent.log_probs,
        .reduction = o->xent.reduction,
    };
}

/* grad (rows, classes) in the layout of the op's input, whose shape m gives: (C,) for a single
 * row, (N, C, d1, ...) from the rows (N, d1, ..., C) the kernel read. Takes grad's reference. */
static nb_tensor *grad_to_input_layout(const char *op, nb_tensor *grad, const nb_input_meta *m)
{
    if (!grad || m->ndim == 2) return grad;
    nb_tensor *out;
    if (m->ndim == 1) {
        out = nb_view(grad, 1, m->shape);
    } else {
        int64_t rows_shape[NB_MAX_DIMS]; /* (N, d1, ..., C) */
        int perm[NB_MAX_DIMS];           /* back to (N, C, d1, ...) */
        rows_shape[0] = m->shape[0];
        for (int i = 2; i < m->ndim; i++) rows_shape[i - 1] = m->shape[i];
        rows_shape[m->ndim - 1] = m->shape[1];
        perm[0] = 0;
        perm[1] = m->ndim - 1;
        for (int i = 2; i < m->ndim; i++) perm[i] = i - 1;
        nb_tensor *v = nb_view(grad, m->ndim, rows_shape);
        nb_tensor *p = nb_permute(v, m->ndim, perm);
        out = nb_contiguous(p);
        nb_release(v);
        nb_release(p);
    }
    nb_release(grad);
    if (!out && nb_last_status() == NB_OK) nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    return out;
}

/* d loss / d logits from the saved logits (slot 0), labels (slot 1) and class weights (slot 2):
 * without options (softmax(logits) - one_hot(labels)) * g / N. g (0-d; (rows,) for reduction
 * none) is read by the kernel where it lies, never by the host, so a training step on a GPU can
 * be captured into a graph. */
nb_status nb__backward_cross_entropy(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *logits = nb__node_saved(node, 0);
    nb_tensor *labels = logits ? nb__node_saved(node, 1) : NULL;
    nb_tensor *weight = labels && node->args.xent.has_weight ? nb__node_saved(node, 2) : NULL;
    if (!labels || (node->args.xent.has_weight && !weight)) return nb_last_status();
    /* the kernel reads g contiguous, of the logits' dtype */
    const bool direct = g->dtype == logits->dtype && nb__is_contiguous(g);
    nb_tensor *gc = direct ? NULL : nb__untrack(nb__convert(node->op, g, logits->dtype));
    if (!direct && !gc) return nb_last_status();
    const nb_device dev = logits->storage->device;
    nb_tensor *out = nb__alloc(node->op, 2, logits->shape, logits->dtype, dev);
    if (out) {
        const nbk_xent_args a = xent_args(logits, labels, &node->args, weight);
        nb_status st = nb__device_table(dev.type)->xent_backward(nb__call(node->op, dev), &a,
                                                                 nb__ptr(gc ? gc : g), nb__ptr(out));
        if (nb__kernel_status(node->op, st) != NB_OK) {
            nb_release(out);
            out = NULL;
        }
    }
    nb_release(gc);
    gi[0] = grad_to_input_layout(node->op, out, &node->input[0]);
    return nb_last_status();
}

static bool check_cross_entropy(const char *op, const nb_tensor *logits, const nb_tensor *labels)
{
    if (nb__is_null(op, "logits", logits) || nb__is_null(op, "labels", labels)) return false;
    const nb_tensor *both[2] = {logits, labels};
    if (!nb__check_devices(op, 2, both)) return false;
    if (!nb__is_floating(logits->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected floating logits (float32, float64, float16 or bfloat16), got %s", op,
                        nb_dtype_name(logits->dtype)),
               false;
    if (labels->dtype != NB_INT64)
        return nb__fail(NB_ERR_DTYPE, "%s: expected int64 class labels, got %s (convert with nb_to_dtype)",
                        op, nb_dtype_name(labels->dtype)),
               false;
    return true;
}

/* The loss of checked (rows, classes) logits and (rows,) labels with options o (and class
 * weights, or NULL) recorded as kind against input (the op's own logits, of any layout the
 * rows came from); out_ndim and out_shape give reduction none's result shape. */
static nb_tensor *xent_loss(const char *op, nb_node_kind kind, const nb_tensor *input, const nb_tensor *logits,
                            const nb_tensor *labels, const nb_node_args *o, const nb_tensor *weight, int out_ndim,
                            const int64_t *out_shape)
{
    const nb_device dev = logits->storage->device;
    const bool none = o->xent.reduction == NB_REDUCTION_NONE;
    nb_tensor *out = nb__alloc(op, none ? out_ndim : 0, out_shape, logits->dtype, dev);
    if (!out) return NULL;
    const nbk_xent_args a = xent_args(logits, labels, o, weight);
    nb_status st = nb__device_table(dev.type)->xent_forward(nb__call(op, dev), &a, nb__ptr(out));
    if (nb__kernel_status(op, st) != NB_OK) {
        nb_release(out);
        return NULL;
    }
    if (!nb__needs_graph(1, &input)) return out;

    nb_node *node = nb__node_new(kind, op, 1, &input);
    if (!node) {
        nb_release(out);
        return NULL;
    }
    node->args = *o;
    nb__set_history(out, node);
    if (!nb__node_save(node, 0, logits, false) || !nb__node_save(node, 1, labels, false) ||
        (weight && !nb__node_save(node, 2, weight, false))) {
        nb_release(out);
        return NULL;
    }
    return out;
}

nb_tensor *nb_cross_entropy(const nb_tensor *logits, const nb_tensor *labels)
{
    const char *op = "nb_cross_entropy";
    nb__autocast ac; /* float32 under autocast, on the CPU and CUDA */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_ALL, 2, (const nb_tensor *[]){logits, labels}))
        return nb__autocast_done(&ac, nb_cross_entropy(ac.t[0], ac.t[1]));
    if (logits && nb__is_half(logits->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(logits);
        nb_tensor *r = w ? nb_cross_entropy(w, labels) : NULL;
        nb_release(w);
        return nb__narrow(r, logits->dtype);
    }
    if (!check_cross_entropy(op, logits, labels)) return NULL;
    if (logits->ndim != 2 || labels->ndim != 1 || labels->shape[0] != logits->shape[0]) {
        char ls[160], ys[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected logits (N, C) and labels (N,), got %s and %s", op,
                        nb__shape_string(logits->ndim, logits->shape, ls, sizeof ls),
                        nb__shape_string(labels->ndim, labels->shape, ys, sizeof ys));
    }
    const nb_node_args plain = {.xent = {0}};
    return xent_loss(op, NB_NODE_CROSS_ENTROPY, logits, logits, labels, &plain, NULL, 0, NULL);
}

/* The options' checks and the rows of (N, C), (N, C, d1, ...) or (C,) input against labels (N,),
 * (N, d1, ...) or (): the loss of every row, recorded against input. */
static nb_tensor *xent_with_options(const char *op, nb_node_kind kind, const nb_tensor *input,
                                    const nb_tensor *labels, const nb_tensor *weight, nb_node_args o)
{
    nb__autocast ac; /* float32 under autocast, on the CPU and CUDA */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_ALL, 3, (const nb_tensor *[]){input, labels, weight}))
        return nb__autocast_done(&ac, xent_with_options(op, kind, ac.t[0], ac.t[1], ac.t[2], o));
    if (input && nb__is_half(input->dtype) && (!weight || weight->dtype == input->dtype)) {
        /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(input), *ww = weight ? nb__widen(weight) : NULL;
        nb_tensor *r = w && (ww || !weight) ? xent_with_options(op, kind, w, labels, ww, o) : NULL;
        nb_release(w);
        nb_release(ww);
        return nb__narrow(r, input->dtype);
    }
    if (!check_cross_entropy(op, input, labels)) return NULL;
    if (!nb__check_reduction(op, (nb_reduction)o.xent.reduction)) return NULL;
    /* labels: input's shape without its class dim (dim 1, or dim 0 of a single row (C,)) */
    const int cdim = input->ndim == 1 ? 0 : 1;
    bool fits = input->ndim >= 1 && labels->ndim == input->ndim - 1;
    for (int i = 0, j = 0; fits && i < input->ndim; i++)
        if (i != cdim) fits = labels->shape[j++] == input->shape[i];
    if (!fits) {
        char ls[160], ys[160];
        return nb__fail(NB_ERR_SHAPE,
                        "%s: expected input (N, C) or (N, C, d1, ...) or (C,) and labels of its shape without "
                        "dim C, got %s and %s",
                        op, nb__shape_string(input->ndim, input->shape, ls, sizeof ls),
                        nb__shape_string(labels->ndim, labels->shape, ys, sizeof ys));
    }
    const int64_t classes = input->shape[cdim];
    if (weight) {
        const nb_tensor *both[2] = {input, weight};
        if (!nb__check_devices(op, 2, both)) return NULL;
        if (weight->dtype != input->dtype)
            return nb__fail(NB_ERR_DTYPE, "%s: expected a weight of the input's dtype %s, got %s", op,
                            nb_dtype_name(input->dtype), nb_dtype_name(weight->dtype));
        if (weight->ndim != 1 || weight->shape[0] != classes) {
            char ws[160];
            return nb__fail(NB_ERR_SHAPE, "%s: expected a weight of one value per class (%lld), got %s", op,
                            (long long)classes, nb__shape_string(weight->ndim, weight->shape, ws, sizeof ws));
        }
    }
    o.xent.ignore = true;
    o.xent.has_weight = weight != NULL;

    /* the rows the kernel reads: (N, C) as they lie; (C,) as one row; (N, C, d1, ...) moved to
     * (N, d1, ..., C) and copied, with the labels (N, d1, ...) flattened */
    nb_tensor *rows = NULL, *row_labels = NULL, *wc = NULL, *out = NULL;
    nb__tracking_pause();
    nb_no_grad_begin();
    if (input->ndim == 2) {
        rows = nb__alias(op, input);
        row_labels = nb__alias(op, labels);
    } else if (input->ndim == 1) {
        rows = nb_view(input, 2, (int64_t[]){1, classes});
        row_labels = nb_view(labels, 1, (int64_t[]){1});
    } else {
        int perm[NB_MAX_DIMS];
        perm[0] = 0;
        for (int i = 2; i < input->ndim; i++) perm[i - 1] = i;
        perm[input->ndim - 1] = 1;
        nb_tensor *moved = nb_permute(input, input->ndim, perm);
        nb_tensor *flat_moved = nb_reshape(moved, 2, (int64_t[]){-1, classes});
        rows = flat_moved ? nb_contiguous(flat_moved) : NULL;
        row_labels = nb_reshape(labels, 1, (int64_t[]){-1});
        nb_release(moved);
        nb_release(flat_moved);
    }
    if (weight) wc = nb_contiguous(weight);
    nb_no_grad_end();
    nb__tracking_resume();
    if (rows && row_labels && (!weight || wc))
        out = xent_loss(op, kind, input, rows, row_labels, &o, wc, labels->ndim, labels->shape);
    nb_release(rows);
    nb_release(row_labels);
    nb_release(wc);
    return out;
}

nb_tensor *nb_cross_entropy_ex(const nb_tensor *logits, const nb_tensor *target, const nb_cross_entropy_options *options)
{
    const char *op = "nb_cross_entropy_ex";
    const nb_cross_entropy_options o = options ? *options : NB_CROSS_ENTROPY_DEFAULTS;
    if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected label_smoothing between 0.0 and 1.0, got %g", op,
                        o.label_smoothing);
    const nb_node_args a = {.xent = {.ignore_index = o.ignore_index,
                                     .smoothing = o.label_smoothing,
                                     .reduction = (int)o.reduction}};
    return xent_with_options(op, NB_NODE_CROSS_ENTROPY, logits, target, o.weight, a);
}

nb_tensor *nb_nll_loss(const nb_tensor *log_probs, const nb_tensor *target, const nb_nll_loss_options *options)
{
    const nb_nll_loss_options o = options ? *options : NB_NLL_LOSS_DEFAULTS;
    const nb_node_args a = {.xent = {.ignore_index = o.ignore_index, .log_probs = true, .reduction = (int)o.reduction}};
    return xent_with_options("nb_nll_loss", NB_NODE_NLL_LOSS, log_probs, target, o.weight, a);
}

nb_tensor *nb_mse_loss(const nb_tensor *pred, const nb_tensor *target)
{
    const char *op = "nb_mse_loss";
    if (nb__is_null(op, "pred", pred) || nb__is_null(op, "target", target)) return NULL;
    nb__autocast ac; /* float32 under autocast, on the CPU and CUDA */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_ALL, 2, (const nb_tensor *[]){pred, target}))
        return nb__autocast_done(&ac, nb_mse_loss(ac.t[0], ac.t[1]));
    const nb_tensor *pair[2] = {pred, target};
    if (nb__any_half(2, pair) && nb__is_float_kind(pred->dtype) && nb__is_float_kind(target->dtype)) {
        /* in float32, rounded once to the promoted dtype (lib/half.c) */
        nb_tensor *wp = nb__widen(pred), *wt = wp ? nb__widen(target) : NULL;
        nb_tensor *r = wt ? nb_mse_loss(wp, wt) : NULL;
        nb_release(wp);
        nb_release(wt);
        return nb__narrow(r, nb__promote(pred->dtype, target->dtype));
    }
    const nb_tensor *both[2] = {pred, target};
    if (!nb__check_devices(op, 2, both)) return NULL;
    if (!nb__is_floating(pred->dtype) || !nb__is_floating(target->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected floating tensors (float32, float64, float16 or bfloat16), got %s and %s", op,
                        nb_dtype_name(pred->dtype), nb_dtype_name(target->dtype));
    int nd;
    int64_t shape[NB_MAX_DIMS];
    if (!nb__broadcast_shapes(op, 2, both, &nd, shape)) return NULL;

    /* mean((pred - target)^2), each step recorded by its own op; the temporaries are ours */
    nb__tracking_pause();
    nb_tensor *diff = nb_sub(pred, target);
    nb_tensor *square = nb_pow_scalar(diff, 2.0);
    nb_tensor *loss = nb_mean(square);
    nb_release(diff);
    nb_release(square);
    nb__tracking_resume();
    if (loss) nb__scope_register(loss);
    return loss;
}
