/* optim.h — the optimizers' multi-tensor kernels, read by every device: one Adam/AdamW step over a
 * list of parameters, and the gradient norm and scale of gradient clipping. One call covers up to
 * NBK_MULTI_MAX tensors of one dtype on one device (lib/ splits longer lists), so a device can do
 * each in a launch or two instead of one per tensor. Every tensor is contiguous, of numel
 * elements. Also the arithmetic both devices share (inline, for the host and the device). */
#ifndef NB_KERNELS_OPTIM_H
#define NB_KERNELS_OPTIM_H

#include "half.h"
#include "nabla.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __CUDACC__
#define NBK_OPTIM_HD __host__ __device__
#else
#define NBK_OPTIM_HD
#endif

#define NBK_MULTI_MAX 64      /* tensors per call (a CUDA launch takes them in its 4 KB of arguments) */
#define NBK_NORM_SCRATCH 1024 /* doubles of scratch a gradient norm may use (the GPU's partial sums) */

/* One parameter of an Adam step: param, grad, exp_avg and exp_avg_sq of numel elements each, and
 * its step count (a double on the device). */
typedef struct nbk_adam_tensor {
    void *param;
    const void *grad;
    void *exp_avg, *exp_avg_sq;
    double *step;
    int64_t numel;
} nbk_adam_tensor;

/* torch.optim.Adam / AdamW (PyTorch 1.13's single-tensor rule, amsgrad off) over n tensors of
 * dtype (float32, float64, float16 or bfloat16; param, grad, exp_avg and exp_avg_sq all of it).
 * Each tensor's step count is first advanced by one; with t that count, the rule of
 * lib/optim/adam.c runs in the tensor's dtype (scalars converted to it), a half tensor's in
 * float32, rounding p, m and v once each to nearest even. The
 * rate is read where the kernel runs, from a double on the tensors' device (as the step counts),
 * so a replayed launch uses the rate written there before it. */
typedef struct nbk_adam_args {
    nb_dtype dtype;
    int n;
    nbk_adam_tensor t[NBK_MULTI_MAX];
    const double *lr; /* the rate: one double on the device */
    double beta1, beta2, eps, weight_decay;
    bool decoupled; /* AdamW */
    /* the gradient scaler's flag (one float on the device), or NULL: where it is nonzero when the
     * kernel runs, nothing changes (no parameter, moment or step count) */
    const float *found_inf;
} nbk_adam_args;

/* n gradients of dtype (float32, float64, float16 or bfloat16), scaled in place by clipping (a
 * half gradient in float32, rounded once). */
typedef struct nbk_grad_list {
    nb_dtype dtype;
    int n;
    void *grad[NBK_MULTI_MAX];
    int64_t numel[NBK_MULTI_MAX];
} nbk_grad_list;

/* torch.optim.SGD's rule (lib/optim/sgd.c) fused into one pass over one parameter of dtype
 * float16 or bfloat16 (float32 and float64 step through the elementwise kernels): each element
 * in float32, op for op as float32's unfused rule, with p and the momentum buffer rounded once. */
typedef struct nbk_sgd_args {
    nb_dtype dtype;
    void *param;
    const void *grad;
    void *momentum_buffer; /* NULL when momentum is 0 */
    int64_t numel;
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
    bool first; /* the buffer's first step: it is set to the direction, not decayed */
} nbk_sgd_args;

/* What a tensor's step needs besides its elements: the bias corrections of step count t. */
typedef struct nbk_adam_coef {
    double step_size;             /* lr / (1 - beta1^t) */
    double bias_correction2_sqrt; /* sqrt(1 - beta2^t) */
} nbk_adam_coef;

static inline NBK_OPTIM_HD nbk_adam_coef nbk_adam_coef_at(double lr, double beta1, double beta2, double t)
{
    nbk_adam_coef c;
    c.step_size = lr / (1 - pow(beta1, t));
    c.bias_correction2_sqrt = sqrt(1 - pow(beta2, t));
    return c;
}

/* The norm from what the gradient norm accumulates: the sum of |g|^p (the largest |g| for p
 * infinite). */
static inline NBK_OPTIM_HD double nbk_grad_norm_of(double acc, double norm_type)
{
    if (isinf(norm_type)) return acc;
    if (norm_type == 2) return sqrt(acc);
    if (norm_type == 1) return acc;
    return pow(acc, 1.0 / norm_type);
}

/* torch's clip coefficient: max_norm / (norm + 1e-6), at most 1 (NaN stays NaN). */
static inline NBK_OPTIM_HD double nbk_clip_coef(double norm, double max_norm)
{
    const double c = max_norm / (norm + 1e-6);
    return c > 1 ? 1 : c;
}

/* What one element adds to the accumulator of a norm of order p: |g|^p, or |g| when p is 1 or
 * infinite (combined by max). */
static inline NBK_OPTIM_HD double nbk_norm_term(double g, double norm_type)
{
    const double a = fabs(g);
    if (norm_type == 2) return a * a;
    if (norm_type == 1 || isinf(norm_type)) return a;
    return pow(a, norm_type);
}

/* The largest of a and b, NaN when either is (as torch's max). */
static inline NBK_OPTIM_HD double nbk_nan_max(double a, double b)
{
    if (a != a || b != b) return a != a ? a : b;
    return a > b ? a : b;
}

/* ---------------------------------------------------------------- the gradient scaler
 * (torch.cuda.amp.GradScaler, lib/optim/grad_scaler.c): its scale (a float), growth tracker (an
 * int64) and found-inf flags (floats) live on the gradients' device and are read and written
 * only there, so none of its calls reads anything back. */

#define NBK_SCALER_FLAGS 16 /* the found-inf flags one update combines (optimizers per step) */

/* torch's _amp_foreach_non_finite_check_and_unscale_ over a list of float32, float64 or
 * bfloat16 gradients: *found_inf = 1 when any element is Inf or NaN (it is never cleared here),
 * and every element is multiplied by inv_scale = float32(1 / double(*scale)) (a bfloat16 one in
 * float32, rounded once). */
typedef struct nbk_unscale_args {
    nbk_grad_list l;
    const float *scale;
    float *found_inf;
} nbk_unscale_args;

/* torch's _amp_update_scale_: one update of the scale and its growth tracker from the sum of n
 * found-inf flags. */
typedef struct nbk_scaler_update_args {
    float *scale;
    int64_t *growth_tracker;
    int n;
    const float *found_inf[NBK_SCALER_FLAGS];
    double growth_factor, backoff_factor;
    int64_t growth_interval;
} nbk_scaler_update_args;

/* The factor unscaling multiplies by: PyTorch's scale.double().reciprocal().float(). */
static inline NBK_OPTIM_HD float nbk_inv_scale(float scale) { return (float)(1.0 / (double)scale); }

/* One gradient element unscaled (torch leaves it as it is when inv_scale is 1). */
static inline NBK_OPTIM_HD float nbk_unscale_f32(float g, float inv_scale) { return inv_scale == 1.0f ? g : g * inv_scale; }
static inline NBK_OPTIM_HD double nbk_unscale_f64(double g, float inv_scale)
{
    return inv_scale == 1.0f ? g : g * (double)inv_scale;
}
/* A bfloat16 gradient's bits unscaled in float32 and rounded once. */
static inline NBK_OPTIM_HD uint16_t nbk_unscale_bf16(uint16_t g, float inv_scale)
{
    return inv_scale == 1.0f ? g : nbk_f32_to_bf16(nbk_bf16_to_f32(g) * inv_scale);
}

/* The update itself, on the values where it runs (aten's amp_update_scale kernels): after a
 * non-finite gradient the scale backs off and the tracker restarts; otherwise the tracker counts
 * the step, and at growth_interval successful steps the scale grows (unless that overflows
 * float32) and the tracker restarts. */
static inline NBK_OPTIM_HD void nbk_scaler_update_at(const nbk_scaler_update_args *a)
{
    float found = 0;
    for (int k = 0; k < a->n; k++) found += *a->found_inf[k];
    if (found != 0) {
        *a->scale = (float)(*a->scale * a->backoff_factor);
        *a->growth_tracker = 0;
        return;
    }
    const int64_t successful = *a->growth_tracker + 1;
    if (successful == a->growth_interval) {
        const float grown = (float)(*a->scale * a->growth_factor);
        if (isfinite(grown)) *a->scale = grown;
        *a->growth_tracker = 0;
    } else {
        *a->growth_tracker = successful;
    }
}

#endif /* NB_KERNELS_OPTIM_H */
