/* softmax.h — the CUDA kernels of softmax, log_softmax and cross entropy, forward and backward,
 * behind the CUDA table (softmax.cu). Plain C; the layouts and formulas are those of kernels/softmax.h,
 * and so is the precision: the maximum along the dim is subtracted before exp, sums accumulate in
 * float64, and the order of every addition depends on the shapes only, so results are the same on
 * every run. Addresses are device addresses; every call queues its kernels on the device's
 * stream and returns without waiting (nothing is read back to the host, so the calls can be
 * captured into a CUDA Graph). A failure returns its status with a message in nbk_error(). */
#ifndef NB_KERNELS_CUDA_SOFTMAX_H
#define NB_KERNELS_CUDA_SOFTMAX_H

#include "../softmax.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out = softmax(in) (log_softmax when take_log) along the middle dim; in and out (outer, n, inner). */
nb_status nbk_cuda_softmax(int device, const nbk_softmax_shape *s, bool take_log, const void *in,
                          void *out);
/* The input's gradient gi from y (the forward's output) and g (the output's gradient), all
 * (outer, n, inner): softmax: gi = y * (g - sum(g * y)); log_softmax: gi = g - exp(y) * sum(g),
 * sums along the middle dim. */
nb_status nbk_cuda_softmax_backward(int device, const nbk_softmax_shape *s, bool take_log, const void *y,
                                   const void *g, void *gi);

/* loss (0-d, a's dtype) = the mean over rows of logsumexp(logits[i]) - logits[i, label_i]. The
 * labels are checked on the device: a label outside [0, classes) makes the loss NaN and is
 * recorded in the device's fault record (nbk_cuda_fault_slot), which the next synchronisation
 * reports. Rows' losses are added in a fixed tree, so the result depends on the shapes only. */
nb_status nbk_cuda_xent_forward(int device, const nbk_xent_args *a, void *loss);
/* grad (rows, classes), contiguous, of a's dtype: (softmax(logits) - one_hot(labels)) * g / rows,
 * where g is the device address of the loss's 0-d gradient (a's dtype), read on the device. A
 * label out of range is reported as the forward does, and its row of grad is NaN. */
nb_status nbk_cuda_xent_backward(int device, const nbk_xent_args *a, const void *g, void *grad);

/* The same with the options of kernels/softmax.h (class weights, ignored labels, smoothing,
 * log-probabilities, reductions; xent_options.cu): loss is 0-d, or (rows,) for reduction none,
 * and so is g. Labels are checked on the device as above. */
nb_status nbk_cuda_xent_options_forward(int device, const nbk_xent_args *a, void *loss);
nb_status nbk_cuda_xent_options_backward(int device, const nbk_xent_args *a, const void *g, void *grad);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_SOFTMAX_H */
