/* optim.h — the CUDA multi-tensor optimizer kernels (optim.cu) behind the CUDA table, over the
 * lists of kernels/optim.h. Plain C; addresses are device addresses; every call queues its
 * kernels on the device's stream and returns without waiting (nothing is read back, so they can
 * be captured). A failure returns its status with a message in nbk_error(). */
#ifndef NB_KERNELS_CUDA_OPTIM_H
#define NB_KERNELS_CUDA_OPTIM_H

#include "../optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Advances every step count of a (one launch), then steps every tensor of a (one launch). */
nb_status nbk_cuda_adam_step(int device, const nbk_adam_args *a);
/* The fused SGD step of one half parameter (one launch). */
nb_status nbk_cuda_sgd_step(int device, const nbk_sgd_args *a);
/* *acc combined with the list's norm terms: per-block partial results into scratch
 * (NBK_NORM_SCRATCH doubles), then one block combines them in a fixed order. */
nb_status nbk_cuda_grad_norm(int device, const nbk_grad_list *l, double norm_type, double *acc, double *scratch);
/* Every gradient of l scaled by the clip coefficient of the norm *acc gives (one launch). */
nb_status nbk_cuda_grad_scale(int device, const nbk_grad_list *l, const double *acc, double norm_type,
                              double max_norm);

/* The gradient scaler's non-finite check and unscale of every gradient of a (one launch; the
 * flag is set with plain stores of 1). */
nb_status nbk_cuda_grad_unscale(int device, const nbk_unscale_args *a);
/* The scaler's update (one thread of one block). */
nb_status nbk_cuda_scaler_update(int device, const nbk_scaler_update_args *a);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_OPTIM_H */
