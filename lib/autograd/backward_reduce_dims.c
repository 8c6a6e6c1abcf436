/* backward_reduce_dims.c — gradients of the reductions over a list of dims (sum, mean, amax,
 * amin, logsumexp, var, std, norm), of products, cumulative sums and top-k. */
#include "backward.h"

#include "../reduce.h"
#include "autograd.h"

/* g (shaped like the reduction's output) with the reduced dims of size 1 again, broadcast over
 * the input's shape. */
static nb_tensor *expand_dims_back(const nb_input_meta *m, uint32_t mask, nb_tensor *g)
{
    int64_t kshape[NB_MAX_DIMS];
    for (int i = 0; i < m->ndim; i++) kshape[i] = (mask & (1u << i)) ? 1 : m->shape[i];
    nb_tensor *gk = nb_reshape(g, m->ndim, kshape);
    nb_tensor *e = gk ? nb_expand(gk, m->ndim, m->shape) : NULL;
    nb_release(gk);
    return e;
}

static int64_t reduced_count(const nb_input_meta *m, uint32_t mask)
{
    int64_t count = 1;
    for (int i = 0; i < m->ndim; i++)
        if (mask & (1u << i)) count *= m->shape[i];
    return count;
}

nb_status nb__backward_sum_dims(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    const uint32_t mask = n->args.dims.mask;
    if (n->kind == NB_NODE_MEAN_DIMS) {
        nb_tensor *scaled = nb_div_scalar(g, (double)reduced_count(m, mask));
        gi[0] = scaled ? expand_dims_back(m, mask, scaled) : NULL;
        nb_release(scaled);
    } else {
        gi[0] = expand_dims_back(m, mask, g);
    }
    return nb_last_status();
}

/* amax/amin: each output's gradient shared evenly by the elements equal to it */
nb_status nb__backward_amax(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    const uint32_t mask = n->args.dims.mask;
    nb_tensor *in = nb__node_saved(n, 0), *out = in ? nb__node_saved(n, 2) : NULL;
    if (!out) return nb_last_status();
    int dims[NB_MAX_DIMS], nd = 0;
    for (int i = 0; i < m->ndim; i++)
        if (mask & (1u << i)) dims[nd++] = i;
    nb_tensor *outk = expand_dims_back(m, mask, out);
    nb_tensor *hit = nb_eq(in, outk);
    nb_tensor *hitf = nb_to_dtype(hit, g->dtype);
    nb_tensor *count = m->ndim > 0 ? nb_sum_dims(hitf, nd, dims, true) : nb_retain(hitf);
    nb_tensor *gk = expand_dims_back(m, mask, g);
    nb_tensor *share = nb_div(gk, count);
    gi[0] = nb_mul(hitf, share);
    nb_release(outk), nb_release(hit), nb_release(hitf), nb_release(count), nb_release(gk), nb_release(share);
    return nb_last_status();
}

/* prod: g times the product of the other elements (correct where the input has zeros) */
nb_status nb__backward_prod(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    const int dim = n->args.reduce.dim;
    nb_tensor *in = nb__node_saved(n, 0);
    if (!in) return nb_last_status();
    const uint32_t mask = dim >= 0 && m->ndim > 0 ? 1u << dim : (uint32_t)((1u << m->ndim) - 1);
    nb_tensor *others = nb__prod_others(in, dim);
    nb_tensor *gk = expand_dims_back(m, mask, g);
    gi[0] = nb_mul(gk, others);
    nb_release(others), nb_release(gk);
    return nb_last_status();
}

/* cumsum: the gradient of element i is the sum of g from i to the end of the dim, that is
 * sum(g) - cumsum(g) + g */
nb_status nb__backward_cumsum(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const int dim = n->args.reduce.dim;
    nb_tensor *total = nb_sum_dims(g, 1, (int[]){dim}, true);
    nb_tensor *running = nb_cumsum(g, dim);
    nb_tensor *rest = nb_sub(total, running);
    gi[0] = nb_add(rest, g);
    nb_release(total), nb_release(running), nb_release(rest);
    return nb_last_status();
}

/* topk: g goes back to where each value came from (one-hot along the dim, summed over k) */
nb_status nb__backward_topk(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    nb_tensor *idx = nb__node_saved(n, 1);
    if (!idx) return nb_last_status();
    if (m->ndim == 0) { /* k is 0 or 1 of one element */
        nb_tensor *s = nb_sum(g);
        gi[0] = s ? nb_reshape(s, 0, NULL) : NULL;
        nb_release(s);
        return nb_last_status();
    }
    const int dim = n->args.reduce.dim;
    int64_t pos_shape[NB_MAX_DIMS + 1];
    for (int i = 0; i <= m->ndim; i++) pos_shape[i] = i == dim ? m->shape[dim] : 1;
    nb_tensor *range = nb_arange(0, (double)m->shape[dim], 1, NB_OPTS(NB_INT64, .device = g->storage->device));
    nb_tensor *pos = nb_reshape(range, m->ndim + 1, pos_shape); /* [1, .., n, 1 (k), .., 1] */
    nb_tensor *idxu = nb_unsqueeze(idx, dim);                   /* [.., 1, k, ..] */
    nb_tensor *gu = nb_unsqueeze(g, dim);
    nb_tensor *hit = nb_eq(pos, idxu); /* [.., n, k, ..] */
    nb_tensor *hitf = nb_to_dtype(hit, g->dtype);
    nb_tensor *routed = nb_mul(hitf, gu);
    gi[0] = nb_sum_dims(routed, 1, (int[]){dim + 1}, false);
    nb_release(range), nb_release(pos), nb_release(idxu), nb_release(gu), nb_release(hit), nb_release(hitf),
        nb_release(routed);
    return nb_last_status();
}

/* the dims of mask as a list; returns how many */
static int dims_of(const nb_input_meta *m, uint32_t mask, int *dims)
{
    int nd = 0;
    for (int i = 0; i < m->ndim; i++)
        if (mask & (1u << i)) dims[nd++] = i;
    return nd;
}

/* logsumexp: g times softmax(x) over the reduced dims, exp(x - result) */
nb_status nb__backward_logsumexp(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    const uint32_t mask = n->args.stat.mask;
    nb_tensor *in = nb__node_saved(n, 0), *out = in ? nb__node_saved(n, 2) : NULL;
    if (!out) return nb_last_status();
    nb_tensor *outk = expand_dims_back(m, mask, out);
    nb_tensor *d = nb_sub(in, outk);
    nb_tensor *p = nb_exp(d);
    nb_tensor *gk = expand_dims_back(m, mask, g);
    gi[0] = nb_mul(gk, p);
    nb_release(outk), nb_release(d), nb_release(p), nb_release(gk);
    return nb_last_status();
}

/* var: g (x - mean) 2 / max(0, N - correction); std: that divided by 2 std */
nb_status nb__backward_var(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    const uint32_t mask = n->args.stat.mask;
    nb_tensor *in = nb__node_saved(n, 0);
    if (!in) return nb_last_status();
    nb_tensor *out = NULL;
    if (n->kind == NB_NODE_STD && !(out = nb__node_saved(n, 2))) return nb_last_status();
    int dims[NB_MAX_DIMS];
    const int nd = m->ndim > 0 ? dims_of(m, mask, dims) : 0;
    const double count = (double)reduced_count(m, mask), divisor = count - n->args.stat.correction;
    nb_tensor *mean = nb_mean_dims(in, nd, dims, true);
    nb_tensor *dev = nb_sub(in, mean);
    nb_tensor *gk = expand_dims_back(m, mask, g);
    nb_tensor *scaled = nb_mul_scalar(gk, (n->kind == NB_NODE_STD ? 1.0 : 2.0) / (divisor > 0 ? divisor : 0.0));
    if (n->kind == NB_NODE_STD) {
        nb_tensor *outk = expand_dims_back(m, mask, out);
        nb_tensor *per = nb_div(scaled, outk);
        nb_release(scaled), nb_release(outk);
        scaled = per;
    }
    gi[0] = nb_mul(scaled, dev);
    nb_release(mean), nb_release(dev), nb_release(gk), nb_release(scaled);
    return nb_last_status();
}

/* norm, as PyTorch's: p = 1: g sign(x); p = 2: g x / norm, 0 where the norm is 0; p = inf: g
 * sign(x) shared evenly among the elements whose |x| is the norm */
nb_status nb__backward_vector_norm(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    const uint32_t mask = n->args.stat.mask;
    const double p = n->args.stat.correction;
    nb_tensor *in = nb__node_saved(n, 0), *out = in ? nb__node_saved(n, 2) : NULL;
    if (!out) return nb_last_status();
    nb_tensor *gk = expand_dims_back(m, mask, g), *outk = expand_dims_back(m, mask, out);
    nb_tensor *factor = NULL; /* d norm / d x */
    if (p == 2.0) {
        nb_tensor *ratio = nb_div(in, outk), *zero = nb_eq_scalar(outk, 0.0);
        factor = nb_masked_fill(ratio, zero, 0.0);
        nb_release(ratio), nb_release(zero);
    } else {
        nb_tensor *pos = nb_gt_scalar(in, 0.0), *neg = nb_lt_scalar(in, 0.0);
        nb_tensor *posf = nb_to_dtype(pos, g->dtype), *negf = nb_to_dtype(neg, g->dtype);
        nb_tensor *sign = nb_sub(posf, negf);
        if (p == 1.0) {
            factor = nb_retain(sign);
        } else {
            int dims[NB_MAX_DIMS];
            const int nd = m->ndim > 0 ? dims_of(m, mask, dims) : 0;
            nb_tensor *a = nb_abs(in), *hit = nb_eq(a, outk), *hitf = nb_to_dtype(hit, g->dtype);
            nb_tensor *count = m->ndim > 0 ? nb_sum_dims(hitf, nd, dims, true) : nb_retain(hitf);
            nb_tensor *share = nb_div(hitf, count);
            factor = nb_mul(sign, share);
            nb_release(a), nb_release(hit), nb_release(hitf), nb_release(count), nb_release(share);
        }
        nb_release(pos), nb_release(neg), nb_release(posf), nb_release(negf), nb_release(sign);
    }
    gi[0] = nb_mul(gk, factor);
    nb_release(gk), nb_release(outk), nb_release(factor);
    return nb_last_status();
}
