/* optimizer_state.c — an optimizer's state for training-state checkpoints (lib/checkpoint.c): the
 * walk over every parameter's state tensors (momentum buffers; Adam's moments and step counts),
 * the groups' rates, and the checked restore of all of it (lib/train_state.h). */
#include "optimizer.h"

#include "../dtype.h"
#include "../error.h"
#include "../graph.h"
#include "../train_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_SLOT "step"
#define MAX_SLOTS 2

const char *nb__exact_double(double v, char buf[NB_EXACT_DOUBLE_LEN])
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, NB_EXACT_DOUBLE_LEN, "%.*g", digits, v);
        if (strtod(buf, NULL) == v || v != v) break;
    }
    return buf;
}

const char *nb__optim_kind(const nb_optimizer *opt) { return opt->vt->name; }

void nb__optim_describe(const nb_optimizer *opt, char *buf, size_t size)
{
    if (opt->vt->describe) opt->vt->describe(opt, buf, size);
    else if (size) buf[0] = '\0';
}

nb__optim_group_place nb__optim_group_place_of(const nb_optimizer *opt, int k)
{
    const nb_optim_group *g = &opt->groups[k];
    return (nb__optim_group_place){.lr = g->lr, .base_lr = g->base_lr, .weight_decay = g->weight_decay,
                                   .count = nb_params_count(g->params)};
}

static int slot_count(const nb_optimizer *opt)
{
    int n = 0;
    while (n < MAX_SLOTS && opt->vt->slot_names[n]) n++;
    return n;
}

bool nb__optim_state_visit(const nb_optimizer *opt, nb__optim_visit visit, void *ctx)
{
    int nslots = slot_count(opt);
    for (int k = 0; k < opt->ngroups; k++) {
        const nb_optim_group *g = &opt->groups[k];
        int n = nb_params_count(g->params) < g->nstate ? nb_params_count(g->params) : g->nstate;
        for (int i = 0; i < n; i++) {
            const nb_tensor *p = nb_params_get(g->params, i);
            const nb_optim_state *st = &g->state[i];
            for (int s = 0; s < nslots; s++)
                if (st->slots[s] && !visit(ctx, p, opt->vt->slot_names[s], st->slots[s])) return false;
            if (st->step && !visit(ctx, p, STEP_SLOT, st->step)) return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- restoring */

static bool same_shape(const nb_tensor *a, const nb_tensor *b)
{
    return a->ndim == b->ndim && memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(int64_t)) == 0;
}

/* An error unless the saved slots of parameter i of group k (saved[0 .. nslots), and the step)
 * are all there or all missing, shaped and typed like p. *present says which. */
static bool check_param_state(const char *op, const nb_optimizer *opt, int k, int i, const nb_tensor *p,
                              const nb_tensor *const *saved, const nb_tensor *step, bool *present)
{
    int nslots = slot_count(opt), have = 0;
    for (int s = 0; s < nslots; s++) have += saved[s] != NULL;
    bool want_step = opt->vt->counts_steps && have > 0;
    *present = have > 0;
    char ps[160], ss[160];
    nb__shape_string(p->ndim, p->shape, ps, sizeof ps);
    if (have > 0 && have < nslots)
        return nb__fail(NB_ERR_ARGUMENT, "%s: parameter %d of group %d %s has %d of the %s optimizer's %d state "
                        "tensors; expected all or none", op, i, k, ps, have, opt->vt->name, nslots), false;
    for (int s = 0; s < nslots; s++) {
        const nb_tensor *v = saved[s];
        if (!v) continue;
        if (!same_shape(v, p) || v->dtype != p->dtype)
            return nb__fail(NB_ERR_ARGUMENT, "%s: the %s of parameter %d of group %d is %s %s; expected %s %s like "
                            "the parameter", op, opt->vt->slot_names[s], i, k, nb_dtype_name(v->dtype),
                            nb__shape_string(v->ndim, v->shape, ss, sizeof ss), nb_dtype_name(p->dtype), ps),
                   false;
    }
    if (want_step && (!step || step->ndim != 0 || !nb__is_floating(step->dtype)))
        return nb__fail(NB_ERR_ARGUMENT, "%s: parameter %d of group %d has its %s moments but %s; expected a 0-d "
                        "float step count", op, i, k, opt->vt->name, step ? "a step that is not a 0-d float" : "no step"),
               false;
    if (!opt->vt->counts_steps && step)
        return nb__fail(NB_ERR_ARGUMENT, "%s: parameter %d of group %d has a step count, which %s does not keep", op, i,
                        k, opt->vt->name), false;
    return true;
}

/* *dst holds src's values: copied into *dst, or into a new tensor shaped like like (placed on its
 * device, typed as dtype) when *dst is NULL. */
static bool restore_tensor(nb_tensor **dst, const nb_tensor *src, const nb_tensor *like, nb_dtype dtype, int ndim)
{
    if (!*dst) {
        *dst = nb__untrack(nb__alloc("nb_checkpoint_load", ndim, like->shape, dtype, like->storage->device));
        if (!*dst) return false;
    }
    return nb_copy_(*dst, src) != NULL;
}

bool nb__optim_restore(const char *op, nb_optimizer *opt, int ngroups, const nb__optim_group_place *groups,
                       int64_t schedule_step, nb__optim_lookup lookup, void *ctx)
{
    if (nb__graph_capturing())
        return nb__fail(NB_ERR_ARGUMENT, "%s: an optimizer's state cannot be restored during a graph capture", op),
               false;
    if (ngroups != opt->ngroups)
        return nb__fail(NB_ERR_ARGUMENT, "%s: the saved %s optimizer had %d parameter group%s; this one has %d", op,
                        opt->vt->name, ngroups, ngroups == 1 ? "" : "s", opt->ngroups), false;
    int nslots = slot_count(opt);
    for (int k = 0; k < ngroups; k++) { /* everything checked before anything changes */
        const nb_optim_group *g = &opt->groups[k];
        int n = nb_params_count(g->params);
        if (groups[k].count != n)
            return nb__fail(NB_ERR_ARGUMENT, "%s: group %d had %d parameters when saved; this one has %d", op, k,
                            groups[k].count, n), false;
        if (!(groups[k].lr >= 0) || !(groups[k].base_lr >= 0) || !(groups[k].weight_decay >= 0))
            return nb__fail(NB_ERR_ARGUMENT, "%s: group %d's saved lr %g, initial lr %g or weight decay %g is not a "
                            "number >= 0", op, k, groups[k].lr, groups[k].base_lr, groups[k].weight_decay), false;
        for (int i = 0; i < n; i++) {
            const nb_tensor *p = nb_params_get(g->params, i), *saved[MAX_SLOTS] = {NULL};
            for (int s = 0; s < nslots; s++) saved[s] = lookup(ctx, p, opt->vt->slot_names[s]);
            bool present;
            if (!check_param_state(op, opt, k, i, p, saved, lookup(ctx, p, STEP_SLOT), &present)) return false;
        }
    }
    for (int k = 0; k < ngroups; k++)
        if (!nb__optim_grow_state(&opt->groups[k], nb_params_count(opt->groups[k].params))) return false;

    nb_no_grad_begin();
    nb__tracking_pause(); /* the state is the optimizer's own */
    bool ok = true;
    for (int k = 0; k < ngroups && ok; k++) {
        nb_optim_group *g = &opt->groups[k];
        for (int i = 0; i < nb_params_count(g->params) && ok; i++) {
            const nb_tensor *p = nb_params_get(g->params, i);
            nb_optim_state *st = &g->state[i];
            const nb_tensor *step = lookup(ctx, p, STEP_SLOT);
            bool present = false;
            for (int s = 0; s < nslots; s++) {
                const nb_tensor *v = lookup(ctx, p, opt->vt->slot_names[s]);
                present |= v != NULL;
                if (v) ok = ok && restore_tensor(&st->slots[s], v, p, p->dtype, p->ndim);
            }
            if (!present) { /* as a fresh optimizer's: made on the parameter's next step */
                for (int s = 0; s < MAX_SLOTS; s++) nb_release(st->slots[s]), st->slots[s] = NULL;
                nb_release(st->step), st->step = NULL;
                continue;
            }
            if (opt->vt->counts_steps) {
                ok = ok && restore_tensor(&st->step, step, p, NB_FLOAT64, 0);
                ok = ok && nb__optim_group_lr(g, p->storage->device) != NULL; /* the rate the kernel reads */
            }
        }
        g->base_lr = groups[k].base_lr;
        g->weight_decay = groups[k].weight_decay;
        ok = ok && nb__optim_write_lr(op, g, groups[k].lr);
    }
    nb__tracking_resume();
    nb_no_grad_end();
    if (ok) opt->schedule_step = schedule_step;
    return ok;
}
