/* test_reduce_more.c — suite reduce_more: reductions over lists of dims (sum_dims, mean_dims,
 * amax, amin, any, all, var, std, logsumexp, norm), products, running sums, top-k and argsort.
 * Values against PyTorch (test/golden/gen_reduce_more.py) for every dtype, several lists of dims
 * and keepdim, on contiguous and non-contiguous inputs, an expanded input and NaNs; empty
 * tensors; the sort and tie rules; the same bits for every thread count; and every error. */
#include "helpers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const TAGS[] = {"f32", "f64", "i64", "b8"};

static double rtol_of(nb_dtype d) { return d == NB_FLOAT32 ? 2e-5 : d == NB_FLOAT64 ? 1e-11 : 0; }
static double atol_of(nb_dtype d) { return d == NB_FLOAT32 ? 2e-6 : d == NB_FLOAT64 ? 1e-12 : 0; }

/* the lists of dims of the golden files, by their names there */
static const struct {
    const char *name;
    int n;
    int dims[3];
} DIMS[] = {
    {"all", 0, {0}}, {"0", 1, {0}}, {"12", 2, {1, 2}}, {"02", 2, {0, 2}}, {"m1", 1, {-1}}, {"012", 3, {0, 1, 2}},
};
#define NDIMS (int)(sizeof DIMS / sizeof DIMS[0])

typedef nb_tensor *(*dims_fn)(const nb_tensor *t, int n, const int *dims, bool keepdim);

static nb_tensor *var1(const nb_tensor *t, int n, const int *d, bool k) { return nb_var(t, n, d, 1, k); }
static nb_tensor *var0(const nb_tensor *t, int n, const int *d, bool k) { return nb_var(t, n, d, 0, k); }
static nb_tensor *std1(const nb_tensor *t, int n, const int *d, bool k) { return nb_std(t, n, d, 1, k); }
static nb_tensor *norm1(const nb_tensor *t, int n, const int *d, bool k) { return nb_norm(t, 1, n, d, k); }
static nb_tensor *norm2(const nb_tensor *t, int n, const int *d, bool k) { return nb_norm(t, 2, n, d, k); }
static nb_tensor *norminf(const nb_tensor *t, int n, const int *d, bool k) { return nb_norm(t, INFINITY, n, d, k); }

static const struct {
    const char *name;
    dims_fn fn;
    bool floats_only, no_bool;
} OPS[] = {
    {"sum", nb_sum_dims, false, false},   {"mean", nb_mean_dims, true, false},   {"amax", nb_amax, false, false},
    {"amin", nb_amin, false, false},      {"any", nb_any, false, false},         {"all", nb_all, false, false},
    {"logsumexp", nb_logsumexp, false, false}, {"var", var1, true, false},        {"var0", var0, true, false},
    {"std", std1, true, false},           {"norm1", norm1, true, false},         {"norm2", norm2, true, false},
    {"norminf", norminf, true, false},
};
#define NOPS (int)(sizeof OPS / sizeof OPS[0])

static nb_tensor *load(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static nb_tensor *load(const char *fmt, ...)
{
    char name[128] = "reduce_more/";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name + strlen(name), sizeof name - strlen(name), fmt, ap);
    va_end(ap);
    return golden(name);
}

Test(reduce_more, dims_reductions_match_pytorch_for_every_dtype_and_layout, .init = nb_test_setup)
{
    for (int t = 0; t < 4; t++) {
        nb_tensor *x = load("in_%s", TAGS[t]);
        nb_tensor *xs = noncontig(x);
        for (int o = 0; o < NOPS; o++) {
            if ((OPS[o].floats_only && t >= 2) || (OPS[o].no_bool && t == 3)) continue;
            for (int d = 0; d < NDIMS; d++) {
                for (int keep = 0; keep < 2; keep++) {
                    nb_tensor *want = load("%s_%s_%s_%d", OPS[o].name, TAGS[t], DIMS[d].name, keep);
                    nb_dtype wd = nb_dtype_of(want);
                    nb_tensor *got = OPS[o].fn(x, DIMS[d].n, DIMS[d].dims, keep);
                    cr_assert(got, "%s %s %s: %s", OPS[o].name, TAGS[t], DIMS[d].name, nb_last_error());
                    assert_close(got, want, rtol_of(wd), atol_of(wd));
                    nb_tensor *got_s = OPS[o].fn(xs, DIMS[d].n, DIMS[d].dims, keep);
                    assert_close(got_s, want, rtol_of(wd), atol_of(wd));
                    nb_release(got), nb_release(got_s), nb_release(want);
                }
            }
        }
        nb_release(x), nb_release(xs);
    }
}

Test(reduce_more, floats_only_reductions_refuse_other_dtypes, .init = nb_test_setup)
{
    nb_tensor *x = load("in_i64");
    static const char *const names[] = {"nb_mean_dims", "nb_var", "nb_std", "nb_norm"};
    nb_tensor *r[] = {nb_mean_dims(x, 0, NULL, false), nb_var(x, 0, NULL, 1, false), nb_std(x, 0, NULL, 1, false),
                      nb_norm(x, 2, 0, NULL, false)};
    for (int i = 0; i < 4; i++) cr_assert_null(r[i], "%s", names[i]);
    (void)r;
    nb_clear_error();
    cr_assert_null(nb_var(x, 0, NULL, 1, false));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_var", "floating", "int64"));
    cr_assert_null(nb_norm(x, 1, 0, NULL, false));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_norm", "int64"));
    cr_assert_null(nb_mean_dims(x, 1, (int[]){0}, false));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mean_dims", "int64"));
    nb_release(x);
}

Test(reduce_more, an_expanded_input_and_nans_match_pytorch, .init = nb_test_setup)
{
    nb_tensor *ex = load("in_ex");
    nb_tensor *xe = nb_expand(ex, NB_SHAPE(2, 3, 4));
    dims_fn fns[] = {nb_sum_dims, nb_amax, var1, nb_logsumexp};
    const char *names[] = {"sum", "amax", "var", "logsumexp"};
    const int pick[] = {1, 2, 0}; /* "0", "12", "all" */
    for (int o = 0; o < 4; o++) {
        for (int i = 0; i < 3; i++) {
            int d = pick[i];
            nb_tensor *want = load("%s_ex_%s_0", names[o], DIMS[d].name);
            nb_tensor *got = fns[o](xe, DIMS[d].n, DIMS[d].dims, false);
            assert_close(got, want, 1e-11, 1e-12);
            nb_release(got), nb_release(want);
        }
    }
    nb_tensor *xn = load("in_nan");
    dims_fn nfns[] = {nb_sum_dims, nb_amax, nb_amin, nb_logsumexp};
    const char *nnames[] = {"sum", "amax", "amin", "logsumexp"};
    for (int o = 0; o < 4; o++) {
        for (int i = 0; i < 3; i++) {
            int d = pick[i];
            nb_tensor *want = load("%s_nan_%s_0", nnames[o], DIMS[d].name);
            nb_tensor *got = nfns[o](xn, DIMS[d].n, DIMS[d].dims, false);
            assert_close(got, want, 2e-5, 2e-6);
            nb_release(got), nb_release(want);
        }
    }
    for (int d = 0; d < 3; d++) {
        for (int desc = 0; desc < 2; desc++) {
            nb_tensor *want = load("argsort_nan_%d_%d", d, desc);
            nb_tensor *got = nb_argsort(xn, d, desc);
            assert_close(got, want, 0, 0);
            nb_release(got), nb_release(want);
        }
    }
    nb_release(ex), nb_release(xe), nb_release(xn);
}

Test(reduce_more, products_running_sums_and_sorts_match_pytorch, .init = nb_test_setup)
{
    for (int t = 0; t < 4; t++) {
        nb_tensor *x = load("in_%s", TAGS[t]);
        nb_tensor *xs = noncontig(x);
        nb_tensor *ins[2] = {x, xs};
        for (int v = 0; v < 2; v++) {
            nb_tensor *in = ins[v];
            nb_tensor *want = load("prod_%s_all", TAGS[t]);
            nb_dtype wd = nb_dtype_of(want);
            nb_tensor *got = nb_prod(in);
            assert_close(got, want, rtol_of(wd), atol_of(wd));
            nb_release(got), nb_release(want);
            for (int d = 0; d < 3; d++) {
                for (int keep = 0; keep < 2; keep++) {
                    want = load("prod_%s_%d_%d", TAGS[t], d, keep);
                    got = nb_prod_dim(in, d - (keep ? 3 : 0), keep); /* negative dims too */
                    assert_close(got, want, rtol_of(wd), atol_of(wd));
                    nb_release(got), nb_release(want);
                }
                want = load("cumsum_%s_%d", TAGS[t], d);
                got = nb_cumsum(in, d);
                assert_close(got, want, rtol_of(nb_dtype_of(want)), atol_of(nb_dtype_of(want)));
                nb_release(got), nb_release(want);
                for (int desc = 0; desc < 2; desc++) {
                    want = load("argsort_%s_%d_%d", TAGS[t], d, desc);
                    got = nb_argsort(in, d, desc);
                    assert_close(got, want, 0, 0);
                    nb_release(got), nb_release(want);
                }
                if (t == 3) continue;
                for (int largest = 0; largest < 2; largest++) {
                    nb_tensor *values, *indices;
                    cr_assert_eq(nb_topk(in, 2, d, largest, true, &values, &indices), NB_OK, "%s", nb_last_error());
                    nb_tensor *wv = load("topk_%s_%d_%d_v", TAGS[t], d, largest);
                    nb_tensor *wi = load("topk_%s_%d_%d_i", TAGS[t], d, largest);
                    assert_close(values, wv, 0, 0);
                    assert_close(indices, wi, 0, 0);
                    nb_release(values), nb_release(indices), nb_release(wv), nb_release(wi);
                }
            }
        }
        nb_release(x), nb_release(xs);
    }
}

Test(reduce_more, empty_tensors, .init = nb_test_setup)
{
    nb_tensor *e = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *s = nb_sum_dims(e, 1, (int[]){0}, false);
    assert_values(s, (double[]){0, 0, 0}, 3, 0, 0);
    nb_tensor *m = nb_mean_dims(e, 1, (int[]){0}, false);
    nb_tensor *m1 = nb_select(m, 0, 1);
    cr_assert(isnan(nb_item(m1)));
    nb_release(m1);
    nb_tensor *a = nb_amax(e, 1, (int[]){1}, false); /* no outputs: nothing to refuse */
    cr_assert_eq(nb_numel(a), 0);
    nb_tensor *p = nb_prod_dim(e, 0, false);
    assert_values(p, (double[]){1, 1, 1}, 3, 0, 0);
    nb_tensor *l = nb_logsumexp(e, 1, (int[]){0}, false);
    assert_values(l, (double[]){-INFINITY, -INFINITY, -INFINITY}, 3, 0, 0);
    nb_tensor *ni = nb_norm(e, INFINITY, 1, (int[]){0}, false);
    assert_values(ni, (double[]){0, 0, 0}, 3, 0, 0);
    nb_tensor *an = nb_any(e, 1, (int[]){0}, false), *al = nb_all(e, 1, (int[]){0}, false);
    assert_values(an, (double[]){0, 0, 0}, 3, 0, 0);
    assert_values(al, (double[]){1, 1, 1}, 3, 0, 0);
    nb_tensor *c = nb_cumsum(e, 0);
    cr_assert_eq(nb_numel(c), 0);
    nb_tensor *sorted = nb_argsort(e, 0, false);
    cr_assert_eq(nb_numel(sorted), 0);
    nb_tensor *v, *i;
    cr_assert_eq(nb_topk(e, 0, 0, true, true, &v, &i), NB_OK);
    cr_assert_eq(nb_numel(v), 0);
    assert_ok();
    nb_release(e), nb_release(s), nb_release(m), nb_release(a), nb_release(p), nb_release(l), nb_release(ni);
    nb_release(an), nb_release(al), nb_release(c), nb_release(sorted), nb_release(v), nb_release(i);
}

Test(reduce_more, errors_name_the_op_and_the_argument, .init = nb_test_setup)
{
    nb_tensor *x = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_sum_dims(x, 2, (int[]){1, -1}, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sum_dims", "dim 1 appears multiple times"));
    cr_assert_null(nb_amax(x, 1, (int[]){2}, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_amax", "dim 2 is out of range", "2-d"));
    cr_assert_null(nb_amin(x, 1, NULL, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_amin", "dims = NULL"));
    cr_assert_null(nb_any(x, -1, NULL, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_any", "n = -1"));
    cr_assert_null(nb_all(NULL, 0, NULL, false));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_all", "NULL"));
    nb_tensor *e = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_amax(e, 1, (int[]){0}, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_amax", "dim 0 of size 0", "[0, 3]"));
    cr_assert_null(nb_norm(x, 3, 0, NULL, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_norm", "p = 1, 2 or INFINITY", "got 3"));
    cr_assert_null(nb_logsumexp(x, 1, (int[]){-3}, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_logsumexp", "dim -3"));
    cr_assert_null(nb_std(x, 1, (int[]){5}, 1, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_std", "dim 5"));
    cr_assert_null(nb_prod_dim(x, 2, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_prod_dim", "dim 2"));
    cr_assert_null(nb_prod(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_prod", "NULL"));
    cr_assert_null(nb_cumsum(x, -3));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_cumsum", "dim -3"));
    cr_assert_null(nb_argsort(x, 2, false));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_argsort", "dim 2"));
    nb_tensor *v = x, *i = x;
    cr_assert_neq(nb_topk(x, 4, 1, true, true, &v, &i), NB_OK);
    cr_assert(v == NULL && i == NULL);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_topk", "k = 4 is out of range", "dim 1 of size 3", "[2, 3]"));
    cr_assert_neq(nb_topk(x, -1, 0, true, true, &v, &i), NB_OK);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_topk", "k = -1"));
    nb_tensor *flags = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_BOOL));
    cr_assert_neq(nb_topk(flags, 1, 0, true, true, &v, &i), NB_OK);
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_topk", "bool"));
    nb_release(flags);
    cr_assert_neq(nb_topk(x, 1, 0, true, true, NULL, &i), NB_OK);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_topk", "values and indices"));
    nb_release(x), nb_release(e);
}

Test(reduce_more, ties_follow_the_stated_rules, .init = nb_test_setup)
{
    /* topk and argsort: of equal values the lower index first, in both directions; NaN largest */
    nb_tensor *x = nb_from_array((float[]){1, 3, 3, NAN, 3, -0.0f, 0.0f}, NB_SHAPE(7), NB_OPTS(NB_FLOAT32));
    nb_tensor *v, *i;
    cr_assert_eq(nb_topk(x, 3, 0, true, true, &v, &i), NB_OK);
    assert_values(i, (double[]){3, 1, 2}, 3, 0, 0);
    nb_release(v), nb_release(i);
    cr_assert_eq(nb_topk(x, 3, 0, false, true, &v, &i), NB_OK);
    assert_values(i, (double[]){5, 6, 0}, 3, 0, 0);
    nb_release(v), nb_release(i);
    nb_tensor *a = nb_argsort(x, 0, true), *b = nb_argsort(x, 0, false);
    assert_values(a, (double[]){3, 1, 2, 4, 0, 5, 6}, 7, 0, 0);
    assert_values(b, (double[]){5, 6, 0, 1, 2, 4, 3}, 7, 0, 0);
    /* amax's gradient is shared evenly by the ties */
    nb_tensor *y = nb_from_array((double[]){1, 3, 3, 2}, NB_SHAPE(4), NB_OPTS(NB_FLOAT64, .requires_grad = true));
    nb_tensor *m = nb_amax(y, 0, NULL, false);
    cr_assert_eq(nb_backward(m), NB_OK);
    assert_values(nb_grad(y), (double[]){0, 0.5, 0.5, 0}, 4, 0, 0);
    /* prod's gradient with one zero and with two */
    nb_tensor *z = nb_from_array((double[]){2, 0, 3, 0, 5, 4}, NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT64, .requires_grad = true));
    nb_tensor *pz = nb_prod_dim(z, 1, false), *sp = nb_sum(pz);
    cr_assert_eq(nb_backward(sp), NB_OK);
    assert_values(nb_grad(z), (double[]){0, 6, 0, 20, 0, 0}, 6, 0, 0);
    nb_tensor *z2 = nb_from_array((double[]){0, 0, 3}, NB_SHAPE(3), NB_OPTS(NB_FLOAT64, .requires_grad = true));
    nb_tensor *p2 = nb_prod(z2);
    cr_assert_eq(nb_backward(p2), NB_OK);
    assert_values(nb_grad(z2), (double[]){0, 0, 0}, 3, 0, 0);
    nb_release(x), nb_release(a), nb_release(b), nb_release(y), nb_release(m), nb_release(z), nb_release(pz);
    nb_release(sp), nb_release(z2), nb_release(p2);
    /* the 2-norm's gradient where the norm is 0 is 0, as in PyTorch */
    nb_tensor *zr = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT64, .requires_grad = true));
    nb_tensor *nz = nb_norm(zr, 2, 0, NULL, false);
    cr_assert_eq(nb_backward(nz), NB_OK);
    assert_values(nb_grad(zr), (double[]){0, 0, 0}, 3, 0, 0);
    nb_release(zr), nb_release(nz);
}

Test(reduce_more, results_are_the_same_for_every_thread_count, .init = nb_test_setup)
{
    nb_manual_seed(7);
    nb_tensor *x = nb_randn(NB_SHAPE(64, 33, 130), NB_OPTS(NB_FLOAT32));
    nb_tensor *xt = nb_transpose(x, 0, 2);
    nb_tensor *first[6] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        nb_set_num_threads(threads);
        nb_tensor *r[6] = {
            nb_sum_dims(xt, 2, (int[]){0, 2}, false), nb_amax(xt, 2, (int[]){0, 1}, true),
            nb_var(x, 2, (int[]){0, 2}, 1, false),    nb_cumsum(xt, 0),
            nb_prod_dim(xt, 1, false),                nb_argsort(x, 1, true),
        };
        for (int k = 0; k < 6; k++) {
            if (threads == 1) {
                first[k] = r[k];
                continue;
            }
            assert_close(r[k], first[k], 0, 0);
            nb_release(r[k]);
        }
    }
    nb_set_num_threads(0);
    for (int k = 0; k < 6; k++) nb_release(first[k]);
    nb_release(x), nb_release(xt);
}

Test(reduce_more, var_stays_accurate_far_from_zero_and_logsumexp_does_not_overflow, .init = nb_test_setup)
{
    /* 1e4 + small steps: one pass of sums of squares would cancel almost every digit */
    float v[4096];
    double mean = 0, ss = 0;
    for (int i = 0; i < 4096; i++) v[i] = 10000.0f + (float)((i * 37) % 101) * 0.01f, mean += v[i];
    mean /= 4096;
    for (int i = 0; i < 4096; i++) ss += (v[i] - mean) * (v[i] - mean);
    nb_tensor *x = nb_from_array(v, NB_SHAPE(2, 2048), NB_OPTS(NB_FLOAT32));
    nb_tensor *var = nb_var(x, 0, NULL, 1, false);
    assert_values(var, (double[]){ss / 4095}, 1, 1e-5, 0);
    nb_tensor *big = nb_from_array((float[]){1000, 1000, -INFINITY}, NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *l = nb_logsumexp(big, 0, NULL, false);
    assert_values(l, (double[]){1000 + log(2.0)}, 1, 1e-6, 0);
    nb_release(x), nb_release(var), nb_release(big), nb_release(l);
}
