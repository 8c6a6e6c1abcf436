/* backward_ewise.c — gradients of the elementwise ops (backward.h says what each formula gets
 * and gives). Saved slots: input 0 in slot 0, input 1 in slot 1, the output in slot 2. */
#include "backward.h"

#include "../ewise.h"
#include "autograd.h"

#include <float.h>
#include <math.h>

#define NEEDS(n, i) ((n)->next[i].node != NULL)
#define SAVED(n, slot, var)                                                                      \
    nb_tensor *var = nb__node_saved(n, slot);                                                    \
    if (!var) return nb_last_status()

/* out = -g */
static nb_status neg_into(nb_tensor *g, nb_tensor **out)
{
    *out = nb_neg(g);
    return *out ? NB_OK : nb_last_status();
}

nb_status nb__backward_pass(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    for (int i = 0; i < n->num_inputs; i++)
        if (NEEDS(n, i)) gi[i] = nb_retain(g);
    return NB_OK;
}

nb_status nb__backward_sub(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    if (NEEDS(n, 0)) gi[0] = nb_retain(g);
    return NEEDS(n, 1) ? neg_into(g, &gi[1]) : NB_OK;
}

nb_status nb__backward_neg(nb_node *n, nb_tensor *g, nb_tensor **gi) { (void)n; return neg_into(g, &gi[0]); }

nb_status nb__backward_mul(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    if (NEEDS(n, 0)) {
        SAVED(n, 1, b);
        gi[0] = nb_mul(g, b);
    }
    if (NEEDS(n, 1)) {
        SAVED(n, 0, a);
        gi[1] = nb_mul(g, a);
    }
    return nb_last_status();
}

nb_status nb__backward_div(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 1, b);
    nb_tensor *g_over_b = nb_div(g, b); /* d/da (a / b) = 1 / b */
    if (NEEDS(n, 1)) {                  /* d/db (a / b) = -a / b^2 */
        SAVED(n, 0, a);
        nb_tensor *ga = nb_mul(g_over_b, a);
        nb_tensor *t = nb_div(ga, b);
        gi[1] = nb_neg(t);
        nb_release(ga), nb_release(t);
    }
    if (NEEDS(n, 0))
        gi[0] = g_over_b;
    else
        nb_release(g_over_b);
    return nb_last_status();
}

/* g * e * a^(e - 1), with the exponent as a tensor (pow) or a scalar (pow_scalar) */
nb_status nb__backward_pow(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a);
    if (NEEDS(n, 0)) {
        SAVED(n, 1, e);
        nb_tensor *em1 = nb_add_scalar(e, -1.0);
        nb_tensor *p = nb_pow(a, em1);
        nb_tensor *ep = nb_mul(e, p);
        gi[0] = nb_mul(g, ep);
        nb_release(em1), nb_release(p), nb_release(ep);
    }
    if (NEEDS(n, 1)) { /* g * a^e * log(a), 0 where a == 0 (PyTorch's convention) */
        SAVED(n, 2, y);
        nb_tensor *la = nb_log(a);
        nb_tensor *yl = nb_mul(y, la);
        nb_tensor *zero = nb_eq_scalar(a, 0.0);
        nb_tensor *safe = nb_masked_fill(yl, zero, 0.0);
        gi[1] = nb_mul(g, safe);
        nb_release(la), nb_release(yl), nb_release(zero), nb_release(safe);
    }
    return nb_last_status();
}

/* maximum (take_min false): a gets g where a > b, b where b > a, and each half of g where they
 * are equal; minimum the same with the comparisons turned round (PyTorch's formulas, so where
 * one is NaN both get g) */
static nb_status pair_extreme_backward(nb_node *n, nb_tensor *g, nb_tensor **gi, bool take_min)
{
    SAVED(n, 0, a);
    SAVED(n, 1, b);
    nb_tensor *tie = nb_eq(a, b);
    nb_tensor *half = nb_mul_scalar(g, 0.5);
    nb_tensor *shared = nb_where(tie, half, g); /* g, halved where a == b */
    if (NEEDS(n, 0)) {
        nb_tensor *a_loses = take_min ? nb_gt(a, b) : nb_lt(a, b);
        gi[0] = nb_masked_fill(shared, a_loses, 0.0);
        nb_release(a_loses);
    }
    if (NEEDS(n, 1)) {
        nb_tensor *b_loses = take_min ? nb_lt(a, b) : nb_gt(a, b);
        gi[1] = nb_masked_fill(shared, b_loses, 0.0);
        nb_release(b_loses);
    }
    nb_release(tie), nb_release(half), nb_release(shared);
    return nb_last_status();
}

nb_status nb__backward_maximum(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    return pair_extreme_backward(n, g, gi, false);
}

nb_status nb__backward_minimum(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    return pair_extreme_backward(n, g, gi, true);
}

nb_status nb__backward_pow_scalar(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    double e = n->args.scalars.a;
    if (e == 0.0) {
        gi[0] = nb_zeros_like(g);
        return nb_last_status();
    }
    SAVED(n, 0, a);
    nb_tensor *p = nb_pow_scalar(a, e - 1.0);
    nb_tensor *ep = nb_mul_scalar(p, e);
    gi[0] = nb_mul(g, ep);
    nb_release(p), nb_release(ep);
    return nb_last_status();
}

nb_status nb__backward_square(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a);
    nb_tensor *two_a = nb_mul_scalar(a, 2.0);
    gi[0] = nb_mul(g, two_a);
    nb_release(two_a);
    return nb_last_status();
}

nb_status nb__backward_abs(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a); /* g * sign(a), sign(0) = 0 */
    nb_tensor *pos = nb_gt_scalar(a, 0.0), *neg = nb_lt_scalar(a, 0.0);
    nb_tensor *ng = nb_neg(g);
    nb_tensor *zero = nb_zeros_like(g);
    nb_tensor *t = nb_where(neg, ng, zero);
    gi[0] = nb_where(pos, g, t);
    nb_release(pos), nb_release(neg), nb_release(ng), nb_release(zero), nb_release(t);
    return nb_last_status();
}

nb_status nb__backward_exp(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y);
    gi[0] = nb_mul(g, y);
    return nb_last_status();
}

nb_status nb__backward_log(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a);
    gi[0] = nb_div(g, a);
    return nb_last_status();
}

nb_status nb__backward_sqrt(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* g / (2 sqrt(a)) */
    nb_tensor *two_y = nb_mul_scalar(y, 2.0);
    gi[0] = nb_div(g, two_y);
    nb_release(two_y);
    return nb_last_status();
}

nb_status nb__backward_sigmoid(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* g y (1 - y) */
    nb_tensor *one_minus = nb_rsub_scalar(y, 1.0);
    nb_tensor *d = nb_mul(y, one_minus);
    gi[0] = nb_mul(g, d);
    nb_release(one_minus), nb_release(d);
    return nb_last_status();
}

nb_status nb__backward_tanh(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* g (1 - y^2) */
    nb_tensor *y2 = nb_mul(y, y);
    nb_tensor *d = nb_rsub_scalar(y2, 1.0);
    gi[0] = nb_mul(g, d);
    nb_release(y2), nb_release(d);
    return nb_last_status();
}

nb_status nb__backward_relu(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a); /* g where the input is positive (PyTorch's threshold_backward), one kernel:
                     * a >= the smallest positive value of a's dtype, up to infinity */
    double smallest = a->dtype == NB_FLOAT32 ? (double)FLT_TRUE_MIN : DBL_TRUE_MIN;
    const nb_tensor *in[2] = {g, a};
    gi[0] = nb__ewise("nb_relu (backward)", NB_EW_CLAMP_BACKWARD, 2, in, (nb_scalars){smallest, INFINITY});
    return nb_last_status();
}

nb_status nb__backward_clamp(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a); /* g where min <= a <= max, like PyTorch */
    const nb_tensor *in[2] = {g, a};
    gi[0] = nb__ewise("nb_clamp (backward)", NB_EW_CLAMP_BACKWARD, 2, in,
                      (nb_scalars){n->args.scalars.a, n->args.scalars.b});
    return nb_last_status();
}

nb_status nb__backward_mul_scalar(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = nb_mul_scalar(g, n->args.scalars.a);
    return nb_last_status();
}

nb_status nb__backward_div_scalar(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = nb_div_scalar(g, n->args.scalars.a);
    return nb_last_status();
}

nb_status nb__backward_axpy(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    if (NEEDS(n, 0)) gi[0] = nb_retain(g);
    if (NEEDS(n, 1)) gi[1] = nb_mul_scalar(g, n->args.scalars.a);
    return nb_last_status();
}

nb_status nb__backward_masked_fill(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 1, mask);
    gi[0] = nb_masked_fill(g, mask, 0.0);
    return nb_last_status();
}

nb_status nb__backward_where(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, cond); /* a gets g where cond holds, b where it does not */
    nb_tensor *not_cond = nb_eq_scalar(cond, 0.0);
    if (NEEDS(n, 1)) gi[1] = nb_masked_fill(g, not_cond, 0.0);
    if (NEEDS(n, 2)) gi[2] = nb_masked_fill(g, cond, 0.0);
    nb_release(not_cond);
    return nb_last_status();
}
