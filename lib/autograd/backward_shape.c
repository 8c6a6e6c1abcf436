/* backward_shape.c — gradients of the shape ops: views (reshape, permute, narrow, select, expand),
 * copies (clone, contiguous, to_dtype, copy_, and nb_to between devices), cat, and fill_ (which
 * cuts the gradient). */
#include "backward.h"

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

static nb_tensor *narrow_view(nb_node *n, nb_tensor *z)
{
    return nb_narrow(z, n->args.narrow.dim, n->args.narrow.start, n->args.narrow.length);
}

static nb_tensor *select_view(nb_node *n, nb_tensor *z) { return nb_select(z, n->args.select.dim, n->args.select.index); }

nb_status nb__backward_reshape(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = nb_reshape(g, n->input[0].ndim, n->input[0].shape);
    return nb_last_status();
}

nb_status nb__backward_permute(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    const int ndim = n->input[0].ndim;
    int inverse[NB_MAX_DIMS];
    for (int i = 0; i < ndim; i++) inverse[n->args.permute.perm[i]] = i;
    gi[0] = nb_permute(g, ndim, inverse);
    return nb_last_status();
}

nb_status nb__backward_narrow(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = scatter_into_zeros(n, g, narrow_view);
    return nb_last_status();
}

nb_status nb__backward_select(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = scatter_into_zeros(n, g, select_view);
    return nb_last_status();
}

nb_status nb__backward_expand(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = nb__sum_to(g, &n->input[0]);
    return nb_last_status();
}

nb_status nb__backward_clone(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    (void)n;
    gi[0] = nb_retain(g); /* the engine converts it to the input's dtype and shape */
    return NB_OK;
}

/* copy_ into a tensor with history: the old values get no gradient, the source all of it */
nb_status nb__backward_copy(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    if (n->next[1].node) gi[1] = nb_retain(g);
    return NB_OK;
}

/* nb_to: the gradient goes back to the device the input came from */
nb_status nb__backward_to(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    gi[0] = nb_to(g, n->input[0].device);
    return nb_last_status();
}

nb_status nb__backward_fill(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    (void)n, (void)g, (void)gi; /* filled values do not depend on the old ones */
    return NB_OK;
}

nb_status nb__backward_cat(nb_node *n, nb_tensor *g, nb_tensor **gi)
{
    int64_t start = 0;
    for (int i = 0; i < n->num_inputs; i++) {
        const int dim = n->args.cat.dim;
        const int64_t len = n->input[i].shape[dim];
        if (n->next[i].node) gi[i] = nb_narrow(g, dim, start, len);
        start += len;
    }
    return nb_last_status();
}
