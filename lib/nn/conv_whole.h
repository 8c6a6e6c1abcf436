/* conv_whole.h — a 2-D convolution in one device call, and the geometry its node and the column
 * nodes keep (conv_whole.c), for lib/nn/conv.c. */
#ifndef NB_NN_CONV_WHOLE_H
#define NB_NN_CONV_WHOLE_H

#include "../../kernels/conv.h"
#include "../autograd/node.h"
#include "nabla.h"

/* A convolution node's geometry (args.conv: the image, window, stride, padding, dilation and
 * windows of g), and back as the kernels' arguments of the given dtype, batch and channels. */
void nb__conv_node_save(nb_node *node, const nbk_conv_args *g);
nbk_conv_args nb__conv_node_geometry(const nb_node *node, nb_dtype dtype, int64_t n, int64_t c);

/* y (N, O, oh, ow) of x (N, C, h, w), the weight (O, C / groups, kh, kw) and the bias (O,) or
 * NULL, all checked, of one floating dtype (float32 or float64) and a device whose table has
 * conv2d_forward; geo gives the sizes (its dtype, image and cols unused). Records
 * ConvolutionBackward. */
nb_tensor *nb__conv2d_whole(const char *op, const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                            const nbk_conv_args *geo, int64_t groups);

#endif /* NB_NN_CONV_WHOLE_H */
