/* softmax.h — the CPU kernels of softmax, log_softmax and cross entropy, forward and backward,
 * over the layouts of kernels/softmax.h.
 *
 * Softmax runs over a contiguous block viewed as (outer, n, inner): inner == 1 (the last dim) is
 * the fast path of contiguous rows; inner > 1 sweeps strips of neighbouring columns, so no
 * transpose is needed. */
#ifndef NB_KERNELS_CPU_SOFTMAX_H
#define NB_KERNELS_CPU_SOFTMAX_H

#include "../softmax.h"

/* out = softmax(in) (log_softmax when take_log) along the middle dim; in and out (outer, n, inner). */
void nbk_cpu_softmax(const nbk_softmax_shape *s, bool take_log, const void *in, void *out,
                     int nthreads);
/* The gradient of the input from y (the forward's output) and g (the output's gradient). */
void nbk_cpu_softmax_backward(const nbk_softmax_shape *s, bool take_log, const void *y, const void *g,
                              void *gi, int nthreads);

/* The first row whose label is outside [0, classes), or -1 when every label is valid. */
int64_t nbk_cpu_xent_check_labels(const nbk_xent_args *a);
/* The mean over rows of logsumexp(logits[i]) - logits[i, label_i] (labels already checked);
 * rows are folded in fixed blocks combined in order, so the result does not depend on nthreads. */
double nbk_cpu_xent_forward(const nbk_xent_args *a, int nthreads);
/* grad (rows, classes), contiguous, of a's dtype: (softmax(logits) - one_hot(labels)) * scale. */
void nbk_cpu_xent_backward(const nbk_xent_args *a, double scale, void *grad, int nthreads);

/* With options (kernels/softmax.h; labels already checked): loss is 0-d, or (rows,) for
 * reduction none; sums run over fixed blocks of rows combined in order. */
void nbk_cpu_xent_ext_forward(const nbk_xent_args *a, void *loss, int nthreads);
/* grad (rows, classes), contiguous, from g (0-d, or (rows,) for reduction none). */
void nbk_cpu_xent_ext_backward(const nbk_xent_args *a, const void *g, void *grad, int nthreads);

#endif /* NB_KERNELS_CPU_SOFTMAX_H */
