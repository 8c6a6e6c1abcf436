/* linear.c — the fully connected layer y = x W^T + b: its parameters, initialised like
 * PyTorch's nn.Linear from nabla's seeded generator, and its forward pass composed from recorded
 * ops (mm or matmul, then add), so autograd reaches W and b. */
#include "../autocast.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../tensor.h"
#include "layers.h"

#include <math.h>
#include <stdlib.h>

nb_linear *nb_linear_new(int64_t in_features, int64_t out_features, bool bias, nb_options opts)
{
    const char *op = "nb_linear_new";
    if (in_features <= 0 || out_features <= 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: in_features and out_features must be positive, got %lld and %lld",
                        op, (long long)in_features, (long long)out_features);
    if (!nb__is_float_kind(opts.dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64 (or float16 or bfloat16) parameters, got %s", op,
                        nb_dtype_name(opts.dtype));
    nb_linear *l = calloc(1, sizeof *l);
    if (!l) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    l->in_features = in_features;
    l->out_features = out_features;
    const double bound = 1.0 / sqrt((double)in_features);
    /* the layer owns its parameters: no open scope may release them */
    nb__tracking_pause();
    const int64_t weight_shape[2] = {out_features, in_features};
    l->weight = nb__uniform_parameter(2, weight_shape, bound, opts);
    if (l->weight && bias) l->bias = nb__uniform_parameter(1, &out_features, bound, opts);
    nb__tracking_resume();
    if (!l->weight || (bias && !l->bias)) {
        nb_linear_free(l);
        return NULL;
    }
    return l;
}

void nb_linear_free(nb_linear *l)
{
    if (!l) return;
    nb_release(l->weight);
    nb_release(l->bias);
    free(l);
}

/* x W^T (+ b) for the layer l, with its weight w and bias b (cast by autocast, or l's own) */
static nb_tensor *linear(const char *op, const nb_linear *l, const nb_tensor *x, const nb_tensor *w,
                         const nb_tensor *b)
{
    if (nb__is_null(op, "input", x) || nb__is_null(op, "weight", w)) return NULL;
    if (x->ndim < 1 || x->shape[x->ndim - 1] != l->in_features) {
        char xs[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected (N, %lld) input, got %s", op, (long long)l->in_features,
                        nb__shape_string(x->ndim, x->shape, xs, sizeof xs));
    }
    const nb_tensor *both[2] = {x, w};
    if (!nb__check_devices(op, 2, both)) return NULL;
    if (x->dtype != w->dtype)
        return nb__fail(NB_ERR_DTYPE, "%s: the input is %s but the layer's parameters are %s (convert with nb_to_dtype)",
                        op, nb_dtype_name(x->dtype), nb_dtype_name(w->dtype));

    /* x W^T (+ b): W^T is a transposed view, multiplied without a copy */
    nb__tracking_pause();
    nb_tensor *wt = nb_t(w);                                      /* (in, out) */
    nb_tensor *xw = x->ndim == 2 ? nb_mm(x, wt) : nb_matmul(x, wt); /* (N, out) */
    nb_tensor *y = b ? nb_add(xw, b) : nb_retain(xw);
    nb_release(wt);
    nb_release(xw);
    nb__tracking_resume();
    if (y) nb__scope_register(y);
    return y;
}

nb_tensor *nb_linear_forward(const nb_linear *l, const nb_tensor *x)
{
    const char *op = "nb_linear_forward";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "input", x) || nb__is_null(op, "weight", l->weight))
        return NULL;
    nb__autocast ac; /* input, weight and bias in the autocast dtype, as torch's linear */
    if (nb__autocast_lower(&ac, NB__AUTOCAST_ALL, 3, (const nb_tensor *[]){x, l->weight, l->bias}))
        return nb__autocast_done(&ac, linear(op, l, ac.t[0], ac.t[1], ac.t[2]));
    return linear(op, l, x, l->weight, l->bias);
}

nb_status nb_linear_params(const nb_linear *l, nb_params *p)
{
    const char *op = "nb_linear_params";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "params", p)) return nb_last_status();
    nb_status st = nb_params_add(p, l->weight);
    if (st == NB_OK && l->bias) st = nb_params_add(p, l->bias);
    return st;
}
