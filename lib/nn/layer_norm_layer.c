/* layer_norm_layer.c — the LayerNorm layer: weight 1 and bias 0 over the normalised shape, as
 * PyTorch's nn.LayerNorm makes them (or none without elementwise_affine), its forward one
 * nb_layer_norm. */
#include "../dtype.h"
#include "../error.h"
#include "../tensor.h"
#include "layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nb_layer_norm_layer *nb_layer_norm_layer_new(int n, const int64_t *normalized_shape, double eps,
                                             bool elementwise_affine, nb_options opts)
{
    const char *op = "nb_layer_norm_layer_new";
    if (n < 1 || n > NB_MAX_DIMS)
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected 1 to %d normalised dims, got %d", op, NB_MAX_DIMS, n);
    if (nb__is_null(op, "normalized_shape", normalized_shape)) return NULL;
    for (int d = 0; d < n; d++)
        if (normalized_shape[d] <= 0) {
            char s[160];
            return nb__fail(NB_ERR_ARGUMENT, "%s: the normalised shape %s must have positive sizes", op,
                            nb__shape_string(n, normalized_shape, s, sizeof s));
        }
    int64_t numel;
    if (!nb__checked_numel(op, n, normalized_shape, &numel)) return NULL;
    if (!(eps >= 0) || isinf(eps))
        return nb__fail(NB_ERR_ARGUMENT, "%s: eps must be finite and at least 0, got %g", op, eps);
    if (!nb__is_float_kind(opts.dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64 (or float16 or bfloat16) parameters, got %s", op,
                        nb_dtype_name(opts.dtype));
    nb_layer_norm_layer *l = calloc(1, sizeof *l);
    if (!l) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    l->n = n;
    memcpy(l->normalized_shape, normalized_shape, (size_t)n * sizeof *normalized_shape);
    l->eps = eps;
    if (!elementwise_affine) return l;
    opts.requires_grad = false;
    nb__tracking_pause(); /* the layer owns its parameters */
    l->weight = nb_ones(n, normalized_shape, opts);   /* (normalized_shape) */
    l->bias = nb_zeros(n, normalized_shape, opts);    /* (normalized_shape) */
    nb__tracking_resume();
    if (!l->weight || !l->bias) {
        nb_layer_norm_layer_free(l);
        return NULL;
    }
    nb_requires_grad_(l->weight, true);
    nb_requires_grad_(l->bias, true);
    return l;
}

void nb_layer_norm_layer_free(nb_layer_norm_layer *l)
{
    if (!l) return;
    nb_release(l->weight);
    nb_release(l->bias);
    free(l);
}

nb_tensor *nb_layer_norm_layer_forward(const nb_layer_norm_layer *l, const nb_tensor *x)
{
    if (nb__is_null("nb_layer_norm_layer_forward", "layer", l)) return NULL;
    return nb_layer_norm(x, l->n, l->normalized_shape, l->weight, l->bias, l->eps);
}

nb_status nb_layer_norm_layer_params(const nb_layer_norm_layer *l, nb_params *p)
{
    const char *op = "nb_layer_norm_layer_params";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "params", p)) return nb_last_status();
    nb_status st = l->weight ? nb_params_add(p, l->weight) : NB_OK;
    if (st == NB_OK && l->bias) st = nb_params_add(p, l->bias);
    return st;
}

nb_status nb_layer_norm_layer_register(const nb_layer_norm_layer *l, nb_module *parent, const char *name)
{
    const char *op = "nb_layer_norm_layer_register";
    if (nb__is_null(op, "layer", l)) return NB_ERR_NULL;
    return nb__register_layer(op, parent, name, "LayerNorm", 2, (const char *const[]){"weight", "bias"},
                              (nb_tensor *const[]){l->weight, l->bias}, 0, NULL);
}
