/* test_attention.c — scaled dot-product attention (suite nn): nb_scaled_dot_product_attention
 * against PyTorch 1.13's explicit composition (golden/attention, made by golden/gen_attention.py)
 * in both dtypes, with causal, bool and additive masks, broadcast batch dims and strided inputs,
 * forward and the gradients of q, k and v; against the same composition in nabla; rows with no
 * key (NaN), empty sizes, dropout's mask against the generator's own draws (causal too), results
 * that do not depend on the thread count, and every error. */
#include "helpers.h"

#include "../kernels/attention.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct dtype_case {
    const char *tag;
    nb_dtype dtype;
    double rtol, atol;
} dtype_case;

static const dtype_case dtypes[2] = {{"f32", NB_FLOAT32, 1e-4, 1e-5}, {"f64", NB_FLOAT64, 1e-10, 1e-12}};

typedef enum { NO_MASK, BOOL_MASK, ADD_MASK } mask_kind;

/* One golden case: the options as gen_attention.py's CASES repeats them. */
typedef struct sdpa_case {
    const char *name;
    mask_kind mask;
    bool causal;
    double scale;
} sdpa_case;

static const sdpa_case cases[] = {
    {"plain", NO_MASK, false, 0},         {"causal", NO_MASK, true, 0},     {"causal_long", NO_MASK, true, 0},
    {"bool_mask", BOOL_MASK, false, 0},   {"bool_mask_batch", BOOL_MASK, false, 0},
    {"add_mask", ADD_MASK, false, 0},     {"broadcast", NO_MASK, false, 0}, {"scale", NO_MASK, false, 0.3},
    {"matrix", NO_MASK, false, 0},        {"long", NO_MASK, false, 0},      {"long_causal", NO_MASK, true, 0},
};

static nb_tensor *gold(const char *name, const char *part, const char *tag)
{
    char path[128];
    if (tag)
        snprintf(path, sizeof path, "attention/%s_%s_%s", name, part, tag);
    else
        snprintf(path, sizeof path, "attention/%s_%s", name, part);
    return golden(path);
}

/* t's values with its last two dims transposed in memory: not contiguous */
static nb_tensor *strided_copy(nb_tensor *t)
{
    const int nd = nb_ndim(t);
    return nb_transpose(nb_contiguous(nb_transpose(t, nd - 2, nd - 1)), nd - 2, nd - 1);
}

Test(nn, attention_matches_pytorch, .init = nb_test_setup)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const sdpa_case *c = &cases[i];
        for (int d = 0; d < 2; d++) {
            for (int strided = 0; strided < 2; strided++) {
                nb_scope_begin();
                const char *tag = dtypes[d].tag;
                nb_tensor *in[3];
                const char *parts[3] = {"q", "k", "v"};
                for (int t = 0; t < 3; t++) {
                    nb_tensor *x = gold(c->name, parts[t], tag);
                    if (strided && t != 1) x = strided_copy(x); /* q and v strided, k dense */
                    in[t] = nb_requires_grad_(nb_detach(x), true);
                }
                nb_sdpa_options o = {.is_causal = c->causal, .scale = c->scale};
                if (c->mask == BOOL_MASK) o.attn_mask = gold(c->name, "mask", NULL);
                if (c->mask == ADD_MASK) o.attn_mask = gold(c->name, "mask", tag);
                nb_tensor *y = nb_scaled_dot_product_attention(in[0], in[1], in[2], &o);
                cr_assert(y != NULL, "%s %s: %s", c->name, tag, nb_last_error());
                assert_close(y, gold(c->name, "out", tag), dtypes[d].rtol, dtypes[d].atol);
                nb_tensor *g = gold(c->name, "g", tag), *grads[3] = {NULL};
                cr_assert_eq(nb_grad_of(1, &y, &g, 3, in, grads, false), NB_OK, "%s: %s", c->name, nb_last_error());
                const char *gparts[3] = {"dq", "dk", "dv"};
                for (int t = 0; t < 3; t++)
                    assert_close(grads[t], gold(c->name, gparts[t], tag), dtypes[d].rtol * 10, dtypes[d].atol * 10);
                cr_assert_eq(nb_scope_end(), NB_OK);
            }
        }
    }
}

/* softmax(q k^T scale + mask) v in nabla's own ops; mask bool (masked_fill of -inf where false)
 * or NULL, causal as a bool tril(ones(L, S)) */
static nb_tensor *composed(nb_tensor *q, nb_tensor *k, nb_tensor *v, const nb_tensor *mask, bool causal, double scale)
{
    const int nd = nb_ndim(q);
    const int64_t L = nb_size(q, nd - 2), S = nb_size(k, nb_ndim(k) - 2);
    nb_tensor *x = nb_mul_scalar(nb_matmul(q, nb_transpose(k, -2, -1)), scale);
    if (causal) mask = nb_tril(nb_ones(NB_SHAPE(L, S), NB_OPTS(NB_BOOL)), 0);
    if (mask) x = nb_masked_fill(x, nb_logical_not(mask), -INFINITY);
    return nb_matmul(nb_softmax(x, -1), v);
}

Test(nn, attention_equals_the_unfused_composition, .init = nb_test_setup)
{
    for (int d = 0; d < 2; d++) {
        for (int variant = 0; variant < 3; variant++) {
            nb_scope_begin();
            nb_manual_seed(11 + (uint64_t)variant);
            const nb_options o = NB_OPTS(dtypes[d].dtype, .requires_grad = true);
            nb_tensor *q = nb_randn(NB_SHAPE(2, 2, 70, 8), o), *k = nb_randn(NB_SHAPE(2, 2, 90, 8), o);
            nb_tensor *v = nb_randn(NB_SHAPE(2, 2, 90, 5), o);
            nb_tensor *mask = variant == 1 ? nb_gt_scalar(nb_randn(NB_SHAPE(70, 90), NB_OPTS(NB_FLOAT32)), -1.0) : NULL;
            if (mask) nb_masked_fill_(mask, nb_lt_scalar(nb_arange(0, 90, 1, NB_OPTS(NB_FLOAT32)), 1), true);
            const bool causal = variant == 2;
            nb_sdpa_options opts = {.attn_mask = mask, .is_causal = causal};
            nb_tensor *fused = nb_scaled_dot_product_attention(q, k, v, &opts);
            nb_tensor *plain = composed(q, k, v, mask, causal, 1.0 / sqrt(8.0));
            cr_assert(fused && plain, "%s", nb_last_error());
            assert_close(fused, plain, dtypes[d].rtol, dtypes[d].atol);
            nb_tensor *g = nb_randn(NB_SHAPE(2, 2, 70, 5), NB_OPTS(dtypes[d].dtype));
            nb_tensor *wrt[3] = {q, k, v}, *gf[3] = {NULL}, *gp[3] = {NULL};
            cr_assert_eq(nb_grad_of(1, &fused, &g, 3, wrt, gf, false), NB_OK, "%s", nb_last_error());
            cr_assert_eq(nb_grad_of(1, &plain, &g, 3, wrt, gp, false), NB_OK, "%s", nb_last_error());
            for (int t = 0; t < 3; t++) assert_close(gf[t], gp[t], dtypes[d].rtol * 10, dtypes[d].atol * 10);
            cr_assert_eq(nb_scope_end(), NB_OK);
        }
    }
}

Test(nn, attention_records_its_backward_and_no_gradient_for_the_mask, .init = nb_test_setup)
{
    nb_scope_begin();
    const nb_options o = NB_OPTS(NB_FLOAT64, .requires_grad = true);
    nb_tensor *q = nb_randn(NB_SHAPE(3, 4), o), *k = nb_randn(NB_SHAPE(5, 4), o), *v = nb_randn(NB_SHAPE(5, 2), o);
    nb_tensor *mask = nb_randn(NB_SHAPE(3, 5), o);
    nb_sdpa_options opts = {.attn_mask = mask};
    nb_tensor *y = nb_scaled_dot_product_attention(q, k, v, &opts);
    cr_assert_str_eq(nb_grad_fn_name(y), "ScaledDotProductAttentionBackward");
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK, "%s", nb_last_error());
    cr_assert(nb_grad(q) && nb_grad(k) && nb_grad(v));
    cr_assert_null(nb_grad(mask));
    /* without grad mode or inputs that need one: no node */
    nb_tensor *plain = nb_scaled_dot_product_attention(nb_detach(q), nb_detach(k), nb_detach(v), NULL);
    cr_assert_null(nb_grad_fn_name(plain));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, attention_rows_with_no_key_are_nan_as_the_composition, .init = nb_test_setup)
{
    for (int d = 0; d < 2; d++) {
        nb_scope_begin();
        nb_manual_seed(5);
        const nb_options o = NB_OPTS(dtypes[d].dtype, .requires_grad = true);
        nb_tensor *q = nb_randn(NB_SHAPE(2, 4, 3), o), *k = nb_randn(NB_SHAPE(2, 5, 3), o);
        nb_tensor *v = nb_randn(NB_SHAPE(2, 5, 2), o);
        static const bool m[4 * 5] = {1, 0, 1, 0, 0, /* row 1 has no key */ 0, 0, 0, 0, 0,
                                      0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
        nb_tensor *mask = nb_from_array(m, NB_SHAPE(4, 5), NB_OPTS(NB_BOOL));
        nb_sdpa_options opts = {.attn_mask = mask};
        nb_tensor *y = nb_scaled_dot_product_attention(q, k, v, &opts);
        nb_tensor *plain = composed(q, k, v, mask, false, 1.0 / sqrt(3.0));
        assert_close(y, plain, dtypes[d].rtol, dtypes[d].atol); /* NaNs where the composition has them */
        nb_tensor *row1 = nb_select(nb_select(y, 0, 1), 0, 1), *row2 = nb_select(nb_select(y, 0, 0), 0, 2);
        cr_assert(isnan(nb_item(nb_select(row1, 0, 0))) && isnan(nb_item(nb_select(row1, 0, 1))));
        cr_assert(isfinite(nb_item(nb_select(row2, 0, 0))));
        /* the gradient is NaN through that row, as the composition's */
        nb_tensor *g = nb_ones_like(y), *wrt[3] = {q, k, v}, *gf[3] = {NULL}, *gp[3] = {NULL};
        cr_assert_eq(nb_grad_of(1, &y, &g, 3, wrt, gf, false), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_grad_of(1, &plain, &g, 3, wrt, gp, false), NB_OK, "%s", nb_last_error());
        for (int t = 0; t < 3; t++) assert_close(gf[t], gp[t], dtypes[d].rtol * 10, dtypes[d].atol * 10);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
}

Test(nn, attention_of_empty_sizes, .init = nb_test_setup)
{
    nb_scope_begin();
    const nb_options o = NB_OPTS(NB_FLOAT32, .requires_grad = true);
    /* no query rows: an empty result; k and v get zero gradients */
    nb_tensor *q = nb_randn(NB_SHAPE(2, 0, 4), o), *k = nb_randn(NB_SHAPE(2, 3, 4), o);
    nb_tensor *v = nb_randn(NB_SHAPE(2, 3, 5), o);
    nb_tensor *y = nb_scaled_dot_product_attention(q, k, v, NULL);
    cr_assert(y && nb_ndim(y) == 3 && nb_size(y, 0) == 2 && nb_size(y, 1) == 0 && nb_size(y, 2) == 5);
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK, "%s", nb_last_error());
    assert_close(nb_grad(k), nb_zeros(NB_SHAPE(2, 3, 4), NB_OPTS(NB_FLOAT32)), 0, 0);
    assert_close(nb_grad(v), nb_zeros(NB_SHAPE(2, 3, 5), NB_OPTS(NB_FLOAT32)), 0, 0);
    /* no keys: softmax over nothing, times nothing, is 0 (as the composition); dq is 0 */
    nb_tensor *q2 = nb_randn(NB_SHAPE(2, 4, 4), o), *k2 = nb_randn(NB_SHAPE(2, 0, 4), o);
    nb_tensor *v2 = nb_randn(NB_SHAPE(2, 0, 5), o);
    nb_tensor *y2 = nb_scaled_dot_product_attention(q2, k2, v2, NULL);
    assert_close(y2, nb_zeros(NB_SHAPE(2, 4, 5), NB_OPTS(NB_FLOAT32)), 0, 0);
    cr_assert_eq(nb_backward(nb_sum(y2)), NB_OK, "%s", nb_last_error());
    assert_close(nb_grad(q2), nb_zeros(NB_SHAPE(2, 4, 4), NB_OPTS(NB_FLOAT32)), 0, 0);
    /* an empty batch, and empty value rows */
    nb_tensor *y3 = nb_scaled_dot_product_attention(nb_randn(NB_SHAPE(0, 2, 4, 4), o), nb_randn(NB_SHAPE(1, 2, 3, 4), o),
                                                    nb_randn(NB_SHAPE(1, 1, 3, 2), o), NULL);
    cr_assert(y3 && nb_ndim(y3) == 4 && nb_size(y3, 0) == 0 && nb_size(y3, 1) == 2 && nb_size(y3, 3) == 2);
    nb_tensor *y4 = nb_scaled_dot_product_attention(q2, nb_randn(NB_SHAPE(2, 3, 4), o), nb_randn(NB_SHAPE(2, 3, 0), o),
                                                    NULL);
    cr_assert(y4 && nb_size(y4, 1) == 4 && nb_size(y4, 2) == 0, "%s", nb_last_error());
    /* E = 0: the scores are scale times an empty sum, NaN for the default scale 1/sqrt(0) as in
     * the composition; with a scale of its own, every key weighs the same */
    nb_tensor *q5 = nb_randn(NB_SHAPE(2, 4, 0), o), *k5 = nb_randn(NB_SHAPE(2, 3, 0), o);
    nb_tensor *v5 = nb_randn(NB_SHAPE(2, 3, 2), o);
    nb_tensor *y5 = nb_scaled_dot_product_attention(q5, k5, v5, NULL);
    cr_assert(y5 && isnan(nb_item(nb_select(nb_flatten(y5), 0, 0))), "%s", nb_last_error());
    nb_tensor *y6 = nb_scaled_dot_product_attention(q5, k5, v5, &(nb_sdpa_options){.scale = 0.5});
    nb_tensor *means = nb_expand(nb_mean_dim(v5, 1, true), NB_SHAPE(2, 4, 2));
    assert_close(y6, means, 1e-6, 1e-6);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, attention_dropout_is_the_generators_mask, .init = nb_test_setup)
{
    for (int d = 0; d < 2; d++) {
        nb_scope_begin();
        nb_manual_seed(21);
        const nb_options o = NB_OPTS(dtypes[d].dtype, .requires_grad = true);
        nb_tensor *q = nb_randn(NB_SHAPE(2, 3, 7, 4), o), *k = nb_randn(NB_SHAPE(2, 3, 9, 4), o);
        nb_tensor *v = nb_randn(NB_SHAPE(2, 3, 9, 3), o);
        const nb_rng_state before = nb_rng_get_state();
        nb_sdpa_options opts = {.dropout_p = 0.3};
        nb_tensor *y = nb_scaled_dot_product_attention(q, k, v, &opts);
        cr_assert(y != NULL, "%s", nb_last_error());
        const nb_rng_state after = nb_rng_get_state();
        cr_assert_eq(after.offset - before.offset, nbk_attention_counters(6, 7, 9));
        /* the mask the kernels draw, built here from the same function */
        double z[6 * 7 * 9];
        const nbk_attention_args a = {.batch = 6, .l = 7, .s = 9, .dropout_p = 0.3, .seed = before.seed,
                                      .offset = before.offset};
        int kept = 0;
        for (int b = 0; b < 6; b++)
            for (int i = 0; i < 7; i++)
                for (int j = 0; j < 9; j++) {
                    z[(b * 7 + i) * 9 + j] = nbk_attention_keep(&a, b, i, j);
                    kept += z[(b * 7 + i) * 9 + j] != 0;
                }
        cr_assert(kept > 6 * 7 * 9 / 2 && kept < 6 * 7 * 9, "kept %d", kept);
        nb_tensor *zt = nb_to_dtype(nb_from_array(z, NB_SHAPE(2, 3, 7, 9), NB_OPTS(NB_FLOAT64)), dtypes[d].dtype);
        nb_tensor *x = nb_mul_scalar(nb_matmul(q, nb_transpose(k, -2, -1)), 0.5);
        nb_tensor *plain = nb_matmul(nb_mul(nb_softmax(x, -1), zt), v);
        assert_close(y, plain, dtypes[d].rtol, dtypes[d].atol);
        nb_tensor *g = nb_randn(NB_SHAPE(2, 3, 7, 3), NB_OPTS(dtypes[d].dtype));
        nb_tensor *wrt[3] = {q, k, v}, *gf[3] = {NULL}, *gp[3] = {NULL};
        cr_assert_eq(nb_grad_of(1, &y, &g, 3, wrt, gf, false), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_grad_of(1, &plain, &g, 3, wrt, gp, false), NB_OK, "%s", nb_last_error());
        for (int t = 0; t < 3; t++) assert_close(gf[t], gp[t], dtypes[d].rtol * 10, dtypes[d].atol * 10);
        /* p = 1 drops every weight: zeros, and no counters taken */
        opts.dropout_p = 1;
        const nb_rng_state at = nb_rng_get_state();
        nb_tensor *none = nb_scaled_dot_product_attention(q, k, v, &opts);
        assert_close(none, nb_zeros(NB_SHAPE(2, 3, 7, 3), NB_OPTS(dtypes[d].dtype)), 0, 0);
        cr_assert_eq(nb_rng_get_state().offset, at.offset);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
}

/* Causality with dropout over several query blocks, more queries than keys (the last rows attend
 * every key): the causal softmax times the generator's mask, composed. */
Test(nn, attention_causal_dropout_equals_the_composition, .init = nb_test_setup)
{
    enum { B = 2, L = 70, S = 66 };
    for (int d = 0; d < 2; d++) {
        nb_scope_begin();
        nb_manual_seed(31);
        const nb_options o = NB_OPTS(dtypes[d].dtype, .requires_grad = true);
        nb_tensor *q = nb_randn(NB_SHAPE(B, L, 4), o), *k = nb_randn(NB_SHAPE(B, S, 4), o);
        nb_tensor *v = nb_randn(NB_SHAPE(B, S, 3), o);
        const nb_rng_state before = nb_rng_get_state();
        nb_sdpa_options opts = {.dropout_p = 0.2, .is_causal = true};
        nb_tensor *y = nb_scaled_dot_product_attention(q, k, v, &opts);
        cr_assert(y != NULL, "%s", nb_last_error());
        static double z[B * L * S]; /* (B, L, S) dropout's factors */
        const nbk_attention_args a = {.batch = B, .l = L, .s = S, .dropout_p = 0.2, .seed = before.seed,
                                      .offset = before.offset};
        for (int b = 0; b < B; b++)
            for (int i = 0; i < L; i++)
                for (int j = 0; j < S; j++) z[(b * L + i) * S + j] = nbk_attention_keep(&a, b, i, j);
        nb_tensor *zt = nb_to_dtype(nb_from_array(z, NB_SHAPE(B, L, S), NB_OPTS(NB_FLOAT64)), dtypes[d].dtype);
        nb_tensor *future = nb_logical_not(nb_tril(nb_ones(NB_SHAPE(L, S), NB_OPTS(NB_BOOL)), 0));
        nb_tensor *x = nb_masked_fill(nb_mul_scalar(nb_matmul(q, nb_transpose(k, -2, -1)), 0.5), future, -INFINITY);
        nb_tensor *plain = nb_matmul(nb_mul(nb_softmax(x, -1), zt), v);
        assert_close(y, plain, dtypes[d].rtol, dtypes[d].atol);
        nb_tensor *g = nb_randn(NB_SHAPE(B, L, 3), NB_OPTS(dtypes[d].dtype));
        nb_tensor *wrt[3] = {q, k, v}, *gf[3] = {NULL}, *gp[3] = {NULL};
        cr_assert_eq(nb_grad_of(1, &y, &g, 3, wrt, gf, false), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_grad_of(1, &plain, &g, 3, wrt, gp, false), NB_OK, "%s", nb_last_error());
        for (int t = 0; t < 3; t++) assert_close(gf[t], gp[t], dtypes[d].rtol * 10, dtypes[d].atol * 10);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
}

Test(nn, attention_does_not_depend_on_the_thread_count, .init = nb_test_setup)
{
    const int threads = nb_get_num_threads();
    nb_tensor *results[2][4] = {{NULL}};
    nb_scope_begin();
    for (int run = 0; run < 2; run++) {
        nb_set_num_threads(run == 0 ? 1 : 4);
        nb_manual_seed(3);
        const nb_options o = NB_OPTS(NB_FLOAT32, .requires_grad = true);
        nb_tensor *q = nb_randn(NB_SHAPE(8, 2, 200, 16), o), *k = nb_randn(NB_SHAPE(8, 2, 200, 16), o);
        nb_tensor *v = nb_randn(NB_SHAPE(8, 2, 200, 16), o);
        nb_sdpa_options opts = {.is_causal = true, .dropout_p = 0.1};
        nb_tensor *y = nb_scaled_dot_product_attention(q, k, v, &opts);
        nb_tensor *g = nb_ones_like(y), *wrt[3] = {q, k, v}, *grads[3] = {NULL};
        cr_assert_eq(nb_grad_of(1, &y, &g, 3, wrt, grads, false), NB_OK, "%s", nb_last_error());
        results[run][0] = y;
        for (int t = 0; t < 3; t++) results[run][t + 1] = grads[t];
    }
    nb_set_num_threads(threads);
    for (int t = 0; t < 4; t++) assert_close(results[1][t], results[0][t], 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, attention_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    const nb_options f32 = NB_OPTS(NB_FLOAT32);
    nb_tensor *q = nb_randn(NB_SHAPE(2, 3, 4), f32), *k = nb_randn(NB_SHAPE(2, 5, 4), f32);
    nb_tensor *v = nb_randn(NB_SHAPE(2, 5, 6), f32);
    const char *op = "nb_scaled_dot_product_attention";

    cr_assert_null(nb_scaled_dot_product_attention(NULL, k, v, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS(op, "query"));
    cr_assert_null(nb_scaled_dot_product_attention(nb_randn(NB_SHAPE(4), f32), k, v, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "query of at least 2 dims", "[4]"));
    cr_assert_null(nb_scaled_dot_product_attention(q, nb_randn(NB_SHAPE(2, 5, 3), f32), v, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "[2, 3, 4]", "[2, 5, 3]", "last dim E (4 vs 3)"));
    cr_assert_null(nb_scaled_dot_product_attention(q, k, nb_randn(NB_SHAPE(2, 4, 6), f32), NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "[2, 5, 4]", "[2, 4, 6]", "number of keys S (5 vs 4)"));
    cr_assert_null(nb_scaled_dot_product_attention(q, nb_randn(NB_SHAPE(3, 5, 4), f32), v, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "batch dims", "[2, 3, 4]", "[3, 5, 4]", "[2, 5, 6]", "do not broadcast"));
    /* dtypes */
    cr_assert_null(nb_scaled_dot_product_attention(nb_ones(NB_SHAPE(2, 3, 4), NB_OPTS(NB_INT64)), k, v, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "float32 or float64 query", "int64"));
    cr_assert_null(nb_scaled_dot_product_attention(q, nb_to_dtype(k, NB_FLOAT64), v, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "key of the query's dtype float32", "float64"));
    cr_assert_null(nb_scaled_dot_product_attention(q, k, nb_ones(NB_SHAPE(2, 5, 6), NB_OPTS(NB_BOOL)), NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "value of the query's dtype float32", "bool"));
    /* the mask */
    nb_sdpa_options o = {.attn_mask = nb_ones(NB_SHAPE(3, 4), NB_OPTS(NB_BOOL))};
    cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "attn_mask broadcastable to (N..., L, S) = [2, 3, 5]", "got [3, 4]"));
    o.attn_mask = nb_ones(NB_SHAPE(1, 2, 3, 5), NB_OPTS(NB_BOOL));
    cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "[2, 3, 5]", "got [1, 2, 3, 5]"));
    o.attn_mask = nb_ones(NB_SHAPE(3, 5), NB_OPTS(NB_INT64));
    cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &o));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "bool attn_mask or one of the query's dtype float32", "int64"));
    o.attn_mask = nb_ones(NB_SHAPE(3, 5), NB_OPTS(NB_FLOAT64));
    cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &o));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "float32", "got float64"));
    o.attn_mask = nb_ones(NB_SHAPE(3, 5), NB_OPTS(NB_BOOL));
    o.is_causal = true;
    cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS(op, "attn_mask cannot be given with is_causal"));
    /* dropout and scale */
    nb_sdpa_options d = {.dropout_p = -0.1};
    cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &d));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS(op, "dropout_p between 0 and 1", "-0.1"));
    d.dropout_p = 1.5;
    cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &d));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS(op, "dropout_p between 0 and 1", "1.5"));
    d.dropout_p = 0, d.scale = INFINITY;
    cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &d));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS(op, "finite scale", "inf"));
    /* devices */
    if (nb_cuda_device_count() > 0) {
        cr_assert_null(nb_scaled_dot_product_attention(q, nb_to(k, NB_DEVICE_CUDA(0)), v, NULL));
        assert_error(NB_ERR_DEVICE, ERR_PARTS(op, "cpu", "cuda:0"));
        nb_sdpa_options m = {.attn_mask = nb_to(nb_ones(NB_SHAPE(3, 5), NB_OPTS(NB_BOOL)), NB_DEVICE_CUDA(0))};
        cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &m));
        assert_error(NB_ERR_DEVICE, ERR_PARTS(op, "cpu", "cuda:0"));
        nb_tensor *big = nb_randn(NB_SHAPE(1, 2, 160), NB_OPTS(NB_FLOAT32, .device = NB_DEVICE_CUDA(0)));
        cr_assert_null(nb_scaled_dot_product_attention(big, big, big, NULL));
        assert_error(NB_ERR_UNSUPPORTED, ERR_PARTS(op, "head dims E and Ev up to 128", "E = 160"));
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
}
