/* pool.h — the CUDA kernels of 2-D pooling, forward and backward, behind the CUDA table
 * (pool.cu). Plain C; the layout and the windows are those of kernels/pool.h. Addresses are
 * device addresses; every call queues its kernel on the device's stream and returns without
 * waiting. A failure returns its status with a message in nbk_error(). */
#ifndef NB_KERNELS_CUDA_POOL_H
#define NB_KERNELS_CUDA_POOL_H

#include "../pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y (planes, out_h, out_w) from x; indices of y's shape for max pooling (NULL otherwise). */
nb_status nbk_cuda_pool_forward(int device, const nbk_pool_args *a, const void *x, void *y, int64_t *indices);
/* gx (planes, in_h, in_w) from g (planes, out_h, out_w) and max pooling's indices. */
nb_status nbk_cuda_pool_backward(int device, const nbk_pool_args *a, const void *g, const int64_t *indices,
                                 void *gx);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_POOL_H */
