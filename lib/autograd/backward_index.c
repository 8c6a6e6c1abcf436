/* backward_index.c — gradients of the index ops, each one run of the index kernels
 * (kernels/index.h) with the index saved in slot 0 (already checked by the forward):
 *   index_select, gather, embedding: the gradient added back where each element came from
 *   (a scatter that adds, in a fixed order: deterministic on every device);
 *   scatter, scatter_add, index_add: the input's gradient passes (zeroed where scatter
 *   overwrote it), the source's is gathered from where it went. */
#include "backward.h"

#include "../index.h"
#include "autograd.h"

#include <string.h>

/* the strides of a 1-D index along dim of an ndim iteration: 0 elsewhere */
static void along_dim(int ndim, int dim, int64_t *strides)
{
    memset(strides, 0, NB_MAX_DIMS * sizeof(int64_t));
    if (ndim > 0) strides[dim] = 1;
}

static nb_tensor *zeros_like_input(nb_node *n, int i, const nb_tensor *g)
{
    return nb_zeros(n->input[i].ndim, n->input[i].shape, NB_OPTS(g->dtype, .device = g->storage->device));
}

/* z, or NULL (releasing z) when st failed */
static nb_tensor *kept_if(nb_status st, nb_tensor *z)
{
    if (st == NB_OK) return z;
    nb_release(z);
    return NULL;
}

nb_status nb__backward_index_select(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *idx = nb__node_saved(n, 0);
    nb_tensor *z = idx ? zeros_like_input(n, 0, g) : NULL;
    if (!z) return nb_last_status();
    int64_t strides[NB_MAX_DIMS];
    const int dim = n->args.index.dim;
    along_dim(g->ndim, dim, strides);
    gi[0] = kept_if(nb__index_run(n->op, false, true, 1, z, dim, g->ndim, g->shape, idx, strides, g, NULL), z);
    return nb_last_status();
}

nb_status nb__backward_gather(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *idx = nb__node_saved(n, 0);
    nb_tensor *z = idx ? zeros_like_input(n, 0, g) : NULL;
    if (!z) return nb_last_status();
    const int dim = n->args.index.dim;
    gi[0] = kept_if(nb__index_run(n->op, false, true, 1, z, dim, idx->ndim, idx->shape, idx, idx->strides, g, NULL), z);
    return nb_last_status();
}

/* The source's gradient of scatter and scatter_add: g gathered at the index into zeros shaped
 * like the source (which may be larger than the index). */
static nb_tensor *source_grad(nb_node *n, nb_tensor *g, nb_tensor *idx)
{
    nb_tensor *z = zeros_like_input(n, 1, g);
    if (!z) return NULL;
    const int dim = n->args.index.dim;
    return kept_if(nb__index_run(n->op, true, false, 1, g, dim, idx->ndim, idx->shape, idx, idx->strides, z, NULL), z);
}

nb_status nb__backward_scatter(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *idx = nb__node_saved(n, 0);
    if (!idx) return nb_last_status();
    if (n->next[0].node) { /* g where nothing was scattered, 0 where something was */
        nb_tensor *copy = nb_clone(g);
        nb_tensor *zero = copy ? nb_zeros(0, NULL, NB_OPTS(g->dtype, .device = g->storage->device)) : NULL;
        const int64_t none[NB_MAX_DIMS] = {0};
        if (zero)
            gi[0] = kept_if(nb__index_run(n->op, false, false, 1, copy, n->args.index.dim, idx->ndim, idx->shape, idx,
                                          idx->strides, zero, none),
                            copy);
        else
            nb_release(copy);
        nb_release(zero);
    }
    if (n->next[1].node) gi[1] = source_grad(n, g, idx);
    return nb_last_status();
}

nb_status nb__backward_scatter_add(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *idx = nb__node_saved(n, 0);
    if (!idx) return nb_last_status();
    if (n->next[0].node) gi[0] = nb_retain(g);
    if (n->next[1].node) gi[1] = source_grad(n, g, idx);
    return nb_last_status();
}

/* index_add: the source's gradient is alpha · index_select(g, dim, index) */
nb_status nb__backward_index_add(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *idx = nb__node_saved(n, 0);
    if (!idx) return nb_last_status();
    if (n->next[0].node) gi[0] = nb_retain(g);
    if (!n->next[1].node) return nb_last_status();
    const nb_input_meta *src = &n->input[1];
    nb_tensor *out = nb_empty(src->ndim, src->shape, NB_OPTS(g->dtype, .device = g->storage->device));
    if (!out) return nb_last_status();
    int64_t strides[NB_MAX_DIMS];
    const int dim = n->args.index.dim;
    along_dim(src->ndim, dim, strides);
    out = kept_if(nb__index_run(n->op, true, false, 1, g, dim, src->ndim, src->shape, idx, strides, out, NULL), out);
    if (out && n->args.index.alpha != 1.0 && !nb_mul_scalar_(out, n->args.index.alpha)) {
        nb_release(out);
        out = NULL;
    }
    gi[1] = out;
    return nb_last_status();
}

/* embedding: g (*indices, D) added into zeros (V, D) row by row in the order of the indices;
 * the padding row gets none */
nb_status nb__backward_embedding(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    nb_tensor *idx = nb__node_saved(n, 0); /* (N,) */
    if (!idx) return nb_last_status();
    const int64_t dims = n->input[0].shape[1];
    const int64_t flat[2] = {idx->shape[0], dims};
    nb_tensor *rows = nb_reshape(g, 2, flat); /* (N, D) */
    nb_tensor *z = rows ? zeros_like_input(n, 0, g) : NULL; /* (V, D) */
    if (z) {
        const int64_t strides[NB_MAX_DIMS] = {1, 0};
        z = kept_if(nb__index_run(n->op, false, true, 1, z, 0, 2, flat, idx, strides, rows, NULL), z);
    }
    const int64_t pad = n->args.index.padding_idx;
    if (z && pad >= 0) {
        nb_tensor *row = nb_select(z, 0, pad);
        if (!row || !nb_zero_(row)) {
            nb_release(z);
            z = NULL;
        }
        nb_release(row);
    }
    nb_release(rows);
    gi[0] = z;
    return nb_last_status();
}
