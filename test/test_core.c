/* test_core.c — creation (empty … randn, from/to C arrays, item, dtype conversion), inspection,
 * the error slot (first error kept, NULL propagation) and the version/config strings. Values
 * that PyTorch defines come from golden/ewise (golden/gen_ewise.py). */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void open_scope(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void close_scope(void) { nb_scope_end(); }
#define CORE .init = open_scope, .fini = close_scope

static nb_tensor *in(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "ewise/%s", name);
    return golden(path);
}

static void expect_shape(const nb_tensor *t, const char *want)
{
    char buf[96];
    cr_assert(t != NULL, "NULL: %s", nb_last_error());
    cr_assert_str_eq(nb_shape_string(t, buf, sizeof buf), want);
}

/* ---------------------------------------------------------------- creation */

Test(core, empty_zeros_ones_full, CORE)
{
    static const nb_dtype dtypes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    for (int k = 0; k < 4; k++) {
        nb_dtype dt = dtypes[k];
        nb_tensor *e = nb_empty(NB_SHAPE(2, 3, 4), NB_OPTS(dt));
        expect_shape(e, "[2, 3, 4]");
        cr_assert_eq(nb_dtype_of(e), dt);
        cr_assert(nb_is_contiguous(e));
        cr_assert(nb_strides(e)[0] == 12 && nb_strides(e)[1] == 4 && nb_strides(e)[2] == 1);
        cr_assert_eq(((uintptr_t)nb_data(e)) % 64, 0, "64-byte aligned");
        nb_tensor *z = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(dt));
        cr_assert_eq(nb_dtype_of(z), dt);
        assert_values(z, (const double[]){0, 0, 0, 0, 0, 0}, 6, 0, 0);
        assert_values(nb_ones(NB_SHAPE(3), NB_OPTS(dt)), (const double[]){1, 1, 1}, 3, 0, 0);
        double v = dt == NB_BOOL ? 1 : dt == NB_INT64 ? -7 : -7.25;
        assert_values(nb_full(NB_SHAPE(2), -7.25, NB_OPTS(dt)), (const double[]){v, v}, 2, 0, 0);
        nb_tensor *zl = nb_zeros_like(noncontig(nb_ones(NB_SHAPE(3, 2), NB_OPTS(dt))));
        expect_shape(zl, "[3, 2]");
        cr_assert(nb_is_contiguous(zl) && nb_dtype_of(zl) == dt);
        assert_values(zl, (const double[]){0, 0, 0, 0, 0, 0}, 6, 0, 0);
        nb_tensor *ol = nb_ones_like(z);
        expect_shape(ol, "[2, 3]");
        cr_assert_eq(nb_dtype_of(ol), dt);
        assert_values(ol, (const double[]){1, 1, 1, 1, 1, 1}, 6, 0, 0);
    }
    nb_tensor *s = nb_full(0, NULL, 2.5, NB_OPTS(NB_FLOAT64)); /* 0-d */
    cr_assert(nb_ndim(s) == 0 && nb_numel(s) == 1);
    cr_assert_eq(nb_item(s), 2.5);
    nb_tensor *none = nb_zeros(NB_SHAPE(0, 5), NB_OPTS(NB_FLOAT32));
    cr_assert(none && nb_numel(none) == 0);
    cr_assert_null(nb_zeros(NB_SHAPE(2, -1), NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_zeros", "[2, -1]"));
    cr_assert_null(nb_ones(2, NULL, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_ones", "shape"));
    cr_assert_null(nb_empty(NB_SHAPE(2), NB_OPTS((nb_dtype)9)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_empty", "dtype 9"));
    cr_assert_null(nb_zeros_like(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_zeros_like"));
    cr_assert_null(nb_ones_like(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_ones_like"));
}

Test(core, arange, CORE)
{
    assert_close(nb_arange(0, 5, 1, NB_OPTS(NB_FLOAT32)), in("arange_0_5_1_f32"), 0, 0);
    assert_close(nb_arange(0.5, 3.0, 0.25, NB_OPTS(NB_FLOAT64)), in("arange_05_3_025_f64"), 0, 0);
    assert_close(nb_arange(5, 0, -1.5, NB_OPTS(NB_FLOAT32)), in("arange_5_0_m15_f32"), 0, 0);
    assert_close(nb_arange(-3, 3, 0.7, NB_OPTS(NB_FLOAT32)), in("arange_m3_3_07_f32"), 1e-6, 1e-6);
    assert_close(nb_arange(0, 10, 3, NB_OPTS(NB_INT64)), in("arange_0_10_3_i64"), 0, 0);
    assert_close(nb_arange(10, 0, -3, NB_OPTS(NB_INT64)), in("arange_10_0_m3_i64"), 0, 0);
    nb_tensor *e = nb_arange(2, 2, 1, NB_OPTS(NB_FLOAT32));
    expect_shape(e, "[0]");
    cr_assert_null(nb_arange(0, 5, 0, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_arange", "nonzero step"));
    cr_assert_null(nb_arange(0, 5, -1, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_arange", "step -1", "end"));
    cr_assert_null(nb_arange(0, INFINITY, 1, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_arange", "finite"));
    cr_assert_null(nb_arange(0, 5, 1, NB_OPTS(NB_INT64, .requires_grad = true)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_arange", "int64", "floating"));
}

/* Mean and standard deviation of t's values. */
static void moments(const nb_tensor *t, double *mean, double *std, double *lo, double *hi)
{
    int64_t n = nb_numel(t);
    double *v = malloc((size_t)n * sizeof(double)); /* (n,) */
    nb_tensor *d = nb_to_dtype(t, NB_FLOAT64);
    cr_assert(nb_copy_to_array(d, v, (size_t)n * sizeof(double)) == NB_OK);
    nb_release(d);
    double s = 0, s2 = 0;
    *lo = INFINITY, *hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        s += v[i];
        s2 += v[i] * v[i];
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
    free(v);
    *mean = s / (double)n;
    *std = sqrt(s2 / (double)n - *mean * *mean);
}

Test(core, rand_randn, CORE)
{
    for (int k = 0; k < 2; k++) {
        nb_dtype dt = k ? NB_FLOAT64 : NB_FLOAT32;
        nb_manual_seed(42);
        nb_tensor *u = nb_rand(NB_SHAPE(100, 1000), NB_OPTS(dt));
        cr_assert_eq(nb_dtype_of(u), dt);
        double mean, std, lo, hi;
        moments(u, &mean, &std, &lo, &hi);
        cr_assert(lo >= 0 && hi < 1, "rand in [0, 1): got [%g, %g]", lo, hi);
        cr_assert(fabs(mean - 0.5) < 0.01, "rand mean %g", mean);
        cr_assert(fabs(std - sqrt(1.0 / 12)) < 0.01, "rand std %g", std);
        nb_tensor *g = nb_randn(NB_SHAPE(100001), NB_OPTS(dt)); /* odd: the last of a pair */
        moments(g, &mean, &std, &lo, &hi);
        cr_assert(fabs(mean) < 0.02, "randn mean %g", mean);
        cr_assert(fabs(std - 1) < 0.02, "randn std %g", std);
        cr_assert(lo < -3.5 && hi > 3.5, "randn tails: [%g, %g]", lo, hi);
        /* the same seed gives the same values, another seed others */
        nb_manual_seed(42);
        assert_close(nb_rand(NB_SHAPE(100, 1000), NB_OPTS(dt)), u, 0, 0);
        nb_manual_seed(43);
        nb_tensor *u2 = nb_rand(NB_SHAPE(100, 1000), NB_OPTS(dt));
        nb_tensor *same = nb_eq(u, u2);
        moments(same, &mean, &std, &lo, &hi);
        cr_assert(mean < 0.001, "seeds 42 and 43 agree on %g of the values", mean);
    }
    /* with seed 14, element 2017567 has its 24 random bits all set, within 2^-24 of 1: float32
     * (24 bits, not a rounded double) must stay below 1 */
    nb_manual_seed(14);
    double mean, std, lo, hi;
    moments(nb_rand(NB_SHAPE(2017568), NB_OPTS(NB_FLOAT32)), &mean, &std, &lo, &hi);
    cr_assert(hi == 1 - 0x1p-24, "float32 rand's largest value %.9g", hi);
    cr_assert(hi < 1, "float32 rand reached %.9g", hi);
    nb_tensor *r = nb_randn(NB_SHAPE(3), NB_OPTS(NB_FLOAT32, .requires_grad = true));
    cr_assert_not_null(r);
    cr_assert_null(nb_rand(NB_SHAPE(3), NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_rand", "int64", "float32, float64, float16 or bfloat16"));
    cr_assert_null(nb_randn(NB_SHAPE(3), NB_OPTS(NB_BOOL)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_randn", "bool"));
}

Test(core, from_array_round_trip, CORE)
{
    const float f[6] = {1.5f, -2, 3e38f, 1e-45f, INFINITY, -0.0f};
    const double d[6] = {1.0 / 3, -1e-300, 0x1p60, -INFINITY, 0.1, 7};
    const int64_t i[6] = {INT64_MIN, INT64_MAX, 0, -7, 123456789012345, 42};
    const bool b[6] = {true, false, false, true, true, false};
    const void *src[4] = {f, d, i, b};
    static const nb_dtype dtypes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    for (int k = 0; k < 4; k++) {
        nb_tensor *t = nb_from_array(src[k], NB_SHAPE(2, 3), NB_OPTS(dtypes[k]));
        cr_assert_not_null(t, "%s", nb_last_error());
        size_t bytes = 6 * nb_dtype_size(dtypes[k]);
        char back[64];
        memset(back, 0x5a, sizeof back);
        cr_assert_eq(nb_copy_to_array(t, back, bytes), NB_OK);
        cr_assert_eq(memcmp(back, src[k], bytes), 0, "%s values survive", nb_dtype_name(dtypes[k]));
        cr_assert_eq((unsigned char)back[bytes], 0x5a, "nothing written past the end (%s)", nb_dtype_name(dtypes[k]));
        /* too small a destination */
        cr_assert_eq(nb_copy_to_array(t, back, bytes - 1), NB_ERR_ARGUMENT);
        char n[32];
        snprintf(n, sizeof n, "%zu", bytes);
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_copy_to_array", "[2, 3]", nb_dtype_name(dtypes[k]), n));
        /* a transposed view comes out in its own row-major order */
        nb_tensor *tt = nb_t(t);
        cr_assert_eq(nb_copy_to_array(tt, back, bytes), NB_OK);
        size_t es = nb_dtype_size(dtypes[k]);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 2; c++)
                cr_assert_eq(memcmp(back + (r * 2 + c) * es, (const char *)src[k] + (c * 3 + r) * es, es), 0);
    }
    cr_assert_null(nb_from_array(NULL, NB_SHAPE(2), NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_from_array", "data"));
    float one;
    cr_assert_eq(nb_copy_to_array(NULL, &one, sizeof one), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_copy_to_array", "tensor"));
    cr_assert_eq(nb_copy_to_array(nb_zeros(NB_SHAPE(1), NB_OPTS(NB_FLOAT32)), NULL, 4), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_copy_to_array", "dst"));
    cr_assert_null(nb_from_array(f, NB_SHAPE(2), NB_OPTS(NB_INT64, .requires_grad = true)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_from_array", "int64"));
}

Test(core, item, CORE)
{
    cr_assert_eq(nb_item(nb_full(0, NULL, -2.5, NB_OPTS(NB_FLOAT32))), -2.5);
    cr_assert_eq(nb_item(nb_full(NB_SHAPE(1, 1), 1.0 / 3, NB_OPTS(NB_FLOAT64))), 1.0 / 3);
    cr_assert_eq(nb_item(nb_full(NB_SHAPE(1), -9, NB_OPTS(NB_INT64))), -9.0);
    cr_assert_eq(nb_item(nb_full(NB_SHAPE(1), 1, NB_OPTS(NB_BOOL))), 1.0);
    nb_tensor *m = nb_reshape(nb_arange(0, 6, 1, NB_OPTS(NB_FLOAT32)), NB_SHAPE(2, 3));
    cr_assert_eq(nb_item(nb_select(nb_select(m, 1, 2), 0, 1)), 5.0, "item of a view at an offset");
    assert_ok();
    cr_assert(isnan(nb_item(m)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_item", "[2, 3]", "6 elements"));
    cr_assert(isnan(nb_item(nb_zeros(NB_SHAPE(0), NB_OPTS(NB_FLOAT32)))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_item", "[0]"));
    cr_assert(isnan(nb_item(NULL)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_item"));
}

Test(core, to_dtype, CORE)
{
    static const char *const tags[] = {"f32", "f64", "i64", "b8"};
    static const nb_dtype dtypes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    static const char *const inputs[] = {"x_f32", "x_f64", "x_i64", "m_b8"};
    for (int s = 0; s < 4; s++) {
        nb_tensor *src = in(inputs[s]);
        for (int d = 0; d < 4; d++) {
            nb_tensor *got = nb_to_dtype(src, dtypes[d]);
            if (d == s) {
                cr_assert_eq(nb_data(got), nb_data(src), "same dtype: no copy");
                continue;
            }
            char name[32];
            snprintf(name, sizeof name, "cast_%s_%s", tags[s], tags[d]);
            assert_close(got, in(name), 0, 0); /* float -> int64 truncates toward zero */
            /* from a non-contiguous view too */
            assert_close(nb_to_dtype(noncontig(src), dtypes[d]), in(name), 0, 0);
        }
    }
    nb_tensor *f = nb_from_array((const double[]){-1.9, -0.5, 0.5, 2.99, 0, -0.0}, NB_SHAPE(6), NB_OPTS(NB_FLOAT64));
    assert_values(nb_to_dtype(f, NB_INT64), (const double[]){-1, 0, 0, 2, 0, 0}, 6, 0, 0);
    assert_values(nb_to_dtype(f, NB_BOOL), (const double[]){1, 1, 1, 1, 0, 0}, 6, 0, 0);
    cr_assert_null(nb_to_dtype(f, (nb_dtype)7));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_to_dtype", "7"));
    cr_assert_null(nb_to_dtype(NULL, NB_FLOAT32));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_to_dtype"));
}

Test(core, requires_grad_dtypes, CORE)
{
    nb_tensor *w = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32, .requires_grad = true));
    cr_assert_not_null(w, "%s", nb_last_error());
    cr_assert_not_null(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT64, .requires_grad = true)));
    cr_assert_null(nb_zeros(NB_SHAPE(2), NB_OPTS(NB_INT64, .requires_grad = true)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_zeros", "floating", "int64"));
    cr_assert_null(nb_empty(NB_SHAPE(2), NB_OPTS(NB_BOOL, .requires_grad = true)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_empty", "bool"));
    cr_assert_null(nb_full(NB_SHAPE(2), 1, NB_OPTS(NB_INT64, .requires_grad = true)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_full", "int64"));
}

/* ---------------------------------------------------------------- inspection */

Test(core, inspection, CORE)
{
    nb_tensor *t = nb_zeros(NB_SHAPE(2, 3, 4), NB_OPTS(NB_FLOAT64));
    cr_assert_eq(nb_ndim(t), 3);
    cr_assert_eq(nb_numel(t), 24);
    cr_assert_eq(nb_size(t, -1), 4);
    cr_assert_eq(nb_size(t, 0), 2);
    cr_assert_eq(nb_size(t, 3), -1);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_size", "dim 3", "3-d"));
    cr_assert_eq(nb_device_of(t).type, NB_CPU);
    cr_assert_str_eq(nb_dtype_name(NB_FLOAT32), "float32");
    cr_assert_str_eq(nb_dtype_name(NB_FLOAT64), "float64");
    cr_assert_str_eq(nb_dtype_name(NB_INT64), "int64");
    cr_assert_str_eq(nb_dtype_name(NB_BOOL), "bool");
    cr_assert(nb_dtype_size(NB_FLOAT32) == 4 && nb_dtype_size(NB_FLOAT64) == 8 && nb_dtype_size(NB_INT64) == 8 &&
              nb_dtype_size(NB_BOOL) == 1);
    char buf[8];
    nb_shape_string(t, buf, sizeof buf); /* "[2, 3, 4]" cut to fit */
    cr_assert_eq(strlen(buf), 7);
    cr_assert_eq(strncmp(buf, "[2, 3, ", 7), 0);
    char s0[8];
    cr_assert_str_eq(nb_shape_string(nb_full(0, NULL, 1, NB_OPTS(NB_FLOAT32)), s0, sizeof s0), "[]");
    cr_assert_eq(nb_ndim(NULL), -1);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_ndim"));
    cr_assert_eq(nb_numel(NULL), -1);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_numel"));
    cr_assert_null(nb_data(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_data"));
}

/* ---------------------------------------------------------------- errors */

Test(core, null_inputs_name_the_op, CORE)
{
    static const struct { const char *op; nb_tensor *(*fn)(const nb_tensor *); } ops[] = {
        {"nb_neg", nb_neg}, {"nb_flatten", nb_flatten}, {"nb_contiguous", nb_contiguous},
        {"nb_clone", nb_clone}, {"nb_squeeze", nb_squeeze}, {"nb_t", nb_t}, {"nb_relu", nb_relu}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        cr_assert_null(ops[i].fn(NULL));
        assert_error(NB_ERR_NULL, ERR_PARTS(ops[i].op, "NULL"));
    }
}

Test(core, first_error_is_kept, CORE)
{
    nb_tensor *a = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_add(a, b));                 /* the first error */
    cr_assert_null(nb_reshape(a, NB_SHAPE(7)));   /* a second, different one */
    cr_assert_null(nb_select(a, 5, 0));           /* and a third */
    cr_assert_eq(nb_last_status(), NB_ERR_SHAPE);
    cr_assert(strstr(nb_last_error(), "nb_add") != NULL, "kept: %s", nb_last_error());
    cr_assert(strstr(nb_last_error(), "nb_reshape") == NULL);
    nb_clear_error();
    cr_assert_eq(nb_last_status(), NB_OK);
    cr_assert_str_eq(nb_last_error(), "");
    cr_assert_null(nb_select(a, 5, 0)); /* after clearing, a new error is recorded */
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_select", "dim 5"));
    /* a success does not clear a pending error */
    cr_assert_null(nb_exp(NULL));
    cr_assert_not_null(nb_exp(a));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_exp"));
}

Test(core, null_propagates_through_a_chain, CORE)
{
    nb_tensor *x = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *bad = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    /* the seed's style: the whole expression is checked once at its end */
    nb_tensor *r = nb_mul_scalar(nb_add(nb_exp(nb_add(x, bad)), x), 2.0);
    cr_assert_null(r);
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_add", "[3]", "[2]"));
    r = nb_add(nb_add(nb_add(NULL, x), x), nb_reshape(x, NB_SHAPE(3, 1)));
    cr_assert_null(r);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_add", "input 1"));
    r = nb_add(nb_add(nb_add(x, x), x), x);
    assert_values(r, (const double[]){4, 4, 4}, 3, 0, 0);
    assert_ok();
}

Test(core, status_names, CORE)
{
    static const struct { nb_status s; const char *name; } names[] = {
        {NB_OK, "NB_OK"},
        {NB_ERR_NULL, "NB_ERR_NULL"},
        {NB_ERR_ARGUMENT, "NB_ERR_ARGUMENT"},
        {NB_ERR_SHAPE, "NB_ERR_SHAPE"},
        {NB_ERR_DTYPE, "NB_ERR_DTYPE"},
        {NB_ERR_DEVICE, "NB_ERR_DEVICE"},
        {NB_ERR_MEMORY, "NB_ERR_MEMORY"},
        {NB_ERR_IO, "NB_ERR_IO"},
        {NB_ERR_AUTOGRAD, "NB_ERR_AUTOGRAD"},
        {NB_ERR_UNSUPPORTED, "NB_ERR_UNSUPPORTED"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_str_eq(nb_status_name(names[i].s), names[i].name);
    cr_assert_str_eq(nb_status_name((nb_status)99), "NB_ERR_UNKNOWN");
}

/* ---------------------------------------------------------------- library */

Test(core, version_and_config)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", NB_VERSION_MAJOR, NB_VERSION_MINOR, NB_VERSION_PATCH);
    cr_assert_str_eq(nb_version_string(), want);
    const char *cfg = nb_config_string();
    cr_assert_not_null(cfg);
    cr_assert(strstr(cfg, "BLIS") != NULL, "config mentions BLIS: %s", cfg);
    cr_assert(strstr(cfg, want) != NULL, "config has the version: %s", cfg);
    cr_assert(strchr(cfg, '\n') == NULL, "config is one line: %s", cfg);
    cr_assert_geq(nb_get_num_threads(), 1);
}
