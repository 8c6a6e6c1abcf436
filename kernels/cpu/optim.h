/* optim.h — the CPU's multi-tensor optimizer kernels (optim.c) over the lists of
 * kernels/optim.h. */
#ifndef NB_KERNELS_CPU_OPTIM_H
#define NB_KERNELS_CPU_OPTIM_H

#include "../optim.h"

/* Advances each tensor's step count and applies the Adam/AdamW rule to it. */
void nbk_cpu_adam_step(const nbk_adam_args *a);
/* The fused SGD step of one half parameter. */
void nbk_cpu_sgd_step(const nbk_sgd_args *a);
/* *acc combined with the sum of |g|^p (p 2, 1 or other; the largest |g| for p infinite). */
void nbk_cpu_grad_norm(const nbk_grad_list *l, double norm_type, double *acc);
/* Every gradient scaled by the clip coefficient of the norm *acc gives (when below 1). */
void nbk_cpu_grad_scale(const nbk_grad_list *l, const double *acc, double norm_type, double max_norm);
/* The gradient scaler's non-finite check and unscale of a list, one pass over each gradient. */
void nbk_cpu_grad_unscale(const nbk_unscale_args *a);

#endif /* NB_KERNELS_CPU_OPTIM_H */
