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
/* nb_params_add with a name (copied; at most 255 bytes), such as "blocks.0.attn.qkv.weight": a
 * name already in the list is refused (NB_ERR_ARGUMENT), as is a tensor already there. */
NB_API nb_status nb_params_add_named(nb_params *p, const char *name, nb_tensor *t);
NB_API const char *nb_params_name(const nb_params *p, int i); /* borrowed; NULL when unnamed */
NB_API int nb_params_find(const nb_params *p, const char *name); /* the index, or -1 (no error) */
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
/* model.train() (training true) and model.eval(): sets the mode of every layer added to p that
 * acts differently in training (batch norm, dropout); layers added later join in p's mode.
 * The layers must still exist. */
NB_API void nb_params_train(nb_params *p, bool training);
NB_API bool nb_params_training(const nb_params *p); /* the last mode set (true at first) */

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

/* nn.BatchNorm2d over (N, C, H, W): weight 1 and bias 0 (C,) requiring grad, buffers
 * running_mean 0 and running_var 1 (C,), momentum 0.1, eps 1e-5, training at first. */
typedef struct nb_batch_norm2d {
    nb_tensor *weight;       /* (C,) */
    nb_tensor *bias;         /* (C,) */
    nb_tensor *running_mean; /* (C,), updated by each training forward */
    nb_tensor *running_var;  /* (C,), unbiased */
    int64_t num_features;
    double momentum, eps;
    bool training; /* set by nb_params_train, or by hand */
} nb_batch_norm2d;

NB_API nb_batch_norm2d *nb_batch_norm2d_new(int64_t num_features, nb_options opts);
NB_API void nb_batch_norm2d_free(nb_batch_norm2d *l);
/* (N, C, H, W) -> (N, C, H, W), nb_batch_norm in the layer's mode */
NB_API nb_tensor *nb_batch_norm2d_forward(nb_batch_norm2d *l, const nb_tensor *x);
/* Adds weight and bias, and the layer to p's train/eval switch. */
NB_API nb_status nb_batch_norm2d_params(nb_batch_norm2d *l, nb_params *p);
/* Adds running_mean and running_var (no gradient: optimizers leave them), for a checkpoint's list. */
NB_API nb_status nb_batch_norm2d_buffers(const nb_batch_norm2d *l, nb_params *p);

/* nn.Dropout: nb_dropout with probability p in [0, 1] while training, x itself in eval. */
typedef struct nb_dropout_layer {
    double p;
    bool training; /* true at first; set by nb_params_train, or by hand */
} nb_dropout_layer;

NB_API nb_dropout_layer *nb_dropout_layer_new(double p);
NB_API void nb_dropout_layer_free(nb_dropout_layer *l);
NB_API nb_tensor *nb_dropout_layer_forward(const nb_dropout_layer *l, const nb_tensor *x);
/* Adds the layer to p's train/eval switch (it has no parameters). */
NB_API nb_status nb_dropout_layer_params(nb_dropout_layer *l, nb_params *p);

/* nn.Embedding: weight (num_embeddings, embedding_dim) drawn from N(0, 1) by nabla's generator,
 * requiring grad; the padding_idx row (NB_NO_PADDING for none; negative counts from the end) is
 * zero and gets no gradient. */
typedef struct nb_embedding_layer {
    nb_tensor *weight; /* (num_embeddings, embedding_dim) */
    int64_t num_embeddings, embedding_dim;
    int64_t padding_idx; /* in [0, num_embeddings), or NB_NO_PADDING */
} nb_embedding_layer;

NB_API nb_embedding_layer *nb_embedding_layer_new(int64_t num_embeddings, int64_t embedding_dim,
                                                  int64_t padding_idx, nb_options opts);
NB_API void nb_embedding_layer_free(nb_embedding_layer *l);
/* int64 indices (*) -> (*, embedding_dim): nb_embedding with the layer's weight */
NB_API nb_tensor *nb_embedding_layer_forward(const nb_embedding_layer *l, const nb_tensor *indices);
NB_API nb_status nb_embedding_layer_params(const nb_embedding_layer *l, nb_params *p); /* adds weight */

/* nn.LayerNorm over the last n dims (normalized_shape, 1 to 8 dims): weight 1 and bias 0 of that
 * shape requiring grad when elementwise_affine, else none. PyTorch's default eps is 1e-5. */
typedef struct nb_layer_norm_layer {
    nb_tensor *weight; /* (normalized_shape), or NULL */
    nb_tensor *bias;   /* (normalized_shape), or NULL */
    int n;             /* dims normalised */
    int64_t normalized_shape[NB_MAX_DIMS];
    double eps;
} nb_layer_norm_layer;

NB_API nb_layer_norm_layer *nb_layer_norm_layer_new(int n, const int64_t *normalized_shape, double eps,
                                                    bool elementwise_affine, nb_options opts);
NB_API void nb_layer_norm_layer_free(nb_layer_norm_layer *l);
/* (*, normalized_shape) -> the same shape: nb_layer_norm with the layer's tensors */
NB_API nb_tensor *nb_layer_norm_layer_forward(const nb_layer_norm_layer *l, const nb_tensor *x);
NB_API nb_status nb_layer_norm_layer_params(const nb_layer_norm_layer *l, nb_params *p); /* adds weight, bias */

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
/* Zeroes each element with probability p and scales the rest by 1 / (1 - p) when training;
 * x itself (an alias) when not training or p is 0. The mask comes from the generator. */
NB_API nb_tensor *nb_dropout(const nb_tensor *x, double p, bool training);

/* How a loss reduces its per-element losses: PyTorch's reduction= 'mean' (the default: zero),
 * 'sum' or 'none' (a loss per element, of the broadcast shape). */
typedef enum nb_reduction { NB_REDUCTION_MEAN = 0, NB_REDUCTION_SUM = 1, NB_REDUCTION_NONE = 2 } nb_reduction;

/* |input - target| (they broadcast), reduced. */
NB_API nb_tensor *nb_l1_loss(const nb_tensor *input, const nb_tensor *target, nb_reduction reduction);
/* d = |input - target|: 0.5 d^2 / beta below beta, else d - 0.5 beta (beta >= 0; 0 is the L1
 * loss; PyTorch's default is 1.0), reduced. */
NB_API nb_tensor *nb_smooth_l1_loss(const nb_tensor *input, const nb_tensor *target, nb_reduction reduction,
                                    double beta);
/* d = |input - target|: 0.5 d^2 below delta, else delta (d - 0.5 delta) (delta > 0; PyTorch's
 * default is 1.0), reduced. */
NB_API nb_tensor *nb_huber_loss(const nb_tensor *input, const nb_tensor *target, nb_reduction reduction,
                                double delta);

/* Options of nb_binary_cross_entropy_with_logits; all zero (or NULL options) are PyTorch's defaults. */
typedef struct nb_bce_with_logits_options {
    const nb_tensor *weight;     /* broadcasts to the input's shape; NULL: every element 1 */
    const nb_tensor *pos_weight; /* the positives' weight, broadcast (per class: the last dim); NULL: 1 */
    nb_reduction reduction;
} nb_bce_with_logits_options;
/* Binary cross entropy of logits against targets in [0, 1] of the same shape: -w [pw t
 * log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], reduced; never overflows (log-sum-exp form). */
NB_API nb_tensor *nb_binary_cross_entropy_with_logits(const nb_tensor *input, const nb_tensor *target,
                                                      const nb_bce_with_logits_options *options);

/* Options of nb_cross_entropy_ex; start from NB_CROSS_ENTROPY_DEFAULTS (NULL options are the same:
 * PyTorch's defaults). */
typedef struct nb_cross_entropy_options {
    const nb_tensor *weight;  /* (C,) class weights of the logits' dtype; NULL: every class 1 */
    int64_t ignore_index;     /* labels equal to it count nothing (default -100) */
    nb_reduction reduction;
    double label_smoothing;   /* in [0, 1]: the target mixes one_hot (1 - s) with uniform s */
} nb_cross_entropy_options;
#define NB_CROSS_ENTROPY_DEFAULTS ((nb_cross_entropy_options){.ignore_index = -100})
/* Cross entropy of logits (N, C), (N, C, d1, ...) or (C,) against int64 labels (N,), (N, d1, ...)
 * or () with PyTorch's options: mean with weights divides by the weights of the labels not
 * ignored; reduction none gives the labels' shape. One fused kernel forward and backward; a
 * label out of [0, C) (not ignore_index) is an error (on a GPU at the next synchronisation). */
NB_API nb_tensor *nb_cross_entropy_ex(const nb_tensor *logits, const nb_tensor *target,
                                      const nb_cross_entropy_options *options);

/* Options of nb_nll_loss; start from NB_NLL_LOSS_DEFAULTS (NULL options are the same). */
typedef struct nb_nll_loss_options {
    const nb_tensor *weight; /* (C,) class weights of the input's dtype; NULL: every class 1 */
    int64_t ignore_index;    /* default -100 */
    nb_reduction reduction;
} nb_nll_loss_options;
#define NB_NLL_LOSS_DEFAULTS ((nb_nll_loss_options){.ignore_index = -100})
/* Negative log likelihood: -weight[y] log_probs[y] per row, shapes and options as
 * nb_cross_entropy_ex's (log_probs from nb_log_softmax). */
NB_API nb_tensor *nb_nll_loss(const nb_tensor *log_probs, const nb_tensor *target,
                              const nb_nll_loss_options *options);

/* Layer normalisation over the last n dims of x (sizes normalized_shape, n >= 1):
 * (x - mean) / sqrt(var + eps) * weight + bias, var biased; weight and bias (normalized_shape)
 * may be NULL. One fused kernel forward and backward. PyTorch's default eps is 1e-5. */
NB_API nb_tensor *nb_layer_norm(const nb_tensor *x, int n, const int64_t *normalized_shape,
                                const nb_tensor *weight, const nb_tensor *bias, double eps);
/* RMS normalisation over the last n dims of x: x / sqrt(mean(x^2) + eps) * weight (weight may be
 * NULL); eps NAN takes the machine epsilon of x's dtype, as PyTorch's eps=None. */
NB_API nb_tensor *nb_rms_norm(const nb_tensor *x, int n, const int64_t *normalized_shape,
                              const nb_tensor *weight, double eps);
/* F.batch_norm over dim 1 of x (N, C, ...): (x - mean) / sqrt(var + eps) * weight + bias per
 * channel. Training normalises with the batch's mean and biased variance and, where given,
 * updates running_mean and running_var (C,) in place: r = (1 - momentum) r + momentum stat, the
 * variance unbiased (no gradient flows there); eval uses the running statistics. weight, bias
 * (C,) may be NULL. One fused kernel forward and backward. PyTorch's defaults: 0.1, 1e-5. */
NB_API nb_tensor *nb_batch_norm(const nb_tensor *x, nb_tensor *running_mean, nb_tensor *running_var,
                                const nb_tensor *weight, const nb_tensor *bias, bool training, double momentum,
                                double eps);

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

/* ---------------------------------------------------------------- convolution */

/* How a convolution pads: by its options' padding (the default), not at all (PyTorch's
 * padding='valid'), or so that the output has the input's size (padding='same', stride 1 only;
 * an odd total padding puts the extra element after, as PyTorch does). */
typedef enum nb_conv_padding {
    NB_CONV_PADDING_EXPLICIT = 0,
    NB_CONV_PADDING_VALID = 1,
    NB_CONV_PADDING_SAME = 2,
} nb_conv_padding;

/* Options of nb_conv2d, (height, width) pairs; start from NB_CONV2D_DEFAULTS (NULL options are
 * the same: stride 1, padding 0, dilation 1, groups 1, as PyTorch's). */
typedef struct nb_conv2d_options {
    int64_t stride[2];
    int64_t padding[2]; /* zeros on both sides, read when padding_rule is explicit */
    int64_t dilation[2];
    int64_t groups;
    nb_conv_padding padding_rule;
} nb_conv2d_options;
#define NB_CONV2D_DEFAULTS ((nb_conv2d_options){.stride = {1, 1}, .dilation = {1, 1}, .groups = 1})
/* F.conv2d: x (N, C, H, W) or unbatched (C, H, W), weight (O, C/groups, kH, kW), bias (O,) or
 * NULL -> (N, O, oH, oW); float32 or float64. Columns (im2col) times the weight through gemm. */
NB_API nb_tensor *nb_conv2d(const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                            const nb_conv2d_options *options);

/* Options of nb_conv1d; start from NB_CONV1D_DEFAULTS (NULL options are the same). */
typedef struct nb_conv1d_options {
    int64_t stride, padding, dilation, groups;
    nb_conv_padding padding_rule;
} nb_conv1d_options;
#define NB_CONV1D_DEFAULTS ((nb_conv1d_options){.stride = 1, .dilation = 1, .groups = 1})
/* F.conv1d: x (N, C, L) or (C, L), weight (O, C/groups, k), bias (O,) or NULL -> (N, O, oL). */
NB_API nb_tensor *nb_conv1d(const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                            const nb_conv1d_options *options);

/* Options of nb_conv_transpose2d, (height, width) pairs; start from NB_CONV_TRANSPOSE2D_DEFAULTS
 * (NULL options are the same: stride 1, padding 0, output_padding 0, groups 1, dilation 1). */
typedef struct nb_conv_transpose2d_options {
    int64_t stride[2];
    int64_t padding[2];        /* taken off both sides of the output */
    int64_t output_padding[2]; /* added to the output's bottom and right (less than stride or dilation) */
    int64_t groups;
    int64_t dilation[2];
} nb_conv_transpose2d_options;
#define NB_CONV_TRANSPOSE2D_DEFAULTS \
    ((nb_conv_transpose2d_options){.stride = {1, 1}, .groups = 1, .dilation = {1, 1}})
/* F.conv_transpose2d: x (N, C, H, W) or (C, H, W), weight (C, O/groups, kH, kW), bias (O,) or
 * NULL -> (N, O, (H-1)·stride - 2·padding + dilation·(kH-1) + output_padding + 1, ...). */
NB_API nb_tensor *nb_conv_transpose2d(const nb_tensor *x, const nb_tensor *weight, const nb_tensor *bias,
                                      const nb_conv_transpose2d_options *options);
/* ---------------------------------------------------------------- pooling */

/* Options of nb_max_pool2d, as F.max_pool2d's: each pair is (height, width). A zero stride is
 * the kernel size (PyTorch's stride=None), a zero dilation 1. */
typedef struct nb_max_pool2d_options {
    int kernel_size[2]; /* > 0 */
    int stride[2];      /* >= 0; 0: kernel_size */
    int padding[2];     /* >= 0 and at most half the kernel size; implicit -inf */
    int dilation[2];    /* >= 0; 0: 1 */
    bool ceil_mode;     /* the output size rounded up (a last window must start inside the input
                           or its left padding) */
} nb_max_pool2d_options;
/* The options of a kernel_h x kernel_w max pooling with PyTorch's other defaults. */
#define NB_MAX_POOL2D_OPTIONS(kernel_h, kernel_w) ((nb_max_pool2d_options){.kernel_size = {(kernel_h), (kernel_w)}})
/* The maximum of each window of x (N, C, H, W) or (C, H, W), floating: (N, C, H_out, W_out) or
 * (C, H_out, W_out); a NaN in a window is its maximum. */
NB_API nb_tensor *nb_max_pool2d(const nb_tensor *x, const nb_max_pool2d_options *options);
/* nb_max_pool2d with return_indices: *indices (not NULL) receives a new int64 tensor of the
 * result's shape, each the flat position (row * W + col) of its maximum within its plane. */
NB_API nb_tensor *nb_max_pool2d_with_indices(const nb_tensor *x, const nb_max_pool2d_options *options,
                                             nb_tensor **indices);

/* Options of nb_avg_pool2d, as F.avg_pool2d's (start from NB_AVG_POOL2D_OPTIONS for PyTorch's
 * defaults: count_include_pad is true there). */
typedef struct nb_avg_pool2d_options {
    int kernel_size[2];       /* > 0 */
    int stride[2];            /* >= 0; 0: kernel_size */
    int padding[2];           /* >= 0 and at most half the kernel size; implicit zeros */
    bool ceil_mode;
    bool count_include_pad;   /* the divisor counts the padding (PyTorch's default: true) */
    int64_t divisor_override; /* the divisor of every window when not 0 */
} nb_avg_pool2d_options;
/* The options of a kernel_h x kernel_w average pooling with PyTorch's other defaults. */
#define NB_AVG_POOL2D_OPTIONS(kernel_h, kernel_w) \
    ((nb_avg_pool2d_options){.kernel_size = {(kernel_h), (kernel_w)}, .count_include_pad = true})
/* The mean of each window of x (N, C, H, W) or (C, H, W), floating, shaped as nb_max_pool2d's. */
NB_API nb_tensor *nb_avg_pool2d(const nb_tensor *x, const nb_avg_pool2d_options *options);
/* The mean of x (N, C, H, W) or (C, H, W) over out_h x out_w windows (out sizes >= 0): output
 * (oy, ox) averages rows [floor(oy H / out_h), ceil((oy + 1) H / out_h)) and likewise columns. */
NB_API nb_tensor *nb_adaptive_avg_pool2d(const nb_tensor *x, int64_t out_h, int64_t out_w);

/* ---------------------------------------------------------------- attention */

/* Options of nb_scaled_dot_product_attention, as F.scaled_dot_product_attention's keyword
 * arguments (all zero: no mask, no dropout, not causal, scale 1/sqrt(E)). */
typedef struct nb_sdpa_options {
    const nb_tensor *attn_mask; /* NULL, or bool (true: takes part) or additive of the query's dtype,
                                   broadcastable to (N..., L, S); gets no gradient */
    double dropout_p;           /* in [0, 1]: attention weights dropped (nabla's generator; the
                                   counters are taken when the op runs, so a captured CUDA graph
                                   replays the same mask) */
    bool is_causal;             /* query i attends keys j <= i (tril(ones(L, S))); not with a mask */
    double scale;               /* 0: 1/sqrt(E) */
} nb_sdpa_options;
/* softmax(q k^T scale + mask) v: q (N..., L, E), k (N..., S, E), v (N..., S, Ev), float32 or float64,
 * batch dims broadcast -> (N..., L, Ev); options NULL: the defaults. A row with no key allowed
 * is NaN, as the composition (PyTorch's math path) gives, not torch 2.5's zeros. */
NB_API nb_tensor *nb_scaled_dot_product_attention(const nb_tensor *q, const nb_tensor *k, const nb_tensor *v,
                                                  const nb_sdpa_options *options);

/* ---------------------------------------------------------------- convolutional layers */

/* nn.Conv2d: weight (out, in/groups, kH, kW) and bias (out,) drawn like PyTorch's (uniform in
 * +-1/sqrt(in/groups * kH * kW), from nabla's seeded generator), both requiring grad. */
typedef struct nb_conv2d_layer {
    nb_tensor *weight; /* (out_channels, in_channels / groups, kernel_h, kernel_w) */
    nb_tensor *bias;   /* (out_channels,), or NULL */
    int64_t in_channels, out_channels;
    nb_conv2d_options options; /* stride, padding, dilation, groups */
} nb_conv2d_layer;

/* options NULL: NB_CONV2D_DEFAULTS */
NB_API nb_conv2d_layer *nb_conv2d_layer_new(int64_t in_channels, int64_t out_channels, int64_t kernel_h,
                                            int64_t kernel_w, const nb_conv2d_options *options, bool bias,
                                            nb_options opts);
NB_API void nb_conv2d_layer_free(nb_conv2d_layer *l);
/* (N, in, H, W) -> (N, out, oH, oW): nb_conv2d with the layer's parameters and options */
NB_API nb_tensor *nb_conv2d_layer_forward(const nb_conv2d_layer *l, const nb_tensor *x);
NB_API nb_status nb_conv2d_layer_params(const nb_conv2d_layer *l, nb_params *p); /* adds weight, bias */

/* nn.MaxPool2d: no parameters, only options: nb_max_pool2d_layer pool = {NB_MAX_POOL2D_OPTIONS(2, 2)}. */
typedef struct nb_max_pool2d_layer {
    nb_max_pool2d_options options;
} nb_max_pool2d_layer;
NB_API nb_tensor *nb_max_pool2d_layer_forward(const nb_max_pool2d_layer *l, const nb_tensor *x);

/* ---------------------------------------------------------------- modules */

/* A tree of named modules, as PyTorch's nn.Module: each has a type ("Linear"), parameters and
 * buffers under names, and children under names, so every tensor has a dotted name such as
 * "blocks.0.attn.qkv.weight". A module only names tensors (retaining them) and switches training
 * flags; the layers keep computing the forward. Names are non-empty, at most 63 bytes, without
 * '.', and unique among a module's parameters, buffers and children (a repeat is NB_ERR_ARGUMENT). */
typedef struct nb_module nb_module;

NB_API nb_module *nb_module_new(const char *type);
/* Frees m, its children (which it owns) and its references to tensors; NULL does nothing. */
NB_API void nb_module_free(nb_module *m);
/* m takes ownership of child (a module without a parent, not m or one of its ancestors): freed with
 * m, and freed at once if it cannot be added. */
NB_API nb_status nb_module_add_child(nb_module *m, const char *name, nb_module *child);
NB_API nb_status nb_module_add_parameter(nb_module *m, const char *name, nb_tensor *t); /* retains t */
NB_API nb_status nb_module_add_buffer(nb_module *m, const char *name, nb_tensor *t);    /* retains t */
/* Puts a layer's training flag (which must outlive m) under m's train/eval switch and sets it to
 * m's mode, as nb_params_train does for its layers. */
NB_API nb_status nb_module_add_training_flag(nb_module *m, bool *training);
/* The child at a dotted path ("blocks.0.attn"), borrowed; NULL (and NB_ERR_ARGUMENT) when absent. */
NB_API nb_module *nb_module_child(const nb_module *m, const char *path);
NB_API const char *nb_module_type(const nb_module *m);
/* New lists with full dotted names, in PyTorch's order: a module's own tensors in the order they
 * were added, then each child's, depth first in the order the children were added. A tensor
 * reachable twice (tied weights) is listed once, under its first name, as named_parameters() does.
 * named_parameters(), named_buffers(), and state_dict() (each module's parameters, then its
 * buffers, then its children) for checkpoints; the caller frees the list. */
NB_API nb_params *nb_module_named_parameters(const nb_module *m);
NB_API nb_params *nb_module_named_buffers(const nb_module *m);
NB_API nb_params *nb_module_state(const nb_module *m);
/* model.train(training) / model.eval(): sets the mode of m and every module under it, and the
 * training flags they hold (dropout, batch norm). */
NB_API void nb_module_train(nb_module *m, bool training);
NB_API bool nb_module_training(const nb_module *m); /* the last mode set (true at first) */

/* The layers as children of a module, named name, of PyTorch's types and with its names:
 * Linear (weight, bias), Embedding (weight), LayerNorm (weight, bias), Conv2d (weight, bias),
 * BatchNorm2d (weight, bias; buffers running_mean, running_var, but no num_batches_tracked, which
 * nabla does not count) and Dropout (no tensors; its training flag). The layer must outlive the
 * flags' switch; the tensors are retained. */
NB_API nb_status nb_linear_register(const nb_linear *l, nb_module *parent, const char *name);
NB_API nb_status nb_embedding_layer_register(const nb_embedding_layer *l, nb_module *parent, const char *name);
NB_API nb_status nb_layer_norm_layer_register(const nb_layer_norm_layer *l, nb_module *parent, const char *name);
NB_API nb_status nb_conv2d_layer_register(const nb_conv2d_layer *l, nb_module *parent, const char *name);
NB_API nb_status nb_batch_norm2d_register(nb_batch_norm2d *l, nb_module *parent, const char *name);
NB_API nb_status nb_dropout_layer_register(nb_dropout_layer *l, nb_module *parent, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_NN_H */
