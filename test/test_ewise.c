/* test_ewise.c — elementwise ops against PyTorch (golden/ewise, made by golden/gen_ewise.py):
 * values per op and dtype, broadcasting, non-contiguous inputs, dtype promotion and errors. */
#include "helpers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every test runs inside a scope, so the goldens and results it makes are released at its end. */
static void open_scope(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void close_scope(void) { nb_scope_end(); }
#define EW .init = open_scope, .fini = close_scope

static nb_tensor *in(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "ewise/%s", name);
    return golden(path);
}

/* Tolerance by dtype: float32 rtol 1e-6, float64 rtol 1e-12 (each with a small atol); exact for
 * int64 and bool. */
static void tolerance(nb_dtype dt, double *rtol, double *atol)
{
    *rtol = dt == NB_FLOAT32 ? 1e-6 : dt == NB_FLOAT64 ? 1e-12 : 0;
    *atol = dt == NB_FLOAT32 ? 1e-7 : dt == NB_FLOAT64 ? 1e-14 : 0;
}

/* got against want: shape, dtype and every value (NaN matches NaN), failures naming label. */
static void expect_tensor(const nb_tensor *got, const nb_tensor *want, const char *label)
{
    cr_assert(got != NULL, "%s: result is NULL: %s", label, nb_last_error());
    char gs[96], ws[96];
    cr_assert_str_eq(nb_shape_string(got, gs, sizeof gs), nb_shape_string(want, ws, sizeof ws),
                     "%s: shape %s, expected %s", label, gs, ws);
    cr_assert_eq(nb_dtype_of(got), nb_dtype_of(want), "%s: dtype %s, expected %s", label,
                 nb_dtype_name(nb_dtype_of(got)), nb_dtype_name(nb_dtype_of(want)));
    int64_t n = nb_numel(want);
    double *g = malloc((size_t)(n ? n : 1) * sizeof(double)); /* (n,) */
    double *w = malloc((size_t)(n ? n : 1) * sizeof(double)); /* (n,) */
    nb_tensor *g64 = nb_to_dtype(got, NB_FLOAT64), *w64 = nb_to_dtype(want, NB_FLOAT64);
    cr_assert(nb_copy_to_array(g64, g, (size_t)n * sizeof(double)) == NB_OK, "%s", nb_last_error());
    cr_assert(nb_copy_to_array(w64, w, (size_t)n * sizeof(double)) == NB_OK, "%s", nb_last_error());
    nb_release(g64);
    nb_release(w64);
    double rtol, atol;
    tolerance(nb_dtype_of(want), &rtol, &atol);
    for (int64_t i = 0; i < n; i++) {
        bool ok = (isnan(g[i]) && isnan(w[i])) || g[i] == w[i] || fabs(g[i] - w[i]) <= atol + rtol * fabs(w[i]);
        if (!ok) {
            double gi = g[i], wi = w[i];
            free(g);
            free(w);
            cr_assert_fail("%s: element %lld is %.17g, expected %.17g", label, (long long)i, gi, wi);
        }
    }
    free(g);
    free(w);
    assert_ok();
}

/* got against golden/ewise/NAME.npy, NAME printf-style. */
__attribute__((format(printf, 2, 3))) static void expect_golden(const nb_tensor *got, const char *fmt, ...)
{
    char name[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    expect_tensor(got, in(name), name);
}

typedef nb_tensor *(*unary_fn)(const nb_tensor *);
typedef nb_tensor *(*binary_fn)(const nb_tensor *, const nb_tensor *);
typedef nb_tensor *(*scalar_fn)(const nb_tensor *, double);

static const struct { const char *name; binary_fn fn; } binary_ops[] = {
    {"add", nb_add}, {"sub", nb_sub}, {"mul", nb_mul}, {"div", nb_div},
    {"lt", nb_lt},   {"le", nb_le},   {"gt", nb_gt},   {"ge", nb_ge}, {"eq", nb_eq}, {"ne", nb_ne},
};
#define NBINARY (sizeof binary_ops / sizeof binary_ops[0])

static const struct { const char *name; scalar_fn fn; } compare_scalar_ops[] = {
    {"lt", nb_lt_scalar}, {"le", nb_le_scalar}, {"gt", nb_gt_scalar},
    {"ge", nb_ge_scalar}, {"eq", nb_eq_scalar}, {"ne", nb_ne_scalar},
};
#define NCOMPARE (sizeof compare_scalar_ops / sizeof compare_scalar_ops[0])

static const char *const float_tags[] = {"f32", "f64"};

/* ---------------------------------------------------------------- values, float32 and float64 */

Test(ewise, binary_float, EW)
{
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        char xn[16], yn[16];
        snprintf(xn, sizeof xn, "x_%s", dt);
        snprintf(yn, sizeof yn, "y_%s", dt);
        nb_tensor *x = in(xn), *y = in(yn);
        for (size_t i = 0; i < NBINARY; i++) expect_golden(binary_ops[i].fn(x, y), "%s_%s", binary_ops[i].name, dt);
    }
}

Test(ewise, unary_float, EW)
{
    static const struct { const char *name; unary_fn fn; const char *input; } ops[] = {
        {"neg", nb_neg, "x"},   {"exp", nb_exp, "x"},         {"log", nb_log, "pos"},
        {"sqrt", nb_sqrt, "pos"}, {"abs", nb_abs, "x"},       {"relu", nb_relu, "x"},
        {"sigmoid", nb_sigmoid, "x"}, {"tanh", nb_tanh, "x"},
    };
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%s", ops[i].input, float_tags[k]);
            expect_golden(ops[i].fn(in(name)), "%s_%s", ops[i].name, float_tags[k]);
        }
    }
}

Test(ewise, pow_float, EW)
{
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        char n[4][16];
        snprintf(n[0], 16, "x_%s", dt);
        snprintf(n[1], 16, "pos_%s", dt);
        snprintf(n[2], 16, "e_%s", dt);
        nb_tensor *x = in(n[0]), *pos = in(n[1]), *e = in(n[2]);
        expect_golden(nb_pow(pos, e), "pow_%s", dt);
        expect_golden(nb_pow_scalar(x, 2), "pow2_%s", dt);
        expect_golden(nb_pow_scalar(x, 0.5), "pow05_%s", dt);
        expect_golden(nb_pow_scalar(x, 3), "pow3_%s", dt);
        expect_golden(nb_pow_scalar(x, -1), "powm1_%s", dt);
        expect_golden(nb_pow_scalar(pos, 0.5), "pow05pos_%s", dt);
        expect_golden(nb_pow_scalar(pos, 1.5), "pow15pos_%s", dt);
    }
}

Test(ewise, clamp_float, EW)
{
    for (int k = 0; k < 2; k++) {
        char xn[16];
        snprintf(xn, sizeof xn, "x_%s", float_tags[k]);
        nb_tensor *x = in(xn);
        expect_golden(nb_clamp(x, -1.0, 1.5), "clamp_%s", float_tags[k]);
        expect_golden(nb_clamp_min(x, 0.25), "clamp_min_%s", float_tags[k]);
        expect_golden(nb_clamp_max(x, -0.5), "clamp_max_%s", float_tags[k]);
        expect_golden(nb_clamp(x, 1.0, -1.0), "clamp_inverted_%s", float_tags[k]); /* min > max */
    }
}

Test(ewise, scalar_forms_float, EW)
{
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        char xn[16];
        snprintf(xn, sizeof xn, "x_%s", dt);
        nb_tensor *x = in(xn);
        expect_golden(nb_add_scalar(x, 1.5), "add_scalar_%s", dt);
        expect_golden(nb_sub_scalar(x, 0.75), "sub_scalar_%s", dt);
        expect_golden(nb_rsub_scalar(x, 2.0), "rsub_scalar_%s", dt);
        expect_golden(nb_mul_scalar(x, -2.5), "mul_scalar_%s", dt);
        expect_golden(nb_div_scalar(x, 3.0), "div_scalar_%s", dt);
        for (size_t i = 0; i < NCOMPARE; i++)
            expect_golden(compare_scalar_ops[i].fn(x, 0.5), "%s_scalar_%s", compare_scalar_ops[i].name, dt);
    }
}

Test(ewise, where_and_masked_fill_float, EW)
{
    nb_tensor *m = in("m_b8");
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        char xn[16], yn[16];
        snprintf(xn, sizeof xn, "x_%s", dt);
        snprintf(yn, sizeof yn, "y_%s", dt);
        nb_tensor *x = in(xn), *y = in(yn);
        expect_golden(nb_where(m, x, y), "where_%s", dt);
        expect_golden(nb_masked_fill(x, m, -7.5), "masked_fill_%s", dt);
    }
}

Test(ewise, special_values, EW)
{
    static const struct { const char *name; unary_fn fn; } ops[] = {
        {"exp", nb_exp}, {"log", nb_log}, {"sqrt", nb_sqrt}, {"abs", nb_abs},
        {"relu", nb_relu}, {"sigmoid", nb_sigmoid}, {"tanh", nb_tanh}, {"neg", nb_neg},
    };
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        char sn[24];
        snprintf(sn, sizeof sn, "special_%s", dt);
        nb_tensor *s = in(sn); /* NaN, inf, -inf, 0, -0, 1, -1, 100, -100 */
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            expect_golden(ops[i].fn(s), "special_%s_%s", ops[i].name, dt);
        expect_golden(nb_clamp(s, -1, 1), "special_clamp_%s", dt); /* NaN stays NaN */
        expect_golden(nb_clamp(s, 1, -1), "special_clamp_inverted_%s", dt);
        expect_golden(nb_lt_scalar(s, 0), "special_lt_%s", dt);
        expect_golden(nb_ne(s, s), "special_ne_%s", dt); /* NaN != NaN */
    }
}

/* ---------------------------------------------------------------- int64 */

Test(ewise, binary_int64, EW)
{
    nb_tensor *x = in("x_i64"), *y = in("y_i64");
    for (size_t i = 0; i < NBINARY; i++) expect_golden(binary_ops[i].fn(x, y), "%s_i64", binary_ops[i].name);
    nb_tensor *q = nb_div(x, y);
    cr_assert_eq(nb_dtype_of(q), NB_FLOAT32, "int64 / int64 gives float32");
}

Test(ewise, unary_int64, EW)
{
    nb_tensor *x = in("x_i64");
    expect_golden(nb_neg(x), "neg_i64");
    expect_golden(nb_abs(x), "abs_i64");
    expect_golden(nb_relu(x), "relu_i64");
    expect_golden(nb_exp(x), "exp_i64");         /* float32 */
    expect_golden(nb_sqrt(x), "sqrt_i64");       /* float32, NaN for negatives */
    expect_golden(nb_sigmoid(x), "sigmoid_i64"); /* float32 */
    expect_golden(nb_tanh(x), "tanh_i64");       /* float32 */
}

Test(ewise, pow_int64, EW)
{
    nb_tensor *x = in("x_i64");
    expect_golden(nb_pow(x, in("e_i64")), "pow_i64"); /* tensor exponents below 0 give 0 or +-1 */
    expect_golden(nb_pow_scalar(x, 2), "pow2_i64");
    expect_golden(nb_pow_scalar(x, 3), "pow3_i64");
    expect_golden(nb_pow_scalar(x, 0.5), "pow05_i64"); /* float32 */
    cr_assert_null(nb_pow_scalar(x, -1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_pow_scalar", "negative", "-1"));
    cr_assert_null(nb_pow_scalar(x, -2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_pow_scalar", "-2"));
}

Test(ewise, clamp_int64, EW)
{
    nb_tensor *x = in("x_i64");
    expect_golden(nb_clamp(x, -2, 3), "clamp_i64");
    expect_golden(nb_clamp_min(x, 0), "clamp_min_i64");
    expect_golden(nb_clamp_max(x, 1), "clamp_max_i64");
    expect_golden(nb_clamp(x, 3, -2), "clamp_inverted_i64");
    expect_golden(nb_clamp(x, -2.5, 3), "clampf_i64");     /* a fractional bound gives float32 */
    expect_golden(nb_clamp_min(x, 0.5), "clamp_minf_i64");
    expect_golden(nb_clamp_max(x, 1.5), "clamp_maxf_i64");
}

Test(ewise, scalar_forms_int64, EW)
{
    nb_tensor *x = in("x_i64");
    expect_golden(nb_add_scalar(x, 3), "add_scalar_i64");
    expect_golden(nb_add_scalar(x, 0.5), "add_scalarf_i64"); /* float32 */
    expect_golden(nb_sub_scalar(x, 2), "sub_scalar_i64");
    expect_golden(nb_rsub_scalar(x, 2), "rsub_scalar_i64");
    expect_golden(nb_mul_scalar(x, 2), "mul_scalar_i64");
    expect_golden(nb_mul_scalar(x, 0.5), "mul_scalarf_i64"); /* float32 */
    expect_golden(nb_div_scalar(x, 2), "div_scalar_i64");    /* float32 */
    for (size_t i = 0; i < NCOMPARE; i++) {
        expect_golden(compare_scalar_ops[i].fn(x, 2), "%s_scalar_i64", compare_scalar_ops[i].name);
        expect_golden(compare_scalar_ops[i].fn(x, 2.5), "%s_scalarf_i64", compare_scalar_ops[i].name);
    }
}

Test(ewise, where_and_masked_fill_int64, EW)
{
    nb_tensor *m = in("m_b8"), *x = in("x_i64");
    expect_golden(nb_where(m, x, in("y_i64")), "where_i64");
    expect_golden(nb_where(m, x, in("x_f32")), "where_mixed"); /* int64 and float32 give float32 */
    expect_golden(nb_masked_fill(x, m, 9), "masked_fill_i64");
    expect_golden(nb_masked_fill(x, m, 0.5), "masked_fillf_i64"); /* keeps int64, as PyTorch */
}

/* ---------------------------------------------------------------- bool */

Test(ewise, bool_ops, EW)
{
    nb_tensor *m = in("m_b8"), *b2 = in("b2_b8");
    for (size_t i = 4; i < NBINARY; i++) /* the comparisons */
        expect_golden(binary_ops[i].fn(m, b2), "%s_b8", binary_ops[i].name);
    for (size_t i = 0; i < NCOMPARE; i++)
        expect_golden(compare_scalar_ops[i].fn(m, 0.5), "%s_scalar_b8", compare_scalar_ops[i].name);
    nb_tensor *not_b2 = nb_eq_scalar(b2, 0);
    expect_golden(nb_where(m, b2, not_b2), "where_b8");
    expect_golden(nb_masked_fill(b2, m, 1), "masked_fill_b8");
}

/* ---------------------------------------------------------------- broadcasting */

Test(ewise, broadcast_shapes, EW)
{
    static const struct { const char *name; binary_fn fn; } ops[] = {
        {"add", nb_add}, {"sub", nb_sub}, {"mul", nb_mul}, {"div", nb_div}};
    nb_tensor *a31 = in("a31"), *b14 = in("b14"), *c234 = in("c234"), *r4 = in("r4");
    nb_tensor *s0 = in("s0"), *x = in("x_f32");
    cr_assert_eq(nb_ndim(s0), 0);
    for (size_t i = 0; i < 4; i++) {
        expect_golden(ops[i].fn(a31, b14), "%s_31_14", ops[i].name);   /* (3,1) with (1,4) */
        expect_golden(ops[i].fn(c234, r4), "%s_234_4", ops[i].name);   /* (2,3,4) with (4,) */
        expect_golden(ops[i].fn(s0, x), "%s_0_34", ops[i].name);       /* 0-d with (3,4) */
        expect_golden(ops[i].fn(x, s0), "%s_34_0", ops[i].name);
    }
    expect_golden(nb_add(s0, s0), "add_0_0"); /* 0-d with 0-d stays 0-d */
    nb_tensor *empty = nb_add(nb_zeros(NB_SHAPE(0, 4), NB_OPTS(NB_FLOAT32)), r4); /* (0, 4) with (4,) */
    cr_assert(empty && nb_ndim(empty) == 2 && nb_size(empty, 0) == 0 && nb_size(empty, 1) == 4);
    cr_assert_eq(nb_numel(nb_exp(empty)), 0);
    expect_golden(nb_lt(a31, b14), "lt_31_14");
    nb_tensor *r4abs = nb_abs(r4);
    expect_golden(nb_pow(r4abs, s0), "pow_4_0");
    expect_golden(nb_where(in("mrow_b8"), x, s0), "where_bcast"); /* (4,), (3,4), () */
    expect_golden(nb_masked_fill(x, in("mrow_b8"), 2.0), "masked_fill_bcast");
}

Test(ewise, broadcast_errors, EW)
{
    nb_tensor *a = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_add(a, b));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_add", "[2, 3]", "[4]", "broadcast"));
    nb_tensor *c = nb_zeros(NB_SHAPE(3, 1, 5), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_mul(c, a)); /* 5 vs 3 in the last dim */
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_mul", "[3, 1, 5]", "[2, 3]"));
    nb_tensor *m = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_BOOL));
    cr_assert_null(nb_where(m, a, a));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_where", "[2]", "[2, 3]"));
    cr_assert_null(nb_masked_fill(a, m, 1));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_masked_fill", "[2, 3]", "[2]"));
}

/* ---------------------------------------------------------------- non-contiguous inputs */

Test(ewise, noncontiguous_transposed, EW)
{
    static const struct { const char *name; unary_fn fn; } unary_ops[] = {
        {"neg", nb_neg}, {"exp", nb_exp}, {"abs", nb_abs}, {"relu", nb_relu},
        {"sigmoid", nb_sigmoid}, {"tanh", nb_tanh}};
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        char xn[16], yn[16], pn[16];
        snprintf(xn, sizeof xn, "x_%s", dt);
        snprintf(yn, sizeof yn, "y_%s", dt);
        snprintf(pn, sizeof pn, "pos_%s", dt);
        nb_tensor *x = in(xn), *y = in(yn), *xs = noncontig(x), *ys = noncontig(y);
        cr_assert(!nb_is_contiguous(xs) && !nb_is_contiguous(ys));
        for (size_t i = 0; i < sizeof unary_ops / sizeof unary_ops[0]; i++)
            expect_golden(unary_ops[i].fn(xs), "%s_%s", unary_ops[i].name, dt);
        expect_golden(nb_log(noncontig(in(pn))), "log_%s", dt);
        for (size_t i = 0; i < NBINARY; i++) {
            expect_golden(binary_ops[i].fn(xs, y), "%s_%s", binary_ops[i].name, dt);
            expect_golden(binary_ops[i].fn(x, ys), "%s_%s", binary_ops[i].name, dt);
            expect_golden(binary_ops[i].fn(xs, ys), "%s_%s", binary_ops[i].name, dt);
        }
        expect_golden(nb_clamp(xs, -1.0, 1.5), "clamp_%s", dt);
        expect_golden(nb_mul_scalar(xs, -2.5), "mul_scalar_%s", dt);
        expect_golden(nb_pow_scalar(xs, 3), "pow3_%s", dt);
        expect_golden(nb_lt_scalar(xs, 0.5), "lt_scalar_%s", dt);
        nb_tensor *m = in("m_b8");
        expect_golden(nb_where(noncontig(m), xs, ys), "where_%s", dt);
        expect_golden(nb_masked_fill(xs, noncontig(m), -7.5), "masked_fill_%s", dt);
    }
    nb_tensor *xi = noncontig(in("x_i64"));
    expect_golden(nb_add(xi, in("y_i64")), "add_i64");
    expect_golden(nb_abs(xi), "abs_i64");
}

Test(ewise, noncontiguous_narrowed, EW)
{
    nb_tensor *x = in("x_f32"), *y = in("y_f32");
    nb_tensor *xn = nb_narrow(x, 1, 1, 2), *yn = nb_narrow(y, 1, 1, 2); /* (3, 2), strides (4, 1) */
    cr_assert(!nb_is_contiguous(xn));
    expect_tensor(nb_exp(xn), nb_narrow(in("exp_f32"), 1, 1, 2), "exp of x[:, 1:3]");
    expect_tensor(nb_sub(xn, yn), nb_narrow(in("sub_f32"), 1, 1, 2), "x[:, 1:3] - y[:, 1:3]");
    expect_tensor(nb_ge(xn, yn), nb_narrow(in("ge_f32"), 1, 1, 2), "x[:, 1:3] >= y[:, 1:3]");
    nb_tensor *rows = nb_narrow(x, 0, 1, 2); /* contiguous rows 1..2 at an offset */
    expect_tensor(nb_tanh(rows), nb_narrow(in("tanh_f32"), 0, 1, 2), "tanh of x[1:3]");
    nb_tensor *col = nb_select(x, 1, 2); /* (3,), stride 4 */
    expect_tensor(nb_neg(col), nb_select(in("neg_f32"), 1, 2), "neg of x[:, 2]");
}

Test(ewise, noncontiguous_expanded, EW)
{
    nb_tensor *x = in("x_f32"), *r4 = in("r4");
    nb_tensor *re = nb_expand(r4, NB_SHAPE(3, 4)); /* strides (0, 1) */
    expect_golden(nb_add(x, re), "add_34_4");
    expect_golden(nb_add(noncontig(x), re), "add_34_4");
    nb_tensor *row = nb_select(x, 0, 1); /* x[1, :] */
    nb_tensor *rowe = nb_expand(nb_unsqueeze(row, 0), NB_SHAPE(3, -1));
    expect_tensor(nb_exp(rowe), nb_expand(nb_unsqueeze(nb_select(in("exp_f32"), 0, 1), 0), NB_SHAPE(3, 4)),
                  "exp of x[1] expanded to (3, 4)");
    nb_tensor *s0 = in("s0");
    nb_tensor *se = nb_expand(s0, NB_SHAPE(3, 4)); /* every stride 0 */
    expect_golden(nb_mul(se, x), "mul_0_34");
    nb_tensor *cole = nb_expand(in("a31"), NB_SHAPE(3, 4));
    expect_golden(nb_div(cole, nb_expand(in("b14"), NB_SHAPE(3, 4))), "div_31_14");
}

Test(ewise, noncontiguous_3d_permuted, EW)
{
    nb_tensor *c = in("c234");
    /* c's values with strides of a (4, 2, 3) buffer */
    nb_tensor *p = nb_permute(nb_contiguous(nb_permute(c, NB_DIMS(2, 0, 1))), NB_DIMS(1, 2, 0));
    cr_assert(!nb_is_contiguous(p));
    expect_golden(nb_add(p, in("r4")), "add_234_4");
    expect_golden(nb_mul(in("r4"), p), "mul_234_4");
}

Test(ewise, large_strided_multithreaded, EW)
{
    /* (701, 599) transposed: large enough to split across threads; with 3 threads the split
     * falls inside rows, so each thread starts mid-row */
    const int64_t R = 599, C = 701;
    nb_tensor *a = nb_reshape(nb_arange(0, (double)(R * C), 1, NB_OPTS(NB_FLOAT32)), NB_SHAPE(C, R));
    nb_tensor *b = nb_ones(NB_SHAPE(R, C), NB_OPTS(NB_FLOAT32));
    for (int threads = 1; threads <= 3; threads++) {
        nb_set_num_threads(threads);
        nb_tensor *out = nb_add(nb_t(a), b); /* (R, C): out[i, j] = a[j, i] + 1 */
        cr_assert_not_null(out, "%s", nb_last_error());
        cr_assert(nb_is_contiguous(out));
        const float *o = nb_data(out);
        for (int64_t i = 0; i < R; i++)
            for (int64_t j = 0; j < C; j++)
                if (o[i * C + j] != (float)(j * R + i + 1))
                    cr_assert_fail("%d threads: out[%lld, %lld] = %g, expected %lld", threads, (long long)i,
                                   (long long)j, o[i * C + j], (long long)(j * R + i + 1));
        nb_tensor *e = nb_sqrt(nb_expand(nb_full(NB_SHAPE(1, C), 4.0, NB_OPTS(NB_FLOAT64)), NB_SHAPE(R, C)));
        const double *ev = nb_data(e);
        for (int64_t i = 0; i < R * C; i++)
            if (ev[i] != 2.0) cr_assert_fail("%d threads: sqrt(4) at %lld is %g", threads, (long long)i, ev[i]);
    }
    nb_set_num_threads(0);
}

/* ---------------------------------------------------------------- dtype promotion */

Test(ewise, promotion, EW)
{
    expect_golden(nb_add(in("x_f32"), in("y_f64")), "promote_f32_f64"); /* float64 */
    expect_golden(nb_add(in("x_i64"), in("y_f32")), "promote_i64_f32"); /* float32 */
    expect_golden(nb_add(in("m_b8"), in("y_i64")), "promote_b8_i64");   /* int64 */
    expect_golden(nb_mul(in("m_b8"), in("x_f64")), "promote_b8_f64");   /* float64 */
    expect_golden(nb_div(in("x_i64"), in("y_i64")), "promote_div_i64"); /* float32 */
    expect_golden(nb_lt(in("x_i64"), in("y_f32")), "promote_lt_i64_f32");
    /* the same with the operands swapped */
    nb_tensor *r = nb_add(in("y_f64"), in("x_f32"));
    cr_assert_eq(nb_dtype_of(r), NB_FLOAT64);
    r = nb_add(in("y_f32"), in("x_i64"));
    cr_assert_eq(nb_dtype_of(r), NB_FLOAT32);
    expect_golden(nb_add(in("y_i64"), in("m_b8")), "promote_b8_i64");
}

/* ---------------------------------------------------------------- errors */

Test(ewise, dtype_errors, EW)
{
    nb_tensor *x = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *mi = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_INT64));
    nb_tensor *b = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_BOOL));
    cr_assert_null(nb_where(x, x, x));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_where", "condition", "bool", "float32"));
    cr_assert_null(nb_masked_fill(x, mi, 1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_masked_fill", "mask", "bool", "int64"));
    cr_assert_null(nb_neg(b));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_neg", "bool"));
    cr_assert_null(nb_clamp(x, NAN, 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_clamp", "NaN"));
    cr_assert_null(nb_clamp_min(x, NAN));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_clamp_min", "NaN"));
    cr_assert_null(nb_clamp_max(x, NAN));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_clamp_max", "NaN"));
}

Test(ewise, null_inputs, EW)
{
    nb_tensor *x = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_add(NULL, x));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_add", "NULL"));
    cr_assert_null(nb_sub(x, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_sub", "NULL"));
    cr_assert_null(nb_exp(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_exp"));
    cr_assert_null(nb_pow_scalar(NULL, 2));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_pow_scalar"));
    cr_assert_null(nb_pow_scalar(NULL, -1));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_pow_scalar"));
    cr_assert_null(nb_lt_scalar(NULL, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_lt_scalar"));
    cr_assert_null(nb_where(NULL, x, x));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_where"));
    cr_assert_null(nb_masked_fill(x, NULL, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_masked_fill"));
    cr_assert_null(nb_clamp(NULL, 0, 1));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_clamp"));
}

Test(ewise, int64_overflow_wraps, EW)
{
    /* PyTorch's int64 arithmetic wraps around (two's complement) */
    const int64_t big[4] = {INT64_MAX, INT64_MIN, INT64_MIN, (int64_t)1 << 62};
    nb_tensor *x = nb_from_array(big, NB_SHAPE(4), NB_OPTS(NB_INT64));
    nb_tensor *one = nb_full(NB_SHAPE(4), 1, NB_OPTS(NB_INT64));
    int64_t v[4];
    nb_copy_to_array(nb_add(x, one), v, sizeof v);
    cr_assert(v[0] == INT64_MIN && v[1] == INT64_MIN + 1 && v[3] == ((int64_t)1 << 62) + 1);
    nb_copy_to_array(nb_sub(x, one), v, sizeof v);
    cr_assert(v[0] == INT64_MAX - 1 && v[1] == INT64_MAX);
    nb_copy_to_array(nb_mul_scalar(x, 4), v, sizeof v);
    cr_assert(v[0] == -4 && v[1] == 0 && v[3] == 0);
    nb_copy_to_array(nb_mul(x, x), v, sizeof v);
    cr_assert(v[0] == 1 && v[1] == 0 && v[3] == 0);
    nb_copy_to_array(nb_pow_scalar(x, 2), v, sizeof v);
    cr_assert(v[0] == 1 && v[3] == 0);
    nb_copy_to_array(nb_neg(x), v, sizeof v);
    cr_assert(v[0] == -INT64_MAX && v[1] == INT64_MIN);
    nb_copy_to_array(nb_abs(x), v, sizeof v);
    cr_assert(v[0] == INT64_MAX && v[1] == INT64_MIN);
    nb_copy_to_array(nb_add_scalar(x, -1), v, sizeof v);
    cr_assert(v[1] == INT64_MAX);
    nb_copy_to_array(nb_rsub_scalar(x, -2), v, sizeof v);
    cr_assert(v[0] == INT64_MAX); /* -2 - INT64_MAX */
    nb_tensor *w = nb_clone(x);
    nb_sub_scaled_(w, one, 1);
    nb_copy_to_array(w, v, sizeof v);
    cr_assert(v[1] == INT64_MAX);
    assert_ok();
}

/* ---------------------------------------------------------------- maximum and minimum */

Test(ewise, maximum_minimum_values, EW)
{
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        char xn[16], yn[16], sn[24], s2n[24];
        snprintf(xn, sizeof xn, "x_%s", dt);
        snprintf(yn, sizeof yn, "y_%s", dt);
        nb_tensor *x = in(xn), *y = in(yn);
        expect_golden(nb_maximum(x, y), "maximum_%s", dt);
        expect_golden(nb_minimum(x, y), "minimum_%s", dt);
        expect_golden(nb_maximum(noncontig(x), noncontig(y)), "maximum_%s", dt); /* strided inputs */
        expect_golden(nb_minimum(x, noncontig(y)), "minimum_%s", dt);
        snprintf(sn, sizeof sn, "special_%s", dt);
        snprintf(s2n, sizeof s2n, "special2_%s", dt);
        expect_golden(nb_maximum(in(sn), in(s2n)), "special_maximum_%s", dt); /* NaN and inf */
        expect_golden(nb_minimum(in(sn), in(s2n)), "special_minimum_%s", dt);
    }
    expect_golden(nb_maximum(in("x_i64"), in("y_i64")), "maximum_i64");
    expect_golden(nb_minimum(in("x_i64"), in("y_i64")), "minimum_i64");
    expect_golden(nb_maximum(in("m_b8"), in("b2_b8")), "maximum_b8");
    expect_golden(nb_minimum(in("m_b8"), in("b2_b8")), "minimum_b8");
    expect_golden(nb_maximum(in("a31"), in("b14")), "maximum_31_14");    /* (3,1) with (1,4) */
    expect_golden(nb_minimum(in("c234"), in("r4")), "minimum_234_4");    /* (2,3,4) with (4,) */
    expect_golden(nb_maximum(in("x_i64"), in("y_f32")), "promote_maximum_i64_f32"); /* float32 */
}

static uint64_t bits_f64(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* Equal values give a's (so -0 and +0 keep their order); of two NaNs, a's, payload and all. */
Test(ewise, maximum_minimum_ties_and_nans_take_the_first, EW)
{
    const uint64_t nan1_bits = 0x7ff8000000000123ull, nan2_bits = 0xfff8000000000456ull;
    double nan1, nan2;
    memcpy(&nan1, &nan1_bits, sizeof nan1);
    memcpy(&nan2, &nan2_bits, sizeof nan2);
    const double a[4] = {-0.0, 0.0, nan1, 3.0}, b[4] = {0.0, -0.0, nan2, nan2};
    nb_tensor *ta = nb_from_array(a, NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    nb_tensor *tb = nb_from_array(b, NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    nb_tensor *results[2] = {nb_maximum(ta, tb), nb_minimum(ta, tb)};
    for (int r = 0; r < 2; r++) {
        double v[4];
        cr_assert_eq(nb_copy_to_array(results[r], v, sizeof v), NB_OK, "%s", nb_last_error());
        cr_assert_eq(bits_f64(v[0]), bits_f64(-0.0), "ties give a's -0");
        cr_assert_eq(bits_f64(v[1]), bits_f64(0.0), "ties give a's +0");
        cr_assert_eq(bits_f64(v[2]), nan1_bits, "a's NaN, bit for bit");
        cr_assert_eq(bits_f64(v[3]), nan2_bits, "b's NaN beats a number");
    }
}

/* PyTorch's gradient: the larger (smaller) input gets g, and equal inputs half of it each. */
Test(ewise, maximum_minimum_gradients_split_ties, EW)
{
    nb_tensor *a = nb_requires_grad_(nb_from_array((const double[]){1, 2, 3, -1}, NB_SHAPE(4), NB_OPTS(NB_FLOAT64)), true);
    nb_tensor *b = nb_requires_grad_(nb_from_array((const double[]){1, 0, 5, -1}, NB_SHAPE(4), NB_OPTS(NB_FLOAT64)), true);
    nb_tensor *grads[2];
    nb_tensor *inputs[2] = {a, b};
    nb_tensor *hi = nb_maximum(a, b);
    cr_assert_str_eq(nb_grad_fn_name(hi), "MaximumBackward");
    cr_assert_eq(nb_grad_of(1, (nb_tensor *[]){nb_sum(hi)}, NULL, 2, inputs, grads, false), NB_OK, "%s", nb_last_error());
    assert_values(grads[0], (const double[]){0.5, 1, 0, 0.5}, 4, 0, 0);
    assert_values(grads[1], (const double[]){0.5, 0, 1, 0.5}, 4, 0, 0);
    nb_tensor *lo = nb_minimum(a, b);
    cr_assert_str_eq(nb_grad_fn_name(lo), "MinimumBackward");
    cr_assert_eq(nb_grad_of(1, (nb_tensor *[]){nb_sum(lo)}, NULL, 2, inputs, grads, false), NB_OK, "%s", nb_last_error());
    assert_values(grads[0], (const double[]){0.5, 0, 1, 0.5}, 4, 0, 0);
    assert_values(grads[1], (const double[]){0.5, 1, 0, 0.5}, 4, 0, 0);
}

Test(ewise, maximum_minimum_errors, EW)
{
    nb_tensor *a = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_maximum(a, b));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_maximum", "[2, 3]", "[4]", "broadcast"));
    cr_assert_null(nb_minimum(NULL, a));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_minimum", "NULL"));
    cr_assert_null(nb_maximum(a, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_maximum", "NULL"));
}
