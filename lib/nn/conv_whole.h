/* conv_whole.h — a 2-D convolution in one device call (conv_whole.c), for lib/nn/conv.c. */
#ifndef NB_NN_CONV_WHOLE_H
#define NB_NN_CONV_WHOLE_H

#include "../../kernels/conv.h"
#include "nabla.h"

/* y (N, O, oh, ow) of x (N, C, h, w), the weight (O, C / groups, kh, kw) and the bias (O,) or
 * NULL, all checked, of one floating dtype (float32 or float64) and a device whose table has
 * conv2d_forward; geo gives the sizes (its dtype, image and cols unused). Records
 * ConvolutionBackward. */
nb_tensor *nb__conv2d_whole(const char *op, const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                            const nbk_conv_args *geo, int64_t groups);

#endif /* NB_NN_CONV_WHOLE_H */
