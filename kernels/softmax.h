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
 * NaN), so that nothing is read back to the host in the middle of a step.
 *
 * The options of nb_cross_entropy_ex and nb_nll_loss (all zero: the plain mean above). With w_c
 * the class weights (1 without), W their sum, e the label smoothing and lse the row's
 * log-sum-exp, row i with label y costs
 *     L_i = (1 - e) w_y (lse - x_y) + (e / classes) (W lse - sum_c w_c x_c),
 * or -w_y x_y when log_probs (the logits are log-probabilities: nll_loss, no smoothing), and
 * nothing when ignore is set and y == ignore_index (such a label is never out of range).
 * reduction (nb_reduction) NB_REDUCTION_MEAN: loss (0-d) = sum_i L_i / sum over rows not ignored
 * of w_y (PyTorch's); SUM: sum_i L_i; NONE: loss is (rows,), L_i each. The backward's g is then
 * (rows,) too (contiguous), one gradient per row. */
typedef struct nbk_xent_args {
    nb_dtype dtype;
    int64_t rows, classes;
    const void *logits;
    int64_t row_stride, col_stride;
    const int64_t *labels;
    int64_t label_stride;
    /* options (zero for nb_cross_entropy) */
    const void *class_weight; /* (classes,) of dtype, contiguous; NULL: every class weighs 1 */
    bool ignore;
    int64_t ignore_index;
    double smoothing;
    bool log_probs;
    int reduction;
} nbk_xent_args;

/* True when a uses any option beyond nb_cross_entropy's plain mean. */
static inline bool nbk_xent_has_options(const nbk_xent_args *a)
{
    return a->class_weight || a->ignore || a->smoothing != 0 || a->log_probs || a->reduction != 0;
}

/* True when row i's label is ignored. */
static inline bool nbk_xent_ignored(const nbk_xent_args *a, int64_t label)
{
    return a->ignore && label == a->ignore_index;
}

#endif /* NB_KERNELS_SOFTMAX_H */
