/* backward_ewise.c — gradients of the elementwise ops. Each formula gets the gradient g of the
 * output and writes the gradient of each input that needs one, before broadcasting is undone
 * (the engine sums each back to its input's shape and dtype). They run in no-grad mode. */
#include "backward_ewise.h"

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

static nb_status pass_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    for (int i = 0; i < n->num_inputs; i++)
        if (NEEDS(n, i)) gi[i] = nb_retain(g);
    return NB_OK;
}

static nb_status sub_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    if (NEEDS(n, 0)) gi[0] = nb_retain(g);
    return NEEDS(n, 1) ? neg_into(g, &gi[1]) : NB_OK;
}

static nb_status neg_backward(nb_node *n, nb_tensor *g, nb_tensor **gi) { (void)n; return neg_into(g, &gi[0]); }

static nb_status mul_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
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

static nb_status div_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
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
static nb_status pow_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
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

static nb_status pow_scalar_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    double e = n->scalar[0];
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

static nb_status square_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a);
    nb_tensor *two_a = nb_mul_scalar(a, 2.0);
    gi[0] = nb_mul(g, two_a);
    nb_release(two_a);
    return nb_last_status();
}

static nb_status abs_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
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

static nb_status exp_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y);
    gi[0] = nb_mul(g, y);
    return nb_last_status();
}

static nb_status log_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a);
    gi[0] = nb_div(g, a);
    return nb_last_status();
}

static nb_status sqrt_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* g / (2 sqrt(a)) */
    nb_tensor *two_y = nb_mul_scalar(y, 2.0);
    gi[0] = nb_div(g, two_y);
    nb_release(two_y);
    return nb_last_status();
}

static nb_status sigmoid_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* g y (1 - y) */
    nb_tensor *one_minus = nb_rsub_scalar(y, 1.0);
    nb_tensor *d = nb_mul(y, one_minus);
    gi[0] = nb_mul(g, d);
    nb_release(one_minus), nb_release(d);
    return nb_last_status();
}

static nb_status tanh_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* g (1 - y^2) */
    nb_tensor *y2 = nb_mul(y, y);
    nb_tensor *d = nb_rsub_scalar(y2, 1.0);
    gi[0] = nb_mul(g, d);
    nb_release(y2), nb_release(d);
    return nb_last_status();
}

static nb_status relu_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a); /* g where the input is positive (PyTorch's threshold_backward), one kernel:
                     * a >= the smallest positive value of a's dtype, up to infinity */
    double smallest = a->dtype == NB_FLOAT32 ? (double)FLT_TRUE_MIN : DBL_TRUE_MIN;
    const nb_tensor *in[2] = {g, a};
    gi[0] = nb__ewise("nb_relu (backward)", NB_EW_CLAMP_BACKWARD, 2, in, (nb_scalars){smallest, INFINITY});
    return nb_last_status();
}

static nb_status clamp_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, a); /* g where min <= a <= max, like PyTorch */
    const nb_tensor *in[2] = {g, a};
    gi[0] = nb__ewise("nb_clamp (backward)", NB_EW_CLAMP_BACKWARD, 2, in,
                      (nb_scalars){n->scalar[0], n->scalar[1]});
    return nb_last_status();
}

static nb_status mul_scalar_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = nb_mul_scalar(g, n->scalar[0]);
    return nb_last_status();
}

static nb_status div_scalar_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = nb_div_scalar(g, n->scalar[0]);
    return nb_last_status();
}

static nb_status axpy_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    if (NEEDS(n, 0)) gi[0] = nb_retain(g);
    if (NEEDS(n, 1)) gi[1] = nb_mul_scalar(g, n->scalar[0]);
    return nb_last_status();
}

static nb_status masked_fill_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 1, mask);
    gi[0] = nb_masked_fill(g, mask, 0.0);
    return nb_last_status();
}

static nb_status where_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, cond); /* a gets g where cond holds, b where it does not */
    nb_tensor *not_cond = nb_eq_scalar(cond, 0.0);
    if (NEEDS(n, 1)) gi[1] = nb_masked_fill(g, not_cond, 0.0);
    if (NEEDS(n, 2)) gi[2] = nb_masked_fill(g, cond, 0.0);
    nb_release(not_cond);
    return nb_last_status();
}

const nb_ew_grad nb_ew_grads[NB_EW_COUNT] = {
    [NB_EW_NEG] = {"NegBackward", neg_backward, 0},
    [NB_EW_ABS] = {"AbsBackward", abs_backward, SAVE_IN0},
    [NB_EW_EXP] = {"ExpBackward", exp_backward, SAVE_OUT},
    [NB_EW_LOG] = {"LogBackward", log_backward, SAVE_IN0},
    [NB_EW_SQRT] = {"SqrtBackward", sqrt_backward, SAVE_OUT},
    [NB_EW_SIGMOID] = {"SigmoidBackward", sigmoid_backward, SAVE_OUT},
    [NB_EW_TANH] = {"TanhBackward", tanh_backward, SAVE_OUT},
    [NB_EW_RELU] = {"ReluBackward", relu_backward, SAVE_IN0},
    [NB_EW_CLAMP] = {"ClampBackward", clamp_backward, SAVE_IN0},
    [NB_EW_ADD_SCALAR] = {"AddScalarBackward", pass_backward, 0},
    [NB_EW_MUL_SCALAR] = {"MulScalarBackward", mul_scalar_backward, 0},
    [NB_EW_DIV_SCALAR] = {"DivScalarBackward", div_scalar_backward, 0},
    [NB_EW_RSUB_SCALAR] = {"RsubScalarBackward", neg_backward, 0},
    [NB_EW_POW_SCALAR] = {"PowScalarBackward", pow_scalar_backward, SAVE_IN0},
    [NB_EW_SQUARE] = {"SquareBackward", square_backward, SAVE_IN0},
    [NB_EW_ADD] = {"AddBackward", pass_backward, 0},
    [NB_EW_SUB] = {"SubBackward", sub_backward, 0},
    [NB_EW_MUL] = {"MulBackward", mul_backward, SAVE_IN0 | SAVE_IN1},
    [NB_EW_DIV] = {"DivBackward", div_backward, SAVE_IN0 | SAVE_IN1},
    [NB_EW_POW] = {"PowBackward", pow_backward, SAVE_IN0 | SAVE_IN1 | SAVE_OUT},
    [NB_EW_AXPY] = {"AxpyBackward", axpy_backward, 0},
    [NB_EW_MASKED_FILL] = {"MaskedFillBackward", masked_fill_backward, SAVE_IN1},
    [NB_EW_WHERE] = {"WhereBackward", where_backward, SAVE_IN0},
};
