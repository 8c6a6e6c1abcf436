/* test_optim_kit.c — suite optim: the training kit around the optimizers, against PyTorch 1.13
 * (test/golden/gen_optim_kit.py): parameter groups (per-group lr and weight decay, stepped 20
 * times on gen_optim.py's problem, and under a warmup-cosine schedule), gradient clipping by norm
 * (nb_clip_grad_norm_ and its tensor form, norms 2, inf, 1, 3 and 0.5, with an empty and a
 * non-contiguous gradient), the learning-rate schedules (150 steps of each torch scheduler), the
 * fused Adam step (batches of many parameters of mixed dtypes against one optimizer per
 * parameter), and every argument error. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- parameter groups */

#define STEPS 20
#define SWITCH 10
#define NVALUES 20 /* W (15), b (3), c (2) */

typedef struct problem {
    nb_tensor *x, *y, *d;  /* (8, 5), (8, 3), (2,) data */
    nb_tensor *w, *b, *c;  /* (5, 3), (3,), (2,) parameters */
    nb_params *g0, *g1;    /* [W] and [b, c] */
} problem;

static nb_tensor *input(const char *name, nb_dtype dtype)
{
    char path[64];
    snprintf(path, sizeof path, "optim/%s", name);
    nb_tensor *g = golden(path);
    nb_tensor *t = nb_to_dtype(g, dtype);
    nb_release(g);
    cr_assert(t != NULL, "%s", nb_last_error());
    return t;
}

static nb_tensor *leaf(const char *name, nb_dtype dtype)
{
    nb_tensor *t = input(name, dtype);
    nb_tensor *p = nb_clone(t);
    nb_release(t);
    cr_assert(nb_requires_grad_(p, true) != NULL, "%s", nb_last_error());
    return p;
}

static problem problem_new(nb_dtype dtype)
{
    problem pr = {input("x", dtype), input("y", dtype), input("d", dtype), leaf("w0", dtype), leaf("b0", dtype),
                  leaf("c0", dtype), nb_params_new(), nb_params_new()};
    cr_assert_eq(nb_params_add(pr.g0, pr.w), NB_OK);
    cr_assert_eq(nb_params_add(pr.g1, pr.b), NB_OK);
    cr_assert_eq(nb_params_add(pr.g1, pr.c), NB_OK);
    return pr;
}

static void problem_free(problem *pr)
{
    nb_params_free(pr->g0);
    nb_params_free(pr->g1);
    nb_tensor *ts[] = {pr->x, pr->y, pr->d, pr->w, pr->b, pr->c};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) nb_release(ts[i]);
}

/* gen_optim.py's loss at step t, then backward, in the caller's scope */
static void forward_backward(problem *pr, int t)
{
    nb_tensor *r = nb_sub(nb_add(nb_mm(pr->x, pr->w), pr->b), pr->y); /* (8, 3) */
    nb_tensor *loss = nb_add(nb_sum(nb_pow_scalar(r, 2.0)), nb_sum(nb_tanh(pr->w)));
    if (t > SWITCH) loss = nb_add(loss, nb_sum(nb_mul(nb_tanh(pr->c), pr->d)));
    cr_assert_eq(nb_backward(loss), NB_OK, "step %d: %s", t, nb_last_error());
}

static void values_of(const problem *pr, double *out)
{
    const nb_tensor *ts[] = {pr->w, pr->b, pr->c};
    int at = 0;
    for (int i = 0; i < 3; i++) {
        nb_tensor *d = nb_to_dtype(ts[i], NB_FLOAT64);
        int64_t n = nb_numel(d);
        cr_assert_eq(nb_copy_to_array(d, out + at, (size_t)n * sizeof(double)), NB_OK, "%s", nb_last_error());
        at += (int)n;
        nb_release(d);
    }
}

typedef enum kind { SGD, ADAM, ADAMW } kind;

/* gen_optim_kit.py's groups: [W] with the optimizer's lr and weight_decay, [b, c] with lr 0.02
 * and no weight decay */
static nb_optimizer *make_groups(kind k, problem *pr)
{
    const nb_param_group groups[2] = {{pr->g0, -1, NAN}, {pr->g1, 0.02, 0}};
    switch (k) {
    case SGD: return nb_sgd_new_groups(2, groups, (nb_sgd_options){.lr = 0.01, .momentum = 0.9, .weight_decay = 0.05});
    case ADAM: return nb_adam_new_groups(2, groups, (nb_adam_options){.lr = 0.05, .weight_decay = 0.1});
    case ADAMW: return nb_adamw_new_groups(2, groups, (nb_adam_options){.lr = 0.05, .weight_decay = 0.1});
    }
    return NULL;
}

/* gen_optim_kit.py's schedule of groups_adamw_sched: SequentialLR(LinearLR(0.1, 1, 5),
 * CosineAnnealingLR(15, 1e-3), [5]) */
static const nb_lr_schedule warmup_cosine_5_20 = {
    .kind = NB_LR_WARMUP_COSINE, .start_factor = 0.1, .warmup_steps = 5, .total_steps = 20, .eta_min = 1e-3};

static void check_groups(const char *name, kind k, nb_dtype dtype, bool scheduled)
{
    double rtol = dtype == NB_FLOAT64 ? 1e-9 : 1e-5, atol = dtype == NB_FLOAT64 ? 1e-12 : 1e-6;
    char gname[96];
    snprintf(gname, sizeof gname, "optim_kit/groups_%s_%s", name, dtype == NB_FLOAT64 ? "f64" : "f32");
    nb_tensor *want = golden(gname); /* (STEPS, NVALUES) */
    double expected[STEPS][NVALUES];
    cr_assert_eq(nb_copy_to_array(want, expected, sizeof expected), NB_OK, "%s", nb_last_error());
    nb_release(want);

    problem pr = problem_new(dtype);
    nb_optimizer *opt = make_groups(k, &pr);
    cr_assert_not_null(opt, "%s", nb_last_error());
    cr_assert_eq(nb_optimizer_group_count(opt), 2);
    for (int t = 1; t <= STEPS; t++) {
        /* torch's scheduler sets the rate of step 0 when it is made, and steps after each step */
        if (scheduled) cr_assert_eq(nb_optimizer_schedule_step(opt, &warmup_cosine_5_20, t - 1), NB_OK, "%s",
                                    nb_last_error());
        nb_scope_begin();
        nb_optimizer_zero_grad(opt);
        forward_backward(&pr, t);
        cr_assert_eq(nb_optimizer_step(opt), NB_OK, "%s step %d: %s", name, t, nb_last_error());
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
        double got[NVALUES];
        values_of(&pr, got);
        for (int i = 0; i < NVALUES; i++)
            cr_assert(fabs(got[i] - expected[t - 1][i]) <= atol + rtol * fabs(expected[t - 1][i]),
                      "groups %s (%s): step %d, value %d: got %.17g, PyTorch %.17g", name, nb_dtype_name(dtype), t,
                      i, got[i], expected[t - 1][i]);
    }
    nb_optimizer_free(opt);
    problem_free(&pr);
    assert_ok();
}

Test(optim, sgd_groups_match_pytorch, .init = nb_test_setup)
{
    check_groups("sgd", SGD, NB_FLOAT64, false);
    check_groups("sgd", SGD, NB_FLOAT32, false);
}

Test(optim, adam_groups_match_pytorch, .init = nb_test_setup)
{
    check_groups("adam", ADAM, NB_FLOAT64, false);
    check_groups("adam", ADAM, NB_FLOAT32, false);
}

Test(optim, adamw_groups_match_pytorch, .init = nb_test_setup)
{
    check_groups("adamw", ADAMW, NB_FLOAT64, false);
    check_groups("adamw", ADAMW, NB_FLOAT32, false);
}

Test(optim, adamw_groups_under_a_warmup_cosine_schedule_match_pytorch, .init = nb_test_setup)
{
    check_groups("adamw_sched", ADAMW, NB_FLOAT64, true);
    check_groups("adamw_sched", ADAMW, NB_FLOAT32, true);
}

Test(optim, group_rates_are_read_and_set_per_group, .init = nb_test_setup)
{
    problem pr = problem_new(NB_FLOAT64);
    nb_optimizer *opt = make_groups(ADAMW, &pr);
    cr_assert_eq(nb_optimizer_group_lr(opt, 0), 0.05, "a group's lr < 0 or NaN is the optimizer's");
    cr_assert_eq(nb_optimizer_group_lr(opt, 1), 0.02);
    cr_assert_eq(nb_optimizer_lr(opt), 0.05, "nb_optimizer_lr is group 0's");
    cr_assert_eq(nb_optimizer_set_group_lr(opt, 1, 0.5), NB_OK);
    cr_assert_eq(nb_optimizer_group_lr(opt, 1), 0.5);
    cr_assert_eq(nb_optimizer_group_lr(opt, 0), 0.05);
    nb_optimizer_set_lr(opt, 0.25);
    cr_assert_eq(nb_optimizer_group_lr(opt, 0), 0.25, "nb_optimizer_set_lr sets every group");
    cr_assert_eq(nb_optimizer_group_lr(opt, 1), 0.25);
    /* schedules start from the rates at construction (torch's initial_lr), not the current ones */
    nb_lr_schedule half = {.kind = NB_LR_STEP, .step_size = 1, .gamma = 0.5};
    cr_assert_eq(nb_optimizer_schedule_step(opt, &half, 2), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_optimizer_group_lr(opt, 0), 0.05 * 0.25);
    cr_assert_eq(nb_optimizer_group_lr(opt, 1), 0.02 * 0.25);
    assert_ok();

    cr_assert(isnan(nb_optimizer_group_lr(opt, 2)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_optimizer_group_lr", "no group 2", "2 groups (0 to 1)"));
    cr_assert_eq(nb_optimizer_set_group_lr(opt, -1, 0.1), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_optimizer_set_group_lr", "no group -1"));
    cr_assert_eq(nb_optimizer_set_group_lr(opt, 0, -0.1), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_optimizer_set_group_lr", "invalid lr -0.1", ">= 0"));
    cr_assert_eq(nb_optimizer_set_group_lr(opt, 0, NAN), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_optimizer_set_group_lr", "lr", "nan"));
    cr_assert_eq(nb_optimizer_group_lr(opt, 0), 0.05 * 0.25, "a refused rate leaves the old one");
    cr_assert_eq(nb_optimizer_set_group_lr(NULL, 0, 0.1), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_optimizer_set_group_lr", "optimizer"));
    cr_assert(isnan(nb_optimizer_group_lr(NULL, 0)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_optimizer_group_lr", "optimizer"));
    cr_assert_eq(nb_optimizer_group_count(NULL), 0);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_optimizer_group_count", "optimizer"));
    /* the single-list constructors make one group */
    nb_optimizer *one = nb_sgd_new(pr.g0, (nb_sgd_options){.lr = 0.1});
    cr_assert_eq(nb_optimizer_group_count(one), 1);
    cr_assert_eq(nb_optimizer_group_lr(one, 0), 0.1);
    nb_optimizer_free(one);
    nb_optimizer_free(opt);
    problem_free(&pr);
}

Test(optim, group_constructors_refuse_bad_groups, .init = nb_test_setup)
{
    problem pr = problem_new(NB_FLOAT64);
    nb_optimizer *(*adam_ctor[2])(int, const nb_param_group *, nb_adam_options) = {nb_adam_new_groups,
                                                                                   nb_adamw_new_groups};
    const char *adam_name[2] = {"nb_adam_new_groups", "nb_adamw_new_groups"};
    const nb_param_group ok2[2] = {{pr.g0, -1, -1}, {pr.g1, -1, 0}};
    for (int k = 0; k < 2; k++) {
        cr_assert_null(adam_ctor[k](0, ok2, (nb_adam_options){.lr = 1e-3}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(adam_name[k], "0 parameter groups", "at least 1"));
        cr_assert_null(adam_ctor[k](2, NULL, (nb_adam_options){.lr = 1e-3}));
        assert_error(NB_ERR_NULL, ERR_PARTS(adam_name[k], "groups"));
        cr_assert_null(adam_ctor[k](2, (nb_param_group[]){{pr.g0, -1, -1}, {NULL, -1, -1}}, (nb_adam_options){.lr = 1e-3}));
        assert_error(NB_ERR_NULL, ERR_PARTS(adam_name[k], "params of group 1"));
        cr_assert_null(adam_ctor[k](2, (nb_param_group[]){{pr.g0, -1, -1}, {pr.g0, -1, -1}}, (nb_adam_options){.lr = 1e-3}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(adam_name[k], "parameter 0 of group 1 is also parameter 0 of group 0",
                                                "one group only"));
        cr_assert_null(adam_ctor[k](2, ok2, (nb_adam_options){.lr = -1}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(adam_name[k], "invalid lr -1"));
        nb_optimizer *o = adam_ctor[k](2, ok2, (nb_adam_options){.lr = 1e-3});
        cr_assert_not_null(o, "%s", nb_last_error());
        nb_optimizer_free(o);
    }
    cr_assert_null(nb_sgd_new_groups(1, (nb_param_group[]){{pr.g0, -1, -1}}, (nb_sgd_options){.lr = -0.5}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sgd_new_groups", "invalid lr -0.5"));
    /* a group of a non-floating tensor names the group */
    nb_params *ints = nb_params_new();
    nb_tensor *i64 = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_INT64));
    nb_params_add(ints, i64);
    cr_assert_null(nb_sgd_new_groups(2, (nb_param_group[]){{pr.g0, -1, -1}, {ints, -1, -1}}, (nb_sgd_options){.lr = 0.1}));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_sgd_new_groups (group 1)", "parameter 0 is int64"));
    nb_release(i64);
    nb_params_free(ints);
    problem_free(&pr);
}

/* A grad of the wrong shape in group 1 is refused naming the group, and nothing is stepped. */
Test(optim, a_refused_step_names_the_group_and_changes_nothing, .init = nb_test_setup)
{
    problem pr = problem_new(NB_FLOAT64);
    nb_optimizer *opt = make_groups(ADAM, &pr);
    nb_scope_begin();
    forward_backward(&pr, SWITCH + 1);
    nb_scope_end();
    nb_tensor *w0 = nb_clone(pr.w);
    /* a leaf that is an expanded view, added after construction, with a grad */
    nb_tensor *base = nb_zeros(NB_SHAPE(1, 3), NB_OPTS(NB_FLOAT64));
    nb_tensor *ex = nb_expand(base, NB_SHAPE(2, 3));
    nb_tensor *bad = nb_requires_grad_(nb_detach(ex), true);
    nb_tensor *ones = nb_ones(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT64));
    cr_assert_eq(nb_backward_ex(bad, ones, false), NB_OK, "%s", nb_last_error());
    nb_params_add(pr.g1, bad);
    cr_assert_eq(nb_optimizer_step(opt), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_optimizer_step (Adam, group 1)", "parameter 2", "expanded view"));
    nb_scope_begin();
    cr_assert(nb_max(nb_abs(nb_sub(pr.w, w0))) != NULL);
    cr_assert_eq(nb_item(nb_max(nb_abs(nb_sub(pr.w, w0)))), 0.0, "a refused step changes nothing");
    nb_scope_end();
    nb_release(bad), nb_release(ones), nb_release(ex), nb_release(base);
    nb_release(w0);
    nb_optimizer_free(opt);
    problem_free(&pr);
}

/* ---------------------------------------------------------------- the fused Adam step */

/* 80 parameters of mixed dtypes and sizes (float32 and float64 alternating at first, then a run
 * of 74 float64, longer than a device call takes; one empty, one transposed): one optimizer over
 * all of them, which the step splits into calls by dtype and by NBK_MULTI_MAX (64), gives exactly
 * what one optimizer per parameter gives. */
Test(optim, fused_adam_batches_match_one_optimizer_per_parameter, .init = nb_test_setup)
{
    enum { N = 80 };
    nb_tensor *ps[2][N];
    nb_params *all = nb_params_new(), *one[N];
    nb_manual_seed(5);
    for (int i = 0; i < N; i++) {
        nb_dtype dt = i < 6 && i % 3 == 0 ? NB_FLOAT32 : NB_FLOAT64;
        int64_t rows = i == 7 ? 0 : 1 + i % 5, cols = 3 + (i * 7) % 300;
        nb_tensor *t = nb_randn(NB_SHAPE(rows, cols), NB_OPTS(dt));
        for (int k = 0; k < 2; k++) {
            nb_tensor *c = nb_clone(t);
            if (i == 11) { /* a transposed leaf: a non-contiguous parameter */
                nb_tensor *tv = nb_t(c);
                nb_tensor *ct = nb_contiguous(tv);
                nb_release(tv), nb_release(c);
                c = nb_t(ct);
                nb_tensor *d = nb_detach(c);
                nb_release(c), nb_release(ct);
                c = d;
            }
            ps[k][i] = nb_requires_grad_(c, true);
        }
        nb_release(t);
        nb_params_add(all, ps[0][i]);
        one[i] = nb_params_new();
        nb_params_add(one[i], ps[1][i]);
    }
    cr_assert(!nb_is_contiguous(ps[0][11]));
    nb_adam_options o = {.lr = 0.01, .weight_decay = 0.05};
    nb_optimizer *fused = nb_adamw_new(all, o), *each[N];
    for (int i = 0; i < N; i++) each[i] = nb_adamw_new(one[i], o);
    for (int s = 0; s < 3; s++) {
        nb_scope_begin();
        for (int i = 0; i < N; i++) {
            if (s == 0 && i == 5) continue; /* one parameter starts a step late */
            for (int k = 0; k < 2; k++) {
                nb_tensor *loss = nb_sum(nb_mul(nb_tanh(ps[k][i]), nb_cos(ps[k][i])));
                cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
            }
        }
        cr_assert_eq(nb_optimizer_step(fused), NB_OK, "%s", nb_last_error());
        for (int i = 0; i < N; i++) cr_assert_eq(nb_optimizer_step(each[i]), NB_OK, "%s", nb_last_error());
        nb_optimizer_zero_grad(fused);
        for (int i = 0; i < N; i++) nb_optimizer_zero_grad(each[i]);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
    for (int i = 0; i < N; i++) {
        assert_close(ps[0][i], ps[1][i], 0, 0);
        nb_optimizer_free(each[i]);
        nb_params_free(one[i]);
        nb_release(ps[0][i]), nb_release(ps[1][i]);
    }
    nb_optimizer_free(fused);
    nb_params_free(all);
    assert_ok();
}

/* The fused step rounds as the rule written with nabla's elementwise ops does, op for op: three
 * float32 steps of Adam and AdamW (with weight decay) equal the composition bit for bit. */
Test(optim, fused_adam_rounds_as_the_unfused_rule, .init = nb_test_setup)
{
    const double lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
    for (int decoupled = 0; decoupled < 2; decoupled++) {
        nb_scope_begin();
        nb_manual_seed(9);
        nb_tensor *p = nb_requires_grad_(nb_randn(NB_SHAPE(5, 7), NB_OPTS(NB_FLOAT32)), true);
        nb_tensor *want = nb_clone(nb_detach(p));
        nb_tensor *m = nb_zeros(NB_SHAPE(5, 7), NB_OPTS(NB_FLOAT32)), *v = nb_zeros(NB_SHAPE(5, 7), NB_OPTS(NB_FLOAT32));
        nb_params *params = nb_params_new();
        nb_params_add(params, p);
        nb_adam_options o = {.lr = lr, .weight_decay = wd};
        nb_optimizer *opt = decoupled ? nb_adamw_new(params, o) : nb_adam_new(params, o);
        for (int t = 1; t <= 3; t++) {
            nb_tensor *g = nb_mul_scalar(nb_randn(NB_SHAPE(5, 7), NB_OPTS(NB_FLOAT32)), 0.3);
            cr_assert_eq(nb_backward_ex(p, g, false), NB_OK, "%s", nb_last_error());
            cr_assert_eq(nb_optimizer_step(opt), NB_OK, "%s", nb_last_error());
            nb_optimizer_zero_grad(opt);
            /* the unfused rule, one rounding per op */
            if (decoupled) want = nb_mul_scalar(want, 1 - lr * wd);
            else g = nb_add(g, nb_mul_scalar(want, wd));
            m = nb_add(nb_mul_scalar(m, b1), nb_mul_scalar(g, 1 - b1));
            v = nb_add(nb_mul_scalar(v, b2), nb_mul_scalar(nb_mul(g, g), 1 - b2));
            nb_tensor *denom = nb_add_scalar(nb_div_scalar(nb_sqrt(v), sqrt(1 - pow(b2, t))), eps);
            want = nb_add(want, nb_mul_scalar(nb_div(m, denom), -(lr / (1 - pow(b1, t)))));
            assert_close(p, want, 0, 0);
        }
        nb_optimizer_free(opt);
        nb_params_free(params);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

/* ---------------------------------------------------------------- gradient clipping */

#define NCLIP 6
#define NGRAD 70 /* 35 + 11 + 0 + 24 values */
static const double clip_cases[NCLIP][2] = {{0.5, 2.0}, {100.0, 2.0}, {0.1, INFINITY}, {1.0, 1.0}, {0.7, 3.0},
                                            {0.2, 0.5}};

/* Parameters whose grads are gen_optim_kit.py's four (the last given to backward as a
 * non-contiguous view, as torch's is; nabla's backward stores it contiguous), in dtype; plus one
 * parameter without a grad. */
static nb_params *clip_params(nb_dtype dtype, nb_tensor *grads_out[4])
{
    nb_tensor *g = golden("optim_kit/clip_grads"); /* (NGRAD,) */
    double v[NGRAD];
    cr_assert_eq(nb_copy_to_array(g, v, sizeof v), NB_OK);
    nb_release(g);
    nb_params *params = nb_params_new();
    const int64_t shapes[4][3] = {{7, 5}, {11}, {0}, {3, 4, 2}};
    const int ndims[4] = {2, 1, 1, 3};
    int at = 0;
    for (int k = 0; k < 4; k++) {
        nb_tensor *src = nb_from_array(v + at, ndims[k], shapes[k], NB_OPTS(NB_FLOAT64));
        at += (int)nb_numel(src);
        nb_tensor *grad = nb_to_dtype(src, dtype);
        if (k == 3) { /* as torch's: the (3, 4, 2) permute(2, 1, 0) of a contiguous (2, 4, 3) */
            nb_tensor *back = nb_contiguous(nb_permute(grad, 3, (const int[]){2, 1, 0})); /* (2, 4, 3) */
            nb_release(grad);
            grad = nb_permute(back, 3, (const int[]){2, 1, 0});
            nb_release(back);
            cr_assert(!nb_is_contiguous(grad));
        }
        nb_tensor *p = nb_requires_grad_(nb_zeros(nb_ndim(grad), nb_shape(grad), NB_OPTS(dtype)), true);
        cr_assert_eq(nb_backward_ex(p, grad, false), NB_OK, "%s", nb_last_error());
        grads_out[k] = nb_grad(p);
        nb_params_add(params, p);
        nb_release(p), nb_release(grad), nb_release(src);
    }
    nb_tensor *none = nb_requires_grad_(nb_ones(NB_SHAPE(4), NB_OPTS(dtype)), true); /* no grad: skipped */
    nb_params_add(params, none);
    nb_release(none);
    return params;
}

static void check_clip(int k, nb_dtype dtype, bool as_tensor)
{
    const double rtol = dtype == NB_FLOAT64 ? 1e-12 : 2e-6;
    char name[64];
    snprintf(name, sizeof name, "optim_kit/clip_%d_%s", k, dtype == NB_FLOAT64 ? "f64" : "f32");
    nb_tensor *w = golden(name);
    double want[1 + NGRAD], got[NGRAD];
    cr_assert_eq(nb_copy_to_array(w, want, sizeof want), NB_OK);
    nb_release(w);
    nb_tensor *grads[4];
    nb_params *params = clip_params(dtype, grads);
    double norm;
    if (as_tensor) {
        nb_tensor *t = nb_clip_grad_norm_tensor_(params, clip_cases[k][0], clip_cases[k][1]);
        cr_assert_not_null(t, "%s", nb_last_error());
        cr_assert_eq(nb_ndim(t), 0);
        cr_assert_eq(nb_dtype_of(t), dtype, "the norm has the gradients' dtype");
        norm = nb_item(t);
        nb_release(t);
    } else {
        norm = nb_clip_grad_norm_(params, clip_cases[k][0], clip_cases[k][1]);
    }
    assert_ok();
    cr_assert(fabs(norm - want[0]) <= rtol * fabs(want[0]), "case %d (%s): norm %.17g, PyTorch %.17g", k,
              nb_dtype_name(dtype), norm, want[0]);
    int at = 0;
    for (int i = 0; i < 4; i++) {
        cr_assert_not_null(grads[i], "gradient %d", i);
        nb_tensor *d = nb_to_dtype(nb_flatten(grads[i]), NB_FLOAT64); /* row-major, as torch's reshape(-1) */
        cr_assert_not_null(d, "gradient %d: %s", i, nb_last_error());
        cr_assert_eq(nb_copy_to_array(d, got + at, (size_t)nb_numel(d) * sizeof(double)), NB_OK, "%s", nb_last_error());
        at += (int)nb_numel(d);
    }
    cr_assert_eq(at, NGRAD);
    for (int i = 0; i < NGRAD; i++)
        cr_assert(fabs(got[i] - want[1 + i]) <= 1e-15 + rtol * fabs(want[1 + i]),
                  "case %d (%s): gradient value %d: got %.17g, PyTorch %.17g", k, nb_dtype_name(dtype), i, got[i],
                  want[1 + i]);
    nb_params_free(params);
}

Test(optim, clip_grad_norm_matches_pytorch, .init = nb_test_setup)
{
    for (int k = 0; k < NCLIP; k++) {
        nb_scope_begin();
        check_clip(k, NB_FLOAT64, false);
        check_clip(k, NB_FLOAT32, false);
        check_clip(k, NB_FLOAT64, true);
        check_clip(k, NB_FLOAT32, true);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

Test(optim, clip_grad_norm_of_no_grads_and_of_nan, .init = nb_test_setup)
{
    nb_params *params = nb_params_new();
    cr_assert_eq(nb_clip_grad_norm_(params, 1.0, 2.0), 0.0, "an empty list: torch.tensor(0.)");
    nb_tensor *p = nb_requires_grad_(nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT64)), true);
    nb_params_add(params, p);
    nb_tensor *t = nb_clip_grad_norm_tensor_(params, 1.0, 2.0);
    cr_assert_not_null(t, "%s", nb_last_error());
    cr_assert_eq(nb_dtype_of(t), NB_FLOAT32, "no grads: a float32 zero, as torch.tensor(0.)");
    cr_assert_eq(nb_item(t), 0.0);
    nb_release(t);
    /* a NaN gradient makes the norm NaN and, as torch's clip coefficient is then NaN, every
     * gradient NaN */
    const double g[3] = {1.0, NAN, 2.0};
    nb_tensor *gt = nb_from_array(g, NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
    cr_assert_eq(nb_backward_ex(p, gt, false), NB_OK, "%s", nb_last_error());
    cr_assert(isnan(nb_clip_grad_norm_(params, 1.0, 2.0)));
    assert_ok();
    double after[3];
    nb_copy_to_array(nb_grad(p), after, sizeof after);
    cr_assert(isnan(after[0]) && isnan(after[2]), "%g %g", after[0], after[2]);
    cr_assert(isnan(nb_clip_grad_norm_(params, 1.0, INFINITY)), "NaN propagates through the max norm too");
    nb_release(gt);
    nb_release(p);
    nb_params_free(params);
    assert_ok();
}

Test(optim, clip_grad_norm_refuses_bad_arguments, .init = nb_test_setup)
{
    nb_params *params = nb_params_new();
    cr_assert(isnan(nb_clip_grad_norm_(NULL, 1.0, 2.0)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_clip_grad_norm_", "params"));
    cr_assert_null(nb_clip_grad_norm_tensor_(NULL, 1.0, 2.0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_clip_grad_norm_tensor_", "params"));
    const double bad_norms[] = {0.0, -2.0, NAN, -INFINITY};
    for (size_t i = 0; i < sizeof bad_norms / sizeof bad_norms[0]; i++) {
        cr_assert(isnan(nb_clip_grad_norm_(params, 1.0, bad_norms[i])));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_clip_grad_norm_", "invalid norm_type", "> 0"));
    }
    cr_assert_null(nb_clip_grad_norm_tensor_(params, NAN, 2.0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_clip_grad_norm_tensor_", "invalid max_norm nan"));
    nb_params_free(params);
}

/* ---------------------------------------------------------------- schedules */

#define SCHED_STEPS 150

/* gen_optim_kit.py's schedulers, on groups of base rates 0.1 and 0.02 */
static void check_schedule(const char *name, const nb_lr_schedule *s)
{
    char gname[64];
    snprintf(gname, sizeof gname, "optim_kit/sched_%s", name);
    nb_tensor *w = golden(gname);
    static double want[SCHED_STEPS + 1][2];
    cr_assert_eq(nb_copy_to_array(w, want, sizeof want), NB_OK, "%s", nb_last_error());
    nb_release(w);
    nb_params *p0 = nb_params_new(), *p1 = nb_params_new();
    nb_optimizer *opt = nb_sgd_new_groups(2, (nb_param_group[]){{p0, -1, -1}, {p1, 0.02, -1}}, (nb_sgd_options){.lr = 0.1});
    const double base[2] = {0.1, 0.02};
    for (int e = 0; e <= SCHED_STEPS; e++) {
        cr_assert_eq(nb_optimizer_schedule_step(opt, s, e), NB_OK, "%s", nb_last_error());
        for (int g = 0; g < 2; g++) {
            double at = nb_lr_schedule_at(s, base[g], e);
            cr_assert(fabs(at - want[e][g]) <= 1e-12 * fabs(want[e][g]) + 1e-18,
                      "%s, group %d, step %d: %.17g, PyTorch %.17g", name, g, e, at, want[e][g]);
            cr_assert_eq(nb_optimizer_group_lr(opt, g), at);
        }
    }
    nb_optimizer_free(opt);
    nb_params_free(p0), nb_params_free(p1);
    assert_ok();
}

Test(optim, step_lr_matches_pytorch, .init = nb_test_setup)
{
    check_schedule("step", &(nb_lr_schedule){.kind = NB_LR_STEP, .step_size = 7, .gamma = 0.5});
}

Test(optim, linear_lr_matches_pytorch, .init = nb_test_setup)
{
    check_schedule("linear", &(nb_lr_schedule){.kind = NB_LR_LINEAR, .start_factor = 0.25, .end_factor = 0.9,
                                               .total_iters = 40});
}

Test(optim, cosine_annealing_matches_pytorch_past_t_max, .init = nb_test_setup)
{
    check_schedule("cosine", &(nb_lr_schedule){.kind = NB_LR_COSINE, .t_max = 60, .eta_min = 1e-3});
}

Test(optim, warmup_cosine_matches_pytorch_sequential_lr, .init = nb_test_setup)
{
    check_schedule("warmup_cosine", &(nb_lr_schedule){.kind = NB_LR_WARMUP_COSINE, .start_factor = 0.01,
                                                      .warmup_steps = 10, .total_steps = 100, .eta_min = 1e-3});
}

Test(optim, warmup_from_zero_and_constant_schedules, .init = nb_test_setup)
{
    nb_lr_schedule s = {.kind = NB_LR_WARMUP_COSINE, .warmup_steps = 4, .total_steps = 8};
    const double want[] = {0, 0.25, 0.5, 0.75, 1, (1 + cos(M_PI / 4)) / 2, 0.5, (1 + cos(3 * M_PI / 4)) / 2, 0};
    for (int e = 0; e <= 8; e++)
        cr_assert(fabs(nb_lr_schedule_at(&s, 1.0, e) - want[e]) <= 1e-15, "step %d: %.17g", e,
                  nb_lr_schedule_at(&s, 1.0, e));
    nb_lr_schedule none = {.warmup_steps = 0, .total_steps = 10}; /* kind 0: constant */
    cr_assert_eq(nb_lr_schedule_at(&none, 0.3, 12345), 0.3);
    nb_lr_schedule no_warmup = {.kind = NB_LR_WARMUP_COSINE, .total_steps = 10, .eta_min = 0.1};
    cr_assert_eq(nb_lr_schedule_at(&no_warmup, 1.0, 0), 1.0);
    cr_assert(fabs(nb_lr_schedule_at(&no_warmup, 1.0, 10) - 0.1) < 1e-15);
    assert_ok();
}

Test(optim, schedules_refuse_bad_fields, .init = nb_test_setup)
{
    struct {
        nb_lr_schedule s;
        const char *parts[2];
    } bad[] = {
        {{.kind = NB_LR_STEP, .step_size = 0, .gamma = 0.5}, {"StepLR", "invalid step_size 0"}},
        {{.kind = NB_LR_STEP, .step_size = 3, .gamma = NAN}, {"StepLR", "invalid gamma nan"}},
        {{.kind = NB_LR_LINEAR, .start_factor = 0, .end_factor = 1, .total_iters = 5},
         {"LinearLR", "invalid start_factor 0"}},
        {{.kind = NB_LR_LINEAR, .start_factor = 0.5, .end_factor = 1.5, .total_iters = 5},
         {"LinearLR", "invalid end_factor 1.5"}},
        {{.kind = NB_LR_LINEAR, .start_factor = 0.5, .end_factor = 1, .total_iters = 0},
         {"LinearLR", "invalid total_iters 0"}},
        {{.kind = NB_LR_COSINE, .t_max = 0}, {"CosineAnnealingLR", "invalid t_max 0"}},
        {{.kind = NB_LR_COSINE, .t_max = 5, .eta_min = INFINITY}, {"CosineAnnealingLR", "invalid eta_min inf"}},
        {{.kind = NB_LR_WARMUP_COSINE, .start_factor = 1.5, .total_steps = 5}, {"warmup-cosine", "start_factor 1.5"}},
        {{.kind = NB_LR_WARMUP_COSINE, .warmup_steps = -1, .total_steps = 5}, {"warmup-cosine", "warmup_steps -1"}},
        {{.kind = NB_LR_WARMUP_COSINE, .warmup_steps = 5, .total_steps = 5},
         {"warmup-cosine", "total_steps 5: expected more than warmup_steps"}},
        {{.kind = (nb_lr_schedule_kind)42}, {"unknown schedule kind 42", "nb_lr_schedule_at"}},
    };
    nb_params *p = nb_params_new();
    nb_optimizer *opt = nb_sgd_new(p, (nb_sgd_options){.lr = 0.1});
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert(isnan(nb_lr_schedule_at(&bad[i].s, 0.1, 3)), "case %zu", i);
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_lr_schedule_at", bad[i].parts[0], bad[i].parts[1]));
        cr_assert_eq(nb_optimizer_schedule_step(opt, &bad[i].s, 3), NB_ERR_ARGUMENT);
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(bad[i].parts[0], bad[i].parts[1]));
        cr_assert_eq(nb_optimizer_lr(opt), 0.1, "a refused schedule leaves the rate");
    }
    nb_lr_schedule ok = {.kind = NB_LR_STEP, .step_size = 2, .gamma = 0.5};
    cr_assert(isnan(nb_lr_schedule_at(&ok, 0.1, -1)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_lr_schedule_at", "invalid step -1", ">= 0"));
    cr_assert(isnan(nb_lr_schedule_at(NULL, 0.1, 1)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_lr_schedule_at", "schedule"));
    cr_assert_eq(nb_optimizer_schedule_step(NULL, &ok, 1), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_optimizer_schedule_step", "optimizer"));
    /* a schedule that gives a negative rate (gamma < 0 at an odd power) */
    nb_lr_schedule neg = {.kind = NB_LR_STEP, .step_size = 1, .gamma = -0.5};
    cr_assert_eq(nb_optimizer_schedule_step(opt, &neg, 1), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_optimizer_schedule_step", "group 0", "rate -0.05", ">= 0"));
    nb_optimizer_free(opt);
    nb_params_free(p);
}
