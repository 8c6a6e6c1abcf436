/* adam.c — Adam and AdamW: torch.optim.Adam and torch.optim.AdamW's update rules (PyTorch 1.13,
 * _single_tensor_adam / _single_tensor_adamw, amsgrad off), step for step, with t the
 * parameter's own step count (starting at 1 on its first step with a grad), and lr and
 * weight_decay those of the parameter's group:
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
 * A step is fused: the device's adam_step kernel (kernels/optim.h) updates up to NBK_MULTI_MAX
 * parameters of one dtype and device per call, each element in one pass, rounding as the
 * unfused rule's ops did (a float16 or bfloat16 parameter's, with state of its dtype: computed
 * in float32, p, m and v rounded once each). Each parameter's step count is a 0-d float64 on its device that the
 * kernel advances, and each group's rate a 0-d float64 on the device that the kernel reads
 * (rewritten by nb_optimizer_set_lr and the schedules), so nothing on the host changes from step
 * to step, a captured step replays correctly and a replay uses the rate set before it. A
 * non-contiguous parameter or grad is stepped through a contiguous copy. Under the gradient
 * scaler the kernel also reads its found-inf flag and, where it is set, changes nothing. */
#include "optimizer.h"

#include "../device.h"
#include "../error.h"
#include "../ewise.h"
#include "../graph.h"
#include "../train_state.h"

#include <math.h>
#include <stdio.h>

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8
#define STEP_OP "nb_optimizer_step"

typedef struct adam_optimizer {
    nb_optimizer base; /* first: the shared part */
    nb_adam_options o; /* with defaults filled in; o.lr and o.weight_decay are the groups' defaults */
    bool decoupled;    /* AdamW */
} adam_optimizer;

/* Creates the parameter's exp_avg, exp_avg_sq and step count, zeroed, and group g's rate on its
 * device if g has none there yet. */
static bool make_state(const nb_optimizer *opt, nb_optim_group *g, nb_tensor *p, nb_optim_state *state)
{
    if (nb__graph_capturing())
        return nb__fail(NB_ERR_ARGUMENT, STEP_OP " (%s): a parameter's state is made on its first step, which a "
                        "replay must not repeat; run one step before nb_graph_capture_begin", opt->vt->name),
               false;
    if (!nb__optim_group_lr(g, p->storage->device)) return false;
    state->slots[0] = nb__optim_like(p);
    state->slots[1] = nb__optim_like(p);
    state->step = nb__untrack(nb__alloc(STEP_OP, 0, NULL, NB_FLOAT64, p->storage->device));
    if (state->slots[0] && state->slots[1] && state->step &&
        nb__optim_apply(NB_EW_FILL, state->slots[0], 0, NULL, NULL, 0) &&
        nb__optim_apply(NB_EW_FILL, state->slots[1], 0, NULL, NULL, 0) &&
        nb__optim_apply(NB_EW_FILL, state->step, 0, NULL, NULL, 0))
        return true;
    for (int k = 0; k < 2; k++) nb_release(state->slots[k]), state->slots[k] = NULL;
    nb_release(state->step), state->step = NULL;
    return false;
}

/* The parameters of one call of the kernel, with the contiguous copies standing in for
 * non-contiguous parameters (written back after the call) and grads. */
typedef struct adam_batch {
    nbk_adam_args args;
    nb_device device;
    nb_tensor *param[NBK_MULTI_MAX];     /* the parameters themselves */
    nb_tensor *param_copy[NBK_MULTI_MAX]; /* contiguous copies, or NULL */
    nb_tensor *grad_copy[NBK_MULTI_MAX];  /* contiguous copies, or NULL */
} adam_batch;

/* Empties the batch without running it. */
static void drop(adam_batch *b)
{
    for (int k = 0; k < b->args.n; k++) nb_release(b->param_copy[k]), nb_release(b->grad_copy[k]);
    b->args.n = 0;
}

/* Runs the batch's call and writes the copies back; empties the batch either way. */
static bool flush(adam_batch *b)
{
    bool ok = true;
    if (b->args.n > 0) {
        const nbk_device *dev = nb__device_for(STEP_OP, b->device);
        ok = dev && nb__kernel_status(STEP_OP, dev->adam_step(nb__call(STEP_OP, b->device), &b->args)) == NB_OK;
    }
    for (int k = 0; k < b->args.n; k++) {
        if (ok && b->param_copy[k]) ok = nb__optim_apply(NB_EW_MUL_SCALAR, b->param[k], 1, b->param_copy[k], NULL, 1.0);
        else if (ok) nb__bump_version(b->param[k]);
        nb_release(b->param_copy[k]);
        nb_release(b->grad_copy[k]);
    }
    b->args.n = 0;
    return ok;
}

/* A contiguous copy of t in no scope, or NULL (and an error). */
static nb_tensor *contiguous_copy(nb_tensor *t)
{
    nb_tensor *c = nb__optim_like(t);
    if (c && !nb__optim_apply(NB_EW_MUL_SCALAR, c, 1, t, NULL, 1.0)) nb_release(c), c = NULL;
    return c;
}

/* Adds parameter p (with its grad and state) to the batch, running the batch first when it is
 * full or of another dtype or device. */
static bool add(adam_batch *b, nb_optim_group *g, nb_tensor *p, nb_optim_state *state)
{
    const nb_tensor *lr = nb__optim_group_lr(g, p->storage->device); /* made with the state: found */
    if (!lr) return false;
    if (b->args.n == NBK_MULTI_MAX || (b->args.n > 0 && (b->args.dtype != p->dtype ||
                                                         !nb__same_device(b->device, p->storage->device))))
        if (!flush(b)) return false;
    const int k = b->args.n;
    b->args.dtype = p->dtype;
    b->args.lr = (const double *)nb__ptr(lr);
    b->device = p->storage->device;
    b->param[k] = p;
    b->param_copy[k] = nb__is_contiguous(p) ? NULL : contiguous_copy(p);
    b->grad_copy[k] = nb__is_contiguous(p->grad) ? NULL : contiguous_copy(p->grad);
    if ((!nb__is_contiguous(p) && !b->param_copy[k]) || (!nb__is_contiguous(p->grad) && !b->grad_copy[k])) {
        nb_release(b->param_copy[k]);
        nb_release(b->grad_copy[k]);
        return false;
    }
    b->args.t[k] = (nbk_adam_tensor){
        .param = nb__ptr(b->param_copy[k] ? b->param_copy[k] : p),
        .grad = nb__ptr(b->grad_copy[k] ? b->grad_copy[k] : p->grad),
        .exp_avg = nb__ptr(state->slots[0]),
        .exp_avg_sq = nb__ptr(state->slots[1]),
        .step = (double *)nb__ptr(state->step),
        .numel = nb_numel(p),
    };
    b->args.n = k + 1;
    return true;
}

static bool adam_prepare_group(nb_optimizer *opt, nb_optim_group *g)
{
    for (int i = 0; i < nb_params_count(g->params); i++) {
        nb_tensor *p = nb_params_get(g->params, i);
        if (p->grad && !g->state[i].step && !make_state(opt, g, p, &g->state[i])) return false;
    }
    return true;
}

static bool adam_step_group(nb_optimizer *opt, nb_optim_group *g)
{
    const adam_optimizer *a = (const adam_optimizer *)opt;
    adam_batch b = {.args = {.beta1 = a->o.beta1, .beta2 = a->o.beta2, .eps = a->o.eps,
                             .weight_decay = g->weight_decay, .decoupled = a->decoupled,
                             .found_inf = opt->found_inf ? (const float *)nb__ptr(opt->found_inf) : NULL}};
    for (int i = 0; i < nb_params_count(g->params); i++) {
        nb_tensor *p = nb_params_get(g->params, i);
        if (p->grad && !add(&b, g, p, &g->state[i])) return drop(&b), false;
    }
    return flush(&b);
}

static void adam_describe(const nb_optimizer *opt, char *buf, size_t size)
{
    const nb_adam_options *o = &((const adam_optimizer *)opt)->o;
    char b1[NB_EXACT_DOUBLE_LEN], b2[NB_EXACT_DOUBLE_LEN], eps[NB_EXACT_DOUBLE_LEN];
    snprintf(buf, size, "beta1=%s beta2=%s eps=%s", nb__exact_double(o->beta1, b1), nb__exact_double(o->beta2, b2),
             nb__exact_double(o->eps, eps));
}

static const nb_optimizer_vtable adam_vtable = {.name = "Adam", .step_group = adam_step_group,
                                                .prepare_group = adam_prepare_group,
                                                .slot_names = {"exp_avg", "exp_avg_sq"}, .counts_steps = true,
                                                .describe = adam_describe, .skips_on_device = true};
static const nb_optimizer_vtable adamw_vtable = {.name = "AdamW", .step_group = adam_step_group,
                                                 .prepare_group = adam_prepare_group,
                                                 .slot_names = {"exp_avg", "exp_avg_sq"}, .counts_steps = true,
                                                 .describe = adam_describe, .skips_on_device = true};

static nb_optimizer *adam_new(const char *op, int n, const nb_param_group *groups, nb_adam_options o, bool decoupled)
{
    if (o.beta1 == 0) o.beta1 = ADAM_BETA1;
    if (o.beta2 == 0) o.beta2 = ADAM_BETA2;
    if (o.eps == 0) o.eps = ADAM_EPS;
    if (!nb__optim_check_option(op, "lr", o.lr, false) || !nb__optim_check_option(op, "eps", o.eps, false) ||
        !nb__optim_check_option(op, "beta1", o.beta1, true) || !nb__optim_check_option(op, "beta2", o.beta2, true) ||
        !nb__optim_check_option(op, "weight_decay", o.weight_decay, false))
        return NULL;
    adam_optimizer *a = (adam_optimizer *)nb__optimizer_new(op, sizeof *a, decoupled ? &adamw_vtable : &adam_vtable,
                                                            n, groups, o.lr, o.weight_decay);
    if (!a) return NULL;
    a->o = o;
    a->decoupled = decoupled;
    return &a->base;
}

nb_optimizer *nb_adam_new(nb_params *params, nb_adam_options o)
{
    nb_param_group one = {params, -1, -1};
    return adam_new("nb_adam_new", 1, &one, o, false);
}

nb_optimizer *nb_adamw_new(nb_params *params, nb_adam_options o)
{
    nb_param_group one = {params, -1, -1};
    return adam_new("nb_adamw_new", 1, &one, o, true);
}

nb_optimizer *nb_adam_new_groups(int n, const nb_param_group *groups, nb_adam_options o)
{
    return adam_new("nb_adam_new_groups", n, groups, o, false);
}

nb_optimizer *nb_adamw_new_groups(int n, const nb_param_group *groups, nb_adam_options o)
{
    return adam_new("nb_adamw_new_groups", n, groups, o, true);
}
