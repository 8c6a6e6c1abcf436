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
 * stepped too) and its own state, made on each parameter's first step. Every parameter must be a
 * float32 or float64 leaf. Invalid options are refused (NULL and NB_ERR_ARGUMENT naming the option). */
NB_API nb_optimizer *nb_sgd_new(nb_params *params, nb_sgd_options opts);
NB_API nb_optimizer *nb_adam_new(nb_params *params, nb_adam_options opts);
NB_API nb_optimizer *nb_adamw_new(nb_params *params, nb_adam_options opts);
NB_API nb_status nb_optimizer_step(nb_optimizer *opt);
/* Releases every parameter's .grad (PyTorch's zero_grad(set_to_none=True)): the next backward
 * stores fresh gradients rather than adding into zeroed ones. nb_params_zero_grad zeroes in place. */
NB_API void nb_optimizer_zero_grad(nb_optimizer *opt);
/* For schedules; lr < 0 is refused. */
NB_API void nb_optimizer_set_lr(nb_optimizer *opt, double lr);
NB_API double nb_optimizer_lr(const nb_optimizer *opt);
NB_API void nb_optimizer_free(nb_optimizer *opt); /* NULL does nothing */

#ifdef __cplusplus
}
#endif

#endif /* NABLA_OPTIM_H */
