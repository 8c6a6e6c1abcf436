/* optimizer.c — what every optimizer shares: construction checks and parameter groups, the step
 * loop (validation, lazy per-parameter state, no-grad mode), zero_grad, the learning rates, and
 * freeing. The update rules
 * themselves are in sgd.c and adam.c. */
#include "optimizer.h"

#include "../dispatch.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../graph.h"
#include "../iter.h"

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
    if (!nb__is_float_kind(t->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s%s: parameter %d is %s; optimizers step float32, float64, float16 or "
                        "bfloat16 tensors", op, kind, i, nb_dtype_name(t->dtype)), false;
    if (t->grad_fn)
        return nb__fail(NB_ERR_ARGUMENT, "%s%s: parameter %d is not a leaf (it was made by %s); optimizers step "
                        "leaves, such as the tensors a model creates", op, kind, i, nb_grad_fn_name(t)), false;
    return true;
}

/* lr or weight_decay of a group: its own, unless < 0 or NaN (the optimizer's) */
static double group_value(double own, double fallback) { return own >= 0 ? own : fallback; }

nb_optimizer *nb__optimizer_new(const char *op, size_t size, const nb_optimizer_vtable *vt, int n,
                                const nb_param_group *groups, double lr, double weight_decay)
{
    if (nb__is_null(op, "groups", groups)) return NULL;
    if (n < 1) return nb__fail(NB_ERR_ARGUMENT, "%s: %d parameter groups: expected at least 1", op, n);
    if (!nb__optim_check_option(op, "lr", lr, false) || !nb__optim_check_option(op, "weight_decay", weight_decay, false))
        return NULL;
    for (int k = 0; k < n; k++) {
        char what[48];
        snprintf(what, sizeof what, "params of group %d", k);
        if (nb__is_null(op, n == 1 ? "params" : what, groups[k].params)) return NULL;
        char kind[32] = "";
        if (n > 1) snprintf(kind, sizeof kind, " (group %d)", k);
        for (int i = 0; i < nb_params_count(groups[k].params); i++) {
            const nb_tensor *t = nb_params_get(groups[k].params, i);
            if (!check_param(op, kind, i, t)) return NULL;
            for (int j = 0; j < k; j++) /* torch: "some parameters appear in more than one parameter group" */
                for (int q = 0; q < nb_params_count(groups[j].params); q++)
                    if (nb_params_get(groups[j].params, q) == t)
                        return nb__fail(NB_ERR_ARGUMENT, "%s: parameter %d of group %d is also parameter %d of group "
                                        "%d: a parameter may be in one group only", op, i, k, q, j);
        }
    }
    nb_optimizer *opt = calloc(1, size);
    nb_optim_group *g = calloc((size_t)n, sizeof *g);
    if (!opt || !g) return free(opt), free(g), nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    for (int k = 0; k < n; k++) {
        g[k].params = groups[k].params;
        g[k].lr = g[k].base_lr = group_value(groups[k].lr, lr);
        g[k].weight_decay = group_value(groups[k].weight_decay, weight_decay);
    }
    opt->vt = vt;
    opt->groups = g;
    opt->ngroups = n;
    return opt;
}

/* Makes room for state for n parameters (the list may have grown since the last step). */
bool nb__optim_grow_state(nb_optim_group *g, int n)
{
    if (n <= g->nstate) return true;
    nb_optim_state *s = realloc(g->state, (size_t)n * sizeof *s);
    if (!s) return nb__fail(NB_ERR_MEMORY, STEP_OP ": out of memory for the state of %d parameters", n), false;
    memset(s + g->nstate, 0, (size_t)(n - g->nstate) * sizeof *s);
    g->state = s;
    g->nstate = n;
    return true;
}

/* An error unless parameter i (of group k, when there are several) and its grad can be stepped
 * together. */
static bool check_grad(const nb_optimizer *opt, int k, int i, const nb_tensor *t)
{
    char kind[48];
    if (opt->ngroups > 1) snprintf(kind, sizeof kind, " (%s, group %d)", opt->vt->name, k);
    else snprintf(kind, sizeof kind, " (%s)", opt->vt->name);
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
    /* everything is checked before any parameter changes, so a refused step changes nothing */
    for (int k = 0; k < opt->ngroups; k++) {
        nb_optim_group *g = &opt->groups[k];
        int n = nb_params_count(g->params);
        if (!nb__optim_grow_state(g, n)) return NB_ERR_MEMORY;
        for (int i = 0; i < n; i++) {
            const nb_tensor *t = nb_params_get(g->params, i);
            if (t->grad && !check_grad(opt, k, i, t)) return nb_last_status();
        }
    }
    nb_no_grad_begin();
    nb__tracking_pause(); /* the state and temporaries made here are the optimizer's own */
    bool ok = true;
    for (int k = 0; k < opt->ngroups && ok && opt->vt->prepare_group; k++) ok = opt->vt->prepare_group(opt, &opt->groups[k]);
    for (int k = 0; k < opt->ngroups && ok; k++) ok = opt->vt->step_group(opt, &opt->groups[k]);
    nb__tracking_resume();
    nb_no_grad_end();
    if (ok) return NB_OK;
    return nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_ARGUMENT;
}

nb_status nb__optimizer_step_unless(nb_optimizer *opt, const nb_tensor *found_inf)
{
    opt->found_inf = found_inf;
    const nb_status st = nb_optimizer_step(opt);
    opt->found_inf = NULL;
    return st;
}

void nb_optimizer_zero_grad(nb_optimizer *opt)
{
    if (nb__is_null("nb_optimizer_zero_grad", "optimizer", opt)) return;
    /* set_to_none, as PyTorch 2 does by default: the next backward stores fresh gradients instead
     * of adding into zeroed ones, a pass over every parameter saved twice per step */
    for (int k = 0; k < opt->ngroups; k++)
        for (int i = 0; i < nb_params_count(opt->groups[k].params); i++) {
            nb_tensor *t = nb_params_get(opt->groups[k].params, i);
            nb_release(t->grad);
            t->grad = NULL;
        }
}

nb_tensor *nb__optim_group_lr(nb_optim_group *g, nb_device device)
{
    for (int i = 0; i < g->nlr; i++)
        if (nb__same_device(g->lr_on[i]->storage->device, device)) return g->lr_on[i];
    nb_tensor **more = realloc(g->lr_on, (size_t)(g->nlr + 1) * sizeof *more);
    if (!more) return nb__fail(NB_ERR_MEMORY, STEP_OP ": out of memory for a learning rate");
    g->lr_on = more;
    nb_tensor *lr = nb__untrack(nb__alloc(STEP_OP, 0, NULL, NB_FLOAT64, device));
    if (lr && !nb__optim_apply(NB_EW_FILL, lr, 0, NULL, NULL, g->lr)) nb_release(lr), lr = NULL;
    if (lr) g->lr_on[g->nlr++] = lr;
    return lr;
}

bool nb__optim_lr_settable(const char *op)
{
    if (!nb__graph_capturing()) return true;
    nb__fail(NB_ERR_ARGUMENT, "%s: a learning rate cannot be set during a graph capture: a replay reads the "
             "rate its optimizer holds when it runs, so set rates before nb_graph_capture_begin or between "
             "replays", op);
    return false;
}

bool nb__optim_write_lr(const char *op, nb_optim_group *g, double lr)
{
    g->lr = lr;
    for (int i = 0; i < g->nlr; i++) /* a fill queued on the rate's device, in order with its steps */
        if (!nb__optim_apply_as(op, NB_EW_FILL, g->lr_on[i], 0, NULL, NULL, lr)) return false;
    return true;
}

void nb_optimizer_set_lr(nb_optimizer *opt, double lr)
{
    const char *op = "nb_optimizer_set_lr";
    if (nb__is_null(op, "optimizer", opt)) return;
    if (!nb__optim_check_option(op, "lr", lr, false) || !nb__optim_lr_settable(op)) return;
    for (int k = 0; k < opt->ngroups; k++)
        if (!nb__optim_write_lr(op, &opt->groups[k], lr)) return;
}

double nb_optimizer_lr(const nb_optimizer *opt)
{
    if (nb__is_null("nb_optimizer_lr", "optimizer", opt)) return NAN;
    return opt->groups[0].lr;
}

int nb_optimizer_group_count(const nb_optimizer *opt)
{
    if (nb__is_null("nb_optimizer_group_count", "optimizer", opt)) return 0;
    return opt->ngroups;
}

/* An error unless group is one of opt's. */
static bool check_group(const char *op, const nb_optimizer *opt, int group)
{
    if (nb__is_null(op, "optimizer", opt)) return false;
    if (group >= 0 && group < opt->ngroups) return true;
    nb__fail(NB_ERR_ARGUMENT, "%s: no group %d: the optimizer has %d group%s (0 to %d)", op, group, opt->ngroups,
             opt->ngroups == 1 ? "" : "s", opt->ngroups - 1);
    return false;
}

nb_status nb_optimizer_set_group_lr(nb_optimizer *opt, int group, double lr)
{
    const char *op = "nb_optimizer_set_group_lr";
    if (!check_group(op, opt, group) || !nb__optim_check_option(op, "lr", lr, false) || !nb__optim_lr_settable(op))
        return nb_last_status();
    return nb__optim_write_lr(op, &opt->groups[group], lr) ? NB_OK : nb_last_status();
}

double nb_optimizer_group_lr(const nb_optimizer *opt, int group)
{
    if (!check_group("nb_optimizer_group_lr", opt, group)) return NAN;
    return opt->groups[group].lr;
}

void nb_optimizer_free(nb_optimizer *opt)
{
    if (!opt) return;
    for (int k = 0; k < opt->ngroups; k++) {
        nb_optim_group *g = &opt->groups[k];
        for (int i = 0; i < g->nstate; i++) {
            for (size_t s = 0; s < sizeof g->state[i].slots / sizeof g->state[i].slots[0]; s++)
                nb_release(g->state[i].slots[s]);
            nb_release(g->state[i].step);
        }
        free(g->state);
        for (int i = 0; i < g->nlr; i++) nb_release(g->lr_on[i]);
        free(g->lr_on);
    }
    free(opt->groups);
    free(opt);
}

/* ---------------------------------------------------------------- helpers for the update rules */

bool nb__optim_apply(nb_ew_op op, nb_tensor *out, int n, const nb_tensor *a, const nb_tensor *b, double c0)
{
    return nb__optim_apply_as(STEP_OP, op, out, n, a, b, c0);
}

/* The ops the optimizers apply to half tensors (there are no half elementwise kernels): a fill
 * (a float32 value rounded once) and a copy (a multiplication by 1 of a tensor of out's dtype),
 * both through the device's conversion. */
static bool apply_half(const char *name, nb_ew_op op, nb_tensor *out, int n, const nb_tensor *a, double c0)
{
    const nb_device device = out->storage->device;
    nb_iter it;
    if (op == NB_EW_MUL_SCALAR && n == 1 && c0 == 1.0 && a->dtype == out->dtype) {
        nb__iter_build(&it, out, 1, &a);
        if (nb__run_cast(name, a->dtype, out->dtype, &it, device) != NB_OK) return false;
    } else if (op == NB_EW_FILL) {
        nb_tensor *v = nb__untrack(nb__alloc(name, 0, NULL, NB_FLOAT32, device)); /* the value, broadcast */
        nb_scalars s = {c0, 0};
        const nb_tensor *src = v;
        bool ok = false;
        if (v) {
            const nb_tensor *none[1] = {NULL};
            nb__iter_build(&it, v, 0, none);
            ok = nb__run_ewise(name, NB_EW_FILL, NB_FLOAT32, &it, &s, device) == NB_OK;
        }
        if (ok) {
            nb__iter_build(&it, out, 1, &src);
            ok = nb__run_cast(name, NB_FLOAT32, out->dtype, &it, device) == NB_OK;
        }
        nb_release(v);
        if (!ok) return false;
    } else {
        return nb__fail(NB_ERR_UNSUPPORTED, "%s: no %s kernel for this optimizer update", name,
                        nb_dtype_name(out->dtype)), false;
    }
    nb__bump_version(out);
    return true;
}

bool nb__optim_apply_as(const char *name, nb_ew_op op, nb_tensor *out, int n, const nb_tensor *a, const nb_tensor *b,
                        double c0)
{
    if (nb__is_half(out->dtype)) return apply_half(name, op, out, n, a, c0);
    const nb_tensor *in[2] = {a, b};
    nb_iter it;
    nb__iter_build(&it, out, n, in);
    nb_scalars s = {c0, 0};
    if (nb__run_ewise(name, op, out->dtype, &it, &s, out->storage->device) != NB_OK) return false;
    nb__bump_version(out);
    return true;
}

nb_tensor *nb__optim_like(const nb_tensor *t)
{
    return nb__untrack(nb__alloc(STEP_OP, t->ndim, t->shape, t->dtype, t->storage->device));
}
