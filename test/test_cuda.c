/* test_cuda.c — the CUDA backend: every op on cuda:0 against the same op on the CPU (the CPU is
 * the reference: normalised MSE sum((a-b)^2)/sum(b^2) <= 1e-7 for float32, bit-equal int64 and
 * bool), the caching allocator's statistics, and the errors of devices that are missing or mixed.
 *
 * Tests whose fixture is cuda_test_setup skip (cr_skip_test) without a device, and in builds without
 * CUDA; the tests under "no device" at the top run everywhere and check that a missing GPU is a
 * clear, reported state. */
#include "cuda_checks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPU NB_DEVICE_CUDA(0)
#define CPU NB_DEVICE_CPU

static const nb_dtype all_dtypes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
#define N_DTYPES 4


static bool built_with_cuda(void) { return strstr(nb_config_string(), "cuda: not built") == NULL; }

/* ================================================================ no device (run everywhere) */

Test(cuda, device_count_is_zero_without_a_device_and_says_why, .init = nb_test_setup)
{
    int n = nb_cuda_device_count();
    cr_assert_geq(n, 0);
    if (n > 0) cr_skip_test("a CUDA device is present (%d)", n);
    const char *reason = nb_cuda_available_reason();
    cr_assert(reason && *reason, "no reason given for having no device");
    if (!built_with_cuda()) cr_assert_str_eq(reason, "nabla was built without CUDA");
    assert_ok(); /* asking is not an error */

    char name[64] = "unchanged";
    cr_assert_eq(nb_cuda_device_name(0, name, sizeof name), NB_ERR_DEVICE);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_cuda_device_name", "cuda:0"));
    size_t free_bytes = 1, total_bytes = 1;
    cr_assert_eq(nb_cuda_memory(0, &free_bytes, &total_bytes), NB_ERR_DEVICE);
    cr_assert_eq(free_bytes, 0);
    cr_assert_eq(total_bytes, 0);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_cuda_memory", "cuda:0"));
    nb_cuda_stats stats = {.allocated = 7};
    cr_assert_eq(nb_cuda_memory_stats(0, &stats), NB_ERR_DEVICE);
    cr_assert_eq(stats.allocated, 0);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_cuda_memory_stats", "cuda:0", reason));
    nb_cuda_empty_cache(); /* nothing to return; must not start anything */
    assert_ok();
}

Test(cuda, creating_on_cuda_without_a_device_fails_naming_the_device, .init = nb_test_setup)
{
    if (nb_cuda_device_count() > 0) cr_skip_test("a CUDA device is present");
    nb_tensor *t = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32, .device = GPU));
    cr_assert_null(t);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("cuda:0", nb_cuda_available_reason()));
    cr_assert_null(nb_randn(NB_SHAPE(4), NB_OPTS(NB_FLOAT32, .device = GPU)));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_randn", "cuda:0", nb_cuda_available_reason())); /* drawn there */
    cr_assert_null(nb_arange(0, 5, 1, NB_OPTS(NB_INT64, .device = NB_DEVICE_CUDA(1))));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("cuda:1")); /* made there (nb_arange) or moved there (nb_to) */
}

Test(cuda, moving_to_cuda_without_a_device_fails_cleanly, .init = nb_test_setup)
{
    if (nb_cuda_device_count() > 0) cr_skip_test("a CUDA device is present");
    const float v[3] = {1, 2, 3};
    nb_tensor *t = nb_from_array(v, NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *moved = nb_to(t, GPU);
    cr_assert_null(moved);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_to: cannot copy from cpu to cuda:0", "no CUDA device is available",
                                          nb_cuda_available_reason()));
    /* the source is untouched and still usable */
    assert_values(t, (const double[]){1, 2, 3}, 3, 0, 0);
    nb_tensor *same = nb_to(t, CPU); /* the same device: a new reference, no copy */
    cr_assert_not_null(same);
    cr_assert_eq(nb_data(same), nb_data(t));
    nb_release(same);
    nb_release(t);
}

Test(cuda, config_string_reports_cuda, .init = nb_test_setup)
{
    const char *c = nb_config_string();
    cr_assert(strstr(c, "cuda: ") != NULL, "no cuda part in \"%s\"", c);
    int n = nb_cuda_device_count();
    if (!built_with_cuda()) {
        cr_assert(strstr(c, "cuda: not built") != NULL, "%s", c);
    } else if (n == 0) {
        char want[512];
        snprintf(want, sizeof want, "cuda: built, no device (%s)", nb_cuda_available_reason());
        cr_assert(strstr(c, want) != NULL, "\"%s\" lacks \"%s\"", c, want);
    } else {
        char want[64], name[256];
        snprintf(want, sizeof want, "cuda: %d device%s (", n, n == 1 ? "" : "s");
        cr_assert(strstr(c, want) != NULL, "\"%s\" lacks \"%s\"", c, want);
        cr_assert_eq(nb_cuda_device_name(0, name, sizeof name), NB_OK);
        cr_assert(strstr(c, name) != NULL, "\"%s\" lacks the device name \"%s\"", c, name);
    }
    assert_ok();
}

Test(cuda, a_device_index_out_of_range_is_refused, .init = nb_test_setup)
{
    int n = nb_cuda_device_count();
    char dev[32];
    snprintf(dev, sizeof dev, "cuda:%d", n + 3);
    cr_assert_null(nb_empty(NB_SHAPE(4), NB_OPTS(NB_FLOAT32, .device = NB_DEVICE_CUDA(n + 3))));
    assert_error(NB_ERR_DEVICE, ERR_PARTS(dev));
    cr_assert_null(nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32, .device = NB_DEVICE_CUDA(-1))));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_zeros", "cuda:-1"));
    char name[64];
    cr_assert_eq(nb_cuda_device_name(n + 3, name, sizeof name), NB_ERR_DEVICE);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_cuda_device_name", dev));
}

/* ================================================================ parity helpers */

/* got (computed on cuda:0) against want: parity_helpers.c's comparison, within normalised MSE tol
 * (0: equal values), or the default tolerances against the CPU. */
static void assert_parity_tol(const nb_tensor *got, const nb_tensor *want, double tol, const char *what)
{
    cuda_assert_close(got, want, GPU, tol, what);
}

static void assert_parity(const nb_tensor *got, const nb_tensor *want, const char *what)
{
    cuda_assert_match(got, want, GPU, what);
}

/* The CPU failed with cpu_status (or succeeded with want): CUDA must do the same. */
static void assert_same_outcome(const nb_tensor *got, const nb_tensor *want, nb_status cpu_status,
                                const char *what)
{
    if (!want) {
        cr_assert_null(got, "%s: the CPU refuses it (%s) but CUDA gave a result", what, nb_status_name(cpu_status));
        cr_assert_eq(nb_last_status(), cpu_status, "%s: CUDA failed with %s (%s), the CPU with %s", what,
                     nb_status_name(nb_last_status()), nb_last_error(), nb_status_name(cpu_status));
        nb_clear_error();
        return;
    }
    assert_parity(got, want, what);
}

/* ---------------------------------------------------------------- inputs */

/* Layouts of test inputs; each gives the same values on either device. */
typedef enum layout {
    CONTIG,     /* (4, 5) */
    TRANSPOSED, /* (4, 5), the transpose of a contiguous (5, 4) */
    EXPANDED,   /* (4, 5), a (1, 5) row repeated (stride 0) */
    PERMUTED,   /* (3, 4, 5), a permuted contiguous (5, 3, 4) */
    NARROWED,   /* (4, 5), columns 2..6 of a contiguous (4, 9): rows 9 apart */
    COLUMN,     /* (4, 1) */
    ROW,        /* (1, 5) */
    SCALAR,     /* 0-d */
    BIG,        /* (3000017,): several grid-stride steps, a ragged end */
} layout;
static const char *layout_names[] = {"contiguous", "transposed", "expanded", "permuted", "narrowed",
                                     "column", "row", "0-d", "big"};

/* The tensor of layout l and dtype dt on device, its values drawn from seed (positive: > 0.5 for
 * floats, >= 1 for int64). Registered in the open scope. */
static nb_tensor *input(layout l, nb_dtype dt, nb_device device, uint64_t seed, bool positive)
{
    static const int64_t base_shapes[][3] = {
        [CONTIG] = {4, 5}, [TRANSPOSED] = {5, 4}, [EXPANDED] = {1, 5}, [PERMUTED] = {5, 3, 4},
        [NARROWED] = {4, 9}, [COLUMN] = {4, 1}, [ROW] = {1, 5}, [SCALAR] = {0}, [BIG] = {3000017}};
    static const int base_ndim[] = {2, 2, 2, 3, 2, 2, 2, 0, 1};
    nb_manual_seed(seed);
    nb_tensor *x = nb_randn(base_ndim[l], base_shapes[l], NB_OPTS(NB_FLOAT64)); /* the CPU */
    nb_tensor *v;
    switch (dt) {
    case NB_BOOL: v = nb_gt_scalar(x, 0); break;
    case NB_INT64: v = nb_to_dtype(positive ? nb_add_scalar(nb_mul_scalar(nb_abs(x), 3), 1) : nb_mul_scalar(x, 3), NB_INT64); break;
    default: v = nb_to_dtype(positive ? nb_add_scalar(nb_abs(x), 0.5) : x, dt); break;
    }
    nb_tensor *d = nb_to(v, device);
    cr_assert_not_null(d, "input on %s: %s", device.type == NB_CPU ? "cpu" : "cuda", nb_last_error());
    switch (l) {
    case TRANSPOSED: return nb_t(d);
    case EXPANDED: return nb_expand(d, NB_SHAPE(4, 5));
    case PERMUTED: return nb_permute(d, NB_DIMS(1, 2, 0));
    case NARROWED: return nb_narrow(d, 1, 2, 5);
    default: return d;
    }
}

typedef nb_tensor *(*op1)(const nb_tensor *);
typedef nb_tensor *(*op2)(const nb_tensor *, const nb_tensor *);

/* ================================================================ elementwise parity */

static nb_tensor *clamp_both(const nb_tensor *x) { return nb_clamp(x, -0.5, 0.7); }
static nb_tensor *clamp_ints(const nb_tensor *x) { return nb_clamp(x, -2, 3); }
static nb_tensor *clamp_min0(const nb_tensor *x) { return nb_clamp_min(x, 0); }
static nb_tensor *clamp_max1(const nb_tensor *x) { return nb_clamp_max(x, 1); }
static nb_tensor *add_s(const nb_tensor *x) { return nb_add_scalar(x, 1.5); }
static nb_tensor *add_i(const nb_tensor *x) { return nb_add_scalar(x, 3); }
static nb_tensor *sub_s(const nb_tensor *x) { return nb_sub_scalar(x, 2); }
static nb_tensor *mul_s(const nb_tensor *x) { return nb_mul_scalar(x, 2.5); }
static nb_tensor *mul_i(const nb_tensor *x) { return nb_mul_scalar(x, -3); }
static nb_tensor *div_s(const nb_tensor *x) { return nb_div_scalar(x, 4); }
static nb_tensor *rsub_s(const nb_tensor *x) { return nb_rsub_scalar(x, 1.5); }
static nb_tensor *rsub_i(const nb_tensor *x) { return nb_rsub_scalar(x, 2); }
static nb_tensor *pow_3(const nb_tensor *x) { return nb_pow_scalar(x, 3); }
static nb_tensor *pow_half(const nb_tensor *x) { return nb_pow_scalar(x, 0.5); }
static nb_tensor *square(const nb_tensor *x) { return nb_pow_scalar(x, 2); }
static nb_tensor *lt_s(const nb_tensor *x) { return nb_lt_scalar(x, 0.25); }
static nb_tensor *le_s(const nb_tensor *x) { return nb_le_scalar(x, 1); }
static nb_tensor *gt_s(const nb_tensor *x) { return nb_gt_scalar(x, -0.25); }
static nb_tensor *ge_s(const nb_tensor *x) { return nb_ge_scalar(x, 0); }
static nb_tensor *eq_s(const nb_tensor *x) { return nb_eq_scalar(x, 1); }
static nb_tensor *ne_s(const nb_tensor *x) { return nb_ne_scalar(x, 0); }
static nb_tensor *masked_fill_s(const nb_tensor *a, const nb_tensor *b)
{
    return nb_masked_fill(a, nb_gt_scalar(b, 0), 2.5);
}
static nb_tensor *where_gt(const nb_tensor *a, const nb_tensor *b) { return nb_where(nb_gt(a, b), a, b); }

static const struct {
    const char *name;
    op1 fn;
    bool positive; /* inputs in the op's domain */
} unary_rows[] = {
    {"nb_neg", nb_neg, false},         {"nb_abs", nb_abs, false},       {"nb_exp", nb_exp, false},
    {"nb_log", nb_log, true},          {"nb_sqrt", nb_sqrt, true},      {"nb_sigmoid", nb_sigmoid, false},
    {"nb_tanh", nb_tanh, false},       {"nb_relu", nb_relu, false},     {"nb_clamp", clamp_both, false},
    {"nb_clamp int", clamp_ints, false}, {"nb_clamp_min", clamp_min0, false}, {"nb_clamp_max", clamp_max1, false},
    {"nb_add_scalar 1.5", add_s, false}, {"nb_add_scalar 3", add_i, false}, {"nb_sub_scalar", sub_s, false},
    {"nb_mul_scalar 2.5", mul_s, false}, {"nb_mul_scalar -3", mul_i, false}, {"nb_div_scalar", div_s, false},
    {"nb_rsub_scalar 1.5", rsub_s, false}, {"nb_rsub_scalar 2", rsub_i, false}, {"nb_pow_scalar 3", pow_3, false},
    {"nb_pow_scalar 0.5", pow_half, true}, {"nb_pow_scalar 2", square, false}, {"nb_lt_scalar", lt_s, false},
    {"nb_le_scalar", le_s, false},     {"nb_gt_scalar", gt_s, false},   {"nb_ge_scalar", ge_s, false},
    {"nb_eq_scalar", eq_s, false},     {"nb_ne_scalar", ne_s, false},   {"nb_clone", nb_clone, false},
    {"nb_contiguous", nb_contiguous, false},
};

static const struct {
    const char *name;
    op2 fn;
    bool positive;
} binary_rows[] = {
    {"nb_add", nb_add, false}, {"nb_sub", nb_sub, false}, {"nb_mul", nb_mul, false},
    {"nb_div", nb_div, true},  {"nb_pow", nb_pow, true},  {"nb_lt", nb_lt, false},
    {"nb_le", nb_le, false},   {"nb_gt", nb_gt, false},   {"nb_ge", nb_ge, false},
    {"nb_eq", nb_eq, false},   {"nb_ne", nb_ne, false},   {"nb_masked_fill", masked_fill_s, false},
    {"nb_where", where_gt, false},
};

/* Pairs of layouts that broadcast together. */
static const layout binary_layouts[][2] = {
    {CONTIG, CONTIG}, {TRANSPOSED, CONTIG}, {CONTIG, EXPANDED}, {PERMUTED, NARROWED},
    {COLUMN, ROW},    {CONTIG, SCALAR},     {SCALAR, TRANSPOSED},
};

static void check_unary(const char *name, op1 fn, layout l, nb_dtype dt, bool positive)
{
    char what[160];
    snprintf(what, sizeof what, "%s (%s, %s)", name, nb_dtype_name(dt), layout_names[l]);
    nb_scope_begin();
    nb_tensor *want = fn(input(l, dt, CPU, 11, positive));
    nb_status cpu_status = nb_last_status();
    nb_clear_error();
    nb_tensor *got = fn(input(l, dt, GPU, 11, positive));
    assert_same_outcome(got, want, cpu_status, what);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
}

static void check_binary(const char *name, op2 fn, layout la, nb_dtype da, layout lb, nb_dtype db, bool positive)
{
    char what[200];
    snprintf(what, sizeof what, "%s (%s %s, %s %s)", name, nb_dtype_name(da), layout_names[la],
             nb_dtype_name(db), layout_names[lb]);
    nb_scope_begin();
    nb_tensor *want = fn(input(la, da, CPU, 21, positive), input(lb, db, CPU, 22, positive));
    nb_status cpu_status = nb_last_status();
    nb_clear_error();
    nb_tensor *got = fn(input(la, da, GPU, 21, positive), input(lb, db, GPU, 22, positive));
    assert_same_outcome(got, want, cpu_status, what);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
}

Test(cuda, unary_and_scalar_ops_match_the_cpu, .init = cuda_test_setup)
{
    static const layout layouts[] = {CONTIG, TRANSPOSED, EXPANDED, PERMUTED, NARROWED, SCALAR};
    for (size_t r = 0; r < sizeof unary_rows / sizeof unary_rows[0]; r++)
        for (int d = 0; d < N_DTYPES; d++)
            for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++)
                check_unary(unary_rows[r].name, unary_rows[r].fn, layouts[l], all_dtypes[d], unary_rows[r].positive);
}

Test(cuda, binary_ops_match_the_cpu_with_broadcasting_and_strides, .init = cuda_test_setup)
{
    for (size_t r = 0; r < sizeof binary_rows / sizeof binary_rows[0]; r++)
        for (int d = 0; d < N_DTYPES; d++)
            for (size_t l = 0; l < sizeof binary_layouts / sizeof binary_layouts[0]; l++)
                check_binary(binary_rows[r].name, binary_rows[r].fn, binary_layouts[l][0], all_dtypes[d],
                             binary_layouts[l][1], all_dtypes[d], binary_rows[r].positive);
}

Test(cuda, mixed_dtypes_promote_like_the_cpu, .init = cuda_test_setup)
{
    static const nb_dtype pairs[][2] = {{NB_FLOAT32, NB_INT64}, {NB_BOOL, NB_FLOAT64}, {NB_INT64, NB_BOOL},
                                        {NB_FLOAT64, NB_FLOAT32}};
    for (size_t r = 0; r < sizeof binary_rows / sizeof binary_rows[0]; r++)
        for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++)
            check_binary(binary_rows[r].name, binary_rows[r].fn, TRANSPOSED, pairs[p][0], COLUMN, pairs[p][1],
                         binary_rows[r].positive);
}

Test(cuda, large_tensors_run_every_grid_stride_step, .init = cuda_test_setup)
{
    static const nb_dtype dts[] = {NB_FLOAT32, NB_INT64};
    for (int d = 0; d < 2; d++) {
        check_unary("nb_exp", nb_exp, BIG, dts[d], false);
        check_unary("nb_neg", nb_neg, BIG, dts[d], false);
        check_unary("nb_gt_scalar", gt_s, BIG, dts[d], false);
        check_binary("nb_add", nb_add, BIG, dts[d], BIG, dts[d], false);
        check_binary("nb_where", where_gt, BIG, dts[d], SCALAR, dts[d], false);
    }
}

/* ---------------------------------------------------------------- fills and in-place ops */

Test(cuda, fills_match_the_cpu, .init = cuda_test_setup)
{
    for (int d = 0; d < N_DTYPES; d++) {
        nb_dtype dt = all_dtypes[d];
        char what[96];
        nb_scope_begin();
        snprintf(what, sizeof what, "nb_full (%s)", nb_dtype_name(dt));
        assert_parity(nb_full(NB_SHAPE(3, 7), -2.75, NB_OPTS(dt, .device = GPU)), nb_full(NB_SHAPE(3, 7), -2.75, NB_OPTS(dt)), what);
        snprintf(what, sizeof what, "nb_zeros (%s)", nb_dtype_name(dt));
        assert_parity(nb_zeros(NB_SHAPE(1000), NB_OPTS(dt, .device = GPU)), nb_zeros(NB_SHAPE(1000), NB_OPTS(dt)), what);
        snprintf(what, sizeof what, "nb_ones (%s)", nb_dtype_name(dt));
        assert_parity(nb_ones(NB_SHAPE(2, 0, 3), NB_OPTS(dt, .device = GPU)), nb_ones(NB_SHAPE(2, 0, 3), NB_OPTS(dt)), what);
        /* a fill through a strided view writes only the view's elements */
        nb_tensor *c = nb_zeros(NB_SHAPE(4, 9), NB_OPTS(dt)), *g = nb_zeros(NB_SHAPE(4, 9), NB_OPTS(dt, .device = GPU));
        nb_fill_(nb_t(nb_narrow(c, 1, 2, 5)), 1);
        nb_fill_(nb_t(nb_narrow(g, 1, 2, 5)), 1);
        snprintf(what, sizeof what, "nb_fill_ of a strided view (%s)", nb_dtype_name(dt));
        assert_parity(g, c, what);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
    nb_scope_begin();
    assert_parity(nb_arange(-3, 7, 0.5, NB_OPTS(NB_FLOAT32, .device = GPU)), nb_arange(-3, 7, 0.5, NB_OPTS(NB_FLOAT32)), "nb_arange");
    nb_manual_seed(3);
    nb_tensor *rg = nb_randn(NB_SHAPE(5, 6), NB_OPTS(NB_FLOAT64, .device = GPU));
    nb_manual_seed(3);
    assert_parity(rg, nb_randn(NB_SHAPE(5, 6), NB_OPTS(NB_FLOAT64)), "nb_randn (a seed gives the same values)");
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

typedef nb_tensor *(*inplace_fn)(nb_tensor *, const nb_tensor *);
static nb_tensor *add_scaled(nb_tensor *t, const nb_tensor *b) { return nb_add_scaled_(t, b, 0.75); }
static nb_tensor *sub_scaled(nb_tensor *t, const nb_tensor *b) { return nb_sub_scaled_(t, b, 3); }
static nb_tensor *masked_fill_inplace(nb_tensor *t, const nb_tensor *b) { return nb_masked_fill_(t, nb_gt_scalar(b, 1.5), 0); }
static nb_tensor *add_scalar_inplace(nb_tensor *t, const nb_tensor *b) { (void)b; return nb_add_scalar_(t, 2); }
static nb_tensor *mul_scalar_inplace(nb_tensor *t, const nb_tensor *b) { (void)b; return nb_mul_scalar_(t, -1.5); }
static nb_tensor *copy_inplace(nb_tensor *t, const nb_tensor *b) { return nb_copy_(t, b); }
static nb_tensor *zero_inplace(nb_tensor *t, const nb_tensor *b) { (void)b; return nb_zero_(t); }

Test(cuda, in_place_ops_match_the_cpu, .init = cuda_test_setup)
{
    static const struct {
        const char *name;
        inplace_fn fn;
    } rows[] = {
        {"nb_add_", nb_add_}, {"nb_sub_", nb_sub_}, {"nb_mul_", nb_mul_}, {"nb_div_", nb_div_},
        {"nb_add_scaled_", add_scaled}, {"nb_sub_scaled_", sub_scaled}, {"nb_masked_fill_", masked_fill_inplace},
        {"nb_add_scalar_", add_scalar_inplace}, {"nb_mul_scalar_", mul_scalar_inplace}, {"nb_copy_", copy_inplace},
        {"nb_zero_", zero_inplace},
    };
    static const layout targets[] = {CONTIG, TRANSPOSED, NARROWED};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        for (int d = 0; d < N_DTYPES; d++)
            for (size_t l = 0; l < 3; l++) {
                nb_dtype dt = all_dtypes[d];
                char what[160];
                snprintf(what, sizeof what, "%s (%s target %s, column source)", rows[r].name, nb_dtype_name(dt),
                         layout_names[targets[l]]);
                nb_scope_begin();
                nb_tensor *tc = input(targets[l], dt, CPU, 31, true), *tg = input(targets[l], dt, GPU, 31, true);
                nb_tensor *rc = rows[r].fn(tc, input(COLUMN, dt, CPU, 32, true));
                nb_status cpu_status = nb_last_status();
                nb_clear_error();
                nb_tensor *rg = rows[r].fn(tg, input(COLUMN, dt, GPU, 32, true));
                if (rc) cr_assert_eq(rg, tg, "%s: in-place ops return their target", what);
                assert_same_outcome(rg, rc, cpu_status, what);
                cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
            }
}

/* ---------------------------------------------------------------- conversions */

Test(cuda, conversions_match_the_cpu_for_every_dtype_pair, .init = cuda_test_setup)
{
    /* special values first: NaN, infinities, out of int64's range, halves, negative zero */
    const double special[12] = {NAN, INFINITY, -INFINITY, 1e20, -1e20, 2.5, -2.5, 0.0, -0.0, 1.0, 9.2e18, -7.75};
    static const layout layouts[] = {CONTIG, TRANSPOSED, EXPANDED, PERMUTED};
    for (int f = 0; f < N_DTYPES; f++)
        for (int t = 0; t < N_DTYPES; t++) {
            nb_dtype from = all_dtypes[f], to = all_dtypes[t];
            char what[160];
            for (size_t l = 0; l < 4; l++) {
                snprintf(what, sizeof what, "nb_to_dtype %s -> %s (%s)", nb_dtype_name(from), nb_dtype_name(to),
                         layout_names[layouts[l]]);
                nb_scope_begin();
                assert_parity(nb_to_dtype(input(layouts[l], from, GPU, 41, false), to),
                              nb_to_dtype(input(layouts[l], from, CPU, 41, false), to), what);
                cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
            }
            if (!(from == NB_FLOAT32 || from == NB_FLOAT64)) continue;
            snprintf(what, sizeof what, "nb_to_dtype %s -> %s (NaN, infinities, large values)", nb_dtype_name(from),
                     nb_dtype_name(to));
            nb_scope_begin();
            nb_tensor *s = nb_to_dtype(nb_from_array(special, NB_SHAPE(12), NB_OPTS(NB_FLOAT64)), from);
            assert_parity(nb_to_dtype(nb_to(s, GPU), to), nb_to_dtype(s, to), what);
            cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
        }
}

/* ================================================================ reductions */

Test(cuda, sums_match_the_cpu, .init = cuda_test_setup)
{
    static const layout layouts[] = {CONTIG, TRANSPOSED, EXPANDED, PERMUTED, NARROWED, SCALAR, BIG};
    for (int d = 0; d < N_DTYPES; d++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            nb_dtype dt = all_dtypes[d];
            char what[160];
            snprintf(what, sizeof what, "nb_sum (%s, %s)", nb_dtype_name(dt), layout_names[layouts[l]]);
            nb_scope_begin();
            assert_parity(nb_sum(input(layouts[l], dt, GPU, 51, false)), nb_sum(input(layouts[l], dt, CPU, 51, false)), what);
            if (dt == NB_FLOAT32 || dt == NB_FLOAT64) {
                snprintf(what, sizeof what, "nb_mean (%s, %s)", nb_dtype_name(dt), layout_names[layouts[l]]);
                assert_parity(nb_mean(input(layouts[l], dt, GPU, 51, false)), nb_mean(input(layouts[l], dt, CPU, 51, false)), what);
            }
            cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
        }
    /* ten million ones sum to exactly ten million (float32 accumulates in float64) */
    nb_scope_begin();
    nb_tensor *ones = nb_ones(NB_SHAPE(10000000), NB_OPTS(NB_FLOAT32, .device = GPU));
    cr_assert_eq(nb_item(nb_sum(ones)), 10000000.0, "%s", nb_last_error());
    cr_assert_eq(nb_item(nb_sum(nb_zeros(NB_SHAPE(0), NB_OPTS(NB_INT64, .device = GPU)))), 0.0);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda, sums_along_a_dim_match_the_cpu, .init = cuda_test_setup)
{
    /* short rows take a thread each, long rows a block each, many long columns a thread each */
    static const int64_t shapes[][3] = {{3, 300, 1}, {300, 3, 1}, {4, 5, 6}, {2, 1000, 3}, {7, 0, 2}, {300, 4100, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int d = 0; d < N_DTYPES; d++)
            for (int dim = -1; dim < 3; dim++)
                for (int variant = 0; variant < 3; variant++) {
                    nb_dtype dt = all_dtypes[d];
                    char what[200];
                    snprintf(what, sizeof what, "nb_sum_dim (%s, [%lld, %lld, %lld], dim %d, %s)", nb_dtype_name(dt),
                             (long long)shapes[s][0], (long long)shapes[s][1], (long long)shapes[s][2], dim,
                             variant == 0 ? "contiguous" : variant == 1 ? "permuted" : "keepdim");
                    nb_scope_begin();
                    nb_tensor *in[2];
                    for (int k = 0; k < 2; k++) {
                        nb_manual_seed(61);
                        nb_tensor *x = nb_randn(3, shapes[s], NB_OPTS(NB_FLOAT64));
                        x = dt == NB_BOOL ? nb_gt_scalar(x, 0) : nb_to_dtype(nb_mul_scalar(x, 4), dt);
                        if (k == 1) x = nb_to(x, GPU);
                        in[k] = variant == 1 ? nb_permute(x, NB_DIMS(2, 0, 1)) : x;
                    }
                    bool keep = variant == 2;
                    assert_parity(nb_sum_dim(in[1], dim, keep), nb_sum_dim(in[0], dim, keep), what);
                    if (dt == NB_FLOAT32 || dt == NB_FLOAT64)
                        assert_parity(nb_mean_dim(in[1], dim, keep), nb_mean_dim(in[0], dim, keep), what);
                    cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
                }
}

Test(cuda, sums_are_deterministic, .init = cuda_test_setup)
{
    nb_scope_begin();
    nb_manual_seed(5);
    nb_tensor *x = nb_randn(NB_SHAPE(2000, 3001), NB_OPTS(NB_FLOAT32, .device = GPU));
    double first = nb_item(nb_sum(x));
    nb_tensor *col_first = nb_sum_dim(x, 0, false), *row_first = nb_sum_dim(x, 1, false);
    for (int rep = 0; rep < 5; rep++) {
        cr_assert_eq(nb_item(nb_sum(x)), first, "repetition %d of nb_sum differs", rep);
        nb_tensor *c = nb_sum_dim(x, 0, false), *r = nb_sum_dim(x, 1, false);
        assert_parity_tol(c, col_first, 0, "column sums repeated");
        assert_parity_tol(r, row_first, 0, "row sums repeated");
    }
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

/* ---------------------------------------------------------------- maxima and minima */

/* got against want bit for bit: shape, dtype and every byte (NaN payloads and signs of zero too). */
static void assert_same_bits(const nb_tensor *got, const nb_tensor *want, const char *what)
{
    assert_parity_tol(got, want, 0, what);
    size_t gb, wb;
    unsigned char *g = cuda_host_bytes(got, &gb), *w = cuda_host_bytes(want, &wb);
    const size_t es = nb_dtype_size(nb_dtype_of(want));
    size_t at = 0;
    while (at < gb && at < wb && g[at] == w[at]) at++;
    free(g);
    free(w);
    cr_assert(gb == wb && at == gb, "%s: the bits of element %zu differ between cuda and the cpu", what, at / es);
}

typedef nb_tensor *(*op_dim)(const nb_tensor *, int, bool);

static const struct {
    const char *name;
    op1 fn;
} extreme_rows[] = {{"nb_max", nb_max}, {"nb_min", nb_min}, {"nb_argmax", nb_argmax}, {"nb_argmin", nb_argmin}};

static const struct {
    const char *name;
    op_dim fn;
} extreme_dim_rows[] = {{"nb_max_dim", nb_max_dim},
                        {"nb_min_dim", nb_min_dim},
                        {"nb_argmax_dim", nb_argmax_dim},
                        {"nb_argmin_dim", nb_argmin_dim}};

/* Every whole and along-a-dim maximum and minimum of c (on the cpu) and g (the same values on
 * cuda:0), bit for bit: each dim, negative dims too, keepdim both ways. */
static void check_extremes(const nb_tensor *c, const nb_tensor *g, const char *about)
{
    char what[256];
    for (size_t r = 0; r < 4; r++) {
        snprintf(what, sizeof what, "%s (%s)", extreme_rows[r].name, about);
        assert_same_bits(extreme_rows[r].fn(g), extreme_rows[r].fn(c), what);
    }
    const int nd = nb_ndim(c) > 0 ? nb_ndim(c) : 1; /* a 0-d tensor takes dims 0 and -1 */
    for (size_t r = 0; r < 4; r++)
        for (int dim = -nd; dim < nd; dim++)
            for (int keep = 0; keep < 2; keep++) {
                snprintf(what, sizeof what, "%s (%s, dim %d%s)", extreme_dim_rows[r].name, about, dim,
                         keep ? ", keepdim" : "");
                assert_same_bits(extreme_dim_rows[r].fn(g, dim, keep), extreme_dim_rows[r].fn(c, dim, keep), what);
            }
}

Test(cuda, maxima_and_minima_match_the_cpu_for_every_layout_and_dtype, .init = cuda_test_setup)
{
    /* BIG: one output over many blocks (whole), and along its one dim */
    static const layout layouts[] = {CONTIG, TRANSPOSED, EXPANDED, PERMUTED, NARROWED, COLUMN, ROW, SCALAR, BIG};
    for (int d = 0; d < N_DTYPES; d++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            nb_dtype dt = all_dtypes[d];
            char about[96];
            snprintf(about, sizeof about, "%s, %s", nb_dtype_name(dt), layout_names[layouts[l]]);
            nb_scope_begin();
            check_extremes(input(layouts[l], dt, CPU, 53, false), input(layouts[l], dt, GPU, 53, false), about);
            cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", about, nb_last_error());
        }
}

/* Values that tie: what each element is drawn from (a fixed generator, the same on every run). */
typedef enum tie_pattern {
    SMALL_INTS,   /* -2 .. 2: many equal extremes */
    ZEROS_ON_TOP, /* -1, -0 and +0: the maximum is a zero of either sign */
    ZEROS_BELOW,  /* 1, -0 and +0: the minimum is a zero of either sign */
    RARE_ZEROS,   /* mostly -1, one in 700 a zero of either sign (for the maximum), or mostly 1 (odd seeds) */
} tie_pattern;

static double bits_f64(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* A cpu tensor of shape and dtype dt with values of pattern p; with nan_every > 0 about one element
 * in nan_every is a NaN (both signs, a payload or none). Registered in the open scope. */
static nb_tensor *tied(int ndim, const int64_t *shape, nb_dtype dt, tie_pattern p, uint64_t seed, int nan_every)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v); /* (n,) */
    cr_assert_not_null(v);
    const double nans[3] = {NAN, -NAN, bits_f64(0x7ff8123456789abcull)};
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        const uint64_t r = s >> 33;
        const double zero = (r >> 7) & 1 ? -0.0 : 0.0;
        switch (p) {
        case SMALL_INTS: v[i] = (double)(r % 5) - 2; break;
        case ZEROS_ON_TOP: v[i] = r % 3 == 0 ? -1.0 : zero; break;
        case ZEROS_BELOW: v[i] = r % 3 == 0 ? 1.0 : zero; break;
        case RARE_ZEROS: v[i] = r % 700 == 0 ? zero : (seed & 1 ? 1.0 : -1.0); break;
        }
        if (nan_every > 0 && (r >> 12) % (uint64_t)nan_every == 0) v[i] = nans[(r >> 20) % 3];
    }
    nb_tensor *t = nb_from_array(v, ndim, shape, NB_OPTS(NB_FLOAT64));
    free(v);
    cr_assert_not_null(t, "%s", nb_last_error());
    if (dt == NB_FLOAT64) return t;
    nb_tensor *cast = dt == NB_BOOL ? nb_gt_scalar(t, 0) : nb_to_dtype(t, dt);
    cr_assert_not_null(cast, "%s", nb_last_error());
    return cast;
}

Test(cuda, maxima_and_minima_of_ties_nans_and_signed_zeros_match_the_cpu, .init = cuda_test_setup)
{
    /* short rows (a thread each), long rows (a block each), many long columns (a thread each,
     * once: it is large), rows longer than the cpu's chunks and blocks, one long output over
     * several blocks */
    static const int64_t shapes[][2] = {{7, 5}, {3, 300}, {300, 3}, {40, 1500}, {260, 4100}, {2, 70001}, {1, 100003}};
    static const tie_pattern patterns[] = {SMALL_INTS, ZEROS_ON_TOP, ZEROS_BELOW, RARE_ZEROS};
    static const int nan_rates[] = {0, 997, 5};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int d = 0; d < N_DTYPES; d++)
            for (size_t p = 0; p < 4; p++)
                for (size_t k = 0; k < 3; k++) {
                    nb_dtype dt = all_dtypes[d];
                    const bool floating = dt == NB_FLOAT32 || dt == NB_FLOAT64;
                    if (!floating && (patterns[p] != SMALL_INTS || nan_rates[k] != 0)) continue;
                    const bool large = shapes[s][0] * shapes[s][1] > 1000000;
                    if (large && (dt == NB_BOOL || (floating && (patterns[p] != ZEROS_ON_TOP || nan_rates[k] != 997))))
                        continue;
                    for (int transpose = 0; transpose < (large ? 1 : 2); transpose++) {
                        char about[160];
                        snprintf(about, sizeof about, "%s, [%lld, %lld]%s, pattern %d, NaN one in %d", nb_dtype_name(dt),
                                 (long long)shapes[s][0], (long long)shapes[s][1], transpose ? " transposed" : "",
                                 (int)patterns[p], nan_rates[k]);
                        nb_scope_begin();
                        /* transposed: the (cols, rows) values read as (rows, cols), columns strided */
                        const int64_t *shape = shapes[s];
                        const int64_t flipped[2] = {shape[1], shape[0]};
                        const uint64_t seed = 100 + s * 10 + p + (uint64_t)transpose; /* odd: RARE_ZEROS of 1 */
                        nb_tensor *c = tied(2, transpose ? flipped : shape, dt, patterns[p], seed, nan_rates[k]);
                        nb_tensor *g = nb_to(c, GPU);
                        cr_assert_not_null(g, "%s: %s", about, nb_last_error());
                        if (transpose) c = nb_t(c), g = nb_t(g);
                        check_extremes(c, g, about);
                        cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", about, nb_last_error());
                    }
                }
    /* a 3-d permuted tensor: the whole reductions read it in memory order */
    nb_scope_begin();
    nb_tensor *c = tied(NB_SHAPE(33, 40, 70), NB_FLOAT32, ZEROS_ON_TOP, 7, 0);
    check_extremes(nb_permute(c, NB_DIMS(2, 0, 1)), nb_permute(nb_to(c, GPU), NB_DIMS(2, 0, 1)), "float32, permuted");
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda, max_and_min_gradients_on_the_device_match_the_cpu, .init = cuda_test_setup)
{
    static const nb_dtype dts[] = {NB_FLOAT32, NB_FLOAT64};
    static const int64_t shapes[][2] = {{4, 300}, {300, 4}, {6, 7}};
    for (int d = 0; d < 2; d++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int dim = 0; dim < 2; dim++)
                for (int variant = 0; variant < 4; variant++) { /* max_dim, min_dim, each keepdim both ways */
                    const bool take_min = variant & 1, keep = variant & 2;
                    char what[160];
                    snprintf(what, sizeof what, "d/dx of %s (%s, [%lld, %lld], dim %d%s)",
                             take_min ? "nb_min_dim" : "nb_max_dim", nb_dtype_name(dts[d]), (long long)shapes[s][0],
                             (long long)shapes[s][1], dim, keep ? ", keepdim" : "");
                    nb_scope_begin();
                    /* ties: the gradient goes to the first of equal extremes */
                    nb_tensor *xc = tied(2, shapes[s], dts[d], SMALL_INTS, 300 + s, 0);
                    nb_tensor *xg = nb_to(xc, GPU);
                    int64_t kept[2] = {shapes[s][0], shapes[s][1]}; /* the result's shape with keepdim */
                    kept[dim] = 1;
                    nb_manual_seed(31); /* weights make every position's gradient different */
                    nb_tensor *wc = keep ? nb_randn(2, kept, NB_OPTS(dts[d])) : nb_randn(1, &shapes[s][1 - dim], NB_OPTS(dts[d]));
                    nb_tensor *wg = nb_to(wc, GPU);
                    nb_requires_grad_(xc, true);
                    nb_requires_grad_(xg, true);
                    op_dim fn = take_min ? nb_min_dim : nb_max_dim;
                    nb_tensor *lc = nb_sum(nb_mul(fn(xc, dim, keep), wc)), *lg = nb_sum(nb_mul(fn(xg, dim, keep), wg));
                    cr_assert_eq(nb_backward(lc), NB_OK, "%s: %s", what, nb_last_error());
                    cr_assert_eq(nb_backward(lg), NB_OK, "%s: %s", what, nb_last_error());
                    assert_same_bits(nb_grad(xg), nb_grad(xc), what);
                    cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
                }
    /* over everything: equal extremes share the gradient */
    nb_scope_begin();
    nb_tensor *xc = tied(NB_SHAPE(30, 40), NB_FLOAT32, SMALL_INTS, 9, 0), *xg = nb_to(xc, GPU);
    nb_requires_grad_(xc, true);
    nb_requires_grad_(xg, true);
    cr_assert_eq(nb_backward(nb_mul_scalar(nb_max(xc), 3)), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_backward(nb_mul_scalar(nb_max(xg), 3)), NB_OK, "%s", nb_last_error());
    assert_parity(nb_grad(xg), nb_grad(xc), "d/dx of nb_max");
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda, maxima_of_nothing_fail_as_on_the_cpu, .init = cuda_test_setup)
{
    nb_scope_begin();
    nb_tensor *c = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *g = nb_to(c, GPU);
    cr_assert_not_null(g, "%s", nb_last_error());
    char cpu_message[512];
    for (size_t r = 0; r < 4; r++) {
        cr_assert_null(extreme_rows[r].fn(c));
        snprintf(cpu_message, sizeof cpu_message, "%s", nb_last_error());
        nb_clear_error();
        cr_assert_null(extreme_rows[r].fn(g), "%s of an empty tensor on cuda gave a result", extreme_rows[r].name);
        cr_assert_str_eq(nb_last_error(), cpu_message);
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(extreme_rows[r].name, "cannot reduce an empty tensor", "no identity", "[0, 3]"));
        cr_assert_null(extreme_dim_rows[r].fn(c, 0, false));
        snprintf(cpu_message, sizeof cpu_message, "%s", nb_last_error());
        nb_clear_error();
        cr_assert_null(extreme_dim_rows[r].fn(g, 0, false), "%s over a dim of size 0 on cuda gave a result",
                       extreme_dim_rows[r].name);
        cr_assert_str_eq(nb_last_error(), cpu_message);
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(extreme_dim_rows[r].name, "dim 0 of size 0", "no identity", "[0, 3]"));
        /* along the other dim there is nothing to compute: an empty result */
        assert_same_bits(extreme_dim_rows[r].fn(g, 1, true), extreme_dim_rows[r].fn(c, 1, true), extreme_dim_rows[r].name);
    }
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

/* ================================================================ matrix products */

static void check_mm(const char *what, nb_tensor *(*op)(const nb_tensor *, const nb_tensor *),
                     const nb_tensor *a_cpu, const nb_tensor *b_cpu, nb_tensor *(*shape_a)(nb_tensor *),
                     nb_tensor *(*shape_b)(nb_tensor *))
{
    nb_scope_begin();
    nb_tensor *ag = nb_to(a_cpu, GPU), *bg = nb_to(b_cpu, GPU);
    nb_tensor *ac = nb_clone(a_cpu), *bc = nb_clone(b_cpu);
    if (shape_a) ag = shape_a(ag), ac = shape_a(ac);
    if (shape_b) bg = shape_b(bg), bc = shape_b(bc);
    assert_parity(op(ag, bg), op(ac, bc), what);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
}

static nb_tensor *transposed(nb_tensor *t) { return nb_t(t); }
static nb_tensor *batch_transposed(nb_tensor *t) { return nb_transpose(t, -1, -2); }
static nb_tensor *first_half_columns(nb_tensor *t) { return nb_narrow(t, 1, 0, nb_size(t, 1) / 2); }
static nb_tensor *every_other(nb_tensor *t) { return nb_select(t, 2, 1); } /* (r, c, 2) -> strides (2c, 2) */
static nb_tensor *expanded_rows(nb_tensor *t) { return nb_expand(nb_narrow(t, 0, 0, 1), NB_SHAPE(nb_size(t, 0), nb_size(t, 1))); }

static nb_tensor *randn(uint64_t seed, int ndim, const int64_t *shape, nb_dtype dt)
{
    nb_manual_seed(seed);
    return nb_randn(ndim, shape, NB_OPTS(dt));
}

Test(cuda, mm_matches_the_cpu_with_transposed_and_strided_operands, .init = cuda_test_setup)
{
    static const nb_dtype dts[] = {NB_FLOAT32, NB_FLOAT64};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = dts[d];
        nb_scope_begin();
        nb_tensor *a = randn(1, NB_SHAPE(64, 1000), dt), *b = randn(2, NB_SHAPE(1000, 100), dt); /* (64, 1000), (1000, 100) */
        nb_tensor *at = randn(3, NB_SHAPE(1000, 64), dt), *bt = randn(4, NB_SHAPE(100, 1000), dt);
        check_mm("nb_mm plain", nb_mm, a, b, NULL, NULL);
        check_mm("nb_mm a transposed", nb_mm, at, b, transposed, NULL);
        check_mm("nb_mm b transposed", nb_mm, a, bt, NULL, transposed);
        check_mm("nb_mm both transposed", nb_mm, at, bt, transposed, transposed);
        nb_tensor *wide = randn(5, NB_SHAPE(64, 2000), dt);
        check_mm("nb_mm a with a leading dimension above its width", nb_mm, wide, b, first_half_columns, NULL);
        nb_tensor *pairs = randn(6, NB_SHAPE(1000, 100, 2), dt);
        check_mm("nb_mm b with no unit stride (copied first)", nb_mm, a, pairs, NULL, every_other);
        check_mm("nb_mm a expanded (stride 0, copied first)", nb_mm, a, b, expanded_rows, NULL);
        /* thin shapes: a row, a column, an inner size of 1, an inner size of 0 */
        check_mm("nb_mm (1, k) x (k, m)", nb_mm, randn(7, NB_SHAPE(1, 33), dt), randn(8, NB_SHAPE(33, 17), dt), NULL, NULL);
        check_mm("nb_mm (n, k) x (k, 1)", nb_mm, randn(9, NB_SHAPE(19, 33), dt), randn(10, NB_SHAPE(33, 1), dt), NULL, NULL);
        check_mm("nb_mm (n, 1) x (1, m)", nb_mm, randn(11, NB_SHAPE(19, 1), dt), randn(12, NB_SHAPE(1, 23), dt), NULL, NULL);
        check_mm("nb_mm (n, 1)^T x (n, m)", nb_mm, randn(13, NB_SHAPE(19, 1), dt), randn(14, NB_SHAPE(19, 23), dt), transposed, NULL);
        check_mm("nb_mm inner size 0", nb_mm, randn(15, NB_SHAPE(4, 0), dt), randn(16, NB_SHAPE(0, 3), dt), NULL, NULL);
        check_mm("nb_mm empty result", nb_mm, randn(15, NB_SHAPE(0, 5), dt), randn(16, NB_SHAPE(5, 3), dt), NULL, NULL);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

Test(cuda, matmul_matches_the_cpu_batched_and_broadcast, .init = cuda_test_setup)
{
    static const nb_dtype dts[] = {NB_FLOAT32, NB_FLOAT64};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = dts[d];
        nb_scope_begin();
        check_mm("nb_matmul (3, 4, 5) x (3, 5, 6)", nb_matmul, randn(1, NB_SHAPE(3, 4, 5), dt), randn(2, NB_SHAPE(3, 5, 6), dt), NULL, NULL);
        check_mm("nb_matmul batched, both transposed", nb_matmul, randn(3, NB_SHAPE(3, 5, 4), dt), randn(4, NB_SHAPE(3, 6, 5), dt),
                 batch_transposed, batch_transposed);
        check_mm("nb_matmul (2, 1, 4, 5) x (3, 5, 6)", nb_matmul, randn(5, NB_SHAPE(2, 1, 4, 5), dt), randn(6, NB_SHAPE(3, 5, 6), dt), NULL, NULL);
        check_mm("nb_matmul (4, 5) x (7, 5, 6) (a broadcast over the batch)", nb_matmul, randn(7, NB_SHAPE(4, 5), dt),
                 randn(8, NB_SHAPE(7, 5, 6), dt), NULL, NULL);
        check_mm("nb_matmul (3, 4, 5) x (5, 6) (folded)", nb_matmul, randn(9, NB_SHAPE(3, 4, 5), dt), randn(10, NB_SHAPE(5, 6), dt), NULL, NULL);
        check_mm("nb_matmul (5,) x (3, 5, 6)", nb_matmul, randn(11, NB_SHAPE(5), dt), randn(12, NB_SHAPE(3, 5, 6), dt), NULL, NULL);
        check_mm("nb_matmul dot", nb_matmul, randn(13, NB_SHAPE(300), dt), randn(14, NB_SHAPE(300), dt), NULL, NULL);
        check_mm("nb_matmul matrix-vector", nb_matmul, randn(15, NB_SHAPE(7, 300), dt), randn(16, NB_SHAPE(300), dt), NULL, NULL);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

/* ================================================================ moves */

Test(cuda, round_trips_through_the_device_keep_every_value, .init = cuda_test_setup)
{
    static const layout layouts[] = {CONTIG, TRANSPOSED, EXPANDED, PERMUTED, NARROWED, SCALAR, BIG};
    for (int d = 0; d < N_DTYPES; d++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            nb_dtype dt = all_dtypes[d];
            char what[128];
            snprintf(what, sizeof what, "cpu -> cuda -> cpu (%s, %s)", nb_dtype_name(dt), layout_names[layouts[l]]);
            nb_scope_begin();
            nb_tensor *c = input(layouts[l], dt, CPU, 71, false);
            nb_tensor *g = nb_to(c, GPU); /* a strided source is made contiguous on the cpu first */
            cr_assert_not_null(g, "%s: %s", what, nb_last_error());
            cr_assert(nb_is_contiguous(g), "%s: the copy is not contiguous", what);
            cr_assert_null(nb_data(g), "%s: nb_data gave a host address for a device tensor", what);
            assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_data", "not on the cpu"));
            nb_tensor *back = nb_to(g, CPU);
            cr_assert_not_null(back, "%s: %s", what, nb_last_error());
            cr_assert_eq(nb_device_of(back).type, NB_CPU);
            size_t nb_, nc;
            void *vb = cuda_host_bytes(back, &nb_), *vc = cuda_host_bytes(c, &nc);
            cr_assert(nb_ == nc && memcmp(vb, vc, nc) == 0, "%s: values changed", what);
            free(vb);
            free(vc);
            /* a strided view on the device is made contiguous there before it leaves */
            nb_tensor *gv = input(layouts[l], dt, GPU, 71, false);
            nb_tensor *back2 = nb_to(gv, CPU);
            vb = cuda_host_bytes(back2, &nb_);
            vc = cuda_host_bytes(c, &nc);
            cr_assert(nb_ == nc && memcmp(vb, vc, nc) == 0, "%s: a strided device view changed its values", what);
            free(vb);
            free(vc);
            nb_tensor *same = nb_to(g, GPU);
            cr_assert_eq(nb_device_of(same).index, 0);
            cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
        }
    nb_scope_begin();
    nb_tensor *x = nb_full(NB_SHAPE(1), 4.25, NB_OPTS(NB_FLOAT64, .device = GPU));
    cr_assert_eq(nb_item(x), 4.25, "%s", nb_last_error());
    nb_tensor *e = nb_to(nb_zeros(NB_SHAPE(3, 0), NB_OPTS(NB_FLOAT32)), GPU);
    cr_assert_not_null(e, "%s", nb_last_error());
    cr_assert_eq(nb_numel(nb_to(e, CPU)), 0);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda, moves_between_devices_keep_every_value, .init = cuda_test_setup)
{
    if (nb_cuda_device_count() < 2) cr_skip_test("needs two CUDA devices");
    nb_scope_begin();
    nb_tensor *c = input(PERMUTED, NB_FLOAT32, CPU, 81, false);
    nb_tensor *g1 = nb_to(nb_to(c, GPU), NB_DEVICE_CUDA(1));
    cr_assert_not_null(g1, "%s", nb_last_error());
    cr_assert_eq(nb_device_of(g1).index, 1);
    cuda_assert_close(nb_add_scalar(g1, 0), nb_add_scalar(c, 0), NB_DEVICE_CUDA(1), 0, "cuda:0 -> cuda:1");
    nb_tensor *a = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32, .device = GPU));
    nb_tensor *b = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32, .device = NB_DEVICE_CUDA(1)));
    cr_assert_null(nb_add(a, b));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_add", "cuda:0", "cuda:1"));
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

/* ================================================================ autograd and the seed loop */

Test(cuda, gradients_on_the_device_match_the_cpu, .init = cuda_test_setup)
{
    nb_scope_begin();
    nb_tensor *xc = input(CONTIG, NB_FLOAT32, CPU, 91, false), *wc = input(TRANSPOSED, NB_FLOAT32, CPU, 92, false);
    nb_tensor *xg = nb_to(xc, GPU), *wg = nb_contiguous(nb_to(wc, GPU));
    wc = nb_contiguous(wc);
    nb_requires_grad_(xc, true);
    nb_requires_grad_(xg, true);
    nb_requires_grad_(wc, true);
    nb_requires_grad_(wg, true);
    /* clamp's backward (NB_EW_CLAMP_BACKWARD), mm's, sum's, a narrowed view's and a broadcast */
    nb_tensor *lc = nb_sum(nb_mul(nb_clamp(nb_mm(xc, nb_t(wc)), -0.5, 0.5), nb_sigmoid(nb_narrow(xc, 1, 0, 1)))); /* (4, 4) * (4, 1) */
    nb_tensor *lg = nb_sum(nb_mul(nb_clamp(nb_mm(xg, nb_t(wg)), -0.5, 0.5), nb_sigmoid(nb_narrow(xg, 1, 0, 1))));
    cr_assert_eq(nb_backward(lc), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_backward(lg), NB_OK, "%s", nb_last_error());
    assert_parity(lg, lc, "loss");
    assert_parity(nb_grad(xg), nb_grad(xc), "d loss / d x");
    assert_parity(nb_grad(wg), nb_grad(wc), "d loss / d w");
    /* moving a tensor that requires grad is recorded: its gradient comes back to cuda:0 */
    nb_tensor *moved = nb_to(xg, CPU);
    cr_assert_not_null(moved, "%s", nb_last_error());
    cr_assert_str_eq(nb_grad_fn_name(moved), "ToBackward");
    nb_tensor *dx = NULL;
    cr_assert_eq(nb_grad_of(1, (nb_tensor *[]){nb_sum(nb_mul(moved, moved))}, NULL, 1, &xg, &dx, false), NB_OK, "%s",
                 nb_last_error());
    cr_assert_eq(nb_device_of(dx).type, NB_CUDA, "the gradient of a cuda:0 tensor is not on cuda:0");
    assert_parity(dx, nb_mul_scalar(xc, 2), "d sum(to(x, cpu)^2) / d x");
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

typedef struct mlp {
    nb_tensor *x, *y, *w1, *w2;
} mlp;

static mlp mlp_on(nb_device device)
{
    nb_manual_seed(0);
    mlp m = {nb_randn(NB_SHAPE(64, 1000), NB_OPTS(NB_FLOAT32)), nb_randn(NB_SHAPE(64, 10), NB_OPTS(NB_FLOAT32)),
             nb_randn(NB_SHAPE(1000, 100), NB_OPTS(NB_FLOAT32)), nb_randn(NB_SHAPE(100, 10), NB_OPTS(NB_FLOAT32))};
    nb_tensor **ts[4] = {&m.x, &m.y, &m.w1, &m.w2};
    for (int k = 0; k < 4; k++) {
        nb_tensor *moved = nb_to(*ts[k], device);
        cr_assert_not_null(moved, "%s", nb_last_error());
        nb_release(*ts[k]);
        *ts[k] = moved;
    }
    return m;
}

static void mlp_release(mlp *m)
{
    nb_release(m->x);
    nb_release(m->y);
    nb_release(m->w1);
    nb_release(m->w2);
}

/* One step of the seed's manual loop; returns its loss. */
static double seed_step(mlp *m, double learning_rate)
{
    nb_scope_begin();
    nb_tensor *h = nb_mm(m->x, m->w1);                     /* (N, H) */
    nb_tensor *h_relu = nb_clamp_min(h, 0);                /* (N, H) */
    nb_tensor *y_pred = nb_mm(h_relu, m->w2);              /* (N, D_out) */
    nb_tensor *loss = nb_sum(nb_pow_scalar(nb_sub(y_pred, m->y), 2));
    double value = nb_item(loss);
    nb_tensor *grad_y_pred = nb_mul_scalar(nb_sub(y_pred, m->y), 2.0); /* (N, D_out) */
    nb_tensor *grad_w2 = nb_mm(nb_t(h_relu), grad_y_pred);           /* (H, D_out) */
    nb_tensor *grad_h = nb_clone(nb_mm(grad_y_pred, nb_t(m->w2)));   /* (N, H) */
    nb_masked_fill_(grad_h, nb_lt_scalar(h, 0), 0);
    nb_tensor *grad_w1 = nb_mm(nb_t(m->x), grad_h);                  /* (D_in, H) */
    nb_sub_scaled_(m->w1, grad_w1, learning_rate);
    nb_sub_scaled_(m->w2, grad_w2, learning_rate);
    cr_assert_eq(nb_scope_end(), NB_OK, "seed step: %s", nb_last_error());
    return value;
}

Test(cuda, the_seed_loop_on_the_device_matches_the_cpu, .init = cuda_test_setup)
{
    mlp c = mlp_on(CPU), g = mlp_on(GPU);
    for (int t = 0; t < 20; t++) {
        double lc = seed_step(&c, 1e-6), lg = seed_step(&g, 1e-6);
        cr_assert(fabs(lg - lc) <= 1e-4 * fabs(lc), "step %d: loss %.9g on cuda, %.9g on the cpu", t, lg, lc);
    }
    assert_parity(g.w1, c.w1, "w1 after 20 steps");
    assert_parity(g.w2, c.w2, "w2 after 20 steps");
    mlp_release(&c);
    mlp_release(&g);
}

/* ================================================================ the caching allocator */

static nb_cuda_stats stats_now(void)
{
    nb_cuda_stats s;
    cr_assert_eq(nb_cuda_memory_stats(0, &s), NB_OK, "%s", nb_last_error());
    return s;
}

Test(cuda, allocator_statistics_follow_allocations, .init = cuda_test_setup)
{
    nb_cuda_stats s0 = stats_now();
    nb_tensor *t = nb_empty(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32, .device = GPU)); /* 4000 bytes */
    cr_assert_not_null(t, "%s", nb_last_error());
    nb_cuda_stats s1 = stats_now();
    cr_assert_eq(s1.allocated - s0.allocated, 4096, "4000 bytes are held as %zu", s1.allocated - s0.allocated);
    cr_assert_geq(s1.peak_allocated, s1.allocated);
    cr_assert_geq(s1.reserved, s1.allocated);
    nb_release(t);
    nb_cuda_stats s2 = stats_now();
    cr_assert_eq(s2.allocated, s0.allocated);
    cr_assert_eq(s2.reserved, s1.reserved, "a freed block stays in the cache");
    cr_assert_eq(s2.num_device_frees, s1.num_device_frees);
    cr_assert_geq(s2.peak_allocated, s1.allocated);

    t = nb_empty(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32, .device = GPU)); /* from the cache */
    nb_cuda_stats s3 = stats_now();
    cr_assert_eq(s3.num_device_allocs, s2.num_device_allocs, "a cached block was not reused");
    cr_assert_eq(s3.allocated - s2.allocated, 4096);
    nb_release(t);

    /* a large request gets its own segment, rounded to 2 MiB */
    nb_cuda_empty_cache();
    nb_cuda_stats s4 = stats_now();
    cr_assert_eq(s4.reserved, s4.allocated, "nb_cuda_empty_cache kept %zu unused bytes", s4.reserved - s4.allocated);
    cr_assert_gt(s4.num_device_frees, s3.num_device_frees);
    t = nb_empty(NB_SHAPE(3 * 1024 * 1024 + 5), NB_OPTS(NB_FLOAT32, .device = GPU)); /* 12 MiB + 20 bytes */
    cr_assert_not_null(t, "%s", nb_last_error());
    nb_cuda_stats s5 = stats_now();
    cr_assert_eq(s5.reserved - s4.reserved, (size_t)14 << 20);
    cr_assert_eq(s5.num_device_allocs, s4.num_device_allocs + 1);
    nb_release(t);
    nb_cuda_empty_cache();
    cr_assert_eq(stats_now().reserved, s4.reserved);
}

Test(cuda, blocks_split_and_merge_back, .init = cuda_test_setup)
{
    nb_cuda_empty_cache();
    nb_cuda_stats s0 = stats_now();
    nb_tensor *ts[8];
    for (int i = 0; i < 8; i++) { /* eight 64 KiB blocks cut from one 2 MiB segment */
        ts[i] = nb_empty(NB_SHAPE(16384), NB_OPTS(NB_FLOAT32, .device = GPU));
        cr_assert_not_null(ts[i], "%s", nb_last_error());
    }
    nb_cuda_stats s1 = stats_now();
    cr_assert_eq(s1.num_device_allocs, s0.num_device_allocs + 1, "one segment serves all eight");
    for (int i = 0; i < 8; i += 2) nb_release(ts[i]);
    for (int i = 1; i < 8; i += 2) nb_release(ts[i]);
    /* merged back into one free segment: a 1 MiB request fits without a new cudaMalloc */
    nb_tensor *big = nb_empty(NB_SHAPE(262144), NB_OPTS(NB_FLOAT32, .device = GPU));
    cr_assert_not_null(big, "%s", nb_last_error());
    cr_assert_eq(stats_now().num_device_allocs, s1.num_device_allocs);
    nb_release(big);
    nb_cuda_empty_cache();
    cr_assert_eq(stats_now().reserved, s0.reserved, "the merged segment was returned whole");
}

Test(cuda, a_steady_training_step_calls_neither_cudaMalloc_nor_cudaFree, .init = cuda_test_setup)
{
    mlp g = mlp_on(GPU);
    for (int t = 0; t < 3; t++) seed_step(&g, 1e-6); /* the cache fills */
    nb_cuda_stats before = stats_now();
    for (int t = 0; t < 20; t++) seed_step(&g, 1e-6);
    nb_cuda_stats after = stats_now();
    cr_assert_eq(after.num_device_allocs, before.num_device_allocs, "%llu cudaMalloc calls in 20 steady steps",
                 (unsigned long long)(after.num_device_allocs - before.num_device_allocs));
    cr_assert_eq(after.num_device_frees, before.num_device_frees, "%llu cudaFree calls in 20 steady steps",
                 (unsigned long long)(after.num_device_frees - before.num_device_frees));
    cr_assert_eq(after.allocated, before.allocated, "a step leaked %lld bytes",
                 (long long)after.allocated - (long long)before.allocated);
    cr_assert_eq(after.reserved, before.reserved);
    mlp_release(&g);
}

Test(cuda, no_cache_mode_frees_every_block, .init = cuda_test_setup)
{
    setenv("NB_CUDA_NO_CACHE", "1", 1); /* read when the device first allocates: this test's process */
    nb_cuda_stats s0 = stats_now();
    cr_assert_eq(s0.num_device_allocs, 0, "the device allocated before this test could set NB_CUDA_NO_CACHE");
    for (int i = 0; i < 3; i++) {
        nb_tensor *t = nb_empty(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32, .device = GPU));
        cr_assert_not_null(t, "%s", nb_last_error());
        nb_cuda_stats s1 = stats_now();
        cr_assert_eq(s1.num_device_allocs, s0.num_device_allocs + (uint64_t)i + 1);
        cr_assert_eq(s1.reserved, 4096, "no segment: the block is the request rounded to 512 bytes");
        nb_release(t);
        nb_cuda_stats s2 = stats_now();
        cr_assert_eq(s2.num_device_frees, s0.num_device_frees + (uint64_t)i + 1, "the release did not cudaFree");
        cr_assert_eq(s2.reserved, 0);
    }
    unsetenv("NB_CUDA_NO_CACHE");
}

Test(cuda, running_out_of_device_memory_is_an_error_naming_the_size, .init = cuda_test_setup)
{
    nb_tensor *huge = nb_empty(NB_SHAPE((int64_t)1 << 43), NB_OPTS(NB_FLOAT32, .device = GPU)); /* 32 TiB */
    cr_assert_null(huge);
    assert_error(NB_ERR_MEMORY, ERR_PARTS("out of memory", "cuda:0", "35184372088832 bytes", "MiB free"));
    nb_scope_begin();
    nb_tensor *small = nb_ones(NB_SHAPE(8), NB_OPTS(NB_FLOAT32, .device = GPU)); /* the device still works */
    cr_assert_not_null(small, "%s", nb_last_error());
    cr_assert_eq(nb_item(nb_sum(small)), 8.0);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

/* ================================================================ errors */

Test(cuda, mixed_devices_are_refused_naming_both, .init = cuda_test_setup)
{
    nb_scope_begin();
    nb_tensor *c = nb_ones(NB_SHAPE(3, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *g = nb_ones(NB_SHAPE(3, 3), NB_OPTS(NB_FLOAT32, .device = GPU));
    cr_assert_not_null(g, "%s", nb_last_error());
    cr_assert_null(nb_add(c, g));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_add", "cpu", "cuda:0"));
    cr_assert_null(nb_mm(g, c));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_mm", "cuda:0", "cpu"));
    cr_assert_null(nb_matmul(c, g));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_matmul", "cpu", "cuda:0"));
    cr_assert_null(nb_cat(2, (nb_tensor *const[]){c, g}, 0));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_cat", "cpu", "cuda:0"));
    cr_assert_null(nb_copy_(g, c));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_copy_", "cuda:0", "cpu"));
    cr_assert_null(nb_add_(c, g));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_add_", "cpu", "cuda:0"));
    cr_assert_null(nb_where(nb_gt_scalar(g, 0), c, g));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_where", "cuda:0", "cpu"));
    cr_assert_null(nb_masked_fill(c, nb_gt_scalar(g, 0), 1));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_masked_fill", "cpu", "cuda:0"));
    /* one device all along works, and cat on the device matches the cpu */
    assert_parity(nb_cat(2, (nb_tensor *const[]){g, nb_t(g)}, 1), nb_cat(2, (nb_tensor *const[]){c, nb_t(c)}, 1), "nb_cat");
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda, device_queries_answer_for_a_present_device, .init = cuda_test_setup)
{
    char name[256] = "";
    cr_assert_eq(nb_cuda_device_name(0, name, sizeof name), NB_OK, "%s", nb_last_error());
    cr_assert(strlen(name) > 0);
    size_t free_bytes = 0, total_bytes = 0;
    cr_assert_eq(nb_cuda_memory(0, &free_bytes, &total_bytes), NB_OK, "%s", nb_last_error());
    cr_assert_gt(total_bytes, 0);
    cr_assert_leq(free_bytes, total_bytes);
    cr_assert_str_eq(nb_cuda_available_reason(), "");
    int n = nb_cuda_device_count();
    cr_assert_eq(nb_cuda_memory_stats(n, &(nb_cuda_stats){0}), NB_ERR_DEVICE);
    char dev[32];
    snprintf(dev, sizeof dev, "cuda:%d", n);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_cuda_memory_stats", dev));
}
