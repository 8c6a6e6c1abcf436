/* nabla/optim.h — optimizers with PyTorch's exact update rules (included by nabla.h).
 * Steps run without recording (no-grad) on each parameter's .grad; parameters without a .grad
 * are skipped, as in PyTorch. */
#ifndef NABLA_OPTIM_H
#define NABLA_OPTIM_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_optimizer nb_optimizer;

/* torch.optim.SGD: lr, momentum (0: none), dampening, weight_decay (L2, added to the gradient),
 * nesterov (needs momentum > 0 and dampening 0). lr, momentum and weight_decay must be >= 0. */
typedef struct nb_sgd_options {
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
} nb_sgd_options;

/* torch.optim.Adam / AdamW: lr (PyTorch's default is 1e-3; lr is taken as given, 0 included),
 * betas, eps, weight_decay (Adam: L2 on the gradient; AdamW: decoupled, lr * weight_decay * param;
 * 0 means none for both, where PyTorch's AdamW defaults to 1e-2). Zero betas and eps are replaced
 * by PyTorch's defaults (0.9, 0.999, 1e-8), so designated inits such as
 * (nb_adam_options){.lr = 1e-3} work; a beta or eps of exactly 0 therefore cannot be asked for
 * (use a tiny value such as 1e-12). Betas must be in [0, 1); lr, eps and weight_decay >= 0. */
typedef struct nb_adam_options {
    double lr, beta1, beta2, eps, weight_decay;
} nb_adam_options;

/* The optimizer keeps a reference to params (which must outlive it; parameters added later are
 * stepped too) and its own state, made on each parameter's first step (of the parameter's dtype).
 * Every parameter must be a float32, float64, float16 or bfloat16 leaf; a half parameter's step
 * computes each element in float32 and rounds it and its state once. Invalid options are refused
 * (NULL and NB_ERR_ARGUMENT naming the option). */
NB_API nb_optimizer *nb_sgd_new(nb_params *params, nb_sgd_options opts);
NB_API nb_optimizer *nb_adam_new(nb_params *params, nb_adam_options opts);
NB_API nb_optimizer *nb_adamw_new(nb_params *params, nb_adam_options opts);
/* Parameter groups (torch.optim's param_groups): each group's parameters are stepped with its own
 * lr and weight_decay, where a value < 0 or NaN stands for the optimizer's (opts.lr,
 * opts.weight_decay), so {params, -1, 0} keeps the default rate and turns decay off (biases,
 * norms, embeddings). n >= 1 groups; a parameter may be in one group only. The constructors
 * above make one group of params. */
typedef struct nb_param_group {
    nb_params *params; /* borrowed, as above */
    double lr, weight_decay;
} nb_param_group;
NB_API nb_optimizer *nb_sgd_new_groups(int n, const nb_param_group *groups, nb_sgd_options opts); /* SGD */
NB_API nb_optimizer *nb_adam_new_groups(int n, const nb_param_group *groups, nb_adam_options opts); /* Adam */
NB_API nb_optimizer *nb_adamw_new_groups(int n, const nb_param_group *groups, nb_adam_options opts); /* AdamW */
NB_API int nb_optimizer_group_count(const nb_optimizer *opt); /* 1 for the single-list constructors */
/* The current rate of group (0 .. count - 1); NaN (and an error) for no such group. */
NB_API double nb_optimizer_group_lr(const nb_optimizer *opt, int group);
/* Sets group's rate (lr >= 0); Adam's copy on the device is rewritten too (queued in order with
 * its steps). Refused during a graph capture, as are nb_optimizer_set_lr and
 * nb_optimizer_schedule_step: set rates before the capture or between replays. */
NB_API nb_status nb_optimizer_set_group_lr(nb_optimizer *opt, int group, double lr);
/* One step over every group. Adam and AdamW keep each parameter's step count and each group's
 * rate on the parameters' device (as PyTorch's capturable optimizers with a tensor lr), so their
 * steps can be captured and replayed as a CUDA graph (nabla/cuda.h) and a replay uses the rates
 * set before it (nb_optimizer_set_lr, nb_optimizer_set_group_lr, nb_optimizer_schedule_step).
 * SGD passes its rate by value: a replayed SGD step keeps the rates of its capture. */
NB_API nb_status nb_optimizer_step(nb_optimizer *opt);
/* Releases every parameter's .grad (PyTorch's zero_grad(set_to_none=True)): the next backward
 * stores fresh gradients rather than adding into zeroed ones. nb_params_zero_grad zeroes in place. */
NB_API void nb_optimizer_zero_grad(nb_optimizer *opt);
/* Sets every group's rate; lr < 0 is refused, and so is a call during a graph capture. */
NB_API void nb_optimizer_set_lr(nb_optimizer *opt, double lr);
NB_API double nb_optimizer_lr(const nb_optimizer *opt); /* group 0's rate */
NB_API void nb_optimizer_free(nb_optimizer *opt); /* NULL does nothing */

/* ---------------------------------------------------------------- gradient clipping */

/* torch.nn.utils.clip_grad_norm_ (error_if_nonfinite=False): the norm of order norm_type (> 0;
 * INFINITY for the largest magnitude) of all the parameters' gradients together, as if
 * concatenated; when max_norm / (norm + 1e-6) < 1 every gradient is scaled in place by it (a
 * float16 or bfloat16 one in float32, rounded once). Parameters without a grad are skipped (no grads: 0). Returns the norm, or NaN with an error;
 * during a CUDA graph capture the work is queued and NaN returned with no error (use
 * nb_clip_grad_norm_tensor_ there). */
NB_API double nb_clip_grad_norm_(nb_params *params, double max_norm, double norm_type);
/* The same, returning the norm as a 0-d tensor on the gradients' device, of the first
 * gradient's dtype (a 0-d float32 on the CPU when no parameter has a grad), computed and applied
 * without reading it back: safe inside a capture. The gradients must share one device. */
NB_API nb_tensor *nb_clip_grad_norm_tensor_(nb_params *params, double max_norm, double norm_type);

/* ---------------------------------------------------------------- learning-rate schedules
 *
 * A schedule is a pure function of the step (torch's last_epoch: 0 before the first
 * scheduler.step()) and a group's base rate, giving torch.optim.lr_scheduler's values in closed
 * form (equal to stepping the torch scheduler to that step, up to rounding):
 *   NB_LR_STEP    StepLR(step_size, gamma):   base * gamma^floor(step / step_size)
 *   NB_LR_LINEAR  LinearLR(start_factor, end_factor, total_iters):
 *                 base * (start + (end - start) * min(step, total_iters) / total_iters)
 *   NB_LR_COSINE  CosineAnnealingLR(T_max, eta_min):
 *                 eta_min + (base - eta_min) * (1 + cos(pi * step / T_max)) / 2
 *   NB_LR_WARMUP_COSINE  linear warmup over warmup_steps from start_factor * base to base, then
 *                 cosine decay to eta_min at total_steps: for step < warmup_steps
 *                 base * (start + (1 - start) * step / warmup_steps), then
 *                 eta_min + (base - eta_min) * (1 + cos(pi * (step - warmup_steps) /
 *                 (total_steps - warmup_steps))) / 2. This is torch's
 *                 SequentialLR(opt, [LinearLR(opt, start_factor, 1.0, warmup_steps),
 *                 CosineAnnealingLR(opt, total_steps - warmup_steps, eta_min)], [warmup_steps])
 *                 (start_factor in (0, 1]; with start_factor 0, which LinearLR refuses, it is
 *                 LambdaLR's step / warmup_steps warmup followed by the same cosine).
 * Like torch's, the cosines continue past T_max (rising again). */
typedef enum nb_lr_schedule_kind {
    NB_LR_CONSTANT, /* base */
    NB_LR_STEP,
    NB_LR_LINEAR,
    NB_LR_COSINE,
    NB_LR_WARMUP_COSINE,
} nb_lr_schedule_kind;

typedef struct nb_lr_schedule {
    nb_lr_schedule_kind kind;
    int64_t step_size;         /* STEP: > 0 */
    double gamma;              /* STEP: the factor per step_size steps */
    double start_factor;       /* LINEAR: in (0, 1]; WARMUP_COSINE: in [0, 1] */
    double end_factor;         /* LINEAR: in [0, 1] */
    int64_t total_iters;       /* LINEAR: > 0 */
    int64_t t_max;             /* COSINE: > 0 */
    double eta_min;            /* COSINE, WARMUP_COSINE: the floor, an absolute rate */
    int64_t warmup_steps;      /* WARMUP_COSINE: >= 0 */
    int64_t total_steps;       /* WARMUP_COSINE: > warmup_steps */
} nb_lr_schedule;

/* The rate at step (>= 0) for a group whose base rate is base_lr; NaN (and an error naming the
 * field) for an invalid schedule or step. */
NB_API double nb_lr_schedule_at(const nb_lr_schedule *s, double base_lr, int64_t step);
/* Sets every group's rate to nb_lr_schedule_at(s, group's rate at construction, step), as a
 * torch scheduler sets each group from its initial_lr. */
NB_API nb_status nb_optimizer_schedule_step(nb_optimizer *opt, const nb_lr_schedule *s, int64_t step);
/* The step of the last nb_optimizer_schedule_step (0 before any; kept by checkpoints). */
NB_API int64_t nb_optimizer_last_schedule_step(const nb_optimizer *opt);

/* ---------------------------------------------------------------- gradient scaling
 *
 * torch.cuda.amp.GradScaler for any device: the loss is multiplied by a scale before backward
 * so that small float16 gradients do not flush to zero; before the step the gradients are divided
 * by it again and checked, and a step whose gradients hold an Inf or NaN is skipped while the
 * scale backs off. A loop:
 *
 *     nb_tensor *loss = ...;
 *     nb_backward(nb_grad_scaler_scale(scaler, loss));
 *     nb_grad_scaler_step(scaler, opt);      // unscales, steps unless a grad was Inf or NaN
 *     nb_grad_scaler_update(scaler);         // grows or backs off the scale
 *
 * The scale (a 0-d float32), its growth tracker (a 0-d int64) and one found-inf flag per
 * optimizer (a 0-d float32) live on the loss's device, made by the first nb_grad_scaler_scale and
 * nb_grad_scaler_unscale_ (outside a graph capture); no call but nb_grad_scaler_get_scale reads
 * anything back, and Adam/AdamW decide a skip on the device, so a whole step can be captured and
 * replayed (nabla/cuda.h). SGD's skip is decided on the host (refused during a capture). Unlike
 * PyTorch's, the gradients need not be float32 only: float64 ones are unscaled in float64
 * (optimizers step float32 and float64 parameters; keep float32 parameters and compute in half,
 * as autocast does). An optimizer is known to the scaler by its address. */
typedef struct nb_grad_scaler nb_grad_scaler;

/* GradScaler's arguments; zeros mean PyTorch's defaults: init_scale 65536, growth_factor 2 (> 1),
 * backoff_factor 0.5 (in (0, 1)), growth_interval 2000 (> 0). disabled is PyTorch's
 * enabled=False: every call passes through (scale returns a view of the loss, step is nb_optimizer_step,
 * the scale reads 1). */
typedef struct nb_grad_scaler_options {
    double init_scale, growth_factor, backoff_factor;
    int64_t growth_interval;
    bool disabled;
} nb_grad_scaler_options;

NB_API nb_grad_scaler *nb_grad_scaler_new(nb_grad_scaler_options opts); /* NULL (and an error) for bad options */
/* loss * scale, recorded, so backward gives scaled gradients (the scale made on loss's device on
 * first use); a view of loss when disabled. */
NB_API nb_tensor *nb_grad_scaler_scale(nb_grad_scaler *scaler, const nb_tensor *loss);
/* Once per step per optimizer (before its step, after backward): every gradient of opt's
 * parameters multiplied by 1 / scale in place, and opt's flag set when any holds an Inf or NaN,
 * one fused pass on the device per 64 gradients (bfloat16 ones in float32, rounded once; float16
 * ones are refused, as PyTorch's unscale_ refuses them). A second call before
 * nb_grad_scaler_update is refused; so is a call after nb_grad_scaler_step. */
NB_API nb_status nb_grad_scaler_unscale_(nb_grad_scaler *scaler, nb_optimizer *opt);
/* opt's step, after unscaling if nb_grad_scaler_unscale_ was not called this step; the step
 * changes nothing (parameters, moments, step counts) when a gradient was Inf or NaN. Once per
 * optimizer per step. */
NB_API nb_status nb_grad_scaler_step(nb_grad_scaler *scaler, nb_optimizer *opt);
/* torch's _amp_update_scale_, on the device: after any optimizer's non-finite gradients the scale
 * is multiplied by backoff_factor and the tracker reset; else after growth_interval steps in a
 * row without them it is multiplied by growth_factor (unless that overflows float32). Needs an
 * unscale (or step) since the last update. */
NB_API nb_status nb_grad_scaler_update(nb_grad_scaler *scaler);
/* The current scale, read back (init_scale before the first scale; 1 when disabled); NaN with
 * an error during a graph capture. */
NB_API double nb_grad_scaler_get_scale(const nb_grad_scaler *scaler);
/* The scale itself, a 0-d float32 on the device, owned by the scaler (borrowed: do not release;
 * it is the same tensor for the scaler's life, so a replay's value can be read from it); NULL
 * before the first nb_grad_scaler_scale and when disabled. */
NB_API nb_tensor *nb_grad_scaler_get_scale_tensor(const nb_grad_scaler *scaler);
NB_API void nb_grad_scaler_free(nb_grad_scaler *scaler); /* NULL does nothing */

#ifdef __cplusplus
}
#endif

#endif /* NABLA_OPTIM_H */
