/* test_half_nn.c — suite half: the nn ops (normalisations, dropout, pooling, convolutions,
 * embedding, activations, attention, losses) on float16 and bfloat16 inputs against the same op
 * in float32.
 *
 * Every row runs twice per half dtype on the same values: once on half inputs, once on float32
 * inputs holding the half values exactly. The half op computes in float32 and rounds once, so its
 * result and its inputs' gradients (from the same output gradient, also half-exact) must be the
 * float32 ones rounded once: within the row's tolerance, in units of the dtype's rounding error u
 * (2^-11 for float16, 2^-8 for bfloat16): |half - float32| <= tol * u * |float32| + atol, where
 * atol covers float16's subnormals (1e-7; 1e-30 for bfloat16). Every table row states tol (the
 * result's: 1, one rounding, for every op) and grad_tol (the gradients': 1 but where backward runs
 * through elementwise half ops, which round at each op as PyTorch's do). The largest errors
 * measured are logged (--verbose). */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void half_setup(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void half_teardown(void) { cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error()); }
#define H .init = half_setup, .fini = half_teardown

typedef nb_tensor *(*row_fn)(nb_tensor *const *in);

typedef struct half_row {
    const char *name;
    row_fn fn;
    int n;                 /* float inputs */
    int ndim[4];
    int64_t shape[4][4];
    double tol;            /* the result's, in units of the half dtype's rounding error */
    double grad_tol;       /* the inputs' gradients' (backward through half elementwise ops rounds
                              at each op, as PyTorch's does) */
} half_row;


/* ---------------------------------------------------------------- the ops */

static nb_tensor *labels(int64_t n, int64_t classes)
{
    int64_t v[16]; /* (n,) */
    for (int64_t i = 0; i < n; i++) v[i] = (i * 7 + 3) % classes;
    return nb_from_array(v, NB_SHAPE(n), NB_OPTS(NB_INT64));
}

static nb_tensor *f_layer_norm(nb_tensor *const *in) { return nb_layer_norm(in[0], 1, (int64_t[]){6}, in[1], in[2], 1e-5); }
static nb_tensor *f_rms_norm(nb_tensor *const *in) { return nb_rms_norm(in[0], 1, (int64_t[]){6}, in[1], 1e-6); }
/* float32 running statistics with a half input: PyTorch's mixed batch norm (autocast) */
static nb_tensor *f_batch_norm_train(nb_tensor *const *in)
{
    nb_tensor *rm = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), *rv = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    return nb_batch_norm(in[0], rm, rv, in[1], in[2], true, 0.1, 1e-5);
}
static nb_tensor *f_batch_norm_eval(nb_tensor *const *in)
{
    nb_tensor *rm = nb_full(1, (int64_t[]){3}, 0.25, NB_OPTS(NB_FLOAT32));
    nb_tensor *rv = nb_full(1, (int64_t[]){3}, 1.5, NB_OPTS(NB_FLOAT32));
    return nb_batch_norm(in[0], rm, rv, in[1], in[2], false, 0.1, 1e-5);
}
static nb_tensor *f_dropout(nb_tensor *const *in) { return nb_manual_seed(11), nb_dropout(in[0], 0.3, true); }
static nb_tensor *f_max_pool(nb_tensor *const *in) { return nb_max_pool2d(in[0], &NB_MAX_POOL2D_OPTIONS(2, 2)); }
static nb_tensor *f_max_pool_idx(nb_tensor *const *in)
{
    nb_tensor *idx = NULL;
    nb_max_pool2d_options o = NB_MAX_POOL2D_OPTIONS(3, 3);
    o.stride[0] = o.stride[1] = 2;
    o.padding[0] = o.padding[1] = 1;
    nb_tensor *y = nb_max_pool2d_with_indices(in[0], &o, &idx);
    /* the indices are the same whatever the dtype: fold them into the values */
    return y && idx ? nb_add(y, nb_mul_scalar(nb_to_dtype(idx, nb_dtype_of(y)), 0)) : NULL;
}
static nb_tensor *f_avg_pool(nb_tensor *const *in)
{
    nb_avg_pool2d_options o = NB_AVG_POOL2D_OPTIONS(3, 3);
    o.stride[0] = o.stride[1] = 2;
    o.padding[0] = o.padding[1] = 1;
    return nb_avg_pool2d(in[0], &o);
}
static nb_tensor *f_adaptive_avg_pool(nb_tensor *const *in) { return nb_adaptive_avg_pool2d(in[0], 4, 3); }
static nb_tensor *f_conv1d(nb_tensor *const *in) { return nb_conv1d(in[0], in[1], in[2], NULL); }
static nb_tensor *f_conv2d(nb_tensor *const *in) { return nb_conv2d(in[0], in[1], in[2], NULL); }
static nb_tensor *f_conv2d_unbatched(nb_tensor *const *in) { return nb_conv2d(in[0], in[1], NULL, NULL); }
static nb_tensor *f_conv_transpose2d(nb_tensor *const *in) { return nb_conv_transpose2d(in[0], in[1], in[2], NULL); }
static nb_tensor *f_embedding(nb_tensor *const *in)
{
    return nb_embedding(in[0], nb_from_array((int64_t[]){3, 0, 9, 3, 5}, NB_SHAPE(5), NB_OPTS(NB_INT64)), 0);
}
static nb_tensor *f_gelu(nb_tensor *const *in) { return nb_gelu(in[0], false); }
static nb_tensor *f_gelu_tanh(nb_tensor *const *in) { return nb_gelu(in[0], true); }
static nb_tensor *f_silu(nb_tensor *const *in) { return nb_silu(in[0]); }
static nb_tensor *f_relu(nb_tensor *const *in) { return nb_relu(in[0]); }
static nb_tensor *f_sigmoid(nb_tensor *const *in) { return nb_sigmoid(in[0]); }
static nb_tensor *f_tanh(nb_tensor *const *in) { return nb_tanh(in[0]); }
static nb_tensor *f_leaky_relu(nb_tensor *const *in) { return nb_leaky_relu(in[0], 0.1); }
static nb_tensor *f_softplus(nb_tensor *const *in) { return nb_softplus(in[0], 2.0, 20.0); }
static nb_tensor *f_softmax(nb_tensor *const *in) { return nb_softmax(in[0], -1); }
static nb_tensor *f_log_softmax(nb_tensor *const *in) { return nb_log_softmax(in[0], 0); }
static nb_tensor *f_sdpa(nb_tensor *const *in) { return nb_scaled_dot_product_attention(in[0], in[1], in[2], NULL); }
static nb_tensor *f_sdpa_causal(nb_tensor *const *in)
{
    return nb_scaled_dot_product_attention(in[0], in[1], in[2], &(nb_sdpa_options){.is_causal = true});
}
static nb_tensor *f_mse(nb_tensor *const *in) { return nb_mse_loss(in[0], in[1]); }
static nb_tensor *f_l1(nb_tensor *const *in) { return nb_l1_loss(in[0], in[1], NB_REDUCTION_SUM); }
static nb_tensor *f_smooth_l1(nb_tensor *const *in) { return nb_smooth_l1_loss(in[0], in[1], NB_REDUCTION_NONE, 0.5); }
static nb_tensor *f_huber(nb_tensor *const *in) { return nb_huber_loss(in[0], in[1], NB_REDUCTION_MEAN, 0.7); }
static nb_tensor *f_bce_logits(nb_tensor *const *in)
{
    return nb_binary_cross_entropy_with_logits(in[0], nb_sigmoid(in[1]), NULL);
}
static nb_tensor *f_cross_entropy(nb_tensor *const *in) { return nb_cross_entropy(in[0], labels(5, 4)); }
static nb_tensor *f_cross_entropy_smooth(nb_tensor *const *in)
{
    nb_cross_entropy_options o = NB_CROSS_ENTROPY_DEFAULTS;
    o.label_smoothing = 0.1;
    o.reduction = NB_REDUCTION_NONE;
    return nb_cross_entropy_ex(in[0], labels(5, 4), &o);
}
static nb_tensor *f_nll(nb_tensor *const *in) { return nb_nll_loss(nb_log_softmax(in[0], 1), labels(5, 4), NULL); }

static const half_row rows[] = {
    {"layer_norm", f_layer_norm, 3, {2, 1, 1}, {{4, 6}, {6}, {6}}, 1, 1},
    {"rms_norm", f_rms_norm, 2, {2, 1}, {{4, 6}, {6}}, 1, 1},
    {"batch_norm (training, float32 running stats)", f_batch_norm_train, 3, {3, 1, 1}, {{4, 3, 5}, {3}, {3}}, 1, 1},
    {"batch_norm (eval, float32 running stats)", f_batch_norm_eval, 3, {4, 1, 1}, {{2, 3, 2, 2}, {3}, {3}}, 1, 1},
    {"dropout(0.3, training)", f_dropout, 1, {2}, {{6, 7}}, 1, 1},
    {"max_pool2d(2)", f_max_pool, 1, {4}, {{2, 3, 6, 6}}, 1, 1},
    {"max_pool2d_with_indices(3, stride 2, padding 1)", f_max_pool_idx, 1, {3}, {{3, 7, 5}}, 1, 1},
    {"avg_pool2d(3, stride 2, padding 1)", f_avg_pool, 1, {4}, {{2, 3, 7, 6}}, 1, 1},
    {"adaptive_avg_pool2d(4, 3)", f_adaptive_avg_pool, 1, {4}, {{2, 2, 9, 7}}, 1, 1},
    {"conv1d", f_conv1d, 3, {3, 3, 1}, {{2, 3, 9}, {4, 3, 3}, {4}}, 1, 1},
    {"conv2d", f_conv2d, 3, {4, 4, 1}, {{2, 3, 7, 7}, {4, 3, 3, 3}, {4}}, 1, 1},
    {"conv2d (unbatched, no bias)", f_conv2d_unbatched, 2, {3, 4}, {{3, 5, 6}, {2, 3, 2, 2}}, 1, 1},
    {"conv_transpose2d", f_conv_transpose2d, 3, {4, 4, 1}, {{2, 3, 5, 5}, {3, 2, 3, 3}, {2}}, 1, 1},
    {"embedding (padding_idx 0)", f_embedding, 1, {2}, {{10, 4}}, 1, 1},
    {"gelu", f_gelu, 1, {2}, {{5, 7}}, 1, 1},
    {"gelu (tanh)", f_gelu_tanh, 1, {2}, {{5, 7}}, 1, 1},
    {"silu", f_silu, 1, {2}, {{5, 7}}, 1, 1},
    {"relu", f_relu, 1, {2}, {{5, 7}}, 1, 1},
    {"sigmoid", f_sigmoid, 1, {2}, {{5, 7}}, 1, 4}, /* y (1 - y) from the half output y, rounded at each op */
    {"tanh", f_tanh, 1, {2}, {{5, 7}}, 1, 32}, /* 1 - y^2 from the half output y: cancels where |y| nears 1 */
    {"leaky_relu(0.1)", f_leaky_relu, 1, {2}, {{5, 7}}, 1, 1},
    {"softplus(2, 20)", f_softplus, 1, {2}, {{5, 7}}, 1, 1},
    {"softmax(-1)", f_softmax, 1, {3}, {{2, 3, 8}}, 1, 1},
    {"log_softmax(0)", f_log_softmax, 1, {2}, {{6, 5}}, 1, 1},
    {"scaled_dot_product_attention", f_sdpa, 3, {3, 3, 3}, {{2, 4, 8}, {2, 5, 8}, {2, 5, 6}}, 1, 1},
    {"scaled_dot_product_attention (causal)", f_sdpa_causal, 3, {3, 3, 3}, {{2, 4, 8}, {2, 4, 8}, {2, 4, 8}}, 1, 1},
    {"mse_loss", f_mse, 2, {2, 1}, {{4, 5}, {5}}, 1, 1},
    {"l1_loss (sum)", f_l1, 2, {2, 2}, {{4, 5}, {4, 5}}, 1, 1},
    {"smooth_l1_loss (none, beta 0.5)", f_smooth_l1, 2, {2, 2}, {{4, 5}, {4, 5}}, 1, 1},
    {"huber_loss (mean, delta 0.7)", f_huber, 2, {2, 2}, {{4, 5}, {4, 5}}, 1, 1},
    {"binary_cross_entropy_with_logits", f_bce_logits, 2, {2, 2}, {{4, 5}, {4, 5}}, 1, 16}, /* the target is a half sigmoid */
    {"cross_entropy", f_cross_entropy, 1, {2}, {{5, 4}}, 1, 1},
    {"cross_entropy (label smoothing 0.1, none)", f_cross_entropy_smooth, 1, {2}, {{5, 4}}, 1, 1},
    {"nll_loss(log_softmax)", f_nll, 1, {2}, {{5, 4}}, 1, 2}, /* a half log_softmax between the two ops */
};

/* ---------------------------------------------------------------- the check */

/* t as float32 (a new tensor in the scope) */
static nb_tensor *as_f32(const nb_tensor *t) { return nb_to_dtype(t, NB_FLOAT32); }

/* |got - want| <= tol u |want| + atol element by element (want float32, got of dtype) */
static void assert_rounded_once(const char *what, const nb_tensor *got, const nb_tensor *want, nb_dtype dtype,
                                double tol)
{
    cr_assert_eq(nb_dtype_of(got), dtype, "%s: a %s result from %s inputs", what, nb_dtype_name(nb_dtype_of(got)),
                 nb_dtype_name(dtype));
    const double u = dtype == NB_FLOAT16 ? 0x1p-11 : 0x1p-8, atol = dtype == NB_FLOAT16 ? 1e-7 : 1e-30;
    nb_tensor *g = nb_contiguous(as_f32(got)), *w = nb_contiguous(want);
    cr_assert_eq(nb_numel(g), nb_numel(w), "%s: sizes differ", what);
    const float *gv = nb_data(g), *wv = nb_data(w);
    double worst = 0; /* the largest error in units of u |want| */
    for (int64_t i = 0; i < nb_numel(w); i++) {
        if (isnan(wv[i])) {
            cr_assert(isnan(gv[i]), "%s: element %lld is %g, float32's NaN", what, (long long)i, gv[i]);
            continue;
        }
        const double err = fabs((double)gv[i] - wv[i]);
        if (err > atol) worst = fmax(worst, (err - atol) / (u * fabs((double)wv[i])));
        cr_assert(err <= tol * u * fabs((double)wv[i]) + atol, "%s (%s): element %lld is %.9g, float32 gives %.9g", what,
                  nb_dtype_name(dtype), (long long)i, gv[i], wv[i]);
    }
    cr_log_info("%s (%s): largest error %.3g u", what, nb_dtype_name(dtype), worst);
}

static void check_row(int r, nb_dtype dtype)
{
    const half_row *row = &rows[r];
    nb_tensor *h[4] = {0}, *f[4] = {0};
    nb_manual_seed(100 + (uint64_t)r);
    for (int k = 0; k < row->n; k++) {
        nb_tensor *x = nb_randn(row->ndim[k], row->shape[k], NB_OPTS(NB_FLOAT32));
        h[k] = nb_requires_grad_(nb_to_dtype(x, dtype), true);
        f[k] = nb_requires_grad_(nb_detach(nb_to_dtype(h[k], NB_FLOAT32)), true); /* the half values, exactly */
        cr_assert(h[k] && f[k], "%s: %s", row->name, nb_last_error());
    }
    nb_tensor *got = row->fn(h), *want = row->fn(f);
    cr_assert(got && want, "%s (%s): %s", row->name, nb_dtype_name(dtype), nb_last_error());
    assert_rounded_once(row->name, got, want, dtype, row->tol);

    /* gradients from the same output gradient, rounded to the dtype so both runs get it exactly */
    nb_manual_seed(200 + (uint64_t)r);
    nb_tensor *og = as_f32(nb_to_dtype(nb_randn(nb_ndim(want), nb_shape(want), NB_OPTS(NB_FLOAT32)), dtype));
    cr_assert_eq(nb_backward(nb_sum(nb_mul(as_f32(got), og))), NB_OK, "%s: %s", row->name, nb_last_error());
    cr_assert_eq(nb_backward(nb_sum(nb_mul(want, og))), NB_OK, "%s: %s", row->name, nb_last_error());
    for (int k = 0; k < row->n; k++) {
        char what[160];
        snprintf(what, sizeof what, "%s: the gradient of input %d", row->name, k);
        nb_tensor *gh = nb_grad(h[k]), *gf = nb_grad(f[k]);
        cr_assert((gh != NULL) == (gf != NULL), "%s: a gradient in one dtype only", what);
        if (gh) assert_rounded_once(what, gh, gf, dtype, row->grad_tol);
    }
}

Test(half_nn, every_nn_op_takes_float16_as_float32_rounded_once, H)
{
    for (int r = 0; r < (int)(sizeof rows / sizeof rows[0]); r++) check_row(r, NB_FLOAT16);
    assert_ok();
}

Test(half_nn, every_nn_op_takes_bfloat16_as_float32_rounded_once, H)
{
    for (int r = 0; r < (int)(sizeof rows / sizeof rows[0]); r++) check_row(r, NB_BFLOAT16);
    assert_ok();
}

Test(half_nn, non_contiguous_half_inputs, H)
{
    /* a transposed half image pooled and convolved as its contiguous copy is */
    nb_manual_seed(3);
    nb_tensor *x = nb_to_dtype(nb_randn(NB_SHAPE(2, 3, 6, 5), NB_OPTS(NB_FLOAT32)), NB_FLOAT16);
    nb_tensor *xt = nb_transpose(nb_contiguous(nb_transpose(x, 2, 3)), 2, 3); /* x's values, strided */
    cr_assert(!nb_is_contiguous(xt));
    nb_tensor *w = nb_to_dtype(nb_randn(NB_SHAPE(4, 3, 3, 3), NB_OPTS(NB_FLOAT32)), NB_FLOAT16);
    assert_close(as_f32(nb_conv2d(xt, w, NULL, NULL)), as_f32(nb_conv2d(x, w, NULL, NULL)), 0, 0);
    assert_close(as_f32(nb_max_pool2d(xt, &NB_MAX_POOL2D_OPTIONS(2, 2))),
                 as_f32(nb_max_pool2d(x, &NB_MAX_POOL2D_OPTIONS(2, 2))), 0, 0);
    assert_close(as_f32(nb_batch_norm(xt, NULL, NULL, NULL, NULL, true, 0.1, 1e-5)),
                 as_f32(nb_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1, 1e-5)), 0, 0);
    assert_ok();
}

Test(half_nn, batch_norm_running_stats_of_a_half_input, H)
{
    nb_manual_seed(5);
    nb_tensor *x32 = nb_to_dtype(nb_to_dtype(nb_randn(NB_SHAPE(6, 3, 4), NB_OPTS(NB_FLOAT32)), NB_BFLOAT16),
                                 NB_FLOAT32);
    nb_tensor *xb = nb_to_dtype(x32, NB_BFLOAT16);
    /* float32 statistics (autocast's layout): the same update as the float32 input's */
    nb_tensor *rm_a = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), *rv_a = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *rm_b = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), *rv_b = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    cr_assert_not_null(nb_batch_norm(xb, rm_a, rv_a, NULL, NULL, true, 0.1, 1e-5), "%s", nb_last_error());
    cr_assert_not_null(nb_batch_norm(x32, rm_b, rv_b, NULL, NULL, true, 0.1, 1e-5), "%s", nb_last_error());
    assert_close(rm_a, rm_b, 0, 0);
    assert_close(rv_a, rv_b, 0, 0);
    /* half statistics (a model made half throughout): updated in float32, stored rounded */
    nb_tensor *rm_h = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_BFLOAT16)), *rv_h = nb_ones(NB_SHAPE(3), NB_OPTS(NB_BFLOAT16));
    cr_assert_not_null(nb_batch_norm(xb, rm_h, rv_h, NULL, NULL, true, 0.1, 1e-5), "%s", nb_last_error());
    cr_assert_eq(nb_dtype_of(rm_h), NB_BFLOAT16);
    assert_close(as_f32(rm_h), as_f32(nb_to_dtype(rm_b, NB_BFLOAT16)), 0, 0);
    assert_close(as_f32(rv_h), as_f32(nb_to_dtype(rv_b, NB_BFLOAT16)), 0, 0);
    /* the BatchNorm layer keeps float32 parameters and statistics and takes a half input */
    nb_batch_norm2d *layer = nb_batch_norm2d_new(3, NB_OPTS(NB_FLOAT32));
    cr_assert_not_null(layer, "%s", nb_last_error());
    nb_tensor *img = nb_reshape(xb, NB_SHAPE(6, 3, 2, 2));
    nb_tensor *y = nb_batch_norm2d_forward(layer, img);
    cr_assert_not_null(y, "%s", nb_last_error());
    cr_assert_eq(nb_dtype_of(y), NB_BFLOAT16);
    nb_batch_norm2d_free(layer);
    assert_ok();
}

Test(half_nn, mismatched_and_integer_dtypes_are_refused, H)
{
    nb_tensor *x = nb_zeros(NB_SHAPE(1, 3, 4, 4), NB_OPTS(NB_FLOAT16));
    nb_tensor *w32 = nb_zeros(NB_SHAPE(2, 3, 3, 3), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_conv2d(x, w32, NULL, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_conv2d", "weight", "float16", "float32"));
    nb_tensor *wb = nb_zeros(NB_SHAPE(2, 3, 3, 3), NB_OPTS(NB_BFLOAT16));
    cr_assert_null(nb_conv2d(x, wb, NULL, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_conv2d", "weight", "float16", "bfloat16"));
    nb_tensor *i = nb_zeros(NB_SHAPE(1, 3, 4, 4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_max_pool2d(i, &NB_MAX_POOL2D_OPTIONS(2, 2)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_max_pool2d", "float32 or float64", "float16 or bfloat16", "int64"));
    cr_assert_null(nb_batch_norm(x, NULL, NULL, nb_zeros(NB_SHAPE(3), NB_OPTS(NB_BFLOAT16)), NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_batch_norm", "weight", "float16", "(or float32)", "bfloat16"));
    nb_tensor *q = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT16)), *k32 = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_scaled_dot_product_attention(q, k32, k32, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("key", "float16", "float32"));
    /* optimizers step half parameters (suite optim_half) but not integer ones */
    nb_params *params = nb_params_new();
    nb_params_add(params, nb_zeros(NB_SHAPE(2), NB_OPTS(NB_INT64)));
    cr_assert_null(nb_adam_new(params, (nb_adam_options){.lr = 1e-3}));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_adam_new", "parameter 0 is int64", "float16 or bfloat16"));
    nb_params_free(params);
}

/* t (of dtype) equals ref (float32) rounded to dtype, element for element */
static void assert_is_rounded(const char *what, const nb_tensor *t, const nb_tensor *ref, nb_dtype dtype)
{
    cr_assert_eq(nb_dtype_of(t), dtype, "%s: %s, expected %s", what, nb_dtype_name(nb_dtype_of(t)),
                 nb_dtype_name(dtype));
    assert_close(as_f32(t), as_f32(nb_to_dtype(ref, dtype)), 0, 0);
}

Test(half_nn, layers_made_in_a_half_dtype_hold_the_float32_layers_values_rounded, H)
{
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        nb_manual_seed(9);
        nb_linear *lh = nb_linear_new(3, 2, true, NB_OPTS(dt));
        nb_conv2d_layer *ch = nb_conv2d_layer_new(2, 4, 3, 3, NULL, true, NB_OPTS(dt));
        nb_embedding_layer *eh = nb_embedding_layer_new(7, 4, 2, NB_OPTS(dt));
        nb_manual_seed(9);
        nb_linear *lf = nb_linear_new(3, 2, true, NB_OPTS(NB_FLOAT32));
        nb_conv2d_layer *cf = nb_conv2d_layer_new(2, 4, 3, 3, NULL, true, NB_OPTS(NB_FLOAT32));
        nb_embedding_layer *ef = nb_embedding_layer_new(7, 4, 2, NB_OPTS(NB_FLOAT32));
        nb_layer_norm_layer *nh = nb_layer_norm_layer_new(1, (int64_t[]){3}, 1e-5, true, NB_OPTS(dt));
        nb_batch_norm2d *bh = nb_batch_norm2d_new(4, NB_OPTS(dt)); /* half running statistics too */
        cr_assert(lh && ch && eh && lf && cf && ef && nh && bh, "%s", nb_last_error());
        assert_is_rounded("linear weight", lh->weight, lf->weight, dt);
        assert_is_rounded("linear bias", lh->bias, lf->bias, dt);
        assert_is_rounded("conv2d weight", ch->weight, cf->weight, dt);
        assert_is_rounded("embedding weight", eh->weight, ef->weight, dt);
        cr_assert(nb_requires_grad(lh->weight) && nb_requires_grad(ch->bias) && nb_requires_grad(eh->weight));
        /* and they run on inputs of their dtype, giving their dtype */
        nb_tensor *x = nb_to_dtype(nb_randn(NB_SHAPE(3, 2, 5, 5), NB_OPTS(NB_FLOAT32)), dt);
        nb_tensor *y = nb_batch_norm2d_forward(bh, nb_conv2d_layer_forward(ch, x));
        nb_tensor *z = nb_linear_forward(lh, nb_layer_norm_layer_forward(nh, nb_reshape(y, NB_SHAPE(36, 3))));
        nb_tensor *e = nb_embedding_layer_forward(eh, nb_from_array((int64_t[]){1, 2, 6}, NB_SHAPE(3),
                                                                    NB_OPTS(NB_INT64)));
        cr_assert(y && z && e, "%s", nb_last_error());
        cr_assert(nb_dtype_of(z) == dt && nb_dtype_of(e) == dt);
        cr_assert_eq(nb_backward(nb_sum(nb_to_dtype(z, NB_FLOAT32))), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_dtype_of(nb_grad(ch->weight)), dt);
        nb_linear_free(lh), nb_linear_free(lf);
        nb_conv2d_layer_free(ch), nb_conv2d_layer_free(cf);
        nb_embedding_layer_free(eh), nb_embedding_layer_free(ef);
        nb_layer_norm_layer_free(nh);
        nb_batch_norm2d_free(bh);
    }
    assert_ok();
}
