/* softmax.h — the arguments of softmax, log_softmax and cross entropy, read by every device's
 * kernels (kernels/cpu/softmax.c, kernels/cuda/softmax.cu). lib/nn fills them from tensors.
 *
 * Precision, on every device: the maximum along the dim is subtracted before exp, and sums
 * accumulate in float64; the order of every addition depends on the shapes only, so results are
 * the same on every run. */
#ifndef NB_KERNELS_SOFTMAX_H
#define NB_KERNELS_SOFTMAX_H

#include "nabla.h"

/* The layout of one softmax: (outer, n, inner) contiguous elements of dtype (float32/float64);
 * the softmax runs along the middle dim, whose elements are inner apart.
 *  - forward:  out = softmax(in), or log_softmax when take_log;
 *  - backward: gi from y (the forward's output) and g (its gradient), all (outer, n, inner):
 *    softmax gi = y * (g - sum(g * y)); log_softmax gi = g - exp(y) * sum(g), sums along n. */
typedef struct nbk_softmax_shape {
    nb_dtype dtype;
    int64_t outer, n, inner;
} nbk_softmax_shape;

/* Cross entropy: logits (rows, classes) of dtype with element strides (row_stride, col_stride),
 * and int64 labels (rows,) with element stride label_stride.
 *  - forward: loss (0-d, dtype) = the mean over rows of logsumexp(logits[i]) - logits[i, label_i];
 *  - backward: grad (rows, classes), dense, of dtype = (softmax(logits) - one_hot(labels)) · g /
 *    rows, where g is the address of the loss's gradient (one element of dtype, on the device).
 * A label outside [0, classes) is an NB_ERR_ARGUMENT naming the label, its row and the classes:
 * at once on the CPU; on a GPU at the next synchronisation (the loss, or the row of grad, is
 * NaN), so that nothing is read back to the host in the middle of a step. */
typedef struct nbk_xent_args {
    nb_dtype dtype;
    int64_t rows, classes;
    const void *logits;
    int64_t row_stride, col_stride;
    const int64_t *labels;
    int64_t label_stride;
} nbk_xent_args;

#endif /* NB_KERNELS_SOFTMAX_H */
