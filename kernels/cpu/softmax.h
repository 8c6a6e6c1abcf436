/* softmax.h — the CPU kernels of softmax, log_softmax and cross entropy, forward and backward.
 *
 * Softmax runs over a contiguous block viewed as (outer, n, inner): the softmax is taken along
 * the middle dim, whose elements are inner apart. inner == 1 (the last dim) is the fast path of
 * contiguous rows; inner > 1 sweeps strips of neighbouring columns, so no transpose is needed.
 * Every result is numerically stable: the maximum along the dim is subtracted before exp, and
 * sums accumulate in float64. These kernels know nothing of tensors, autograd or scopes. */
#ifndef NB_KERNELS_CPU_SOFTMAX_H
#define NB_KERNELS_CPU_SOFTMAX_H

#include "nabla.h"

/* The layout of one softmax: (outer, n, inner) contiguous elements of dtype (float32/float64). */
typedef struct nbk_cpu_softmax_shape {
    nb_dtype dtype;
    int64_t outer, n, inner;
} nbk_cpu_softmax_shape;

/* out = softmax(in) (log_softmax when take_log) along the middle dim; in and out (outer, n, inner). */
void nbk_cpu_softmax(const nbk_cpu_softmax_shape *s, bool take_log, const void *in, void *out,
                    int nthreads);
/* The gradient of the input from y (the forward's output) and g (the output's gradient), all
 * (outer, n, inner): softmax: gi = y * (g - sum(g * y)); log_softmax: gi = g - exp(y) * sum(g),
 * sums along the middle dim. */
void nbk_cpu_softmax_backward(const nbk_cpu_softmax_shape *s, bool take_log, const void *y, const void *g,
                             void *gi, int nthreads);

/* Logits (rows, classes) of dtype with element strides (row_stride, col_stride), and int64 labels
 * (rows,) with element stride label_stride. */
typedef struct nbk_cpu_xent_args {
    nb_dtype dtype;
    int64_t rows, classes;
    const void *logits;
    int64_t row_stride, col_stride;
    const int64_t *labels;
    int64_t label_stride;
} nbk_cpu_xent_args;

/* The first row whose label is outside [0, classes), or -1 when every label is valid. */
int64_t nbk_cpu_xent_check_labels(const nbk_cpu_xent_args *a);
/* The mean over rows of logsumexp(logits[i]) - logits[i, label_i] (labels already checked);
 * rows are folded in fixed blocks combined in order, so the result does not depend on nthreads. */
double nbk_cpu_xent_forward(const nbk_cpu_xent_args *a, int nthreads);
/* grad (rows, classes), contiguous, of a's dtype: (softmax(logits) - one_hot(labels)) * scale. */
void nbk_cpu_xent_backward(const nbk_cpu_xent_args *a, double scale, void *grad, int nthreads);

#endif /* NB_KERNELS_CPU_SOFTMAX_H */
