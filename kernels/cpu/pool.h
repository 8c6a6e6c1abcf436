/* pool.h — the CPU kernels of 2-D pooling, forward and backward, over the layout of
 * kernels/pool.h. */
#ifndef NB_KERNELS_CPU_POOL_H
#define NB_KERNELS_CPU_POOL_H

#include "../pool.h"

/* y (planes, out_h, out_w) from x (planes, in_h, in_w); indices of the same shape as y for max
 * pooling (NULL otherwise). */
void nbk_cpu_pool_forward(const nbk_pool_args *a, const void *x, void *y, int64_t *indices, int nthreads);
/* gx (planes, in_h, in_w) from g (planes, out_h, out_w) and, for max pooling, the indices
 * (NB_ERR_MEMORY when its scratch cannot be had). */
nb_status nbk_cpu_pool_backward(const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx,
                                int nthreads);

#endif /* NB_KERNELS_CPU_POOL_H */
