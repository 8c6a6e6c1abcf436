/* optimizer.c — what every optimizer shares: construction checks, the step loop (validation, lazy
 * per-parameter state, no-grad mode), zero_grad, the learning rate, and freeing. The update rules
 * themselves are in sgd.c and adam.c. */
#include "optimizer.h"

#include "../dispatch.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_OP "nb_optimizer_step"

bool nb__optim_check_option(const char *op, const char *option, double value, bool below_one)
{
    if (value >= 0 && (!below_one || value < 1)) return true;
    nb__fail(NB_ERR_ARGUMENT, "%s: invalid %s %g: expected a number %s", op, option, value,
             below_one ? "in [0, 1)" : ">= 0");
    return false;
}

/* An error naming op unless t can be stepped: a floating-point leaf. */
static bool check_param(const char *op, const char *kind, int i, const nb_tensor *t)
{
    if (!nb__is_floating(t->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s%s: parameter %d is %s; optimizers step float32 or float64 tensors", op,
                        kind, i, nb_dtype_name(t->dtype)), false;
    if (t->grad_fn)
        return nb__fail(NB_ERR_ARGUMENT, "%s%s: parameter %d is not a leaf (it was made by %s); optimizers step "
                        "leaves, such as the tensors a model creates", op, kind, i, nb_grad_fn_name(t)), false;
    return true;
}

nb_optimizer *nb__optimizer_new(const char *op, size_t size, const nb_optimizer_vtable *vt, nb_params *params,
                                double lr)
{
    if (nb__is_null(op, "params", params)) return NULL;
    if (!nb__optim_check_option(op, "lr", lr, false)) return NULL;
    int n = nb_params_count(params);
    for (int i = 0; i < n; i++)
        if (!check_param(op, "", i, nb_params_get(params, i))) return NULL;
    nb_optimizer *opt = calloc(1, size);
    if (!opt) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    opt->vt = vt;
    opt->params = params;
    opt->lr = lr;
    return opt;
}

/* Makes room for state for n parameters (the list may have grown since the last step). */
static bool grow_state(nb_optimizer *opt, int n)
{
    if (n <= opt->nstate) return true;
    nb_optim_state *s = realloc(opt->state, (size_t)n * sizeof *s);
    if (!s) return nb__fail(NB_ERR_MEMORY, STEP_OP ": out of memory for the state of %d parameters", n), false;
    memset(s + opt->nstate, 0, (size_t)(n - opt->nstate) * sizeof *s);
    opt->state = s;
    opt->nstate = n;
    return true;
}

/* An error unless parameter i and its grad can be stepped together. */
static bool check_grad(const nb_optimizer *opt, int i, const nb_tensor *t)
{
    char kind[32];
    snprintf(kind, sizeof kind, " (%s)", opt->vt->name);
    if (!check_param(STEP_OP, kind, i, t)) return false;
    const nb_tensor *g = t->grad;
    char ts[160], gs[160];
    if (g->ndim != t->ndim || memcmp(g->shape, t->shape, (size_t)t->ndim * sizeof(int64_t)) != 0)
        return nb__fail(NB_ERR_SHAPE, STEP_OP "%s: parameter %d has shape %s but its grad has shape %s", kind, i,
                        nb__shape_string(t->ndim, t->shape, ts, sizeof ts),
                        nb__shape_string(g->ndim, g->shape, gs, sizeof gs)), false;
    if (g->dtype != t->dtype)
        return nb__fail(NB_ERR_DTYPE, STEP_OP "%s: parameter %d is %s but its grad is %s", kind, i,
                        nb_dtype_name(t->dtype), nb_dtype_name(g->dtype)), false;
    if (!nb__same_device(g->storage->device, t->storage->device))
        return nb__fail(NB_ERR_DEVICE, STEP_OP "%s: parameter %d is on %s but its grad is on %s", kind, i,
                        nb__device_string(t->storage->device, ts, sizeof ts),
                        nb__device_string(g->storage->device, gs, sizeof gs)), false;
    if (nb__has_overlap(t))
        return nb__fail(NB_ERR_ARGUMENT, STEP_OP "%s: parameter %d of shape %s is an expanded view whose elements "
                        "share memory; it cannot be updated in place", kind, i,
                        nb__shape_string(t->ndim, t->shape, ts, sizeof ts)), false;
    return true;
}

nb_status nb_optimizer_step(nb_optimizer *opt)
{
    if (nb__is_null(STEP_OP, "optimizer", opt)) return NB_ERR_NULL;
    int n = nb_params_count(opt->params);
    if (!grow_state(opt, n)) return NB_ERR_MEMORY;
    /* everything is checked before any parameter changes, so a refused step changes nothing */
    for (int i = 0; i < n; i++) {
        const nb_tensor *t = nb_params_get(opt->params, i);
        if (t->grad && !check_grad(opt, i, t)) return nb_last_status();
    }
    nb_no_grad_begin();
    nb__tracking_pause(); /* the state and temporaries made here are the optimizer's own */
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        nb_tensor *t = nb_params_get(opt->params, i);
        if (t->grad) ok = opt->vt->step_param(opt, t, t->grad, &opt->state[i]);
    }
    nb__tracking_resume();
    nb_no_grad_end();
    if (ok) return NB_OK;
    return nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_ARGUMENT;
}

void nb_optimizer_zero_grad(nb_optimizer *opt)
{
    if (nb__is_null("nb_optimizer_zero_grad", "optimizer", opt)) return;
    /* set_to_none, as PyTorch 2 does by default: the next backward stores fresh gradients instead
     * of adding into zeroed ones, a pass over every parameter saved twice per step */
    for (int i = 0; i < nb_params_count(opt->params); i++) {
        nb_tensor *t = nb_params_get(opt->params, i);
        nb_release(t->grad);
        t->grad = NULL;
    }
}

void nb_optimizer_set_lr(nb_optimizer *opt, double lr)
{
    if (nb__is_null("nb_optimizer_set_lr", "optimizer", opt)) return;
    if (nb__optim_check_option("nb_optimizer_set_lr", "lr", lr, false)) opt->lr = lr;
}

double nb_optimizer_lr(const nb_optimizer *opt)
{
    if (nb__is_null("nb_optimizer_lr", "optimizer", opt)) return NAN;
    return opt->lr;
}

void nb_optimizer_free(nb_optimizer *opt)
{
    if (!opt) return;
    for (int i = 0; i < opt->nstate; i++)
        for (size_t k = 0; k < sizeof opt->state[i].slots / sizeof opt->state[i].slots[0]; k++)
            nb_release(opt->state[i].slots[k]);
    free(opt->state);
    free(opt);
}

/* ---------------------------------------------------------------- helpers for the update rules */

bool nb__optim_apply(nb_ew_op op, nb_tensor *out, int n, const nb_tensor *a, const nb_tensor *b, double c0)
{
    const nb_tensor *in[2] = {a, b};
    nb_iter it;
    nb__iter_build(&it, out, n, in);
    nb_scalars s = {c0, 0};
    if (nb__run_ewise(STEP_OP, op, out->dtype, &it, &s, out->storage->device) != NB_OK) return false;
    nb__bump_version(out);
    return true;
}

nb_tensor *nb__optim_like(const nb_tensor *t)
{
    return nb__untrack(nb__alloc(STEP_OP, t->ndim, t->shape, t->dtype, t->storage->device));
}
