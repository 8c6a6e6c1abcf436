/* backward_reduce.c — gradients of sum, mean, max and min (over everything or one dim), and of
 * the matrix products. */
#include "backward.h"

#include "autograd.h"

/* g (shaped like the reduction's output) broadcast back over the input's shape */
static nb_tensor *expand_back(nb_node *n, nb_tensor *g)
{
    const nb_input_meta *m = &n->input[0];
    const int dim = n->args.reduce.dim;
    nb_tensor *gk = (dim >= 0 && !n->args.reduce.keepdim && m->ndim > 0) ? nb_unsqueeze(g, dim) : nb_retain(g);
    nb_tensor *e = gk ? nb_expand(gk, m->ndim, m->shape) : NULL;
    nb_release(gk);
    return e;
}

nb_status nb__backward_sum(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = expand_back(n, g);
    return nb_last_status();
}

nb_status nb__backward_mean(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    const int dim = n->args.reduce.dim;
    double count = dim >= 0 && m->ndim > 0 ? (double)m->shape[dim] : (double)nb__numel_of(m->ndim, m->shape);
    nb_tensor *scaled = nb_div_scalar(g, count);
    gi[0] = scaled ? expand_back(n, scaled) : NULL;
    nb_release(scaled);
    return nb_last_status();
}

/* max/min over everything: the gradient is shared evenly by the elements equal to the result */
static nb_status extreme_all_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *in = nb__node_saved(n, 0), *out = in ? nb__node_saved(n, 2) : NULL;
    if (!out) return nb_last_status();
    nb_tensor *hit = nb_eq(in, out);
    nb_tensor *hitf = nb_to_dtype(hit, g->dtype);
    nb_tensor *count = nb_sum(hitf);
    nb_tensor *share = nb_div(g, count);
    gi[0] = nb_mul(hitf, share);
    nb_release(hit), nb_release(hitf), nb_release(count), nb_release(share);
    return nb_last_status();
}

/* max/min along a dim: the gradient goes to the index each value came from */
static nb_status extreme_dim_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    nb_tensor *idx = nb__node_saved(n, 1);
    if (!idx) return nb_last_status();
    if (m->ndim == 0) {
        gi[0] = nb_reshape(g, 0, NULL);
        return nb_last_status();
    }
    const int dim = n->args.reduce.dim;
    const bool keepdim = n->args.reduce.keepdim;
    int64_t pos_shape[NB_MAX_DIMS];
    for (int i = 0; i < m->ndim; i++) pos_shape[i] = i == dim ? m->shape[i] : 1;
    nb_tensor *range = nb_arange(0, (double)m->shape[dim], 1, NB_OPTS(NB_INT64, .device = g->storage->device));
    nb_tensor *pos = nb_reshape(range, m->ndim, pos_shape); /* [1, .., size, .., 1] */
    nb_tensor *idxk = keepdim ? nb_retain(idx) : nb_unsqueeze(idx, dim);
    nb_tensor *gk = keepdim ? nb_retain(g) : nb_unsqueeze(g, dim);
    nb_tensor *hit = nb_eq(pos, idxk); /* one-hot along dim, the input's shape */
    nb_tensor *hitf = nb_to_dtype(hit, g->dtype);
    gi[0] = nb_mul(hitf, gk);
    nb_release(range), nb_release(pos), nb_release(idxk), nb_release(gk), nb_release(hit), nb_release(hitf);
    return nb_last_status();
}

nb_status nb__backward_extreme(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    return n->args.reduce.dim >= 0 ? extreme_dim_backward(n, g, gi) : extreme_all_backward(n, g, gi);
}

/* p @ q, computed as (q^T @ p^T)^T when column_major, so the result is a transposed view of a
 * contiguous matrix: the layout of the input whose gradient it is. */
static nb_tensor *product_in_layout(nb_tensor *p, nb_tensor *q, bool column_major)
{
    if (!column_major) return nb_mm(p, q);
    nb_tensor *qt = nb_t(q), *pt = nb_t(p);
    nb_tensor *r = nb_mm(qt, pt);
    nb_tensor *result = nb_t(r);
    nb_release(qt), nb_release(pt), nb_release(r);
    return result;
}

/* a was saved only when b needs a gradient, and b only when a does */
nb_status nb__backward_mm(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    bool batched = n->input[0].ndim == 3;
    if (n->next[0].node) { /* g @ b^T */
        nb_tensor *b = nb__node_saved(n, 1);
        if (!b) return nb_last_status();
        nb_tensor *bt = batched ? nb_transpose(b, 1, 2) : nb_t(b);
        gi[0] = batched ? nb_matmul(g, bt) : product_in_layout(g, bt, n->args.mm.column_major[0]);
        nb_release(bt);
    }
    if (n->next[1].node) { /* a^T @ g */
        nb_tensor *a = nb__node_saved(n, 0);
        if (!a) return nb_last_status();
        nb_tensor *at = batched ? nb_transpose(a, 1, 2) : nb_t(a);
        gi[1] = batched ? nb_matmul(at, g) : product_in_layout(at, g, n->args.mm.column_major[1]);
        nb_release(at);
    }
    return nb_last_status();
}
