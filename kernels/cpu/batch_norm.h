/* batch_norm.h — the CPU kernels of batch normalisation, forward and backward, over the layout of
 * kernels/batch_norm.h. */
#ifndef NB_KERNELS_CPU_BATCH_NORM_H
#define NB_KERNELS_CPU_BATCH_NORM_H

#include "../batch_norm.h"

/* y (n, c, s) of a's dtype and stats (2, c): the means, then the rstds; when training, the
 * running statistics given are updated. Nothing is written when a channel has no elements. */
void nbk_cpu_batch_norm_forward(const nbk_batch_norm_args *a, void *y, double *stats, int nthreads);
/* From stats and g (n, c, s): gx (n, c, s), gw and gb (c,), each NULL when not wanted. Every sum
 * is taken in a fixed order, so the results do not depend on nthreads. */
void nbk_cpu_batch_norm_backward(const nbk_batch_norm_args *a, const double *stats, const void *g, void *gx,
                                 void *gw, void *gb, int nthreads);

#endif /* NB_KERNELS_CPU_BATCH_NORM_H */
