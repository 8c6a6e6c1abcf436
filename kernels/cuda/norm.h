/* norm.h — the CUDA kernels of layer and RMS normalisation, forward and backward, behind the CUDA
 * table (norm.cu). Plain C; the layout, the formulas and the precision are those of
 * kernels/norm.h. Addresses are device addresses; every call queues its kernels on the device's
 * stream and returns without waiting. A failure returns its status with a message in nbk_error(). */
#ifndef NB_KERNELS_CUDA_NORM_H
#define NB_KERNELS_CUDA_NORM_H

#include "../norm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y (rows, cols) of a's dtype and stats (2, rows): the means, then the rstds. */
nb_status nbk_cuda_norm_forward(int device, const nbk_norm_args *a, void *y, double *stats);
/* From stats and g (rows, cols): gx (rows, cols), gw and gb (cols,), each NULL when not wanted. */
nb_status nbk_cuda_norm_backward(int device, const nbk_norm_args *a, const double *stats, const void *g,
                                 void *gx, void *gw, void *gb);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_NORM_H */
