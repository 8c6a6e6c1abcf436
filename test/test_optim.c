/* test_optim.c — suite optim: parameter lists, checkpoints (nb_params_save / nb_params_load) and
 * the optimizers (SGD, Adam, AdamW).
 *
 * The optimizers reproduce PyTorch 1.13's trajectories (test/golden/gen_optim.py): parameters W
 * (5, 3), b (3,) and c (2,) stepped 20 times on a fixed loss, where c has no grad for the first ten
 * steps; every step's values are compared, float64 to rtol 1e-9 and float32 to rtol 1e-5. The
 * checkpoint tests build corrupt files byte by byte in a temporary directory. */
#include "files.h"
#include "helpers.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the golden problem */

#define STEPS 20
#define SWITCH 10 /* c joins the loss, and schedules change the learning rate, after this many steps */
#define NVALUES 20 /* W (15), b (3), c (2) */

typedef struct problem {
    nb_tensor *x, *y, *d; /* (8, 5), (8, 3), (2,) data */
    nb_tensor *w, *b, *c; /* (5, 3), (3,), (2,) parameters */
    nb_params *params;
} problem;

typedef enum layout { CONTIGUOUS, W_TRANSPOSED } layout;

/* golden optim/NAME converted to dtype */
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

/* a fresh leaf that requires grad, holding t's values */
static nb_tensor *leaf(nb_tensor *t)
{
    nb_tensor *p = nb_clone(t);
    nb_release(t);
    cr_assert(nb_requires_grad_(p, true) != NULL, "%s", nb_last_error());
    return p;
}

/* W_TRANSPOSED: W is a non-contiguous leaf (a transposed view of a (3, 5) buffer). */
static problem problem_new(nb_dtype dtype, layout lay, bool add_c)
{
    problem pr = {input("x", dtype), input("y", dtype), input("d", dtype), NULL, NULL, NULL, nb_params_new()};
    if (lay == W_TRANSPOSED) {
        nb_tensor *w0 = input("w0", dtype);
        nb_tensor *w0t = nb_t(w0);
        nb_tensor *base = nb_clone(w0t); /* (3, 5) */
        nb_release(w0t);
        nb_release(w0);
        nb_tensor *tv = nb_t(base);           /* (5, 3), strides (1, 5) */
        pr.w = nb_detach(tv);
        nb_release(tv);
        nb_release(base);
        cr_assert(!nb_is_contiguous(pr.w));
        nb_requires_grad_(pr.w, true);
    } else {
        pr.w = leaf(input("w0", dtype));
    }
    pr.b = leaf(input("b0", dtype));
    pr.c = leaf(input("c0", dtype));
    cr_assert_eq(nb_params_add(pr.params, pr.w), NB_OK);
    cr_assert_eq(nb_params_add(pr.params, pr.b), NB_OK);
    if (add_c) cr_assert_eq(nb_params_add(pr.params, pr.c), NB_OK);
    assert_ok();
    return pr;
}

static void problem_free(problem *pr)
{
    nb_params_free(pr->params);
    nb_tensor *ts[] = {pr->x, pr->y, pr->d, pr->w, pr->b, pr->c};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) nb_release(ts[i]);
}

/* loss_t = sum((x @ W + b - y)^2) + sum(tanh(W)) (+ sum(tanh(c) * d) after SWITCH steps), then
 * backward; inside the caller's scope. */
static void forward_backward(problem *pr, int t)
{
    nb_tensor *r = nb_sub(nb_add(nb_mm(pr->x, pr->w), pr->b), pr->y); /* (8, 3) */
    nb_tensor *loss = nb_add(nb_sum(nb_pow_scalar(r, 2.0)), nb_sum(nb_tanh(pr->w)));
    if (t > SWITCH) loss = nb_add(loss, nb_sum(nb_mul(nb_tanh(pr->c), pr->d)));
    cr_assert_eq(nb_backward(loss), NB_OK, "step %d: %s", t, nb_last_error());
}

/* W, b, c as NVALUES doubles */
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
    cr_assert_eq(at, NVALUES);
}

typedef nb_optimizer *(*make_fn)(nb_params *params);

/* Runs the golden problem with the optimizer make builds, comparing every step with
 * optim/NAME_{f64,f32}. later_lr (>= 0) is set before step SWITCH + 1. add_c_at: the step before
 * which c joins the list (0: from the start). */
static void check_trajectory(const char *name, make_fn make, double later_lr, nb_dtype dtype, layout lay,
                             int add_c_at)
{
    double rtol = dtype == NB_FLOAT64 ? 1e-9 : 1e-5, atol = dtype == NB_FLOAT64 ? 1e-12 : 1e-6;
    char gname[96];
    snprintf(gname, sizeof gname, "optim/%s_%s", name, dtype == NB_FLOAT64 ? "f64" : "f32");
    nb_tensor *want = golden(gname); /* (STEPS, NVALUES) */
    double expected[STEPS][NVALUES];
    cr_assert_eq(nb_copy_to_array(want, expected, sizeof expected), NB_OK, "%s", nb_last_error());
    nb_release(want);

    problem pr = problem_new(dtype, lay, add_c_at == 0);
    nb_optimizer *opt = make(pr.params);
    cr_assert(opt != NULL, "%s", nb_last_error());
    for (int t = 1; t <= STEPS; t++) {
        if (t == add_c_at) cr_assert_eq(nb_params_add(pr.params, pr.c), NB_OK);
        if (t == SWITCH + 1 && later_lr >= 0) nb_optimizer_set_lr(opt, later_lr);
        nb_scope_begin(); /* one training step: the optimizer's state must outlive it */
        nb_optimizer_zero_grad(opt);
        forward_backward(&pr, t);
        cr_assert_eq(nb_optimizer_step(opt), NB_OK, "%s step %d: %s", name, t, nb_last_error());
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
        if (t <= SWITCH) cr_assert_null(nb_grad(pr.c), "c has no grad before step %d", SWITCH + 1);
        double got[NVALUES];
        values_of(&pr, got);
        for (int k = 0; k < NVALUES; k++)
            cr_assert(fabs(got[k] - expected[t - 1][k]) <= atol + rtol * fabs(expected[t - 1][k]),
                      "%s (%s): step %d, value %d: got %.17g, PyTorch %.17g", name, nb_dtype_name(dtype), t, k,
                      got[k], expected[t - 1][k]);
    }
    nb_optimizer_free(opt);
    problem_free(&pr);
    assert_ok();
}

static void check_both_dtypes(const char *name, make_fn make, double later_lr)
{
    check_trajectory(name, make, later_lr, NB_FLOAT64, CONTIGUOUS, 0);
    check_trajectory(name, make, later_lr, NB_FLOAT32, CONTIGUOUS, 0);
}

/* the configurations of gen_optim.py */
static nb_optimizer *make_sgd(nb_params *p) { return nb_sgd_new(p, (nb_sgd_options){.lr = 0.01}); }
static nb_optimizer *make_sgd_momentum(nb_params *p)
{
    return nb_sgd_new(p, (nb_sgd_options){.lr = 0.01, .momentum = 0.9});
}
static nb_optimizer *make_sgd_nesterov(nb_params *p)
{
    return nb_sgd_new(p, (nb_sgd_options){.lr = 0.01, .momentum = 0.9, .nesterov = true});
}
static nb_optimizer *make_sgd_weight_decay(nb_params *p)
{
    return nb_sgd_new(p, (nb_sgd_options){.lr = 0.01, .weight_decay = 0.1});
}
static nb_optimizer *make_sgd_dampening(nb_params *p)
{
    return nb_sgd_new(p, (nb_sgd_options){.lr = 0.01, .momentum = 0.9, .dampening = 0.3, .weight_decay = 0.05});
}
static nb_optimizer *make_adam(nb_params *p) { return nb_adam_new(p, (nb_adam_options){.lr = 0.05}); }
static nb_optimizer *make_adam_weight_decay(nb_params *p)
{
    return nb_adam_new(p, (nb_adam_options){.lr = 0.05, .weight_decay = 0.1});
}
static nb_optimizer *make_adam_betas(nb_params *p)
{
    return nb_adam_new(p, (nb_adam_options){.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6});
}
static nb_optimizer *make_adamw(nb_params *p)
{
    return nb_adamw_new(p, (nb_adam_options){.lr = 0.05, .weight_decay = 0.1});
}

Test(optim, sgd_matches_pytorch, .init = nb_test_setup) { check_both_dtypes("sgd", make_sgd, -1); }
Test(optim, sgd_momentum_matches_pytorch, .init = nb_test_setup)
{
    check_both_dtypes("sgd_momentum", make_sgd_momentum, -1);
}
Test(optim, sgd_nesterov_matches_pytorch, .init = nb_test_setup)
{
    check_both_dtypes("sgd_nesterov", make_sgd_nesterov, -1);
}
Test(optim, sgd_weight_decay_matches_pytorch, .init = nb_test_setup)
{
    check_both_dtypes("sgd_weight_decay", make_sgd_weight_decay, -1);
}
Test(optim, sgd_dampening_matches_pytorch, .init = nb_test_setup)
{
    check_both_dtypes("sgd_dampening", make_sgd_dampening, -1);
}
Test(optim, sgd_set_lr_matches_pytorch_schedule, .init = nb_test_setup)
{
    check_both_dtypes("sgd_schedule", make_sgd_momentum, 0.002);
}
Test(optim, adam_defaults_match_pytorch, .init = nb_test_setup) { check_both_dtypes("adam", make_adam, -1); }
Test(optim, adam_weight_decay_matches_pytorch, .init = nb_test_setup)
{
    check_both_dtypes("adam_weight_decay", make_adam_weight_decay, -1);
}
Test(optim, adam_betas_eps_match_pytorch, .init = nb_test_setup)
{
    check_both_dtypes("adam_betas", make_adam_betas, -1);
}
Test(optim, adamw_matches_pytorch, .init = nb_test_setup) { check_both_dtypes("adamw", make_adamw, -1); }
Test(optim, adamw_set_lr_matches_pytorch_schedule, .init = nb_test_setup)
{
    check_both_dtypes("adamw_schedule", make_adamw, 0.01);
}

Test(optim, non_contiguous_parameter_matches_pytorch, .init = nb_test_setup)
{
    check_trajectory("sgd_nesterov", make_sgd_nesterov, -1, NB_FLOAT64, W_TRANSPOSED, 0);
    check_trajectory("adam_weight_decay", make_adam_weight_decay, -1, NB_FLOAT64, W_TRANSPOSED, 0);
    check_trajectory("adamw", make_adamw, -1, NB_FLOAT32, W_TRANSPOSED, 0);
}

Test(optim, parameters_added_after_construction_are_stepped, .init = nb_test_setup)
{
    /* c joins the list at step 5, before it has a grad: the trajectory is the same */
    check_trajectory("adam", make_adam, -1, NB_FLOAT64, CONTIGUOUS, 5);
    check_trajectory("sgd_momentum", make_sgd_momentum, -1, NB_FLOAT64, CONTIGUOUS, 5);
}

/* ---------------------------------------------------------------- skipping, zero_grad, lr */

static bool same_values(const nb_tensor *a, const nb_tensor *b)
{
    size_t n = (size_t)nb_numel(a) * nb_dtype_size(nb_dtype_of(a));
    cr_assert_eq(n, (size_t)nb_numel(b) * nb_dtype_size(nb_dtype_of(b)));
    void *va = malloc(n + 1), *vb = malloc(n + 1);
    cr_assert_eq(nb_copy_to_array(a, va, n), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_copy_to_array(b, vb, n), NB_OK, "%s", nb_last_error());
    bool same = memcmp(va, vb, n) == 0;
    free(va);
    free(vb);
    return same;
}

Test(optim, parameters_without_grad_are_skipped_even_by_weight_decay, .init = nb_test_setup)
{
    nb_optimizer *(*makers[])(nb_params *) = {make_sgd_dampening, make_adam_weight_decay, make_adamw};
    for (size_t m = 0; m < sizeof makers / sizeof makers[0]; m++) {
        problem pr = problem_new(NB_FLOAT64, CONTIGUOUS, true);
        nb_tensor *c0 = nb_clone(pr.c), *w0 = nb_clone(pr.w);
        nb_optimizer *opt = makers[m](pr.params);
        for (int t = 1; t <= 3; t++) {
            nb_scope_begin();
            nb_optimizer_zero_grad(opt);
            forward_backward(&pr, t); /* c is not in the loss yet */
            cr_assert_eq(nb_optimizer_step(opt), NB_OK, "%s", nb_last_error());
            cr_assert_eq(nb_scope_end(), NB_OK);
        }
        cr_assert_null(nb_grad(pr.c));
        cr_assert(same_values(pr.c, c0), "optimizer %zu changed a parameter without a grad", m);
        cr_assert(!same_values(pr.w, w0), "optimizer %zu did not step W", m);
        nb_release(c0);
        nb_release(w0);
        nb_optimizer_free(opt);
        problem_free(&pr);
    }
}

Test(optim, zero_grad_drops_grads_and_params_zero_grad_zeroes_them, .init = nb_test_setup)
{
    problem pr = problem_new(NB_FLOAT64, CONTIGUOUS, true);
    nb_optimizer *opt = make_sgd(pr.params);
    nb_scope_begin();
    forward_backward(&pr, 1);
    nb_scope_end();
    nb_tensor *gw = nb_grad(pr.w);
    cr_assert_not_null(gw);
    nb_scope_begin();
    cr_assert_gt(nb_item(nb_sum(nb_abs(gw))), 0);
    nb_scope_end();
    nb_optimizer_zero_grad(opt); /* PyTorch's set_to_none: the grads are released */
    cr_assert_null(nb_grad(pr.w));
    cr_assert_null(nb_grad(pr.b));
    cr_assert_null(nb_grad(pr.c), "a parameter without a grad still has none");
    nb_tensor *zw = nb_zeros(NB_SHAPE(5, 3), NB_OPTS(NB_FLOAT64));
    nb_tensor *zb = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
    /* nb_params_zero_grad zeroes them in place instead */
    nb_scope_begin();
    forward_backward(&pr, 1);
    nb_scope_end();
    nb_params_zero_grad(pr.params);
    assert_close(nb_grad(pr.w), zw, 0, 0);
    assert_close(nb_grad(pr.b), zb, 0, 0);
    /* a step on zero grads moves nothing (plain SGD) */
    nb_tensor *w0 = nb_clone(pr.w);
    cr_assert_eq(nb_optimizer_step(opt), NB_OK);
    cr_assert(same_values(pr.w, w0));
    nb_release(w0);
    nb_release(zw);
    nb_release(zb);
    nb_optimizer_free(opt);
    problem_free(&pr);
    assert_ok();
}

Test(optim, set_lr_takes_effect_and_refuses_bad_rates, .init = nb_test_setup)
{
    problem pr = problem_new(NB_FLOAT64, CONTIGUOUS, true);
    nb_optimizer *opt = nb_adam_new(pr.params, (nb_adam_options){.lr = 0.05});
    cr_assert_eq(nb_optimizer_lr(opt), 0.05);
    nb_optimizer_set_lr(opt, 0.0);
    assert_ok();
    cr_assert_eq(nb_optimizer_lr(opt), 0.0);
    nb_tensor *w0 = nb_clone(pr.w);
    nb_scope_begin();
    forward_backward(&pr, 1);
    cr_assert_eq(nb_optimizer_step(opt), NB_OK);
    nb_scope_end();
    cr_assert(same_values(pr.w, w0), "lr 0 leaves the parameters unchanged");
    nb_optimizer_set_lr(opt, -0.1);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_optimizer_set_lr", "lr", "-0.1", ">= 0"));
    cr_assert_eq(nb_optimizer_lr(opt), 0.0, "a refused rate leaves the old one");
    nb_optimizer_set_lr(opt, NAN);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_optimizer_set_lr", "lr", "nan"));
    nb_optimizer_set_lr(opt, 0.5);
    cr_assert_eq(nb_optimizer_lr(opt), 0.5);
    nb_optimizer_set_lr(NULL, 0.1);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_optimizer_set_lr", "optimizer"));
    cr_assert(isnan(nb_optimizer_lr(NULL)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_optimizer_lr", "optimizer"));
    nb_release(w0);
    nb_optimizer_free(opt);
    problem_free(&pr);
}

Test(optim, null_optimizer_calls, .init = nb_test_setup)
{
    cr_assert_eq(nb_optimizer_step(NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_optimizer_step", "optimizer"));
    nb_optimizer_zero_grad(NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_optimizer_zero_grad", "optimizer"));
    nb_optimizer_free(NULL);
    assert_ok();
}

/* ---------------------------------------------------------------- option errors */

Test(optim, sgd_refuses_invalid_options, .init = nb_test_setup)
{
    problem pr = problem_new(NB_FLOAT64, CONTIGUOUS, true);
    cr_assert_null(nb_sgd_new(pr.params, (nb_sgd_options){.lr = -0.01}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sgd_new", "invalid lr -0.01"));
    cr_assert_null(nb_sgd_new(pr.params, (nb_sgd_options){.lr = NAN}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sgd_new", "lr"));
    cr_assert_null(nb_sgd_new(pr.params, (nb_sgd_options){.lr = 0.1, .momentum = -0.5}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sgd_new", "invalid momentum -0.5"));
    cr_assert_null(nb_sgd_new(pr.params, (nb_sgd_options){.lr = 0.1, .weight_decay = -1}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sgd_new", "invalid weight_decay -1"));
    cr_assert_null(nb_sgd_new(pr.params, (nb_sgd_options){.lr = 0.1, .nesterov = true}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sgd_new", "nesterov", "momentum 0"));
    cr_assert_null(nb_sgd_new(pr.params, (nb_sgd_options){.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sgd_new", "nesterov", "zero dampening", "dampening 0.1"));
    cr_assert_null(nb_sgd_new(pr.params, (nb_sgd_options){.lr = 0.1, .momentum = 0.9, .dampening = NAN}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_sgd_new", "dampening"));
    cr_assert_null(nb_sgd_new(NULL, (nb_sgd_options){.lr = 0.1}));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_sgd_new", "params"));
    /* lr 0 and dampening without nesterov are valid, as in PyTorch */
    nb_optimizer *ok = nb_sgd_new(pr.params, (nb_sgd_options){.momentum = 0.9, .dampening = 0.5});
    cr_assert_not_null(ok, "%s", nb_last_error());
    nb_optimizer_free(ok);
    problem_free(&pr);
}

Test(optim, adam_and_adamw_refuse_invalid_options, .init = nb_test_setup)
{
    problem pr = problem_new(NB_FLOAT64, CONTIGUOUS, true);
    nb_optimizer *(*ctor[2])(nb_params *, nb_adam_options) = {nb_adam_new, nb_adamw_new};
    const char *name[2] = {"nb_adam_new", "nb_adamw_new"};
    for (int k = 0; k < 2; k++) {
        cr_assert_null(ctor[k](pr.params, (nb_adam_options){.lr = -1e-3}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(name[k], "invalid lr -0.001"));
        cr_assert_null(ctor[k](pr.params, (nb_adam_options){.lr = 1e-3, .beta1 = 1.0}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(name[k], "invalid beta1 1", "[0, 1)"));
        cr_assert_null(ctor[k](pr.params, (nb_adam_options){.lr = 1e-3, .beta1 = -0.1}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(name[k], "invalid beta1 -0.1"));
        cr_assert_null(ctor[k](pr.params, (nb_adam_options){.lr = 1e-3, .beta2 = 1.5}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(name[k], "invalid beta2 1.5", "[0, 1)"));
        cr_assert_null(ctor[k](pr.params, (nb_adam_options){.lr = 1e-3, .eps = -1e-8}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(name[k], "invalid eps -1e-08"));
        cr_assert_null(ctor[k](pr.params, (nb_adam_options){.lr = 1e-3, .weight_decay = -0.01}));
        assert_error(NB_ERR_ARGUMENT, ERR_PARTS(name[k], "invalid weight_decay -0.01"));
        cr_assert_null(ctor[k](NULL, (nb_adam_options){.lr = 1e-3}));
        assert_error(NB_ERR_NULL, ERR_PARTS(name[k], "params"));
    }
    problem_free(&pr);
}

Test(optim, constructors_refuse_parameters_that_cannot_be_stepped, .init = nb_test_setup)
{
    nb_params *p = nb_params_new();
    nb_tensor *w = nb_requires_grad_(nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *labels = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_INT64));
    cr_assert_eq(nb_params_add(p, w), NB_OK);
    cr_assert_eq(nb_params_add(p, labels), NB_OK);
    cr_assert_null(nb_sgd_new(p, (nb_sgd_options){.lr = 0.1}));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_sgd_new", "parameter 1 is int64", "float32, float64, float16 or bfloat16"));

    nb_params *q = nb_params_new();
    nb_tensor *made = nb_mul_scalar(w, 2.0); /* recorded: not a leaf */
    cr_assert_eq(nb_params_add(q, made), NB_OK);
    cr_assert_null(nb_adam_new(q, (nb_adam_options){.lr = 0.1}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_adam_new", "parameter 0 is not a leaf", "MulScalarBackward"));
    nb_release(made);
    nb_params_free(q);
    nb_release(w);
    nb_release(labels);
    nb_params_free(p);
}

/* ---------------------------------------------------------------- parameter lists */

Test(optim, params_list_basics, .init = nb_test_setup)
{
    nb_params *p = nb_params_new();
    cr_assert_eq(nb_params_count(p), 0);
    nb_tensor *a = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_params_add(p, a), NB_OK);
    for (int i = 0; i < 40; i++) { /* grows past its first capacity */
        nb_tensor *t = nb_zeros(NB_SHAPE(1), NB_OPTS(NB_FLOAT32));
        cr_assert_eq(nb_params_add(p, t), NB_OK);
        nb_release(t); /* the list keeps its own reference */
    }
    cr_assert_eq(nb_params_add(p, b), NB_OK);
    cr_assert_eq(nb_params_count(p), 42);
    cr_assert_eq(nb_params_get(p, 0), a);
    cr_assert_eq(nb_params_get(p, 41), b);
    cr_assert_eq(nb_numel(nb_params_get(p, 20)), 1);
    cr_assert_null(nb_params_get(p, 42));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_get", "index 42", "42 parameters"));
    cr_assert_null(nb_params_get(p, -1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_get", "index -1"));
    cr_assert_eq(nb_params_add(p, a), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_add", "already parameter 0"));
    cr_assert_eq(nb_params_add(p, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_add", "tensor"));
    cr_assert_eq(nb_params_add(NULL, a), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_add", "params"));
    cr_assert_eq(nb_params_count(NULL), 0);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_count"));
    nb_params_zero_grad(NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_zero_grad"));
    nb_release(a);
    nb_release(b);
    nb_params_free(p); /* releases the last references (ASan reports leaks) */
    nb_params_free(NULL);
    assert_ok();
}

Test(optim, params_keep_tensors_alive_past_their_scope, .init = nb_test_setup)
{
    nb_params *p = nb_params_new();
    nb_scope_begin();
    nb_tensor *t = nb_full(NB_SHAPE(3), 2.5, NB_OPTS(NB_FLOAT64));
    nb_params_add(p, t);
    nb_scope_end(); /* releases the scope's reference, not the list's */
    double want[3] = {2.5, 2.5, 2.5};
    assert_values(nb_params_get(p, 0), want, 3, 0, 0);
    nb_params_free(p);
}

/* ---------------------------------------------------------------- checkpoints: files */

static char tmp_dir[64];

static void ckpt_setup(void)
{
    nb_test_setup();
    tmpdir_create(tmp_dir, sizeof tmp_dir, "optim");
}

static void ckpt_teardown(void) { tree_remove(tmp_dir); }

/* tmp_dir/name, in a buffer that lives until the fourth call after */
static const char *tmp_path(const char *name) { return path_join(tmp_dir, name); }




/* ---------------------------------------------------------------- checkpoints: a model */

typedef struct model {
    nb_tensor *t[7];
    nb_params *params;
} model;

/* Parameters of every dtype and layout: float32 (2, 3), float64 (4,), int64 (2, 2), bool (5,), a
 * 0-d float64, an empty (0, 3) float32, and a non-contiguous float64 (3, 2) view. Values come from
 * seed so two models differ. */
static model model_new(uint64_t seed)
{
    model m;
    nb_manual_seed(seed);
    m.t[0] = nb_randn(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32, .requires_grad = true));
    m.t[1] = nb_randn(NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    nb_tensor *r = nb_randn(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT64));
    nb_tensor *big = nb_mul_scalar(r, 1000);
    m.t[2] = nb_to_dtype(big, NB_INT64);
    nb_release(r);
    nb_release(big);
    nb_tensor *u = nb_rand(NB_SHAPE(5), NB_OPTS(NB_FLOAT32));
    m.t[3] = nb_gt_scalar(u, 0.5);
    nb_release(u);
    m.t[4] = nb_randn(0, NULL, NB_OPTS(NB_FLOAT64));
    m.t[5] = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *base = nb_randn(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT64));
    m.t[6] = nb_t(base); /* (3, 2), strides (1, 3) */
    nb_release(base);
    m.params = nb_params_new();
    for (int i = 0; i < 7; i++) cr_assert_eq(nb_params_add(m.params, m.t[i]), NB_OK, "%s", nb_last_error());
    cr_assert(!nb_is_contiguous(m.t[6]));
    assert_ok();
    return m;
}

static void model_free(model *m)
{
    for (int i = 0; i < 7; i++) nb_release(m->t[i]);
    nb_params_free(m->params);
}

static bool models_equal(const model *a, const model *b)
{
    for (int i = 0; i < 7; i++)
        if (!same_values(a->t[i], b->t[i])) return false;
    return true;
}

static const char *saved_checkpoint(const char *name)
{
    model m = model_new(1);
    const char *path = tmp_path(name);
    cr_assert_eq(nb_params_save(m.params, path), NB_OK, "%s", nb_last_error());
    model_free(&m);
    return path;
}

/* Loading path into a fresh model is refused with NB_ERR_IO, naming path and fragment, and
 * changes nothing. */
static void assert_load_refused(const char *path, const char *fragment)
{
    model m = model_new(2), ref = model_new(2);
    cr_assert_neq(nb_params_load(m.params, path), NB_OK);
    assert_error(NB_ERR_IO, ERR_PARTS("nb_params_load", path, fragment));
    cr_assert(models_equal(&m, &ref), "a refused load changed a parameter");
    model_free(&m);
    model_free(&ref);
}

Test(optim, checkpoint_round_trip_is_exact, .init = ckpt_setup, .fini = ckpt_teardown)
{
    model a = model_new(1), b = model_new(2);
    cr_assert(!models_equal(&a, &b));
    const char *path = tmp_path("model.ckpt");
    cr_assert_eq(nb_params_save(a.params, path), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_params_load(b.params, path), NB_OK, "%s", nb_last_error());
    cr_assert(models_equal(&a, &b), "loaded values differ from the saved ones");
    cr_assert(!nb_is_contiguous(b.t[6]), "load writes into the tensors, keeping their layout");
    cr_assert(nb_requires_grad(b.t[0]));
    cr_assert_eq(entries_in(tmp_dir), 1, "no temporary file is left behind");
    /* the layout: magic, version 1, count 7, then the first record (float32, 2 dims, 2, 3) */
    size_t n;
    unsigned char *bytes = read_bytes(path, &n);
    const unsigned char head[] = {'N', 'B', 'C', 'K', 'P', 'T', 1, 0, 7, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 3};
    cr_assert(memcmp(bytes, head, sizeof head) == 0, "unexpected checkpoint header");
    /* 12 + records (2 + 8 ndim + data) + 4 */
    size_t want = 12 + (2 + 16 + 24) + (2 + 8 + 32) + (2 + 16 + 32) + (2 + 8 + 5) + 2 + 8 + (2 + 16) + (2 + 16 + 48) + 4;
    cr_assert_eq(n, want);
    free(bytes);
    model_free(&a);
    model_free(&b);
    assert_ok();
}

Test(optim, checkpoint_of_an_empty_list, .init = ckpt_setup, .fini = ckpt_teardown)
{
    nb_params *p = nb_params_new();
    const char *path = tmp_path("empty.ckpt");
    cr_assert_eq(nb_params_save(p, path), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_params_load(p, path), NB_OK, "%s", nb_last_error());
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 16);
    nb_params_free(p);
}

Test(optim, checkpoint_restores_an_optimized_model, .init = ckpt_setup, .fini = ckpt_teardown)
{
    problem pr = problem_new(NB_FLOAT64, CONTIGUOUS, true);
    nb_tensor *w0 = nb_clone(pr.w);
    const char *path = tmp_path("w.ckpt");
    cr_assert_eq(nb_params_save(pr.params, path), NB_OK);
    nb_optimizer *opt = make_adam(pr.params);
    nb_scope_begin();
    forward_backward(&pr, 1);
    nb_optimizer_step(opt);
    nb_scope_end();
    cr_assert(!same_values(pr.w, w0));
    cr_assert_eq(nb_params_load(pr.params, path), NB_OK, "%s", nb_last_error());
    cr_assert(same_values(pr.w, w0));
    /* in grad mode, a leaf that requires grad is still loaded (no-grad inside) */
    cr_assert(nb_is_grad_enabled());
    nb_release(w0);
    nb_optimizer_free(opt);
    problem_free(&pr);
    assert_ok();
}

Test(optim, checkpoint_saved_over_an_old_one_replaces_it, .init = ckpt_setup, .fini = ckpt_teardown)
{
    const char *path = saved_checkpoint("model.ckpt"); /* values of seed 1 */
    model c = model_new(3), check = model_new(4);
    cr_assert_eq(nb_params_save(c.params, path), NB_OK, "%s", nb_last_error());
    cr_assert_eq(entries_in(tmp_dir), 1);
    cr_assert_eq(nb_params_load(check.params, path), NB_OK, "%s", nb_last_error());
    cr_assert(models_equal(&c, &check), "the second save did not replace the first");
    model_free(&c);
    model_free(&check);
}

Test(optim, failed_save_leaves_no_file, .init = ckpt_setup, .fini = ckpt_teardown)
{
    model m = model_new(1);
    const char *missing = tmp_path("no/such/dir/model.ckpt");
    cr_assert_eq(nb_params_save(m.params, missing), NB_ERR_IO);
    assert_error(NB_ERR_IO, ERR_PARTS("nb_params_save", missing, "No such file or directory"));
    cr_assert_eq(access(missing, F_OK), -1);
    cr_assert_eq(entries_in(tmp_dir), 0);
    /* a path that is a directory: the temporary file is written, the rename fails, and the
     * temporary file is removed */
    const char *dir = tmp_path("adir");
    cr_assert_eq(mkdir(dir, 0755), 0);
    cr_assert_eq(nb_params_save(m.params, dir), NB_ERR_IO);
    assert_error(NB_ERR_IO, ERR_PARTS("nb_params_save", dir, "rename"));
    cr_assert_eq(entries_in(tmp_dir), 1, "only the directory remains");
    cr_assert_eq(entries_in(dir), 0);
    cr_assert_eq(nb_params_save(NULL, dir), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_save", "params"));
    cr_assert_eq(nb_params_save(m.params, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_save", "path"));
    model_free(&m);
}

Test(optim, load_refuses_mismatched_lists, .init = ckpt_setup, .fini = ckpt_teardown)
{
    nb_params *p = nb_params_new();
    nb_tensor *w = nb_randn(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_randn(NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
    nb_params_add(p, w);
    nb_params_add(p, b);
    const char *path = tmp_path("wb.ckpt");
    cr_assert_eq(nb_params_save(p, path), NB_OK, "%s", nb_last_error());

    nb_params *shape = nb_params_new();
    nb_tensor *wt = nb_zeros(NB_SHAPE(3, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *bz = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
    nb_params_add(shape, wt);
    nb_params_add(shape, bz);
    cr_assert_eq(nb_params_load(shape, path), NB_ERR_SHAPE);
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_params_load", path, "parameter 0", "[2, 3] in the file", "[3, 2] in the list"));

    nb_params *dtype = nb_params_new();
    nb_tensor *wz = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *b32 = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_params_add(dtype, wz);
    nb_params_add(dtype, b32);
    cr_assert_eq(nb_params_load(dtype, path), NB_ERR_DTYPE);
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_params_load", path, "parameter 1", "float64 in the file", "float32 in the list"));
    /* nothing was written into parameter 0, although it matched */
    nb_tensor *z = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    cr_assert(same_values(wz, z));

    nb_params *count = nb_params_new();
    nb_params_add(count, wz);
    cr_assert_eq(nb_params_load(count, path), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_load", path, "holds 2 parameters", "list has 1"));
    nb_params_add(count, bz);
    nb_params_add(count, wt);
    cr_assert_eq(nb_params_load(count, path), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_load", "holds 2 parameters", "list has 3"));

    nb_tensor *ts[] = {w, b, wt, bz, wz, b32, z};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) nb_release(ts[i]);
    nb_params_free(p);
    nb_params_free(shape);
    nb_params_free(dtype);
    nb_params_free(count);
}

Test(optim, load_refuses_missing_and_odd_paths, .init = ckpt_setup, .fini = ckpt_teardown, .timeout = 10)
{
    assert_load_refused(tmp_path("missing.ckpt"), "cannot open");
    assert_load_refused(tmp_dir, "not a regular file");
    cr_assert_eq(mkfifo(tmp_path("pipe.ckpt"), 0600), 0); /* refused at once, never waited on */
    assert_load_refused(tmp_path("pipe.ckpt"), "a FIFO");
    nb_params *p = nb_params_new();
    cr_assert_eq(nb_params_load(p, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_load", "path"));
    cr_assert_eq(nb_params_load(NULL, "x"), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_load", "params"));
    nb_params_free(p);
}

Test(optim, load_refuses_bad_magic_version_and_checksum, .init = ckpt_setup, .fini = ckpt_teardown)
{
    const char *path = saved_checkpoint("good.ckpt");
    size_t n;
    unsigned char *good = read_bytes(path, &n);
    unsigned char *bad = malloc(n + 8);
    const char *bad_path = tmp_path("bad.ckpt");

    memcpy(bad, good, n);
    bad[0] = 'X';
    write_file(bad_path, bad, n);
    assert_load_refused(bad_path, "does not start with the magic NBCKPT");

    memcpy(bad, good, n);
    bad[6] = 2; /* version 2 */
    write_file(bad_path, bad, n);
    assert_load_refused(bad_path, "unsupported checkpoint version 2");

    memcpy(bad, good, n);
    bad[n - 10] ^= 0x40; /* a value in the last tensor */
    write_file(bad_path, bad, n);
    assert_load_refused(bad_path, "checksum mismatch");

    memcpy(bad, good, n);
    bad[n - 1] ^= 0x01; /* the checksum itself */
    write_file(bad_path, bad, n);
    assert_load_refused(bad_path, "checksum mismatch");

    memcpy(bad, good, n);
    memset(bad + n, 0, 8); /* trailing bytes */
    write_file(bad_path, bad, n + 8);
    assert_load_refused(bad_path, "unexpected bytes");

    write_file(bad_path, "", 0);
    assert_load_refused(bad_path, "does not start with the magic");

    free(good);
    free(bad);
}

Test(optim, load_refuses_every_truncation, .init = ckpt_setup, .fini = ckpt_teardown)
{
    const char *path = saved_checkpoint("good.ckpt");
    size_t n;
    unsigned char *good = read_bytes(path, &n);
    const char *cut = tmp_path("cut.ckpt");
    model m = model_new(2), ref = model_new(2);
    for (size_t len = 0; len < n; len++) {
        write_file(cut, good, len);
        cr_assert_eq(nb_params_load(m.params, cut), NB_ERR_IO, "a file cut to %zu of %zu bytes was accepted", len, n);
        const char *msg = nb_last_error();
        cr_assert(strstr(msg, cut) != NULL, "%s", msg);
        cr_assert(len < 6 || strstr(msg, "truncated") || strstr(msg, "checksum") || strstr(msg, "corrupt"),
                  "cut to %zu bytes: %s", len, msg);
        nb_clear_error();
    }
    cr_assert(models_equal(&m, &ref), "a refused load changed a parameter");
    /* a cut inside the data of the second tensor names it */
    write_file(cut, good, 12 + 42 + 20);
    assert_load_refused(cut, "truncated: tensor 1 (float64 [4]) needs 32 bytes");
    model_free(&m);
    model_free(&ref);
    free(good);
}

/* A version-1 file with one record (dtype code, ndim, sizes) and no data or checksum after it. */
static void write_record_file(const char *path, unsigned char code, unsigned char ndim, const uint64_t *sizes)
{
    unsigned char b[12 + 2 + 8 * 16 + 4] = {'N', 'B', 'C', 'K', 'P', 'T', 1, 0, 1, 0, 0, 0, code, ndim};
    size_t n = 14;
    for (int d = 0; d < ndim && d < 16; d++, n += 8)
        for (int k = 0; k < 8; k++) b[n + (size_t)k] = (unsigned char)(sizes[d] >> (8 * k));
    n += 4; /* room a checksum would take */
    write_file(path, b, n);
}

Test(optim, load_refuses_corrupt_records_without_allocating, .init = ckpt_setup, .fini = ckpt_teardown)
{
    const char *path = tmp_path("rec.ckpt");
    uint64_t sizes[16] = {2, 3};
    write_record_file(path, 9, 2, sizes);
    assert_load_refused(path, "unknown dtype code 9");
    write_record_file(path, 0, 12, sizes);
    assert_load_refused(path, "12 dims");
    sizes[0] = UINT64_MAX; /* -1 */
    write_record_file(path, 1, 2, sizes);
    assert_load_refused(path, "negative size");
    sizes[0] = (uint64_t)1 << 44; /* 2^47 bytes */
    write_record_file(path, 1, 2, sizes);
    assert_load_refused(path, "absurd shape");
    sizes[0] = (uint64_t)1 << 30; /* 24 GiB of float64: within limits, but not in the file */
    write_record_file(path, 1, 2, sizes);
    assert_load_refused(path, "truncated");
    /* a count of 2^32 - 1 in a tiny file */
    unsigned char huge[] = {'N', 'B', 'C', 'K', 'P', 'T', 1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0};
    write_file(path, huge, sizeof huge);
    assert_load_refused(path, "truncated");
}

Test(optim, load_refuses_random_bytes, .init = ckpt_setup, .fini = ckpt_teardown)
{
    const char *path = tmp_path("random.ckpt");
    srand(12345);
    unsigned char buf[512];
    model m = model_new(2), ref = model_new(2);
    for (int trial = 0; trial < 200; trial++) {
        size_t n = (size_t)(rand() % (int)sizeof buf);
        for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)rand();
        if (trial % 2 && n >= 8) memcpy(buf, "NBCKPT\x01\x00", 8); /* get past the magic and version */
        if (trial % 4 == 1 && n >= 14) buf[8] = 7, buf[9] = buf[10] = buf[11] = 0, buf[12] %= 4, buf[13] %= 9;
        write_file(path, buf, n);
        cr_assert_eq(nb_params_load(m.params, path), NB_ERR_IO, "trial %d (%zu random bytes) was accepted", trial, n);
        cr_assert(strstr(nb_last_error(), "nb_params_load") != NULL, "%s", nb_last_error());
        nb_clear_error();
    }
    cr_assert(models_equal(&m, &ref), "a refused load changed a parameter");
    model_free(&m);
    model_free(&ref);
}
