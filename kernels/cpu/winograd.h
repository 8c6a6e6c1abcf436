/* winograd.h — 3x3, stride-1 convolutions by Winograd's F(2x2, 3x3) on the CPU (winograd.c),
 * for the whole convolution of conv2d.c. */
#ifndef NB_KERNELS_CPU_WINOGRAD_H
#define NB_KERNELS_CPU_WINOGRAD_H

#include "../conv.h"

/* Input and output channels below this take the columns' product: the transforms would cost
 * more than the products they save. */
#define NBK_WINOGRAD_MIN_CHANNELS 16

/* Whether a's convolution (forward; or its input's gradient) is one Winograd takes: one group,
 * a 3x3 window, stride and dilation 1, enough channels; for the input's gradient, padding of at
 * most 2 on each side. */
bool nbk_cpu_winograd_applies(const nbk_conv2d_args *a, bool input_gradient);
/* y (n, o, oh, ow) of a's convolution, bias included. NB_OK, or NB_ERR_MEMORY (nbk_error). */
nb_status nbk_cpu_winograd_forward(const nbk_conv2d_args *a, void *y, int max_threads);
/* gw (o, c, 3, 3) from gy (n, o, oh, ow) and x, by the same transforms (the forward's conditions
 * apply). */
nb_status nbk_cpu_winograd_weight_grad(const nbk_conv2d_args *a, const void *gy, void *gw, int max_threads);
/* gx (n, c, h, w) from gy (n, o, oh, ow). */
nb_status nbk_cpu_winograd_input_grad(const nbk_conv2d_args *a, const void *gy, void *gx, int max_threads);

#endif /* NB_KERNELS_CPU_WINOGRAD_H */
