/* test_grad_scaler.c — suite optim: the gradient scaler (nb_grad_scaler_*), torch.cuda.amp.GradScaler.
 *
 * The scale and the parameters follow PyTorch's rules step for step over runs with Inf and NaN
 * gradients injected (test/golden/gen_grad_scaler.py: SGD and Adam with growth_interval 3 for 300
 * steps, Adam at the defaults for 2100): the scale exactly, the parameters to rtol 1e-6. Also: a
 * skipped step changes nothing (the next steps match a run without it, bit for bit), unscaled
 * grads are grads * float32(1 / scale), a float32 model computed in float16 under the scaler
 * trains as the float32 one does, and the errors. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* each test runs in a scope, which releases its temporaries */
static void gs_setup(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void gs_teardown(void) { cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error()); }
#define GS .init = gs_setup, .fini = gs_teardown

/* golden grad_scaler/NAME */
static nb_tensor *gs_golden(const char *name)
{
    char path[96];
    snprintf(path, sizeof path, "grad_scaler/%s", name);
    return golden(path);
}

static nb_tensor *f32(nb_tensor *t)
{
    nb_tensor *r = nb_to_dtype(t, NB_FLOAT32);
    nb_release(t);
    cr_assert(r != NULL, "%s", nb_last_error());
    return r;
}

/* A float32 leaf w (6,) from golden w0. */
static nb_tensor *make_w(void)
{
    nb_tensor *w = f32(gs_golden("w0"));
    cr_assert(nb_requires_grad_(w, true) != NULL, "%s", nb_last_error());
    return w;
}

/* One step of the golden problem: loss = sum(x * w), backward of the scaled loss, step, update. */
static void golden_step(nb_grad_scaler *s, nb_optimizer *opt, nb_tensor *w, const nb_tensor *x)
{
    nb_scope_begin();
    nb_optimizer_zero_grad(opt);
    nb_tensor *loss = nb_sum(nb_mul(x, w));
    cr_assert_eq(nb_backward(nb_grad_scaler_scale(s, loss)), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_step(s, opt), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_update(s), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

static void check_trajectory(const char *name, nb_grad_scaler_options so, bool adam, double lr)
{
    char path[64];
    snprintf(path, sizeof path, "%s_x", name);
    nb_tensor *xs = f32(gs_golden(path)); /* (steps, 6) */
    snprintf(path, sizeof path, "%s_scale", name);
    nb_tensor *scales = gs_golden(path); /* (steps,) */
    snprintf(path, sizeof path, "%s_w", name);
    nb_tensor *ws = gs_golden(path); /* (steps, 6) */
    const int64_t steps = nb_shape(xs)[0];
    const double *want_scale = nb_data(scales);
    nb_tensor *w = make_w();
    nb_params *params = nb_params_new();
    nb_params_add(params, w);
    nb_optimizer *opt = adam ? nb_adam_new(params, (nb_adam_options){.lr = lr})
                             : nb_sgd_new(params, (nb_sgd_options){.lr = lr});
    nb_grad_scaler *s = nb_grad_scaler_new(so);
    cr_assert(opt && s, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_get_scale(s), so.init_scale);
    for (int64_t t = 0; t < steps; t++) {
        nb_tensor *x = nb_select(xs, 0, t);
        golden_step(s, opt, w, x);
        nb_release(x);
        cr_assert_eq(nb_grad_scaler_get_scale(s), want_scale[t], "%s: step %lld: scale %.9g, PyTorch's %.9g", name,
                     (long long)t + 1, nb_grad_scaler_get_scale(s), want_scale[t]);
        nb_tensor *want_w = f32(nb_select(ws, 0, t));
        nb_tensor *got = nb_detach(w);
        assert_close(got, want_w, 1e-6, 1e-7);
        nb_release(got);
        nb_release(want_w);
    }
    nb_grad_scaler_free(s);
    nb_optimizer_free(opt);
    nb_params_free(params);
    nb_release(w);
    nb_release(xs);
    nb_release(scales);
    nb_release(ws);
    assert_ok();
}

Test(grad_scaler, sgd_with_growth_interval_3_matches_pytorch, GS)
{
    check_trajectory("sgd_interval3",
                     (nb_grad_scaler_options){.init_scale = 0x1p100, .growth_factor = 2, .backoff_factor = 0.5,
                                              .growth_interval = 3},
                     false, 0.01);
}

Test(grad_scaler, adam_with_growth_interval_3_matches_pytorch, GS)
{
    check_trajectory("adam_interval3",
                     (nb_grad_scaler_options){.init_scale = 1024, .growth_factor = 4, .backoff_factor = 0.25,
                                              .growth_interval = 3},
                     true, 0.05);
}

Test(grad_scaler, adam_at_the_defaults_matches_pytorch, GS, .timeout = 120)
{
    check_trajectory("adam_defaults", (nb_grad_scaler_options){.init_scale = 65536}, true, 1e-3);
}

/* The problem of the golden runs with x's rows given, stepping Adam; w's values after. */
static void adam_run(int n, const float (*rows)[6], float *w_out)
{
    nb_tensor *w = make_w();
    nb_params *params = nb_params_new();
    nb_params_add(params, w);
    nb_optimizer *opt = nb_adam_new(params, (nb_adam_options){.lr = 0.05});
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){.growth_interval = 1});
    for (int t = 0; t < n; t++) {
        nb_tensor *x = nb_from_array(rows[t], NB_SHAPE(6), NB_OPTS(NB_FLOAT32));
        golden_step(s, opt, w, x);
        nb_release(x);
    }
    memcpy(w_out, nb_data(w), 6 * sizeof(float));
    nb_grad_scaler_free(s);
    nb_optimizer_free(opt);
    nb_params_free(params);
    nb_release(w);
    assert_ok();
}

Test(grad_scaler, a_skipped_step_changes_no_parameter_moment_or_step_count, GS)
{
    const float inf = INFINITY;
    const float with_skip[4][6] = {{1, -2, 3, 0.5f, -1, 2}, {0.1f, inf, 0, 1, 1, 1}, {-1, 2, -3, 4, 0.25f, 1},
                                   {2, 2, -1, -1, 0.5f, 3}};
    const float without[3][6] = {{1, -2, 3, 0.5f, -1, 2}, {-1, 2, -3, 4, 0.25f, 1}, {2, 2, -1, -1, 0.5f, 3}};
    float a[6], b[6];
    adam_run(4, with_skip, a);
    adam_run(3, without, b);
    /* the step count and moments decide every later step: a changed one would show here */
    cr_assert(memcmp(a, b, sizeof a) == 0, "the run with a skipped step differs from the run without it");

    /* and the skipped step itself leaves w bit for bit as it was */
    nb_tensor *w = make_w();
    nb_params *params = nb_params_new();
    nb_params_add(params, w);
    nb_optimizer *opt = nb_adam_new(params, (nb_adam_options){.lr = 0.05});
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){0});
    nb_tensor *x = nb_from_array(with_skip[0], NB_SHAPE(6), NB_OPTS(NB_FLOAT32));
    golden_step(s, opt, w, x);
    nb_release(x);
    float before[6];
    memcpy(before, nb_data(w), sizeof before);
    x = nb_from_array(with_skip[1], NB_SHAPE(6), NB_OPTS(NB_FLOAT32));
    golden_step(s, opt, w, x);
    nb_release(x);
    cr_assert(memcmp(before, nb_data(w), sizeof before) == 0, "a skipped step changed w");
    cr_assert_eq(nb_grad_scaler_get_scale(s), 32768.0);
    nb_grad_scaler_free(s);
    nb_optimizer_free(opt);
    nb_params_free(params);
    nb_release(w);
    assert_ok();
}

Test(grad_scaler, unscaled_grads_are_the_grads_times_the_inverse_scale, GS)
{
    const float xs[6] = {1.5f, -2.25f, 3, 1e-3f, -7, 0.1f};
    const double scales[2] = {1024, 3}; /* 1/3 is inexact: float32(1 / 3.0) is the factor */
    for (int k = 0; k < 2; k++) {
        nb_tensor *w = make_w();
        nb_params *params = nb_params_new();
        nb_params_add(params, w);
        nb_optimizer *opt = nb_sgd_new(params, (nb_sgd_options){.lr = 0.1});
        nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){.init_scale = scales[k]});
        nb_tensor *x = nb_from_array(xs, NB_SHAPE(6), NB_OPTS(NB_FLOAT32));
        nb_tensor *loss = nb_sum(nb_mul(x, w));
        cr_assert_eq(nb_backward(nb_grad_scaler_scale(s, loss)), NB_OK, "%s", nb_last_error());
        nb_tensor *g = nb_grad(w);
        float scaled[6];
        memcpy(scaled, nb_data(g), sizeof scaled);
        cr_assert_eq(nb_grad_scaler_unscale_(s, opt), NB_OK, "%s", nb_last_error());
        const float inv = (float)(1.0 / scales[k]);
        for (int i = 0; i < 6; i++) {
            cr_assert_eq(scaled[i], xs[i] * (float)scales[k]);
            cr_assert_eq(((const float *)nb_data(g))[i], scaled[i] * inv, "element %d", i);
        }
        /* the step after an explicit unscale does not unscale again */
        cr_assert_eq(nb_grad_scaler_step(s, opt), NB_OK, "%s", nb_last_error());
        cr_assert_eq(((const float *)nb_data(g))[0], scaled[0] * inv);
        cr_assert_eq(nb_grad_scaler_update(s), NB_OK, "%s", nb_last_error());
        nb_release(x);
        nb_release(loss);
        nb_grad_scaler_free(s);
        nb_optimizer_free(opt);
        nb_params_free(params);
        nb_release(w);
    }
    assert_ok();
}

Test(grad_scaler, float64_grads_are_unscaled_in_float64, GS)
{
    nb_tensor *w = nb_requires_grad_(nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT64)), true);
    nb_params *params = nb_params_new();
    nb_params_add(params, w);
    nb_optimizer *opt = nb_sgd_new(params, (nb_sgd_options){.lr = 0.5});
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){.init_scale = 3});
    const double xs[3] = {0.1, -0.2, 0.3};
    nb_tensor *x = nb_from_array(xs, NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
    nb_tensor *loss = nb_sum(nb_mul(x, w));
    nb_tensor *scaled = nb_grad_scaler_scale(s, loss);
    cr_assert_eq(nb_dtype_of(scaled), NB_FLOAT64); /* float64 loss times the float32 scale */
    cr_assert_eq(nb_backward(scaled), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_step(s, opt), NB_OK, "%s", nb_last_error());
    const double *wv = nb_data(w);
    for (int i = 0; i < 3; i++) {
        const double want = 1 - 0.5 * ((xs[i] * 3) * (double)(float)(1 / 3.0)); /* not (1 / 3.0) itself */
        cr_assert(fabs(wv[i] - want) <= 1e-16, "w[%d] = %.17g, expected %.17g", i, wv[i], want);
    }
    nb_release(x);
    nb_release(loss);
    nb_release(scaled);
    nb_grad_scaler_free(s);
    nb_optimizer_free(opt);
    nb_params_free(params);
    nb_release(w);
    assert_ok();
}

/* A two-layer model with float32 parameters, computed in dtype (float32, or float16 with the
 * scaler), trained by Adam for steps steps; the parameters after, as float32 (w1 then w2). */
static void train_mlp(nb_dtype dtype, bool scaled, int steps, float *out, double *final_scale)
{
    nb_manual_seed(5);
    nb_tensor *x = nb_randn(NB_SHAPE(32, 8), NB_OPTS(NB_FLOAT32));
    nb_tensor *y = nb_randn(NB_SHAPE(32, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *w1 = nb_requires_grad_(nb_mul_scalar(nb_randn(NB_SHAPE(8, 16), NB_OPTS(NB_FLOAT32)), 0.3), true);
    nb_tensor *w2 = nb_requires_grad_(nb_mul_scalar(nb_randn(NB_SHAPE(16, 4), NB_OPTS(NB_FLOAT32)), 0.3), true);
    nb_params *params = nb_params_new();
    nb_params_add(params, w1);
    nb_params_add(params, w2);
    nb_optimizer *opt = nb_adam_new(params, (nb_adam_options){.lr = 1e-2});
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){.disabled = !scaled, .growth_interval = 4});
    nb_tensor *xd = nb_to_dtype(x, dtype);
    for (int t = 0; t < steps; t++) {
        nb_scope_begin();
        nb_optimizer_zero_grad(opt);
        nb_tensor *h = nb_relu(nb_mm(xd, nb_to_dtype(w1, dtype)));
        nb_tensor *pred = nb_to_dtype(nb_mm(h, nb_to_dtype(w2, dtype)), NB_FLOAT32);
        nb_tensor *loss = nb_mse_loss(pred, y);
        cr_assert_eq(nb_backward(nb_grad_scaler_scale(s, loss)), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_grad_scaler_step(s, opt), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_grad_scaler_update(s), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
    memcpy(out, nb_data(w1), 8 * 16 * sizeof(float));
    memcpy(out + 8 * 16, nb_data(w2), 16 * 4 * sizeof(float));
    *final_scale = nb_grad_scaler_get_scale(s);
    nb_grad_scaler_free(s);
    nb_optimizer_free(opt);
    nb_params_free(params);
    nb_release(x), nb_release(y), nb_release(xd), nb_release(w1), nb_release(w2);
    assert_ok();
}

Test(grad_scaler, a_float16_model_under_the_scaler_trains_as_the_float32_one, GS)
{
    enum { N = 8 * 16 + 16 * 4, STEPS = 20 };
    float ref[N], half[N], bf[N];
    double s_ref, s_half, s_bf;
    train_mlp(NB_FLOAT32, false, STEPS, ref, &s_ref);
    train_mlp(NB_FLOAT16, true, STEPS, half, &s_half);
    train_mlp(NB_BFLOAT16, true, STEPS, bf, &s_bf);
    cr_assert_eq(s_ref, 1.0);               /* disabled */
    cr_assert_eq(s_half, 65536.0 * 32);     /* 20 clean steps, growth every 4 */
    double worst_half = 0, worst_bf = 0;
    for (int i = 0; i < N; i++) {
        worst_half = fmax(worst_half, fabs(half[i] - ref[i]));
        worst_bf = fmax(worst_bf, fabs(bf[i] - ref[i]));
    }
    /* 20 Adam steps of lr 1e-2 move each weight by up to 0.2; float16's rounding (2^-11
     * relative) of the activations and gradients changes that by far less, bfloat16's (2^-8) by
     * more (Adam's normalised step turns a small gradient's rounding into a whole step) */
    cr_assert(worst_half <= 2e-3, "float16: the largest difference from float32 is %g", worst_half);
    cr_assert(worst_bf <= 8e-2, "bfloat16: the largest difference from float32 is %g", worst_bf);
    cr_log_info("largest differences from float32: float16 %g, bfloat16 %g", worst_half, worst_bf);
}

Test(grad_scaler, disabled_passes_everything_through, GS)
{
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){.disabled = true});
    cr_assert_not_null(s, "%s", nb_last_error());
    nb_tensor *loss = nb_full(0, NULL, 2.5, NB_OPTS(NB_FLOAT32));
    nb_tensor *same = nb_grad_scaler_scale(s, loss);
    cr_assert_not_null(same, "%s", nb_last_error());
    cr_assert_eq(nb_item(same), 2.5);
    cr_assert_eq(nb_grad_scaler_get_scale(s), 1.0);
    cr_assert_null(nb_grad_scaler_get_scale_tensor(s));
    cr_assert_eq(nb_grad_scaler_update(s), NB_OK);
    nb_release(same);
    nb_release(loss);
    nb_grad_scaler_free(s);
    nb_grad_scaler_free(NULL);
    assert_ok();
}

Test(grad_scaler, options_default_and_bad_ones_are_refused, GS)
{
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){0});
    cr_assert_eq(nb_grad_scaler_get_scale(s), 65536.0);
    cr_assert_null(nb_grad_scaler_get_scale_tensor(s));
    nb_grad_scaler_free(s);
    cr_assert_null(nb_grad_scaler_new((nb_grad_scaler_options){.init_scale = -1}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_new", "init_scale -1", "> 0"));
    cr_assert_null(nb_grad_scaler_new((nb_grad_scaler_options){.init_scale = INFINITY}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_new", "init_scale inf"));
    cr_assert_null(nb_grad_scaler_new((nb_grad_scaler_options){.growth_factor = 0.5}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_new", "growth_factor 0.5", "> 1"));
    cr_assert_null(nb_grad_scaler_new((nb_grad_scaler_options){.backoff_factor = 1}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_new", "backoff_factor 1", "(0, 1)"));
    cr_assert_null(nb_grad_scaler_new((nb_grad_scaler_options){.backoff_factor = NAN}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_new", "backoff_factor nan"));
    cr_assert_null(nb_grad_scaler_new((nb_grad_scaler_options){.growth_interval = -2}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_new", "growth_interval -2", "> 0"));
}

Test(grad_scaler, misuse_is_refused_with_a_message, GS)
{
    nb_tensor *w = make_w();
    nb_params *params = nb_params_new();
    nb_params_add(params, w);
    nb_optimizer *opt = nb_adam_new(params, (nb_adam_options){.lr = 0.1});
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){0});

    /* NULLs */
    cr_assert_null(nb_grad_scaler_scale(NULL, w));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_grad_scaler_scale", "scaler"));
    cr_assert_null(nb_grad_scaler_scale(s, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_grad_scaler_scale", "loss"));
    cr_assert_eq(nb_grad_scaler_unscale_(NULL, opt), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_grad_scaler_unscale_", "scaler"));
    cr_assert_eq(nb_grad_scaler_unscale_(s, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_grad_scaler_unscale_", "optimizer"));
    cr_assert_eq(nb_grad_scaler_step(s, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_grad_scaler_step", "optimizer"));
    cr_assert_eq(nb_grad_scaler_update(NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_grad_scaler_update", "scaler"));
    cr_assert(isnan(nb_grad_scaler_get_scale(NULL)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_grad_scaler_get_scale", "scaler"));
    cr_assert_null(nb_grad_scaler_get_scale_tensor(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_grad_scaler_get_scale_tensor", "scaler"));

    /* before any scale */
    cr_assert_eq(nb_grad_scaler_unscale_(s, opt), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_unscale_", "no scale yet", "nb_grad_scaler_scale"));
    cr_assert_eq(nb_grad_scaler_step(s, opt), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_step", "no scale yet"));
    cr_assert_eq(nb_grad_scaler_update(s), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_update", "no scale yet"));

    /* an integer loss */
    nb_tensor *il = nb_full(0, NULL, 3, NB_OPTS(NB_INT64));
    cr_assert_null(nb_grad_scaler_scale(s, il));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_grad_scaler_scale", "int64", "floating-point"));
    nb_release(il);

    nb_tensor *loss = nb_sum(nb_mul_scalar(w, 2));
    nb_tensor *scaled = nb_grad_scaler_scale(s, loss);
    cr_assert_not_null(nb_grad_scaler_get_scale_tensor(s));
    cr_assert_eq(nb_backward(scaled), NB_OK, "%s", nb_last_error());

    /* an update before any unscale or step */
    cr_assert_eq(nb_grad_scaler_update(s), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_update", "no inf checks"));

    /* unscale twice, unscale after step, step twice */
    cr_assert_eq(nb_grad_scaler_unscale_(s, opt), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_unscale_(s, opt), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_unscale_", "already been called on this optimizer",
                                            "since the last nb_grad_scaler_update"));
    cr_assert_eq(nb_grad_scaler_step(s, opt), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_unscale_(s, opt), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_unscale_", "after nb_grad_scaler_step"));
    cr_assert_eq(nb_grad_scaler_step(s, opt), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_grad_scaler_step", "already been called"));
    cr_assert_eq(nb_grad_scaler_update(s), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_get_scale(s), 65536.0); /* one clean step of 2000 */

    nb_release(loss);
    nb_release(scaled);
    nb_grad_scaler_free(s);
    nb_optimizer_free(opt);
    nb_params_free(params);
    nb_release(w);
    assert_ok();
}

Test(grad_scaler, sgd_skips_on_the_host_and_several_optimizers_combine_their_flags, GS)
{
    nb_tensor *a = nb_requires_grad_(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *b = nb_requires_grad_(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), true);
    nb_params *pa = nb_params_new(), *pb = nb_params_new();
    nb_params_add(pa, a);
    nb_params_add(pb, b);
    nb_optimizer *oa = nb_sgd_new(pa, (nb_sgd_options){.lr = 0.5});
    nb_optimizer *ob = nb_adam_new(pb, (nb_adam_options){.lr = 0.5});
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){.init_scale = 8});
    const float av[2] = {1, INFINITY}, bv[2] = {1, 2};
    nb_tensor *xa = nb_from_array(av, NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb_tensor *xb = nb_from_array(bv, NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb_scope_begin();
    nb_tensor *loss = nb_add(nb_sum(nb_mul(xa, a)), nb_sum(nb_mul(xb, b)));
    cr_assert_eq(nb_backward(nb_grad_scaler_scale(s, loss)), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_scope_end(), NB_OK);
    cr_assert_eq(nb_grad_scaler_step(s, oa), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_step(s, ob), NB_OK, "%s", nb_last_error());
    /* a's grad was Inf: SGD skipped; b's were finite: Adam stepped (torch decides per optimizer) */
    cr_assert_eq(((const float *)nb_data(a))[0], 1.0f);
    cr_assert_neq(((const float *)nb_data(b))[0], 1.0f);
    /* the update sees either optimizer's Inf */
    cr_assert_eq(nb_grad_scaler_update(s), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_get_scale(s), 4.0);
    nb_release(xa), nb_release(xb);
    nb_grad_scaler_free(s);
    nb_optimizer_free(oa), nb_optimizer_free(ob);
    nb_params_free(pa), nb_params_free(pb);
    nb_release(a), nb_release(b);
    assert_ok();
}
