/* api.c — the autograd fields of a tensor as users see them: requires_grad, leaves, .grad,
 * grad_fn names, detach. */
#include "../error.h"
#include "../view.h"
#include "autograd.h"

nb_tensor *nb_requires_grad_(nb_tensor *t, bool requires_grad)
{
    if (nb__is_null("nb_requires_grad_", "tensor", t)) return NULL;
    if (t->grad_fn)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "nb_requires_grad_: only leaves can change requires_grad; this tensor was made by "
                        "%s (use nb_detach to get a leaf)",
                        t->grad_fn->op);
    if (requires_grad && t->dtype != NB_FLOAT32 && t->dtype != NB_FLOAT64 && t->dtype != NB_FLOAT16 &&
        t->dtype != NB_BFLOAT16)
        return nb__fail(NB_ERR_DTYPE, "nb_requires_grad_: only floating point tensors can require gradients, got %s",
                        nb_dtype_name(t->dtype));
    t->requires_grad = requires_grad;
    return t;
}

bool nb_requires_grad(const nb_tensor *t) { return t && t->requires_grad; }
bool nb_is_leaf(const nb_tensor *t) { return t && !t->grad_fn; }

nb_tensor *nb_grad(const nb_tensor *t)
{
    if (nb__is_null("nb_grad", "tensor", t)) return NULL;
    if (t->grad_fn)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "nb_grad: the tensor is not a leaf (it was made by %s), so backward does not keep "
                        "its gradient; use nb_grad_of to get gradients of intermediate tensors",
                        t->grad_fn->op);
    return t->grad;
}

nb_status nb_zero_grad(nb_tensor *t)
{
    if (nb__is_null("nb_zero_grad", "tensor", t)) return nb_last_status();
    if (!t->grad) return NB_OK;
    return nb_zero_(t->grad) ? NB_OK : nb_last_status();
}

const char *nb_grad_fn_name(const nb_tensor *t) { return t && t->grad_fn ? nb__node_name(t->grad_fn) : NULL; }

nb_tensor *nb_detach(const nb_tensor *t)
{
    if (nb__is_null("nb_detach", "tensor", t)) return NULL;
    nb_no_grad_begin();
    nb_tensor *d = nb__alias("nb_detach", t);
    nb_no_grad_end();
    if (d) d->is_view = false; /* a fresh leaf over the same elements */
    return d;
}
