/* conv_layers.c — the Conv2d and MaxPool2d layers: Conv2d's parameters initialised as PyTorch's
 * nn.Conv2d does (kaiming-uniform, bound 1/sqrt(fan_in) for the weight and the bias), its
 * forward one nb_conv2d; MaxPool2d keeps its options, its forward one nb_max_pool2d. */
#include "../dtype.h"
#include "../error.h"
#include "../tensor.h"
#include "layers.h"

#include <math.h>
#include <stdlib.h>

nb_conv2d_layer *nb_conv2d_layer_new(int64_t in_channels, int64_t out_channels, int64_t kernel_h, int64_t kernel_w,
                                     const nb_conv2d_options *options, bool bias, nb_options opts)
{
    const char *op = "nb_conv2d_layer_new";
    const nb_conv2d_options o = options ? *options : NB_CONV2D_DEFAULTS;
    if (in_channels <= 0 || out_channels <= 0 || kernel_h <= 0 || kernel_w <= 0)
        return nb__fail(NB_ERR_ARGUMENT,
                        "%s: channels and kernel sizes must be positive, got in %lld, out %lld, kernel %lldx%lld", op,
                        (long long)in_channels, (long long)out_channels, (long long)kernel_h, (long long)kernel_w);
    if (o.groups <= 0 || in_channels % o.groups || out_channels % o.groups)
        return nb__fail(NB_ERR_ARGUMENT, "%s: groups (%lld) must divide in_channels (%lld) and out_channels (%lld)",
                        op, (long long)o.groups, (long long)in_channels, (long long)out_channels);
    if (!nb__is_float_kind(opts.dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64 (or float16 or bfloat16) parameters, got %s", op,
                        nb_dtype_name(opts.dtype));
    nb_conv2d_layer *l = calloc(1, sizeof *l);
    if (!l) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    l->in_channels = in_channels;
    l->out_channels = out_channels;
    l->options = o;
    const double fan_in = (double)(in_channels / o.groups) * (double)kernel_h * (double)kernel_w;
    const double bound = 1.0 / sqrt(fan_in);
    const int64_t weight_shape[4] = {out_channels, in_channels / o.groups, kernel_h, kernel_w};
    nb__tracking_pause(); /* the layer owns its parameters: no open scope may release them */
    l->weight = nb__uniform_parameter(4, weight_shape, bound, opts);
    if (l->weight && bias) l->bias = nb__uniform_parameter(1, &out_channels, bound, opts);
    nb__tracking_resume();
    if (!l->weight || (bias && !l->bias)) {
        nb_conv2d_layer_free(l);
        return NULL;
    }
    return l;
}

void nb_conv2d_layer_free(nb_conv2d_layer *l)
{
    if (!l) return;
    nb_release(l->weight);
    nb_release(l->bias);
    free(l);
}

nb_tensor *nb_conv2d_layer_forward(const nb_conv2d_layer *l, const nb_tensor *x)
{
    if (nb__is_null("nb_conv2d_layer_forward", "layer", l)) return NULL;
    return nb_conv2d(x, l->weight, l->bias, &l->options);
}

nb_status nb_conv2d_layer_params(const nb_conv2d_layer *l, nb_params *p)
{
    const char *op = "nb_conv2d_layer_params";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "params", p)) return nb_last_status();
    nb_status s = nb_params_add(p, l->weight);
    if (s == NB_OK && l->bias) s = nb_params_add(p, l->bias);
    return s;
}

nb_tensor *nb_max_pool2d_layer_forward(const nb_max_pool2d_layer *l, const nb_tensor *x)
{
    if (nb__is_null("nb_max_pool2d_layer_forward", "layer", l)) return NULL;
    return nb_max_pool2d(x, &l->options);
}
