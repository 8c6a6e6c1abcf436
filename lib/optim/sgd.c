/* sgd.c — stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay:
 * torch.optim.SGD's update rule (PyTorch 1.13, _single_tensor_sgd), step for step:
 *
 *   d = grad (+ weight_decay * p)       (lr and weight_decay are the parameter's group's)
 *   with momentum: buf = d on the parameter's first step, else buf = momentum * buf + (1 - dampening) * d
 *                  d = d + momentum * buf (Nesterov) or d = buf
 *   p = p - lr * d
 *
 * A step allocates at most one temporary per parameter (for weight decay or Nesterov). */
#include "optimizer.h"

#include "../error.h"
#include "../graph.h"

typedef struct sgd_optimizer {
    nb_optimizer base; /* first: the shared part */
    nb_sgd_options o;  /* o.lr and o.weight_decay are the groups' defaults */
} sgd_optimizer;

static bool sgd_step_param(const nb_sgd_options *o, const nb_optim_group *g, nb_tensor *p, const nb_tensor *grad,
                           nb_optim_state *state)
{
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
        if (!buf && nb__graph_capturing())
            return nb_release(tmp),
                   nb__fail(NB_ERR_ARGUMENT, "nb_optimizer_step (sgd): the momentum buffer is made on a "
                            "parameter's first step, which a replay must not repeat; run one step "
                            "before nb_graph_capture_begin"),
                   false;
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

static const nb_optimizer_vtable sgd_vtable = {"SGD", sgd_step_group, NULL, false};

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
