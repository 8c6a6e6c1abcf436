/* conv.h — the CUDA column kernels of convolution behind the CUDA table (conv.cu). Plain C; the
 * layout is kernels/conv.h's. Addresses are device addresses; each call queues its kernel on the
 * device's stream and returns without waiting. A failure returns its status with a message in
 * nbk_error(). */
#ifndef NB_KERNELS_CUDA_CONV_H
#define NB_KERNELS_CUDA_CONV_H

#include "../conv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* a->cols (n, c·kh·kw, oh·ow) from a->image (n, c, h, w). */
nb_status nbk_cuda_im2col(int device, const nbk_conv_args *a);
/* a->image (n, c, h, w), each element the sum of the column elements that read it (gather form). */
nb_status nbk_cuda_col2im(int device, const nbk_conv_args *a);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_CONV_H */
