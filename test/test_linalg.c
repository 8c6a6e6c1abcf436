/* test_linalg.c — suite linalg: nb_mm and nb_matmul against PyTorch (golden/linalg, made by
 * golden/gen_linalg.py) in float32 and float64: contiguous, transposed, narrowed, general-stride
 * and expanded (stride-0) operands; every torch.matmul case (dot, vector-matrix, matrix-vector,
 * batched, broadcast batch dims, 4-D, N-D with 1-D/2-D); large products (the multi-threaded
 * paths) against a plain C reference; empty sizes; gradients through the recorded products;
 * and every error with its message. */
#include "helpers.h"

#include <math.h>
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
#define LA .init = open_scope, .fini = close_scope

static const char *const TAGS[] = {"f32", "f64"};
static const nb_dtype DTYPES[] = {NB_FLOAT32, NB_FLOAT64};

static double rtol_of(nb_dtype d) { return d == NB_FLOAT32 ? 1e-5 : 1e-12; }
static double atol_of(nb_dtype d) { return d == NB_FLOAT32 ? 1e-6 : 1e-13; }

/* golden/linalg/NAME_TAG.npy */
static nb_tensor *in(const char *name, const char *tag)
{
    char path[128];
    snprintf(path, sizeof path, "linalg/%s_%s", name, tag);
    return golden(path);
}

/* got against the golden NAME_TAG: shape, dtype and values. */
static void expect(const nb_tensor *got, const char *name, const char *tag)
{
    cr_assert(got != NULL, "%s_%s: result is NULL: %s", name, tag, nb_last_error());
    assert_ok();
    nb_tensor *want = in(name, tag);
    nb_dtype dt = nb_dtype_of(want);
    assert_close(got, want, rtol_of(dt), atol_of(dt));
}

static void expect_shape(const nb_tensor *t, const char *shape)
{
    cr_assert(t != NULL, "result is NULL: %s", nb_last_error());
    char s[96];
    cr_assert_str_eq(nb_shape_string(t, s, sizeof s), shape, "shape %s, expected %s", s, shape);
}

/* ---------------------------------------------------------------- nb_mm values */

Test(linalg, mm_contiguous, LA)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *c = nb_mm(in("a", TAGS[d]), in("b", TAGS[d]));
        expect(c, "mm", TAGS[d]);
        cr_assert_eq(nb_dtype_of(c), DTYPES[d]);
    }
}

Test(linalg, mm_transposed_operands, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        nb_tensor *a = in("a", k), *b = in("b", k);
        nb_tensor *at = nb_t(in("at", k)), *bt = nb_t(in("bt", k)); /* (5, 7) and (7, 3) views */
        cr_assert(!nb_is_contiguous(at) && !nb_is_contiguous(bt));
        expect(nb_mm(at, b), "mm", k);
        expect(nb_mm(a, bt), "mm", k);
        expect(nb_mm(at, bt), "mm", k);
        /* (a b)^T = b^T a^T, from views of contiguous a and b */
        nb_tensor *ct = nb_mm(nb_t(b), nb_t(a));
        expect(nb_t(ct), "mm", k);
    }
}

Test(linalg, mm_narrowed_views, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        nb_tensor *a = nb_narrow(nb_narrow(in("big_a", k), 0, 1, 5), 1, 2, 7); /* (5, 7), row stride 10 */
        nb_tensor *b = nb_narrow(nb_narrow(in("big_b", k), 0, 1, 7), 1, 2, 3); /* (7, 3), row stride 6 */
        cr_assert_eq(nb_strides(a)[0], 10);
        expect(nb_mm(a, b), "mm_narrow", k);
        /* the same views transposed twice: general row/column strides again */
        expect(nb_t(nb_mm(nb_t(b), nb_t(a))), "mm_narrow", k);
    }
}

Test(linalg, mm_general_strides, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        nb_tensor *sel = nb_select(in("c3", k), 2, 1); /* (7, 3), strides (6, 2): no unit stride */
        cr_assert_eq(nb_strides(sel)[0], 6);
        cr_assert_eq(nb_strides(sel)[1], 2);
        expect(nb_mm(in("a", k), sel), "mm_select", k);
        expect(nb_mm(nb_t(sel), nb_t(in("a", k))), "mm_select_t", k);
    }
}

Test(linalg, mm_expanded_operands, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        nb_tensor *row = nb_expand(in("row", k), NB_SHAPE(5, 7)); /* row stride 0 */
        nb_tensor *col = nb_expand(in("col", k), NB_SHAPE(5, 7)); /* column stride 0 */
        nb_tensor *bcol = nb_expand(in("bcol", k), NB_SHAPE(7, 3));
        expect(nb_mm(row, in("b", k)), "mm_row", k);
        expect(nb_mm(col, in("b", k)), "mm_col", k);
        expect(nb_mm(in("a", k), bcol), "mm_bcol", k);
    }
}

Test(linalg, mm_noncontiguous_helper, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        expect(nb_mm(noncontig(in("a", k)), noncontig(in("b", k))), "mm", k);
    }
}

Test(linalg, mm_result_is_a_fresh_contiguous_tensor, LA)
{
    nb_tensor *a = in("a", "f32"), *b = in("b", "f32");
    nb_tensor *c = nb_mm(a, b);
    cr_assert(nb_is_contiguous(c));
    cr_assert_neq(nb_data(c), nb_data(a));
    cr_assert_neq(nb_data(c), nb_data(b));
}

Test(linalg, mm_single_rows_and_columns, LA)
{
    /* size-1 dims, whose strides BLIS must not see as they are */
    nb_tensor *a = in("a", "f64"), *b = in("b", "f64");
    nb_tensor *want = in("mm", "f64");
    nb_tensor *row = nb_narrow(a, 0, 2, 1);   /* (1, 7) */
    nb_tensor *colb = nb_narrow(b, 1, 1, 1);  /* (7, 1), strides (3, 1) */
    assert_close(nb_mm(row, b), nb_narrow(want, 0, 2, 1), 1e-12, 1e-13);
    assert_close(nb_mm(a, colb), nb_narrow(want, 1, 1, 1), 1e-12, 1e-13);
    assert_close(nb_mm(row, colb), nb_narrow(nb_narrow(want, 0, 2, 1), 1, 1, 1), 1e-12, 1e-13);
    nb_tensor *x = nb_full(NB_SHAPE(1, 1), 3.0, NB_OPTS(NB_FLOAT32));
    nb_tensor *y = nb_full(NB_SHAPE(1, 1), -2.0, NB_OPTS(NB_FLOAT32));
    double six[] = {-6};
    assert_values(nb_mm(x, y), six, 1, 0, 0);
}

/* ---------------------------------------------------------------- nb_matmul, every case */

Test(linalg, matmul_dot, LA)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *r = nb_matmul(in("v7", TAGS[d]), in("w7", TAGS[d]));
        cr_assert_eq(nb_ndim(r), 0, "dot gives a 0-d tensor, got %d dims", nb_ndim(r));
        expect(r, "dot", TAGS[d]);
    }
}

Test(linalg, matmul_vector_matrix_and_matrix_vector, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        expect(nb_matmul(in("v7", k), in("b", k)), "vm", k);
        expect(nb_matmul(in("a", k), in("w7", k)), "mv", k);
        expect(nb_matmul(in("a", k), in("b", k)), "mm", k);
        /* strided vectors */
        expect(nb_matmul(noncontig(in("v7", k)), in("b", k)), "vm", k);
        expect(nb_matmul(in("a", k), noncontig(in("w7", k))), "mv", k);
    }
}

Test(linalg, matmul_batched, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        expect(nb_matmul(in("x3", k), in("y3", k)), "bmm", k);
        /* transposed matrices inside the batch: (4, 3, 7) @ (4, 7, 5) views */
        nb_tensor *yt = nb_transpose(in("y3", k), 1, 2), *xt = nb_transpose(in("x3", k), 1, 2);
        expect(nb_matmul(yt, xt), "bmm_t", k);
        /* a permuted batch dim: (5, 4, 7) -> (4, 5, 7) view of a contiguous permutation */
        nb_tensor *xp = nb_contiguous(nb_permute(in("x3", k), NB_DIMS(1, 0, 2)));
        expect(nb_matmul(nb_permute(xp, NB_DIMS(1, 0, 2)), in("y3", k)), "bmm", k);
    }
}

Test(linalg, matmul_broadcast_batch, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        nb_tensor *r = nb_matmul(in("p", k), in("q", k)); /* (2, 1, 3, 4) @ (5, 4, 2) */
        expect_shape(r, "[2, 5, 3, 2]");
        expect(r, "bcast", k);
    }
}

Test(linalg, matmul_4d, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        expect(nb_matmul(in("r4", k), in("s4", k)), "mm4d", k);
    }
}

Test(linalg, matmul_nd_with_vectors_and_matrices, LA)
{
    for (int d = 0; d < 2; d++) {
        const char *k = TAGS[d];
        expect(nb_matmul(in("x3", k), in("w7", k)), "nd_vec", k); /* (4, 5, 7) @ (7,) */
        expect(nb_matmul(in("x3", k), in("b", k)), "nd_mat", k);  /* (4, 5, 7) @ (7, 3) */
        expect(nb_matmul(in("v7", k), in("y3", k)), "vec_nd", k); /* (7,) @ (4, 7, 3) */
        expect(nb_matmul(in("a", k), in("y3", k)), "mat_nd", k);  /* (5, 7) @ (4, 7, 3) */
        /* a batch that cannot fold into rows without a copy */
        nb_tensor *xt = nb_contiguous(nb_transpose(in("x3", k), 0, 1)); /* (5, 4, 7) */
        expect(nb_matmul(nb_transpose(xt, 0, 1), in("b", k)), "nd_mat", k);
    }
}

/* ---------------------------------------------------------------- large products */

/* c = a @ b in double, plain loops; a (n, k), b (k, m) as row-major arrays. */
static void reference_mm(const double *a, const double *b, double *c, int64_t n, int64_t k, int64_t m)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < m; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) s += a[i * k + p] * b[p * m + j];
            c[i * m + j] = s;
        }
}

static double *values_of(const nb_tensor *t)
{
    int64_t n = nb_numel(t);
    double *v = malloc((size_t)n * sizeof(double));
    nb_tensor *d = nb_to_dtype(t, NB_FLOAT64);
    cr_assert(nb_copy_to_array(d, v, (size_t)n * sizeof(double)) == NB_OK, "%s", nb_last_error());
    return v;
}

/* nb_mm of (n, k) x (k, m) random operands against the reference; a given transposed when asked. */
static void check_large_mm(nb_dtype dt, int64_t n, int64_t k, int64_t m, bool transposed_a)
{
    nb_manual_seed(7);
    nb_tensor *a = transposed_a ? nb_t(nb_randn(NB_SHAPE(k, n), NB_OPTS(dt))) : nb_randn(NB_SHAPE(n, k), NB_OPTS(dt));
    nb_tensor *b = nb_randn(NB_SHAPE(k, m), NB_OPTS(dt));
    nb_tensor *c = nb_mm(a, b);
    assert_ok();
    double *av = values_of(a), *bv = values_of(b);
    double *want = malloc((size_t)(n * m) * sizeof(double)); /* (n, m) */
    reference_mm(av, bv, want, n, k, m);
    /* sums of k products of N(0,1) values: scale the tolerance by sqrt(k) */
    assert_values(c, want, n * m, rtol_of(dt), atol_of(dt) * 10 * sqrt((double)k));
    free(av), free(bv), free(want);
}

Test(linalg, large_products_on_several_threads, LA)
{
    /* above 64 MFLOP a product splits across threads (kernels/cpu/gemm.c); below, one thread */
    check_large_mm(NB_FLOAT32, 256, 1000, 200, false);
    check_large_mm(NB_FLOAT32, 1000, 256, 200, true);
    check_large_mm(NB_FLOAT64, 300, 400, 300, false);
    check_large_mm(NB_FLOAT64, 400, 300, 300, true);
    check_large_mm(NB_FLOAT32, 64, 1000, 100, false); /* the seed loop's x @ w1, one thread */
    check_large_mm(NB_FLOAT32, 1000, 64, 100, true);  /* its x^T @ grad_h */
}

Test(linalg, many_small_products_split_across_threads, LA)
{
    /* 160 products of 64^3 (0.5 MFLOP each, 84 in all): the batch splits across threads */
    enum { B = 160, S = 64 };
    for (int d = 0; d < 2; d++) {
        nb_manual_seed(11);
        nb_tensor *x = nb_randn(NB_SHAPE(B, S, S), NB_OPTS(DTYPES[d]));
        nb_tensor *y = nb_randn(NB_SHAPE(B, S, S), NB_OPTS(DTYPES[d]));
        nb_tensor *z = nb_matmul(x, y);
        expect_shape(z, "[160, 64, 64]");
        double *xv = values_of(x), *yv = values_of(y);
        double *want = malloc(B * S * S * sizeof(double)); /* (B, S, S) */
        for (int p = 0; p < B; p++) reference_mm(xv + p * S * S, yv + p * S * S, want + p * S * S, S, S, S);
        assert_values(z, want, B * S * S, rtol_of(DTYPES[d]), atol_of(DTYPES[d]) * 80);
        free(xv), free(yv), free(want);
    }
}

Test(linalg, same_values_on_one_thread, LA)
{
    nb_manual_seed(3);
    nb_tensor *a = nb_randn(NB_SHAPE(256, 1000), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_randn(NB_SHAPE(1000, 200), NB_OPTS(NB_FLOAT32));
    int saved = nb_get_num_threads();
    nb_set_num_threads(1);
    nb_tensor *one = nb_mm(a, b);
    nb_set_num_threads(saved);
    nb_tensor *many = nb_mm(a, b);
    assert_close(many, one, 1e-5, 1e-4);
}

/* ---------------------------------------------------------------- empty sizes */

static void expect_all_zero(const nb_tensor *t)
{
    int64_t n = nb_numel(t);
    double *v = values_of(t);
    for (int64_t i = 0; i < n; i++) cr_assert_eq(v[i], 0.0, "element %lld is %g, expected 0", (long long)i, v[i]);
    free(v);
}

Test(linalg, empty_sizes, LA)
{
    for (int d = 0; d < 2; d++) {
        nb_options o = NB_OPTS(DTYPES[d]);
        /* k = 0: a sum of nothing, zeros (over uninitialised memory) */
        nb_tensor *z = nb_mm(nb_empty(NB_SHAPE(3, 0), o), nb_empty(NB_SHAPE(0, 4), o));
        expect_shape(z, "[3, 4]");
        expect_all_zero(z);
        expect_shape(nb_mm(nb_empty(NB_SHAPE(0, 3), o), nb_empty(NB_SHAPE(3, 4), o)), "[0, 4]");
        expect_shape(nb_mm(nb_empty(NB_SHAPE(3, 5), o), nb_empty(NB_SHAPE(5, 0), o)), "[3, 0]");
        expect_shape(nb_mm(nb_empty(NB_SHAPE(0, 0), o), nb_empty(NB_SHAPE(0, 0), o)), "[0, 0]");
        nb_tensor *dot = nb_matmul(nb_empty(NB_SHAPE(0), o), nb_empty(NB_SHAPE(0), o));
        expect_shape(dot, "[]");
        expect_all_zero(dot);
        expect_shape(nb_matmul(nb_empty(NB_SHAPE(0, 2, 3), o), nb_empty(NB_SHAPE(3, 4), o)), "[0, 2, 4]");
        expect_shape(nb_matmul(nb_empty(NB_SHAPE(2, 0, 3), o), nb_empty(NB_SHAPE(2, 3, 4), o)), "[2, 0, 4]");
        nb_tensor *bz = nb_matmul(nb_empty(NB_SHAPE(2, 3, 0), o), nb_empty(NB_SHAPE(1, 0, 4), o));
        expect_shape(bz, "[2, 3, 4]");
        expect_all_zero(bz);
        assert_ok();
    }
}

/* ---------------------------------------------------------------- gradients */

Test(linalg, mm_records_for_autograd, LA)
{
    /* loss = sum(a @ b): d/da = ones @ b^T, d/db = a^T @ ones */
    nb_tensor *a = nb_requires_grad_(nb_clone(in("a", "f64")), true);
    nb_tensor *b = nb_requires_grad_(nb_clone(in("b", "f64")), true);
    nb_tensor *c = nb_mm(a, nb_t(nb_t(b)));
    cr_assert_str_eq(nb_grad_fn_name(c), "MmBackward");
    cr_assert_eq(nb_backward(nb_sum(c)), NB_OK, "%s", nb_last_error());
    nb_tensor *ones = nb_ones(NB_SHAPE(5, 3), NB_OPTS(NB_FLOAT64));
    nb_no_grad_begin();
    assert_close(nb_grad(a), nb_mm(ones, nb_t(in("b", "f64"))), 1e-12, 1e-12);
    assert_close(nb_grad(b), nb_mm(nb_t(in("a", "f64")), ones), 1e-12, 1e-12);
    nb_no_grad_end();
}

static nb_tensor *matmul_fn(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    return nb_matmul(in[0], in[1]);
}

Test(linalg, matmul_gradients_pass_gradcheck, LA)
{
    nb_tensor *p = nb_requires_grad_(nb_clone(in("p", "f64")), true); /* (2, 1, 3, 4) */
    nb_tensor *q = nb_requires_grad_(nb_clone(in("q", "f64")), true); /* (5, 4, 2) */
    nb_tensor *pq[2] = {p, q}; /* broadcast batch dims */
    cr_assert_eq(nb_gradcheck(matmul_fn, NULL, 2, pq), NB_OK, "%s", nb_last_error());
    nb_tensor *v = nb_requires_grad_(nb_clone(in("v7", "f64")), true);
    nb_tensor *y = nb_requires_grad_(nb_clone(in("y3", "f64")), true);
    nb_tensor *vy[2] = {v, y}; /* 1-D @ 3-D */
    cr_assert_eq(nb_gradcheck(matmul_fn, NULL, 2, vy), NB_OK, "%s", nb_last_error());
    nb_tensor *x = nb_requires_grad_(nb_clone(in("x3", "f64")), true);
    nb_tensor *w = nb_requires_grad_(nb_clone(in("w7", "f64")), true);
    nb_tensor *xw[2] = {x, w}; /* 3-D @ 1-D, folded */
    cr_assert_eq(nb_gradcheck(matmul_fn, NULL, 2, xw), NB_OK, "%s", nb_last_error());
    nb_tensor *vw[2] = {v, w}; /* dot */
    cr_assert_eq(nb_gradcheck(matmul_fn, NULL, 2, vw), NB_OK, "%s", nb_last_error());
    nb_tensor *a = nb_requires_grad_(nb_clone(in("a", "f64")), true);
    nb_tensor *aw[2] = {a, w}; /* matrix-vector */
    cr_assert_eq(nb_gradcheck(matmul_fn, NULL, 2, aw), NB_OK, "%s", nb_last_error());
}

/* ---------------------------------------------------------------- errors */

Test(linalg, mm_inner_size_mismatch_message, LA)
{
    nb_tensor *x = nb_empty(NB_SHAPE(64, 1000), NB_OPTS(NB_FLOAT32));
    nb_tensor *w = nb_empty(NB_SHAPE(100, 10), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_mm(x, w));
    cr_assert_eq(nb_last_status(), NB_ERR_SHAPE);
    cr_assert_str_eq(nb_last_error(), "nb_mm: cannot multiply [64, 1000] by [100, 10]: inner sizes differ (1000 vs 100)");
    nb_clear_error();
}

Test(linalg, mm_refuses_other_dims, LA)
{
    nb_tensor *v = nb_empty(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *m = nb_empty(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *t3 = nb_empty(NB_SHAPE(2, 3, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *s = nb_full(NB_SHAPE(), 1.0, NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_mm(v, m));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_mm", "2-D", "[3] (1-D)", "[3, 4] (2-D)"));
    cr_assert_null(nb_mm(m, t3));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_mm", "[2, 3, 4] (3-D)"));
    cr_assert_null(nb_mm(s, m));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_mm", "[] (0-D)"));
}

Test(linalg, dtype_errors, LA)
{
    nb_tensor *f32 = nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *f64 = nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT64));
    nb_tensor *i64 = nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_INT64));
    nb_tensor *b8 = nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_BOOL));
    cr_assert_null(nb_mm(i64, i64));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mm", "float32 or float64", "int64 and int64"));
    cr_assert_null(nb_mm(f32, b8));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mm", "float32 and bool"));
    cr_assert_null(nb_mm(f32, f64));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mm", "same dtype", "float32 and float64"));
    cr_assert_null(nb_matmul(f64, f32));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_matmul", "float64 and float32"));
    cr_assert_null(nb_matmul(i64, f32));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_matmul", "int64 and float32"));
}

Test(linalg, matmul_shape_errors, LA)
{
    nb_options o = NB_OPTS(NB_FLOAT32);
    cr_assert_null(nb_matmul(nb_empty(NB_SHAPE(2, 3, 4), o), nb_empty(NB_SHAPE(2, 5, 6), o)));
    cr_assert_eq(nb_last_status(), NB_ERR_SHAPE);
    cr_assert_str_eq(nb_last_error(), "nb_matmul: cannot multiply [2, 3, 4] by [2, 5, 6]: inner sizes differ (4 vs 5)");
    nb_clear_error();
    cr_assert_null(nb_matmul(nb_empty(NB_SHAPE(3), o), nb_empty(NB_SHAPE(4), o)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_matmul: cannot multiply [3] by [4]: inner sizes differ (3 vs 4)"));
    cr_assert_null(nb_matmul(nb_empty(NB_SHAPE(5, 3), o), nb_empty(NB_SHAPE(4), o)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_matmul", "[5, 3] by [4]", "(3 vs 4)"));
    cr_assert_null(nb_matmul(nb_empty(NB_SHAPE(2, 3, 4), o), nb_empty(NB_SHAPE(3, 4, 5), o)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_matmul", "[2, 3, 4] by [3, 4, 5]", "batch dims [2] and [3] do not broadcast"));
    cr_assert_null(nb_matmul(nb_empty(NB_SHAPE(2, 2, 3, 4), o), nb_empty(NB_SHAPE(3, 4, 5), o)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_matmul", "batch dims [2, 2] and [3]"));
    cr_assert_null(nb_matmul(nb_full(NB_SHAPE(), 2.0, o), nb_empty(NB_SHAPE(3), o)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_matmul", "at least 1 dim", "[] (0-D)"));
}

Test(linalg, null_inputs, LA)
{
    nb_tensor *m = nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_mm(NULL, m));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_mm", "a is NULL"));
    cr_assert_null(nb_mm(m, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_mm", "b is NULL"));
    cr_assert_null(nb_matmul(NULL, m));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_matmul", "a is NULL"));
    cr_assert_null(nb_matmul(m, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_matmul", "b is NULL"));
}

Test(linalg, first_error_is_kept_through_a_chain, LA)
{
    nb_options o = NB_OPTS(NB_FLOAT32);
    nb_tensor *x = nb_ones(NB_SHAPE(4, 3), o), *w1 = nb_ones(NB_SHAPE(2, 5), o), *w2 = nb_ones(NB_SHAPE(5, 1), o);
    nb_tensor *y = nb_mm(nb_mm(x, w1), w2); /* the first product fails; the second gets NULL */
    cr_assert_null(y);
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_mm: cannot multiply [4, 3] by [2, 5]"));
}

/* ---------------------------------------------------------------- configuration */

Test(linalg, config_names_the_kernel_set, LA)
{
    const char *cfg = nb_config_string();
    cr_assert(strstr(cfg, "BLIS 0.") != NULL, "%s", cfg);
    cr_assert(strstr(cfg, "kernels ") != NULL, "%s", cfg);
    cr_assert(strstr(cfg, "; threads ") != NULL, "%s", cfg);
    /* never the generic kernels on an x86 CPU with AVX2 */
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && !getenv("BLIS_ARCH_TYPE"))
        cr_assert(strstr(cfg, "kernels generic") == NULL, "%s", cfg);
#endif
}

/* BLIS reads BLIS_ARCH_TYPE once, when nabla first initialises it; each Criterion test runs in a
 * fresh process, so these set it first. */
#if defined(__x86_64__)
Test(linalg, kernel_set_named_by_the_user, LA)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) cr_skip_test("haswell kernels need AVX2");
    setenv("BLIS_ARCH_TYPE", "haswell", 1); /* BLIS 0.9 reads numbers only; nabla translates */
    const char *cfg = nb_config_string();
    cr_assert(strstr(cfg, "kernels haswell (BLIS_ARCH_TYPE set by the user)") != NULL, "%s", cfg);
    expect(nb_mm(in("a", "f32"), in("b", "f32")), "mm", "f32");
}

Test(linalg, kernel_set_that_would_abort_blis_is_refused, LA)
{
    setenv("BLIS_ARCH_TYPE", "1", 1); /* knl: listed by BLIS 0.9, not built; BLIS would abort */
    const char *cfg = nb_config_string();
    cr_assert(strstr(cfg, "chosen by nabla: BLIS_ARCH_TYPE=1 names no kernel set built into this BLIS") != NULL,
              "%s", cfg);
    cr_assert(strstr(cfg, "kernels knl") == NULL, "%s", cfg);
    expect(nb_mm(in("a", "f64"), in("b", "f64")), "mm", "f64");
}
#endif
