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

/* ---------------------------------------------------------------- functions */

/* Numerically stable (the row maximum is subtracted first). */
NB_API nb_tensor *nb_softmax(const nb_tensor *x, int dim);
NB_API nb_tensor *nb_log_softmax(const nb_tensor *x, int dim);
/* Mean cross entropy of logits (N, C) against int64 class labels (N,) in [0, C); one fused
 * kernel forward and backward (softmax - one_hot) / N. */
NB_API nb_tensor *nb_cross_entropy(const nb_tensor *logits, const nb_tensor *labels);
/* Mean squared error over all elements; pred and target broadcast. */
NB_API nb_tensor *nb_mse_loss(const nb_tensor *pred, const nb_tensor *target);

/* ---------------------------------------------------------------- embeddings and padding */

/* padding_idx of nb_embedding for "none" (PyTorch's padding_idx=None, the default). */
#define NB_NO_PADDING INT64_MIN
/* Rows of weight (num_embeddings, dim) at int64 indices of any shape: (*indices, dim), as
 * F.embedding. padding_idx (negative counts from the end, NB_NO_PADDING for none) names a row
 * that gets no gradient. The gradient adds rows in the order of the indices on every device. */
NB_API nb_tensor *nb_embedding(const nb_tensor *weight, const nb_tensor *indices, int64_t padding_idx);
/* int64 (*indices, num_classes) with 1 at each index (F.one_hot); num_classes -1: the largest
 * index + 1 (read back from the device). */
NB_API nb_tensor *nb_one_hot(const nb_tensor *indices, int64_t num_classes);

typedef enum nb_pad_mode {
    NB_PAD_CONSTANT = 0, /* value everywhere outside; negative pads cut */
    NB_PAD_REFLECT,      /* the mirror image, the edge not repeated (pads less than the size) */
    NB_PAD_REPLICATE,    /* the edge element repeated */
} nb_pad_mode;
/* F.pad: pads (n of them, in pairs) pad the last n / 2 dims, last dim first: (left, right,
 * top, bottom, ...). Reflect and replicate pad 1 to 3 dims of a 2-D to 5-D input (1 or 2 batch
 * dims). Always a copy. */
NB_API nb_tensor *nb_pad(const nb_tensor *t, int n, const int64_t *pads, nb_pad_mode mode, double value);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_NN_H */
