/* norm.h — the arguments of layer normalisation and RMS normalisation, read by every device's
 * kernels (kernels/cpu/norm.c, kernels/cuda/norm.cu). lib/nn/norm.c fills them from tensors.
 *
 * x is seen as (rows, cols): cols is the product of the normalised dims, rows everything before.
 * Per row:
 *   layer norm: mean = sum(x) / cols, var = sum((x - mean)^2) / cols (biased, as PyTorch's),
 *               rstd = 1 / sqrt(var + eps), xhat = (x - mean) * rstd, y = xhat * w + b;
 *   RMS norm:   mean = 0, rstd = 1 / sqrt(sum(x^2) / cols + eps), xhat = x * rstd, y = xhat * w.
 * A missing weight is 1, a missing bias 0.
 *
 * Precision, on every device: the two passes (the mean, then the squared deviations from it)
 * accumulate in float64, and the order of every addition depends on the shapes only, so results
 * are the same on every run. y is formed in float64 on the GPU; on the CPU in the element type
 * as ((x - hi) - lo) * rstd * w + b with mean = hi + lo split in that type, so x - mean is
 * rounded relative to its own size however far the values lie from zero. */
#ifndef NB_KERNELS_NORM_H
#define NB_KERNELS_NORM_H

#include "nabla.h"

typedef struct nbk_norm_args {
    nb_dtype dtype;     /* of x, weight, bias, y and the gradients: float32 or float64 */
    bool rms;           /* RMS norm: no mean is taken out and there is no bias */
    int64_t rows, cols;
    double eps;
    const void *x;      /* (rows, cols), contiguous */
    const void *weight; /* (cols,), contiguous, or NULL */
    const void *bias;   /* (cols,), contiguous, or NULL */
} nbk_norm_args;

/* The statistics the forward leaves for the backward: float64 (2, rows), row 0 the means (0 for
 * RMS norm), row 1 the rstds. With no elements (rows or cols 0) nothing is written or read. */

#endif /* NB_KERNELS_NORM_H */
