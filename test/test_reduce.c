/* test_reduce.c — suite reduce: sum, mean, max, min, argmax and argmin, whole-tensor and along a
 * dim. Values against PyTorch (test/golden/gen_reduce.py) for every dtype, rank 1 to 4, every dim
 * (negative too) and keepdim; strided inputs (transposed, narrowed, expanded); ties; NaN; the
 * rule for extremes (the first of tied elements, bit for bit: signed zeros, NaN payloads, long
 * rows whose partial results combine); empty tensors; large inputs against a plain C reference;
 * float32 accuracy; the same bits for every thread count; and every error. */
#include "helpers.h"

#include <criterion/parameterized.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- ops under test */

typedef nb_tensor *(*whole_fn)(const nb_tensor *);
typedef nb_tensor *(*dim_fn)(const nb_tensor *, int, bool);

typedef struct op_case {
    const char *name;
    whole_fn whole;
    dim_fn along;
    bool floats_only;
} op_case;

static const op_case OPS[] = {
    {"sum", nb_sum, nb_sum_dim, false},          {"mean", nb_mean, nb_mean_dim, true},
    {"max", nb_max, nb_max_dim, false},          {"min", nb_min, nb_min_dim, false},
    {"argmax", nb_argmax, nb_argmax_dim, false}, {"argmin", nb_argmin, nb_argmin_dim, false},
};
#define NOPS (int)(sizeof OPS / sizeof OPS[0])

static const char *const TAGS[] = {"f32", "f64", "i64", "b8"};
static const nb_dtype DTYPES[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};

static double rtol_of(nb_dtype d) { return d == NB_FLOAT32 ? 1e-5 : d == NB_FLOAT64 ? 1e-12 : 0; }
static double atol_of(nb_dtype d) { return d == NB_FLOAT32 ? 1e-6 : d == NB_FLOAT64 ? 1e-12 : 0; }

/* The dtype PyTorch gives for op on dtype in. */
static nb_dtype result_dtype(const char *op, nb_dtype in)
{
    if (strncmp(op, "arg", 3) == 0) return NB_INT64;
    if (strcmp(op, "sum") == 0 && (in == NB_INT64 || in == NB_BOOL)) return NB_INT64;
    return in;
}

/* ---------------------------------------------------------------- checks naming the case */

static double *values_of(const nb_tensor *t, int64_t *n)
{
    nb_tensor *d = nb_to_dtype(t, NB_FLOAT64);
    cr_assert(d != NULL, "%s", nb_last_error());
    *n = nb_numel(d);
    double *v = malloc((size_t)(*n > 0 ? *n : 1) * sizeof(double));
    cr_assert(nb_copy_to_array(d, v, (size_t)*n * sizeof(double)) == NB_OK, "%s", nb_last_error());
    nb_release(d);
    return v;
}

/* got matches want in shape, dtype and values (|got - want| <= atol + rtol|want|, NaN = NaN). */
static void check_close(const char *what, const nb_tensor *got, const nb_tensor *want, double rtol,
                        double atol)
{
    cr_assert(got != NULL, "%s: NULL result: %s", what, nb_last_error());
    char gs[160], ws[160];
    nb_shape_string(got, gs, sizeof gs);
    nb_shape_string(want, ws, sizeof ws);
    cr_assert_str_eq(gs, ws, "%s: shape %s, expected %s", what, gs, ws);
    cr_assert_eq(nb_dtype_of(got), nb_dtype_of(want), "%s: dtype %s, expected %s", what,
                 nb_dtype_name(nb_dtype_of(got)), nb_dtype_name(nb_dtype_of(want)));
    int64_t n, m;
    double *g = values_of(got, &n), *w = values_of(want, &m);
    for (int64_t i = 0; i < n; i++) {
        bool ok = (isnan(w[i]) && isnan(g[i])) || g[i] == w[i] ||
                  fabs(g[i] - w[i]) <= atol + rtol * fabs(w[i]);
        if (!ok) {
            double gi = g[i], wi = w[i];
            free(g), free(w);
            cr_assert_fail("%s: element %lld is %.17g, expected %.17g", what, (long long)i, gi, wi);
        }
    }
    free(g), free(w);
}

/* got and want hold the same bits (same shape and dtype assumed checked). */
static void check_same_bits(const char *what, const nb_tensor *got, const nb_tensor *want)
{
    cr_assert(got && want, "%s: NULL result: %s", what, nb_last_error());
    cr_assert_eq(nb_numel(got), nb_numel(want), "%s: numel differs", what);
    cr_assert(nb_is_contiguous(got) && nb_is_contiguous(want));
    size_t bytes = (size_t)nb_numel(got) * nb_dtype_size(nb_dtype_of(got));
    cr_assert(memcmp(nb_data(got), nb_data(want), bytes) == 0, "%s: results differ in their bits",
              what);
}

static nb_tensor *from_f64(const double *v, int ndim, const int64_t *shape, nb_dtype dt)
{
    nb_tensor *d = nb_from_array(v, ndim, shape, NB_OPTS(NB_FLOAT64));
    nb_tensor *t = nb_to_dtype(d, dt);
    nb_release(d);
    return t;
}

static double scalar_of(const nb_tensor *t)
{
    cr_assert(t != NULL, "NULL result: %s", nb_last_error());
    cr_assert_eq(nb_ndim(t), 0, "expected a 0-d result, got %d dims", nb_ndim(t));
    return nb_item(t);
}

/* ---------------------------------------------------------------- golden values */

typedef struct golden_param {
    int dtype; /* index into TAGS */
    int op;    /* index into OPS */
} golden_param;

ParameterizedTestParameters(reduce, golden)
{
    /* mean (op 1) only for the floating dtypes (0 and 1) */
    static golden_param params[] = {
        {0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {1, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4},
        {1, 5}, {2, 0}, {2, 2}, {2, 3}, {2, 4}, {2, 5}, {3, 0}, {3, 2}, {3, 3}, {3, 4}, {3, 5},
    };
    return cr_make_param_array(golden_param, params, sizeof params / sizeof params[0]);
}

/* Checks op on input x (the golden input of rank nd, or a strided view of it) against the golden
 * results: whole-tensor, then every dim, positive and negative, with and without keepdim. */
static void check_against_golden(const char *layout, const op_case *op, const char *tag,
                                 nb_dtype dt, int nd, const nb_tensor *x)
{
    char name[128], what[256];
    const double rtol = rtol_of(dt), atol = atol_of(dt);
    nb_scope_begin();
    snprintf(name, sizeof name, "reduce/%s_%s_all", tag, op->name);
    nb_tensor *all = golden(name);
    nb_tensor *got = op->whole(x);
    snprintf(what, sizeof what, "%s %s of %s %dd", layout, op->name, tag, nd);
    cr_assert(got != NULL, "%s: %s", what, nb_last_error());
    cr_assert_eq(nb_ndim(got), 0, "%s: expected a 0-d result", what);
    cr_assert_eq(nb_dtype_of(got), result_dtype(op->name, dt), "%s: dtype %s", what,
                 nb_dtype_name(nb_dtype_of(got)));
    double want = ((const double *)nb_data(all))[nd - 1];
    assert_values(got, &want, 1, rtol, atol);

    for (int d = 0; d < nd; d++) {
        snprintf(name, sizeof name, "reduce/%s_%dd_%s_dim%d", tag, nd, op->name, d);
        nb_tensor *kept = golden(name);
        nb_tensor *dropped = nb_squeeze_dim(kept, d);
        for (int neg = 0; neg < 2; neg++) {
            int dim = neg ? d - nd : d;
            snprintf(what, sizeof what, "%s %s_dim(%s %dd, %d, keepdim)", layout, op->name, tag, nd,
                     dim);
            check_close(what, op->along(x, dim, true), kept, rtol, atol);
            snprintf(what, sizeof what, "%s %s_dim(%s %dd, %d)", layout, op->name, tag, nd, dim);
            check_close(what, op->along(x, dim, false), dropped, rtol, atol);
        }
    }
    assert_ok();
    nb_scope_end();
}

ParameterizedTest(golden_param *p, reduce, golden, .init = nb_test_setup)
{
    const op_case *op = &OPS[p->op];
    const char *tag = TAGS[p->dtype];
    for (int nd = 1; nd <= 4; nd++) {
        nb_scope_begin();
        char name[64];
        snprintf(name, sizeof name, "reduce/%s_%dd", tag, nd);
        nb_tensor *x = golden(name);
        cr_assert_eq(nb_dtype_of(x), DTYPES[p->dtype]);
        check_against_golden("contiguous", op, tag, DTYPES[p->dtype], nd, x);
        nb_tensor *strided = noncontig(x); /* same values, transposed or every other element */
        cr_assert(!nb_is_contiguous(strided));
        check_against_golden("strided", op, tag, DTYPES[p->dtype], nd, strided);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

/* ---------------------------------------------------------------- views vs their copies */

/* Every op, whole and along every dim, on view v against the same op on a contiguous copy of v:
 * exact for max/min/argmax/argmin and integers, within rounding for float sums. */
static void check_view(const char *what, const nb_tensor *v)
{
    nb_scope_begin();
    nb_tensor *c = nb_clone(v);
    nb_dtype dt = nb_dtype_of(v);
    bool floating = dt == NB_FLOAT32 || dt == NB_FLOAT64;
    char msg[256];
    for (int o = 0; o < NOPS; o++) {
        if (OPS[o].floats_only && !floating) continue;
        bool exact = o >= 2 || !floating;
        double rtol = exact ? 0 : rtol_of(dt), atol = exact ? 0 : atol_of(dt);
        snprintf(msg, sizeof msg, "%s: %s", what, OPS[o].name);
        check_close(msg, OPS[o].whole(v), OPS[o].whole(c), rtol, atol);
        for (int d = -nb_ndim(v); d < nb_ndim(v); d++)
            for (int keep = 0; keep < 2; keep++) {
                snprintf(msg, sizeof msg, "%s: %s_dim(%d, %s)", what, OPS[o].name, d,
                         keep ? "keepdim" : "");
                check_close(msg, OPS[o].along(v, d, keep), OPS[o].along(c, d, keep), rtol, atol);
            }
    }
    assert_ok();
    nb_scope_end();
}

Test(reduce, transposed_permuted_views, .init = nb_test_setup)
{
    for (int k = 0; k < 4; k++) {
        nb_scope_begin();
        char name[64];
        snprintf(name, sizeof name, "reduce/%s_3d", TAGS[k]);
        nb_tensor *x = golden(name); /* (2, 3, 4) */
        check_view("transpose(0, 2)", nb_transpose(x, 0, 2));
        check_view("permute(1, 2, 0)", nb_permute(x, NB_DIMS(1, 2, 0)));
        snprintf(name, sizeof name, "reduce/%s_2d", TAGS[k]);
        check_view("t", nb_t(golden(name)));
        nb_scope_end();
    }
}

Test(reduce, narrowed_and_selected_views, .init = nb_test_setup)
{
    for (int k = 0; k < 4; k++) {
        nb_scope_begin();
        char name[64];
        snprintf(name, sizeof name, "reduce/%s_4d", TAGS[k]);
        nb_tensor *x = golden(name); /* (2, 3, 2, 3) */
        check_view("narrow(3, 1, 2)", nb_narrow(x, 3, 1, 2));
        check_view("narrow(1, 1, 2)", nb_narrow(x, 1, 1, 2));
        check_view("select(2, 1)", nb_select(x, 2, 1));
        check_view("narrow of a transpose", nb_narrow(nb_transpose(x, 1, 3), 2, 0, 1));
        nb_scope_end();
    }
}

Test(reduce, expanded_views, .init = nb_test_setup)
{
    for (int k = 0; k < 4; k++) {
        nb_scope_begin();
        char name[64];
        snprintf(name, sizeof name, "reduce/%s_2d", TAGS[k]);
        nb_tensor *x = golden(name);                                     /* (4, 5) */
        nb_tensor *e = nb_expand(nb_unsqueeze(x, 1), NB_SHAPE(4, 3, 5)); /* stride 0 on dim 1 */
        check_view("expand (4, 1, 5) to (4, 3, 5)", e);
        check_view("expand (5,) to (6, 5)", nb_expand(nb_select(x, 0, 2), NB_SHAPE(6, 5)));
        check_view("expand a 0-d tensor to (3, 2)",
                   nb_expand(nb_select(nb_select(x, 0, 1), 0, 1), NB_SHAPE(3, 2)));
        nb_scope_end();
    }
    /* an expanded dim multiplies a sum exactly: 3 copies of small integers */
    nb_scope_begin();
    nb_tensor *x = nb_arange(1, 6, 1, NB_OPTS(NB_FLOAT32)); /* 1..5 */
    nb_tensor *e = nb_expand(nb_unsqueeze(x, 0), NB_SHAPE(3, 5));
    cr_assert_eq(scalar_of(nb_sum(e)), 45.0);
    double cols[5] = {3, 6, 9, 12, 15};
    assert_values(nb_sum_dim(e, 0, false), cols, 5, 0, 0);
    assert_ok();
    nb_scope_end();
}

/* ---------------------------------------------------------------- ties, NaN, dtypes */

Test(reduce, ties_give_the_first_index, .init = nb_test_setup)
{
    nb_scope_begin();
    double v[] = {1, 3, 3, 2, 0, 0, 3, 0};
    for (int k = 0; k < 3; k++) {
        nb_tensor *x = from_f64(v, NB_SHAPE(8), DTYPES[k]);
        cr_assert_eq(scalar_of(nb_argmax(x)), 1);
        cr_assert_eq(scalar_of(nb_argmin(x)), 4);
        nb_tensor *m = nb_view(x, NB_SHAPE(2, 4)); /* [[1 3 3 2] [0 0 3 0]] */
        double amax1[] = {1, 2}, amin1[] = {0, 0}, amax0[] = {0, 0, 0, 0}, amin0[] = {1, 1, 0, 1};
        assert_values(nb_argmax_dim(m, 1, false), amax1, 2, 0, 0);
        assert_values(nb_argmin_dim(m, 1, false), amin1, 2, 0, 0);
        assert_values(nb_argmax_dim(m, 0, false), amax0, 4, 0, 0); /* column 2: 3 and 3 */
        assert_values(nb_argmin_dim(m, 0, false), amin0, 4, 0, 0);
        /* transposed: indices count in the view's own (logical) order */
        nb_tensor *mt = nb_t(m); /* [[1 0] [3 0] [3 3] [2 0]] */
        cr_assert_eq(scalar_of(nb_argmax(mt)), 2);
        cr_assert_eq(scalar_of(nb_argmin(mt)), 1);
        double tmax1[] = {0, 0, 0, 0}, tmin1[] = {1, 1, 0, 1};
        assert_values(nb_argmax_dim(mt, 1, false), tmax1, 4, 0, 0);
        assert_values(nb_argmin_dim(mt, 1, false), tmin1, 4, 0, 0);
    }
    /* whole-tensor argmax of a transposed view: its memory holds the later tie first */
    double far[] = {0, 0, 9, 9, 0, 0};                                 /* [[0 0 9] [9 0 0]] */
    nb_tensor *ties = nb_t(from_f64(far, NB_SHAPE(2, 3), NB_FLOAT32)); /* [[0 9] [0 0] [9 0]] */
    cr_assert_eq(scalar_of(nb_argmax(ties)), 1);
    cr_assert_eq(scalar_of(nb_argmin(ties)), 0);
    double far_nan[] = {0, 0, NAN, NAN, 0, 0, 0, 0, 0}; /* NaNs at memory 2 and 3 */
    nb_tensor *nans = nb_t(from_f64(far_nan, NB_SHAPE(3, 3), NB_FLOAT64)); /* at [2, 0], [0, 1] */
    cr_assert_eq(scalar_of(nb_argmax(nans)), 1);
    cr_assert_eq(scalar_of(nb_argmin(nans)), 1);
    /* every value equal: index 0 everywhere */
    nb_tensor *same = nb_full(NB_SHAPE(3, 70), 2.5, NB_OPTS(NB_FLOAT32));
    cr_assert_eq(scalar_of(nb_argmax(same)), 0);
    cr_assert_eq(scalar_of(nb_argmin(same)), 0);
    double zeros3[3] = {0}, zeros70[70] = {0};
    assert_values(nb_argmax_dim(same, 1, false), zeros3, 3, 0, 0);
    assert_values(nb_argmin_dim(same, 0, false), zeros70, 70, 0, 0);
    /* -0.0 and 0.0 are equal: the first wins */
    double signed_zeros[] = {-0.0, 0.0, -1.0};
    cr_assert_eq(scalar_of(nb_argmax(from_f64(signed_zeros, NB_SHAPE(3), NB_FLOAT64))), 0);
    assert_ok();
    nb_scope_end();
}

Test(reduce, nan_propagates, .init = nb_test_setup)
{
    nb_scope_begin();
    double v[] = {1, NAN, 3, NAN, -2, 5};
    for (int k = 0; k < 2; k++) {
        nb_tensor *x = from_f64(v, NB_SHAPE(6), DTYPES[k]);
        cr_assert(isnan(scalar_of(nb_max(x))));
        cr_assert(isnan(scalar_of(nb_min(x))));
        cr_assert(isnan(scalar_of(nb_sum(x))));
        cr_assert(isnan(scalar_of(nb_mean(x))));
        cr_assert_eq(scalar_of(nb_argmax(x)), 1); /* the first NaN, as PyTorch */
        cr_assert_eq(scalar_of(nb_argmin(x)), 1);
        nb_tensor *m = nb_view(x, NB_SHAPE(2, 3)); /* [[1 nan 3] [nan -2 5]] */
        double max1[] = {NAN, NAN}, amax1[] = {1, 0};
        assert_values(nb_max_dim(m, 1, false), max1, 2, 0, 0);
        assert_values(nb_argmax_dim(m, 1, false), amax1, 2, 0, 0);
        assert_values(nb_argmin_dim(m, 1, false), amax1, 2, 0, 0);
        double max0[] = {NAN, NAN, 5}, min0[] = {NAN, NAN, 3}, amax0[] = {1, 0, 1},
               amin0[] = {1, 0, 0};
        assert_values(nb_max_dim(m, 0, false), max0, 3, 0, 0);
        assert_values(nb_min_dim(m, 0, false), min0, 3, 0, 0);
        assert_values(nb_argmax_dim(m, 0, false), amax0, 3, 0, 0);
        assert_values(nb_argmin_dim(m, 0, false), amin0, 3, 0, 0);
    }
    /* a NaN far into a long row and down a long column (later blocks, later rows) */
    nb_tensor *big = nb_zeros(NB_SHAPE(100000), NB_OPTS(NB_FLOAT32));
    float *b = nb_data(big);
    b[70000] = NAN, b[90000] = NAN, b[99999] = 7;
    cr_assert(isnan(scalar_of(nb_max(big))));
    cr_assert(isnan(scalar_of(nb_min(big))));
    cr_assert_eq(scalar_of(nb_argmax(big)), 70000);
    cr_assert_eq(scalar_of(nb_argmin(big)), 70000);
    nb_tensor *col = nb_view(big, NB_SHAPE(1000, 100));
    nb_tensor *amax = nb_argmax_dim(col, 0, false);
    cr_assert_eq(((int64_t *)nb_data(amax))[0], 700);
    cr_assert_eq(((int64_t *)nb_data(amax))[99], 999);
    cr_assert(isnan(((float *)nb_data(nb_max_dim(col, 0, false)))[0]));
    assert_ok();
    nb_scope_end();
}

/* ---------------------------------------------------------------- the rule for extremes */

/* kernels/reduce.h: of the elements that tie for an extreme (+0 and -0 tie, all NaNs tie, and a
 * NaN beats every number) the first wins, and the value written is that element, bit for bit. */

#define F32_NAN_A 0x7fc12345u /* quiet, with a payload */
#define F32_NAN_B 0xffc00001u /* negative */
#define F32_SNAN  0x7f800001u /* signalling: a trip through double would quiet it (0x7fc00001) */
#define F64_NAN_A 0x7ff8123456789abcull
#define F64_NAN_B 0xfff0000000000001ull /* negative, signalling */
#define LONG_ROW  (3 * 32768 + 5)       /* more than three of the cpu's fixed blocks */

/* The bits of element i (row-major) of t, a float32 or float64 tensor of any layout. */
static uint64_t bits_at(const nb_tensor *t, int64_t i)
{
    cr_assert(t != NULL, "NULL result: %s", nb_last_error());
    const size_t es = nb_dtype_size(nb_dtype_of(t)), n = (size_t)nb_numel(t);
    char *raw = malloc(n * es);
    cr_assert(nb_copy_to_array(t, raw, n * es) == NB_OK, "%s", nb_last_error());
    uint64_t bits = 0;
    memcpy(&bits, raw + (size_t)i * es, es);
    free(raw);
    return bits;
}

/* Element i (row-major) of an int64 tensor. */
static int64_t index_at(const nb_tensor *t, int64_t i)
{
    cr_assert(t != NULL, "NULL result: %s", nb_last_error());
    cr_assert_eq(nb_dtype_of(t), NB_INT64);
    nb_tensor *c = nb_contiguous(t);
    int64_t v = ((const int64_t *)nb_data(c))[i];
    nb_release(c);
    return v;
}

/* A contiguous float32 tensor of shape, every element fill except those at[k] (row-major),
 * which get bits[k]. */
static nb_tensor *f32_with(int ndim, const int64_t *shape, float fill, int k, const int64_t *at,
                           const uint32_t *bits)
{
    nb_tensor *t = nb_full(ndim, shape, fill, NB_OPTS(NB_FLOAT32));
    cr_assert(t != NULL, "%s", nb_last_error());
    for (int i = 0; i < k; i++) memcpy((float *)nb_data(t) + at[i], &bits[i], sizeof bits[i]);
    return t;
}

/* The same in float64. */
static nb_tensor *f64_with(int ndim, const int64_t *shape, double fill, int k, const int64_t *at,
                           const uint64_t *bits)
{
    nb_tensor *t = nb_full(ndim, shape, fill, NB_OPTS(NB_FLOAT64));
    cr_assert(t != NULL, "%s", nb_last_error());
    for (int i = 0; i < k; i++) memcpy((double *)nb_data(t) + at[i], &bits[i], sizeof bits[i]);
    return t;
}

#define NEG_ZERO_32 0x80000000u
#define POS_ZERO_32 0x00000000u

Test(reduce, signed_zeros_give_the_first_of_them, .init = nb_test_setup)
{
    nb_scope_begin();
    for (int k = 0; k < 2; k++) { /* float32, float64 */
        double neg_pos[] = {-0.0, 0.0}, pos_neg[] = {0.0, -0.0};
        nb_tensor *a = from_f64(neg_pos, NB_SHAPE(2), DTYPES[k]);
        nb_tensor *b = from_f64(pos_neg, NB_SHAPE(2), DTYPES[k]);
        cr_assert(signbit(scalar_of(nb_max(a))), "max of [-0., +0.] is -0.");
        cr_assert(signbit(scalar_of(nb_min(a))), "min of [-0., +0.] is -0.");
        cr_assert(!signbit(scalar_of(nb_max(b))), "max of [+0., -0.] is +0.");
        cr_assert(!signbit(scalar_of(nb_min(b))), "min of [+0., -0.] is +0.");
        cr_assert_eq(scalar_of(nb_argmax(a)), 0);
        cr_assert_eq(scalar_of(nb_argmin(b)), 0);
        double below[] = {-1.0, 0.0, -0.0, -3.0}, above[] = {1.0, -0.0, 0.0};
        cr_assert(!signbit(scalar_of(nb_max(from_f64(below, NB_SHAPE(4), DTYPES[k])))));
        cr_assert(signbit(scalar_of(nb_min(from_f64(above, NB_SHAPE(3), DTYPES[k])))));

        /* along a dim, keepdim or not */
        double mv[] = {-0.0, 0.0, -1.0, 0.0, -0.0, -1.0}; /* [[-0 +0 -1] [+0 -0 -1]] */
        nb_tensor *m = from_f64(mv, NB_SHAPE(2, 3), DTYPES[k]);
        nb_tensor *rows = nb_max_dim(m, 1, false), *cols = nb_max_dim(m, 0, true);
        cr_assert(signbit(nb_item(nb_select(rows, 0, 0))) &&
                  !signbit(nb_item(nb_select(rows, 0, 1))));
        cr_assert_eq(nb_shape(cols)[0], 1);
        cr_assert(signbit(nb_item(nb_select(nb_select(cols, 0, 0), 0, 0))), "column 0: -0. first");
        cr_assert(!signbit(nb_item(nb_select(nb_select(cols, 0, 0), 0, 1))), "column 1: +0. first");
        cr_assert(signbit(nb_item(nb_select(nb_min_dim(m, 0, false), 0, 0))));

        /* transposed: the first in the view's own order, not in memory */
        double tv[] = {-1.0, -0.0, 0.0, -1.0}; /* [[-1 -0] [+0 -1]], as .t: [[-1 +0] [-0 -1]] */
        nb_tensor *t = nb_t(from_f64(tv, NB_SHAPE(2, 2), DTYPES[k]));
        cr_assert(!signbit(scalar_of(nb_max(t))), "the transpose's first zero is +0.");
        cr_assert_eq(scalar_of(nb_argmax(t)), 1);
        cr_assert(!signbit(nb_item(nb_select(nb_max_dim(t, 1, false), 0, 0))));
        cr_assert(signbit(nb_item(nb_select(nb_max_dim(t, 1, false), 0, 1))));

        /* expanded (stride 0): a column [-1, -0, +0] repeated along dim 1 */
        double ev[] = {-1.0, -0.0, 0.0};
        nb_tensor *e = nb_expand(from_f64(ev, NB_SHAPE(3, 1), DTYPES[k]), NB_SHAPE(3, 4));
        cr_assert(signbit(scalar_of(nb_max(e))), "the first zero of the expanded tensor is -0.");
        cr_assert_eq(scalar_of(nb_argmax(e)), 4);
        double ones[4] = {1, 1, 1, 1};
        assert_values(nb_argmax_dim(e, 0, false), ones, 4, 0, 0);
        cr_assert(signbit(nb_item(nb_select(nb_max_dim(e, 0, false), 0, 3))));
    }

    /* long rows, so partial results of lanes, chunks and fixed blocks combine: every count of
     * threads gives the first zero's sign */
    const int counts[] = {1, 3};
    for (int c = 0; c < 2; c++) {
        nb_set_num_threads(counts[c]);
        const uint32_t neg_pos[] = {NEG_ZERO_32, POS_ZERO_32},
                       pos_neg[] = {POS_ZERO_32, NEG_ZERO_32};
        const int64_t lanes[] = {2, 33};         /* -0. in lane 2, then +0. in lane 1 */
        const int64_t blocks[] = {40000, 70000}; /* the second and the third block */
        const int64_t n = LONG_ROW;
        nb_tensor *x = f32_with(1, &n, -1.0f, 2, lanes, neg_pos);
        cr_assert_eq(bits_at(nb_max(x), 0), NEG_ZERO_32);
        cr_assert_eq(scalar_of(nb_argmax(x)), 2);
        x = f32_with(1, &n, -1.0f, 2, blocks, pos_neg); /* +0. in an earlier block than -0. */
        cr_assert_eq(bits_at(nb_max(x), 0), POS_ZERO_32);
        cr_assert_eq(scalar_of(nb_argmax(x)), 40000);
        x = f32_with(1, &n, -1.0f, 2, blocks, neg_pos);
        cr_assert_eq(bits_at(nb_max(x), 0), NEG_ZERO_32);
        cr_assert_eq(scalar_of(nb_argmax(x)), 40000);
        /* one long row of two, along the dim; and down a long column (the column loops) */
        const int64_t at_rows[] = {n + 40000, n + 70000};
        nb_tensor *r = f32_with(NB_SHAPE(2, n), -1.0f, 2, at_rows, pos_neg);
        cr_assert_eq(bits_at(nb_max_dim(r, 1, false), 1), POS_ZERO_32);
        cr_assert_eq(index_at(nb_argmax_dim(r, 1, false), 1), 40000);
        const int64_t at_cols[] = {2 * 40000 + 1, 2 * 70000 + 1};
        nb_tensor *col = f32_with(NB_SHAPE(n, 2), -1.0f, 2, at_cols, neg_pos);
        cr_assert_eq(bits_at(nb_max_dim(col, 0, false), 1), NEG_ZERO_32);
        cr_assert_eq(index_at(nb_argmax_dim(col, 0, false), 1), 40000);
        /* the transpose reads it in order */
        cr_assert_eq(bits_at(nb_max(nb_t(col)), 0), NEG_ZERO_32);
    }
    nb_set_num_threads(0);
    assert_ok();
    nb_scope_end();
}

Test(reduce, nan_results_keep_the_first_nans_bits, .init = nb_test_setup)
{
    nb_scope_begin();
    /* float32: sign and payload kept; a signalling NaN is not quieted */
    const uint32_t a_b[] = {F32_NAN_A, F32_NAN_B}, s_a[] = {F32_SNAN, F32_NAN_A};
    const int64_t at13[] = {1, 3};
    nb_tensor *x = f32_with(NB_SHAPE(4), 2.0f, 2, at13, a_b); /* [2 A 2 B] */
    cr_assert_eq(bits_at(nb_max(x), 0), F32_NAN_A);
    cr_assert_eq(bits_at(nb_min(x), 0), F32_NAN_A);
    cr_assert_eq(scalar_of(nb_argmax(x)), 1);
    nb_tensor *m = nb_max_dim(nb_view(x, NB_SHAPE(2, 2)), 1, true); /* [[2 A] [2 B]] */
    cr_assert_eq(bits_at(m, 0), F32_NAN_A);
    cr_assert_eq(bits_at(m, 1), F32_NAN_B);
    nb_tensor *s = f32_with(NB_SHAPE(4), 2.0f, 2, at13, s_a); /* [2 sNaN 2 A] */
    cr_assert_eq(bits_at(nb_max(s), 0), F32_SNAN);
    cr_assert_eq(bits_at(nb_min(s), 0), F32_SNAN);
    cr_assert_eq(bits_at(nb_min_dim(s, 0, false), 0), F32_SNAN);

    /* float64 */
    const uint64_t b_a[] = {F64_NAN_B, F64_NAN_A};
    nb_tensor *d = f64_with(NB_SHAPE(4), 2.0, 2, at13, b_a);
    cr_assert_eq(bits_at(nb_max(d), 0), F64_NAN_B);
    cr_assert_eq(bits_at(nb_min(d), 0), F64_NAN_B);
    cr_assert_eq(bits_at(nb_max_dim(d, 0, false), 0), F64_NAN_B);
    /* transposed: A comes first in memory (at [0, 2]), B first in the view's order (at [1, 0]) */
    const int64_t at23[] = {2, 3};
    const uint64_t ab64[] = {F64_NAN_A, F64_NAN_B};
    nb_tensor *t = nb_t(f64_with(NB_SHAPE(3, 3), 0.0, 2, at23, ab64));
    cr_assert_eq(bits_at(nb_max(t), 0), F64_NAN_B);
    cr_assert_eq(scalar_of(nb_argmax(t)), 1);
    nb_tensor *tr = nb_min_dim(t, 1, false);
    cr_assert_eq(bits_at(tr, 0), F64_NAN_B);
    cr_assert_eq(bits_at(tr, 2), F64_NAN_A);

    /* expanded: a row [1 A B] repeated 4 times */
    const int64_t at12[] = {1, 2};
    nb_tensor *e = nb_expand(f32_with(NB_SHAPE(1, 3), 1.0f, 2, at12, a_b), NB_SHAPE(4, 3));
    cr_assert_eq(bits_at(nb_max(e), 0), F32_NAN_A);
    cr_assert_eq(scalar_of(nb_argmax(e)), 1);
    cr_assert_eq(bits_at(nb_max_dim(e, 0, false), 2), F32_NAN_B);
    cr_assert_eq(index_at(nb_argmax_dim(e, 0, false), 2), 0);

    /* long rows: the first NaN wins over a later one in another block, lane or chunk */
    const int counts[] = {1, 3};
    for (int c = 0; c < 2; c++) {
        nb_set_num_threads(counts[c]);
        const int64_t n = LONG_ROW;
        const int64_t blocks[] = {40000, 70000}, late_early[] = {90000, 10}, lanes[] = {33, 2};
        nb_tensor *r = f32_with(1, &n, 0.0f, 2, blocks, s_a);
        cr_assert_eq(bits_at(nb_max(r), 0), F32_SNAN);
        cr_assert_eq(bits_at(nb_min(r), 0), F32_SNAN);
        cr_assert_eq(scalar_of(nb_argmax(r)), 40000);
        r = f32_with(1, &n, 0.0f, 2, late_early, a_b);
        cr_assert_eq(bits_at(nb_max(r), 0), F32_NAN_B);
        cr_assert_eq(scalar_of(nb_argmin(r)), 10);
        r = f32_with(1, &n, 0.0f, 2, lanes, a_b);
        cr_assert_eq(bits_at(nb_max(r), 0), F32_NAN_B);
        cr_assert_eq(bits_at(nb_max_dim(r, 0, false), 0), F32_NAN_B);
        /* down columns: a NaN at row 300 before one at 700; sNaN at 100 before B at 200 */
        const int64_t at_cols[] = {300 * 100, 700 * 100, 100 * 100 + 1, 200 * 100 + 1};
        const uint32_t col_bits[] = {F32_NAN_A, F32_NAN_B, F32_SNAN, F32_NAN_B};
        nb_tensor *cols = f32_with(NB_SHAPE(1000, 100), 0.0f, 4, at_cols, col_bits);
        nb_tensor *cm = nb_max_dim(cols, 0, false);
        cr_assert_eq(bits_at(cm, 0), F32_NAN_A);
        cr_assert_eq(bits_at(cm, 1), F32_SNAN);
        cr_assert_eq(index_at(nb_argmin_dim(cols, 0, false), 0), 300);
        cr_assert_eq(index_at(nb_argmin_dim(cols, 0, false), 1), 100);
    }
    nb_set_num_threads(0);
    assert_ok();
    nb_scope_end();
}

Test(reduce, ties_in_long_rows_give_the_first_index, .init = nb_test_setup)
{
    nb_scope_begin();
    const int counts[] = {1, 3};
    for (int c = 0; c < 2; c++) {
        nb_set_num_threads(counts[c]);
        const int64_t n = LONG_ROW;
        nb_tensor *same = nb_full(1, &n, 2.5, NB_OPTS(NB_FLOAT32));
        cr_assert_eq(scalar_of(nb_argmax(same)), 0);
        cr_assert_eq(scalar_of(nb_argmin(same)), 0);
        const float nine = 9.0f, minus_nine = -9.0f;
        uint32_t nines[2], minus_nines[2];
        memcpy(&nines[0], &nine, 4), memcpy(&nines[1], &nine, 4);
        memcpy(&minus_nines[0], &minus_nine, 4), memcpy(&minus_nines[1], &minus_nine, 4);
        const int64_t early_late[] = {40000, 70000}, late[] = {90000, 70000};
        cr_assert_eq(scalar_of(nb_argmax(f32_with(1, &n, 1.0f, 2, early_late, nines))), 40000);
        cr_assert_eq(scalar_of(nb_argmax(f32_with(1, &n, 1.0f, 2, late, nines))), 70000);
        cr_assert_eq(scalar_of(nb_argmin(f32_with(1, &n, 1.0f, 2, late, minus_nines))), 70000);
        /* the same down a long column */
        const int64_t col_ties[] = {2 * 70000, 2 * 40000};
        nb_tensor *col = f32_with(NB_SHAPE(n, 2), 1.0f, 2, col_ties, nines);
        cr_assert_eq(index_at(nb_argmax_dim(col, 0, false), 0), 40000);
        cr_assert_eq(index_at(nb_argmax_dim(col, 0, false), 1), 0);
    }
    nb_set_num_threads(0);

    /* max is the element at argmax, whatever the ties: zeros of both signs and NaNs of several
     * kinds, along each dim of a matrix and of its transpose */
    const int64_t rows = 64, cols = 700;
    nb_tensor *x = nb_empty(NB_SHAPE(rows, cols), NB_OPTS(NB_FLOAT32));
    uint32_t *p = nb_data(x);
    const uint32_t minus_one = 0xbf800000u;
    const uint32_t kinds[] = {NEG_ZERO_32, POS_ZERO_32, minus_one, F32_NAN_A, F32_NAN_B, F32_SNAN};
    uint64_t r = 88172645463325252ull;
    for (int64_t i = 0; i < rows * cols; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        p[i] = kinds[r % 97 == 0 ? 3 + (r >> 8) % 3 : (r >> 8) % 3]; /* NaNs now and then */
    }
    uint32_t *in_bits = malloc((size_t)(rows * cols) * sizeof *in_bits); /* (rows, cols) */
    uint32_t *got = malloc((size_t)(rows + cols) * sizeof *got);         /* (outputs,) */
    int64_t *where = malloc((size_t)(rows + cols) * sizeof *where);      /* (outputs,) */
    for (int v = 0; v < 2; v++) {
        nb_tensor *in = v ? nb_t(x) : x;
        const int64_t *shape = nb_shape(in);
        cr_assert(nb_copy_to_array(in, in_bits, (size_t)(rows * cols) * sizeof *in_bits) == NB_OK);
        for (int dim = 0; dim < 2; dim++)
            for (int take_min = 0; take_min < 2; take_min++) {
                const int64_t outs = shape[1 - dim];
                nb_tensor *vals =
                    take_min ? nb_min_dim(in, dim, false) : nb_max_dim(in, dim, false);
                nb_tensor *at =
                    take_min ? nb_argmin_dim(in, dim, false) : nb_argmax_dim(in, dim, false);
                cr_assert(vals && at, "%s", nb_last_error());
                cr_assert(nb_copy_to_array(vals, got, (size_t)outs * sizeof *got) == NB_OK);
                cr_assert(nb_copy_to_array(at, where, (size_t)outs * sizeof *where) == NB_OK);
                for (int64_t o = 0; o < outs; o++) {
                    /* the element at the index: [o, k] along dim 1, [k, o] along dim 0 */
                    const int64_t k = where[o];
                    const uint32_t want = in_bits[dim == 1 ? o * shape[1] + k : k * shape[1] + o];
                    cr_assert_eq(got[o], want, "%s along dim %d%s, output %lld: %08x, not %08x",
                                 take_min ? "min" : "max", dim, v ? " of the transpose" : "",
                                 (long long)o, got[o], want);
                }
            }
    }
    free(in_bits), free(got), free(where);
    assert_ok();
    nb_scope_end();
}

Test(reduce, dtypes_of_results, .init = nb_test_setup)
{
    nb_scope_begin();
    bool bv[] = {true, false, true, true};
    nb_tensor *b = nb_from_array(bv, NB_SHAPE(2, 2), NB_OPTS(NB_BOOL));
    nb_tensor *s = nb_sum(b);
    cr_assert_eq(nb_dtype_of(s), NB_INT64);
    cr_assert_eq(scalar_of(s), 3);
    cr_assert_eq(nb_dtype_of(nb_max(b)), NB_BOOL);
    cr_assert_eq(scalar_of(nb_max(b)), 1); /* logical or */
    cr_assert_eq(scalar_of(nb_min(b)), 0); /* logical and */
    double or1[] = {1, 1}, and1[] = {0, 1};
    assert_values(nb_max_dim(b, 1, false), or1, 2, 0, 0);
    assert_values(nb_min_dim(b, 1, false), and1, 2, 0, 0);
    cr_assert_eq(nb_dtype_of(nb_sum_dim(b, 0, false)), NB_INT64);
    cr_assert_eq(nb_dtype_of(nb_argmax(b)), NB_INT64);
    cr_assert_eq(nb_dtype_of(nb_argmax_dim(b, 0, true)), NB_INT64);
    int64_t iv[] = {INT64_MAX, 1, -5};
    nb_tensor *i = nb_from_array(iv, NB_SHAPE(3), NB_OPTS(NB_INT64));
    cr_assert_eq(nb_dtype_of(nb_sum(i)), NB_INT64);
    int64_t wrapped = (int64_t)((uint64_t)INT64_MAX + 1u - 5u); /* wraps like PyTorch */
    cr_assert_eq(((int64_t *)nb_data(nb_sum(i)))[0], wrapped);
    cr_assert_eq(((int64_t *)nb_data(nb_max(i)))[0], INT64_MAX); /* exact, no double */
    cr_assert_eq(nb_dtype_of(nb_mean(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT64)))), NB_FLOAT64);
    assert_ok();
    nb_scope_end();
}

/* ---------------------------------------------------------------- 0-d and empty tensors */

Test(reduce, zero_dim_inputs, .init = nb_test_setup)
{
    nb_scope_begin();
    const int64_t no_dims[1] = {0}; /* the shape pointer of a 0-d tensor */
    nb_tensor *x = nb_full(0, no_dims, 2.5, NB_OPTS(NB_FLOAT32));
    cr_assert_eq(scalar_of(nb_sum(x)), 2.5);
    cr_assert_eq(scalar_of(nb_max(x)), 2.5);
    cr_assert_eq(scalar_of(nb_argmin(x)), 0);
    for (int dim = -1; dim <= 0; dim++)
        for (int keep = 0; keep < 2; keep++) {
            cr_assert_eq(scalar_of(nb_sum_dim(x, dim, keep)), 2.5);
            cr_assert_eq(scalar_of(nb_mean_dim(x, dim, keep)), 2.5);
            cr_assert_eq(scalar_of(nb_min_dim(x, dim, keep)), 2.5);
            cr_assert_eq(scalar_of(nb_argmax_dim(x, dim, keep)), 0);
        }
    cr_assert_null(nb_sum_dim(x, 1, false));
    assert_error(NB_ERR_ARGUMENT,
                 ERR_PARTS("nb_sum_dim", "dim 1 is out of range for a 0-d tensor"));
    nb_scope_end();
}

Test(reduce, empty_tensors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *e = nb_zeros(NB_SHAPE(0), NB_OPTS(NB_FLOAT32));
    nb_tensor *s = nb_sum(e);
    cr_assert_eq(nb_dtype_of(s), NB_FLOAT32);
    cr_assert_eq(scalar_of(s), 0.0);
    cr_assert(isnan(scalar_of(nb_mean(e))));
    cr_assert_eq(scalar_of(nb_sum(nb_zeros(NB_SHAPE(2, 0, 3), NB_OPTS(NB_INT64)))), 0);
    cr_assert_eq(scalar_of(nb_sum(nb_zeros(NB_SHAPE(0, 4), NB_OPTS(NB_BOOL)))), 0);

    nb_tensor *e2 = nb_zeros(NB_SHAPE(3, 0), NB_OPTS(NB_FLOAT64));
    double zeros[3] = {0, 0, 0}, nans[3] = {NAN, NAN, NAN};
    nb_tensor *sd = nb_sum_dim(e2, 1, true);
    cr_assert_eq(nb_ndim(sd), 2);
    cr_assert_eq(nb_shape(sd)[0], 3);
    cr_assert_eq(nb_shape(sd)[1], 1);
    assert_values(sd, zeros, 3, 0, 0);
    assert_values(nb_mean_dim(e2, -1, false), nans, 3, 0, 0);
    /* reducing the non-empty dim of an empty tensor gives an empty result, as in PyTorch */
    nb_tensor *m0 = nb_max_dim(e2, 0, false);
    cr_assert(m0 != NULL, "%s", nb_last_error());
    cr_assert_eq(nb_numel(m0), 0);
    cr_assert_eq(nb_shape(m0)[0], 0);
    nb_tensor *a0 = nb_argmin_dim(e2, 0, true);
    cr_assert(a0 != NULL, "%s", nb_last_error());
    cr_assert_eq(nb_shape(a0)[0], 1);
    cr_assert_eq(nb_shape(a0)[1], 0);
    nb_tensor *s0 = nb_sum_dim(e2, 0, false);
    cr_assert_eq(nb_numel(s0), 0);
    assert_ok();
    nb_scope_end();
}

/* ---------------------------------------------------------------- large inputs, threads */

/* (rows, cols) of deterministic float32 values in [-1, 1) with a few large ones. */
static nb_tensor *pattern(int64_t rows, int64_t cols)
{
    nb_tensor *t = nb_empty(NB_SHAPE(rows, cols), NB_OPTS(NB_FLOAT32));
    float *p = nb_data(t);
    uint64_t s = 88172645463325252ull;
    for (int64_t i = 0; i < rows * cols; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        if (s % 997 == 0) p[i] *= 100.0f;
    }
    return t;
}

/* A plain reference: op ("sum", "max", "argmax") along dim of a contiguous (rows, cols) f32. */
static void reference(const float *p, int64_t rows, int64_t cols, int dim, const char *op,
                      double *out)
{
    int64_t outer = dim == 0 ? cols : rows, n = dim == 0 ? rows : cols;
    for (int64_t o = 0; o < outer; o++) {
        double sum = 0, best = 0;
        int64_t where = 0;
        for (int64_t k = 0; k < n; k++) {
            double x = dim == 0 ? p[k * cols + o] : p[o * cols + k];
            sum += x;
            if (k == 0 || x > best) best = x, where = k;
        }
        out[o] = strcmp(op, "sum") == 0 ? sum : strcmp(op, "max") == 0 ? best : (double)where;
    }
}

Test(reduce, large_against_reference, .init = nb_test_setup)
{
    /* strips of 2048 columns and a remainder, rows in fours and a remainder, long rows */
    const int64_t shapes[][2] = {{1537, 1031}, {70, 5000}, {3, 70001}, {70001, 3}, {1, 300000}};
    for (int k = 0; k < 5; k++) {
        nb_scope_begin();
        const int64_t rows = shapes[k][0], cols = shapes[k][1];
        nb_tensor *x = pattern(rows, cols);
        const float *p = nb_data(x);
        double *want = malloc((size_t)(rows > cols ? rows : cols) * sizeof(double));
        char what[128];
        for (int dim = 0; dim < 2; dim++) {
            int64_t n = dim == 0 ? cols : rows;
            reference(p, rows, cols, dim, "sum", want);
            snprintf(what, sizeof what, "sum_dim(%lld x %lld, %d)", (long long)rows,
                     (long long)cols, dim);
            nb_tensor *sums = nb_sum_dim(x, dim, false);
            cr_assert(sums != NULL, "%s: %s", what, nb_last_error());
            assert_values(sums, want, n, 1e-5, 1e-4);
            reference(p, rows, cols, dim, "max", want);
            assert_values(nb_max_dim(x, dim, false), want, n, 0, 0);
            reference(p, rows, cols, dim, "argmax", want);
            assert_values(nb_argmax_dim(x, dim, false), want, n, 0, 0);
            /* the transposed view reads the same memory the other way round */
            assert_values(nb_argmax_dim(nb_t(x), 1 - dim, false), want, n, 0, 0);
        }
        double total = 0, best = p[0];
        int64_t where = 0;
        for (int64_t i = 0; i < rows * cols; i++) {
            total += p[i];
            if (p[i] > best) best = p[i], where = i;
        }
        assert_values(nb_sum(x), &total, 1, 1e-5, 1e-3);
        assert_values(nb_sum(nb_t(x)), &total, 1, 1e-5, 1e-3);
        assert_values(nb_max(nb_t(x)), &best, 1, 0, 0);
        double w = (double)where;
        assert_values(nb_argmax(x), &w, 1, 0, 0);
        where = 0; /* the transposed view counts its indices in its own order */
        for (int64_t i = 0; i < cols; i++)
            for (int64_t j = 0; j < rows; j++)
                if (p[j * cols + i] > p[where / rows + (where % rows) * cols]) where = i * rows + j;
        w = (double)where;
        assert_values(nb_argmax(nb_t(x)), &w, 1, 0, 0);
        free(want);
        assert_ok();
        nb_scope_end();
    }
}

Test(reduce, float32_sums_accumulate_in_float64, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *ones = nb_ones(NB_SHAPE(10000000), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(scalar_of(nb_sum(ones)), 10000000.0); /* float32 accumulation stalls at 2^24 */
    cr_assert_eq(scalar_of(nb_mean(ones)), 1.0);
    nb_tensor *tenths = nb_full(NB_SHAPE(4000000), 0.1, NB_OPTS(NB_FLOAT32));
    double want = (double)(float)(4000000.0 * (double)0.1f); /* the float64 sum, rounded once */
    cr_assert_eq(scalar_of(nb_sum(tenths)), want);
    /* along a dim too: a column of 2^25 ones would stall at 2^24 in float32 */
    nb_tensor *col = nb_ones(NB_SHAPE(1 << 25, 1), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(((float *)nb_data(nb_sum_dim(col, 0, false)))[0], 33554432.0f);
    assert_ok();
    nb_scope_end();
}

Test(reduce, same_bits_for_every_thread_count, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = pattern(1024, 4099); /* 4.2M elements, 3 column strips: threaded */
    nb_tensor *x64 = nb_to_dtype(x, NB_FLOAT64);
    nb_tensor *xt = nb_t(x64);
    const int counts[] = {1, 2, 3, 8};
    nb_tensor *base[9] = {0};
    for (int c = 0; c < 4; c++) {
        nb_set_num_threads(counts[c]);
        nb_tensor *r[9] = {
            nb_sum(x),
            nb_sum(x64),
            nb_mean(xt),
            nb_max(x),
            nb_sum_dim(x, 0, false),
            nb_sum_dim(x, 1, false),
            nb_sum_dim(xt, 0, false),
            nb_argmax(x),
            nb_mean_dim(x64, 1, true),
        };
        for (int i = 0; i < 9; i++) {
            cr_assert(r[i] != NULL, "%s", nb_last_error());
            if (c == 0) {
                base[i] = r[i];
                continue;
            }
            char what[64];
            snprintf(what, sizeof what, "result %d with %d threads", i, counts[c]);
            check_same_bits(what, r[i], base[i]);
        }
    }
    nb_set_num_threads(0);
    assert_ok();
    nb_scope_end();
}

/* ---------------------------------------------------------------- scopes */

Test(reduce, results_belong_to_the_open_scope, .init = nb_test_setup)
{
    nb_tensor *x = nb_ones(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    nb_scope_begin();
    nb_tensor *kept = nb_keep(nb_max_dim(x, 1, false)); /* its internal indices are not leaked */
    nb_sum(x);
    nb_argmin_dim(x, 0, true);
    cr_assert_eq(nb_scope_end(), NB_OK);
    double ones[3] = {1, 1, 1};
    assert_values(kept, ones, 3, 0, 0);
    nb_release(kept);
    nb_release(x);
}

/* ---------------------------------------------------------------- errors */

Test(reduce, mean_needs_a_floating_dtype, .init = nb_test_setup)
{
    nb_tensor *i = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_INT64));
    nb_tensor *b = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_BOOL));
    cr_assert_null(nb_mean(i));
    assert_error(NB_ERR_DTYPE,
                 ERR_PARTS("nb_mean: expected a floating dtype (float32, float64, float16 or bfloat16), got int64"));
    cr_assert_null(nb_mean(b));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mean", "got bool"));
    cr_assert_null(nb_mean_dim(i, 0, false));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mean_dim", "float32, float64, float16 or bfloat16", "got int64"));
    cr_assert_null(nb_mean_dim(b, 1, true));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mean_dim", "got bool"));
    nb_release(i);
    nb_release(b);
}

Test(reduce, empty_reductions_without_identity, .init = nb_test_setup)
{
    nb_tensor *e = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    const char *names[] = {"nb_max", "nb_min", "nb_argmax", "nb_argmin"};
    whole_fn fns[] = {nb_max, nb_min, nb_argmax, nb_argmin};
    for (int k = 0; k < 4; k++) {
        cr_assert_null(fns[k](e));
        assert_error(NB_ERR_ARGUMENT,
                     ERR_PARTS(names[k],
                               "cannot reduce an empty tensor: the operation has no identity",
                               "[0, 3]"));
    }
    const char *dim_names[] = {"nb_max_dim", "nb_min_dim", "nb_argmax_dim", "nb_argmin_dim"};
    dim_fn dim_fns[] = {nb_max_dim, nb_min_dim, nb_argmax_dim, nb_argmin_dim};
    for (int k = 0; k < 4; k++) {
        cr_assert_null(dim_fns[k](e, 0, false));
        assert_error(NB_ERR_ARGUMENT,
                     ERR_PARTS(dim_names[k], "dim 0 of size 0", "no identity", "[0, 3]"));
        cr_assert_null(dim_fns[k](e, -2, true));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(dim_names[k], "dim 0 of size 0"));
    }
    nb_release(e);
}

Test(reduce, dims_out_of_range, .init = nb_test_setup)
{
    nb_tensor *x = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    const char *names[] = {"nb_sum_dim", "nb_mean_dim",   "nb_max_dim",
                           "nb_min_dim", "nb_argmax_dim", "nb_argmin_dim"};
    for (int k = 0; k < NOPS; k++) {
        cr_assert_null(OPS[k].along(x, 3, false));
        assert_error(NB_ERR_ARGUMENT,
                     ERR_PARTS(names[k], "dim 3 is out of range for a 2-d tensor"));
        cr_assert_null(OPS[k].along(x, -3, true));
        assert_error(NB_ERR_ARGUMENT,
                     ERR_PARTS(names[k], "dim -3 is out of range for a 2-d tensor"));
    }
    nb_release(x);
}

Test(reduce, null_inputs, .init = nb_test_setup)
{
    const char *names[] = {"nb_sum", "nb_mean", "nb_max", "nb_min", "nb_argmax", "nb_argmin"};
    const char *dim_names[] = {"nb_sum_dim", "nb_mean_dim",   "nb_max_dim",
                               "nb_min_dim", "nb_argmax_dim", "nb_argmin_dim"};
    for (int k = 0; k < NOPS; k++) {
        cr_assert_null(OPS[k].whole(NULL));
        assert_error(NB_ERR_NULL, ERR_PARTS(names[k], "tensor is NULL"));
        cr_assert_null(OPS[k].along(NULL, 0, false));
        assert_error(NB_ERR_NULL, ERR_PARTS(dim_names[k], "tensor is NULL"));
    }
    /* the first error is kept through a chain */
    cr_assert_null(nb_sum(nb_mean(nb_max_dim(NULL, 0, false))));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_max_dim"));
}
