/* dropout.c — nb_dropout and its node, DropoutBackward. Training draws a mask of x's shape and
 * dtype from the generator (kernels/random.h: element i is kept when its uniform value, a
 * bernoulli draw's, is below 1 - p) holding 1 / (1 - p) where kept and 0 elsewhere; the output is x times the mask, and the
 * gradient is the output's gradient times the same saved mask. The mask is drawn on x's device,
 * so a captured graph draws a new one at each replay. */
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../half.h"
#include "../random.h"
#include "../tensor.h"
#include "../view.h"

nb_status nb__backward_dropout(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *mask = nb__node_saved(node, 1);
    if (!mask) return nb_last_status();
    gi[0] = nb_mul(g, mask);
    return nb_last_status();
}

nb_tensor *nb_dropout(const nb_tensor *x, double p, bool training)
{
    const char *op = "nb_dropout";
    if (nb__is_null(op, "tensor", x)) return NULL;
    if (!(p >= 0 && p <= 1))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a dropout probability between 0 and 1, got %g", op, p);
    if (!training || p == 0) return nb__alias(op, x);
    if (nb__is_half(x->dtype)) { /* the mask and product in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(x);
        nb_tensor *r = w ? nb_dropout(w, p, training) : NULL;
        nb_release(w);
        return nb__narrow(r, x->dtype);
    }
    if (!nb__is_floating(x->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating tensor (float32, float64, float16 or bfloat16), got %s", op, nb_dtype_name(x->dtype));

    nb__tracking_pause();
    nb_tensor *mask = nb__alloc(op, x->ndim, x->shape, x->dtype, x->storage->device); /* like x, dense */
    if (mask) {
        nbk_random_args a = {.kind = NBK_RANDOM_BERNOULLI,
                             .a = 1.0 - p,
                             .b = p == 1 ? 0.0 : 1.0 / (1.0 - p),
                             .dtype = x->dtype,
                             .n = nb__numel_of(x->ndim, x->shape),
                             .out = nb__ptr(mask)};
        a.advance = nbk_random_counters(a.kind, a.dtype, a.n);
        /* p = 1 keeps nothing and draws nothing, as in PyTorch */
        const bool ok = p == 1 ? nb_fill_(mask, 0) != NULL : nb__random_draw(op, x->storage->device, &a) == NB_OK;
        if (!ok) {
            nb_release(mask);
            mask = NULL;
        }
    }
    nb_tensor *out = NULL;
    if (mask) {
        const nb_tensor *in[2] = {x, mask};
        nb_no_grad_begin();
        out = nb__ewise(op, NB_EW_MUL, 2, in, (nb_scalars){0, 0});
        nb_no_grad_end();
    }
    nb__tracking_resume();
    if (out && nb__needs_graph(1, &x)) {
        nb_node *node = nb__node_new(NB_NODE_DROPOUT, op, 1, &x);
        if (!node || !nb__node_save(node, 1, mask, false)) {
            if (node) nb__node_release(node);
            nb_release(out);
            out = NULL;
        } else {
            nb__set_history(out, node);
        }
    }
    nb_release(mask);
    if (out) nb__scope_register(out);
    return out;
}
