/* batch_norm.h — the arguments of batch normalisation, read by every device's kernels
 * (kernels/cpu/batch_norm.c, kernels/cuda/batch_norm.cu). lib/nn/batch_norm.c fills them from
 * tensors.
 *
 * x is seen as (n, c, s): n the batch, c the channels, s the product of the dims after the
 * channel (1 for an (N, C) input). Per channel, over its n * s elements (count):
 *   training: mean = sum(x) / count, var = sum((x - mean)^2) / count (biased: it normalises),
 *             and, where given, running_mean = (1 - momentum) running_mean + momentum mean and
 *             running_var = (1 - momentum) running_var + momentum var * count / (count - 1)
 *             (the unbiased variance), updated in place;
 *   eval:     mean = running_mean, var = running_var.
 * rstd = 1 / sqrt(var + eps), xhat = (x - mean) rstd, y = xhat weight + bias (a missing weight
 * is 1, a missing bias 0).
 * Backward, from g (n, c, s): gweight = sum(g xhat), gbias = sum(g) per channel, and
 *   training: gx = weight rstd (g - mean(g) - xhat mean(g xhat)),
 *   eval:     gx = weight rstd g.
 *
 * Precision, on every device: the two passes (the mean, then the squared deviations from it)
 * and every sum of the backward accumulate in float64, in an order that depends on the shapes
 * only, so results are the same on every run. */
#ifndef NB_KERNELS_BATCH_NORM_H
#define NB_KERNELS_BATCH_NORM_H

#include "nabla.h"

typedef struct nbk_batch_norm_args {
    nb_dtype dtype; /* of x, weight, bias, the running statistics, y and the gradients */
    bool training;
    int64_t n, c, s;
    double eps, momentum;
    const void *x;      /* (n, c, s), contiguous */
    const void *weight; /* (c,), contiguous, or NULL */
    const void *bias;   /* (c,), contiguous, or NULL */
    void *running_mean; /* (c,), contiguous, or NULL (training only; read in eval) */
    void *running_var;  /* (c,), contiguous, or NULL */
} nbk_batch_norm_args;

/* The statistics the forward leaves for the backward: float64 (2, c), row 0 the means, row 1 the
 * rstds. With no elements per channel (n or s 0) nothing is read or written, the running
 * statistics included. */

#endif /* NB_KERNELS_BATCH_NORM_H */
