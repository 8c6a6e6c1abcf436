/* test_half.c — float16 and bfloat16 (suite half): the conversions bit for bit against PyTorch's
 * (test/golden/gen_half.py), creation, data movement, .npy files and checkpoints, promotion, and
 * every op family computed in float32 and rounded once. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* each test runs in a scope, which releases what it made */
static void half_setup(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void half_teardown(void) { cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error()); }
#define H .init = half_setup, .fini = half_teardown

static nb_tensor *half_golden(const char *name)
{
    char path[96];
    snprintf(path, sizeof path, "half/%s", name);
    return golden(path);
}

/* the n 16-bit patterns of a float16 or bfloat16 tensor, copied out */
static const uint16_t *bits_of(const nb_tensor *t, int64_t n)
{
    static uint16_t buf[1 << 20];
    cr_assert(n <= (int64_t)(sizeof buf / sizeof buf[0]));
    cr_assert_eq(nb_copy_to_array(t, buf, sizeof buf), NB_OK, "%s", nb_last_error());
    return buf;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* every 16-bit pattern as a tensor of dtype */
static nb_tensor *every_pattern(nb_dtype dtype)
{
    static uint16_t p[65536];
    for (int i = 0; i < 65536; i++) p[i] = (uint16_t)i;
    return nb_from_array(p, NB_SHAPE(65536), NB_OPTS(dtype));
}

/* ---------------------------------------------------------------- conversions */

/* t's values through a view with stride 2 (the conversion loops' strided path, which is the scalar
 * one where dense rows take the vector instructions) */
static nb_tensor *stepped(nb_tensor *t)
{
    nb_tensor *both[2] = {t, t};
    return nb_select(nb_t(nb_stack(2, both, 0)), 1, 0);
}

static void check_from_f32(const char *golden_name, nb_dtype dtype)
{
    nb_tensor *in = half_golden("f32_in"), *want = half_golden(golden_name);
    const int64_t n = nb_numel(in);
    cr_assert_eq(nb_numel(want), n);
    const float *x = nb_data(in);
    const uint16_t *w = nb_data(want); /* bit patterns in a float16 container */
    for (int strided = 0; strided < 2; strided++) {
        nb_tensor *got = nb_to_dtype(strided ? stepped(in) : in, dtype);
        cr_assert_not_null(got, "%s", nb_last_error());
        const uint16_t *g = bits_of(got, n);
        for (int64_t i = 0; i < n; i++)
            cr_assert_eq(g[i], w[i], "float32 0x%08x -> %s%s: 0x%04x, PyTorch gives 0x%04x", f32_bits(x[i]),
                         nb_dtype_name(dtype), strided ? " (strided)" : "", g[i], w[i]);
    }
    for (int64_t i = 0; i < n; i++) cr_assert_eq(nb_half_from_float(dtype, x[i]), w[i]);
}

Test(half, float32_to_float16_bit_exact, H) { check_from_f32("f32_to_f16", NB_FLOAT16); }
Test(half, float32_to_bfloat16_bit_exact, H) { check_from_f32("f32_to_bf16", NB_BFLOAT16); }

static void check_to_f32(const char *golden_name, nb_dtype dtype)
{
    nb_tensor *want = half_golden(golden_name);
    cr_assert_eq(nb_numel(want), 65536);
    const float *w = nb_data(want);
    for (int strided = 0; strided < 2; strided++) {
        nb_tensor *all = every_pattern(dtype);
        nb_tensor *got = nb_contiguous(nb_to_dtype(strided ? stepped(all) : all, NB_FLOAT32));
        cr_assert_not_null(got, "%s", nb_last_error());
        const float *g = nb_data(got);
        for (int i = 0; i < 65536; i++)
            cr_assert_eq(f32_bits(g[i]), f32_bits(w[i]), "%s 0x%04x -> float32%s: 0x%08x, PyTorch gives 0x%08x",
                         nb_dtype_name(dtype), i, strided ? " (strided)" : "", f32_bits(g[i]), f32_bits(w[i]));
    }
    for (int i = 0; i < 65536; i++) cr_assert_eq(f32_bits(nb_half_to_float(dtype, (uint16_t)i)), f32_bits(w[i]));
}

Test(half, every_float16_to_float32_bit_exact, H) { check_to_f32("f16_to_f32", NB_FLOAT16); }
Test(half, every_bfloat16_to_float32_bit_exact, H) { check_to_f32("bf16_to_f32", NB_BFLOAT16); }

/* half -> int64 for finite values below 2^62 (the golden file has 0 elsewhere), and -> bool */
static void check_to_int_and_bool(const char *tag, nb_dtype dtype)
{
    char name[32];
    snprintf(name, sizeof name, "%s_to_i64", tag);
    const float *wi = nb_data(half_golden(name));
    snprintf(name, sizeof name, "%s_to_b8", tag);
    const bool *wb = nb_data(half_golden(name));
    nb_tensor *all = every_pattern(dtype);
    const int64_t *gi = nb_data(nb_to_dtype(all, NB_INT64));
    const bool *gb = nb_data(nb_to_dtype(all, NB_BOOL));
    cr_assert(gi && gb, "%s", nb_last_error());
    int64_t checked = 0;
    for (int i = 0; i < 65536; i++) {
        const float v = nb_half_to_float(dtype, (uint16_t)i);
        cr_assert_eq(gb[i], wb[i], "%s 0x%04x -> bool", tag, i);
        if (!isfinite(v) || fabsf(v) >= 0x1p62f) continue;
        cr_assert_eq(gi[i], (int64_t)wi[i], "%s 0x%04x -> int64: %lld, PyTorch gives %lld", tag, i,
                     (long long)gi[i], (long long)wi[i]);
        checked++;
    }
    cr_assert_gt(checked, 48000); /* float16: 63488 finite values; bfloat16: 48384 below 2^62 */
}

Test(half, half_to_int64_and_bool, H)
{
    check_to_int_and_bool("f16", NB_FLOAT16);
    check_to_int_and_bool("bf16", NB_BFLOAT16);
}

/* float64 (rounded to float32 first, as PyTorch does: twice) and int64 into the half dtypes */
static void check_into_half(const char *in_name, const char *want_name, nb_dtype dtype)
{
    nb_tensor *in = half_golden(in_name), *want = half_golden(want_name);
    const int64_t n = nb_numel(in);
    const uint16_t *w = nb_data(want);
    nb_tensor *got = nb_to_dtype(in, dtype);
    cr_assert_not_null(got, "%s", nb_last_error());
    const uint16_t *g = bits_of(got, n);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(g[i], w[i], "%s[%lld] -> %s: 0x%04x, PyTorch gives 0x%04x", in_name, (long long)i,
                     nb_dtype_name(dtype), g[i], w[i]);
}

Test(half, float64_and_int64_to_half, H)
{
    check_into_half("f64_in", "f64_to_f16", NB_FLOAT16);
    check_into_half("f64_in", "f64_to_bf16", NB_BFLOAT16);
    check_into_half("i64_in", "i64_to_f16", NB_FLOAT16);
    check_into_half("i64_in", "i64_to_bf16", NB_BFLOAT16);
}

Test(half, between_the_half_dtypes_and_strided, H)
{
    /* float16 <-> bfloat16 through float32, from a strided view */
    nb_tensor *f = nb_from_array((float[]){1.0f, 65504.0f, 1e-7f, -3.140625f, NAN, INFINITY}, NB_SHAPE(2, 3),
                                 NB_OPTS(NB_FLOAT32));
    nb_tensor *h = nb_to_dtype(nb_t(f), NB_FLOAT16);
    nb_tensor *b = nb_to_dtype(h, NB_BFLOAT16);
    nb_tensor *back = nb_to_dtype(b, NB_FLOAT32);
    cr_assert_not_null(back, "%s", nb_last_error());
    const float *v = nb_data(back);
    /* (3, 2): columns of f, each value rounded to float16 and then to bfloat16 */
    const float want[6] = {1.0f, -3.140625f, 65504.0f, NAN, 1e-7f, INFINITY};
    for (int i = 0; i < 6; i++) {
        const float hf = nb_half_to_float(NB_FLOAT16, nb_half_from_float(NB_FLOAT16, want[i]));
        const float bw = nb_half_to_float(NB_BFLOAT16, nb_half_from_float(NB_BFLOAT16, hf));
        if (isnan(want[i]))
            cr_assert(isnan(v[i]));
        else
            cr_assert_eq(v[i], bw, "element %d: %g, expected %g", i, v[i], bw);
    }
    cr_assert_eq(nb_dtype_of(h), NB_FLOAT16);
    cr_assert_eq(nb_dtype_size(NB_FLOAT16), 2);
    cr_assert_eq(nb_dtype_size(NB_BFLOAT16), 2);
    cr_assert_str_eq(nb_dtype_name(NB_FLOAT16), "float16");
    cr_assert_str_eq(nb_dtype_name(NB_BFLOAT16), "bfloat16");
}

Test(half, public_conversions_refuse_other_dtypes, H)
{
    cr_assert_eq(nb_half_from_float(NB_FLOAT32, 1.0f), 0);
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_half_from_float", "float16 or bfloat16", "float32"));
    cr_assert(isnan(nb_half_to_float(NB_INT64, 0x3C00)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_half_to_float", "float16 or bfloat16", "int64"));
}

/* ---------------------------------------------------------------- creation and reading back */

Test(half, creation_and_item, H)
{
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        nb_tensor *z = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(dt)), *o = nb_ones(NB_SHAPE(2, 3), NB_OPTS(dt));
        nb_tensor *f = nb_full(NB_SHAPE(4), 0.1, NB_OPTS(dt)), *e = nb_empty(NB_SHAPE(0, 3), NB_OPTS(dt));
        nb_tensor *a = nb_arange(0, 5, 0.5, NB_OPTS(dt));
        cr_assert(z && o && f && e && a, "%s", nb_last_error());
        cr_assert_eq(nb_dtype_of(z), dt);
        cr_assert_eq(nb_numel(e), 0);
        const uint16_t one = nb_half_from_float(dt, 1.0f), tenth = nb_half_from_float(dt, 0.1f);
        const uint16_t *ob = bits_of(o, 6);
        for (int i = 0; i < 6; i++) cr_assert_eq(ob[i], one);
        cr_assert_eq(bits_of(z, 6)[5], 0);
        cr_assert_eq(bits_of(f, 4)[3], tenth);
        cr_assert_eq(nb_item(nb_select(f, 0, 2)), (double)nb_half_to_float(dt, tenth));
        cr_assert_eq(nb_numel(a), 10);
        cr_assert_eq(nb_item(nb_select(a, 0, 9)), 4.5);
        nb_tensor *g = nb_zeros(NB_SHAPE(2), NB_OPTS(dt, .requires_grad = true));
        cr_assert_not_null(g, "%s", nb_last_error());
        cr_assert(nb_requires_grad(g));
    }
    nb_manual_seed(5);
    nb_tensor *coin = nb_bernoulli_scalar(nb_zeros(NB_SHAPE(64), NB_OPTS(NB_BFLOAT16)), 0.5);
    cr_assert_not_null(coin, "%s", nb_last_error());
    cr_assert_eq(nb_dtype_of(coin), NB_BFLOAT16);
    const double heads = nb_item(nb_sum(coin));
    cr_assert(heads > 10 && heads < 54, "%g heads of 64", heads);
    cr_assert_eq(nb_item(nb_sum(nb_eq_scalar(nb_mul(coin, nb_rsub_scalar(coin, 1)), 0))), 64); /* 0 or 1 */
}

/* Every element of got (half) is want's (float32) rounded, but where that reached bound: the half
 * value below it. */
static void assert_rounded_below(const nb_tensor *got, const nb_tensor *want, nb_dtype dt, double bound)
{
    cr_assert_eq(nb_dtype_of(got), dt);
    nb_tensor *g = nb_contiguous(nb_to_dtype(got, NB_FLOAT32)), *w = nb_contiguous(want);
    const float *gv = nb_data(g), *wv = nb_data(w);
    for (int64_t i = 0; i < nb_numel(w); i++) {
        const float r = nb_half_to_float(dt, nb_half_from_float(dt, wv[i]));
        cr_assert(gv[i] == r || (r >= bound && gv[i] < bound && gv[i] >= r - 0x1p-7 * fabs(r)),
                  "element %lld: %.9g from float32's %.9g (bound %g)", (long long)i, gv[i], wv[i], bound);
        cr_assert(gv[i] < bound, "element %lld: %.9g reaches the bound %g", (long long)i, gv[i], bound);
    }
}

Test(half, random_draws_are_float32_draws_rounded, H)
{
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        /* the same counters as float32's draw, each value rounded once; uniform stays below 1 */
        nb_manual_seed(11);
        nb_tensor *u = nb_rand(NB_SHAPE(1 << 16), NB_OPTS(dt, .requires_grad = true));
        nb_manual_seed(11);
        nb_tensor *u32 = nb_rand(NB_SHAPE(1 << 16), NB_OPTS(NB_FLOAT32));
        cr_assert(u && u32, "%s", nb_last_error());
        cr_assert(nb_requires_grad(u) && nb_is_leaf(u));
        assert_rounded_below(u, u32, dt, 1.0);
        cr_assert_geq(nb_item(nb_amin(u32, 0, NULL, false)), 0.0);
        cr_assert_gt(nb_item(nb_amax(u32, 0, NULL, false)), 1 - 0x1p-9, "no float32 value that rounds to 1 was drawn");
        nb_manual_seed(12);
        nb_tensor *n = nb_randn(NB_SHAPE(3, 700), NB_OPTS(dt));
        nb_manual_seed(12);
        nb_tensor *n32 = nb_randn(NB_SHAPE(3, 700), NB_OPTS(NB_FLOAT32));
        assert_rounded_below(n, n32, dt, INFINITY);
        nb_tensor *r = nb_randint(-3, 5, NB_SHAPE(500), NB_OPTS(dt));
        cr_assert_not_null(r, "%s", nb_last_error());
        cr_assert_eq(nb_dtype_of(r), dt);
        cr_assert(nb_item(nb_amin(r, 0, NULL, false)) == -3 && nb_item(nb_amax(r, 0, NULL, false)) == 4);
        cr_assert_eq(nb_item(nb_sum(nb_ne(r, nb_round(r)))), 0, "randint drew a non-integer");

        /* in place, dense and strided: uniform_ on [-2, 3) and on a range one value wide */
        nb_tensor *t = nb_empty(NB_SHAPE(40, 50), NB_OPTS(dt));
        nb_manual_seed(13);
        cr_assert_not_null(nb_uniform_(t, -2, 3), "%s", nb_last_error());
        nb_manual_seed(13);
        assert_rounded_below(t, nb_uniform_(nb_empty(NB_SHAPE(40, 50), NB_OPTS(NB_FLOAT32)), -2, 3), dt, 3);
        nb_tensor *tt = nb_transpose(t, 0, 1);
        cr_assert_not_null(nb_normal_(tt, 1, 0.5), "%s", nb_last_error());
        const double mean = nb_item(nb_mean(t));
        cr_assert(fabs(mean - 1) < 0.05, "normal_'s mean %g, expected about 1", mean);
        cr_assert_not_null(nb_uniform_(t, 1, 1 + 0x1p-12), "%s", nb_last_error());
        cr_assert_eq(nb_item(nb_amax(t, 0, NULL, false)), 1.0, "[1, 1 + 2^-12) holds only 1 in %s", nb_dtype_name(dt));

        /* bernoulli and multinomial read half probabilities */
        nb_tensor *p = nb_to_dtype(nb_from_array((float[]){0, 1, 0, 1, 0.5f}, NB_SHAPE(5), NB_OPTS(NB_FLOAT32)), dt);
        nb_tensor *b = nb_bernoulli(p);
        cr_assert_not_null(b, "%s", nb_last_error());
        cr_assert_eq(nb_dtype_of(b), dt);
        const float *bv = nb_data(nb_to_dtype(b, NB_FLOAT32));
        cr_assert(bv[0] == 0 && bv[1] == 1 && bv[2] == 0 && bv[3] == 1 && (bv[4] == 0 || bv[4] == 1));
        cr_assert_not_null(nb_bernoulli(nb_transpose(nb_reshape(nb_repeat(p, NB_SHAPE(2)), NB_SHAPE(2, 5)), 0, 1)),
                           "%s", nb_last_error());
        nb_tensor *m = nb_multinomial(nb_narrow(p, 0, 1, 3), 6, true); /* categories 1, 0, 1 */
        cr_assert_not_null(m, "%s", nb_last_error());
        const int64_t *mv = nb_data(m);
        for (int i = 0; i < 6; i++) cr_assert(mv[i] == 0 || mv[i] == 2, "sample %d is %lld", i, (long long)mv[i]);
    }
    cr_assert_null(nb_rand(NB_SHAPE(2), NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_rand", "floating dtype", "int64"));
    cr_assert_null(nb_uniform_(nb_zeros(NB_SHAPE(2), NB_OPTS(NB_INT64)), 0, 1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_uniform_", "floating tensor", "int64"));
    assert_ok();
}

/* ---------------------------------------------------------------- data movement */

/* t (any dtype) as float64 values */
static nb_tensor *f64(const nb_tensor *t) { return nb_to_dtype(t, NB_FLOAT64); }

/* got, a half tensor, holds exactly want's values (float32 ones, each representable) */
static void assert_same_values(const nb_tensor *got, const nb_tensor *want)
{
    cr_assert_not_null(got, "%s", nb_last_error());
    assert_close(f64(got), f64(want), 0, 0);
}

Test(half, views_copies_and_gathers_move_bits, H)
{
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        nb_tensor *x32 = nb_to_dtype(nb_to_dtype(nb_arange(0, 24, 1, NB_OPTS(NB_FLOAT32)), dt), NB_FLOAT32);
        x32 = nb_reshape(nb_mul_scalar(x32, 0.75), NB_SHAPE(4, 6));
        nb_tensor *x = nb_to_dtype(x32, dt);
        cr_assert_not_null(x, "%s", nb_last_error());
        assert_same_values(nb_contiguous(nb_t(x)), nb_t(x32));
        assert_same_values(nb_clone(nb_narrow(x, 1, 2, 3)), nb_narrow(x32, 1, 2, 3));
        nb_tensor *two[2] = {x, x}, *two32[2] = {x32, x32};
        assert_same_values(nb_cat(2, two, 0), nb_cat(2, two32, 0));
        assert_same_values(nb_stack(2, two, 1), nb_stack(2, two32, 1));
        nb_tensor *idx = nb_from_array((int64_t[]){3, 0, 3}, NB_SHAPE(3), NB_OPTS(NB_INT64));
        assert_same_values(nb_index_select(x, 0, idx), nb_index_select(x32, 0, idx));
        nb_tensor *gi = nb_from_array((int64_t[]){5, 0, 1, 1, 2, 3, 4, 5}, NB_SHAPE(4, 2), NB_OPTS(NB_INT64));
        assert_same_values(nb_gather(x, 1, gi), nb_gather(x32, 1, gi));
        nb_tensor *mask = nb_gt_scalar(x32, 7);
        assert_same_values(nb_where(mask, x, nb_neg(x)), nb_where(mask, x32, nb_neg(x32)));
        nb_tensor *filled = nb_masked_fill(x, mask, -2.5);
        cr_assert_eq(nb_dtype_of(filled), dt);
        assert_same_values(filled, nb_masked_fill(x32, mask, -2.5));
        nb_tensor *into = nb_zeros(NB_SHAPE(4, 6), NB_OPTS(dt));
        cr_assert_not_null(nb_copy_(into, x32));
        assert_same_values(into, x32);
        nb_tensor *added = nb_index_add(nb_zeros(NB_SHAPE(4, 6), NB_OPTS(dt)), 0, idx, nb_index_select(x, 0, idx), 1.0);
        assert_same_values(added, nb_index_add(nb_zeros(NB_SHAPE(4, 6), NB_OPTS(NB_FLOAT32)), 0, idx,
                                               nb_index_select(x32, 0, idx), 1.0));
        /* empty tensors */
        nb_tensor *none = nb_empty(NB_SHAPE(0, 6), NB_OPTS(dt));
        nb_tensor *with_none[2] = {none, x};
        cr_assert_eq(nb_size(nb_cat(2, with_none, 0), 0), 4);
        cr_assert_eq(nb_numel(nb_sum_dim(none, 0, false)), 6);
    }
}

/* ---------------------------------------------------------------- files */

Test(half, npy_float16_round_trip_and_bfloat16_refused, H)
{
    char path[] = "/tmp/nabla_half_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    nb_tensor *h = nb_to_dtype(half_golden("f32_in"), NB_FLOAT16);
    cr_assert_eq(nb_save_npy(h, path), NB_OK, "%s", nb_last_error());
    nb_tensor *back = nb_load_npy(path);
    cr_assert_not_null(back, "%s", nb_last_error());
    cr_assert_eq(nb_dtype_of(back), NB_FLOAT16);
    const int64_t n = nb_numel(h);
    cr_assert_eq(nb_numel(back), n);
    cr_assert(memcmp(nb_data(h), nb_data(back), (size_t)n * 2) == 0);
    cr_assert_eq(nb_save_npy(nb_to_dtype(h, NB_BFLOAT16), path), NB_ERR_DTYPE);
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_save_npy", "bfloat16", "no .npy dtype", "nb_to_dtype"));
    unlink(path);
}

Test(half, checkpoints_keep_half_parameters, H)
{
    char path[] = "/tmp/nabla_half_ckpt_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    nb_tensor *a = nb_to_dtype(nb_arange(0, 6, 0.3, NB_OPTS(NB_FLOAT32)), NB_FLOAT16);
    nb_tensor *b = nb_to_dtype(nb_arange(-3, 3, 0.7, NB_OPTS(NB_FLOAT32)), NB_BFLOAT16);
    nb_params *p = nb_params_new();
    nb_params_add(p, a);
    nb_params_add(p, b);
    cr_assert_eq(nb_params_save(p, path), NB_OK, "%s", nb_last_error());
    nb_tensor *a2 = nb_zeros(NB_SHAPE(20), NB_OPTS(NB_FLOAT16)), *b2 = nb_zeros(NB_SHAPE(9), NB_OPTS(NB_BFLOAT16));
    nb_params *q = nb_params_new();
    nb_params_add(q, a2);
    nb_params_add(q, b2);
    cr_assert_eq(nb_params_load(q, path), NB_OK, "%s", nb_last_error());
    cr_assert(memcmp(nb_data(a), nb_data(a2), 40) == 0);
    cr_assert(memcmp(nb_data(b), nb_data(b2), 18) == 0);
    nb_params_free(p);
    nb_params_free(q);
    unlink(path);
}

/* ---------------------------------------------------------------- promotion */

Test(half, promotion, H)
{
    nb_tensor *h = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT16)), *b = nb_ones(NB_SHAPE(2), NB_OPTS(NB_BFLOAT16));
    nb_tensor *f = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), *d0 = nb_full(0, NULL, 2, NB_OPTS(NB_FLOAT64));
    nb_tensor *i = nb_ones(NB_SHAPE(2), NB_OPTS(NB_INT64)), *h0 = nb_full(0, NULL, 2, NB_OPTS(NB_FLOAT16));
    cr_assert_eq(nb_dtype_of(nb_add(h, b)), NB_FLOAT32);
    cr_assert_eq(nb_dtype_of(nb_add(h, f)), NB_FLOAT32);
    cr_assert_eq(nb_dtype_of(nb_add(b, nb_to_dtype(f, NB_FLOAT64))), NB_FLOAT64);
    cr_assert_eq(nb_dtype_of(nb_add(h, i)), NB_FLOAT16);
    cr_assert_eq(nb_dtype_of(nb_mul(b, nb_gt_scalar(i, 0))), NB_BFLOAT16);
    cr_assert_eq(nb_dtype_of(nb_add(h, d0)), NB_FLOAT16); /* a 0-d float64 does not widen a float16 tensor */
    cr_assert_eq(nb_dtype_of(nb_add(i, h0)), NB_FLOAT16); /* a 0-d float16 makes int64 float16 */
    cr_assert_eq(nb_dtype_of(nb_mul_scalar(b, 2.5)), NB_BFLOAT16);
    cr_assert_eq(nb_dtype_of(nb_div(i, i)), NB_FLOAT32);
    cr_assert_eq(nb_dtype_of(nb_lt(h, b)), NB_BOOL);
    /* in place: a float32 result rounded into a half target; a half one refused by int64 */
    nb_tensor *t = nb_clone(h);
    cr_assert_eq(nb_add_(t, f), t);
    cr_assert_eq(nb_dtype_of(t), NB_FLOAT16);
    cr_assert_eq(bits_of(t, 2)[1], 0x4000); /* 2.0 */
    cr_assert_null(nb_add_(nb_clone(i), h));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_add_", "float16", "int64"));
}

/* ---------------------------------------------------------------- ops: float32, rounded once */

/* x values for the op tests: (3, 5) with negatives, exact in both half dtypes */
static nb_tensor *sample(nb_dtype dt, double scale)
{
    nb_tensor *a = nb_arange(-7, 8, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *x = nb_reshape(nb_mul_scalar(a, scale / 4), NB_SHAPE(3, 5));
    return nb_to_dtype(x, dt);
}

/* op at the half dtype equals the float32 op on the same values rounded once, bit for bit */
typedef nb_tensor *(*op1)(const nb_tensor *);

static void same_as_rounded_f32(const char *what, nb_tensor *got, nb_tensor *from_f32, nb_dtype dt)
{
    cr_assert_not_null(got, "%s at %s: %s", what, nb_dtype_name(dt), nb_last_error());
    cr_assert_not_null(from_f32, "%s at float32: %s", what, nb_last_error());
    nb_tensor *want = nb_to_dtype(from_f32, dt);
    cr_assert_eq(nb_dtype_of(got), nb_dtype_of(want), "%s: dtype %s", what, nb_dtype_name(nb_dtype_of(got)));
    cr_assert_eq(nb_numel(got), nb_numel(want));
    const int64_t n = nb_numel(got);
    uint16_t g[64], w[64];
    cr_assert(n <= 64);
    cr_assert_eq(nb_copy_to_array(got, g, sizeof g), NB_OK);
    cr_assert_eq(nb_copy_to_array(want, w, sizeof w), NB_OK);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(g[i], w[i], "%s at %s, element %lld: 0x%04x, the rounded float32 result is 0x%04x", what,
                     nb_dtype_name(dt), (long long)i, g[i], w[i]);
}

static nb_tensor *gelu0(const nb_tensor *x) { return nb_gelu(x, false); }
static nb_tensor *softplus1(const nb_tensor *x) { return nb_softplus(x, 1, 20); }
static nb_tensor *sum_all(const nb_tensor *x) { return nb_sum(x); }
static nb_tensor *mean_1(const nb_tensor *x) { return nb_mean_dim(x, 1, false); }
static nb_tensor *amax_0(const nb_tensor *x) { return nb_amax(x, 1, (int[]){0}, true); }
static nb_tensor *amin_all(const nb_tensor *x) { return nb_amin(x, 0, NULL, false); }
static nb_tensor *var_1(const nb_tensor *x) { return nb_var(x, 1, (int[]){1}, 1, false); }
static nb_tensor *std_0(const nb_tensor *x) { return nb_std(x, 1, (int[]){0}, 0, false); }
static nb_tensor *lse_1(const nb_tensor *x) { return nb_logsumexp(x, 1, (int[]){1}, false); }
static nb_tensor *norm2(const nb_tensor *x) { return nb_norm(x, 2, 1, (int[]){1}, false); }
static nb_tensor *prod_0(const nb_tensor *x) { return nb_prod_dim(x, 0, false); }
static nb_tensor *cumsum_1(const nb_tensor *x) { return nb_cumsum(x, 1); }
static nb_tensor *softmax_1(const nb_tensor *x) { return nb_softmax(x, 1); }
static nb_tensor *log_softmax_0(const nb_tensor *x) { return nb_log_softmax(x, 0); }
static nb_tensor *layer_norm(const nb_tensor *x) { return nb_layer_norm(x, 1, (int64_t[]){5}, NULL, NULL, 1e-5); }
static nb_tensor *rms_norm(const nb_tensor *x) { return nb_rms_norm(x, 1, (int64_t[]){5}, NULL, 1e-6); }
static nb_tensor *mm_t(const nb_tensor *x) { return nb_mm(x, nb_t(x)); }
static nb_tensor *matmul_t(const nb_tensor *x) { return nb_matmul(nb_t(x), x); }

static const struct {
    const char *name;
    op1 fn;
} unary_ops[] = {
    {"exp", nb_exp},         {"log", nb_log},          {"sqrt", nb_sqrt},         {"tanh", nb_tanh},
    {"sigmoid", nb_sigmoid}, {"relu", nb_relu},        {"abs", nb_abs},           {"neg", nb_neg},
    {"erf", nb_erf},         {"sin", nb_sin},          {"rsqrt", nb_rsqrt},       {"reciprocal", nb_reciprocal},
    {"floor", nb_floor},     {"round", nb_round},      {"gelu", gelu0},           {"silu", nb_silu},
    {"softplus", softplus1}, {"sum", sum_all},         {"mean_dim", mean_1},      {"amax", amax_0},
    {"amin", amin_all},      {"var", var_1},           {"std", std_0},            {"logsumexp", lse_1},
    {"norm", norm2},         {"prod_dim", prod_0},     {"cumsum", cumsum_1},      {"softmax", softmax_1},
    {"log_softmax", log_softmax_0}, {"layer_norm", layer_norm}, {"rms_norm", rms_norm}, {"mm", mm_t},
    {"matmul", matmul_t},
};

Test(half, unary_reductions_norms_and_products_round_once, H)
{
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        nb_tensor *x = sample(dt, 1.0), *x32 = nb_to_dtype(x, NB_FLOAT32);
        for (size_t i = 0; i < sizeof unary_ops / sizeof unary_ops[0]; i++) {
            nb_scope_begin();
            same_as_rounded_f32(unary_ops[i].name, unary_ops[i].fn(x), unary_ops[i].fn(x32), dt);
            /* and from a strided view */
            same_as_rounded_f32(unary_ops[i].name, unary_ops[i].fn(nb_t(nb_contiguous(nb_t(x)))), unary_ops[i].fn(x32),
                                dt);
            nb_scope_end();
        }
    }
}

typedef nb_tensor *(*op2)(const nb_tensor *, const nb_tensor *);
static nb_tensor *mse(const nb_tensor *a, const nb_tensor *b) { return nb_mse_loss(a, b); }
static nb_tensor *l1(const nb_tensor *a, const nb_tensor *b) { return nb_l1_loss(a, b, NB_REDUCTION_MEAN); }
static nb_tensor *smooth_l1(const nb_tensor *a, const nb_tensor *b)
{
    return nb_smooth_l1_loss(a, b, NB_REDUCTION_SUM, 1.0);
}
static nb_tensor *huber(const nb_tensor *a, const nb_tensor *b) { return nb_huber_loss(a, b, NB_REDUCTION_NONE, 0.5); }
static nb_tensor *bce(const nb_tensor *a, const nb_tensor *b)
{
    return nb_binary_cross_entropy_with_logits(a, nb_sigmoid(b), NULL);
}

static const struct {
    const char *name;
    op2 fn;
} binary_ops[] = {
    {"add", nb_add}, {"sub", nb_sub}, {"mul", nb_mul},     {"div", nb_div}, {"pow", nb_pow},
    {"maximum", nb_maximum}, {"minimum", nb_minimum}, {"mse_loss", mse}, {"l1_loss", l1},
    {"smooth_l1_loss", smooth_l1}, {"huber_loss", huber}, {"bce_with_logits", bce},
};

Test(half, binary_ops_and_losses_round_once_with_broadcast, H)
{
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        nb_tensor *a = sample(dt, 1.0), *b = nb_add_scalar(nb_abs(sample(dt, 0.5)), 0.25);
        nb_tensor *row = nb_narrow(b, 0, 1, 1); /* (1, 5): broadcast */
        for (size_t i = 0; i < sizeof binary_ops / sizeof binary_ops[0]; i++) {
            nb_scope_begin();
            nb_tensor *a32 = nb_to_dtype(a, NB_FLOAT32), *b32 = nb_to_dtype(b, NB_FLOAT32);
            same_as_rounded_f32(binary_ops[i].name, binary_ops[i].fn(a, b), binary_ops[i].fn(a32, b32), dt);
            if (i < 7)
                same_as_rounded_f32(binary_ops[i].name, binary_ops[i].fn(a, row),
                                    binary_ops[i].fn(a32, nb_to_dtype(row, NB_FLOAT32)), dt);
            nb_scope_end();
        }
    }
}

Test(half, cross_entropy_and_nll_round_once, H)
{
    nb_tensor *labels = nb_from_array((int64_t[]){4, 0, 2}, NB_SHAPE(3), NB_OPTS(NB_INT64));
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        nb_tensor *x = sample(dt, 1.0), *x32 = nb_to_dtype(x, NB_FLOAT32);
        same_as_rounded_f32("cross_entropy", nb_cross_entropy(x, labels), nb_cross_entropy(x32, labels), dt);
        nb_cross_entropy_options o = NB_CROSS_ENTROPY_DEFAULTS;
        o.label_smoothing = 0.1;
        o.reduction = NB_REDUCTION_NONE;
        same_as_rounded_f32("cross_entropy_ex", nb_cross_entropy_ex(x, labels, &o),
                            nb_cross_entropy_ex(x32, labels, &o), dt);
        nb_tensor *lp = nb_log_softmax(x, 1), *lp32 = nb_to_dtype(lp, NB_FLOAT32);
        same_as_rounded_f32("nll_loss", nb_nll_loss(lp, labels, NULL), nb_nll_loss(lp32, labels, NULL), dt);
    }
}

/* gradients come back in the input's dtype, close to float32's (each backward step rounds) */
Test(half, gradients_in_the_input_dtype, H)
{
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        const double tol = k ? 2e-2 : 4e-3; /* a few units in the last place of each dtype */
        nb_tensor *x = nb_requires_grad_(sample(dt, 1.0), true);
        nb_tensor *x32 = nb_requires_grad_(nb_detach(nb_to_dtype(x, NB_FLOAT32)), true);
        nb_tensor *w = sample(dt, 0.5), *w32 = nb_to_dtype(w, NB_FLOAT32);
        nb_tensor *labels = nb_from_array((int64_t[]){1, 3, 0}, NB_SHAPE(3), NB_OPTS(NB_INT64));
        nb_tensor *loss = nb_add(nb_cross_entropy(nb_mul(nb_tanh(x), w), labels), nb_mean(nb_softmax(x, 0)));
        nb_tensor *loss32 = nb_add(nb_cross_entropy(nb_mul(nb_tanh(x32), w32), labels), nb_mean(nb_softmax(x32, 0)));
        cr_assert_eq(nb_dtype_of(loss), dt);
        cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_backward(loss32), NB_OK, "%s", nb_last_error());
        nb_tensor *g = nb_grad(x);
        cr_assert_not_null(g);
        cr_assert_eq(nb_dtype_of(g), dt);
        assert_close(f64(g), f64(nb_grad(x32)), tol, tol);
    }
}

Test(half, errors_name_the_dtypes, H)
{
    nb_tensor *h = nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT16)), *f = nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_mm(h, f));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mm", "same dtype", "float16 and float32"));
    cr_assert_null(nb_mm(h, nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_INT64))));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mm", "float16 and int64"));
    cr_assert_null(nb_cross_entropy(h, nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT16))));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_cross_entropy", "int64 class labels", "float16"));
    cr_assert_null(nb_mse_loss(h, nb_ones(NB_SHAPE(3), NB_OPTS(NB_BFLOAT16))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_mse_loss"));
    cr_assert_null(nb_lerp_scalar(nb_ones(NB_SHAPE(2), NB_OPTS(NB_INT64)), h, 0.5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_lerp_scalar", "float16", "int64"));
}

/* ---------------------------------------------------------------- against PyTorch's half ops */

static nb_tensor *t_add(nb_tensor *a, nb_tensor *b) { return nb_add(a, b); }
static nb_tensor *t_mul(nb_tensor *a, nb_tensor *b) { return nb_mul(a, b); }
static nb_tensor *t_div(nb_tensor *a, nb_tensor *b) { return nb_div(a, b); }
static nb_tensor *t_exp(nb_tensor *a, nb_tensor *b) { return (void)b, nb_exp(a); }
static nb_tensor *t_tanh(nb_tensor *a, nb_tensor *b) { return (void)b, nb_tanh(a); }
static nb_tensor *t_sigmoid(nb_tensor *a, nb_tensor *b) { return (void)b, nb_sigmoid(a); }
static nb_tensor *t_gelu(nb_tensor *a, nb_tensor *b) { return (void)b, nb_gelu(a, false); }
static nb_tensor *t_sum(nb_tensor *a, nb_tensor *b) { return (void)b, nb_sum(a); }
static nb_tensor *t_mean(nb_tensor *a, nb_tensor *b) { return (void)b, nb_mean_dim(a, 1, false); }
static nb_tensor *t_softmax(nb_tensor *a, nb_tensor *b) { return (void)b, nb_softmax(a, 1); }
static nb_tensor *t_log_softmax(nb_tensor *a, nb_tensor *b) { return (void)b, nb_log_softmax(a, 1); }
static nb_tensor *t_mm(nb_tensor *a, nb_tensor *b) { return nb_mm(a, nb_t(b)); }
static nb_tensor *t_xent(nb_tensor *a, nb_tensor *b)
{
    (void)b;
    return nb_cross_entropy(a, nb_from_array((int64_t[]){4, 0, 2}, NB_SHAPE(3), NB_OPTS(NB_INT64)));
}
static nb_tensor *t_mse(nb_tensor *a, nb_tensor *b) { return nb_mse_loss(a, b); }
static nb_tensor *t_amax(nb_tensor *a, nb_tensor *b) { return (void)b, nb_amax(a, 1, (int[]){0}, false); }
static nb_tensor *t_cumsum(nb_tensor *a, nb_tensor *b) { return (void)b, nb_cumsum(a, 1); }
static nb_tensor *t_var(nb_tensor *a, nb_tensor *b) { return (void)b, nb_var(a, 1, (int[]){1}, 1, false); }
static nb_tensor *t_lse(nb_tensor *a, nb_tensor *b) { return (void)b, nb_logsumexp(a, 1, (int[]){1}, false); }
static nb_tensor *t_norm(nb_tensor *a, nb_tensor *b) { return (void)b, nb_norm(a, 2, 1, (int[]){1}, false); }
static nb_tensor *t_add_bcast(nb_tensor *a, nb_tensor *b) { return nb_add(a, nb_narrow(b, 0, 1, 1)); }
static nb_tensor *t_mul_t(nb_tensor *a, nb_tensor *b) { return nb_mul(nb_t(a), nb_t(b)); }

Test(half, ops_match_pytorch_half_ops_within_one_unit, H)
{
    static const struct {
        const char *name;
        nb_tensor *(*fn)(nb_tensor *, nb_tensor *);
    } ops[] = {
        {"add", t_add},       {"mul", t_mul},           {"div", t_div},         {"exp", t_exp},
        {"tanh", t_tanh},     {"sigmoid", t_sigmoid},   {"gelu", t_gelu},       {"sum", t_sum},
        {"mean_dim1", t_mean}, {"softmax1", t_softmax}, {"log_softmax1", t_log_softmax}, {"mm", t_mm},
        {"cross_entropy", t_xent}, {"mse", t_mse},      {"amax0", t_amax},      {"cumsum1", t_cumsum},
        {"var1", t_var},      {"logsumexp1", t_lse},    {"norm1", t_norm},      {"add_bcast", t_add_bcast},
        {"mul_t", t_mul_t},
    };
    int compared = 0;
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_BFLOAT16 : NB_FLOAT16;
        const char *tag = k ? "bf16" : "f16";
        char name[64], path[96];
        snprintf(name, sizeof name, "ops_a_%s", tag);
        nb_tensor *a = nb_to_dtype(half_golden(name), dt);
        snprintf(name, sizeof name, "ops_b_%s", tag);
        nb_tensor *b = nb_to_dtype(half_golden(name), dt);
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            snprintf(name, sizeof name, "op_%s_%s", ops[i].name, tag);
            snprintf(path, sizeof path, "golden/half/%s.npy", name);
            if (access(path, R_OK) != 0) continue; /* PyTorch 1.13 has no CPU kernel for it */
            nb_tensor *want = half_golden(name), *got = ops[i].fn(a, b);
            cr_assert_not_null(got, "%s: %s", name, nb_last_error());
            cr_assert_eq(nb_dtype_of(got), dt, "%s: %s", name, nb_dtype_name(nb_dtype_of(got)));
            const int64_t n = nb_numel(want);
            cr_assert_eq(nb_numel(got), n, "%s", name);
            const uint16_t *w = nb_data(want), *g = bits_of(got, n);
            for (int64_t e = 0; e < n; e++) {
                const int d = (int)g[e] - (int)w[e];
                cr_assert(d >= -1 && d <= 1 && (g[e] & 0x8000) == (w[e] & 0x8000),
                          "%s element %lld: 0x%04x, PyTorch gives 0x%04x", name, (long long)e, g[e], w[e]);
            }
            compared++;
        }
    }
    cr_assert_eq(compared, 31);
}
