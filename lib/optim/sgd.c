/* sgd.c — stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay:
 * torch.optim.SGD's update rule (PyTorch 1.13, _single_tensor_sgd), step for step:
 *
 *   d = grad (+ weight_decay * p)       (lr and weight_decay are the parameter's group's)
 *   with momentum: buf = d on the parameter's first step, else buf = momentum * buf + (1 - dampening) * d
 *                  d = d + momentum * buf (Nesterov) or d = buf
 *   p = p - lr * d
 *
 * A float32 or float64 step runs the rule op by op through the elementwise kernels and allocates at
 * most one temporary per parameter (for weight decay or Nesterov). A float16 or bfloat16 step is
 * fused: the device's sgd_step kernel (kernels/optim.h) runs the same ops in float32 on each
 * element and rounds p and buf once each (a non-contiguous parameter or grad goes through a
 * contiguous copy). */
#include "optimizer.h"

#include "../device.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../graph.h"
#include "../train_state.h"

#include <stdio.h>

#define STEP_OP "nb_optimizer_step"

typedef struct sgd_optimizer {
    nb_optimizer base; /* first: the shared part */
    nb_sgd_options o;  /* o.lr and o.weight_decay are the groups' defaults */
} sgd_optimizer;

/* A contiguous copy of t in no scope, or NULL (and an error). */
static nb_tensor *contiguous_copy(const nb_tensor *t)
{
    nb_tensor *c = nb__optim_like(t);
    if (c && !nb__optim_apply(NB_EW_MUL_SCALAR, c, 1, t, NULL, 1.0)) nb_release(c), c = NULL;
    return c;
}

/* The fused step of a half parameter p (its momentum buffer made first, when it has none). */
static bool sgd_step_half(const nb_sgd_options *o, const nb_optim_group *g, nb_tensor *p, const nb_tensor *grad,
                          nb_optim_state *state)
{
    const bool first = o->momentum != 0 && !state->slots[0];
    if (first && !(state->slots[0] = nb__optim_like(p))) return false;
    nb_tensor *pc = nb__is_contiguous(p) ? NULL : contiguous_copy(p);
    nb_tensor *gc = nb__is_contiguous(grad) ? NULL : contiguous_copy(grad);
    bool ok = (nb__is_contiguous(p) || pc) && (nb__is_contiguous(grad) || gc);
    if (ok) {
        const nbk_sgd_args a = {.dtype = p->dtype,
                                .param = nb__ptr(pc ? pc : p),
                                .grad = nb__ptr(gc ? gc : grad),
                                .momentum_buffer = o->momentum != 0 ? nb__ptr(state->slots[0]) : NULL,
                                .numel = nb_numel(p),
                                .lr = g->lr,
                                .momentum = o->momentum,
                                .dampening = o->dampening,
                                .weight_decay = g->weight_decay,
                                .nesterov = o->nesterov,
                                .first = first};
        const nb_device device = p->storage->device;
        const nbk_device *dev = nb__device_for(STEP_OP, device);
        ok = dev && nb__kernel_status(STEP_OP, dev->sgd_step(nb__call(STEP_OP, device), &a)) == NB_OK;
    }
    if (ok && pc) ok = nb__optim_apply(NB_EW_MUL_SCALAR, p, 1, pc, NULL, 1.0); /* written back */
    else if (ok) nb__bump_version(p);
    if (ok && state->slots[0]) nb__bump_version(state->slots[0]);
    if (!ok && first) nb_release(state->slots[0]), state->slots[0] = NULL;
    nb_release(pc);
    nb_release(gc);
    return ok;
}

static bool sgd_step_param(const nb_sgd_options *o, const nb_optim_group *g, nb_tensor *p, const nb_tensor *grad,
                           nb_optim_state *state)
{
    if (o->momentum != 0 && !state->slots[0] && nb__graph_capturing())
        return nb__fail(NB_ERR_ARGUMENT, "nb_optimizer_step (sgd): the momentum buffer is made on a "
                        "parameter's first step, which a replay must not repeat; run one step "
                        "before nb_graph_capture_begin"),
               false;
    if (nb__is_half(p->dtype)) return sgd_step_half(o, g, p, grad, state);
    nb_tensor *tmp = NULL; /* shaped like p: the decayed or Nesterov direction */
    const nb_tensor *d = grad;
    bool ok = true;
    if (g->weight_decay != 0) {
        tmp = nb__optim_like(p);
        ok = tmp && nb__optim_apply(NB_EW_AXPY, tmp, 2, grad, p, g->weight_decay);
        d = tmp;
    }
    if (ok && o->momentum != 0) {
        nb_tensor *buf = state->slots[0];
        if (!buf) {
            buf = state->slots[0] = nb__optim_like(p);
            ok = buf && nb__optim_apply(NB_EW_MUL_SCALAR, buf, 1, d, NULL, 1.0); /* a copy of d */
        } else {
            ok = nb__optim_apply(NB_EW_MUL_SCALAR, buf, 1, buf, NULL, o->momentum) &&
                 nb__optim_apply(NB_EW_AXPY, buf, 2, buf, d, 1 - o->dampening);
        }
        if (ok && o->nesterov) {
            if (!tmp) ok = (tmp = nb__optim_like(p)) != NULL;
            ok = ok && nb__optim_apply(NB_EW_AXPY, tmp, 2, d, buf, o->momentum);
            d = tmp;
        } else {
            d = buf;
        }
    }
    ok = ok && nb__optim_apply(NB_EW_AXPY, p, 2, p, d, -g->lr);
    nb_release(tmp);
    return ok;
}

static bool sgd_step_group(nb_optimizer *opt, nb_optim_group *g)
{
    const nb_sgd_options *o = &((sgd_optimizer *)opt)->o;
    for (int i = 0; i < nb_params_count(g->params); i++) {
        nb_tensor *t = nb_params_get(g->params, i);
        if (t->grad && !sgd_step_param(o, g, t, t->grad, &g->state[i])) return false;
    }
    return true;
}

static void sgd_describe(const nb_optimizer *opt, char *buf, size_t size)
{
    const nb_sgd_options *o = &((const sgd_optimizer *)opt)->o;
    char m[NB_EXACT_DOUBLE_LEN], d[NB_EXACT_DOUBLE_LEN];
    snprintf(buf, size, "momentum=%s dampening=%s nesterov=%d", nb__exact_double(o->momentum, m),
             nb__exact_double(o->dampening, d), o->nesterov);
}

static const nb_optimizer_vtable sgd_vtable = {.name = "SGD", .step_group = sgd_step_group,
                                               .slot_names = {"momentum_buffer", NULL}, .describe = sgd_describe};

static nb_optimizer *sgd_new(const char *op, int n, const nb_param_group *groups, nb_sgd_options o)
{
    if (!nb__optim_check_option(op, "lr", o.lr, false) || !nb__optim_check_option(op, "momentum", o.momentum, false) ||
        !nb__optim_check_option(op, "weight_decay", o.weight_decay, false))
        return NULL;
    if (o.dampening != o.dampening) /* NaN */
        return nb__fail(NB_ERR_ARGUMENT, "%s: invalid dampening %g: expected a number", op, o.dampening);
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
        return nb__fail(NB_ERR_ARGUMENT, "%s: nesterov momentum requires a momentum > 0 and zero dampening (got "
                        "momentum %g, dampening %g)", op, o.momentum, o.dampening);
    sgd_optimizer *s = (sgd_optimizer *)nb__optimizer_new(op, sizeof *s, &sgd_vtable, n, groups, o.lr,
                                                          o.weight_decay);
    if (!s) return NULL;
    s->o = o;
    return &s->base;
}

nb_optimizer *nb_sgd_new(nb_params *params, nb_sgd_options o)
{
    nb_param_group one = {params, -1, -1};
    return sgd_new("nb_sgd_new", 1, &one, o);
}

nb_optimizer *nb_sgd_new_groups(int n, const nb_param_group *groups, nb_sgd_options o)
{
    return sgd_new("nb_sgd_new_groups", n, groups, o);
}
