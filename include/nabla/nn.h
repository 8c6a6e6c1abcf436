/* nabla/nn.h — layers, activations and losses for training models (included by nabla.h).
 * Everything here is built on nabla's ops and records itself for autograd. */
#ifndef NABLA_NN_H
#define NABLA_NN_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- parameter lists */

/* An ordered list of tensors (the parameters of a model) that optimizers step and zero. */
typedef struct nb_params nb_params;

NB_API nb_params *nb_params_new(void);
NB_API void nb_params_free(nb_params *p); /* releases its references; NULL does nothing */
/* Retains t; a tensor already in the list is refused (NB_ERR_ARGUMENT): it would be stepped twice. */
NB_API nb_status nb_params_add(nb_params *p, nb_tensor *t);
NB_API int nb_params_count(const nb_params *p);
NB_API nb_tensor *nb_params_get(const nb_params *p, int i); /* borrowed */
NB_API void nb_params_zero_grad(nb_params *p);              /* zeroes every parameter's .grad */
/* Checkpoints: every parameter's values (any dtype), written to a temporary file renamed over path
 * (a crash never leaves a half-written file); the format (magic "NBCKPT", version 1, a CRC-32) is
 * described in lib/nn/params.c. Load checks the file (NB_ERR_IO for a missing, truncated or
 * corrupt one), then the count (NB_ERR_ARGUMENT), dtypes (NB_ERR_DTYPE) and shapes (NB_ERR_SHAPE)
 * against p's tensors, and only then copies the values into them: a refused load changes nothing. */
NB_API nb_status nb_params_save(const nb_params *p, const char *path);
NB_API nb_status nb_params_load(nb_params *p, const char *path);

/* ---------------------------------------------------------------- layers */

/* y = x W^T + b, with W (out, in) and b (out,) initialised like PyTorch's nn.Linear
 * (uniform in +-1/sqrt(in)), drawn from nabla's seeded generator. Both require grad. */
typedef struct nb_linear {
    nb_tensor *weight; /* (out_features, in_features) */
    nb_tensor *bias;   /* (out_features,), or NULL */
    int64_t in_features, out_features;
} nb_linear;

NB_API nb_linear *nb_linear_new(int64_t in_features, int64_t out_features, bool bias,
                                nb_options opts);
NB_API void nb_linear_free(nb_linear *l);
/* (N, in) -> (N, out) */
NB_API nb_tensor *nb_linear_forward(const nb_linear *l, const nb_tensor *x);
NB_API nb_status nb_linear_params(const nb_linear *l, nb_params *p); /* adds weight, bias */

/* ---------------------------------------------------------------- activations */

/* Elementwise, floating inputs only, as torch.nn.functional's. */
/* x Phi(x) (exact, through erf), or with tanh_approx PyTorch's approximate='tanh' form. */
NB_API nb_tensor *nb_gelu(const nb_tensor *x, bool tanh_approx);
NB_API nb_tensor *nb_silu(const nb_tensor *x); /* x sigmoid(x) */
/* x where x > 0, else negative_slope x (PyTorch's default slope is 0.01). */
NB_API nb_tensor *nb_leaky_relu(const nb_tensor *x, double negative_slope);
/* log(1 + e^(beta x)) / beta, and x where beta x > threshold (PyTorch's defaults: 1, 20). */
NB_API nb_tensor *nb_softplus(const nb_tensor *x, double beta, double threshold);

/* ---------------------------------------------------------------- functions */

/* Numerically stable (the row maximum is subtracted first). */
NB_API nb_tensor *nb_softmax(const nb_tensor *x, int dim);
NB_API nb_tensor *nb_log_softmax(const nb_tensor *x, int dim);
/* Mean cross entropy of logits (N, C) against int64 class labels (N,) in [0, C); one fused
 * kernel forward and backward (softmax - one_hot) / N. */
NB_API nb_tensor *nb_cross_entropy(const nb_tensor *logits, const nb_tensor *labels);
/* Mean squared error over all elements; pred and target broadcast. */
NB_API nb_tensor *nb_mse_loss(const nb_tensor *pred, const nb_tensor *target);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_NN_H */
