/* conv.h — the arguments of the kernels behind convolution (lib/nn/conv.c): the column kernels
 * every device has (im2col and col2im: kernels/cpu/conv.c, kernels/cuda/conv.cu), and the whole
 * convolution in one call where a device has it (kernels/cpu/conv2d.c).
 *
 * The image is (n, c, h, w) and the columns (n, c·kh·kw, oh·ow), both dense and row-major, of one
 * dtype (float32 or float64). Column row (ci·kh + i)·kw + j, column (y·ow + x) holds the image at
 * (ci, y·sh - ph + i·dh, x·sw - pw + j·dw), or 0 where that falls in the padding. ph and pw pad the
 * top and the left; oh and ow, given, fix how far the windows reach to the bottom and the right (so
 * an asymmetric padding, as PyTorch's "same" with an even kernel, needs nothing more).
 *
 * im2col writes every column element. col2im writes every image element: the sum, over the
 * windows in a fixed order (i, then j), of the column elements that read it, so the result
 * depends on the shapes only (no atomics). */
#ifndef NB_KERNELS_CONV_H
#define NB_KERNELS_CONV_H

#include "nabla.h"

#include <stdint.h>

typedef struct nbk_conv_args {
    nb_dtype dtype;
    int64_t n, c, h, w;     /* the image (n, c, h, w) */
    int64_t kh, kw;         /* the window */
    int64_t sh, sw;         /* stride */
    int64_t ph, pw;         /* padding at the top and the left */
    int64_t dh, dw;         /* dilation */
    int64_t oh, ow;         /* windows down and across */
    void *image;            /* (n, c, h, w): im2col reads it, col2im writes it */
    void *cols;             /* (n, c·kh·kw, oh·ow): im2col writes it, col2im reads it */
} nbk_conv_args;

/* A whole 2-D convolution: y (n, o, oh, ow) = the weight times the columns of x, per group, plus
 * the bias. geo holds the image's and windows' sizes (its image and cols are unused); the input
 * channels geo.c and the outputs o divide into groups. All of one dtype, dense and row-major. */
typedef struct nbk_conv2d_args {
    nbk_conv_args geo;
    int64_t o, groups;
    const void *x;      /* (n, c, h, w) */
    const void *weight; /* (o, c / groups, kh, kw) */
    const void *bias;   /* (o,), or NULL */
} nbk_conv2d_args;

#endif /* NB_KERNELS_CONV_H */
