/* bce.c — nb_binary_cross_entropy_with_logits (PyTorch's, with weight, pos_weight and
 * reduction), composed from recorded elementwise ops so it runs on every device and its
 * gradients (of the logits, the target and the weights) are theirs.
 *
 * Stability: loss = (1 - t) x + lw softplus(-x), lw = 1 + (pos_weight - 1) t, with softplus(-x)
 * = log1p(e^-x) for x > 0 and -x + log1p(e^x) otherwise, so exp only ever sees -|x| and never
 * overflows. log1p(e) is log(u) - ((u - 1) - e) / u with u = 1 + e rounded: the correction
 * restores what rounding 1 + e lost, so a tiny loss (a confident right answer) keeps its digits.
 * Each side is smooth where it is chosen (-|x| is taken as -x or x by a where, not by abs), so
 * at x = 0 the gradient is sigmoid's, as PyTorch's. */
#include "../autocast.h"
#include "../autograd/autograd.h"
#include "../dtype.h"
#include "../half.h"
#include "../error.h"
#include "../ewise.h"
#include "../iter.h"
#include "../tensor.h"
#include "reduction.h"

#define MAX_TEMPS 24

/* The temporaries of one composition, released together. */
typedef struct temps {
    nb_tensor *t[MAX_TEMPS];
    int n;
} temps;

static nb_tensor *keep(temps *k, nb_tensor *t)
{
    k->t[k->n++] = t;
    return t;
}

static bool check_extra(const char *op, const char *name, const nb_tensor *input, const nb_tensor *p)
{
    if (!p) return true;
    const nb_tensor *both[2] = {input, p};
    if (!nb__check_devices(op, 2, both)) return false;
    if (!nb__is_floating(p->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a float32 or float64 %s, got %s", op, name, nb_dtype_name(p->dtype)),
               false;
    int nd;
    int64_t shape[NB_MAX_DIMS];
    if (!nb__broadcast_shapes(op, 2, both, &nd, shape)) return false;
    bool same = nd == input->ndim;
    for (int i = 0; i < nd && same; i++) same = shape[i] == input->shape[i];
    if (!same) {
        char ps[160], xs[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected a %s that broadcasts to the input's shape %s, got %s", op, name,
                        nb__shape_string(input->ndim, input->shape, xs, sizeof xs),
                        nb__shape_string(p->ndim, p->shape, ps, sizeof ps)),
               false;
    }
    return true;
}

nb_tensor *nb_binary_cross_entropy_with_logits(const nb_tensor *input, const nb_tensor *target,
                                               const nb_bce_with_logits_options *options)
{
    const char *op = "nb_binary_cross_entropy_with_logits";
    const nb_bce_with_logits_options o = options ? *options : (nb_bce_with_logits_options){0};
    if (nb__is_null(op, "input", input) || nb__is_null(op, "target", target)) return NULL;
    const nb_tensor *four[4] = {input, target, o.weight, o.pos_weight};
    nb__autocast ac; /* float32 under autocast, on the CPU and CUDA */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_ALL, 4, four)) {
        const nb_bce_with_logits_options co = {.weight = ac.t[2], .pos_weight = ac.t[3], .reduction = o.reduction};
        return nb__autocast_done(&ac, nb_binary_cross_entropy_with_logits(ac.t[0], ac.t[1], &co));
    }
    if (nb__any_half(4, four) && nb__is_float_kind(input->dtype) && nb__is_float_kind(target->dtype) &&
        (!o.weight || nb__is_float_kind(o.weight->dtype)) && (!o.pos_weight || nb__is_float_kind(o.pos_weight->dtype))) {
        /* in float32, rounded once to the promoted dtype of input and target (lib/half.c) */
        nb_bce_with_logits_options wo = o;
        nb_tensor *wi = nb__widen(input), *wt = nb__widen(target);
        nb_tensor *ww = o.weight ? nb__widen(o.weight) : NULL, *wp = o.pos_weight ? nb__widen(o.pos_weight) : NULL;
        wo.weight = ww;
        wo.pos_weight = wp;
        nb_tensor *r = wi && wt && (ww || !o.weight) && (wp || !o.pos_weight)
                           ? nb_binary_cross_entropy_with_logits(wi, wt, &wo)
                           : NULL;
        nb_release(wi);
        nb_release(wt);
        nb_release(ww);
        nb_release(wp);
        return nb__narrow(r, nb__promote(input->dtype, target->dtype));
    }
    const nb_tensor *both[2] = {input, target};
    if (!nb__check_devices(op, 2, both)) return NULL;
    if (!nb__is_floating(input->dtype) || !nb__is_floating(target->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating input and target (float32, float64, float16 or bfloat16), got %s and %s", op,
                        nb_dtype_name(input->dtype), nb_dtype_name(target->dtype));
    bool same = input->ndim == target->ndim;
    for (int i = 0; i < input->ndim && same; i++) same = input->shape[i] == target->shape[i];
    if (!same) {
        char xs[160], ts[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected a target of the input's shape %s, got %s", op,
                        nb__shape_string(input->ndim, input->shape, xs, sizeof xs),
                        nb__shape_string(target->ndim, target->shape, ts, sizeof ts));
    }
    if (!check_extra(op, "weight", input, o.weight) || !check_extra(op, "pos_weight", input, o.pos_weight) ||
        !nb__check_reduction(op, o.reduction))
        return NULL;

    nb__tracking_pause();
    temps k = {.n = 0};
    const nb_tensor *x = input, *t = target;
    nb_tensor *pos = keep(&k, nb_gt_scalar(x, 0.0));
    nb_tensor *m = keep(&k, nb_where(pos, keep(&k, nb_neg(x)), x)); /* -|x| */
    nb_tensor *e = keep(&k, nb_exp(m));                              /* in (0, 1] */
    nb_tensor *u = keep(&k, nb_add_scalar(e, 1.0));
    nb_tensor *lost = keep(&k, nb_sub(keep(&k, nb_sub_scalar(u, 1.0)), e)); /* u - 1 - e: the rounding */
    nb_tensor *log1p_e = keep(&k, nb_sub(keep(&k, nb_log(u)), keep(&k, nb_div(lost, u))));
    /* (1 - t) x + lw softplus(-x) as (1 - t) x + lw log1p(e^-x) where x > 0, and
     * -(pw t) x + lw log1p(e^x) elsewhere: the gradient there is lw e/(1+e) - pw t, sigmoid's
     * tiny value kept rather than found as 1 - 1/(1+e) */
    const nb_tensor *pwt = o.pos_weight ? keep(&k, nb_mul(o.pos_weight, t)) : t;
    nb_tensor *lin = keep(&k, nb_where(pos, keep(&k, nb_mul(keep(&k, nb_rsub_scalar(t, 1.0)), x)),
                                       keep(&k, nb_neg(keep(&k, nb_mul(pwt, x))))));
    nb_tensor *sp = log1p_e;
    if (o.pos_weight) {
        nb_tensor *lw = keep(&k, nb_add_scalar(keep(&k, nb_mul(keep(&k, nb_sub_scalar(o.pos_weight, 1.0)), t)), 1.0));
        sp = keep(&k, nb_mul(lw, sp));
    }
    nb_tensor *loss = nb_add(lin, sp);
    if (o.weight) {
        nb_tensor *weighted = nb_mul(loss, o.weight);
        nb_release(loss);
        loss = weighted;
    }
    loss = nb__reduce_loss(loss, o.reduction);
    for (int i = 0; i < k.n; i++) nb_release(k.t[i]);
    nb__tracking_resume();
    if (loss) nb__scope_register(loss);
    return loss;
}
