/* init.c — PyTorch's default initialisation of the layers' parameters, drawn from nabla's
 * seeded generator (layers.h). */
#include "../dtype.h"
#include "../half.h"
#include "layers.h"

nb_tensor *nb__uniform_parameter(int ndim, const int64_t *shape, double bound, nb_options opts)
{
    opts.requires_grad = false;
    const nb_dtype dtype = opts.dtype;
    if (nb__is_half(dtype)) opts.dtype = NB_FLOAT32; /* drawn in float32 (the draws' dtypes), rounded once */
    nb_tensor *t = nb_rand(ndim, shape, opts); /* [0, 1) */
    if (t && (!nb_mul_scalar_(t, 2.0 * bound) || !nb_add_scalar_(t, -bound))) {
        nb_release(t);
        return NULL;
    }
    t = nb__narrow(t, dtype);
    return t ? nb_requires_grad_(t, true) : NULL;
}
