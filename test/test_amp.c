/* test_amp.c — mixed precision (suite amp): nb_set_float32_matmul_precision, half products on
 * CUDA, and autocast: the dtype of each listed op's result inside a region against PyTorch's
 * (test/golden/gen_autocast.py for the CPU; aten/src/ATen/autocast_mode.cpp's lists for CUDA),
 * float32 parameters' gradients, nesting, disabling, thread-locality, refusals, and a small MLP
 * against PyTorch's CPU autocast and against nabla's own float32. Tests that need CUDA skip
 * without a device. */
#include "cuda_checks.h"
#include "helpers.h"

#include <nabla/cuda.h>
#include <nabla/nn.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* each test runs in a scope, which releases what it made, and leaves no region open */
static bool scope_open; /* not when a CUDA test was skipped before its scope began */
static void amp_setup(void)
{
    nb_test_setup();
    nb_scope_begin();
    scope_open = true;
}
static void amp_teardown(void)
{
    if (!scope_open) return;
    scope_open = false;
    cr_assert_eq(nb_autocast_enabled(NB_CPU), false, "a test left a CPU autocast region open");
    cr_assert_eq(nb_autocast_enabled(NB_CUDA), false, "a test left a CUDA autocast region open");
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}
static void amp_cuda_setup(void)
{
    if (nb_cuda_device_count() == 0) cr_skip_test("no CUDA device: %s", nb_cuda_available_reason());
    amp_setup();
}
#define AMP .init = amp_setup, .fini = amp_teardown
#define AMP_CUDA .init = amp_cuda_setup, .fini = amp_teardown

/* ---------------------------------------------------------------- matmul precision */

Test(amp, matmul_precision_names_and_refusals, AMP)
{
    cr_assert_str_eq(nb_get_float32_matmul_precision(), "highest");
    const char *names[3] = {"high", "medium", "highest"};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(nb_set_float32_matmul_precision(names[i]), NB_OK, "%s", nb_last_error());
        cr_assert_str_eq(nb_get_float32_matmul_precision(), names[i]);
    }
    nb_set_float32_matmul_precision("high");
    cr_assert_eq(nb_set_float32_matmul_precision("low"), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT,
                 ERR_PARTS("nb_set_float32_matmul_precision", "\"low\"", "\"highest\", \"high\" or \"medium\""));
    cr_assert_eq(nb_set_float32_matmul_precision("HIGH"), NB_ERR_ARGUMENT); /* PyTorch's names are lower case */
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_set_float32_matmul_precision", "\"HIGH\""));
    cr_assert_eq(nb_set_float32_matmul_precision(NULL), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_set_float32_matmul_precision", "NULL"));
    cr_assert_str_eq(nb_get_float32_matmul_precision(), "high", "a refused value changed the setting");
    nb_set_float32_matmul_precision("highest");
}

/* The CPU's products are float32 whatever the setting: bit-equal. */
Test(amp, matmul_precision_changes_nothing_on_the_cpu, AMP)
{
    nb_manual_seed(3);
    nb_tensor *a = nb_randn(NB_SHAPE(33, 70), NB_OPTS(NB_FLOAT32)), *b = nb_randn(NB_SHAPE(70, 21), NB_OPTS(NB_FLOAT32));
    nb_tensor *want = nb_mm(a, b);
    nb_set_float32_matmul_precision("medium");
    nb_tensor *got = nb_mm(a, b);
    nb_set_float32_matmul_precision("highest");
    cr_assert_eq(memcmp(nb_data(got), nb_data(want), 33 * 21 * sizeof(float)), 0);
}

/* normalised MSE of got against want, both moved to the CPU as float64 */
static double nmse(const nb_tensor *got, const nb_tensor *want)
{
    nb_tensor *g = nb_to_dtype(nb_to(got, NB_DEVICE_CPU), NB_FLOAT64);
    nb_tensor *w = nb_to_dtype(nb_to(want, NB_DEVICE_CPU), NB_FLOAT64);
    cr_assert_not_null(g, "%s", nb_last_error());
    cr_assert_not_null(w, "%s", nb_last_error());
    const double *gv = nb_data(g), *wv = nb_data(w);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < nb_numel(w); i++) {
        err += (gv[i] - wv[i]) * (gv[i] - wv[i]);
        ref += wv[i] * wv[i];
    }
    return err / ref;
}

/* TF32 keeps 10 of float32's 23 mantissa bits in the operands (a relative rounding of 2^-11 each),
 * accumulating in float32: over k = 512 random terms the product's normalised MSE against float64
 * is about 1e-7 and stays below 1e-5, where float32's is about 1e-14. "highest" is the float32
 * path itself: bit-equal before and after a TF32 product. */
Test(amp, tf32_products_on_cuda, AMP_CUDA)
{
    nb_manual_seed(4);
    nb_tensor *a = nb_randn(NB_SHAPE(256, 512), NB_OPTS(NB_FLOAT32)), *b = nb_randn(NB_SHAPE(512, 128), NB_OPTS(NB_FLOAT32));
    nb_tensor *exact = nb_mm(nb_to_dtype(a, NB_FLOAT64), nb_to_dtype(b, NB_FLOAT64)); /* (256, 128) */
    nb_tensor *ga = nb_to(a, NB_DEVICE_CUDA(0)), *gb = nb_to(b, NB_DEVICE_CUDA(0));
    nb_tensor *f32 = nb_to(nb_mm(ga, gb), NB_DEVICE_CPU);
    nb_set_float32_matmul_precision("high");
    nb_tensor *tf32 = nb_to(nb_mm(ga, gb), NB_DEVICE_CPU);
    nb_tensor *tf32_batched = nb_to(nb_matmul(nb_unsqueeze(ga, 0), nb_unsqueeze(gb, 0)), NB_DEVICE_CPU); /* strided-batched */
    nb_set_float32_matmul_precision("highest");
    nb_tensor *again = nb_to(nb_mm(ga, gb), NB_DEVICE_CPU);
    cr_assert_not_null(again, "%s", nb_last_error());
    cr_assert_eq(memcmp(nb_data(again), nb_data(f32), 256 * 128 * sizeof(float)), 0,
                 "\"highest\" is not the float32 product after a TF32 one");
    cr_assert_leq(nmse(f32, exact), 1e-12);
    cr_assert_leq(nmse(tf32, exact), 1e-5);
    cr_assert_leq(nmse(nb_squeeze_dim(tf32_batched, 0), exact), 1e-5);
}

/* float16 and bfloat16 products on CUDA (cublasGemmEx, float32 accumulation, one rounding) against
 * the CPU's (float32 BLIS, one rounding): the same values but for the accumulation order, so
 * within one unit in the last place of the half dtype in a few elements (normalised MSE 1e-6 for
 * float16, 3e-5 for bfloat16, as the parity table's half rows); their gradients too. */
Test(amp, half_products_on_cuda, AMP_CUDA)
{
    static const nb_dtype halves[2] = {NB_FLOAT16, NB_BFLOAT16};
    for (int d = 0; d < 2; d++) {
        nb_manual_seed(5);
        nb_tensor *a = nb_to_dtype(nb_randn(NB_SHAPE(2, 64, 96), NB_OPTS(NB_FLOAT32)), halves[d]);
        nb_tensor *b = nb_to_dtype(nb_randn(NB_SHAPE(96, 40), NB_OPTS(NB_FLOAT32)), halves[d]);
        nb_tensor *b3 = nb_to_dtype(nb_randn(NB_SHAPE(2, 96, 40), NB_OPTS(NB_FLOAT32)), halves[d]);
        nb_tensor *ga = nb_to(a, NB_DEVICE_CUDA(0)), *gb = nb_to(b, NB_DEVICE_CUDA(0)), *gb3 = nb_to(b3, NB_DEVICE_CUDA(0));
        const double tol = halves[d] == NB_FLOAT16 ? 1e-6 : 3e-5;
        char what[64];
        snprintf(what, sizeof what, "%s matmul folded into one product", nb_dtype_name(halves[d]));
        cuda_assert_close(nb_matmul(ga, gb), nb_matmul(a, b), NB_DEVICE_CUDA(0), tol, what);
        snprintf(what, sizeof what, "%s batched matmul", nb_dtype_name(halves[d]));
        cuda_assert_close(nb_matmul(ga, gb3), nb_matmul(a, b3), NB_DEVICE_CUDA(0), tol, what);
        snprintf(what, sizeof what, "%s mm of a transposed view", nb_dtype_name(halves[d]));
        nb_tensor *a2 = nb_select(a, 0, 1), *ga2 = nb_select(ga, 0, 1);
        cuda_assert_close(nb_mm(nb_t(gb), nb_t(ga2)), nb_mm(nb_t(b), nb_t(a2)), NB_DEVICE_CUDA(0), tol, what);
    }
}

/* ---------------------------------------------------------------- autocast regions */

Test(amp, regions_nest_and_restore, AMP)
{
    cr_assert_eq(nb_autocast_enabled(NB_CPU), false);
    cr_assert_eq(nb_autocast_dtype(NB_CPU), NB_BFLOAT16); /* PyTorch's defaults */
    cr_assert_eq(nb_autocast_dtype(NB_CUDA), NB_FLOAT16);
    cr_assert_eq(nb_autocast_begin(NB_CPU, NB_BFLOAT16), NB_OK);
    cr_assert(nb_autocast_enabled(NB_CPU));
    cr_assert_eq(nb_autocast_enabled(NB_CUDA), false, "a CPU region turned CUDA's on");
    cr_assert_eq(nb_autocast_begin(NB_CPU, NB_FLOAT16), NB_OK);
    cr_assert_eq(nb_autocast_dtype(NB_CPU), NB_FLOAT16);
    cr_assert_eq(nb_autocast_begin_disabled(NB_CPU), NB_OK);
    cr_assert_eq(nb_autocast_enabled(NB_CPU), false);
    cr_assert_eq(nb_autocast_end(), NB_OK);
    cr_assert(nb_autocast_enabled(NB_CPU));
    cr_assert_eq(nb_autocast_dtype(NB_CPU), NB_FLOAT16);
    cr_assert_eq(nb_autocast_end(), NB_OK);
    cr_assert_eq(nb_autocast_dtype(NB_CPU), NB_BFLOAT16);
    cr_assert_eq(nb_autocast_begin(NB_CUDA, NB_BFLOAT16), NB_OK); /* no device needed to open one */
    cr_assert(nb_autocast_enabled(NB_CUDA));
    cr_assert_eq(nb_autocast_end(), NB_OK);
    cr_assert_eq(nb_autocast_end(), NB_OK);
    cr_assert_eq(nb_autocast_enabled(NB_CPU), false);
    cr_assert_eq(nb_autocast_enabled(NB_CUDA), false);
    assert_ok();
}

Test(amp, refusals, AMP)
{
    cr_assert_eq(nb_autocast_end(), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_autocast_end", "no autocast region is open"));
    cr_assert_eq(nb_autocast_begin(NB_CPU, NB_FLOAT32), NB_ERR_DTYPE);
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_autocast_begin", "float16 or bfloat16", "got float32",
                                         "nb_autocast_begin_disabled"));
    cr_assert_eq(nb_autocast_begin(NB_CPU, NB_INT64), NB_ERR_DTYPE);
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_autocast_begin", "got int64"));
    cr_assert_eq(nb_autocast_begin((nb_device_type)7, NB_BFLOAT16), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_autocast_begin", "unknown device type 7"));
    cr_assert_eq(nb_autocast_begin_disabled((nb_device_type)-1), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_autocast_begin_disabled", "unknown device type -1"));
    cr_assert_eq(nb_autocast_enabled(NB_CPU), false, "a refused begin opened a region");
    cr_assert_eq(nb_autocast_end(), NB_ERR_ARGUMENT, "a refused begin pushed a region");
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_autocast_end"));
    cr_assert_eq(nb_autocast_enabled((nb_device_type)9), false);
}

/* ---------------------------------------------------------------- the ops' dtypes */

/* The inputs of the table's ops (gen_autocast.py's inputs()), of one floating dtype, on device. */
typedef struct inputs {
    nb_tensor *a, *b, *a3, *b3, *x, *w, *bias, *x3, *w3, *b4, *x4, *w4, *wt4, *ln_w, *ln_b, *p, *pt, *labels;
    nb_tensor *bn_w, *bn_b, *running_mean, *running_var; /* float32, as a layer's */
} inputs;

static nb_tensor *draw(nb_dtype dtype, nb_device device, int ndim, const int64_t *shape)
{
    return nb_to(nb_to_dtype(nb_randn(ndim, shape, NB_OPTS(NB_FLOAT32)), dtype), device);
}

static inputs make_inputs(nb_dtype dtype, nb_device device)
{
    nb_manual_seed(5);
    inputs t = {
        .a = draw(dtype, device, NB_SHAPE(4, 6)), .b = draw(dtype, device, NB_SHAPE(6, 5)),
        .a3 = draw(dtype, device, NB_SHAPE(2, 4, 6)), .b3 = draw(dtype, device, NB_SHAPE(2, 6, 5)),
        .x = draw(dtype, device, NB_SHAPE(3, 6)), .w = draw(dtype, device, NB_SHAPE(5, 6)),
        .bias = draw(dtype, device, NB_SHAPE(5)), .x3 = draw(dtype, device, NB_SHAPE(2, 3, 8)),
        .w3 = draw(dtype, device, NB_SHAPE(4, 3, 3)), .b4 = draw(dtype, device, NB_SHAPE(4)),
        .x4 = draw(dtype, device, NB_SHAPE(2, 3, 6, 6)), .w4 = draw(dtype, device, NB_SHAPE(4, 3, 3, 3)),
        .wt4 = draw(dtype, device, NB_SHAPE(3, 4, 3, 3)), .ln_w = draw(dtype, device, NB_SHAPE(6)),
        .ln_b = draw(dtype, device, NB_SHAPE(6)),
    };
    t.p = nb_add_scalar(nb_to_dtype(nb_to(nb_rand(NB_SHAPE(4, 6), NB_OPTS(NB_FLOAT32)), device), dtype), 0.5);
    t.pt = nb_sigmoid(t.p);
    const int64_t labels[4] = {1, 0, 5, 2};
    t.labels = nb_to(nb_from_array(labels, NB_SHAPE(4), NB_OPTS(NB_INT64)), device);
    t.bn_w = draw(NB_FLOAT32, device, NB_SHAPE(3));
    t.bn_b = draw(NB_FLOAT32, device, NB_SHAPE(3));
    t.running_mean = nb_to(nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), device);
    t.running_var = nb_to(nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), device);
    cr_assert_not_null(t.labels, "%s", nb_last_error());
    return t;
}

/* The ops of gen_autocast.py's OPS, in its order. */
static const char *const op_names[] = {
    "mm", "matmul", "linear", "conv1d", "conv2d", "conv_transpose2d", "softmax", "log_softmax", "layer_norm",
    "sum", "sum_dim", "cumsum", "prod", "prod_dim", "norm", "logsumexp", "exp", "log", "log1p", "pow_scalar",
    "rsqrt", "reciprocal", "softplus", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy",
    "nll_loss", "bce_with_logits", "add", "mul", "relu", "gelu", "mean", "tanh", "batch_norm", "max_pool2d",
    "avg_pool2d", "adaptive_avg_pool2d",
};
#define NOPS (int)(sizeof op_names / sizeof op_names[0])

static nb_tensor *run_op(int i, const inputs *t)
{
    const int both[2] = {0, 1}, last[1] = {1};
    const int64_t ln_shape[1] = {6};
    nb_linear layer = {.weight = t->w, .bias = t->bias, .in_features = 6, .out_features = 5};
    switch (i) {
    case 0: return nb_mm(t->a, t->b);
    case 1: return nb_matmul(t->a3, t->b3);
    case 2: return nb_linear_forward(&layer, t->x);
    case 3: return nb_conv1d(t->x3, t->w3, t->b4, NULL);
    case 4: return nb_conv2d(t->x4, t->w4, t->b4, NULL);
    case 5: return nb_conv_transpose2d(t->x4, t->wt4, t->b4, NULL);
    case 6: return nb_softmax(t->a, -1);
    case 7: return nb_log_softmax(t->a, -1);
    case 8: return nb_layer_norm(t->a, 1, ln_shape, t->ln_w, t->ln_b, 1e-5);
    case 9: return nb_sum(t->a);
    case 10: return nb_sum_dim(t->a, 1, false);
    case 11: return nb_cumsum(t->a, 1);
    case 12: return nb_prod(t->p);
    case 13: return nb_prod_dim(t->p, 1, false);
    case 14: return nb_norm(t->a, 2.0, 2, both, false);
    case 15: return nb_logsumexp(t->a, 1, last, false);
    case 16: return nb_exp(t->a);
    case 17: return nb_log(t->p);
    case 18: return nb_log1p(t->p);
    case 19: return nb_pow_scalar(t->p, 0.5);
    case 20: return nb_rsqrt(t->p);
    case 21: return nb_reciprocal(t->p);
    case 22: return nb_softplus(t->a, 1.0, 20.0);
    case 23: return nb_mse_loss(t->a, t->p);
    case 24: return nb_l1_loss(t->a, t->p, NB_REDUCTION_MEAN);
    case 25: return nb_smooth_l1_loss(t->a, t->p, NB_REDUCTION_MEAN, 1.0);
    case 26: return nb_huber_loss(t->a, t->p, NB_REDUCTION_MEAN, 1.0);
    case 27: return nb_cross_entropy(t->a, t->labels);
    case 28: return nb_nll_loss(t->a, t->labels, NULL);
    case 29: return nb_binary_cross_entropy_with_logits(t->a, t->pt, NULL);
    case 30: return nb_add(t->a, t->p);
    case 31: return nb_mul(t->a, t->p);
    case 32: return nb_relu(t->a);
    case 33: return nb_gelu(t->a, false);
    case 34: return nb_mean(t->a);
    case 35: return nb_tanh(t->a);
    case 36: return nb_batch_norm(t->x4, t->running_mean, t->running_var, t->bn_w, t->bn_b, true, 0.1, 1e-5);
    case 37: return nb_max_pool2d(t->x4, &(nb_max_pool2d_options){.kernel_size = {2, 2}});
    case 38: return nb_avg_pool2d(t->x4, &(nb_avg_pool2d_options){.kernel_size = {2, 2}, .count_include_pad = true});
    case 39: return nb_adaptive_avg_pool2d(t->x4, 2, 3);
    }
    cr_assert_fail("no op %d", i);
    return NULL;
}

/* Each op inside a region of dtype on device, with float32 inputs and with inputs of dtype: its
 * result's dtype against want (NOPS rows of two). */
static void check_dtypes(nb_device device, nb_dtype dtype, const int64_t *want)
{
    const nb_dtype in_dtypes[2] = {NB_FLOAT32, dtype};
    for (int col = 0; col < 2; col++) {
        inputs t = make_inputs(in_dtypes[col], device);
        cr_assert_eq(nb_autocast_begin(device.type, dtype), NB_OK);
        for (int i = 0; i < NOPS; i++) {
            nb_tensor *r = run_op(i, &t);
            if (!r) nb_autocast_end();
            cr_assert_not_null(r, "%s of %s inputs under autocast: %s", op_names[i], nb_dtype_name(in_dtypes[col]),
                               nb_last_error());
            cr_assert_eq((int64_t)nb_dtype_of(r), want[2 * i + col], "%s of %s inputs under %s autocast: %s, expected %s",
                         op_names[i], nb_dtype_name(in_dtypes[col]), nb_dtype_name(dtype),
                         nb_dtype_name(nb_dtype_of(r)), nb_dtype_name((nb_dtype)want[2 * i + col]));
        }
        cr_assert_eq(nb_autocast_end(), NB_OK);
        /* outside the region the same ops keep their inputs' dtype */
        nb_tensor *r = nb_mm(t.a, t.b);
        cr_assert_eq(nb_dtype_of(r), in_dtypes[col]);
    }
}

/* The CPU against PyTorch 1.13's CPU autocast (bfloat16). One row differs on purpose: nabla
 * follows PyTorch's current CPU list, where conv_transpose1d/2d/3d are lower-precision ops
 * (autocast_mode.cpp: KERNEL_CPU(conv_transpose2d, input, lower_precision_fp)); PyTorch 1.13 still
 * ran them in float32. */
Test(amp, cpu_autocast_dtypes_match_pytorch, AMP)
{
    nb_tensor *g = golden("autocast/cpu_dtypes"); /* (NOPS, 2) int64 */
    cr_assert_eq(nb_numel(g), 2 * NOPS, "the golden table has %lld entries for %d ops", (long long)nb_numel(g), NOPS);
    int64_t want[2 * NOPS];
    memcpy(want, nb_data(g), sizeof want);
    for (int i = 0; i < 2 * NOPS; i++) cr_assert_geq(want[i], 0, "PyTorch refused %s", op_names[i / 2]);
    cr_assert_eq(want[2 * 5], NB_FLOAT32, "PyTorch 1.13's conv_transpose2d row changed");
    want[2 * 5] = want[2 * 5 + 1] = NB_BFLOAT16;
    check_dtypes(NB_DEVICE_CPU, NB_BFLOAT16, want);
}

/* The CPU with float16 (which PyTorch 1.13's CPU autocast did not take: its later versions do, with
 * the same lists). */
Test(amp, cpu_autocast_float16, AMP)
{
    nb_tensor *g = golden("autocast/cpu_dtypes");
    int64_t want[2 * NOPS];
    memcpy(want, nb_data(g), sizeof want);
    want[2 * 5] = want[2 * 5 + 1] = NB_BFLOAT16;
    for (int i = 0; i < 2 * NOPS; i++)
        if (want[i] == NB_BFLOAT16) want[i] = NB_FLOAT16;
    check_dtypes(NB_DEVICE_CPU, NB_FLOAT16, want);
}

/* CUDA's lists (PyTorch's aten/src/ATen/autocast_mode.cpp and autocast_mode.h): the products and
 * convolutions in the autocast dtype (lower_precision_fp: mm, matmul, linear, conv1d, conv2d,
 * conv_transpose2d); float32 for exp, log, log1p, pow, rsqrt, reciprocal, softplus, layer_norm,
 * the losses and logsumexp (fp32) and for prod, softmax, log_softmax, cumsum, sum and norm
 * (fp32_set_opt_dtype, fp32_append_dtype); the others in their inputs' dtype. PyTorch 1.13 without
 * a GPU cannot run them, so the table is written here. */
Test(amp, cuda_autocast_dtypes_follow_pytorchs_lists, AMP_CUDA)
{
    static const nb_dtype halves[2] = {NB_FLOAT16, NB_BFLOAT16};
    for (int d = 0; d < 2; d++) {
        const int64_t h = halves[d], f = NB_FLOAT32;
        int64_t want[2 * NOPS];
        for (int i = 0; i < NOPS; i++) {
            const bool lower = i <= 5, fp32 = i >= 6 && i <= 29;
            want[2 * i] = lower ? h : f;
            want[2 * i + 1] = lower ? h : fp32 ? f : h;
        }
        check_dtypes(NB_DEVICE_CUDA(0), halves[d], want);
    }
}

/* float64 tensors are not cast (PyTorch's eligible tensors are float32 and the half dtypes), nor
 * are tensors of another device type than the region's. */
Test(amp, float64_and_other_devices_are_left_alone, AMP)
{
    nb_manual_seed(6);
    nb_tensor *a = nb_randn(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT64)), *b = nb_randn(NB_SHAPE(4, 2), NB_OPTS(NB_FLOAT64));
    nb_tensor *a32 = nb_to_dtype(a, NB_FLOAT32), *b32 = nb_to_dtype(b, NB_FLOAT32);
    nb_autocast_begin(NB_CPU, NB_BFLOAT16);
    nb_tensor *r = nb_mm(a, b);
    nb_autocast_end();
    cr_assert_eq(nb_dtype_of(r), NB_FLOAT64);
    nb_autocast_begin(NB_CUDA, NB_FLOAT16); /* a CUDA region: the CPU's ops are untouched */
    r = nb_mm(a32, b32);
    nb_tensor *l = nb_log_softmax(nb_to_dtype(a32, NB_BFLOAT16), 1);
    nb_autocast_end();
    cr_assert_eq(nb_dtype_of(r), NB_FLOAT32);
    cr_assert_eq(nb_dtype_of(l), NB_BFLOAT16);
}

/* A region disabled inside an enabled one runs ops in their own dtypes; a float16 region nested
 * in a bfloat16 one takes float16, and the outer one's dtype comes back after. */
Test(amp, nesting_and_disabling, AMP)
{
    nb_manual_seed(7);
    nb_tensor *a = nb_randn(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32)), *b = nb_randn(NB_SHAPE(4, 2), NB_OPTS(NB_FLOAT32));
    nb_autocast_begin(NB_CPU, NB_BFLOAT16);
    nb_tensor *r1 = nb_mm(a, b);
    nb_autocast_begin_disabled(NB_CPU);
    nb_tensor *r2 = nb_mm(a, b);
    nb_tensor *r2h = nb_mm(nb_to_dtype(a, NB_BFLOAT16), nb_to_dtype(b, NB_BFLOAT16));
    nb_autocast_end();
    nb_autocast_begin(NB_CPU, NB_FLOAT16);
    nb_tensor *r3 = nb_mm(a, b);
    nb_tensor *r3b = nb_mm(nb_to_dtype(a, NB_BFLOAT16), b); /* bfloat16 too is cast to float16 */
    nb_autocast_end();
    nb_tensor *r4 = nb_mm(a, b);
    nb_autocast_end();
    nb_tensor *r5 = nb_mm(a, b);
    cr_assert_eq(nb_dtype_of(r1), NB_BFLOAT16);
    cr_assert_eq(nb_dtype_of(r2), NB_FLOAT32);
    cr_assert_eq(nb_dtype_of(r2h), NB_BFLOAT16);
    cr_assert_eq(nb_dtype_of(r3), NB_FLOAT16);
    cr_assert_eq(nb_dtype_of(r3b), NB_FLOAT16);
    cr_assert_eq(nb_dtype_of(r4), NB_BFLOAT16);
    cr_assert_eq(nb_dtype_of(r5), NB_FLOAT32);
    /* the values: the product of the operands rounded to bfloat16, rounded once */
    nb_tensor *want = nb_to_dtype(nb_mm(nb_to_dtype(nb_to_dtype(a, NB_BFLOAT16), NB_FLOAT32),
                                        nb_to_dtype(nb_to_dtype(b, NB_BFLOAT16), NB_FLOAT32)),
                                  NB_BFLOAT16);
    cr_assert_eq(memcmp(nb_data(r1), nb_data(want), 3 * 2 * sizeof(uint16_t)), 0);
}

/* Another thread's ops are untouched by this thread's region, and its own region leaves this
 * thread's alone. */
static void *other_thread(void *arg)
{
    nb_tensor *const *ab = arg;
    bool ok = !nb_autocast_enabled(NB_CPU);
    nb_tensor *r = nb_mm(ab[0], ab[1]);
    ok = ok && r && nb_dtype_of(r) == NB_FLOAT32;
    nb_release(r);
    ok = ok && nb_autocast_begin(NB_CPU, NB_FLOAT16) == NB_OK;
    r = nb_mm(ab[0], ab[1]);
    ok = ok && r && nb_dtype_of(r) == NB_FLOAT16;
    nb_release(r);
    ok = ok && nb_autocast_end() == NB_OK;
    return ok ? arg : NULL;
}

Test(amp, regions_are_thread_local, AMP)
{
    nb_manual_seed(8);
    nb_tensor *ab[2] = {nb_randn(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32)), nb_randn(NB_SHAPE(4, 2), NB_OPTS(NB_FLOAT32))};
    nb_autocast_begin(NB_CPU, NB_BFLOAT16);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, other_thread, ab), 0);
    void *res = NULL;
    pthread_join(th, &res);
    nb_tensor *r = nb_mm(ab[0], ab[1]);
    nb_autocast_end();
    cr_assert_not_null(res, "the other thread saw this thread's region, or its own failed");
    cr_assert_eq(nb_dtype_of(r), NB_BFLOAT16, "the other thread's region reached this one");
}

/* ---------------------------------------------------------------- training under autocast */

/* The MLP of gen_autocast.py: linear layers of float32 parameters, y = l2(relu(l1(x))) and the
 * MSE loss, forward inside a bfloat16 region, backward after it (or inside it: the same). */
typedef struct mlp_result {
    nb_tensor *y, *loss, *grads[4];
} mlp_result;

static mlp_result run_mlp(bool autocast, bool backward_inside)
{
    nb_tensor *x = golden("autocast/mlp_x"), *target = golden("autocast/mlp_target");
    nb_tensor *p[4] = {nb_clone(golden("autocast/mlp_w1")), nb_clone(golden("autocast/mlp_b1")),
                       nb_clone(golden("autocast/mlp_w2")), nb_clone(golden("autocast/mlp_b2"))};
    for (int i = 0; i < 4; i++) nb_requires_grad_(p[i], true);
    nb_linear l1 = {.weight = p[0], .bias = p[1], .in_features = 16, .out_features = 32};
    nb_linear l2 = {.weight = p[2], .bias = p[3], .in_features = 32, .out_features = 4};
    if (autocast) nb_autocast_begin(NB_CPU, NB_BFLOAT16);
    mlp_result r = {0};
    r.y = nb_linear_forward(&l2, nb_relu(nb_linear_forward(&l1, x)));
    r.loss = nb_mse_loss(r.y, target);
    if (autocast && !backward_inside) nb_autocast_end();
    cr_assert_eq(nb_backward(r.loss), NB_OK, "%s", nb_last_error());
    if (autocast && backward_inside) nb_autocast_end();
    for (int i = 0; i < 4; i++) r.grads[i] = nb_grad(p[i]);
    return r;
}

/* |got - want| <= tol · max|want| everywhere (got converted to float32 first) */
static void assert_near(const nb_tensor *got, const nb_tensor *want, double tol, const char *what)
{
    nb_tensor *g = nb_to_dtype(got, NB_FLOAT32);
    const float *gv = nb_data(g), *wv = nb_data(want);
    double scale = 0;
    for (int64_t i = 0; i < nb_numel(want); i++) scale = fmax(scale, fabs(wv[i]));
    for (int64_t i = 0; i < nb_numel(want); i++)
        cr_assert_leq(fabs(gv[i] - wv[i]), tol * scale, "%s: element %lld is %g, expected %g (scale %g)", what,
                      (long long)i, gv[i], wv[i], scale);
}

/* Under bfloat16 autocast the output is bfloat16, the loss float32 and the float32 parameters'
 * gradients float32; the values are PyTorch's own under torch.autocast("cpu") within 2% of each
 * tensor's largest magnitude (bfloat16 keeps 8 bits: PyTorch's oneDNN kernels add the bias
 * before rounding, nabla rounds the product then adds, so elements may differ by a unit or two in
 * bfloat16's last place), and nabla's float32 run within 5% (the rounding of the inputs and of
 * the hidden layer, at 2^-9 each). */
Test(amp, mlp_under_bfloat16_autocast, AMP)
{
    mlp_result f32 = run_mlp(false, false), amp = run_mlp(true, false), inside = run_mlp(true, true);
    cr_assert_eq(nb_dtype_of(amp.y), NB_BFLOAT16);
    cr_assert_eq(nb_dtype_of(amp.loss), NB_FLOAT32);
    static const char *const names[4] = {"w1", "b1", "w2", "b2"};
    assert_near(amp.y, golden("autocast/mlp_y"), 0.02, "y against PyTorch");
    assert_near(amp.loss, golden("autocast/mlp_loss"), 0.02, "loss against PyTorch");
    assert_near(amp.y, f32.y, 0.05, "y against float32");
    assert_near(amp.loss, f32.loss, 0.05, "loss against float32");
    for (int i = 0; i < 4; i++) {
        char what[64], path[64];
        cr_assert_not_null(amp.grads[i], "no gradient for %s", names[i]);
        cr_assert_eq(nb_dtype_of(amp.grads[i]), NB_FLOAT32, "%s's gradient is %s", names[i],
                     nb_dtype_name(nb_dtype_of(amp.grads[i])));
        snprintf(path, sizeof path, "autocast/mlp_grad_%s", names[i]);
        snprintf(what, sizeof what, "grad %s against PyTorch", names[i]);
        assert_near(amp.grads[i], golden(path), 0.02, what);
        snprintf(what, sizeof what, "grad %s against float32", names[i]);
        assert_near(amp.grads[i], f32.grads[i], 0.05, what);
        /* backward inside the region runs without autocast: the same gradients, bit for bit */
        cr_assert_eq(memcmp(nb_data(inside.grads[i]), nb_data(amp.grads[i]), (size_t)nb_numel(amp.grads[i]) * 4), 0,
                     "grad %s changed when backward ran inside the region", names[i]);
    }
}

/* A parameter used twice in one region (a shared weight) gets the gradient of both uses. */
Test(amp, a_weight_used_twice, AMP)
{
    nb_manual_seed(9);
    nb_tensor *w = nb_requires_grad_(nb_randn(NB_SHAPE(4, 4), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *x = nb_randn(NB_SHAPE(2, 4), NB_OPTS(NB_FLOAT32));
    nb_autocast_begin(NB_CPU, NB_BFLOAT16);
    nb_tensor *y = nb_mm(nb_mm(x, w), w);
    nb_tensor *loss = nb_sum(nb_to_dtype(y, NB_FLOAT32));
    nb_autocast_end();
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    nb_tensor *g = nb_grad(w);
    cr_assert_eq(nb_dtype_of(g), NB_FLOAT32);
    /* float32 reference: d/dw sum(x w w) = x^T 1 w^T + (x w)^T 1 */
    nb_tensor *w2 = nb_requires_grad_(nb_clone(nb_detach(w)), true);
    cr_assert_eq(nb_backward(nb_sum(nb_mm(nb_mm(x, w2), w2))), NB_OK);
    assert_near(g, nb_grad(w2), 0.03, "the shared weight's gradient");
}

/* Convolutions and attention of half inputs (what autocast gives them): the float32 op on the
 * inputs' exact values, rounded once to their dtype, bit for bit; their gradients in the half
 * dtype. */
Test(amp, half_convolution_and_attention, AMP)
{
    static const nb_dtype halves[2] = {NB_FLOAT16, NB_BFLOAT16};
    for (int d = 0; d < 2; d++) {
        const nb_dtype h = halves[d];
        nb_manual_seed(10);
        nb_tensor *x = nb_requires_grad_(nb_to_dtype(nb_randn(NB_SHAPE(2, 3, 7, 6), NB_OPTS(NB_FLOAT32)), h), true);
        nb_tensor *w = nb_to_dtype(nb_randn(NB_SHAPE(4, 3, 3, 3), NB_OPTS(NB_FLOAT32)), h);
        nb_tensor *b = nb_to_dtype(nb_randn(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)), h);
        nb_tensor *got = nb_conv2d(x, w, b, NULL);
        cr_assert_not_null(got, "%s", nb_last_error());
        nb_tensor *want = nb_to_dtype(nb_conv2d(nb_to_dtype(x, NB_FLOAT32), nb_to_dtype(w, NB_FLOAT32),
                                                nb_to_dtype(b, NB_FLOAT32), NULL),
                                      h);
        cr_assert_eq(nb_dtype_of(got), h);
        cr_assert_eq(memcmp(nb_data(nb_contiguous(got)), nb_data(nb_contiguous(want)), (size_t)nb_numel(want) * 2), 0,
                     "%s conv2d", nb_dtype_name(h));
        cr_assert_eq(nb_backward(nb_sum(nb_to_dtype(got, NB_FLOAT32))), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_dtype_of(nb_grad(x)), h);

        nb_tensor *q = nb_to_dtype(nb_randn(NB_SHAPE(2, 5, 8), NB_OPTS(NB_FLOAT32)), h);
        nb_tensor *k = nb_to_dtype(nb_randn(NB_SHAPE(2, 6, 8), NB_OPTS(NB_FLOAT32)), h);
        nb_tensor *v = nb_to_dtype(nb_randn(NB_SHAPE(2, 6, 4), NB_OPTS(NB_FLOAT32)), h);
        got = nb_scaled_dot_product_attention(q, k, v, NULL);
        cr_assert_not_null(got, "%s", nb_last_error());
        want = nb_to_dtype(nb_scaled_dot_product_attention(nb_to_dtype(q, NB_FLOAT32), nb_to_dtype(k, NB_FLOAT32),
                                                           nb_to_dtype(v, NB_FLOAT32), NULL),
                           h);
        cr_assert_eq(nb_dtype_of(got), h);
        cr_assert_eq(memcmp(nb_data(nb_contiguous(got)), nb_data(nb_contiguous(want)), (size_t)nb_numel(want) * 2), 0,
                     "%s attention", nb_dtype_name(h));
        /* a mask of another floating dtype than the query's is refused as before */
        nb_tensor *mask = nb_zeros(NB_SHAPE(5, 6), NB_OPTS(NB_FLOAT32));
        const nb_sdpa_options o = {.attn_mask = mask};
        cr_assert_null(nb_scaled_dot_product_attention(q, k, v, &o));
        assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_scaled_dot_product_attention"));
    }
}

int nb__autocast_cache_size(void); /* lib/autocast.h: the parameter casts this thread's regions hold */

/* A float32 parameter is cast once per outermost region, as PyTorch caches it; an in-place update
 * makes a new cast, a cast made under no-grad is not kept (it would carry no gradient), and the
 * cache is emptied when the outermost region ends. */
Test(amp, parameter_casts_are_cached_per_region, AMP)
{
    nb_manual_seed(12);
    nb_tensor *w = nb_requires_grad_(nb_randn(NB_SHAPE(4, 4), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *x = nb_randn(NB_SHAPE(2, 4), NB_OPTS(NB_FLOAT32));
    nb_autocast_begin(NB_CPU, NB_BFLOAT16);
    nb_no_grad_begin();
    nb_tensor *y0 = nb_mm(x, w);
    nb_no_grad_end();
    cr_assert_eq(nb__autocast_cache_size(), 0, "a cast made under no-grad was cached");
    nb_tensor *y1 = nb_mm(x, w);
    nb_autocast_begin(NB_CPU, NB_BFLOAT16); /* a nested region shares the outer one's cache */
    nb_tensor *y2 = nb_mm(y1, w);
    nb_autocast_end();
    cr_assert_eq(nb__autocast_cache_size(), 1, "the weight was cast %d times", nb__autocast_cache_size());
    cr_assert_eq(memcmp(nb_data(y0), nb_data(y1), 2 * 4 * sizeof(uint16_t)), 0);
    /* an update in place: the next use sees the new values */
    nb_no_grad_begin();
    nb_mul_scalar_(w, 2.0);
    nb_no_grad_end();
    nb_tensor *y3 = nb_mm(x, w);
    cr_assert_eq(nb__autocast_cache_size(), 1);
    nb_tensor *loss = nb_sum(nb_to_dtype(nb_add(y2, y3), NB_FLOAT32));
    nb_autocast_end();
    cr_assert_eq(nb__autocast_cache_size(), 0, "the cache outlived its region");
    nb_tensor *want3 = nb_mul_scalar(nb_to_dtype(y1, NB_FLOAT32), 2.0); /* powers of two scale exactly */
    assert_near(y3, want3, 0.0, "the product after the update");
    /* the gradient reaches the parameter through the cached casts, in float32 */
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    cr_assert_not_null(nb_grad(w));
    cr_assert_eq(nb_dtype_of(nb_grad(w)), NB_FLOAT32);
}

/* Batch norm of a half input (a convolution's output under autocast) with float32 parameters and
 * running statistics: the float32 op on the input's exact values, rounded once to its dtype, the
 * statistics updated as the float32 op updates them; pooling of a half input likewise. */
Test(amp, half_batch_norm_and_pooling, AMP)
{
    nb_manual_seed(13);
    nb_tensor *x = nb_to_dtype(nb_randn(NB_SHAPE(2, 3, 5, 4), NB_OPTS(NB_FLOAT32)), NB_BFLOAT16);
    nb_tensor *w = nb_randn(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), *b = nb_randn(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *rm[2] = {nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32))};
    nb_tensor *rv[2] = {nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32))};
    nb_tensor *got = nb_batch_norm(x, rm[0], rv[0], w, b, true, 0.1, 1e-5);
    cr_assert_not_null(got, "%s", nb_last_error());
    nb_tensor *want = nb_to_dtype(nb_batch_norm(nb_to_dtype(x, NB_FLOAT32), rm[1], rv[1], w, b, true, 0.1, 1e-5),
                                  NB_BFLOAT16);
    cr_assert_eq(nb_dtype_of(got), NB_BFLOAT16);
    cr_assert_eq(memcmp(nb_data(got), nb_data(want), (size_t)nb_numel(want) * 2), 0);
    cr_assert_eq(memcmp(nb_data(rm[0]), nb_data(rm[1]), 3 * sizeof(float)), 0);
    cr_assert_eq(memcmp(nb_data(rv[0]), nb_data(rv[1]), 3 * sizeof(float)), 0);
    nb_tensor *p = nb_max_pool2d(x, &(nb_max_pool2d_options){.kernel_size = {2, 2}});
    nb_tensor *p32 = nb_to_dtype(nb_max_pool2d(nb_to_dtype(x, NB_FLOAT32), &(nb_max_pool2d_options){.kernel_size = {2, 2}}),
                                 NB_BFLOAT16);
    cr_assert_eq(nb_dtype_of(p), NB_BFLOAT16);
    cr_assert_eq(memcmp(nb_data(p), nb_data(p32), (size_t)nb_numel(p32) * 2), 0);
    /* float64 parameters with a half input are refused as before */
    nb_tensor *w64 = nb_to_dtype(w, NB_FLOAT64);
    cr_assert_null(nb_batch_norm(x, NULL, NULL, w64, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_batch_norm", "bfloat16"));
}
