/* activation.c — gelu, silu, leaky_relu and softplus (torch.nn.functional's): elementwise ops on
 * lib/ewise.c's shared path, floating inputs only; their gradients are the fused kernels that
 * lib/autograd/backward_ewise.c calls. */
#include "../ewise.h"

static nb_tensor *activation(const char *name, nb_ew_op op, const nb_tensor *x, double c0, double c1)
{
    const nb_tensor *in[1] = {x};
    return nb__ewise(name, op, 1, in, (nb_scalars){c0, c1});
}

nb_tensor *nb_gelu(const nb_tensor *x, bool tanh_approx)
{
    return activation("nb_gelu", NB_EW_GELU, x, tanh_approx ? 1.0 : 0.0, 0);
}

nb_tensor *nb_silu(const nb_tensor *x) { return activation("nb_silu", NB_EW_SILU, x, 0, 0); }

nb_tensor *nb_leaky_relu(const nb_tensor *x, double negative_slope)
{
    return activation("nb_leaky_relu", NB_EW_LEAKY_RELU, x, negative_slope, 0);
}

nb_tensor *nb_softplus(const nb_tensor *x, double beta, double threshold)
{
    return activation("nb_softplus", NB_EW_SOFTPLUS, x, beta, threshold);
}
