/* record.c — the hooks through which ops record nodes on the tape when grad mode is on and an
 * input requires grad. */
#include "record.h"

#include "../error.h"
#include "autograd.h"

#include <string.h>

/* A node of kind over n inputs, recorded by op and made the history of out. */
static nb_node *record(nb_node_kind kind, const char *op, nb_tensor *out, int n, const nb_tensor *const *inputs)
{
    nb_node *node = nb__node_new(kind, op, n, inputs);
    if (node) nb__set_history(out, node);
    return node;
}

bool nb__autograd_record_ewise(const char *name, nb_ew_op op, nb_tensor *out, int n,
                               const nb_tensor *const *inputs, nb_scalars s)
{
    const nb_node_kind kind = nb_ew_node_kinds[op];
    if (kind == NB_NODE_NONE || !nb__needs_graph(n, inputs)) return true;
    nb_node *node = record(kind, name, out, n, inputs);
    if (!node) return false;
    node->args.scalars.a = s.a;
    node->args.scalars.b = s.b;
    /* the slots the kind's row names: input 0, input 1, the output */
    const char *const *saved = nb_node_defs[kind].saved;
    bool ok = true;
    if (saved[0]) ok = ok && nb__node_save(node, 0, inputs[0], false);
    if (saved[1]) ok = ok && nb__node_save(node, 1, inputs[1], false);
    if (n == 3 && saved[2] && strcmp(saved[2], NB_SAVED_INPUT2) == 0)
        ok = ok && nb__node_save(node, 2, inputs[2], false);
    else if (saved[2])
        ok = ok && nb__node_save(node, 2, out, true);
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
    return record(NB_NODE_FILL, name, target, 1, in) != NULL;
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

bool nb__autograd_record_view(const char *name, nb_tensor *out, const nb_tensor *in,
                              const nb_view_args *args)
{
    out->is_view = true;
    if (!nb__needs_graph(1, &in)) return true;
    static const nb_node_kind kinds[] = {
        [NB_VIEW_RESHAPE] = NB_NODE_RESHAPE, [NB_VIEW_PERMUTE] = NB_NODE_PERMUTE,
        [NB_VIEW_NARROW] = NB_NODE_NARROW,   [NB_VIEW_SELECT] = NB_NODE_SELECT,
        [NB_VIEW_EXPAND] = NB_NODE_EXPAND,
    };
    nb_node *node = record(kinds[args->kind], name, out, 1, &in);
    if (!node) return false;
    switch (args->kind) {
    case NB_VIEW_PERMUTE:
        for (int i = 0; i < NB_MAX_DIMS; i++) node->args.permute.perm[i] = args->perm[i];
        break;
    case NB_VIEW_NARROW:
        node->args.narrow.dim = args->dim;
        node->args.narrow.start = args->start;
        node->args.narrow.length = args->length;
        break;
    case NB_VIEW_SELECT:
        node->args.select.dim = args->dim;
        node->args.select.index = args->start;
        break;
    case NB_VIEW_RESHAPE:
    case NB_VIEW_EXPAND:
        break;
    }
    return true;
}

bool nb__autograd_record_cat(nb_tensor *out, int n, nb_tensor *const *inputs, int dim)
{
    if (!nb__needs_graph(n, (const nb_tensor *const *)inputs)) return true;
    nb_node *node = record(NB_NODE_CAT, "nb_cat", out, n, (const nb_tensor *const *)inputs);
    if (node) node->args.cat.dim = dim;
    return node != NULL;
}

bool nb__autograd_record_copy(const char *name, nb_tensor *out, const nb_tensor *in, bool inplace)
{
    if (!inplace) {
        if (!nb__needs_graph(1, &in)) return true;
        return record(NB_NODE_CLONE, name, out, 1, &in) != NULL;
    }
    const nb_tensor *both[2] = {out, in};
    if (!nb__needs_graph(2, both)) return true;
    if (out->is_view)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "%s: copying a tensor that requires grad into a view cannot be recorded for "
                        "autograd; copy into a whole tensor instead",
                        name),
               false;
    return record(NB_NODE_COPY, name, out, 2, both) != NULL;
}

bool nb__autograd_record_to(nb_tensor *out, const nb_tensor *in)
{
    if (!nb__needs_graph(1, &in)) return true;
    return record(NB_NODE_TO, "nb_to", out, 1, &in) != NULL;
}

bool nb__autograd_record_reduce(const char *name, nb_reduce_op op, nb_tensor *out, const nb_tensor *in,
                                int dim, bool keepdim, const nb_tensor *indices)
{
    if (!nb__needs_graph(1, &in)) return true;
    static const nb_node_kind kinds[] = {
        [NB_REDUCE_SUM] = NB_NODE_SUM, [NB_REDUCE_MEAN] = NB_NODE_MEAN,
        [NB_REDUCE_MAX] = NB_NODE_MAX, [NB_REDUCE_MIN] = NB_NODE_MIN,
    };
    nb_node *node = record(kinds[op], name, out, 1, &in);
    if (!node) return false;
    node->args.reduce.dim = dim;
    node->args.reduce.keepdim = keepdim;
    if (op == NB_REDUCE_MAX || op == NB_REDUCE_MIN) {
        if (indices) return nb__node_save(node, 1, indices, false);
        return nb__node_save(node, 0, in, false) && nb__node_save(node, 2, out, true);
    }
    return true;
}

bool nb__autograd_record_reduce_dims(const char *name, nb_reduce_dims_op op, nb_tensor *out,
                                     const nb_tensor *in, uint32_t mask, bool keepdim)
{
    if (!nb__needs_graph(1, &in)) return true;
    static const nb_node_kind kinds[] = {
        [NB_REDUCE_DIMS_SUM] = NB_NODE_SUM_DIMS, [NB_REDUCE_DIMS_MEAN] = NB_NODE_MEAN_DIMS,
        [NB_REDUCE_DIMS_AMAX] = NB_NODE_AMAX, [NB_REDUCE_DIMS_AMIN] = NB_NODE_AMIN,
    };
    nb_node *node = record(kinds[op], name, out, 1, &in);
    if (!node) return false;
    node->args.dims.mask = mask;
    node->args.dims.keepdim = keepdim;
    if (op == NB_REDUCE_DIMS_AMAX || op == NB_REDUCE_DIMS_AMIN)
        return nb__node_save(node, 0, in, false) && nb__node_save(node, 2, out, true);
    return true;
}

bool nb__autograd_record_node(nb_node_kind kind, const char *name, nb_tensor *out, int n,
                              const nb_tensor *const *inputs, struct nb_node **node)
{
    *node = NULL;
    if (!nb__needs_graph(n, inputs)) return true;
    *node = record(kind, name, out, n, inputs);
    return *node != NULL;
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
    nb_node *node = record(a->ndim == 3 ? NB_NODE_BMM : NB_NODE_MM, name, out, 2, in);
    if (!node) return false;
    /* each input's layout, so its gradient is made in the same one (a transposed weight gets a
     * transposed gradient, which its view's backward turns back into a contiguous one) */
    node->args.mm.column_major[0] = is_column_major(a);
    node->args.mm.column_major[1] = is_column_major(b);
    /* only what the other side's gradient needs */
    bool ok = true;
    if (node->next[1].node) ok = ok && nb__node_save(node, 0, a, false);
    if (node->next[0].node) ok = ok && nb__node_save(node, 1, b, false);
    return ok;
}
