/* adam.c — Adam and AdamW: torch.optim.Adam and torch.optim.AdamW's update rules (PyTorch 1.13,
 * _single_tensor_adam / _single_tensor_adamw, amsgrad off), step for step, with t the
 * parameter's own step count (starting at 1 on its first step with a grad):
 *
 *   AdamW only: p = p * (1 - lr * weight_decay)
 *   Adam only:  g = grad + weight_decay * p (else g = grad)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps        (eps after the bias correction, as PyTorch)
 *   p = p - lr / (1 - beta1^t) * m / denom
 *
 * Zero betas and eps in nb_adam_options stand for PyTorch's defaults (0.9, 0.999, 1e-8); lr and
 * weight_decay are taken as given.
 *
 * A step allocates one temporary per parameter: it holds g (with weight decay), then g * g, then
 * denom, then m / denom. */
#include "optimizer.h"

#include "../error.h"
#include "../graph.h"

#include <math.h>

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

typedef struct adam_optimizer {
    nb_optimizer base; /* first: the shared part */
    nb_adam_options o; /* with defaults filled in; o.lr is unused: base.lr is the current rate */
    bool decoupled;    /* AdamW */
} adam_optimizer;

static bool adam_step_param(nb_optimizer *opt, nb_tensor *p, const nb_tensor *grad, nb_optim_state *state)
{
    if (nb__graph_capturing())
        return nb__fail(NB_ERR_ARGUMENT, "nb_optimizer_step (%s): its bias correction depends on the "
                        "step count, which a replay would not advance; capture steps with SGD, or "
                        "run Adam eagerly", opt->vt->name),
               false;
    const adam_optimizer *a = (const adam_optimizer *)opt;
    const nb_adam_options *o = &a->o;
    const double lr = opt->lr;
    if (!state->slots[0]) {
        state->slots[0] = nb__optim_like(p);
        state->slots[1] = nb__optim_like(p);
        if (!state->slots[0] || !state->slots[1] ||
            !nb__optim_apply(NB_EW_FILL, state->slots[0], 0, NULL, NULL, 0) ||
            !nb__optim_apply(NB_EW_FILL, state->slots[1], 0, NULL, NULL, 0)) {
            nb_release(state->slots[0]);
            nb_release(state->slots[1]);
            state->slots[0] = state->slots[1] = NULL;
            return false;
        }
    }
    nb_tensor *m = state->slots[0], *v = state->slots[1]; /* shaped like p */
    nb_tensor *tmp = nb__optim_like(p);                   /* shaped like p */
    if (!tmp) return false;
    state->step++;

    bool ok = true;
    if (a->decoupled && o->weight_decay != 0) ok = nb__optim_apply(NB_EW_MUL_SCALAR, p, 1, p, NULL, 1 - lr * o->weight_decay);
    const nb_tensor *g = grad;
    if (ok && !a->decoupled && o->weight_decay != 0) {
        ok = nb__optim_apply(NB_EW_AXPY, tmp, 2, grad, p, o->weight_decay);
        g = tmp;
    }
    ok = ok && nb__optim_apply(NB_EW_MUL_SCALAR, m, 1, m, NULL, o->beta1) &&
         nb__optim_apply(NB_EW_AXPY, m, 2, m, g, 1 - o->beta1) &&
         nb__optim_apply(NB_EW_MUL, tmp, 2, g, g, 0) && /* g * g (tmp may be g itself) */
         nb__optim_apply(NB_EW_MUL_SCALAR, v, 1, v, NULL, o->beta2) &&
         nb__optim_apply(NB_EW_AXPY, v, 2, v, tmp, 1 - o->beta2);

    const double t = (double)state->step;
    const double bias_correction1 = 1 - pow(o->beta1, t);
    const double bias_correction2 = 1 - pow(o->beta2, t);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = sqrt(bias_correction2);
    ok = ok && nb__optim_apply(NB_EW_SQRT, tmp, 1, v, NULL, 0) &&
         nb__optim_apply(NB_EW_DIV_SCALAR, tmp, 1, tmp, NULL, bias_correction2_sqrt) &&
         nb__optim_apply(NB_EW_ADD_SCALAR, tmp, 1, tmp, NULL, o->eps) &&
         nb__optim_apply(NB_EW_DIV, tmp, 2, m, tmp, 0) && /* m / denom */
         nb__optim_apply(NB_EW_AXPY, p, 2, p, tmp, -step_size);
    nb_release(tmp);
    return ok;
}

static const nb_optimizer_vtable adam_vtable = {"Adam", adam_step_param};
static const nb_optimizer_vtable adamw_vtable = {"AdamW", adam_step_param};

static nb_optimizer *adam_new(const char *op, nb_params *params, nb_adam_options o, bool decoupled)
{
    if (o.beta1 == 0) o.beta1 = ADAM_BETA1;
    if (o.beta2 == 0) o.beta2 = ADAM_BETA2;
    if (o.eps == 0) o.eps = ADAM_EPS;
    if (!nb__optim_check_option(op, "lr", o.lr, false) || !nb__optim_check_option(op, "eps", o.eps, false) ||
        !nb__optim_check_option(op, "beta1", o.beta1, true) || !nb__optim_check_option(op, "beta2", o.beta2, true) ||
        !nb__optim_check_option(op, "weight_decay", o.weight_decay, false))
        return NULL;
    adam_optimizer *a = (adam_optimizer *)nb__optimizer_new(op, sizeof *a, decoupled ? &adamw_vtable : &adam_vtable,
                                                            params, o.lr);
    if (!a) return NULL;
    a->o = o;
    a->decoupled = decoupled;
    return &a->base;
}

nb_optimizer *nb_adam_new(nb_params *params, nb_adam_options o) { return adam_new("nb_adam_new", params, o, false); }
nb_optimizer *nb_adamw_new(nb_params *params, nb_adam_options o) { return adam_new("nb_adamw_new", params, o, true); }
