/* loss.c — the losses of nabla/nn.h: nb_cross_entropy (one fused kernel forward and one
 * backward, the CPU's or in a build with CUDA the GPU's, recorded as CrossEntropyBackward) and
 * nb_mse_loss (composed from recorded ops). On CUDA nothing is read back to the host: the labels
 * are checked by the device (a bad one is reported at the next synchronisation, and the loss is
 * NaN) and the backward reads the loss's gradient where it lies. */
#include "../../kernels/cpu/softmax.h"
#include "../autograd/autograd.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../iter.h"
#include "../tensor.h"
#include "../threads.h"

#ifdef NB_HAVE_CUDA
#include "../../kernels/cuda/cuda.h"
#include "../../kernels/cuda/softmax.h"
#endif

/* listed with the other nn nodes in nb__nn_node_names (lib/nn/softmax.c) */
static const char cross_entropy_node[] = "CrossEntropyBackward";

/* The kernel's view of checked logits (N, C) and labels (N,) on the CPU. */
static nbk_cpu_xent_args xent_args(const nb_tensor *logits, const nb_tensor *labels)
{
    return (nbk_cpu_xent_args){
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

#ifdef NB_HAVE_CUDA
/* The same view for the CUDA kernels (device addresses). */
static nbk_cuda_xent_args cuda_xent_args(const nb_tensor *logits, const nb_tensor *labels)
{
    nbk_cpu_xent_args a = xent_args(logits, labels);
    return (nbk_cuda_xent_args){
        .dtype = a.dtype,
        .rows = a.rows,
        .classes = a.classes,
        .logits = a.logits,
        .row_stride = a.row_stride,
        .col_stride = a.col_stride,
        .labels = a.labels,
        .label_stride = a.label_stride,
    };
}
#endif

/* The loss on CUDA: one forward kernel writing the 0-d out, labels checked on the device. */
static bool cuda_forward(const char *op, const nb_tensor *logits, const nb_tensor *labels, nb_tensor *out)
{
#ifdef NB_HAVE_CUDA
    const int device = logits->storage->device.index;
    nbk_cuda_xent_args a = cuda_xent_args(logits, labels);
    nbk_cuda_note_op(device, op);
    nb_status st = nbk_cuda_xent_forward(device, &a, nb__ptr(out));
    if (st == NB_OK) return true;
    nb__fail(st, "%s: %s", op, nbk_cuda_error());
    return false;
#else
    (void)logits, (void)labels, (void)out;
    nb__fail(NB_ERR_DEVICE, "%s: nabla was built without CUDA", op);
    return false;
#endif
}

/* The backward on CUDA: g (0-d, on the device) is read by the kernel, never by the host, so a
 * training step can be captured into a CUDA Graph. */
static nb_status cuda_backward(const char *op, const nb_tensor *logits, const nb_tensor *labels,
                               const nb_tensor *g, nb_tensor *out)
{
#ifdef NB_HAVE_CUDA
    const int device = logits->storage->device.index;
    /* the kernel reads one element of the logits' dtype */
    const bool direct = g->dtype == logits->dtype && nb__is_contiguous(g);
    nb_tensor *gc = direct ? NULL : nb__untrack(nb__convert(op, g, logits->dtype));
    if (!direct && !gc) return nb_last_status();
    nbk_cuda_xent_args a = cuda_xent_args(logits, labels);
    nbk_cuda_note_op(device, op);
    nb_status st = nbk_cuda_xent_backward(device, &a, nb__ptr(gc ? gc : g), nb__ptr(out));
    nb_release(gc);
    if (st == NB_OK) return NB_OK;
    return nb__fail_status(st, "%s: %s", op, nbk_cuda_error());
#else
    (void)logits, (void)labels, (void)g, (void)out;
    return nb__fail_status(NB_ERR_DEVICE, "%s: nabla was built without CUDA", op);
#endif
}

/* d loss / d logits = (softmax(logits) - one_hot(labels)) * g / N, from the saved logits (slot 0)
 * and labels (slot 1). */
static nb_status cross_entropy_backward(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *logits = nb__node_saved(node, 0);
    nb_tensor *labels = logits ? nb__node_saved(node, 1) : NULL;
    if (!labels) return nb_last_status();
    if (logits->storage->device.type == NB_CUDA) {
        nb_tensor *out = nb__alloc(node->op, 2, logits->shape, logits->dtype, logits->storage->device);
        if (!out) return nb_last_status();
        nb_status st = cuda_backward(node->op, logits, labels, g, out);
        if (st != NB_OK) {
            nb_release(out);
            return st;
        }
        gi[0] = out;
        return NB_OK;
    }
    double grad_loss = nb_item(g);
    if (nb_last_status() != NB_OK) return nb_last_status();
    nb_tensor *out = nb__alloc(node->op, 2, logits->shape, logits->dtype, logits->storage->device);
    if (!out) return nb_last_status();
    nbk_cpu_xent_args a = xent_args(logits, labels);
    nbk_cpu_xent_backward(&a, grad_loss / (double)a.rows, nb__ptr(out), nb__num_threads());
    gi[0] = out;
    return NB_OK;
}

/* True when dev has cross entropy kernels. */
static bool has_kernel(nb_device dev)
{
#ifdef NB_HAVE_CUDA
    if (dev.type == NB_CUDA) return true;
#endif
    return dev.type == NB_CPU;
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
    if (!has_kernel(logits->storage->device)) {
        char d[32];
        return nb__fail(NB_ERR_UNSUPPORTED, "%s: no %s kernel for cross entropy", op,
                        nb__device_string(logits->storage->device, d, sizeof d)),
               false;
    }
    return true;
}

nb_tensor *nb_cross_entropy(const nb_tensor *logits, const nb_tensor *labels)
{
    const char *op = "nb_cross_entropy";
    if (!check_cross_entropy(op, logits, labels)) return NULL;
    nb_tensor *out;
    if (logits->storage->device.type == NB_CUDA) {
        out = nb__alloc(op, 0, NULL, logits->dtype, logits->storage->device); /* 0-d */
        if (!out) return NULL;
        if (!cuda_forward(op, logits, labels, out)) {
            nb_release(out);
            return NULL;
        }
    } else {
        nbk_cpu_xent_args a = xent_args(logits, labels);
        int64_t bad = nbk_cpu_xent_check_labels(&a);
        if (bad >= 0)
            return nb__fail(NB_ERR_ARGUMENT, "%s: label %lld in row %lld is out of range for %lld classes (expected 0 to %lld)",
                            op, (long long)a.labels[bad * a.label_stride], (long long)bad,
                            (long long)a.classes, (long long)a.classes - 1);
        out = nb__alloc(op, 0, NULL, logits->dtype, logits->storage->device); /* 0-d */
        if (!out) return NULL;
        double loss = nbk_cpu_xent_forward(&a, nb__num_threads());
        if (out->dtype == NB_FLOAT32) *(float *)nb__ptr(out) = (float)loss;
        else *(double *)nb__ptr(out) = loss;
    }
    if (!nb__needs_graph(1, &logits)) return out;

    nb_node *node = nb__node_new(cross_entropy_node, op, cross_entropy_backward, 1, &logits);
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
