/* test_norm.c — nb_layer_norm and nb_rms_norm (suite nn): values and the gradients of the input,
 * weight and bias against PyTorch's (golden/norm, made by golden/gen_norm.py) in both dtypes,
 * non-contiguous and expanded inputs, empty tensors, NaN, and every error. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>

typedef struct dtype_case {
    const char *tag; /* golden file suffix */
    nb_dtype dtype;
    double rtol, atol;
} dtype_case;

static const dtype_case cases[2] = {
    {"f32", NB_FLOAT32, 1e-5, 1e-6},
    {"f64", NB_FLOAT64, 1e-10, 1e-12},
};

/* golden/norm/NAME_TAG.npy */
static nb_tensor *gold(const char *name, const char *tag)
{
    char path[128];
    snprintf(path, sizeof path, "norm/%s_%s", name, tag);
    return golden(path);
}

static nb_tensor *leaf(nb_tensor *t) { return nb_requires_grad_(nb_detach(t), true); }

/* y = f(inputs) and the gradients of sum(y * gy) against golden NAME_y and NAME_g0, g1, ... */
typedef nb_tensor *(*norm_fn)(nb_tensor *const *in);

static void check_case(const dtype_case *c, const char *name, norm_fn f, int n, const char *const *inputs,
                       const char *gy, bool strided)
{
    nb_scope_begin();
    nb_tensor *in[3] = {0};
    for (int i = 0; i < n; i++) {
        nb_tensor *v = gold(inputs[i], c->tag);
        in[i] = leaf(strided ? noncontig(v) : v);
        if (strided) cr_assert(!nb_is_contiguous(in[i]) || nb_ndim(in[i]) == 0);
    }
    nb_tensor *y = f(in);
    cr_assert(y != NULL, "%s: %s", name, nb_last_error());
    char want[64];
    snprintf(want, sizeof want, "%s_y", name);
    assert_close(y, gold(want, c->tag), c->rtol, c->atol);
    nb_tensor *grads[3] = {0};
    nb_tensor *g = gold(gy, c->tag);
    cr_assert_eq(nb_grad_of(1, &y, &g, n, in, grads, false), NB_OK, "%s: %s", name, nb_last_error());
    for (int i = 0; i < n; i++) {
        snprintf(want, sizeof want, "%s_g%d", name, i);
        assert_close(grads[i], gold(want, c->tag), c->rtol * 10, c->atol * 10);
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
}

static nb_tensor *ln2(nb_tensor *const *in) { return nb_layer_norm(in[0], NB_SHAPE(10), in[1], in[2], 1e-5); }
static nb_tensor *ln2_plain(nb_tensor *const *in) { return nb_layer_norm(in[0], NB_SHAPE(10), NULL, NULL, 1e-5); }
static nb_tensor *ln2_w(nb_tensor *const *in) { return nb_layer_norm(in[0], NB_SHAPE(10), in[1], NULL, 1e-3); }
static nb_tensor *ln4(nb_tensor *const *in) { return nb_layer_norm(in[0], NB_SHAPE(4, 5), in[1], in[2], 1e-5); }
static nb_tensor *lnoff(nb_tensor *const *in) { return nb_layer_norm(in[0], NB_SHAPE(64), NULL, NULL, 1e-5); }
static nb_tensor *rms2(nb_tensor *const *in) { return nb_rms_norm(in[0], NB_SHAPE(10), in[1], NAN); }
static nb_tensor *rms2_plain(nb_tensor *const *in) { return nb_rms_norm(in[0], NB_SHAPE(10), NULL, 1e-6); }
static nb_tensor *rms4(nb_tensor *const *in) { return nb_rms_norm(in[0], NB_SHAPE(4, 5), in[1], 1e-5); }

Test(nn, layer_norm_matches_pytorch, .init = nb_test_setup)
{
    for (int k = 0; k < 2; k++) {
        for (int strided = 0; strided < 2; strided++) {
            check_case(&cases[k], "ln2", ln2, 3, (const char *[]){"x2", "w10", "b10"}, "gy2", strided);
            check_case(&cases[k], "ln2_plain", ln2_plain, 1, (const char *[]){"x2"}, "gy2", strided);
            check_case(&cases[k], "ln2_w", ln2_w, 2, (const char *[]){"x2", "w10"}, "gy2", strided);
            check_case(&cases[k], "ln4", ln4, 3, (const char *[]){"x4", "w45", "b45"}, "gy4", strided);
        }
    }
}

Test(nn, layer_norm_keeps_the_variance_of_values_with_a_large_offset, .init = nb_test_setup)
{
    /* values 1e4 +- 1e-3: a one-pass variance would cancel to nothing. x - mean itself is known
     * only to about 1e-16 * 1e4 / 1e-3 (1e-9) in float64, so that is the tolerance there. */
    const dtype_case loose[2] = {cases[0], {"f64", NB_FLOAT64, 1e-8, 1e-8}};
    for (int k = 0; k < 2; k++)
        check_case(&loose[k], "lnoff", lnoff, 1, (const char *[]){"xoff"}, "gyoff", false);
}

Test(nn, rms_norm_matches_pytorch, .init = nb_test_setup)
{
    for (int k = 0; k < 2; k++) {
        for (int strided = 0; strided < 2; strided++) {
            /* rms2 takes eps NAN: the dtype's machine epsilon, as eps=None */
            check_case(&cases[k], "rms2", rms2, 2, (const char *[]){"x2", "w10"}, "gy2", strided);
            check_case(&cases[k], "rms2_plain", rms2_plain, 1, (const char *[]){"x2"}, "gy2", strided);
            check_case(&cases[k], "rms4", rms4, 2, (const char *[]){"x4", "w45"}, "gy4", strided);
        }
    }
}

Test(nn, norms_of_an_expanded_input_match_its_copy, .init = nb_test_setup)
{
    for (int k = 0; k < 2; k++) {
        nb_scope_begin();
        nb_tensor *row = nb_narrow(gold("x2", cases[k].tag), 0, 2, 1);            /* (1, 10) */
        nb_tensor *x = nb_expand(row, NB_SHAPE(5, 10));                           /* stride 0 */
        nb_tensor *w = nb_expand(nb_narrow(gold("w10", cases[k].tag), 0, 3, 1), NB_SHAPE(10)); /* all one value */
        assert_close(nb_layer_norm(x, NB_SHAPE(10), w, NULL, 1e-5),
                     nb_layer_norm(nb_contiguous(x), NB_SHAPE(10), nb_contiguous(w), NULL, 1e-5), 0, 0);
        assert_close(nb_rms_norm(x, NB_SHAPE(10), w, 1e-5),
                     nb_rms_norm(nb_contiguous(x), NB_SHAPE(10), nb_contiguous(w), 1e-5), 0, 0);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
}

Test(nn, norms_of_empty_tensors, .init = nb_test_setup)
{
    nb_scope_begin();
    /* no rows: an empty result; the weight's and bias's gradients are zeros */
    nb_tensor *x = leaf(nb_zeros(NB_SHAPE(0, 4), NB_OPTS(NB_FLOAT64)));
    nb_tensor *w = leaf(nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT64)));
    nb_tensor *b = leaf(nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT64)));
    nb_tensor *y = nb_layer_norm(x, NB_SHAPE(4), w, b, 1e-5);
    cr_assert(y != NULL, "%s", nb_last_error());
    cr_assert_eq(nb_ndim(y), 2);
    cr_assert_eq(nb_size(y, 0), 0);
    cr_assert_eq(nb_size(y, 1), 4);
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK, "%s", nb_last_error());
    assert_close(nb_grad(w), nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT64)), 0, 0);
    assert_close(nb_grad(b), nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT64)), 0, 0);
    /* no columns */
    nb_tensor *cols0 = nb_rms_norm(nb_zeros(NB_SHAPE(3, 0), NB_OPTS(NB_FLOAT32)), NB_SHAPE(0), NULL, NAN);
    cr_assert(cols0 != NULL, "%s", nb_last_error());
    cr_assert_eq(nb_numel(cols0), 0);
    cr_assert_eq(nb_size(cols0, 0), 3);
    /* no columns under 3 * 2^57 rows: still an empty result, nothing allocated per row */
    nb_tensor *huge = nb_zeros(NB_SHAPE((int64_t)1 << 57, 3, 0), NB_OPTS(NB_FLOAT32));
    cr_assert(huge != NULL, "%s", nb_last_error());
    nb_tensor *huge_y = nb_layer_norm(huge, NB_SHAPE(0), NULL, NULL, 1e-5);
    cr_assert(huge_y != NULL, "%s", nb_last_error());
    cr_assert_eq(nb_size(huge_y, 0), (int64_t)1 << 57);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, a_nan_reaches_only_its_own_row, .init = nb_test_setup)
{
    nb_scope_begin();
    const double v[8] = {1, 2, 3, 4, 1, NAN, 3, 4};
    nb_tensor *x = nb_from_array(v, NB_SHAPE(2, 4), NB_OPTS(NB_FLOAT64));
    for (int rms = 0; rms < 2; rms++) {
        nb_tensor *y = rms ? nb_rms_norm(x, NB_SHAPE(4), NULL, 1e-5) : nb_layer_norm(x, NB_SHAPE(4), NULL, NULL, 1e-5);
        cr_assert(y != NULL, "%s", nb_last_error());
        const double *out = nb_data(y);
        for (int j = 0; j < 4; j++) {
            cr_assert(isfinite(out[j]), "row 0 element %d is %g", j, out[j]);
            cr_assert(isnan(out[4 + j]), "row 1 element %d is %g", j, out[4 + j]);
        }
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, norms_record_their_nodes, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = leaf(nb_randn(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32)));
    cr_assert_str_eq(nb_grad_fn_name(nb_layer_norm(x, NB_SHAPE(4), NULL, NULL, 1e-5)), "LayerNormBackward");
    cr_assert_str_eq(nb_grad_fn_name(nb_rms_norm(x, NB_SHAPE(4), NULL, 1e-5)), "RmsNormBackward");
    nb_no_grad_begin();
    cr_assert_null(nb_grad_fn_name(nb_layer_norm(x, NB_SHAPE(4), NULL, NULL, 1e-5)));
    nb_no_grad_end();
    /* only the weight requires grad: the input gets none, the weight its own */
    nb_tensor *xd = nb_randn(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *w = leaf(nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)));
    nb_tensor *y = nb_rms_norm(xd, NB_SHAPE(4), w, 1e-5);
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK, "%s", nb_last_error());
    cr_assert(nb_grad(w) != NULL);
    cr_assert_null(nb_grad(xd));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, norm_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *w = nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_layer_norm(NULL, NB_SHAPE(4), NULL, NULL, 1e-5));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_layer_norm", "input"));
    cr_assert_null(nb_layer_norm(nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_INT64)), NB_SHAPE(4), NULL, NULL, 1e-5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_layer_norm", "float32, float64, float16 or bfloat16", "int64"));
    cr_assert_null(nb_layer_norm(x, 0, NULL, NULL, NULL, 1e-5));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_layer_norm", "normalized_shape", "at least one dim", "0 dims"));
    cr_assert_null(nb_rms_norm(x, 1, NULL, NULL, 1e-5));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_rms_norm", "normalized_shape", "NULL"));
    cr_assert_null(nb_layer_norm(x, NB_SHAPE(3), NULL, NULL, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_layer_norm", "last 1 dims", "[3]", "[3, 4]"));
    cr_assert_null(nb_rms_norm(x, NB_SHAPE(2, 3, 4), NULL, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_rms_norm", "last 3 dims", "[2, 3, 4]", "[3, 4]"));
    cr_assert_null(nb_layer_norm(x, NB_SHAPE(4), nb_ones(NB_SHAPE(5), NB_OPTS(NB_FLOAT32)), NULL, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_layer_norm", "weight", "normalized_shape [4]", "[5]"));
    cr_assert_null(nb_layer_norm(x, NB_SHAPE(4), w, nb_ones(NB_SHAPE(1, 4), NB_OPTS(NB_FLOAT32)), 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_layer_norm", "bias", "normalized_shape [4]", "[1, 4]"));
    cr_assert_null(nb_rms_norm(x, NB_SHAPE(4), nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT64)), 1e-5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_rms_norm", "weight", "float32", "float64"));
    if (nb_cuda_device_count() > 0) {
        cr_assert_null(nb_layer_norm(x, NB_SHAPE(4), nb_to(w, NB_DEVICE_CUDA(0)), NULL, 1e-5));
        assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_layer_norm", "cpu", "cuda:0"));
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* y and the three gradients of a layer norm of x (w, b) with n threads */
static void norm_run(int threads, nb_tensor *x, nb_tensor *w, nb_tensor *b, nb_tensor *gy, nb_tensor **out)
{
    nb_set_num_threads(threads);
    nb_tensor *in[3] = {x, w, b};
    nb_tensor *y = nb_layer_norm(x, NB_SHAPE(1031), w, b, 1e-5);
    cr_assert(y != NULL, "%s", nb_last_error());
    cr_assert_eq(nb_grad_of(1, &y, &gy, 3, in, out + 1, false), NB_OK, "%s", nb_last_error());
    out[0] = y;
}

Test(nn, layer_norm_is_the_same_on_any_thread_count, .init = nb_test_setup)
{
    nb_scope_begin();
    const int saved = nb_get_num_threads();
    nb_manual_seed(5);
    nb_tensor *x = leaf(nb_randn(NB_SHAPE(300, 1031), NB_OPTS(NB_FLOAT32)));
    nb_tensor *w = leaf(nb_randn(NB_SHAPE(1031), NB_OPTS(NB_FLOAT32)));
    nb_tensor *b = leaf(nb_randn(NB_SHAPE(1031), NB_OPTS(NB_FLOAT32)));
    nb_tensor *gy = nb_randn(NB_SHAPE(300, 1031), NB_OPTS(NB_FLOAT32));
    nb_tensor *one[4], *many[4];
    norm_run(1, x, w, b, gy, one);
    norm_run(4, x, w, b, gy, many);
    nb_set_num_threads(saved);
    for (int i = 0; i < 4; i++) assert_close(many[i], one[i], 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}
