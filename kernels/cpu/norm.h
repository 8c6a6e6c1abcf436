/* norm.h — the CPU kernels of layer and RMS normalisation, forward and backward, over the layout
 * of kernels/norm.h. */
#ifndef NB_KERNELS_CPU_NORM_H
#define NB_KERNELS_CPU_NORM_H

#include "../norm.h"

/* y (rows, cols) of a's dtype and stats (2, rows): the means, then the rstds (nothing when there
 * are no elements). */
void nbk_cpu_norm_forward(const nbk_norm_args *a, void *y, double *stats, int nthreads);
/* From stats and g (rows, cols): gx (rows, cols), gw and gb (cols,), each NULL when not wanted.
 * gw and gb are sums over rows taken in row order, so they do not depend on nthreads. */
void nbk_cpu_norm_backward(const nbk_norm_args *a, const double *stats, const void *g, void *gx, void *gw,
                           void *gb, int nthreads);

#endif /* NB_KERNELS_CPU_NORM_H */
