/* record.c — the hooks through which ops record nodes on the tape when grad mode is on and an
 * input requires grad. */
#include "record.h"

#include "../error.h"
#include "autograd.h"
#include "backward_ewise.h"
#include "backward_reduce.h"
#include "backward_shape.h"

/* A node over n inputs, made the history of out. */
static nb_node *record(const char *name, const char *op, nb_backward_fn fn, nb_tensor *out, int n,
                       const nb_tensor *const *inputs)
{
    nb_node *node = nb__node_new(name, op, fn, n, inputs);
    if (node) nb__set_history(out, node);
    return node;
}

bool nb__autograd_record_ewise(const char *name, nb_ew_op op, nb_tensor *out, int n,
                               const nb_tensor *const *inputs, nb_scalars s)
{
    const nb_ew_grad *def = &nb_ew_grads[op];
    if (!def->backward || !nb__needs_graph(n, inputs)) return true;
    nb_node *node = record(def->name, name, def->backward, out, n, inputs);
    if (!node) return false;
    node->op_id = op;
    node->scalar[0] = s.a;
    node->scalar[1] = s.b;
    bool ok = true;
    if (def->save & SAVE_IN0) ok = ok && nb__node_save(node, 0, inputs[0], false);
    if (def->save & SAVE_IN1) ok = ok && nb__node_save(node, 1, inputs[1], false);
    if (def->save & SAVE_OUT) ok = ok && nb__node_save(node, 2, out, true);
    return ok;
}

/* In-place ops under autograd run out of place (lib/ewise.c); only fill_ reaches here, and
 * cuts the gradient to the target's old values. */
bool nb__autograd_record_ewise_(const char *name, nb_ew_op op, nb_tensor *target, int n,
                                const nb_tensor *const *others, nb_scalars s)
{
    (void)others, (void)n, (void)s;
    if (op != NB_EW_FILL || !nb__needs_graph(1, (const nb_tensor *const *)&target)) return true;
    const nb_tensor *in[1] = {target};
    const nb_named_backward *f = &nb_shape_grads_table.fill;
    return record(f->name, name, f->backward, target, 1, in) != NULL;
}

void nb__autograd_take_history(nb_tensor *target, const nb_tensor *src)
{
    if (!src->grad_fn) return;
    atomic_fetch_add_explicit(&src->grad_fn->refcount, 1, memory_order_relaxed);
    nb__set_history(target, src->grad_fn);
}

bool nb__autograd_check_inplace(const char *op, const nb_tensor *t)
{
    if (!nb__grad_enabled()) return true;
    if (t->requires_grad && !t->grad_fn && !t->is_view)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "%s: a leaf tensor that requires grad cannot be modified in place; update it "
                        "inside nb_no_grad_begin/nb_no_grad_end, or work on nb_detach(t)",
                        op),
               false;
    if (t->requires_grad && t->is_view)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "%s: in-place ops on a view of a tensor that requires grad are not supported; "
                        "apply the op out of place or on a clone",
                        op),
               false;
    return true;
}

static const char *view_name(nb_view_kind kind)
{
    switch (kind) {
    case NB_VIEW_RESHAPE: return nb_shape_grads_table.reshape;
    case NB_VIEW_PERMUTE: return nb_shape_grads_table.permute;
    case NB_VIEW_NARROW: return nb_shape_grads_table.narrow;
    case NB_VIEW_SELECT: return nb_shape_grads_table.select;
    case NB_VIEW_EXPAND: return nb_shape_grads_table.expand;
    }
    return nb_shape_grads_table.view.name;
}

bool nb__autograd_record_view(const char *name, nb_tensor *out, const nb_tensor *in,
                              const nb_view_args *args)
{
    out->is_view = true;
    if (!nb__needs_graph(1, &in)) return true;
    nb_node *node = record(view_name(args->kind), name, nb_shape_grads_table.view.backward, out, 1, &in);
    if (!node) return false;
    node->op_id = args->kind;
    node->dim = args->dim;
    node->start = args->start;
    node->length = args->length;
    for (int i = 0; i < NB_MAX_DIMS; i++) node->perm[i] = args->perm[i];
    return true;
}

bool nb__autograd_record_cat(nb_tensor *out, int n, nb_tensor *const *inputs, int dim)
{
    if (!nb__needs_graph(n, (const nb_tensor *const *)inputs)) return true;
    const nb_named_backward *f = &nb_shape_grads_table.cat;
    nb_node *node = record(f->name, "nb_cat", f->backward, out, n, (const nb_tensor *const *)inputs);
    if (node) node->dim = dim;
    return node != NULL;
}

bool nb__autograd_record_copy(const char *name, nb_tensor *out, const nb_tensor *in, bool inplace)
{
    if (!inplace) {
        if (!nb__needs_graph(1, &in)) return true;
        const nb_named_backward *f = &nb_shape_grads_table.copy;
        return record(f->name, name, f->backward, out, 1, &in) != NULL;
    }
    const nb_tensor *both[2] = {out, in};
    if (!nb__needs_graph(2, both)) return true;
    if (out->is_view)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "%s: copying a tensor that requires grad into a view cannot be recorded for "
                        "autograd; copy into a whole tensor instead",
                        name),
               false;
    const nb_named_backward *f = &nb_shape_grads_table.copy_inplace;
    return record(f->name, name, f->backward, out, 2, both) != NULL;
}

bool nb__autograd_record_to(nb_tensor *out, const nb_tensor *in)
{
    if (!nb__needs_graph(1, &in)) return true;
    const nb_named_backward *f = &nb_shape_grads_table.to;
    return record(f->name, "nb_to", f->backward, out, 1, &in) != NULL;
}

bool nb__autograd_record_reduce(const char *name, nb_reduce_op op, nb_tensor *out, const nb_tensor *in,
                                int dim, bool keepdim, const nb_tensor *indices)
{
    if (!nb__needs_graph(1, &in)) return true;
    const nb_named_backward *f = &nb_reduce_grads[op];
    nb_node *node = record(f->name, name, f->backward, out, 1, &in);
    if (!node) return false;
    node->op_id = op;
    node->dim = dim;
    node->keepdim = keepdim;
    if (op == NB_REDUCE_MAX || op == NB_REDUCE_MIN) {
        if (indices) return nb__node_save(node, 1, indices, false);
        return nb__node_save(node, 0, in, false) && nb__node_save(node, 2, out, true);
    }
    return true;
}

/* A 2-D matrix stored column by column (a transposed view of a row-major one). */
static bool is_column_major(const nb_tensor *t)
{
    return t->ndim == 2 && t->shape[0] > 1 && t->shape[1] > 1 && t->strides[0] == 1 && t->strides[1] >= t->shape[0];
}

bool nb__autograd_record_mm(const char *name, nb_tensor *out, const nb_tensor *a, const nb_tensor *b)
{
    const nb_tensor *in[2] = {a, b};
    if (!nb__needs_graph(2, in)) return true;
    const nb_named_backward *f = a->ndim == 3 ? &nb_bmm_grad : &nb_mm_grad;
    nb_node *node = record(f->name, name, f->backward, out, 2, in);
    if (!node) return false;
    /* each input's layout, so its gradient is made in the same one (a transposed weight gets a
     * transposed gradient, which its view's backward turns back into a contiguous one) */
    node->perm[0] = is_column_major(a);
    node->perm[1] = is_column_major(b);
    /* only what the other side's gradient needs */
    bool ok = true;
    if (node->next[1].node) ok = ok && nb__node_save(node, 0, a, false);
    if (node->next[0].node) ok = ok && nb__node_save(node, 1, b, false);
    return ok;
}
