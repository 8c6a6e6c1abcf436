/* test_nn.c — the layers, activations and losses of nabla/nn.h (suite nn): values and
 * gradients against PyTorch's (golden/nn, made by golden/gen_nn.py), nb_linear's
 * initialisation, numerical stability, non-contiguous inputs, and every error. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTOL_F32 1e-5
#define RTOL_F64 1e-10

typedef struct dtype_case {
    const char *tag; /* golden file suffix */
    nb_dtype dtype;
    double rtol;
    double atol; /* for gradients whose elements may be near zero */
} dtype_case;

static const dtype_case cases[2] = {
    {"f32", NB_FLOAT32, RTOL_F32, 1e-7},
    {"f64", NB_FLOAT64, RTOL_F64, 1e-15},
};

/* golden/nn/NAME_TAG.npy */
static nb_tensor *gold(const char *name, const char *tag)
{
    char path[128];
    snprintf(path, sizeof path, "nn/%s_%s", name, tag);
    return golden(path);
}

/* A layer holding golden/nn/lin_w and lin_b (copied in under no-grad, as a user would). */
static nb_linear *golden_linear(const dtype_case *c, bool bias)
{
    nb_linear *l = nb_linear_new(7, 4, bias, NB_OPTS(c->dtype));
    cr_assert(l != NULL, "%s", nb_last_error());
    nb_no_grad_begin();
    cr_assert(nb_copy_(l->weight, gold("lin_w", c->tag)) != NULL, "%s", nb_last_error());
    if (bias) cr_assert(nb_copy_(l->bias, gold("lin_b", c->tag)) != NULL, "%s", nb_last_error());
    nb_no_grad_end();
    return l;
}

/* ---------------------------------------------------------------- nb_linear: values */

Test(nn, linear_forward_matches_pytorch, .init = nb_test_setup)
{
    for (int k = 0; k < 2; k++) {
        const dtype_case *c = &cases[k];
        nb_scope_begin();
        nb_linear *l = golden_linear(c, true);
        nb_tensor *x = gold("lin_x", c->tag);
        assert_close(nb_linear_forward(l, x), gold("lin_y", c->tag), c->rtol, c->atol);
        /* a non-contiguous input, and a batched (2, 3, 7) one */
        assert_close(nb_linear_forward(l, noncontig(x)), gold("lin_y", c->tag), c->rtol, c->atol);
        assert_close(nb_linear_forward(l, gold("lin_x3", c->tag)), gold("lin_y3", c->tag), c->rtol, c->atol);
        nb_linear_free(l);

        nb_linear *nobias = golden_linear(c, false);
        cr_assert_null(nobias->bias);
        assert_close(nb_linear_forward(nobias, x), gold("lin_y_nobias", c->tag), c->rtol, c->atol);
        nb_linear_free(nobias);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

Test(nn, linear_backward_reaches_weight_and_bias, .init = nb_test_setup)
{
    nb_scope_begin();
    const dtype_case *c = &cases[1];
    nb_linear *l = golden_linear(c, true);
    nb_tensor *x = gold("lin_x", c->tag); /* (6, 7) */
    nb_tensor *y = nb_linear_forward(l, x);
    cr_assert_str_eq(nb_grad_fn_name(y), "AddBackward");
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK, "%s", nb_last_error());
    /* d sum(x W^T + b) / dW[o, i] = sum over rows of x[:, i]; / db[o] = rows */
    nb_tensor *col_sums = nb_sum_dim(x, 0, true); /* (1, 7) */
    assert_close(nb_grad(l->weight), nb_expand(col_sums, NB_SHAPE(4, 7)), 1e-12, 1e-12);
    assert_close(nb_grad(l->bias), nb_full(NB_SHAPE(4), 6.0, NB_OPTS(NB_FLOAT64)), 0, 0);
    nb_linear_free(l);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, linear_layer_outlives_the_scope_it_was_made_in, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_linear *l = nb_linear_new(3, 2, true, NB_OPTS(NB_FLOAT32));
    cr_assert(l != NULL);
    cr_assert_eq(nb_scope_end(), NB_OK);
    /* the scope released nothing of the layer: its parameters are still usable */
    nb_scope_begin();
    nb_tensor *y = nb_linear_forward(l, nb_ones(NB_SHAPE(5, 3), NB_OPTS(NB_FLOAT32)));
    char s[64];
    cr_assert_str_eq(nb_shape_string(y, s, sizeof s), "[5, 2]");
    cr_assert_eq(nb_scope_end(), NB_OK);
    nb_linear_free(l);
    nb_linear_free(NULL); /* does nothing */
}

/* ---------------------------------------------------------------- nb_linear: initialisation */

/* min, max, mean and standard deviation of t's values */
static void stats(const nb_tensor *t, double *min, double *max, double *mean, double *std)
{
    int64_t n = nb_numel(t);
    double *v = malloc((size_t)n * sizeof *v);
    nb_tensor *d = nb_to_dtype(t, NB_FLOAT64);
    cr_assert_eq(nb_copy_to_array(d, v, (size_t)n * sizeof *v), NB_OK);
    nb_release(d);
    double s = 0, s2 = 0;
    *min = INFINITY, *max = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        s += v[i];
        *min = fmin(*min, v[i]);
        *max = fmax(*max, v[i]);
    }
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; i++) s2 += (v[i] - *mean) * (v[i] - *mean);
    *std = sqrt(s2 / (double)n);
    free(v);
}

Test(nn, linear_init_is_uniform_within_the_pytorch_bound, .init = nb_test_setup)
{
    nb_manual_seed(42);
    nb_linear *l = nb_linear_new(784, 256, true, NB_OPTS(NB_FLOAT32));
    cr_assert(l != NULL, "%s", nb_last_error());
    cr_assert_eq(l->in_features, 784);
    cr_assert_eq(l->out_features, 256);
    char s[64];
    cr_assert_str_eq(nb_shape_string(l->weight, s, sizeof s), "[256, 784]");
    cr_assert_str_eq(nb_shape_string(l->bias, s, sizeof s), "[256]");
    cr_assert_eq(nb_dtype_of(l->weight), NB_FLOAT32);
    cr_assert(nb_requires_grad(l->weight) && nb_requires_grad(l->bias));
    cr_assert(nb_is_leaf(l->weight) && nb_is_leaf(l->bias));
    cr_assert_null(nb_grad(l->weight));

    const double bound = 1.0 / sqrt(784.0); /* 1/28 */
    double min, max, mean, std;
    stats(l->weight, &min, &max, &mean, &std);
    cr_assert(min >= -bound && max <= bound, "weights in [%g, %g], bound %g", min, max, bound);
    cr_assert(min < -0.999 * bound && max > 0.999 * bound, "200704 draws reach both ends: [%g, %g]", min, max);
    /* uniform on [-b, b): mean 0, std b/sqrt(3); 200704 draws put the mean within ~0.0013 b */
    cr_assert(fabs(mean) < 0.01 * bound, "mean %g", mean);
    cr_assert(fabs(std / (bound / sqrt(3.0)) - 1.0) < 0.01, "std %g, expected %g", std, bound / sqrt(3.0));
    stats(l->bias, &min, &max, &mean, &std);
    cr_assert(min >= -bound && max <= bound, "bias in [%g, %g], bound %g", min, max, bound);
    cr_assert(fabs(mean) < 0.2 * bound, "bias mean %g", mean);
    cr_assert(max - min > bound, "256 bias draws spread over the range: [%g, %g]", min, max);
    nb_linear_free(l);
}

Test(nn, linear_init_is_reproducible_with_a_seed, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_manual_seed(7);
    nb_linear *a = nb_linear_new(10, 3, true, NB_OPTS(NB_FLOAT64));
    nb_manual_seed(7);
    nb_linear *b = nb_linear_new(10, 3, true, NB_OPTS(NB_FLOAT64));
    nb_linear *c = nb_linear_new(10, 3, true, NB_OPTS(NB_FLOAT64)); /* the stream moved on */
    assert_close(a->weight, b->weight, 0, 0);
    assert_close(a->bias, b->bias, 0, 0);
    cr_assert(nb_item(nb_sum(nb_ne(a->weight, c->weight))) > 0, "a different draw gives other weights");
    /* the weight is drawn first, then the bias, from nb_rand's stream: (2 u - 1) / sqrt(in) */
    nb_manual_seed(7);
    nb_tensor *u = nb_rand(NB_SHAPE(3, 10), NB_OPTS(NB_FLOAT64));
    nb_tensor *want = nb_mul_scalar(nb_sub_scalar(nb_mul_scalar(u, 2.0), 1.0), 1.0 / sqrt(10.0));
    assert_close(a->weight, want, 1e-15, 1e-16);
    nb_linear *nobias = nb_linear_new(10, 3, false, NB_OPTS(NB_FLOAT64));
    cr_assert_null(nobias->bias);
    nb_linear_free(a), nb_linear_free(b), nb_linear_free(c), nb_linear_free(nobias);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, linear_params_adds_weight_then_bias, .init = nb_test_setup)
{
    nb_params *p = nb_params_new();
    nb_linear *l = nb_linear_new(4, 2, true, NB_OPTS(NB_FLOAT32));
    nb_linear *nobias = nb_linear_new(2, 1, false, NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_linear_params(l, p), NB_OK);
    cr_assert_eq(nb_linear_params(nobias, p), NB_OK);
    cr_assert_eq(nb_params_count(p), 3);
    cr_assert_eq(nb_params_get(p, 0), l->weight);
    cr_assert_eq(nb_params_get(p, 1), l->bias);
    cr_assert_eq(nb_params_get(p, 2), nobias->weight);
    nb_linear_free(l); /* the list keeps its own references */
    nb_linear_free(nobias);
    cr_assert_eq(nb_numel(nb_params_get(p, 0)), 8);
    nb_params_free(p);
}

Test(nn, linear_errors, .init = nb_test_setup)
{
    cr_assert_null(nb_linear_new(0, 4, true, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_linear_new", "0 and 4"));
    cr_assert_null(nb_linear_new(3, -2, true, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_linear_new", "3 and -2"));
    cr_assert_null(nb_linear_new(3, 2, true, NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_linear_new", "int64"));

    nb_scope_begin();
    nb_linear *l = nb_linear_new(784, 10, true, NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_linear_forward(l, nb_zeros(NB_SHAPE(128, 100), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_linear_forward", "expected (N, 784) input, got [128, 100]"));
    cr_assert_null(nb_linear_forward(l, nb_zeros(NB_SHAPE(2, 784), NB_OPTS(NB_FLOAT64))));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_linear_forward", "float64", "float32"));
    cr_assert_null(nb_linear_forward(l, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_linear_forward", "input"));
    cr_assert_null(nb_linear_forward(NULL, nb_zeros(NB_SHAPE(2, 784), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_linear_forward", "layer"));
    cr_assert_eq(nb_linear_params(l, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_linear_params", "params"));
    cr_assert_eq(nb_linear_params(NULL, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_linear_params", "layer"));
    nb_linear_free(l);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- softmax and log_softmax */

typedef nb_tensor *(*softmax_fn)(const nb_tensor *, int);

/* NAME_INPUT_dDIM against fn(INPUT, dim), contiguous and not */
static void check_softmax(const dtype_case *c, softmax_fn fn, const char *name, const char *input, int dim,
                          int golden_dim)
{
    char want[64];
    snprintf(want, sizeof want, "%s_%s_d%d", name, input, golden_dim);
    nb_tensor *x = gold(input, c->tag);
    nb_tensor *expected = gold(want, c->tag);
    assert_close(fn(x, dim), expected, c->rtol, 0);
    assert_close(fn(noncontig(x), dim), expected, c->rtol, 0);
}

Test(nn, softmax_and_log_softmax_match_pytorch_along_every_dim, .init = nb_test_setup)
{
    const softmax_fn fns[2] = {nb_softmax, nb_log_softmax};
    const char *names[2] = {"softmax", "log_softmax"};
    for (int k = 0; k < 2; k++) {
        for (int f = 0; f < 2; f++) {
            nb_scope_begin();
            const dtype_case *c = &cases[k];
            check_softmax(c, fns[f], names[f], "sm2", 0, 0);
            check_softmax(c, fns[f], names[f], "sm2", 1, 1);
            check_softmax(c, fns[f], names[f], "sm2", -1, 1);
            check_softmax(c, fns[f], names[f], "sm2", -2, 0);
            check_softmax(c, fns[f], names[f], "sm3", 1, 1);  /* elements 5 apart */
            check_softmax(c, fns[f], names[f], "sm3", -1, 2); /* rows */
            cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
        }
    }
}

Test(nn, softmax_is_stable_for_values_whose_exp_overflows, .init = nb_test_setup)
{
    const softmax_fn fns[2] = {nb_softmax, nb_log_softmax};
    const char *names[2] = {"softmax", "log_softmax"};
    for (int k = 0; k < 2; k++) {
        for (int f = 0; f < 2; f++) {
            nb_scope_begin();
            check_softmax(&cases[k], fns[f], names[f], "big", 1, 1);
            check_softmax(&cases[k], fns[f], names[f], "big", 0, 0);
            cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
        }
    }
    /* all finite: exp(1000) alone would be inf in float32 and float64 */
    nb_scope_begin();
    nb_tensor *y = nb_log_softmax(gold("big", "f32"), 1);
    cr_assert_eq(nb_item(nb_sum(nb_ne(y, y))), 0.0, "no NaN");
    cr_assert(isfinite(nb_item(nb_sum(y))));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, softmax_of_wide_rows_and_many_columns, .init = nb_test_setup)
{
    /* rows longer than one strip of columns, and more columns than one strip (256), so every
     * path of the kernel runs; checked against exp(log_softmax) and sums of 1 */
    nb_scope_begin();
    nb_manual_seed(3);
    nb_tensor *x = nb_mul_scalar(nb_randn(NB_SHAPE(3, 7, 300), NB_OPTS(NB_FLOAT64)), 4.0);
    for (int dim = 0; dim < 3; dim++) {
        nb_tensor *y = nb_softmax(x, dim);
        assert_close(nb_exp(nb_log_softmax(x, dim)), y, 1e-12, 1e-300);
        nb_tensor *sums = nb_sum_dim(y, dim, false);
        assert_close(sums, nb_ones_like(sums), 1e-12, 0);
    }
    /* a large float32 input, split over threads */
    nb_tensor *big = nb_randn(NB_SHAPE(512, 1000), NB_OPTS(NB_FLOAT32));
    nb_tensor *sums = nb_sum_dim(nb_softmax(big, 1), 1, false);
    assert_close(sums, nb_ones_like(sums), 1e-5, 0);
    nb_tensor *col_sums = nb_sum_dim(nb_softmax(big, 0), 0, false);
    assert_close(col_sums, nb_ones_like(col_sums), 1e-5, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, float32_softmax_is_accurate_across_the_range_of_exp, .init = nb_test_setup)
{
    /* one long row from -110 to 0.5: exps from the subnormals (and 0) up to 1, in float32,
     * against float64 from the same float32 inputs */
    nb_scope_begin();
    nb_tensor *x32 = nb_arange(-110.0, 0.5, 0.0137, NB_OPTS(NB_FLOAT32));
    nb_tensor *x64 = nb_to_dtype(x32, NB_FLOAT64);
    assert_close(nb_to_dtype(nb_softmax(x32, 0), NB_FLOAT64), nb_softmax(x64, 0), 1e-5, 3e-45);
    assert_close(nb_to_dtype(nb_log_softmax(x32, 0), NB_FLOAT64), nb_log_softmax(x64, 0), 1e-6, 0);
    /* the same values as (rows, 10) rows of ten, shifted so every exp is taken */
    nb_tensor *rows32 = nb_reshape(nb_narrow(x32, 0, 0, 8020), NB_SHAPE(802, 10));
    nb_tensor *rows64 = nb_to_dtype(rows32, NB_FLOAT64);
    assert_close(nb_to_dtype(nb_softmax(rows32, 1), NB_FLOAT64), nb_softmax(rows64, 1), 1e-5, 0);
    assert_close(nb_to_dtype(nb_softmax(rows32, 0), NB_FLOAT64), nb_softmax(rows64, 0), 1e-5, 3e-45);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, softmax_of_scalars_and_empty_tensors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *s = nb_full(0, NULL, 3.5, NB_OPTS(NB_FLOAT64));
    cr_assert_eq(nb_item(nb_softmax(s, 0)), 1.0);
    cr_assert_eq(nb_item(nb_log_softmax(s, -1)), 0.0);
    nb_tensor *e = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *y = nb_softmax(e, 1);
    char buf[32];
    cr_assert_str_eq(nb_shape_string(y, buf, sizeof buf), "[0, 3]");
    cr_assert_str_eq(nb_shape_string(nb_log_softmax(nb_zeros(NB_SHAPE(2, 0), NB_OPTS(NB_FLOAT32)), 1), buf, sizeof buf),
                     "[2, 0]");
    /* a row of -inf has no maximum to subtract: NaN, as in PyTorch */
    nb_tensor *inf = nb_full(NB_SHAPE(1, 3), -INFINITY, NB_OPTS(NB_FLOAT32));
    cr_assert(isnan(nb_item(nb_sum(nb_softmax(inf, 1)))));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, softmax_gradients_match_pytorch, .init = nb_test_setup)
{
    const softmax_fn fns[2] = {nb_softmax, nb_log_softmax};
    const char *names[2] = {"softmax", "log_softmax"};
    const char *nodes[2] = {"SoftmaxBackward", "LogSoftmaxBackward"};
    for (int k = 0; k < 2; k++) {
        const dtype_case *c = &cases[k];
        for (int f = 0; f < 2; f++) {
            for (int dim = 0; dim < 2; dim++) {
                nb_scope_begin();
                nb_tensor *x = nb_requires_grad_(gold("sm2", c->tag), true);
                nb_tensor *y = fns[f](x, dim);
                cr_assert_str_eq(nb_grad_fn_name(y), nodes[f]);
                cr_assert_eq(nb_backward(nb_sum(nb_mul(y, gold("sm2_w", c->tag)))), NB_OK, "%s", nb_last_error());
                char want[64];
                snprintf(want, sizeof want, "%s_grad_sm2_d%d", names[f], dim);
                assert_close(nb_grad(x), gold(want, c->tag), c->rtol, c->atol);
                cr_assert_eq(nb_scope_end(), NB_OK);
            }
        }
    }
}

Test(nn, softmax_backward_takes_a_broadcast_gradient, .init = nb_test_setup)
{
    /* sum's backward hands softmax an expanded (stride 0) gradient of ones */
    nb_scope_begin();
    nb_manual_seed(5);
    nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(4, 6), NB_OPTS(NB_FLOAT64)), true);
    cr_assert_eq(nb_backward(nb_sum(nb_softmax(x, 1))), NB_OK);
    /* the rows of a softmax always sum to 1: no gradient */
    assert_close(nb_grad(x), nb_zeros(NB_SHAPE(4, 6), NB_OPTS(NB_FLOAT64)), 0, 1e-15);
    nb_zero_grad(x);
    nb_tensor *y = nb_log_softmax(x, 0);
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK);
    /* d sum(log_softmax) / dx = 1 - n softmax, n = 4 along dim 0 */
    nb_tensor *want = nb_rsub_scalar(nb_mul_scalar(nb_softmax(nb_detach(x), 0), 4.0), 1.0);
    assert_close(nb_grad(x), want, 1e-12, 1e-15);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, softmax_records_nothing_without_grad, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_requires_grad_(nb_ones(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), true);
    nb_no_grad_begin();
    nb_tensor *y = nb_softmax(x, 1);
    nb_no_grad_end();
    cr_assert_null(nb_grad_fn_name(y));
    cr_assert(!nb_requires_grad(y));
    cr_assert(!nb_requires_grad(nb_log_softmax(nb_ones(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), 1)));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, softmax_backward_refuses_an_output_changed_in_place, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_requires_grad_(nb_ones(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *y = nb_softmax(x, 1);
    nb_tensor *loss = nb_sum(nb_mul_scalar(y, 2.0));
    nb_no_grad_begin();
    nb_mul_scalar_(y, 3.0); /* the saved output is no longer the one the gradient needs */
    nb_no_grad_end();
    cr_assert_eq(nb_backward(loss), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("SoftmaxBackward", "nb_softmax", "in-place"));
    nb_scope_end();
    nb_clear_error();
}

Test(nn, softmax_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    cr_assert_null(nb_softmax(NULL, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_softmax", "tensor"));
    cr_assert_null(nb_log_softmax(NULL, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_log_softmax", "tensor"));
    nb_tensor *i = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_INT64));
    cr_assert_null(nb_softmax(i, 1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_softmax", "float32, float64, float16 or bfloat16", "int64"));
    cr_assert_null(nb_log_softmax(nb_zeros(NB_SHAPE(2), NB_OPTS(NB_BOOL)), 0));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_log_softmax", "bool"));
    nb_tensor *x = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_softmax(x, 2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_softmax", "dim 2", "-2 to 1"));
    cr_assert_null(nb_log_softmax(x, -3));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_log_softmax", "dim -3"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- cross entropy */

Test(nn, cross_entropy_value_and_gradient_match_pytorch, .init = nb_test_setup)
{
    const char *sets[2][3] = {{"logits", "labels", "ce"}, {"logits_big", "labels_big", "ce_big"}};
    for (int k = 0; k < 2; k++) {
        const dtype_case *c = &cases[k];
        for (int s = 0; s < 2; s++) {
            nb_scope_begin();
            char name[64];
            nb_tensor *labels = gold(sets[s][1], "i64");
            nb_tensor *x = nb_requires_grad_(gold(sets[s][0], c->tag), true);
            nb_tensor *loss = nb_cross_entropy(x, labels);
            snprintf(name, sizeof name, "%s_loss", sets[s][2]);
            assert_close(loss, gold(name, c->tag), c->rtol, 0);
            cr_assert_str_eq(nb_grad_fn_name(loss), "CrossEntropyBackward");
            cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
            snprintf(name, sizeof name, "%s_grad", sets[s][2]);
            assert_close(nb_grad(x), gold(name, c->tag), c->rtol, c->atol);
            cr_assert_eq(nb_scope_end(), NB_OK);
        }
    }
}

Test(nn, cross_entropy_takes_strided_logits_and_labels, .init = nb_test_setup)
{
    for (int k = 0; k < 2; k++) {
        const dtype_case *c = &cases[k];
        nb_scope_begin();
        nb_tensor *labels = noncontig(gold("labels", "i64"));
        cr_assert(!nb_is_contiguous(labels));
        nb_tensor *x = nb_requires_grad_(nb_detach(noncontig(gold("logits", c->tag))), true);
        cr_assert(!nb_is_contiguous(x));
        nb_tensor *loss = nb_cross_entropy(x, labels);
        assert_close(loss, gold("ce_loss", c->tag), c->rtol, 0);
        /* the gradient of 3 * loss: the backward scales by the incoming gradient */
        cr_assert_eq(nb_backward(nb_mul_scalar(loss, 3.0)), NB_OK, "%s", nb_last_error());
        assert_close(nb_grad(x), nb_mul_scalar(gold("ce_grad", c->tag), 3.0), c->rtol, c->atol);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
}

Test(nn, cross_entropy_equals_the_mean_of_picked_log_softmax, .init = nb_test_setup)
{
    /* -mean(log_softmax(x)[i, y_i]) composed from other ops, on a larger batch that the kernel
     * splits over threads; the fused kernel must agree */
    nb_scope_begin();
    nb_manual_seed(11);
    const int64_t n = 3000, classes = 100;
    nb_tensor *x = nb_mul_scalar(nb_randn(NB_SHAPE(n, classes), NB_OPTS(NB_FLOAT64)), 3.0);
    nb_tensor *labels = nb_to_dtype(nb_mul_scalar(nb_rand(NB_SHAPE(n), NB_OPTS(NB_FLOAT64)), (double)classes), NB_INT64);
    nb_tensor *cls = nb_arange(0, (double)classes, 1, NB_OPTS(NB_INT64));
    nb_tensor *one_hot = nb_to_dtype(nb_eq(nb_unsqueeze(labels, 1), cls), NB_FLOAT64); /* (n, classes) */
    nb_tensor *picked = nb_sum(nb_mul(nb_log_softmax(x, 1), one_hot));
    double want = -nb_item(picked) / (double)n;
    double got = nb_item(nb_cross_entropy(x, labels));
    cr_assert(fabs(got - want) <= 1e-12 * fabs(want), "got %.17g, expected %.17g", got, want);
    /* and its gradient is (softmax - one_hot) / n */
    nb_tensor *xg = nb_requires_grad_(nb_detach(x), true);
    cr_assert_eq(nb_backward(nb_cross_entropy(xg, labels)), NB_OK);
    nb_tensor *grad = nb_div_scalar(nb_sub(nb_softmax(x, 1), one_hot), (double)n);
    assert_close(nb_grad(xg), grad, 1e-10, 1e-18);
    /* rows longer than the kernel's group buffer (5000 classes), contiguous and strided */
    nb_tensor *wide = nb_mul_scalar(nb_randn(NB_SHAPE(3, 5000), NB_OPTS(NB_FLOAT64)), 3.0);
    nb_tensor *wide_t = nb_t(nb_contiguous(nb_t(wide))); /* the same values, columns 3 apart */
    nb_tensor *wide_labels = nb_from_array((const int64_t[]){4999, 0, 2500}, NB_SHAPE(3), NB_OPTS(NB_INT64));
    nb_tensor *wide_lsm = nb_log_softmax(wide, 1);
    double wide_want = -(nb_item(nb_select(nb_select(wide_lsm, 0, 0), 0, 4999)) +
                         nb_item(nb_select(nb_select(wide_lsm, 0, 1), 0, 0)) +
                         nb_item(nb_select(nb_select(wide_lsm, 0, 2), 0, 2500))) / 3.0;
    cr_assert(fabs(nb_item(nb_cross_entropy(wide, wide_labels)) - wide_want) <= 1e-12 * fabs(wide_want));
    cr_assert(fabs(nb_item(nb_cross_entropy(wide_t, wide_labels)) - wide_want) <= 1e-12 * fabs(wide_want));
    nb_tensor *wide_f32 = nb_to_dtype(wide_t, NB_FLOAT32);
    cr_assert(fabs(nb_item(nb_cross_entropy(wide_f32, wide_labels)) - wide_want) <= 1e-5 * fabs(wide_want));
    nb_tensor *wg = nb_requires_grad_(nb_detach(wide_t), true);
    cr_assert_eq(nb_backward(nb_cross_entropy(wg, wide_labels)), NB_OK);
    nb_tensor *wide_onehot = nb_zeros(NB_SHAPE(3, 5000), NB_OPTS(NB_FLOAT64));
    nb_fill_(nb_narrow(nb_select(wide_onehot, 0, 0), 0, 4999, 1), 1.0);
    nb_fill_(nb_narrow(nb_select(wide_onehot, 0, 1), 0, 0, 1), 1.0);
    nb_fill_(nb_narrow(nb_select(wide_onehot, 0, 2), 0, 2500, 1), 1.0);
    assert_close(nb_grad(wg), nb_div_scalar(nb_sub(nb_softmax(wide, 1), wide_onehot), 3.0), 1e-10, 1e-18);
    /* float32 gives the same loss to its precision, and the same across runs */
    nb_tensor *x32 = nb_to_dtype(x, NB_FLOAT32);
    double l32 = nb_item(nb_cross_entropy(x32, labels));
    cr_assert(fabs(l32 - want) <= 1e-5 * fabs(want), "float32 %.9g, expected %.9g", l32, want);
    cr_assert_eq(nb_item(nb_cross_entropy(x32, labels)), l32);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, cross_entropy_result_and_recording, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = gold("logits", "f32");
    nb_tensor *loss = nb_cross_entropy(x, gold("labels", "i64"));
    cr_assert_eq(nb_ndim(loss), 0);
    cr_assert_eq(nb_dtype_of(loss), NB_FLOAT32);
    cr_assert(!nb_requires_grad(loss), "logits that do not require grad record nothing");
    nb_requires_grad_(x, true);
    nb_no_grad_begin();
    cr_assert_null(nb_grad_fn_name(nb_cross_entropy(x, gold("labels", "i64"))));
    nb_no_grad_end();
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, cross_entropy_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_zeros(NB_SHAPE(4, 5), NB_OPTS(NB_FLOAT32));
    nb_tensor *labels = nb_from_array((const int64_t[]){0, 4, 5, 1}, NB_SHAPE(4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_cross_entropy(x, labels));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_cross_entropy", "label 5 in row 2", "5 classes", "0 to 4"));
    nb_tensor *negative = nb_from_array((const int64_t[]){0, -1, 2, 1}, NB_SHAPE(4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_cross_entropy(x, negative));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_cross_entropy", "label -1 in row 1"));

    nb_tensor *float_labels = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_cross_entropy(x, float_labels));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_cross_entropy", "int64", "float32"));
    nb_tensor *good = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_cross_entropy(nb_zeros(NB_SHAPE(4, 5), NB_OPTS(NB_INT64)), good));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_cross_entropy", "logits", "int64"));

    cr_assert_null(nb_cross_entropy(x, nb_zeros(NB_SHAPE(3), NB_OPTS(NB_INT64))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_cross_entropy", "[4, 5]", "[3]"));
    cr_assert_null(nb_cross_entropy(nb_zeros(NB_SHAPE(5), NB_OPTS(NB_FLOAT32)), nb_zeros(0, NULL, NB_OPTS(NB_INT64))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_cross_entropy", "(N, C)", "[5]", "[]"));
    cr_assert_null(nb_cross_entropy(x, nb_zeros(NB_SHAPE(4, 1), NB_OPTS(NB_INT64))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_cross_entropy", "[4, 5]", "[4, 1]"));

    cr_assert_null(nb_cross_entropy(NULL, good));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_cross_entropy", "logits"));
    cr_assert_null(nb_cross_entropy(x, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_cross_entropy", "labels"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, ops_refuse_tensors_on_different_devices, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *labels = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_INT64, .device = NB_DEVICE_CUDA(0)));
    if (!labels) {
        nb_clear_error();
        nb_scope_end();
        cr_skip_test("no CUDA device");
    }
    nb_tensor *cpu = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *gpu = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32, .device = NB_DEVICE_CUDA(0)));
    cr_assert_null(nb_cross_entropy(cpu, labels));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_cross_entropy", "cpu", "cuda:0"));
    cr_assert_null(nb_mse_loss(cpu, gpu));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_mse_loss", "cpu", "cuda:0"));
    nb_linear *l = nb_linear_new(3, 4, true, NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_linear_forward(l, gpu));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_linear_forward", "cpu", "cuda:0"));
    nb_linear_free(l);
    /* softmax and cross entropy have CPU kernels only, for now */
    cr_assert_null(nb_softmax(gpu, 1));
    assert_error(NB_ERR_UNSUPPORTED, ERR_PARTS("nb_softmax", "cuda:0"));
    cr_assert_null(nb_cross_entropy(gpu, labels));
    assert_error(NB_ERR_UNSUPPORTED, ERR_PARTS("nb_cross_entropy", "cuda:0"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- mse_loss */

Test(nn, mse_loss_value_and_gradients_match_pytorch, .init = nb_test_setup)
{
    const char *targets[2][2] = {{"mse_t", "mse"}, {"mse_tb", "mse_b"}}; /* same shape, broadcast */
    for (int k = 0; k < 2; k++) {
        const dtype_case *c = &cases[k];
        for (int t = 0; t < 2; t++) {
            nb_scope_begin();
            char name[64];
            nb_tensor *p = nb_requires_grad_(gold("mse_p", c->tag), true);
            nb_tensor *q = nb_requires_grad_(gold(targets[t][0], c->tag), true);
            nb_tensor *loss = nb_mse_loss(p, q);
            snprintf(name, sizeof name, "%s_loss", targets[t][1]);
            assert_close(loss, gold(name, c->tag), c->rtol, 0);
            cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
            snprintf(name, sizeof name, "%s_grad_pred", targets[t][1]);
            assert_close(nb_grad(p), gold(name, c->tag), c->rtol, c->atol);
            snprintf(name, sizeof name, "%s_grad_target", targets[t][1]);
            assert_close(nb_grad(q), gold(name, c->tag), c->rtol, c->atol);
            /* a non-contiguous prediction gives the same value */
            assert_close(nb_mse_loss(noncontig(p), q), loss, c->rtol, 0);
            cr_assert_eq(nb_scope_end(), NB_OK);
        }
    }
}

Test(nn, mse_loss_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *p = nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_mse_loss(p, nb_zeros(NB_SHAPE(5), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_mse_loss", "[3, 4]", "[5]"));
    cr_assert_null(nb_mse_loss(p, nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_INT64))));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mse_loss", "float32", "int64"));
    cr_assert_null(nb_mse_loss(NULL, p));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_mse_loss", "pred"));
    cr_assert_null(nb_mse_loss(p, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_mse_loss", "target"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- a training step */

Test(nn, a_linear_softmax_classifier_learns, .init = nb_test_setup)
{
    /* two linear layers, relu and cross entropy, trained by hand-written SGD on separable
     * data: the loss must fall well below its starting value */
    nb_manual_seed(99);
    nb_linear *l1 = nb_linear_new(4, 16, true, NB_OPTS(NB_FLOAT32));
    nb_linear *l2 = nb_linear_new(16, 3, true, NB_OPTS(NB_FLOAT32));
    nb_scope_begin();
    nb_tensor *x = nb_keep(nb_randn(NB_SHAPE(64, 4), NB_OPTS(NB_FLOAT32)));
    /* labels: which of the first three features is largest */
    nb_tensor *labels = nb_keep(nb_argmax_dim(nb_narrow(x, 1, 0, 3), 1, false));
    nb_scope_end();
    nb_tensor *params[4] = {l1->weight, l1->bias, l2->weight, l2->bias};
    double first = 0, last = 0;
    for (int step = 0; step < 200; step++) {
        nb_scope_begin();
        nb_tensor *logits = nb_linear_forward(l2, nb_relu(nb_linear_forward(l1, x)));
        nb_tensor *loss = nb_cross_entropy(logits, labels);
        cr_assert(loss != NULL, "%s", nb_last_error());
        if (step == 0) first = nb_item(loss);
        last = nb_item(loss);
        cr_assert_eq(nb_backward(loss), NB_OK);
        nb_no_grad_begin();
        for (int i = 0; i < 4; i++) {
            nb_sub_scaled_(params[i], nb_grad(params[i]), 0.5);
            nb_zero_grad(params[i]);
        }
        nb_no_grad_end();
        cr_assert_eq(nb_scope_end(), NB_OK, "step %d: %s", step, nb_last_error());
    }
    cr_assert(last < 0.25 * first, "loss went from %g to %g", first, last);
    nb_release(x), nb_release(labels);
    nb_linear_free(l1), nb_linear_free(l2);
}
