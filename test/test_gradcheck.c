/* test_gradcheck.c — the gradcheck table: every differentiable op's backward against float64
 * central differences, with broadcast and non-contiguous inputs. A node kind that nabla records
 * but no row exercises makes the suite fail. */
#include "helpers.h"

#include <math.h>
#include <string.h>

/* internals the table checks itself against (lib/autograd/names.c) */
int nb__autograd_node_names(const char **names, int cap);
bool nb__autograd_graph_has(const nb_tensor *t, const char *name);
/* lib/nn/conv.c: the CPU composes convolutions of im2col and a product, as CUDA does */
void nb__conv_compose_on_cpu(bool on);

enum { POSITIVE = 1, NONCONTIG = 2, NEEDS_CUDA = 4 }; /* NEEDS_CUDA: skipped without a CUDA device */

typedef struct input_spec {
    int ndim;
    int64_t shape[4];
    int flags;
} input_spec;

typedef struct gc_row {
    const char *node; /* the node kind this row exercises */
    const char *what; /* the expression, for failure messages */
    nb_grad_fn fn;
    int n;
    input_spec in[3];
} gc_row;

#define A in[0]
#define B in[1]
#define FN(name, expr)                                                                           \
    static nb_tensor *name(int n, nb_tensor *const *in, void *ctx)                               \
    {                                                                                            \
        (void)n, (void)ctx;                                                                      \
        return (expr);                                                                           \
    }

FN(f_neg, nb_neg(A))
FN(f_abs, nb_abs(A))
FN(f_exp, nb_exp(A))
FN(f_log, nb_log(A))
FN(f_sqrt, nb_sqrt(A))
FN(f_sigmoid, nb_sigmoid(A))
FN(f_tanh, nb_tanh(A))
FN(f_relu, nb_relu(A))
FN(f_clamp, nb_clamp(A, -0.5, 0.5))
FN(f_clamp_min, nb_clamp_min(A, 0.1))
FN(f_add_scalar, nb_add_scalar(A, 2.0))
FN(f_sub_scalar, nb_sub_scalar(A, 2.0))
FN(f_mul_scalar, nb_mul_scalar(A, -3.0))
FN(f_div_scalar, nb_div_scalar(A, 4.0))
FN(f_rsub_scalar, nb_rsub_scalar(A, 1.0))
FN(f_pow3, nb_pow_scalar(A, 3.0))
FN(f_pow_half, nb_pow_scalar(A, 0.5))
FN(f_square, nb_pow_scalar(A, 2.0))
FN(f_add, nb_add(A, B))
FN(f_sub, nb_sub(A, B))
FN(f_mul, nb_mul(A, B))
FN(f_div, nb_div(A, B))
FN(f_pow, nb_pow(A, B))
FN(f_maximum, nb_maximum(A, B))
FN(f_minimum, nb_minimum(A, B))
FN(f_masked_fill, nb_masked_fill(A, nb_gt_scalar(A, 0.0), 0.0))
FN(f_where, nb_where(nb_gt_scalar(A, 0.0), A, B))
FN(f_gelu, nb_gelu(A, false))
FN(f_gelu_tanh, nb_gelu(A, true))
FN(f_silu, nb_silu(A))
FN(f_leaky_relu, nb_leaky_relu(A, 0.2))
FN(f_softplus, nb_softplus(A, 1.0, 20.0))
FN(f_softplus_threshold, nb_softplus(A, 2.0, 0.5)) /* beta 2, threshold 0.5: both branches */
FN(f_erf, nb_erf(A))
FN(f_sin, nb_sin(A))
FN(f_cos, nb_cos(A))
FN(f_log1p, nb_log1p(A))
FN(f_expm1, nb_expm1(A))
FN(f_rsqrt, nb_rsqrt(A))
FN(f_reciprocal, nb_reciprocal(A))
FN(f_floor, nb_floor(A))
FN(f_ceil, nb_ceil(A))
FN(f_round, nb_round(A))
FN(f_sign, nb_sign(A))
FN(f_lerp, nb_lerp(A, B, in[2]))
FN(f_lerp_scalar, nb_lerp_scalar(A, B, 0.3))
FN(f_reshape, nb_reshape(A, NB_SHAPE(3, 2)))
FN(f_squeeze, nb_squeeze(nb_unsqueeze(A, 1)))
FN(f_permute, nb_permute(A, NB_DIMS(2, 0, 1)))
FN(f_t, nb_t(A))
FN(f_narrow, nb_narrow(A, 1, 1, 2))
FN(f_select, nb_select(A, 0, 1))
FN(f_expand, nb_expand(A, NB_SHAPE(2, 3, 4)))
FN(f_clone, nb_clone(A))
FN(f_contiguous, nb_contiguous(A))
FN(f_cat, nb_cat(2, (nb_tensor *const[]){A, B}, 0))
/* to cuda:0, exp there, and back: the gradient crosses devices twice */
FN(f_to_cuda_and_back, nb_to(nb_exp(nb_to(A, NB_DEVICE_CUDA(0))), NB_DEVICE_CPU))
FN(f_sum, nb_sum(A))
FN(f_sum_dim, nb_sum_dim(A, 1, false))
FN(f_mean, nb_mean(A))
FN(f_mean_dim, nb_mean_dim(A, 0, true))
FN(f_max, nb_max(A))
FN(f_max_dim, nb_max_dim(A, 1, false))
FN(f_min, nb_min(A))
FN(f_min_dim, nb_min_dim(A, -1, true))
FN(f_sum_dims, nb_sum_dims(A, NB_DIMS(0, 2), false))
FN(f_mean_dims, nb_mean_dims(A, NB_DIMS(-1, 0), true))
FN(f_amax, nb_amax(A, NB_DIMS(1, 2), false))
FN(f_amin, nb_amin(A, 0, NULL, true))
FN(f_var, nb_var(A, NB_DIMS(0, 2), 1, false))
FN(f_std, nb_std(A, NB_DIMS(1), 0, true))
FN(f_logsumexp, nb_logsumexp(A, NB_DIMS(0, 2), false))
FN(f_logsumexp_all, nb_logsumexp(A, 0, NULL, true))
FN(f_var_all, nb_var(A, 0, NULL, 1, true))
FN(f_norm1, nb_norm(A, 1, NB_DIMS(1), false))
FN(f_norm2, nb_norm(A, 2, 0, NULL, false))
FN(f_norminf, nb_norm(A, INFINITY, NB_DIMS(0), true))
FN(f_prod, nb_prod(A))
FN(f_prod_dim, nb_prod_dim(A, 1, false))
FN(f_cumsum, nb_cumsum(A, 1))
FN(f_cumsum_last, nb_cumsum(A, -1))
static nb_tensor *f_topk(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *v, *i;
    nb_topk(A, 2, 1, true, true, &v, &i);
    nb_release(i);
    return v;
}
static nb_tensor *f_topk_smallest(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *v, *i;
    nb_topk(A, 3, 0, false, true, &v, &i);
    nb_release(i);
    return v;
}
FN(f_mm, nb_mm(A, B))
FN(f_matmul, nb_matmul(A, B))
FN(f_matmul_broadcast, nb_matmul(A, B))

/* in-place forms on a non-leaf, recorded through the same nodes */
static nb_tensor *f_axpy(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 1.0);
    return nb_add_scaled_(y, B, 0.5);
}

static nb_tensor *f_copy_(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 2.0);
    return nb_copy_(y, B);
}

/* reseeded at every evaluation, so that each one drops the same elements */
static nb_tensor *f_dropout(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_manual_seed(4321);
    return nb_dropout(A, 0.4, true);
}

static nb_tensor *f_fill_(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 2.0);
    return nb_add(nb_fill_(y, 3.0), B);
}

static nb_tensor *f_mul_(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 1.0);
    return nb_mul_(y, B);
}

FN(f_softmax_d0, nb_softmax(A, 0))
FN(f_softmax_d1, nb_softmax(A, 1))
FN(f_log_softmax_d0, nb_log_softmax(A, 0))
FN(f_log_softmax_d1, nb_log_softmax(A, 1))
FN(f_log_softmax_last, nb_log_softmax(A, -1))

/* int64 labels (not an input: they take no gradient), one per row of the logits */
static nb_tensor *f_cross_entropy(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    const int64_t rows = nb_size(A, 0), classes = nb_size(A, 1);
    int64_t labels[8];
    for (int64_t i = 0; i < rows && i < 8; i++) labels[i] = (i * 3 + 1) % classes;
    return nb_cross_entropy(A, nb_from_array(labels, 1, &rows, NB_OPTS(NB_INT64)));
}

/* cross entropy with options and nll: labels as above (ignore_index 1 drops some); class
 * weights (no gradient: PyTorch has none for them) 1, 1.5, 2, ... for the spatial rows */
static nb_tensor *xent_labels(nb_tensor *logits, bool spatial)
{
    const int64_t rows = nb_size(logits, 0), classes = nb_size(logits, 1);
    const int64_t per = spatial ? nb_size(logits, 2) : 1;
    int64_t labels[32];
    for (int64_t i = 0; i < rows * per && i < 32; i++) labels[i] = (i * 2 + 1) % classes;
    return spatial ? nb_from_array(labels, NB_SHAPE(rows, per), NB_OPTS(NB_INT64))
                   : nb_from_array(labels, 1, &rows, NB_OPTS(NB_INT64));
}

static nb_tensor *class_weights(nb_tensor *logits)
{
    return nb_add_scalar(nb_arange(0, (double)nb_size(logits, 1) * 0.5, 0.5, NB_OPTS(NB_FLOAT64)), 1.0);
}

static nb_tensor *f_cross_entropy_ex(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_cross_entropy_options o = NB_CROSS_ENTROPY_DEFAULTS;
    o.weight = nb_ndim(A) == 3 ? class_weights(A) : NULL;
    o.ignore_index = 1;
    o.label_smoothing = 0.15;
    return nb_cross_entropy_ex(A, xent_labels(A, nb_ndim(A) == 3), &o);
}

static nb_tensor *f_nll_loss(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_nll_loss_options o = NB_NLL_LOSS_DEFAULTS;
    o.weight = nb_ndim(A) == 3 ? class_weights(A) : NULL;
    o.reduction = NB_REDUCTION_SUM;
    return nb_nll_loss(A, xent_labels(A, nb_ndim(A) == 3), &o);
}

/* losses composed from recorded ops */
FN(f_l1_loss, nb_l1_loss(A, B, NB_REDUCTION_MEAN))
FN(f_smooth_l1_loss, nb_smooth_l1_loss(A, B, NB_REDUCTION_NONE, 0.8))
FN(f_huber_loss, nb_huber_loss(A, B, NB_REDUCTION_SUM, 0.7))
FN(f_bce, nb_binary_cross_entropy_with_logits(A, B, &(nb_bce_with_logits_options){.pos_weight = in[2]}))

/* normalised over b's shape (the weight's), c the bias */
FN(f_layer_norm, nb_layer_norm(A, nb_ndim(B), nb_shape(B), B, in[2], 1e-5))
FN(f_layer_norm_plain, nb_layer_norm(A, NB_SHAPE(4), NULL, NULL, 1e-5))
FN(f_rms_norm, nb_rms_norm(A, nb_ndim(B), nb_shape(B), B, 1e-5))
FN(f_rms_norm_plain, nb_rms_norm(A, NB_SHAPE(4), NULL, NAN))
/* batch norm over a's dim 1, b the weight and c the bias; eval with running statistics 0.2, 1.5 */
static nb_tensor *batch_norm_of(nb_tensor *const *in, int n, bool training)
{
    const int64_t ch = nb_size(A, 1);
    nb_tensor *rm = nb_full(1, &ch, 0.2, NB_OPTS(nb_dtype_of(A))), *rv = nb_full(1, &ch, 1.5, NB_OPTS(nb_dtype_of(A)));
    return nb_batch_norm(A, rm, rv, n > 1 ? B : NULL, n > 2 ? in[2] : NULL, training, 0.1, 1e-5);
}
FN(f_batch_norm_train, batch_norm_of(in, n, true))
FN(f_batch_norm_eval, batch_norm_of(in, n, false))
/* indexing: int64 indices (not inputs), with duplicates where the op allows them */
static nb_tensor *ints(int ndim, const int64_t *shape, const int64_t *v)
{
    return nb_from_array(v, ndim, shape, NB_OPTS(NB_INT64));
}
#define IDX_DUP ints(NB_SHAPE(3), (const int64_t[]){2, 0, 2})
FN(f_index_select, nb_index_select(A, 0, IDX_DUP))
FN(f_gather, nb_gather(A, 1, ints(NB_SHAPE(3, 2), (const int64_t[]){3, 3, 0, 1, 2, 0})))
FN(f_scatter, nb_scatter(A, 1, ints(NB_SHAPE(2, 2), (const int64_t[]){3, 1, 0, 2}), B))
FN(f_scatter_add, nb_scatter_add(A, 0, ints(NB_SHAPE(2, 4), (const int64_t[]){1, 1, 0, 2, 1, 2, 0, 2}), B))
FN(f_index_add, nb_index_add(A, 0, IDX_DUP, B, 2.0))
FN(f_embedding, nb_embedding(A, ints(NB_SHAPE(2, 3), (const int64_t[]){4, 1, 4, 0, 3, 4}), 2))
FN(f_embedding_no_pad, nb_embedding(A, ints(NB_SHAPE(4), (const int64_t[]){2, 2, 0, 4}), NB_NO_PADDING))
FN(f_conv2d, nb_conv2d(A, B, in[2],
                       &(nb_conv2d_options){.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}, .groups = 1}))
FN(f_conv2d_1x1, nb_conv2d(A, B, in[2], NULL))
FN(f_conv2d_winograd, nb_conv2d(A, B, in[2], &(nb_conv2d_options){.stride = {1, 1}, .padding = {1, 2},
                                                                   .dilation = {1, 1}, .groups = 1}))
FN(f_conv2d_groups_same, nb_conv2d(A, B, NULL,
                                   &(nb_conv2d_options){.stride = {1, 1}, .dilation = {1, 1}, .groups = 2,
                                                        .padding_rule = NB_CONV_PADDING_SAME}))
FN(f_conv1d, nb_conv1d(A, B, NULL, &(nb_conv1d_options){.stride = 2, .padding = 1, .dilation = 2, .groups = 1}))

/* f_conv2d and f_conv2d_groups_same composed of columns and a product (CUDA's way), on the CPU */
static nb_tensor *composed(nb_grad_fn f, int n, nb_tensor *const *in)
{
    nb__conv_compose_on_cpu(true);
    nb_tensor *y = f(n, in, NULL);
    nb__conv_compose_on_cpu(false);
    return y;
}
FN(f_conv2d_composed, composed(f_conv2d, n, in))
FN(f_conv2d_groups_same_composed, composed(f_conv2d_groups_same, n, in))
FN(f_conv_transpose2d, nb_conv_transpose2d(A, B, in[2],
                                           &(nb_conv_transpose2d_options){.stride = {2, 2},
                                                                          .padding = {1, 0},
                                                                          .output_padding = {1, 1},
                                                                          .groups = 2,
                                                                          .dilation = {1, 1}}))
/* pooling: overlapping windows, padding, dilation, ceil mode */
FN(f_max_pool2d, nb_max_pool2d(A, &(nb_max_pool2d_options){.kernel_size = {3, 2}, .stride = {2, 1}, .padding = {1, 1},
                                                            .dilation = {1, 2}, .ceil_mode = true}))
FN(f_avg_pool2d, nb_avg_pool2d(A, &(nb_avg_pool2d_options){.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1},
                                                            .ceil_mode = true}))
FN(f_avg_pool2d_div, nb_avg_pool2d(A, &(nb_avg_pool2d_options){.kernel_size = {2, 3}, .stride = {1, 2},
                                                                .count_include_pad = true, .divisor_override = 4}))
FN(f_adaptive_avg_pool2d, nb_adaptive_avg_pool2d(A, 3, 2))
#define C in[2]
FN(f_sdpa, nb_scaled_dot_product_attention(A, B, C, NULL))
FN(f_sdpa_causal, nb_scaled_dot_product_attention(A, B, C, &(nb_sdpa_options){.is_causal = true}))
/* row 1 keeps keys 0 and 3 only; every row keeps key 0 */
static const bool sdpa_bool_mask[4 * 5] = {1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1};
FN(f_sdpa_bool_mask,
   nb_scaled_dot_product_attention(A, B, C, &(nb_sdpa_options){
                                                .attn_mask = nb_from_array(sdpa_bool_mask, NB_SHAPE(4, 5),
                                                                           NB_OPTS(NB_BOOL)),
                                                .scale = 0.7}))
static const double sdpa_add_mask[3 * 5] = {0.5, -1, 0, 2, -0.25, -3, 0.1, 1, -INFINITY, 0, 0, 0, 0.75, -0.5, 1.5};
FN(f_sdpa_add_mask, nb_scaled_dot_product_attention(A, B, C, &(nb_sdpa_options){
                                                                 .attn_mask = nb_from_array(sdpa_add_mask, NB_SHAPE(3, 1, 5),
                                                                                            NB_OPTS(NB_FLOAT64))}))
/* reseeded at every evaluation, so that each one drops the same weights */
static nb_tensor *f_sdpa_dropout(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_manual_seed(99);
    return nb_scaled_dot_product_attention(A, B, C, &(nb_sdpa_options){.dropout_p = 0.3});
}
#undef C
static nb_tensor *f_scatter_add_(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 1.0);
    return nb_scatter_add_(y, 1, ints(NB_SHAPE(1, 3), (const int64_t[]){0, 0, 2}), B);
}
/* shape ops composed from recorded ops */
FN(f_stack, nb_stack(2, (nb_tensor *const[]){A, B}, 1))
static nb_tensor *f_split(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *p[3];
    if (nb_split(A, 2, 1, 3, p) != 3) return NULL;
    return nb_add(nb_mul(p[0], p[2]), p[1]);
}
FN(f_pad_constant, nb_pad(A, NB_SHAPE(1, 2, -1, 1), NB_PAD_CONSTANT, 0.5))
FN(f_pad_reflect, nb_pad(A, NB_SHAPE(2, 1), NB_PAD_REFLECT, 0))
FN(f_pad_replicate, nb_pad(A, NB_SHAPE(1, 2, 2, 0), NB_PAD_REPLICATE, 0))
FN(f_tril, nb_tril(A, 0))
FN(f_triu, nb_triu(A, 1))
FN(f_repeat, nb_repeat(A, NB_SHAPE(2, 1, 3)))
FN(f_flip, nb_flip(A, NB_DIMS(0, 1)))
FN(f_roll, nb_roll(A, NB_SHAPE(1, -2), NB_DIMS(0, 1)))

#define S1(a) 1, {a}
#define S2(a, b) 2, {a, b}
#define S3(a, b, c) 3, {a, b, c}
#define S4(a, b, c, d) 4, {a, b, c, d}
#define IN(dims, flags) {dims, flags}

static const gc_row rows[] = {
    {"NegBackward", "neg(a)", f_neg, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"AbsBackward", "abs(a)", f_abs, 1, {IN(S2(2, 3), 0)}},
    {"ExpBackward", "exp(a)", f_exp, 1, {IN(S2(3, 2), NONCONTIG)}},
    {"LogBackward", "log(a)", f_log, 1, {IN(S1(5), POSITIVE)}},
    {"SqrtBackward", "sqrt(a)", f_sqrt, 1, {IN(S2(2, 3), POSITIVE | NONCONTIG)}},
    {"SigmoidBackward", "sigmoid(a)", f_sigmoid, 1, {IN(S2(2, 3), 0)}},
    {"TanhBackward", "tanh(a)", f_tanh, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"ReluBackward", "relu(a)", f_relu, 1, {IN(S2(3, 3), 0)}},
    {"ClampBackward", "clamp(a, -0.5, 0.5)", f_clamp, 1, {IN(S2(3, 4), 0)}},
    {"ClampBackward", "clamp_min(a, 0.1)", f_clamp_min, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"AddScalarBackward", "a + 2", f_add_scalar, 1, {IN(S1(4), 0)}},
    {"AddScalarBackward", "a - 2", f_sub_scalar, 1, {IN(S2(2, 2), NONCONTIG)}},
    {"MulScalarBackward", "a * -3", f_mul_scalar, 1, {IN(S1(4), 0)}},
    {"DivScalarBackward", "a / 4", f_div_scalar, 1, {IN(S1(4), 0)}},
    {"RsubScalarBackward", "1 - a", f_rsub_scalar, 1, {IN(S1(4), 0)}},
    {"PowScalarBackward", "a ^ 3", f_pow3, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"PowScalarBackward", "a ^ 0.5", f_pow_half, 1, {IN(S1(4), POSITIVE)}},
    {"SquareBackward", "a ^ 2", f_square, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"AddBackward", "a(3,1) + b(4)", f_add, 2, {IN(S2(3, 1), 0), IN(S1(4), 0)}},
    {"SubBackward", "a(2,3) - b(3)", f_sub, 2, {IN(S2(2, 3), NONCONTIG), IN(S1(3), 0)}},
    {"MulBackward", "a(2,3) * b(2,1)", f_mul, 2, {IN(S2(2, 3), NONCONTIG), IN(S2(2, 1), 0)}},
    {"DivBackward", "a(2,3) / b(3)", f_div, 2, {IN(S2(2, 3), 0), IN(S1(3), POSITIVE)}},
    {"PowBackward", "a(2,3) ^ b(3)", f_pow, 2, {IN(S2(2, 3), POSITIVE), IN(S1(3), 0)}},
    {"MaximumBackward", "maximum(a(2,3), b(3))", f_maximum, 2, {IN(S2(2, 3), NONCONTIG), IN(S1(3), 0)}},
    {"MinimumBackward", "minimum(a(3,1), b(3,4))", f_minimum, 2, {IN(S2(3, 1), 0), IN(S2(3, 4), NONCONTIG)}},
    {"AxpyBackward", "(a * 1) += 0.5 b", f_axpy, 2, {IN(S2(2, 3), 0), IN(S1(3), 0)}},
    {"MulBackward", "(a * 1) *= b", f_mul_, 2, {IN(S2(2, 3), 0), IN(S2(2, 3), NONCONTIG)}},
    {"MaskedFillBackward", "masked_fill(a, a > 0, 0)", f_masked_fill, 1, {IN(S2(3, 3), NONCONTIG)}},
    {"WhereBackward", "where(a > 0, a(2,3), b(3))", f_where, 2, {IN(S2(2, 3), 0), IN(S1(3), 0)}},
    {"GeluBackward", "gelu(a)", f_gelu, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"GeluBackward", "gelu(a, tanh)", f_gelu_tanh, 1, {IN(S2(3, 4), 0)}},
    {"SiluBackward", "silu(a)", f_silu, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"LeakyReluBackward", "leaky_relu(a, 0.2)", f_leaky_relu, 1, {IN(S2(3, 3), NONCONTIG)}},
    {"SoftplusBackward", "softplus(a)", f_softplus, 1, {IN(S2(2, 3), 0)}},
    {"SoftplusBackward", "softplus(a, 2, 0.5)", f_softplus_threshold, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"ErfBackward", "erf(a)", f_erf, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"SinBackward", "sin(a)", f_sin, 1, {IN(S2(2, 3), 0)}},
    {"CosBackward", "cos(a)", f_cos, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"Log1pBackward", "log1p(a)", f_log1p, 1, {IN(S2(2, 3), POSITIVE | NONCONTIG)}},
    {"Expm1Backward", "expm1(a)", f_expm1, 1, {IN(S1(5), 0)}},
    {"RsqrtBackward", "rsqrt(a)", f_rsqrt, 1, {IN(S2(2, 3), POSITIVE | NONCONTIG)}},
    {"ReciprocalBackward", "reciprocal(a)", f_reciprocal, 1, {IN(S1(5), POSITIVE)}},
    {"FloorBackward", "floor(a)", f_floor, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"CeilBackward", "ceil(a)", f_ceil, 1, {IN(S1(4), 0)}},
    {"RoundBackward", "round(a)", f_round, 1, {IN(S2(2, 3), 0)}},
    {"SignBackward", "sign(a)", f_sign, 1, {IN(S1(5), NONCONTIG)}},
    {"LerpBackward", "lerp(a(2,3), b(3), w(2,1))", f_lerp, 3, {IN(S2(2, 3), NONCONTIG), IN(S1(3), 0), IN(S2(2, 1), 0)}},
    {"LerpBackward", "lerp(a(3), b(2,3), w(3))", f_lerp, 3, {IN(S1(3), 0), IN(S2(2, 3), 0), IN(S1(3), POSITIVE)}},
    {"LerpScalarBackward", "lerp(a(2,3), b(3), 0.3)", f_lerp_scalar, 2, {IN(S2(2, 3), 0), IN(S1(3), NONCONTIG)}},
    {"ReshapeBackward", "reshape(a(2,3), (3,2))", f_reshape, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"ReshapeBackward", "squeeze(unsqueeze(a, 1))", f_squeeze, 1, {IN(S2(2, 3), 0)}},
    {"PermuteBackward", "permute(a(2,3,4), (2,0,1))", f_permute, 1, {IN(S3(2, 3, 4), 0)}},
    {"PermuteBackward", "t(a)", f_t, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"NarrowBackward", "narrow(a, 1, 1, 2)", f_narrow, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"SelectBackward", "select(a, 0, 1)", f_select, 1, {IN(S2(3, 4), 0)}},
    {"ExpandBackward", "expand(a(3,1), (2,3,4))", f_expand, 1, {IN(S2(3, 1), 0)}},
    {"CloneBackward", "clone(a)", f_clone, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"CloneBackward", "contiguous(a)", f_contiguous, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"CopyBackward", "(a * 2).copy_(b)", f_copy_, 2, {IN(S2(2, 3), 0), IN(S1(3), 0)}},
    {"FillBackward", "(a * 2).fill_(3) + b", f_fill_, 2, {IN(S1(3), 0), IN(S1(3), 0)}},
    {"CatBackward", "cat(a(2,3), b(1,3))", f_cat, 2, {IN(S2(2, 3), NONCONTIG), IN(S2(1, 3), 0)}},
    {"ToBackward", "to(exp(to(a, cuda:0)), cpu)", f_to_cuda_and_back, 1, {IN(S2(2, 3), NONCONTIG | NEEDS_CUDA)}},
    {"SumBackward", "sum(a)", f_sum, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"SumBackward", "sum(a, 1)", f_sum_dim, 1, {IN(S3(2, 3, 2), 0)}},
    {"MeanBackward", "mean(a)", f_mean, 1, {IN(S2(2, 3), 0)}},
    {"MeanBackward", "mean(a, 0, keepdim)", f_mean_dim, 1, {IN(S2(3, 2), NONCONTIG)}},
    {"MaxBackward", "max(a)", f_max, 1, {IN(S2(2, 3), 0)}},
    {"MaxBackward", "max(a, 1)", f_max_dim, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"MinBackward", "min(a)", f_min, 1, {IN(S1(5), 0)}},
    {"MinBackward", "min(a, -1, keepdim)", f_min_dim, 1, {IN(S2(2, 4), 0)}},
    {"SumDimsBackward", "sum_dims(a(2,3,4), [0, 2])", f_sum_dims, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"MeanDimsBackward", "mean_dims(a(2,3,4), [-1, 0], keepdim)", f_mean_dims, 1, {IN(S3(2, 3, 4), 0)}},
    {"AmaxBackward", "amax(a(2,3,4), [1, 2])", f_amax, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"AminBackward", "amin(a(3,4), [], keepdim)", f_amin, 1, {IN(S2(3, 4), 0)}},
    {"VarBackward", "var(a(2,3,4), [0, 2])", f_var, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"StdBackward", "std(a(3,4), [1], correction 0, keepdim)", f_std, 1, {IN(S2(3, 4), 0)}},
    {"LogsumexpBackward", "logsumexp(a(2,3,4), [0, 2])", f_logsumexp, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"LogsumexpBackward", "logsumexp(a(3,4), [], keepdim)", f_logsumexp_all, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"VarBackward", "var(a(3,4), [], keepdim)", f_var_all, 1, {IN(S2(3, 4), 0)}},
    {"NormBackward", "norm(a(3,4), 1, [1])", f_norm1, 1, {IN(S2(3, 4), 0)}},
    {"NormBackward", "norm(a(3,4), 2)", f_norm2, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"NormBackward", "norm(a(3,4), inf, [0], keepdim)", f_norminf, 1, {IN(S2(3, 4), 0)}},
    {"ProdBackward", "prod(a(2,3))", f_prod, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"ProdBackward", "prod(a(2,3,4), 1)", f_prod_dim, 1, {IN(S3(2, 3, 4), 0)}},
    {"CumsumBackward", "cumsum(a(2,3,4), 1)", f_cumsum, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"CumsumBackward", "cumsum(a(5), -1)", f_cumsum_last, 1, {IN(S1(5), 0)}},
    {"TopkBackward", "topk(a(3,5), 2, 1)", f_topk, 1, {IN(S2(3, 5), NONCONTIG)}},
    {"TopkBackward", "topk(a(4,3), 3, 0, smallest)", f_topk_smallest, 1, {IN(S2(4, 3), 0)}},
    {"MmBackward", "mm(a(3,4), b(4,2))", f_mm, 2, {IN(S2(3, 4), NONCONTIG), IN(S2(4, 2), 0)}},
    {"MmBackward", "mm(a(3,4), b(4,2) transposed)", f_mm, 2, {IN(S2(3, 4), 0), IN(S2(4, 2), NONCONTIG)}},
    {"BmmBackward", "matmul(a(2,3,4), b(2,4,2))", f_matmul, 2, {IN(S3(2, 3, 4), 0), IN(S3(2, 4, 2), 0)}},
    {"BmmBackward", "matmul(a(2,1,3,4), b(3,4,2))", f_matmul_broadcast, 2,
     {IN(S4(2, 1, 3, 4), 0), IN(S3(3, 4, 2), 0)}},
    {"SoftmaxBackward", "softmax(a, 1)", f_softmax_d1, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"SoftmaxBackward", "softmax(a, 0)", f_softmax_d0, 1, {IN(S2(3, 4), 0)}},
    {"SoftmaxBackward", "softmax(a(2,3,4), 1)", f_softmax_d1, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"LogSoftmaxBackward", "log_softmax(a, -1)", f_log_softmax_last, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"LogSoftmaxBackward", "log_softmax(a(2,3,4), 0)", f_log_softmax_d0, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"LogSoftmaxBackward", "log_softmax(a(2,3,4), 1)", f_log_softmax_d1, 1, {IN(S3(2, 3, 4), 0)}},
    {"CrossEntropyBackward", "cross_entropy(a(4,5), labels)", f_cross_entropy, 1, {IN(S2(4, 5), NONCONTIG)}},
    {"CrossEntropyBackward", "cross_entropy(a(3,2), labels)", f_cross_entropy, 1, {IN(S2(3, 2), 0)}},
    {"CrossEntropyBackward", "cross_entropy_ex(a(5,4), labels, ignore 1, smoothing 0.15)", f_cross_entropy_ex, 1,
     {IN(S2(5, 4), NONCONTIG)}},
    {"CrossEntropyBackward", "cross_entropy_ex(a(2,3,4), labels(2,4), weights, ...)", f_cross_entropy_ex, 1,
     {IN(S3(2, 3, 4), NONCONTIG)}},
    {"NllLossBackward", "nll_loss(a(5,4), labels, sum)", f_nll_loss, 1, {IN(S2(5, 4), 0)}},
    {"NllLossBackward", "nll_loss(a(2,3,4), labels(2,4), weights, sum)", f_nll_loss, 1,
     {IN(S3(2, 3, 4), NONCONTIG)}},
    {"AbsBackward", "l1_loss(a(3,4), b(4))", f_l1_loss, 2, {IN(S2(3, 4), NONCONTIG), IN(S1(4), 0)}},
    {"WhereBackward", "smooth_l1_loss(a(3,4), b(3,4), none, 0.8)", f_smooth_l1_loss, 2,
     {IN(S2(3, 4), 0), IN(S2(3, 4), NONCONTIG)}},
    {"WhereBackward", "huber_loss(a(3,4), b(3,1), sum, 0.7)", f_huber_loss, 2, {IN(S2(3, 4), 0), IN(S2(3, 1), 0)}},
    {"WhereBackward", "bce_with_logits(a(3,4), b(3,4), pos_weight c(4))", f_bce, 3,
     {IN(S2(3, 4), NONCONTIG), IN(S2(3, 4), 0), IN(S1(4), POSITIVE)}},
    {"LayerNormBackward", "layer_norm(a(3,4), (4,), b, c)", f_layer_norm, 3,
     {IN(S2(3, 4), NONCONTIG), IN(S1(4), 0), IN(S1(4), 0)}},
    {"LayerNormBackward", "layer_norm(a(2,3,4), (3,4), b, c)", f_layer_norm, 3,
     {IN(S3(2, 3, 4), 0), IN(S2(3, 4), NONCONTIG), IN(S2(3, 4), 0)}},
    {"LayerNormBackward", "layer_norm(a(3,4), (4,))", f_layer_norm_plain, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"NativeBatchNormBackward", "batch_norm(a(4,3), b, c, training)", f_batch_norm_train, 3,
     {IN(S2(4, 3), NONCONTIG), IN(S1(3), 0), IN(S1(3), 0)}},
    {"NativeBatchNormBackward", "batch_norm(a(2,3,2,2), b, c, training)", f_batch_norm_train, 3,
     {IN(S4(2, 3, 2, 2), 0), IN(S1(3), 0), IN(S1(3), 0)}},
    {"NativeBatchNormBackward", "batch_norm(a(3,2,3), training)", f_batch_norm_train, 1, {IN(S3(3, 2, 3), NONCONTIG)}},
    {"NativeBatchNormBackward", "batch_norm(a(2,3,2,2), b, eval)", f_batch_norm_eval, 2,
     {IN(S4(2, 3, 2, 2), 0), IN(S1(3), 0)}},
    {"NativeBatchNormBackward", "batch_norm(a(4,3), b, c, eval)", f_batch_norm_eval, 3,
     {IN(S2(4, 3), NONCONTIG), IN(S1(3), 0), IN(S1(3), 0)}},
    {"RmsNormBackward", "rms_norm(a(3,4), (4,), b)", f_rms_norm, 2, {IN(S2(3, 4), NONCONTIG), IN(S1(4), 0)}},
    {"RmsNormBackward", "rms_norm(a(2,3,4), (3,4), b)", f_rms_norm, 2, {IN(S3(2, 3, 4), 0), IN(S2(3, 4), 0)}},
    {"RmsNormBackward", "rms_norm(a(2,4), (4,))", f_rms_norm_plain, 1, {IN(S2(2, 4), 0)}},
    {"DropoutBackward", "seed 4321; dropout(a(4,5), 0.4)", f_dropout, 1, {IN(S2(4, 5), NONCONTIG)}},
    {"DropoutBackward", "seed 4321; dropout(a(3), 0.4)", f_dropout, 1, {IN(S1(3), 0)}},
    {"IndexSelectBackward", "index_select(a(4,3), 0, [2, 0, 2])", f_index_select, 1, {IN(S2(4, 3), NONCONTIG)}},
    {"GatherBackward", "gather(a(3,4), 1, (3,2) with duplicates)", f_gather, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"ScatterBackward", "scatter(a(2,4), 1, (2,2), b(2,3))", f_scatter, 2, {IN(S2(2, 4), 0), IN(S2(2, 3), NONCONTIG)}},
    {"ScatterAddBackward", "scatter_add(a(3,4), 0, (2,4) with duplicates, b(2,4))", f_scatter_add, 2,
     {IN(S2(3, 4), NONCONTIG), IN(S2(2, 4), 0)}},
    {"ScatterAddBackward", "(a * 1).scatter_add_(1, (1,3), b(2,3))", f_scatter_add_, 2, {IN(S2(2, 4), 0), IN(S2(2, 3), 0)}},
    {"IndexAddBackward", "index_add(a(4,3), 0, [2, 0, 2], b(3,3), 2)", f_index_add, 2,
     {IN(S2(4, 3), 0), IN(S2(3, 3), NONCONTIG)}},
    {"EmbeddingBackward", "embedding(a(5,3), (2,3), padding 2: a row no index names)", f_embedding, 1, {IN(S2(5, 3), NONCONTIG)}},
    {"EmbeddingBackward", "embedding(a(5,3), (4,))", f_embedding_no_pad, 1, {IN(S2(5, 3), 0)}},
    {"ConvolutionBackward", "conv2d(a(2,3,5,4), b(4,3,3,2), c(4)), stride (2,1), padding 1, dilation (1,2)",
     f_conv2d, 3, {IN(S4(2, 3, 5, 4), NONCONTIG), IN(S4(4, 3, 3, 2), 0), IN(S1(4), 0)}},
    {"ConvolutionBackward", "conv2d(a(1,4,5,5), b(4,2,3,2)), groups 2, padding same", f_conv2d_groups_same, 2,
     {IN(S4(1, 4, 5, 5), 0), IN(S4(4, 2, 3, 2), NONCONTIG)}},
    {"ConvolutionBackward", "conv2d(a(3,2,4,4), b(3,2,1,1), c(3)), 1x1: the input is its own columns", f_conv2d_1x1, 3,
     {IN(S4(3, 2, 4, 4), NONCONTIG), IN(S4(3, 2, 1, 1), 0), IN(S1(3), 0)}},
    {"ConvolutionBackward", "conv2d(a(2,16,3,4), b(16,16,3,3), c(16)), padding (1,2): Winograd's", f_conv2d_winograd, 3,
     {IN(S4(2, 16, 3, 4), NONCONTIG), IN(S4(16, 16, 3, 3), 0), IN(S1(16), 0)}},
    {"ConvolutionBackward", "conv1d(a(2,2,7), b(3,2,3)), stride 2, padding 1, dilation 2", f_conv1d, 2,
     {IN(S3(2, 2, 7), 0), IN(S3(3, 2, 3), 0)}},
    {"Im2colBackward", "composed: conv2d(a(2,3,5,4), b(4,3,3,2), c(4)), stride (2,1), padding 1, dilation (1,2)",
     f_conv2d_composed, 3, {IN(S4(2, 3, 5, 4), NONCONTIG), IN(S4(4, 3, 3, 2), 0), IN(S1(4), 0)}},
    {"Im2colBackward", "composed: conv2d(a(1,4,5,5), b(4,2,3,2)), groups 2, padding same",
     f_conv2d_groups_same_composed, 2, {IN(S4(1, 4, 5, 5), 0), IN(S4(4, 2, 3, 2), NONCONTIG)}},
    {"Col2imBackward", "conv_transpose2d(a(2,4,3,3), b(4,2,3,3), c(4)), stride 2, padding (1,0), output_padding 1, groups 2",
     f_conv_transpose2d, 3, {IN(S4(2, 4, 3, 3), 0), IN(S4(4, 2, 3, 3), NONCONTIG), IN(S1(4), 0)}},
    {"MaxPool2DWithIndicesBackward", "max_pool2d(a(2,2,5,6), (3,2), (2,1), (1,1), (1,2), ceil)", f_max_pool2d, 1,
     {IN(S4(2, 2, 5, 6), NONCONTIG)}},
    {"AvgPool2DBackward", "avg_pool2d(a(2,5,6), 3, 2, 1, ceil, count_include_pad=False)", f_avg_pool2d, 1,
     {IN(S3(2, 5, 6), 0)}},
    {"AvgPool2DBackward", "avg_pool2d(a(2,2,4,7), (2,3), (1,2), divisor 4)", f_avg_pool2d_div, 1,
     {IN(S4(2, 2, 4, 7), NONCONTIG)}},
    {"AdaptiveAvgPool2DBackward", "adaptive_avg_pool2d(a(2,2,5,4), (3,2))", f_adaptive_avg_pool2d, 1,
     {IN(S4(2, 2, 5, 4), NONCONTIG)}},
    {"ScaledDotProductAttentionBackward", "sdpa(q(2,4,3), k(2,5,3), v(2,5,2))", f_sdpa, 3,
     {IN(S3(2, 4, 3), NONCONTIG), IN(S3(2, 5, 3), 0), IN(S3(2, 5, 2), NONCONTIG)}},
    {"ScaledDotProductAttentionBackward", "sdpa(q(2,2,4,3), k(2,2,6,3), v(2,2,6,2), causal)", f_sdpa_causal, 3,
     {IN(S4(2, 2, 4, 3), 0), IN(S4(2, 2, 6, 3), NONCONTIG), IN(S4(2, 2, 6, 2), 0)}},
    {"ScaledDotProductAttentionBackward", "sdpa(q(2,4,3), k(2,5,3), v(2,5,2), bool mask (4,5), scale 0.7)",
     f_sdpa_bool_mask, 3, {IN(S3(2, 4, 3), 0), IN(S3(2, 5, 3), 0), IN(S3(2, 5, 2), 0)}},
    {"ScaledDotProductAttentionBackward", "sdpa(q(2,3,4,3), k(3,5,3), v(5,2), additive mask (3,1,5) with -inf)",
     f_sdpa_add_mask, 3, {IN(S4(2, 3, 4, 3), 0), IN(S3(3, 5, 3), NONCONTIG), IN(S2(5, 2), 0)}},
    {"ScaledDotProductAttentionBackward", "seed 99; sdpa(q(2,4,3), k(1,5,3), v(2,5,2), dropout 0.3)", f_sdpa_dropout,
     3, {IN(S3(2, 4, 3), 0), IN(S3(1, 5, 3), 0), IN(S3(2, 5, 2), 0)}},
    {"CatBackward", "stack((a, b), 1)", f_stack, 2, {IN(S2(2, 3), NONCONTIG), IN(S2(2, 3), 0)}},
    {"NarrowBackward", "split(a(2,6), 2, 1): p0 * p2 + p1", f_split, 1, {IN(S2(2, 6), NONCONTIG)}},
    {"CatBackward", "pad(a(3,4), (1, 2, -1, 1), 0.5)", f_pad_constant, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"IndexSelectBackward", "pad(a(2,4), (2, 1), reflect)", f_pad_reflect, 1, {IN(S2(2, 4), NONCONTIG)}},
    {"IndexSelectBackward", "pad(a(2,3,3), (1, 2, 2, 0), replicate)", f_pad_replicate, 1, {IN(S3(2, 3, 3), 0)}},
    {"WhereBackward", "tril(a(3,4))", f_tril, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"WhereBackward", "triu(a(2,3,4), 1)", f_triu, 1, {IN(S3(2, 3, 4), 0)}},
    {"ExpandBackward", "repeat(a(2,3), (2, 1, 3))", f_repeat, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"IndexSelectBackward", "flip(a(3,4), (0, 1))", f_flip, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"CatBackward", "roll(a(3,4), (1, -2), (0, 1))", f_roll, 1, {IN(S2(3, 4), 0)}},
};
#define NROWS ((int)(sizeof rows / sizeof rows[0]))

static nb_tensor *make_input(const input_spec *s)
{
    nb_tensor *t = nb_randn(s->ndim, s->shape, NB_OPTS(NB_FLOAT64));
    if (s->flags & POSITIVE) {
        nb_tensor *p = nb_add_scalar(nb_abs(t), 0.5);
        t = p;
    }
    if (s->flags & NONCONTIG) {
        t = noncontig(t);
        cr_assert(!nb_is_contiguous(t) || s->ndim < 2);
    }
    return nb_requires_grad_(nb_detach(t), true);
}

static void run_row(const gc_row *r)
{
    if ((r->in[0].flags & NEEDS_CUDA) && nb_cuda_device_count() == 0) return;
    nb_scope_begin();
    nb_manual_seed(1234);
    nb_tensor *inputs[3] = {0};
    for (int k = 0; k < r->n; k++) inputs[k] = make_input(&r->in[k]);
    nb_tensor *y = r->fn(r->n, inputs, NULL);
    cr_assert(y != NULL, "%s: %s", r->what, nb_last_error());
    cr_assert(nb__autograd_graph_has(y, r->node), "%s does not record %s (top node %s)", r->what,
              r->node, nb_grad_fn_name(y));
    nb_status st = nb_gradcheck(r->fn, NULL, r->n, inputs);
    cr_assert_eq(st, NB_OK, "%s: %s", r->what, nb_last_error());
    nb_scope_end();
}

Test(gradcheck, every_row_passes, .init = nb_test_setup)
{
    for (int i = 0; i < NROWS; i++) run_row(&rows[i]);
}

Test(gradcheck, every_recorded_node_kind_has_a_row, .init = nb_test_setup)
{
    const char *names[128];
    int count = nb__autograd_node_names(names, 128);
    cr_assert(count > 0 && count <= 128);
    for (int i = 0; i < count; i++) {
        bool covered = false;
        for (int r = 0; r < NROWS && !covered; r++) covered = strcmp(rows[r].node, names[i]) == 0;
        cr_assert(covered, "%s has a backward but no row in the gradcheck table", names[i]);
    }
}

/* 6a, of which the graph records only 2a: backward is wrong by a factor of 3 */
static nb_tensor *f_wrong(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 2.0);
    nb_no_grad_begin();
    nb_mul_scalar_(y, 3.0);
    nb_no_grad_end();
    return y;
}

Test(gradcheck, a_wrong_gradient_is_reported, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(3), NB_OPTS(NB_FLOAT64)), true);
    nb_tensor *inputs[1] = {x};
    cr_assert_eq(nb_gradcheck(f_wrong, NULL, 1, inputs), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_gradcheck", "input 0 element 0", "finite differences"));
    nb_tensor *f32 = nb_requires_grad_(nb_randn(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *f32_inputs[1] = {f32};
    cr_assert_eq(nb_gradcheck(f_neg, NULL, 1, f32_inputs), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_gradcheck", "float64"));
    nb_scope_end();
}
