/* test_ewise_math.c — activations (gelu, silu, leaky_relu, softplus), math (erf, sin, cos, log1p,
 * expm1, rsqrt, reciprocal), rounding (floor, ceil, round, sign), logical ops and lerp against
 * PyTorch (golden/ewise_math, made by golden/gen_ewise_math.py): values per dtype, special values,
 * broadcasting, non-contiguous and empty inputs, errors; and PyTorch's result types for bool
 * arithmetic and 0-d operands, over every pair of dtypes. */
#include "helpers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void open_scope(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void close_scope(void) { nb_scope_end(); }
#define EM .init = open_scope, .fini = close_scope

static nb_tensor *in(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static nb_tensor *in(const char *fmt, ...)
{
    char name[96], path[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "ewise_math/%s", name);
    return golden(path);
}

/* float32's absolute tolerance: PyTorch's float32 erf (inside gelu) is a polynomial good to about
 * 1e-7 absolutely, which near erf = -1 is no better than that for gelu's 1 + erf(x / sqrt 2) */
static double f32_atol = 1e-7;

/* got against want: shape, dtype and values; float32 within 2e-6 relative (libm and PyTorch's
 * vectorised functions differ by an ulp or two), float64 1e-12, int64 and bool exact. */
static void expect(const nb_tensor *got, const nb_tensor *want, const char *label)
{
    cr_assert(got != NULL, "%s: result is NULL: %s", label, nb_last_error());
    char gs[96], ws[96];
    cr_assert_str_eq(nb_shape_string(got, gs, sizeof gs), nb_shape_string(want, ws, sizeof ws),
                     "%s: shape %s, expected %s", label, gs, ws);
    nb_dtype dt = nb_dtype_of(want);
    cr_assert_eq(nb_dtype_of(got), dt, "%s: dtype %s, expected %s", label, nb_dtype_name(nb_dtype_of(got)),
                 nb_dtype_name(dt));
    const double rtol = dt == NB_FLOAT32 ? 2e-6 : dt == NB_FLOAT64 ? 1e-12 : 0;
    const double atol = dt == NB_FLOAT32 ? f32_atol : dt == NB_FLOAT64 ? 1e-15 : 0;
    int64_t n = nb_numel(want);
    double *g = malloc((size_t)(n ? n : 1) * sizeof(double)); /* (n,) */
    double *w = malloc((size_t)(n ? n : 1) * sizeof(double)); /* (n,) */
    nb_tensor *g64 = nb_to_dtype(got, NB_FLOAT64), *w64 = nb_to_dtype(want, NB_FLOAT64);
    cr_assert(nb_copy_to_array(g64, g, (size_t)n * sizeof(double)) == NB_OK, "%s", nb_last_error());
    cr_assert(nb_copy_to_array(w64, w, (size_t)n * sizeof(double)) == NB_OK, "%s", nb_last_error());
    nb_release(g64);
    nb_release(w64);
    for (int64_t i = 0; i < n; i++) {
        bool ok = (isnan(g[i]) && isnan(w[i])) || g[i] == w[i] || fabs(g[i] - w[i]) <= atol + rtol * fabs(w[i]);
        if (!ok) {
            double gi = g[i], wi = w[i];
            free(g), free(w);
            cr_assert_fail("%s: element %lld is %.17g, expected %.17g", label, (long long)i, gi, wi);
        }
    }
    free(g), free(w);
    assert_ok();
}

#define EXPECT(got, ...)                                                                         \
    do {                                                                                         \
        char label_[96];                                                                         \
        snprintf(label_, sizeof label_, __VA_ARGS__);                                            \
        expect((got), in("%s", label_), label_);                                                 \
    } while (0)

typedef nb_tensor *(*unary_fn)(const nb_tensor *);

static nb_tensor *gelu_exact(const nb_tensor *x) { return nb_gelu(x, false); }
static nb_tensor *gelu_tanh(const nb_tensor *x) { return nb_gelu(x, true); }
static nb_tensor *leaky(const nb_tensor *x) { return nb_leaky_relu(x, 0.1); }
static nb_tensor *leaky_default(const nb_tensor *x) { return nb_leaky_relu(x, 0.01); }
static nb_tensor *softplus(const nb_tensor *x) { return nb_softplus(x, 1.0, 20.0); }
static nb_tensor *softplus_b2_t1(const nb_tensor *x) { return nb_softplus(x, 2.0, 1.0); }

static const struct {
    const char *name;
    unary_fn fn;
    const char *input; /* x, pos or gt1, as the generator names them */
    bool integers;     /* takes int64 and bool (float32 out, but for the rounding ops) */
} unary_ops[] = {
    {"gelu", gelu_exact, "x", false},      {"gelu_tanh", gelu_tanh, "x", false},
    {"silu", nb_silu, "x", false},         {"leaky_relu", leaky, "x", false},
    {"leaky_relu_default", leaky_default, "x", false},
    {"softplus", softplus, "x", false},    {"softplus_b2_t1", softplus_b2_t1, "x", false},
    {"erf", nb_erf, "x", true},            {"sin", nb_sin, "x", true},
    {"cos", nb_cos, "x", true},            {"log1p", nb_log1p, "gt1", true},
    {"expm1", nb_expm1, "x", true},        {"rsqrt", nb_rsqrt, "pos", true},
    {"reciprocal", nb_reciprocal, "x", true}, {"floor", nb_floor, "x", true},
    {"ceil", nb_ceil, "x", true},          {"round", nb_round, "x", true},
    {"sign", nb_sign, "x", true},
};
#define NUNARY (sizeof unary_ops / sizeof unary_ops[0])

static const char *const float_tags[] = {"f32", "f64"};

static bool is_rounding(const char *name)
{
    return !strcmp(name, "floor") || !strcmp(name, "ceil") || !strcmp(name, "round");
}

/* ---------------------------------------------------------------- unary ops */

/* gelu's float32 tolerance (see f32_atol) for op i */
static void tolerance_for(size_t i) { f32_atol = strcmp(unary_ops[i].name, "gelu") ? 1e-7 : 1e-6; }

Test(ewise_math, unary_float_values, EM)
{
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < NUNARY; i++) {
            tolerance_for(i);
            EXPECT(unary_ops[i].fn(in("%s_%s", unary_ops[i].input, float_tags[k])), "%s_%s", unary_ops[i].name,
                   float_tags[k]);
        }
}

Test(ewise_math, unary_special_values, EM)
{
    /* NaN, inf, -inf, 0, -0, 1, -1, 100, -100, 0.5, -0.5, 1e-7, 3.5 */
    for (int k = 0; k < 2; k++) {
        nb_tensor *s = in("special_%s", float_tags[k]);
        for (size_t i = 0; i < NUNARY; i++) {
            tolerance_for(i);
            EXPECT(unary_ops[i].fn(s), "special_%s_%s", unary_ops[i].name, float_tags[k]);
        }
    }
}

Test(ewise_math, unary_noncontiguous, EM)
{
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < NUNARY; i++) {
            tolerance_for(i);
            nb_tensor *x = noncontig(in("%s_%s", unary_ops[i].input, float_tags[k]));
            cr_assert(!nb_is_contiguous(x));
            EXPECT(unary_ops[i].fn(x), "%s_%s", unary_ops[i].name, float_tags[k]);
            nb_tensor *col = nb_select(x, 1, 2); /* (3,), a stride of its own */
            nb_tensor *want = nb_select(in("%s_%s", unary_ops[i].name, float_tags[k]), 1, 2);
            expect(unary_ops[i].fn(col), want, unary_ops[i].name);
        }
}

Test(ewise_math, unary_integer_inputs, EM)
{
    nb_tensor *xi = in("x_i64"), *xb = in("x_b8");
    nb_tensor *xi_pos = nb_add_scalar(nb_abs(xi), 1); /* what the generator gives pos and gt1 */
    for (size_t i = 0; i < NUNARY; i++) {
        const char *name = unary_ops[i].name;
        if (!unary_ops[i].integers) {
            cr_assert_null(unary_ops[i].fn(xi), "%s takes int64", name);
            assert_error(NB_ERR_DTYPE, ERR_PARTS("int64", "not supported"));
            cr_assert_null(unary_ops[i].fn(xb), "%s takes bool", name);
            assert_error(NB_ERR_DTYPE, ERR_PARTS("bool", "not supported"));
            continue;
        }
        EXPECT(unary_ops[i].fn(strcmp(unary_ops[i].input, "x") ? xi_pos : xi), "%s_i64", name);
        if (is_rounding(name)) {
            cr_assert_null(unary_ops[i].fn(xb), "%s takes bool", name);
            assert_error(NB_ERR_DTYPE, ERR_PARTS("bool", "not supported"));
        } else {
            EXPECT(unary_ops[i].fn(xb), "%s_b8", name);
        }
    }
}

Test(ewise_math, unary_empty_and_0d, EM)
{
    nb_tensor *e = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    for (size_t i = 0; i < NUNARY; i++) {
        nb_tensor *y = unary_ops[i].fn(e);
        cr_assert(y && nb_ndim(y) == 2 && nb_size(y, 0) == 0 && nb_size(y, 1) == 3, "%s of (0, 3)",
                  unary_ops[i].name);
    }
    nb_tensor *z = nb_full(0, NULL, 0.5, NB_OPTS(NB_FLOAT64)); /* 0-d */
    double v;
    nb_copy_to_array(nb_round(z), &v, sizeof v);
    cr_assert_eq(v, 0.0, "round(0.5) is 0 (halves to even)");
    nb_copy_to_array(nb_gelu(z, false), &v, sizeof v);
    cr_assert_float_eq(v, 0.5 * 0.5 * (1 + erf(0.5 / sqrt(2.0))), 1e-15);
    cr_assert_eq(nb_ndim(nb_logical_not(z)), 0);
    assert_ok();
}

Test(ewise_math, unary_errors, EM)
{
    cr_assert_null(nb_gelu(NULL, false));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_gelu", "NULL"));
    cr_assert_null(nb_erf(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_erf", "NULL"));
    cr_assert_null(nb_logical_not(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_logical_not", "NULL"));
    nb_tensor *xi = in("x_i64"), *xb = in("x_b8");
    cr_assert_null(nb_silu(xi));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_silu", "int64", "not supported on cpu"));
    cr_assert_null(nb_softplus(xb, 1, 20));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_softplus", "bool"));
    cr_assert_null(nb_leaky_relu(xi, 0.1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_leaky_relu", "int64"));
    cr_assert_null(nb_floor(xb));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_floor", "bool"));
    cr_assert_null(nb_round(xb));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_round", "bool"));
}

/* ---------------------------------------------------------------- logical ops */

Test(ewise_math, logical_every_dtype_pair, EM)
{
    static const char *const tags[] = {"f32", "f64", "i64", "b8"};
    nb_tensor *operands[4] = {in("y_f32"), in("y_f64"), in("x_i64"), in("x_b8")};
    for (int a = 0; a < 4; a++) {
        EXPECT(nb_logical_not(operands[a]), "logical_not_%s", tags[a]);
        EXPECT(nb_logical_not(noncontig(operands[a])), "logical_not_%s", tags[a]);
        for (int b = 0; b < 4; b++) {
            EXPECT(nb_logical_and(operands[a], operands[b]), "logical_and_%s_%s", tags[a], tags[b]);
            EXPECT(nb_logical_or(operands[a], operands[b]), "logical_or_%s_%s", tags[a], tags[b]);
            EXPECT(nb_logical_or(noncontig(operands[a]), operands[b]), "logical_or_%s_%s", tags[a], tags[b]);
        }
    }
    EXPECT(nb_logical_and(operands[3], in("r4")), "logical_and_b8_r4"); /* (3, 4) with (4,) */
    EXPECT(nb_logical_or(in("r4"), operands[2]), "logical_or_r4_i64");
    nb_tensor *e = nb_logical_and(nb_zeros(NB_SHAPE(0, 4), NB_OPTS(NB_INT64)), in("r4"));
    cr_assert(e && nb_size(e, 0) == 0 && nb_size(e, 1) == 4 && nb_dtype_of(e) == NB_BOOL);
}

Test(ewise_math, logical_errors, EM)
{
    nb_tensor *a = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), *b = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_BOOL));
    cr_assert_null(nb_logical_and(a, b));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_logical_and", "[2, 3]", "[4]", "broadcast"));
    cr_assert_null(nb_logical_or(NULL, b));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_logical_or", "NULL"));
}

/* ---------------------------------------------------------------- lerp */

Test(ewise_math, lerp_values, EM)
{
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        nb_tensor *start = in("x_%s", dt), *end = in("lerp_end_%s", dt), *w = in("lerp_w_%s", dt);
        EXPECT(nb_lerp(start, end, w), "lerp_%s", dt);
        EXPECT(nb_lerp(noncontig(start), end, noncontig(w)), "lerp_%s", dt);
        EXPECT(nb_lerp(nb_narrow(start, 1, 0, 1), nb_select(end, 0, 0), in("lerp_w4_%s", dt)), "lerp_bcast_%s", dt);
        EXPECT(nb_lerp_scalar(start, end, 0.25), "lerp_scalar025_%s", dt);
        EXPECT(nb_lerp_scalar(start, noncontig(end), 0.75), "lerp_scalar075_%s", dt);
        EXPECT(nb_lerp_scalar(start, end, 1.0), "lerp_scalar1_%s", dt);
        EXPECT(nb_lerp_scalar(start, end, -0.5), "lerp_scalarm05_%s", dt);
    }
    const double s[4] = {INFINITY, 1, NAN, 0}, e[4] = {1, INFINITY, 1, -0.0}, w[4] = {0.5, 0.25, 0.5, 0.75};
    nb_tensor *ts = nb_from_array(s, NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    nb_tensor *te = nb_from_array(e, NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    nb_tensor *tw = nb_from_array(w, NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    EXPECT(nb_lerp(ts, te, tw), "lerp_special_f64");
    nb_tensor *empty = nb_lerp_scalar(nb_zeros(NB_SHAPE(2, 0), NB_OPTS(NB_FLOAT32)), nb_zeros(NB_SHAPE(0), NB_OPTS(NB_FLOAT32)), 0.5);
    cr_assert(empty && nb_size(empty, 0) == 2 && nb_size(empty, 1) == 0);
}

Test(ewise_math, lerp_errors, EM)
{
    nb_tensor *f = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), *d = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT64));
    nb_tensor *i = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_INT64)), *r4 = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_lerp(f, d, f));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_lerp", "end", "float32", "float64"));
    cr_assert_null(nb_lerp(f, f, d));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_lerp", "weight", "float32", "float64"));
    cr_assert_null(nb_lerp(i, i, i));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_lerp", "start", "int64"));
    cr_assert_null(nb_lerp_scalar(i, i, 0.5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_lerp_scalar", "start", "int64"));
    cr_assert_null(nb_lerp_scalar(d, f, 0.5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_lerp_scalar", "end", "float64", "float32"));
    cr_assert_null(nb_lerp(f, r4, f));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_lerp", "[2, 3]", "[4]"));
    cr_assert_null(nb_lerp(f, NULL, f));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_lerp", "end", "NULL"));
    cr_assert_null(nb_lerp_scalar(NULL, f, 0.5));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_lerp_scalar", "start", "NULL"));
}

/* ---------------------------------------------------------------- gradients against PyTorch's */

/* d/dx at a few points, from the formulas PyTorch's backward uses */
Test(ewise_math, activation_gradients, EM)
{
    const double xs[5] = {-2.0, -0.5, 0.0, 0.75, 30.0};
    nb_tensor *x = nb_requires_grad_(nb_from_array(xs, NB_SHAPE(5), NB_OPTS(NB_FLOAT64)), true);
    nb_tensor *g[1];
    nb_tensor *ys[4] = {nb_leaky_relu(x, 0.1), nb_softplus(x, 1, 20), nb_sign(x), nb_silu(x)};
    const char *names[4] = {"LeakyReluBackward", "SoftplusBackward", "SignBackward", "SiluBackward"};
    double want[4][5];
    for (int i = 0; i < 5; i++) {
        const double v = xs[i], sig = 1 / (1 + exp(-v));
        want[0][i] = v > 0 ? 1 : 0.1;
        want[1][i] = v > 20 ? 1 : exp(v) / (exp(v) + 1);
        want[2][i] = 0;
        want[3][i] = sig * (1 + v * (1 - sig));
    }
    for (int k = 0; k < 4; k++) {
        cr_assert_str_eq(nb_grad_fn_name(ys[k]), names[k]);
        cr_assert_eq(nb_grad_of(1, (nb_tensor *[]){nb_sum(ys[k])}, NULL, 1, &x, g, false), NB_OK, "%s",
                     nb_last_error());
        assert_values(g[0], want[k], 5, 1e-12, 1e-15);
    }
}

/* ---------------------------------------------------------------- promotion */

/* bool arithmetic and 0-d operands, by value */
Test(ewise_math, bool_arithmetic_and_0d_values, EM)
{
    nb_tensor *xb = in("x_b8"), *b2 = in("b2_b8"), *xi = in("x_i64");
    EXPECT(nb_add(xb, b2), "bool_add");
    EXPECT(nb_mul(xb, b2), "bool_mul");
    EXPECT(nb_div(xb, b2), "bool_div");
    EXPECT(nb_add(xb, xi), "bool_add_i64");
    EXPECT(nb_add_scalar(xb, 1), "bool_add_1");
    EXPECT(nb_mul_scalar(xb, 2.5), "bool_mul_25");
    EXPECT(nb_pow_scalar(xb, 2), "bool_pow_2");
    EXPECT(nb_clamp(xb, 0, 1), "bool_clamp");
    EXPECT(nb_add_scaled_(nb_clone(xb), b2, 3), "bool_add_alpha");
    EXPECT(nb_add(in("x_f32"), in("d0")), "f32_add_d0");
    EXPECT(nb_add(xi, in("d0")), "i64_add_d0");
    EXPECT(nb_add(xb, in("i0")), "b8_add_i0");
    EXPECT(nb_mul(xi, nb_full(0, NULL, 0.5, NB_OPTS(NB_FLOAT32))), "i64_mul_f0");
    EXPECT(nb_add(in("d0"), nb_full(0, NULL, 2.0, NB_OPTS(NB_FLOAT32))), "d0_add_d0");
}

Test(ewise_math, bool_subtraction_and_negation_errors, EM)
{
    nb_tensor *xb = in("x_b8"), *xi = in("x_i64");
    cr_assert_null(nb_sub(xb, xb));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_sub", "two bool tensors", "nb_ne"));
    cr_assert_null(nb_sub(xi, xb));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_sub", "bool tensor", "int64 and bool", "nb_logical_not"));
    cr_assert_null(nb_neg(xb));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_neg", "bool", "nb_logical_not"));
    cr_assert_null(nb_sub_scalar(xb, 1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_sub_scalar", "bool", "nb_logical_not"));
    cr_assert_null(nb_rsub_scalar(xb, 1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_rsub_scalar", "bool"));
    cr_assert_null(nb_sub_(nb_clone(xi), xb));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_sub_", "bool"));
    cr_assert_null(nb_sub_scaled_(nb_clone(xb), xb, 1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_sub_scaled_", "two bool tensors"));
    nb_tensor *fi = nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_add_(in("x_b8"), fi)); /* int64 cannot be written into bool */
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_add_", "int64", "bool"));
}

typedef nb_tensor *(*binary_fn)(const nb_tensor *, const nb_tensor *);
typedef nb_tensor *(*inplace_fn)(nb_tensor *, const nb_tensor *);
typedef nb_tensor *(*scalar_fn)(const nb_tensor *, double);

static const nb_dtype dtypes[6] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL, NB_FLOAT16, NB_BFLOAT16}; /* the tables' codes */

/* an operand of dtype with dims (2,) or 0-d: values 1, 0 */
static nb_tensor *operand(int code, int zero_d)
{
    const double v[2] = {1, 0};
    nb_tensor *t = nb_from_array(v, NB_SHAPE(2), NB_OPTS(NB_FLOAT64));
    nb_tensor *c = nb_to_dtype(zero_d ? nb_select(t, 0, 0) : t, dtypes[code]);
    return nb_contiguous(c);
}

static int64_t *table(const char *name, int cols, int64_t *rows)
{
    nb_tensor *t = in("%s", name);
    cr_assert(nb_ndim(t) == 2 && nb_size(t, 1) == cols && nb_dtype_of(t) == NB_INT64);
    *rows = nb_size(t, 0);
    return (int64_t *)nb_data(t);
}

static int result_code(const nb_tensor *r)
{
    if (!r) {
        nb_clear_error();
        return -1;
    }
    for (int k = 0; k < 6; k++)
        if (nb_dtype_of(r) == dtypes[k]) return k;
    return -2;
}

Test(ewise_math, result_type_of_every_dtype_pair, EM)
{
    static const struct { const char *name; binary_fn fn; } ops[] = {
        {"add", nb_add}, {"sub", nb_sub}, {"mul", nb_mul}, {"div", nb_div},
        {"maximum", nb_maximum}, {"lt", nb_lt}, {"logical_and", nb_logical_and},
    };
    int64_t n;
    const int64_t *t = table("promote_binary", 6, &n);
    cr_assert_eq(n, 7 * 144);
    for (int64_t r = 0; r < n; r++) {
        const int64_t *row = t + 6 * r;
        nb_tensor *a = operand((int)row[1], (int)row[2]), *b = operand((int)row[3], (int)row[4]);
        const int got = result_code(ops[row[0]].fn(a, b));
        cr_assert_eq(got, row[5], "%s(%s%s, %s%s): got %s, PyTorch gives %s", ops[row[0]].name,
                     nb_dtype_name(dtypes[row[1]]), row[2] ? " 0-d" : "", nb_dtype_name(dtypes[row[3]]),
                     row[4] ? " 0-d" : "", got < 0 ? "an error" : nb_dtype_name(dtypes[got]),
                     row[5] < 0 ? "an error" : nb_dtype_name(dtypes[row[5]]));
    }
}

Test(ewise_math, result_type_in_place, EM)
{
    static const struct { const char *name; inplace_fn fn; } ops[] = {
        {"add_", nb_add_}, {"sub_", nb_sub_}, {"mul_", nb_mul_}, {"div_", nb_div_},
    };
    int64_t n;
    const int64_t *t = table("promote_inplace", 6, &n);
    cr_assert_gt(n, 100);
    for (int64_t r = 0; r < n; r++) {
        const int64_t *row = t + 6 * r;
        nb_tensor *a = operand((int)row[1], (int)row[2]), *b = operand((int)row[3], (int)row[4]);
        const int got = result_code(ops[row[0]].fn(a, b));
        cr_assert_eq(got, row[5], "%s(%s%s, %s%s): got %s, PyTorch gives %s", ops[row[0]].name,
                     nb_dtype_name(dtypes[row[1]]), row[2] ? " 0-d" : "", nb_dtype_name(dtypes[row[3]]),
                     row[4] ? " 0-d" : "", got < 0 ? "an error" : nb_dtype_name(dtypes[got]),
                     row[5] < 0 ? "an error" : nb_dtype_name(dtypes[row[5]]));
    }
}

Test(ewise_math, result_type_with_a_number, EM)
{
    static const struct { const char *name; scalar_fn fn; } ops[] = {
        {"add_scalar", nb_add_scalar}, {"mul_scalar", nb_mul_scalar}, {"pow_scalar", nb_pow_scalar},
        {"clamp_min", nb_clamp_min},   {"div_scalar", nb_div_scalar}, {"sub_scalar", nb_sub_scalar},
    };
    int64_t n;
    const int64_t *t = table("promote_scalar", 4, &n);
    cr_assert_eq(n, 6 * 12);
    for (int64_t r = 0; r < n; r++) {
        const int64_t *row = t + 4 * r;
        const double s = row[2] ? 2.0 : 2.5;
        const int got = result_code(ops[row[0]].fn(operand((int)row[1], 0), s));
        cr_assert_eq(got, row[3], "%s(%s, %g): got %s, PyTorch gives %s", ops[row[0]].name,
                     nb_dtype_name(dtypes[row[1]]), s, got < 0 ? "an error" : nb_dtype_name(dtypes[got]),
                     row[3] < 0 ? "an error" : nb_dtype_name(dtypes[row[3]]));
    }
}
