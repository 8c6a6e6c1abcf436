/* backward_math.c — gradients of the activations (one fused kernel each: PyTorch's formulas),
 * the math ops, the rounding ops (a zero gradient, as PyTorch's) and lerp. Saved slots as in
 * backward_ewise.c: input 0 in slot 0, input 1 in slot 1, the output (lerp: its weight) in slot 2. */
#include "backward.h"

#include "../ewise.h"
#include "autograd.h"

#include <math.h>

#define NEEDS(n, i) ((n)->next[i].node != NULL)
#define SAVED(n, slot, var)                                                                      \
    nb_tensor *var = nb__node_saved(n, slot);                                                    \
    if (!var) return nb_last_status()

/* gi[0] = op(g, x) for the saved input x, the node's scalars passed on */
static nb_status fused(nb_node *n, nb_tensor *g, nb_tensor **gi, const char *name, nb_ew_op op)
{
    SAVED(n, 0, x);
    const nb_tensor *in[2] = {g, x};
    gi[0] = nb__ewise(name, op, 2, in, (nb_scalars){n->args.scalars.a, n->args.scalars.b});
    return nb_last_status();
}

nb_status nb__backward_gelu(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    return fused(n, g, gi, "nb_gelu (backward)", NB_EW_GELU_BACKWARD);
}

nb_status nb__backward_silu(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    return fused(n, g, gi, "nb_silu (backward)", NB_EW_SILU_BACKWARD);
}

nb_status nb__backward_leaky_relu(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    return fused(n, g, gi, "nb_leaky_relu (backward)", NB_EW_LEAKY_RELU_BACKWARD);
}

nb_status nb__backward_softplus(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    return fused(n, g, gi, "nb_softplus (backward)", NB_EW_SOFTPLUS_BACKWARD);
}

nb_status nb__backward_erf(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, x); /* g 2/sqrt(pi) e^(-x^2) */
    nb_tensor *x2 = nb_mul(x, x);
    nb_tensor *nx2 = nb_neg(x2);
    nb_tensor *e = nb_exp(nx2);
    nb_tensor *d = nb_mul_scalar(e, 1.12837916709551257390);
    gi[0] = nb_mul(g, d);
    nb_release(x2), nb_release(nx2), nb_release(e), nb_release(d);
    return nb_last_status();
}

nb_status nb__backward_sin(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, x); /* g cos(x) */
    nb_tensor *c = nb_cos(x);
    gi[0] = nb_mul(g, c);
    nb_release(c);
    return nb_last_status();
}

nb_status nb__backward_cos(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, x); /* -g sin(x) */
    nb_tensor *s = nb_sin(x);
    nb_tensor *gs = nb_mul(g, s);
    gi[0] = nb_neg(gs);
    nb_release(s), nb_release(gs);
    return nb_last_status();
}

nb_status nb__backward_log1p(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 0, x); /* g / (1 + x) */
    nb_tensor *x1 = nb_add_scalar(x, 1.0);
    gi[0] = nb_div(g, x1);
    nb_release(x1);
    return nb_last_status();
}

nb_status nb__backward_expm1(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* g (y + 1) */
    nb_tensor *y1 = nb_add_scalar(y, 1.0);
    gi[0] = nb_mul(g, y1);
    nb_release(y1);
    return nb_last_status();
}

nb_status nb__backward_rsqrt(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* -g y^3 / 2 */
    nb_tensor *y3 = nb_pow_scalar(y, 3.0);
    nb_tensor *d = nb_mul_scalar(y3, -0.5);
    gi[0] = nb_mul(g, d);
    nb_release(y3), nb_release(d);
    return nb_last_status();
}

nb_status nb__backward_reciprocal(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, y); /* -g y^2 */
    nb_tensor *y2 = nb_mul(y, y);
    nb_tensor *d = nb_neg(y2);
    gi[0] = nb_mul(g, d);
    nb_release(y2), nb_release(d);
    return nb_last_status();
}

nb_status nb__backward_zero(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    (void)n;
    gi[0] = nb_zeros_like(g);
    return nb_last_status();
}

/* start gets g (1 - w), end g w, the weight g (end - start) */
nb_status nb__backward_lerp(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    SAVED(n, 2, w);
    if (NEEDS(n, 0)) {
        nb_tensor *one_minus = nb_rsub_scalar(w, 1.0);
        gi[0] = nb_mul(g, one_minus);
        nb_release(one_minus);
    }
    if (NEEDS(n, 1)) gi[1] = nb_mul(g, w);
    if (NEEDS(n, 2)) {
        SAVED(n, 0, start);
        SAVED(n, 1, end);
        nb_tensor *diff = nb_sub(end, start);
        gi[2] = nb_mul(g, diff);
        nb_release(diff);
    }
    return nb_last_status();
}

nb_status nb__backward_lerp_scalar(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const double w = n->args.scalars.a;
    if (NEEDS(n, 0)) gi[0] = nb_mul_scalar(g, 1.0 - w);
    if (NEEDS(n, 1)) gi[1] = nb_mul_scalar(g, w);
    return nb_last_status();
}
