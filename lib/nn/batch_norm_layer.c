/* batch_norm_layer.c — the BatchNorm2d layer: its parameters (weight 1, bias 0) and buffers
 * (running_mean 0, running_var 1) as PyTorch's nn.BatchNorm2d makes them, and its forward, one
 * nb_batch_norm in the layer's mode. */
#include "../dtype.h"
#include "../error.h"
#include "../tensor.h"
#include "layers.h"

#include <stdlib.h>

/* A (n,) tensor full of value, owned by the layer (no open scope may release it). */
static nb_tensor *filled(int64_t n, double value, bool requires_grad, nb_options opts)
{
    opts.requires_grad = false;
    nb_tensor *t = nb_full(1, &n, value, opts);
    return t && requires_grad ? nb_requires_grad_(t, true) : t;
}

nb_batch_norm2d *nb_batch_norm2d_new(int64_t num_features, nb_options opts)
{
    const char *op = "nb_batch_norm2d_new";
    if (num_features <= 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: num_features must be positive, got %lld", op, (long long)num_features);
    if (!nb__is_float_kind(opts.dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64 (or float16 or bfloat16) parameters, got %s", op,
                        nb_dtype_name(opts.dtype));
    nb_batch_norm2d *l = calloc(1, sizeof *l);
    if (!l) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    l->num_features = num_features;
    l->momentum = 0.1;
    l->eps = 1e-5;
    l->training = true;
    nb__tracking_pause();
    l->weight = filled(num_features, 1.0, true, opts);
    l->bias = l->weight ? filled(num_features, 0.0, true, opts) : NULL;
    l->running_mean = l->bias ? filled(num_features, 0.0, false, opts) : NULL;
    l->running_var = l->running_mean ? filled(num_features, 1.0, false, opts) : NULL;
    nb__tracking_resume();
    if (!l->running_var) {
        nb_batch_norm2d_free(l);
        return NULL;
    }
    return l;
}

void nb_batch_norm2d_free(nb_batch_norm2d *l)
{
    if (!l) return;
    nb_release(l->weight);
    nb_release(l->bias);
    nb_release(l->running_mean);
    nb_release(l->running_var);
    free(l);
}

nb_tensor *nb_batch_norm2d_forward(nb_batch_norm2d *l, const nb_tensor *x)
{
    const char *op = "nb_batch_norm2d_forward";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "input", x)) return NULL;
    if (x->ndim != 4) {
        char xs[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected a 4-D input (N, %lld, H, W), got %s", op,
                        (long long)l->num_features, nb__shape_string(x->ndim, x->shape, xs, sizeof xs));
    }
    return nb_batch_norm(x, l->running_mean, l->running_var, l->weight, l->bias, l->training, l->momentum, l->eps);
}

nb_status nb_batch_norm2d_params(nb_batch_norm2d *l, nb_params *p)
{
    const char *op = "nb_batch_norm2d_params";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "params", p)) return nb_last_status();
    nb_status st = nb_params_add(p, l->weight);
    if (st == NB_OK) st = nb_params_add(p, l->bias);
    if (st == NB_OK) st = nb__params_add_mode(op, p, &l->training);
    return st;
}

nb_status nb_batch_norm2d_buffers(const nb_batch_norm2d *l, nb_params *p)
{
    const char *op = "nb_batch_norm2d_buffers";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "params", p)) return nb_last_status();
    nb_status st = nb_params_add(p, l->running_mean);
    if (st == NB_OK) st = nb_params_add(p, l->running_var);
    return st;
}
