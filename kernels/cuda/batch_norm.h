/* batch_norm.h — the CUDA kernels of batch normalisation, forward and backward, behind the CUDA
 * table (batch_norm.cu). Plain C; the layout, the formulas and the precision are those of
 * kernels/batch_norm.h. Addresses are device addresses; every call queues its kernels on the
 * device's stream and returns without waiting. A failure returns its status with a message in
 * nbk_error(). */
#ifndef NB_KERNELS_CUDA_BATCH_NORM_H
#define NB_KERNELS_CUDA_BATCH_NORM_H

#include "../batch_norm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y (n, c, s) of a's dtype and stats (2, c); when training, the running statistics given are
 * updated. */
nb_status nbk_cuda_batch_norm_forward(int device, const nbk_batch_norm_args *a, void *y, double *stats);
/* From stats and g (n, c, s): gx (n, c, s), gw and gb (c,), each NULL when not wanted. */
nb_status nbk_cuda_batch_norm_backward(int device, const nbk_batch_norm_args *a, const double *stats,
                                       const void *g, void *gx, void *gw, void *gb);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_BATCH_NORM_H */
