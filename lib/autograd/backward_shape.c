/* backward_shape.c — gradients of the shape ops: views (reshape, permute, narrow, select, expand),
 * copies (clone, contiguous, to_dtype, copy_, and nb_to between devices), cat, and fill_ (which
 * cuts the gradient). */
#include "backward_shape.h"

#include "autograd.h"

#include <string.h>

/* A zero tensor shaped like input i with g written into the part view() selects of it. */
static nb_tensor *scatter_into_zeros(nb_node *n, nb_tensor *g,
                                     nb_tensor *(*view)(nb_node *, nb_tensor *))
{
    nb_tensor *z = nb_zeros(n->input[0].ndim, n->input[0].shape, NB_OPTS(g->dtype, .device = g->storage->device));
    nb_tensor *part = z ? view(n, z) : NULL;
    nb_tensor *done = part ? nb_copy_(part, g) : NULL;
    nb_release(part);
    if (!done) {
        nb_release(z);
        return NULL;
    }
    return z;
}

static nb_tensor *narrow_view(nb_node *n, nb_tensor *z) { return nb_narrow(z, n->dim, n->start, n->length); }
static nb_tensor *select_view(nb_node *n, nb_tensor *z) { return nb_select(z, n->dim, n->start); }

static nb_status view_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const nb_input_meta *m = &n->input[0];
    switch ((nb_view_kind)n->op_id) {
    case NB_VIEW_RESHAPE:
        gi[0] = nb_reshape(g, m->ndim, m->shape);
        break;
    case NB_VIEW_PERMUTE: {
        int inverse[NB_MAX_DIMS];
        for (int i = 0; i < m->ndim; i++) inverse[n->perm[i]] = i;
        gi[0] = nb_permute(g, m->ndim, inverse);
        break;
    }
    case NB_VIEW_NARROW:
        gi[0] = scatter_into_zeros(n, g, narrow_view);
        break;
    case NB_VIEW_SELECT:
        gi[0] = scatter_into_zeros(n, g, select_view);
        break;
    case NB_VIEW_EXPAND:
        gi[0] = nb__sum_to(g, m);
        break;
    }
    return nb_last_status();
}

static nb_status copy_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    (void)n;
    gi[0] = nb_retain(g); /* the engine converts it to the input's dtype and shape */
    return NB_OK;
}

/* copy_ into a tensor with history: the old values get no gradient, the source all of it */
static nb_status copy_inplace_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    if (n->next[1].node) gi[1] = nb_retain(g);
    return NB_OK;
}

/* nb_to: the gradient goes back to the device the input came from */
static nb_status to_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = nb_to(g, n->input[0].device);
    return nb_last_status();
}

static nb_status fill_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    (void)n, (void)g, (void)gi; /* filled values do not depend on the old ones */
    return NB_OK;
}

static nb_status cat_backward(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    int64_t start = 0;
    for (int i = 0; i < n->num_inputs; i++) {
        int64_t len = n->input[i].shape[n->dim];
        if (n->next[i].node) gi[i] = nb_narrow(g, n->dim, start, len);
        start += len;
    }
    return nb_last_status();
}

const nb_shape_grads nb_shape_grads_table = {
    .view = {"ViewBackward", view_backward},
    .reshape = "ReshapeBackward",
    .permute = "PermuteBackward",
    .narrow = "NarrowBackward",
    .select = "SelectBackward",
    .expand = "ExpandBackward",
    .copy = {"CloneBackward", copy_backward},
    .copy_inplace = {"CopyBackward", copy_inplace_backward},
    .fill = {"FillBackward", fill_backward},
    .cat = {"CatBackward", cat_backward},
    .to = {"ToBackward", to_backward},
};
