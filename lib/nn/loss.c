/* loss.c — the losses of nabla/nn.h: nb_cross_entropy (one fused kernel forward and one
 * backward on the device, kernels/softmax.h, recorded as CrossEntropyBackward) and nb_mse_loss
 * (composed from recorded ops). Nothing is read back to the host: the labels are checked by the
 * device (on a GPU a bad one is reported at the next synchronisation, and the loss is NaN) and
 * the backward reads the loss's gradient where it lies. */
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../iter.h"
#include "../tensor.h"

/* The kernels' view of checked logits (N, C) and labels (N,). */
static nbk_xent_args xent_args(const nb_tensor *logits, const nb_tensor *labels)
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
    };
}

/* d loss / d logits = (softmax(logits) - one_hot(labels)) * g / N, from the saved logits (slot 0)
 * and labels (slot 1). g (0-d) is read by the kernel where it lies, never by the host, so a
 * training step on a GPU can be captured into a graph. */
nb_status nb__backward_cross_entropy(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *logits = nb__node_saved(node, 0);
    nb_tensor *labels = logits ? nb__node_saved(node, 1) : NULL;
    if (!labels) return nb_last_status();
    /* the kernel reads one element of the logits' dtype */
    const bool direct = g->dtype == logits->dtype && nb__is_contiguous(g);
    nb_tensor *gc = direct ? NULL : nb__untrack(nb__convert(node->op, g, logits->dtype));
    if (!direct && !gc) return nb_last_status();
    const nb_device dev = logits->storage->device;
    nb_tensor *out = nb__alloc(node->op, 2, logits->shape, logits->dtype, dev);
    if (out) {
        const nbk_xent_args a = xent_args(logits, labels);
        nb_status st = nb__device_table(dev.type)->xent_backward(nb__call(node->op, dev), &a,
                                                                 nb__ptr(gc ? gc : g), nb__ptr(out));
        if (nb__kernel_status(node->op, st) != NB_OK) {
            nb_release(out);
            out = NULL;
        }
    }
    nb_release(gc);
    gi[0] = out;
    return nb_last_status();
}

static bool check_cross_entropy(const char *op, const nb_tensor *logits, const nb_tensor *labels)
{
    if (nb__is_null(op, "logits", logits) || nb__is_null(op, "labels", labels)) return false;
    const nb_tensor *both[2] = {logits, labels};
    if (!nb__check_devices(op, 2, both)) return false;
    if (!nb__is_floating(logits->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64 logits, got %s", op,
                        nb_dtype_name(logits->dtype)),
               false;
    if (labels->dtype != NB_INT64)
        return nb__fail(NB_ERR_DTYPE, "%s: expected int64 class labels, got %s (convert with nb_to_dtype)",
                        op, nb_dtype_name(labels->dtype)),
               false;
    if (logits->ndim != 2 || labels->ndim != 1 || labels->shape[0] != logits->shape[0]) {
        char ls[160], ys[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected logits (N, C) and labels (N,), got %s and %s", op,
                        nb__shape_string(logits->ndim, logits->shape, ls, sizeof ls),
                        nb__shape_string(labels->ndim, labels->shape, ys, sizeof ys)),
               false;
    }
    return true;
}

nb_tensor *nb_cross_entropy(const nb_tensor *logits, const nb_tensor *labels)
{
    const char *op = "nb_cross_entropy";
    if (!check_cross_entropy(op, logits, labels)) return NULL;
    const nb_device dev = logits->storage->device;
    nb_tensor *out = nb__alloc(op, 0, NULL, logits->dtype, dev); /* 0-d */
    if (!out) return NULL;
    const nbk_xent_args a = xent_args(logits, labels);
    nb_status st = nb__device_table(dev.type)->xent_forward(nb__call(op, dev), &a, nb__ptr(out));
    if (nb__kernel_status(op, st) != NB_OK) {
        nb_release(out);
        return NULL;
    }
    if (!nb__needs_graph(1, &logits)) return out;

    nb_node *node = nb__node_new(NB_NODE_CROSS_ENTROPY, op, 1, &logits);
    if (!node) {
        nb_release(out);
        return NULL;
    }
    nb__set_history(out, node);
    if (!nb__node_save(node, 0, logits, false) || !nb__node_save(node, 1, labels, false)) {
        nb_release(out);
        return NULL;
    }
    return out;
}

nb_tensor *nb_mse_loss(const nb_tensor *pred, const nb_tensor *target)
{
    const char *op = "nb_mse_loss";
    if (nb__is_null(op, "pred", pred) || nb__is_null(op, "target", target)) return NULL;
    const nb_tensor *both[2] = {pred, target};
    if (!nb__check_devices(op, 2, both)) return NULL;
    if (!nb__is_floating(pred->dtype) || !nb__is_floating(target->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64 tensors, got %s and %s", op,
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
