/* conv.h — the CPU column kernels of convolution, over the layout of kernels/conv.h. */
#ifndef NB_KERNELS_CPU_CONV_H
#define NB_KERNELS_CPU_CONV_H

#include "../conv.h"

/* a->cols (n, c·kh·kw, oh·ow) from a->image (n, c, h, w). */
void nbk_cpu_im2col(const nbk_conv_args *a, int nthreads);
/* a->image (n, c, h, w): each element the sum of the column elements that read it, in a fixed order. */
void nbk_cpu_col2im(const nbk_conv_args *a, int nthreads);

#endif /* NB_KERNELS_CPU_CONV_H */
