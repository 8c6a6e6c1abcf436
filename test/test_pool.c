/* test_pool.c — 2-D pooling (suite nn): nb_max_pool2d (and its indices), nb_avg_pool2d and
 * nb_adaptive_avg_pool2d against PyTorch's values and input gradients (golden/pool, made by
 * golden/gen_pool.py) in both dtypes, contiguous and not, 3-D and 4-D; NaN, empty batches,
 * grad_fn names, and every error. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct dtype_case {
    const char *tag;
    double rtol, atol;
} dtype_case;

static const dtype_case dtypes[2] = {{"f32", 1e-5, 1e-6}, {"f64", 1e-12, 1e-13}};

typedef enum { MAX, AVG, ADAPTIVE } kind;

/* One golden case: the options as gen_pool.py's CASES repeats them. */
typedef struct pool_case {
    const char *name;
    kind k;
    nb_max_pool2d_options mo;
    nb_avg_pool2d_options ao;
    int64_t out[2];
} pool_case;

#define MAXC(n, ...) {n, MAX, .mo = {__VA_ARGS__}}
#define AVGC(n, ...) {n, AVG, .ao = {__VA_ARGS__}}
static const pool_case cases[] = {
    MAXC("max_k2", .kernel_size = {2, 2}),
    MAXC("max_k3s2p1", .kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}),
    MAXC("max_dil", .kernel_size = {3, 2}, .stride = {1, 2}, .padding = {1, 1}, .dilation = {2, 3}),
    MAXC("max_ceil", .kernel_size = {3, 3}, .stride = {2, 2}, .ceil_mode = true),
    MAXC("max_ceil_pad", .kernel_size = {3, 2}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true),
    MAXC("max_rect", .kernel_size = {2, 4}, .stride = {3, 1}),
    MAXC("max_3d", .kernel_size = {2, 2}, .stride = {1, 1}),
    MAXC("max_nan", .kernel_size = {2, 2}, .stride = {1, 1}),
    AVGC("avg_k2", .kernel_size = {2, 2}, .count_include_pad = true),
    AVGC("avg_k3s2p1", .kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .count_include_pad = true),
    AVGC("avg_k3s2p1_ex", .kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}),
    AVGC("avg_ceil", .kernel_size = {3, 2}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true,
         .count_include_pad = true),
    AVGC("avg_ceil_ex", .kernel_size = {3, 2}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true),
    AVGC("avg_div", .kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .count_include_pad = true,
         .divisor_override = 5),
    AVGC("avg_3d", .kernel_size = {2, 3}, .stride = {1, 1}, .count_include_pad = true),
    {"adapt_3x4", ADAPTIVE, .out = {3, 4}},
    {"adapt_up", ADAPTIVE, .out = {5, 4}},
    {"adapt_1x1", ADAPTIVE, .out = {1, 1}},
    {"adapt_3d", ADAPTIVE, .out = {2, 3}},
};

static nb_tensor *gold(const char *name, const char *part, const char *tag)
{
    char path[128];
    if (tag)
        snprintf(path, sizeof path, "pool/%s_%s_%s", name, part, tag);
    else
        snprintf(path, sizeof path, "pool/%s_%s", name, part);
    return golden(path);
}

/* t's values laid out with each plane transposed in memory (H and W swapped): not contiguous
 * whatever the leading sizes */
static nb_tensor *strided_copy(nb_tensor *t)
{
    const int nd = nb_ndim(t);
    return nb_transpose(nb_contiguous(nb_transpose(t, nd - 2, nd - 1)), nd - 2, nd - 1);
}

static nb_tensor *run(const pool_case *c, const nb_tensor *x, nb_tensor **indices)
{
    switch (c->k) {
    case MAX: return indices ? nb_max_pool2d_with_indices(x, &c->mo, indices) : nb_max_pool2d(x, &c->mo);
    case AVG: return nb_avg_pool2d(x, &c->ao);
    default: return nb_adaptive_avg_pool2d(x, c->out[0], c->out[1]);
    }
}

Test(nn, pooling_matches_pytorch, .init = nb_test_setup)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pool_case *c = &cases[i];
        for (int d = 0; d < 2; d++) {
            for (int strided = 0; strided < 2; strided++) {
                nb_scope_begin();
                nb_tensor *x0 = gold(c->name, "x", dtypes[d].tag);
                nb_tensor *x = nb_requires_grad_(nb_detach(strided ? strided_copy(x0) : x0), true);
                if (strided) cr_assert(!nb_is_contiguous(x));
                nb_tensor *idx = NULL;
                nb_tensor *y = run(c, x, c->k == MAX ? &idx : NULL);
                cr_assert(y != NULL, "%s: %s", c->name, nb_last_error());
                assert_close(y, gold(c->name, "y", dtypes[d].tag), dtypes[d].rtol, dtypes[d].atol);
                if (c->k == MAX) assert_close(idx, gold(c->name, "i", NULL), 0, 0);
                nb_tensor *gx = NULL, *gy = gold(c->name, "gy", dtypes[d].tag);
                cr_assert_eq(nb_grad_of(1, &y, &gy, 1, &x, &gx, false), NB_OK, "%s: %s", c->name, nb_last_error());
                assert_close(gx, gold(c->name, "gx", dtypes[d].tag), dtypes[d].rtol * 10, dtypes[d].atol * 10);
                cr_assert_eq(nb_scope_end(), NB_OK);
            }
        }
    }
}

Test(nn, pooling_records_its_backward_names, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_randn(NB_SHAPE(1, 1, 4, 4), NB_OPTS(NB_FLOAT32, .requires_grad = true));
    const nb_max_pool2d_options mo = NB_MAX_POOL2D_OPTIONS(2, 2);
    const nb_avg_pool2d_options ao = NB_AVG_POOL2D_OPTIONS(2, 2);
    cr_assert_str_eq(nb_grad_fn_name(nb_max_pool2d(x, &mo)), "MaxPool2DWithIndicesBackward");
    cr_assert_str_eq(nb_grad_fn_name(nb_avg_pool2d(x, &ao)), "AvgPool2DBackward");
    cr_assert_str_eq(nb_grad_fn_name(nb_adaptive_avg_pool2d(x, 2, 3)), "AdaptiveAvgPool2DBackward");
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, pooling_of_an_empty_batch, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_zeros(NB_SHAPE(0, 3, 5, 5), NB_OPTS(NB_FLOAT64, .requires_grad = true));
    const nb_max_pool2d_options mo = NB_MAX_POOL2D_OPTIONS(2, 2);
    const nb_avg_pool2d_options ao = NB_AVG_POOL2D_OPTIONS(3, 3);
    nb_tensor *idx = NULL;
    nb_tensor *ys[3] = {nb_max_pool2d_with_indices(x, &mo, &idx), nb_avg_pool2d(x, &ao),
                        nb_adaptive_avg_pool2d(x, 4, 2)};
    const char *want[3] = {"[0, 3, 2, 2]", "[0, 3, 1, 1]", "[0, 3, 4, 2]"};
    char s[64];
    for (int i = 0; i < 3; i++) {
        cr_assert(ys[i] != NULL, "%s", nb_last_error());
        nb_shape_string(ys[i], s, sizeof s);
        cr_assert_str_eq(s, want[i]);
        nb_tensor *gx = NULL, *gy = nb_ones_like(ys[i]);
        cr_assert_eq(nb_grad_of(1, &ys[i], &gy, 1, &x, &gx, false), NB_OK, "%s", nb_last_error());
        nb_shape_string(gx, s, sizeof s);
        cr_assert_str_eq(s, "[0, 3, 5, 5]");
    }
    nb_shape_string(idx, s, sizeof s);
    cr_assert_str_eq(s, "[0, 3, 2, 2]");
    cr_assert_eq(nb_dtype_of(idx), NB_INT64);
    /* an adaptive output of no rows is empty too */
    nb_tensor *z = nb_adaptive_avg_pool2d(nb_ones(NB_SHAPE(2, 3, 3), NB_OPTS(NB_FLOAT32)), 0, 2);
    cr_assert(z != NULL, "%s", nb_last_error());
    nb_shape_string(z, s, sizeof s);
    cr_assert_str_eq(s, "[2, 0, 2]");
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, max_pool_of_a_window_all_nan_or_all_infinite, .init = nb_test_setup)
{
    nb_scope_begin();
    const double v[4] = {-INFINITY, -INFINITY, NAN, NAN};
    nb_tensor *x = nb_from_array(v, NB_SHAPE(1, 1, 2, 2), NB_OPTS(NB_FLOAT64));
    const nb_max_pool2d_options o = {.kernel_size = {1, 2}};
    nb_tensor *idx = NULL;
    nb_tensor *y = nb_max_pool2d_with_indices(x, &o, &idx);
    const double want[2] = {-INFINITY, NAN};
    assert_values(y, want, 2, 0, 0);
    const double want_idx[2] = {0, 3}; /* the first -inf; the last NaN (PyTorch's loop) */
    assert_values(idx, want_idx, 2, 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* float32 max pooling runs typed loops (for 2x2, stride 2, a vectorised one per row, or over
 * the whole plane when its rows are short) and float64 the per-element rule of kernels/pool.h:
 * on data full of ties, NaNs and infinities both must give the same maxima and indices, on
 * planes of short rows (9 x 11) and long ones (5 x 41). */
Test(nn, max_pool_float32_loops_follow_the_window_rule, .init = nb_test_setup)
{
    enum { N = 2 * 3 * 9 * 11 };
    double v[N];
    for (int i = 0; i < N; i++) {
        const int r = (i * 37 + 11) % 23;
        v[i] = r == 0 ? NAN : r == 1 ? -INFINITY : r == 2 ? INFINITY : (double)(r % 5); /* ties */
    }
    const nb_max_pool2d_options opts[] = {
        NB_MAX_POOL2D_OPTIONS(2, 2),
        {.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}},
        {.kernel_size = {2, 3}, .stride = {1, 2}, .dilation = {2, 1}, .ceil_mode = true},
    };
    for (size_t k = 0; k < 2 * sizeof opts / sizeof opts[0]; k++) {
        nb_scope_begin();
        const bool wide = k >= sizeof opts / sizeof opts[0];
        nb_tensor *x64 = wide ? nb_from_array(v, NB_SHAPE(2, 1, 5, 41), NB_OPTS(NB_FLOAT64))
                              : nb_from_array(v, NB_SHAPE(2, 3, 9, 11), NB_OPTS(NB_FLOAT64));
        nb_tensor *i32 = NULL, *i64 = NULL;
        const nb_max_pool2d_options *o = &opts[k % (sizeof opts / sizeof opts[0])];
        nb_tensor *y32 = nb_max_pool2d_with_indices(nb_to_dtype(x64, NB_FLOAT32), o, &i32);
        nb_tensor *y64 = nb_max_pool2d_with_indices(x64, o, &i64);
        cr_assert(y32 && y64, "%s", nb_last_error());
        const int64_t n = nb_numel(y64);
        const float *a = nb_data(y32);
        const double *b = nb_data(y64);
        const int64_t *ia = nb_data(i32), *ib = nb_data(i64);
        for (int64_t i = 0; i < n; i++) {
            cr_assert(isnan(a[i]) ? isnan(b[i]) : (double)a[i] == b[i], "options %zu, output %lld: %g, want %g", k,
                      (long long)i, a[i], b[i]);
            cr_assert_eq(ia[i], ib[i], "options %zu, output %lld: index %lld, want %lld", k, (long long)i,
                         (long long)ia[i], (long long)ib[i]);
        }
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
}

Test(nn, pooling_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_zeros(NB_SHAPE(2, 3, 6, 6), NB_OPTS(NB_FLOAT32));
    nb_max_pool2d_options mo = NB_MAX_POOL2D_OPTIONS(2, 2);
    nb_avg_pool2d_options ao = NB_AVG_POOL2D_OPTIONS(2, 2);

    cr_assert_null(nb_max_pool2d(NULL, &mo));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_max_pool2d", "input"));
    cr_assert_null(nb_max_pool2d(x, NULL));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_max_pool2d", "options", "NULL"));
    cr_assert_null(nb_avg_pool2d(x, NULL));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_avg_pool2d", "options", "NULL"));
    cr_assert_null(nb_max_pool2d_with_indices(x, &mo, NULL));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_max_pool2d_with_indices", "indices", "NULL"));

    cr_assert_null(nb_max_pool2d(nb_zeros(NB_SHAPE(2, 3, 6, 6), NB_OPTS(NB_INT64)), &mo));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_max_pool2d", "float32 or float64", "int64"));
    cr_assert_null(nb_avg_pool2d(nb_zeros(NB_SHAPE(6, 6), NB_OPTS(NB_FLOAT32)), &ao));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_avg_pool2d", "3-D (C, H, W) or 4-D (N, C, H, W)", "[6, 6]"));
    cr_assert_null(nb_adaptive_avg_pool2d(nb_zeros(NB_SHAPE(2, 3, 0, 6), NB_OPTS(NB_FLOAT32)), 2, 2));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_adaptive_avg_pool2d", "non-zero C, H and W", "[2, 3, 0, 6]"));
    cr_assert_null(nb_max_pool2d(nb_zeros(NB_SHAPE(1, 2, 3, 4, 5), NB_OPTS(NB_FLOAT32)), &mo));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_max_pool2d", "[1, 2, 3, 4, 5]"));

    mo = (nb_max_pool2d_options){.kernel_size = {0, 2}};
    cr_assert_null(nb_max_pool2d(x, &mo));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_max_pool2d", "kernel_size > 0", "[0, 2]"));
    mo = (nb_max_pool2d_options){.kernel_size = {2, 2}, .stride = {1, -1}};
    cr_assert_null(nb_max_pool2d(x, &mo));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_max_pool2d", "stride >= 0", "[1, -1]"));
    mo = (nb_max_pool2d_options){.kernel_size = {2, 2}, .padding = {-1, 0}};
    cr_assert_null(nb_max_pool2d(x, &mo));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_max_pool2d", "padding >= 0", "[-1, 0]"));
    mo = (nb_max_pool2d_options){.kernel_size = {2, 2}, .dilation = {-2, 1}};
    cr_assert_null(nb_max_pool2d(x, &mo));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_max_pool2d", "dilation >= 0", "[-2, 1]"));
    mo = (nb_max_pool2d_options){.kernel_size = {3, 2}, .padding = {1, 2}};
    cr_assert_null(nb_max_pool2d(x, &mo));
    assert_error(NB_ERR_ARGUMENT,
                 ERR_PARTS("nb_max_pool2d", "at most half of kernel_size", "padding [1, 2]", "kernel_size [3, 2]"));
    ao = (nb_avg_pool2d_options){.kernel_size = {4, 4}, .padding = {3, 0}};
    cr_assert_null(nb_avg_pool2d(x, &ao));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_avg_pool2d", "at most half", "padding [3, 0]"));
    mo = (nb_max_pool2d_options){.kernel_size = {2, 4}, .dilation = {1, 3}};
    cr_assert_null(nb_max_pool2d(x, &mo));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_max_pool2d", "[2, 3, 6, 6]", "3 x 0", "too small"));
    ao = (nb_avg_pool2d_options){.kernel_size = {7, 2}};
    cr_assert_null(nb_avg_pool2d(x, &ao));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_avg_pool2d", "[2, 3, 6, 6]", "0 x 3", "too small"));
    cr_assert_null(nb_adaptive_avg_pool2d(x, -1, 2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_adaptive_avg_pool2d", ">= 0", "[-1, 2]"));
    cr_assert_null(nb_adaptive_avg_pool2d(x, (int64_t)1 << 58, 2));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_adaptive_avg_pool2d", "too large"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}
