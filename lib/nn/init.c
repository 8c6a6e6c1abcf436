/* init.c — PyTorch's default initialisation of the layers' parameters, drawn from nabla's
 * seeded generator (layers.h). */
#include "layers.h"

nb_tensor *nb__uniform_parameter(int ndim, const int64_t *shape, double bound, nb_options opts)
{
    opts.requires_grad = false;
    nb_tensor *t = nb_rand(ndim, shape, opts); /* [0, 1) */
    if (t && (!nb_mul_scalar_(t, 2.0 * bound) || !nb_add_scalar_(t, -bound))) {
        nb_release(t);
        return NULL;
    }
    return t ? nb_requires_grad_(t, true) : NULL;
}
