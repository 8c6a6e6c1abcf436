/* test_random.c — the generator (Philox4x32-10) and its draws: Random123's known answers, every
 * draw against golden values from an independent Python implementation of kernels/random.h's
 * mapping (test/golden/gen_random.py), the generator's state, statistics at fixed seeds
 * (moments, and chi-square tests whose thresholds a broken generator fails), dropout against
 * PyTorch's scaling, and every argument error. */
#include "helpers.h"

#include "../kernels/random.h"

#include <math.h>
#include <stdlib.h>

#define RANDOM .init = nb_test_setup

/* the values of t as float64, malloc'd */
static double *values(const nb_tensor *t)
{
    const int64_t n = nb_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    nb_tensor *d = nb_to_dtype(t, NB_FLOAT64);
    cr_assert(nb_copy_to_array(d, v, (size_t)n * sizeof(double)) == NB_OK, "%s", nb_last_error());
    nb_release(d);
    return v;
}

static void moments(const nb_tensor *t, double *mean, double *std)
{
    const int64_t n = nb_numel(t);
    double *v = values(t), s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) s += v[i];
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; i++) s2 += (v[i] - *mean) * (v[i] - *mean);
    *std = sqrt(s2 / (double)n);
    free(v);
}

/* Pearson's statistic of counts (k,) against expected probabilities (k,) over n draws. */
static double chi_square(const int64_t *counts, const double *p, int k, int64_t n)
{
    double x2 = 0;
    for (int c = 0; c < k; c++) {
        const double e = p[c] * (double)n;
        x2 += ((double)counts[c] - e) * ((double)counts[c] - e) / e;
    }
    return x2;
}

/* ---------------------------------------------------------------- Philox and the mapping */

Test(random, philox_known_answers, RANDOM)
{
    nb_scope_begin();
    nb_tensor *kat = golden("random/philox_kat_i64"); /* (3, 10): counter[4], key[2], output[4] */
    int64_t v[30];
    cr_assert_eq(nb_copy_to_array(kat, v, sizeof v), NB_OK);
    for (int r = 0; r < 3; r++) {
        const int64_t *row = v + 10 * r;
        nbk_philox_out o = nbk_philox4x32_10((uint32_t)row[0], (uint32_t)row[1], (uint32_t)row[2], (uint32_t)row[3],
                                             (uint32_t)row[4], (uint32_t)row[5]);
        for (int k = 0; k < 4; k++)
            cr_assert_eq(o.x[k], (uint32_t)row[6 + k], "vector %d word %d: %08x, expected %08x", r, k, o.x[k],
                         (uint32_t)row[6 + k]);
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, rand_and_randn_match_the_mapping, RANDOM)
{
    nb_scope_begin();
    nb_manual_seed(42);
    assert_close(nb_rand(NB_SHAPE(3, 5), NB_OPTS(NB_FLOAT32)), golden("random/rand_seed42_3x5_f32"), 0, 0);
    assert_close(nb_rand(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)), golden("random/rand_seed42_3x5_then_4_f32"), 0, 0);
    nb_manual_seed(42);
    assert_close(nb_rand(NB_SHAPE(3, 5), NB_OPTS(NB_FLOAT64)), golden("random/rand_seed42_3x5_f64"), 0, 0);
    nb_manual_seed(0x123456789ABCDEF0ULL);
    assert_close(nb_rand(NB_SHAPE(6), NB_OPTS(NB_FLOAT64)), golden("random/rand_seed_big_6_f64"), 0, 0);
    nb_manual_seed(7);
    assert_close(nb_randn(NB_SHAPE(7), NB_OPTS(NB_FLOAT64)), golden("random/randn_seed7_7_f64"), 1e-14, 1e-15);
    assert_close(nb_randn(NB_SHAPE(2), NB_OPTS(NB_FLOAT64)), golden("random/randn_seed7_7_then_2_f64"), 1e-14, 1e-15);
    nb_manual_seed(7);
    assert_close(nb_randn(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), golden("random/randn_seed7_2x3_f32"), 1e-7, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, randint_matches_the_mapping_in_every_dtype, RANDOM)
{
    nb_scope_begin();
    nb_tensor *want = golden("random/randint_seed3_m5_17_4x6_i64");
    nb_manual_seed(3);
    assert_close(nb_randint(-5, 17, NB_SHAPE(4, 6), NB_OPTS(NB_INT64)), want, 0, 0);
    nb_manual_seed(3);
    assert_close(nb_randint(-5, 17, NB_SHAPE(4, 6), NB_OPTS(NB_FLOAT32)), nb_to_dtype(want, NB_FLOAT32), 0, 0);
    nb_manual_seed(3);
    assert_close(nb_randint(-5, 17, NB_SHAPE(4, 6), NB_OPTS(NB_FLOAT64)), nb_to_dtype(want, NB_FLOAT64), 0, 0);
    nb_manual_seed(3);
    nb_tensor *bits = golden("random/randint_seed3_0_2_10_i64");
    assert_close(nb_randint(0, 2, NB_SHAPE(10), NB_OPTS(NB_BOOL)), nb_to_dtype(bits, NB_BOOL), 0, 0);
    /* the whole int64 range */
    nb_manual_seed(3);
    nb_tensor *wide = nb_randint(INT64_MIN, INT64_MAX, NB_SHAPE(1000), NB_OPTS(NB_INT64));
    cr_assert_not_null(wide, "%s", nb_last_error());
    cr_assert(nb_item(nb_lt_scalar(nb_min(wide), -1e18)) && nb_item(nb_gt_scalar(nb_max(wide), 1e18)));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, uniform_and_normal_in_place, RANDOM)
{
    nb_scope_begin();
    nb_tensor *t = nb_zeros(NB_SHAPE(2, 4), NB_OPTS(NB_FLOAT64));
    nb_manual_seed(5);
    cr_assert_eq(nb_uniform_(t, -2, 3), t);
    assert_close(t, golden("random/uniform_seed5_m2_3_2x4_f64"), 0, 0);
    nb_manual_seed(5);
    cr_assert_eq(nb_normal_(t, 1.5, 2), t);
    assert_close(t, golden("random/normal_seed5_1p5_2_2x4_f64"), 1e-14, 1e-14);
    /* a transposed view gets the values of a dense draw in its own element order; a narrowed
     * one leaves the elements outside it alone */
    nb_tensor *base = nb_zeros(NB_SHAPE(4, 2), NB_OPTS(NB_FLOAT64)), *view = nb_t(base);
    nb_manual_seed(5);
    nb_uniform_(view, -2, 3);
    assert_close(view, golden("random/uniform_seed5_m2_3_2x4_f64"), 0, 0);
    nb_tensor *wide = nb_full(NB_SHAPE(2, 6), 9, NB_OPTS(NB_FLOAT64)), *part = nb_narrow(wide, 1, 1, 4);
    nb_manual_seed(5);
    nb_uniform_(part, -2, 3);
    assert_close(part, golden("random/uniform_seed5_m2_3_2x4_f64"), 0, 0);
    assert_close(nb_narrow(wide, 1, 0, 1), nb_full(NB_SHAPE(2, 1), 9, NB_OPTS(NB_FLOAT64)), 0, 0);
    assert_close(nb_narrow(wide, 1, 5, 1), nb_full(NB_SHAPE(2, 1), 9, NB_OPTS(NB_FLOAT64)), 0, 0);
    /* float32, an empty tensor, from == to */
    nb_tensor *f = nb_zeros(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32));
    nb_uniform_(f, 1, 1);
    assert_close(f, nb_ones(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32)), 0, 0);
    cr_assert_not_null(nb_normal_(nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32)), 0, 1));
    assert_ok();
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, in_place_draws_cut_the_gradient, RANDOM)
{
    nb_scope_begin();
    nb_tensor *w = nb_requires_grad_(nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT64)), true);
    nb_tensor *h = nb_mul_scalar(w, 2.0);
    cr_assert_not_null(nb_uniform_(h, 0, 1));
    cr_assert_str_eq(nb_grad_fn_name(h), "FillBackward");
    cr_assert_eq(nb_backward(nb_sum(h)), NB_OK, "%s", nb_last_error());
    nb_tensor *gw = nb_grad(w); /* no gradient reaches w: none, or zeros */
    cr_assert(gw == NULL || nb_item(nb_sum(nb_abs(gw))) == 0);
    /* a view of a tensor with history is refused, as every in-place op refuses it */
    nb_tensor *m = nb_t(nb_mul_scalar(nb_requires_grad_(nb_ones(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT64)), true), 1.0));
    cr_assert_null(nb_normal_(m, 0, 1));
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_normal_", "view"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, bernoulli_matches_the_mapping, RANDOM)
{
    nb_scope_begin();
    nb_tensor *p = golden("random/bernoulli_probs_f64"), *want = golden("random/bernoulli_seed11_f64");
    nb_manual_seed(11);
    assert_close(nb_bernoulli(p), want, 0, 0);
    /* non-contiguous probabilities, and float32 */
    nb_manual_seed(11);
    assert_close(nb_bernoulli(noncontig(p)), want, 0, 0);
    nb_manual_seed(11);
    nb_tensor *p32 = nb_to_dtype(p, NB_FLOAT32);
    nb_tensor *b32 = nb_bernoulli(p32);
    cr_assert_eq(nb_dtype_of(b32), NB_FLOAT32);
    /* float32 probabilities draw as their float64 values do */
    nb_manual_seed(11);
    assert_close(nb_bernoulli(nb_to_dtype(p32, NB_FLOAT64)), nb_to_dtype(b32, NB_FLOAT64), 0, 0);
    /* the scalar form: input's shape and dtype */
    nb_tensor *like = nb_zeros(NB_SHAPE(12), NB_OPTS(NB_INT64));
    nb_manual_seed(11);
    nb_tensor *s = nb_bernoulli_scalar(like, 0.3);
    cr_assert_eq(nb_dtype_of(s), NB_INT64);
    assert_close(nb_to_dtype(s, NB_FLOAT64), golden("random/bernoulli_scalar_seed11_0p3_12_f64"), 0, 0);
    nb_manual_seed(11);
    assert_close(nb_bernoulli_scalar(nb_zeros(NB_SHAPE(12), NB_OPTS(NB_BOOL)), 0.3),
                 nb_to_dtype(golden("random/bernoulli_scalar_seed11_0p3_12_f64"), NB_BOOL), 0, 0);
    cr_assert_eq(nb_numel(nb_bernoulli(nb_zeros(NB_SHAPE(0, 4), NB_OPTS(NB_FLOAT32)))), 0);
    assert_ok();
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, multinomial_matches_the_mapping, RANDOM)
{
    nb_scope_begin();
    nb_tensor *probs = golden("random/multinomial_probs_f64"); /* (3, 5) */
    nb_manual_seed(13);
    assert_close(nb_multinomial(probs, 6, true), golden("random/multinomial_seed13_repl_6_i64"), 0, 0);
    nb_manual_seed(13);
    nb_tensor *two = nb_narrow(probs, 0, 0, 2);
    assert_close(nb_multinomial(two, 3, false), golden("random/multinomial_seed13_norepl_3_i64"), 0, 0);
    /* float32 and non-contiguous probabilities, a 1-D row */
    nb_manual_seed(13);
    assert_close(nb_multinomial(noncontig(probs), 6, true), golden("random/multinomial_seed13_repl_6_i64"), 0, 0);
    nb_manual_seed(13);
    nb_tensor *row = nb_multinomial(nb_select(probs, 0, 0), 6, true);
    cr_assert_eq(nb_ndim(row), 1);
    assert_close(row, nb_select(golden("random/multinomial_seed13_repl_6_i64"), 0, 0), 0, 0);
    /* the only nonzero category, every time */
    nb_tensor *one = nb_multinomial(nb_select(probs, 0, 2), 50, true);
    assert_close(nb_min(one), nb_max(one), 0, 0);
    cr_assert_eq(nb_item(nb_min(one)), 3);
    assert_ok();
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- the generator's state */

Test(random, state_is_seed_and_offset, RANDOM)
{
    nb_scope_begin();
    nb_manual_seed(99);
    nb_rng_state s = nb_rng_get_state();
    cr_assert(s.seed == 99 && s.offset == 0);
    nb_rand(NB_SHAPE(10), NB_OPTS(NB_FLOAT32)); /* four float32 uniforms per counter: 3 */
    cr_assert_eq(nb_rng_get_state().offset, 3);
    nb_randn(NB_SHAPE(7), NB_OPTS(NB_FLOAT64)); /* two values per counter: 4 */
    cr_assert_eq(nb_rng_get_state().offset, 7);
    nb_rand(NB_SHAPE(5), NB_OPTS(NB_FLOAT64)); /* 3 */
    cr_assert_eq(nb_rng_get_state().offset, 10);
    nb_rand(NB_SHAPE(0, 5), NB_OPTS(NB_FLOAT32)); /* nothing drawn */
    cr_assert_eq(nb_rng_get_state().offset, 10);
    nb_multinomial(nb_ones(NB_SHAPE(2, 5), NB_OPTS(NB_FLOAT32)), 3, false); /* rows x categories */
    cr_assert_eq(nb_rng_get_state().offset, 20);
    nb_dropout(nb_ones(NB_SHAPE(9), NB_OPTS(NB_FLOAT32)), 0.5, true); /* bernoulli: 5 */
    cr_assert_eq(nb_rng_get_state().offset, 25);
    nb_randperm(6); /* randint's: 3 */
    cr_assert_eq(nb_rng_get_state().offset, 28);
    /* a checkpoint: set the state back and draw the same values */
    nb_rng_state saved = nb_rng_get_state();
    nb_tensor *a = nb_randn(NB_SHAPE(3, 3), NB_OPTS(NB_FLOAT64));
    nb_rand(NB_SHAPE(5), NB_OPTS(NB_FLOAT64));
    nb_rng_set_state(saved);
    assert_close(nb_randn(NB_SHAPE(3, 3), NB_OPTS(NB_FLOAT64)), a, 0, 0);
    /* a state set by hand: seed 42 from offset 4 continues rand((3, 5)) */
    nb_rng_set_state((nb_rng_state){42, 4});
    assert_close(nb_rand(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)), golden("random/rand_seed42_3x5_then_4_f32"), 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- statistics at fixed seeds */

Test(random, moments_of_every_float_draw, RANDOM)
{
    nb_scope_begin();
    nb_manual_seed(2024);
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_FLOAT64 : NB_FLOAT32;
        double mean, std;
        moments(nb_rand(NB_SHAPE(200000), NB_OPTS(dt)), &mean, &std);
        cr_assert(fabs(mean - 0.5) < 0.003 && fabs(std - sqrt(1.0 / 12)) < 0.003, "rand: %g, %g", mean, std);
        moments(nb_randn(NB_SHAPE(200001), NB_OPTS(dt)), &mean, &std);
        cr_assert(fabs(mean) < 0.01 && fabs(std - 1) < 0.01, "randn: %g, %g", mean, std);
        nb_tensor *t = nb_empty(NB_SHAPE(400, 500), NB_OPTS(dt));
        moments(nb_uniform_(t, -3, 5), &mean, &std);
        cr_assert(fabs(mean - 1) < 0.03 && fabs(std - 8 / sqrt(12.0)) < 0.03, "uniform_: %g, %g", mean, std);
        double lo = nb_item(nb_min(t)), hi = nb_item(nb_max(t));
        cr_assert(lo >= -3 && hi < 5 && lo < -2.99 && hi > 4.99, "uniform_ range [%g, %g]", lo, hi);
        moments(nb_normal_(t, -2, 0.5), &mean, &std);
        cr_assert(fabs(mean + 2) < 0.005 && fabs(std - 0.5) < 0.005, "normal_: %g, %g", mean, std);
        /* the sines and the cosines of the pairs are each standard normal, and uncorrelated */
        nb_tensor *z = nb_reshape(nb_randn(NB_SHAPE(200000), NB_OPTS(dt)), NB_SHAPE(100000, 2));
        nb_tensor *c = nb_select(z, 1, 0), *s = nb_select(z, 1, 1);
        moments(c, &mean, &std);
        cr_assert(fabs(mean) < 0.015 && fabs(std - 1) < 0.015, "cosines: %g, %g", mean, std);
        moments(s, &mean, &std);
        cr_assert(fabs(mean) < 0.015 && fabs(std - 1) < 0.015, "sines: %g, %g", mean, std);
        cr_assert(fabs(nb_item(nb_mean(nb_mul(c, s)))) < 0.015, "pairs correlate");
        /* neighbours in a draw are uncorrelated: lag-1 of rand */
        nb_tensor *u = nb_add_scalar(nb_rand(NB_SHAPE(100001), NB_OPTS(dt)), -0.5);
        const double lag = nb_item(nb_mean(nb_mul(nb_narrow(u, 0, 0, 100000), nb_narrow(u, 0, 1, 100000))));
        cr_assert(fabs(lag) < 0.0025, "lag-1 covariance %g (variance 1/12)", lag);
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, chi_square_of_randint, RANDOM)
{
    nb_scope_begin();
    nb_manual_seed(31337);
    enum { N = 200000, K = 10 };
    nb_tensor *r = nb_randint(-3, 7, NB_SHAPE(N), NB_OPTS(NB_INT64));
    int64_t *v = malloc(N * sizeof(int64_t)), counts[K] = {0};
    cr_assert_eq(nb_copy_to_array(r, v, N * sizeof(int64_t)), NB_OK);
    for (int i = 0; i < N; i++) {
        cr_assert(v[i] >= -3 && v[i] < 7, "randint gave %lld", (long long)v[i]);
        counts[v[i] + 3]++;
    }
    free(v);
    double p[K];
    for (int c = 0; c < K; c++) p[c] = 1.0 / K;
    const double x2 = chi_square(counts, p, K, N);
    cr_assert(x2 < 33.7, "chi-square %g over 9 degrees of freedom (p < 1e-4 above 33.7)", x2);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, chi_square_of_bernoulli, RANDOM)
{
    nb_scope_begin();
    nb_manual_seed(4242);
    const double ps[3] = {0.05, 0.3, 0.5};
    for (int k = 0; k < 3; k++) {
        nb_tensor *b = nb_bernoulli_scalar(nb_zeros(NB_SHAPE(200000), NB_OPTS(NB_FLOAT32)), ps[k]);
        const int64_t ones = (int64_t)nb_item(nb_sum(b));
        const int64_t counts[2] = {200000 - ones, ones};
        const double p[2] = {1 - ps[k], ps[k]};
        const double x2 = chi_square(counts, p, 2, 200000);
        cr_assert(x2 < 15.1, "p %g: %lld ones of 200000, chi-square %g (p < 1e-4 above 15.1)", ps[k], (long long)ones, x2);
    }
    /* per-element probabilities: a column of p = 0.2 and one of p = 0.9 */
    nb_tensor *p = nb_cat(2, (nb_tensor *[]){nb_full(NB_SHAPE(100000, 1), 0.2, NB_OPTS(NB_FLOAT64)),
                                             nb_full(NB_SHAPE(100000, 1), 0.9, NB_OPTS(NB_FLOAT64))}, 1);
    nb_tensor *col = nb_sum_dim(nb_bernoulli(p), 0, false);
    double got[2];
    cr_assert_eq(nb_copy_to_array(col, got, sizeof got), NB_OK);
    const double want[2] = {0.2, 0.9};
    for (int c = 0; c < 2; c++) {
        const int64_t counts[2] = {100000 - (int64_t)got[c], (int64_t)got[c]};
        const double pc[2] = {1 - want[c], want[c]};
        cr_assert(chi_square(counts, pc, 2, 100000) < 15.1, "column %d: %g ones", c, got[c]);
    }
    /* 0 and 1 are exact */
    assert_close(nb_bernoulli_scalar(nb_zeros(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32)), 1.0),
                 nb_ones(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32)), 0, 0);
    assert_close(nb_bernoulli_scalar(nb_zeros(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32)), 0.0),
                 nb_zeros(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32)), 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, chi_square_of_multinomial, RANDOM)
{
    nb_scope_begin();
    nb_manual_seed(777);
    const double p[4] = {0.1, 0.2, 0.3, 0.4};
    enum { ROWS = 50000 };
    nb_tensor *row = nb_from_array(p, NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    nb_tensor *probs = nb_contiguous(nb_expand(nb_unsqueeze(row, 0), NB_SHAPE(ROWS, 4)));
    /* with replacement: 4 samples of each row, every one distributed as p */
    nb_tensor *s = nb_multinomial(probs, 4, true);
    int64_t *v = malloc(ROWS * 4 * sizeof(int64_t));
    cr_assert_eq(nb_copy_to_array(s, v, ROWS * 4 * sizeof(int64_t)), NB_OK);
    int64_t counts[4] = {0};
    for (int i = 0; i < ROWS * 4; i++) counts[v[i]]++;
    double x2 = chi_square(counts, p, 4, ROWS * 4);
    cr_assert(x2 < 21.1, "with replacement: chi-square %g over 3 degrees of freedom (p < 1e-4 above 21.1)", x2);
    /* without replacement: the first pick is distributed as p, the second as
     * sum over i != j of p_i p_j / (1 - p_i); a row never repeats a category */
    nb_tensor *w = nb_multinomial(probs, 3, false);
    cr_assert_eq(nb_copy_to_array(w, v, ROWS * 3 * sizeof(int64_t)), NB_OK);
    int64_t first[4] = {0}, second[4] = {0};
    for (int r = 0; r < ROWS; r++) {
        const int64_t *x = v + 3 * r;
        cr_assert(x[0] != x[1] && x[0] != x[2] && x[1] != x[2], "row %d repeats: %lld %lld %lld", r,
                  (long long)x[0], (long long)x[1], (long long)x[2]);
        first[x[0]]++;
        second[x[1]]++;
    }
    free(v);
    double p2[4] = {0};
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++)
            if (i != j) p2[j] += p[i] * p[j] / (1 - p[i]);
    x2 = chi_square(first, p, 4, ROWS);
    cr_assert(x2 < 21.1, "first picks: chi-square %g", x2);
    x2 = chi_square(second, p2, 4, ROWS);
    cr_assert(x2 < 21.1, "second picks: chi-square %g", x2);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- dropout */

Test(random, dropout_matches_pytorch_scaling, RANDOM)
{
    nb_scope_begin();
    nb_tensor *x = nb_requires_grad_(golden("random/dropout_x_f64"), true);
    nb_manual_seed(17);
    nb_tensor *y = nb_dropout(x, 0.25, true);
    assert_close(y, golden("random/dropout_seed17_0p25_y_f64"), 1e-15, 0);
    cr_assert_str_eq(nb_grad_fn_name(y), "DropoutBackward");
    nb_tensor *gx;
    nb_tensor *gy = golden("random/dropout_gy_f64");
    cr_assert_eq(nb_grad_of(1, &y, &gy, 1, &x, &gx, false), NB_OK, "%s", nb_last_error());
    assert_close(gx, golden("random/dropout_seed17_0p25_gx_f64"), 1e-15, 0);
    nb_release(gx);
    /* a non-contiguous input: the mask follows its element order */
    nb_manual_seed(17);
    assert_close(nb_dropout(noncontig(golden("random/dropout_x_f64")), 0.25, true),
                 golden("random/dropout_seed17_0p25_y_f64"), 1e-15, 0);
    /* float32: about a quarter dropped, the rest scaled by 4/3 */
    nb_manual_seed(18);
    nb_tensor *ones = nb_ones(NB_SHAPE(100000), NB_OPTS(NB_FLOAT32));
    nb_tensor *d = nb_dropout(ones, 0.25, true);
    const double kept = nb_item(nb_sum(nb_ne_scalar(d, 0)));
    cr_assert(fabs(kept / 100000 - 0.75) < 0.005, "kept %g", kept);
    cr_assert(fabs(nb_item(nb_max(d)) - 4.0 / 3.0) < 1e-6);
    cr_assert(fabs(nb_item(nb_mean(d)) - 1) < 0.01);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(random, dropout_edge_cases, RANDOM)
{
    nb_scope_begin();
    nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32)), true);
    /* not training, or p = 0: x itself, drawing nothing */
    const nb_rng_state before = nb_rng_get_state();
    nb_tensor *same = nb_dropout(x, 0.5, false);
    cr_assert_eq(nb_data(same), nb_data(x));
    nb_tensor *zero_p = nb_dropout(x, 0, true);
    cr_assert_eq(nb_data(zero_p), nb_data(x));
    assert_close(zero_p, x, 0, 0);
    cr_assert_eq(nb_dropout(nb_ones(NB_SHAPE(2), NB_OPTS(NB_INT64)), 0.5, false) != NULL, true); /* any dtype */
    /* p = 1: zeros, drawing nothing, and a zero gradient */
    nb_tensor *all = nb_dropout(x, 1, true);
    assert_close(all, nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32)), 0, 0);
    nb_rng_state after = nb_rng_get_state();
    cr_assert(after.seed == before.seed && after.offset == before.offset);
    cr_assert_eq(nb_backward(nb_sum(all)), NB_OK);
    assert_close(nb_grad(x), nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32)), 0, 0);
    /* an empty tensor, a 0-d one */
    cr_assert_eq(nb_numel(nb_dropout(nb_ones(NB_SHAPE(0, 2), NB_OPTS(NB_FLOAT64)), 0.5, true)), 0);
    cr_assert_eq(nb_ndim(nb_dropout(nb_ones(0, NULL, NB_OPTS(NB_FLOAT64)), 0.5, true)), 0);
    /* NaN stays NaN where dropped, as x * 0 does */
    nb_tensor *nan = nb_full(NB_SHAPE(64), NAN, NB_OPTS(NB_FLOAT64));
    cr_assert(isnan(nb_item(nb_sum(nb_dropout(nan, 0.5, true)))));
    assert_ok();
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- errors */

Test(random, argument_errors_are_named, RANDOM)
{
    nb_scope_begin();
    nb_tensor *f = nb_ones(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), *i = nb_ones(NB_SHAPE(2, 3), NB_OPTS(NB_INT64));
    cr_assert_null(nb_randint(5, 5, NB_SHAPE(3), NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_randint", "low < high", "low 5", "high 5"));
    cr_assert_null(nb_randint(0, 4, NB_SHAPE(3), NB_OPTS(NB_INT64, .requires_grad = true)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_randint", "only floating point", "int64"));
    cr_assert_null(nb_randint(0, 4, NB_SHAPE(-1), NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_randint"));
    cr_assert_null(nb_rand(NB_SHAPE(3), NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_rand", "float32, float64, float16 or bfloat16", "int64"));

    cr_assert_null(nb_bernoulli(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_bernoulli"));
    cr_assert_null(nb_bernoulli(i));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_bernoulli", "float32, float64, float16 or bfloat16", "int64"));
    nb_tensor *bad = nb_from_array((double[]){0.5, 1.5}, NB_SHAPE(2), NB_OPTS(NB_FLOAT64));
    cr_assert_null(nb_bernoulli(bad));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_bernoulli", "[0, 1]", "1.5", "element 1"));
    cr_assert_null(nb_bernoulli(nb_full(NB_SHAPE(2), NAN, NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_bernoulli", "nan"));
    cr_assert_null(nb_bernoulli_scalar(f, -0.1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_bernoulli_scalar", "p in [0, 1]", "-0.1"));
    cr_assert_null(nb_bernoulli_scalar(NULL, 0.5));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_bernoulli_scalar", "input"));

    cr_assert_null(nb_multinomial(nb_ones(NB_SHAPE(2, 2, 2), NB_OPTS(NB_FLOAT32)), 1, true));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_multinomial", "1 or 2 dims", "[2, 2, 2]"));
    cr_assert_null(nb_multinomial(i, 1, true));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_multinomial", "int64"));
    cr_assert_null(nb_multinomial(nb_ones(NB_SHAPE(2, 0), NB_OPTS(NB_FLOAT32)), 1, true));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_multinomial", "no category", "[2, 0]"));
    cr_assert_null(nb_multinomial(f, 0, true));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_multinomial", "positive number of samples", "0"));
    cr_assert_null(nb_multinomial(f, 4, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_multinomial", "4 samples without replacement", "3 categories"));
    nb_tensor *neg = nb_from_array((double[]){0.5, 0.5, 1, -1}, NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT64));
    cr_assert_null(nb_multinomial(neg, 1, true));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_multinomial", "row 1", "finite and not negative"));
    cr_assert_null(nb_multinomial(nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT64)), 1, true));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_multinomial", "row 0", "sum to 0"));
    nb_tensor *sparse = nb_from_array((double[]){0, 1, 0}, NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
    cr_assert_null(nb_multinomial(sparse, 2, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_multinomial", "fewer nonzero probabilities than samples"));
    cr_assert_null(nb_multinomial(nb_full(NB_SHAPE(3), INFINITY, NB_OPTS(NB_FLOAT64)), 1, true));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_multinomial", "finite"));

    cr_assert_null(nb_uniform_(f, 2, 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_uniform_", "from <= to", "from 2", "to 1"));
    cr_assert_null(nb_uniform_(f, 0, INFINITY));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_uniform_", "finite"));
    cr_assert_null(nb_uniform_(i, 0, 1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_uniform_", "float32, float64, float16 or bfloat16", "int64"));
    cr_assert_null(nb_normal_(f, 0, -1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_normal_", "std >= 0", "-1"));
    cr_assert_null(nb_normal_(NULL, 0, 1));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_normal_"));
    nb_tensor *leaf = nb_requires_grad_(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), true);
    cr_assert_null(nb_normal_(leaf, 0, 1));
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_normal_", "leaf"));
    cr_assert_null(nb_uniform_(nb_expand(nb_ones(NB_SHAPE(1, 3), NB_OPTS(NB_FLOAT32)), NB_SHAPE(4, 3)), 0, 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_uniform_", "expanded"));

    cr_assert_null(nb_dropout(f, 1.5, true));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_dropout", "between 0 and 1", "1.5"));
    cr_assert_null(nb_dropout(f, -0.5, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_dropout", "-0.5"));
    cr_assert_null(nb_dropout(f, NAN, true));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_dropout", "nan"));
    cr_assert_null(nb_dropout(i, 0.5, true));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_dropout", "float32, float64, float16 or bfloat16", "int64"));
    cr_assert_null(nb_dropout(NULL, 0.5, true));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_dropout"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}
