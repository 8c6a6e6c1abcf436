/* test_batch_norm.c — nb_batch_norm (suite nn): values, the gradients of the input, weight and
 * bias, and the running statistics against PyTorch's F.batch_norm (golden/batch_norm, made by
 * golden/gen_batch_norm.py) in both dtypes, training and eval, with and without affine
 * parameters, (N, C) and (N, C, H, W) inputs, non-contiguous inputs, several steps, empty
 * batches, and every error. */
#include "files.h"
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

/* golden/batch_norm/NAME_TAG.npy */
static nb_tensor *gold(const char *name, const char *tag)
{
    char path[128];
    snprintf(path, sizeof path, "batch_norm/%s_%s", name, tag);
    return golden(path);
}

static nb_tensor *leaf(nb_tensor *t) { return nb_requires_grad_(nb_detach(t), true); }

typedef struct bn_case {
    const char *name;                 /* golden prefix */
    const char *x, *w, *b, *gy;       /* golden inputs (w, b may be NULL) */
    const char *rm, *rv;              /* running statistics, or NULL */
    bool training;
    double momentum, eps;
} bn_case;

static const bn_case bn_cases[] = {
    {"t2", "x2", "w5", "b5", "gy2", "rm5", "rv5", true, 0.1, 1e-5},
    {"t2_plain", "x2", NULL, NULL, "gy2", NULL, NULL, true, 0.1, 1e-5},
    {"t4", "x4", "w4", "b4", "gy4", "rm4", "rv4", true, 0.1, 1e-5},
    {"t4_plain", "x4", NULL, NULL, "gy4", "rm4", "rv4", true, 0.25, 1e-3},
    {"t4_w", "x4", "w4", NULL, "gy4", NULL, NULL, true, 0.1, 1e-5},
    {"e2", "x2", "w5", "b5", "gy2", "rm5", "rv5", false, 0.1, 1e-5},
    {"e4", "x4", "w4", "b4", "gy4", "rm4", "rv4", false, 0.1, 1e-5},
    {"e4_plain", "x4", NULL, NULL, "gy4", "rm4", "rv4", false, 0.1, 1e-3},
};

static void check_case(const dtype_case *c, const bn_case *k, bool strided)
{
    nb_scope_begin();
    char want[64];
    nb_tensor *in[3] = {0};
    const char *names[3] = {k->x, k->w, k->b};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (!names[i]) continue;
        nb_tensor *v = gold(names[i], c->tag);
        in[n] = leaf(strided ? noncontig(v) : v);
        if (strided) cr_assert(!nb_is_contiguous(in[n]));
        n++;
    }
    nb_tensor *rm = k->rm ? nb_clone(gold(k->rm, c->tag)) : NULL;
    nb_tensor *rv = k->rv ? nb_clone(gold(k->rv, c->tag)) : NULL;
    nb_tensor *y = nb_batch_norm(in[0], rm, rv, k->w ? in[1] : NULL, k->b ? in[n - 1] : NULL, k->training,
                                 k->momentum, k->eps);
    cr_assert(y != NULL, "%s: %s", k->name, nb_last_error());
    cr_assert_str_eq(nb_grad_fn_name(y), "NativeBatchNormBackward");
    snprintf(want, sizeof want, "%s_y", k->name);
    assert_close(y, gold(want, c->tag), c->rtol, c->atol);
    if (rm) {
        snprintf(want, sizeof want, "%s_rm", k->name);
        assert_close(rm, gold(want, c->tag), c->rtol, c->atol);
        snprintf(want, sizeof want, "%s_rv", k->name);
        assert_close(rv, gold(want, c->tag), c->rtol, c->atol);
    }
    nb_tensor *grads[3] = {0};
    nb_tensor *g = gold(k->gy, c->tag);
    cr_assert_eq(nb_grad_of(1, &y, &g, n, in, grads, false), NB_OK, "%s: %s", k->name, nb_last_error());
    for (int i = 0; i < n; i++) {
        snprintf(want, sizeof want, "%s_g%d", k->name, i);
        assert_close(grads[i], gold(want, c->tag), c->rtol * 10, c->atol * 10);
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, batch_norm_matches_pytorch, .init = nb_test_setup)
{
    for (int d = 0; d < 2; d++)
        for (size_t k = 0; k < sizeof bn_cases / sizeof bn_cases[0]; k++)
            for (int strided = 0; strided < 2; strided++) check_case(&cases[d], &bn_cases[k], strided);
}

Test(nn, batch_norm_keeps_the_variance_of_values_with_a_large_offset, .init = nb_test_setup)
{
    /* values 1e4 +- 1e-2: a one-pass variance would cancel to nothing; x - mean itself is known
     * only to about 1e-16 * 1e4 / 1e-2 in float64 (float32: its input rounding is the same in
     * PyTorch's computation) */
    const dtype_case loose[2] = {{"f32", NB_FLOAT32, 1e-4, 1e-4}, {"f64", NB_FLOAT64, 1e-8, 1e-8}};
    const bn_case k = {"toff", "xoff", NULL, NULL, "gyoff", NULL, NULL, true, 0.1, 1e-5};
    for (int d = 0; d < 2; d++) check_case(&loose[d], &k, false);
}

Test(nn, batch_norm_running_statistics_over_several_steps, .init = nb_test_setup)
{
    for (int d = 0; d < 2; d++) {
        const dtype_case *c = &cases[d];
        nb_scope_begin();
        nb_tensor *rm = nb_clone(gold("rm4", c->tag)), *rv = nb_clone(gold("rv4", c->tag));
        nb_tensor *x = gold("x4", c->tag), *w = gold("w4", c->tag), *b = gold("b4", c->tag);
        nb_tensor *xs[3] = {x, nb_add_scalar(nb_mul_scalar(x, 2), 1), nb_add_scalar(x, -3)};
        for (int step = 1; step <= 3; step++) {
            char name[32];
            nb_tensor *y = nb_batch_norm(xs[step - 1], rm, rv, w, b, true, 0.3, 1e-5);
            snprintf(name, sizeof name, "steps_y%d", step);
            assert_close(y, gold(name, c->tag), c->rtol * 10, c->atol * 10);
            snprintf(name, sizeof name, "steps_rm%d", step);
            assert_close(rm, gold(name, c->tag), c->rtol, c->atol);
            snprintf(name, sizeof name, "steps_rv%d", step);
            assert_close(rv, gold(name, c->tag), c->rtol, c->atol);
        }
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
}

Test(nn, batch_norm_of_an_expanded_input_matches_its_copy, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_expand(nb_narrow(gold("x4", "f64"), 0, 1, 1), NB_SHAPE(3, 4, 5, 6)); /* stride 0 */
    nb_tensor *w = gold("w4", "f64");
    assert_close(nb_batch_norm(x, NULL, NULL, w, NULL, true, 0.1, 1e-5),
                 nb_batch_norm(nb_contiguous(x), NULL, NULL, w, NULL, true, 0.1, 1e-5), 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, batch_norm_of_empty_batches, .init = nb_test_setup)
{
    nb_scope_begin();
    /* no samples: an empty result, the running statistics unchanged, zero weight and bias
     * gradients (as PyTorch 1.13) */
    nb_tensor *x = leaf(nb_zeros(NB_SHAPE(0, 3, 2), NB_OPTS(NB_FLOAT64)));
    nb_tensor *w = leaf(nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT64)));
    nb_tensor *b = leaf(nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT64)));
    nb_tensor *rm = nb_full(NB_SHAPE(3), 0.5, NB_OPTS(NB_FLOAT64)), *rv = nb_full(NB_SHAPE(3), 2, NB_OPTS(NB_FLOAT64));
    nb_tensor *y = nb_batch_norm(x, rm, rv, w, b, true, 0.1, 1e-5);
    cr_assert_not_null(y, "%s", nb_last_error());
    cr_assert_eq(nb_numel(y), 0);
    assert_values(rm, (const double[]){0.5, 0.5, 0.5}, 3, 0, 0);
    assert_values(rv, (const double[]){2, 2, 2}, 3, 0, 0);
    nb_tensor *grads[3] = {0}, *in[3] = {x, w, b};
    nb_tensor *g = nb_zeros(NB_SHAPE(0, 3, 2), NB_OPTS(NB_FLOAT64));
    cr_assert_eq(nb_grad_of(1, &y, &g, 3, in, grads, false), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_numel(grads[0]), 0);
    assert_values(grads[1], (const double[]){0, 0, 0}, 3, 0, 0);
    assert_values(grads[2], (const double[]){0, 0, 0}, 3, 0, 0);
    /* no channels */
    nb_tensor *none = nb_batch_norm(nb_zeros(NB_SHAPE(4, 0), NB_OPTS(NB_FLOAT32)), NULL, NULL, NULL, NULL, true, 0.1,
                                    1e-5);
    cr_assert_not_null(none, "%s", nb_last_error());
    cr_assert_eq(nb_numel(none), 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, batch_norm_propagates_nan_in_its_channel_only, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_from_array((const double[]){1, NAN, 2, 3, 4, 5}, NB_SHAPE(3, 2), NB_OPTS(NB_FLOAT64));
    nb_tensor *y = nb_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1, 0);
    double v[6];
    cr_assert_eq(nb_copy_to_array(y, v, sizeof v), NB_OK);
    for (int i = 0; i < 3; i++) {
        cr_assert(!isnan(v[2 * i]), "channel 0 element %d is NaN", i);
        cr_assert(isnan(v[2 * i + 1]), "channel 1 element %d is not NaN", i);
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, batch_norm_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_zeros(NB_SHAPE(4, 3, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *c3 = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), *c4 = nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    nb_tensor *d3 = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT64));

    cr_assert_null(nb_batch_norm(NULL, NULL, NULL, NULL, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_batch_norm", "input"));
    cr_assert_null(nb_batch_norm(nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), NULL, NULL, NULL, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_batch_norm", "2 or more dims", "[3]"));
    cr_assert_null(nb_batch_norm(nb_zeros(NB_SHAPE(4, 3), NB_OPTS(NB_INT64)), NULL, NULL, NULL, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_batch_norm", "float32 or float64", "int64"));
    /* wrong channel counts, each per-channel tensor */
    cr_assert_null(nb_batch_norm(x, NULL, NULL, c4, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_batch_norm", "weight", "[3]", "[4]"));
    cr_assert_null(nb_batch_norm(x, NULL, NULL, NULL, c4, true, 0.1, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_batch_norm", "bias", "[3]", "[4]"));
    cr_assert_null(nb_batch_norm(x, c4, c3, NULL, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_batch_norm", "running_mean", "[3]", "[4]"));
    cr_assert_null(nb_batch_norm(x, c3, c4, NULL, NULL, false, 0.1, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_batch_norm", "running_var", "[3]", "[4]"));
    cr_assert_null(nb_batch_norm(x, NULL, NULL, nb_ones(NB_SHAPE(1, 3), NB_OPTS(NB_FLOAT32)), NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_batch_norm", "weight", "[1, 3]"));
    /* dtypes */
    cr_assert_null(nb_batch_norm(x, NULL, NULL, d3, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_batch_norm", "weight", "float32", "float64"));
    cr_assert_null(nb_batch_norm(x, d3, c3, NULL, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_batch_norm", "running_mean", "float32", "float64"));
    /* eval needs the running statistics */
    cr_assert_null(nb_batch_norm(x, NULL, NULL, NULL, NULL, false, 0.1, 1e-5));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_batch_norm", "evaluation mode", "neither"));
    cr_assert_null(nb_batch_norm(x, c3, NULL, NULL, NULL, false, 0.1, 1e-5));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_batch_norm", "evaluation mode", "no running_var"));
    /* one value per channel when training, as PyTorch's message */
    cr_assert_null(nb_batch_norm(nb_zeros(NB_SHAPE(1, 3), NB_OPTS(NB_FLOAT32)), NULL, NULL, NULL, NULL, true, 0.1,
                                 1e-5));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_batch_norm", "expected more than 1 value per channel when training",
                                            "[1, 3]"));
    cr_assert_null(nb_batch_norm(nb_zeros(NB_SHAPE(1, 3, 1, 1), NB_OPTS(NB_FLOAT32)), c3, c3, NULL, NULL, true, 0.1,
                                 1e-5));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_batch_norm", "more than 1 value per channel", "[1, 3, 1, 1]"));
    /* ... which eval allows */
    nb_tensor *one = nb_batch_norm(nb_zeros(NB_SHAPE(1, 3), NB_OPTS(NB_FLOAT32)), c3, c3, NULL, NULL, false, 0.1, 1e-5);
    cr_assert_not_null(one, "%s", nb_last_error());
    /* running statistics updated in place must be contiguous */
    nb_tensor *strided = nb_select(nb_ones(NB_SHAPE(3, 2), NB_OPTS(NB_FLOAT32)), 1, 0); /* (3,), stride 2 */
    cr_assert_null(nb_batch_norm(x, strided, NULL, NULL, NULL, true, 0.1, 1e-5));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_batch_norm", "running_mean", "contiguous"));
    cr_assert_null(nb_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1, -1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_batch_norm", "eps >= 0", "-1"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- layers */

Test(nn, batch_norm2d_layer_defaults_and_forward, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_batch_norm2d *l = nb_batch_norm2d_new(4, NB_OPTS(NB_FLOAT64));
    cr_assert_not_null(l, "%s", nb_last_error());
    cr_assert_eq(l->num_features, 4);
    cr_assert_eq(l->momentum, 0.1);
    cr_assert_eq(l->eps, 1e-5);
    cr_assert(l->training);
    cr_assert(nb_requires_grad(l->weight) && nb_requires_grad(l->bias));
    cr_assert(!nb_requires_grad(l->running_mean) && !nb_requires_grad(l->running_var));
    assert_values(l->weight, (const double[]){1, 1, 1, 1}, 4, 0, 0);
    assert_values(l->bias, (const double[]){0, 0, 0, 0}, 4, 0, 0);
    assert_values(l->running_mean, (const double[]){0, 0, 0, 0}, 4, 0, 0);
    assert_values(l->running_var, (const double[]){1, 1, 1, 1}, 4, 0, 0);
    /* training: F.batch_norm with the layer's tensors, the running statistics updated */
    nb_tensor *x = gold("x4", "f64");
    nb_tensor *rm = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT64)), *rv = nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    nb_tensor *want = nb_batch_norm(x, rm, rv, NULL, NULL, true, 0.1, 1e-5);
    nb_tensor *y = nb_batch_norm2d_forward(l, x);
    assert_close(y, want, 0, 0);
    cr_assert_str_eq(nb_grad_fn_name(y), "NativeBatchNormBackward");
    assert_close(l->running_mean, rm, 0, 0);
    assert_close(l->running_var, rv, 0, 0);
    /* the gradients reach the layer's weight and bias */
    cr_assert_eq(nb_backward(nb_sum(nb_mul(y, gold("gy4", "f64")))), NB_OK, "%s", nb_last_error());
    assert_close(nb_grad(l->weight), nb_sum_dims(nb_mul(want, gold("gy4", "f64")), NB_DIMS(0, 2, 3), false), 1e-10,
                 1e-12);
    assert_close(nb_grad(l->bias), nb_sum_dims(gold("gy4", "f64"), NB_DIMS(0, 2, 3), false), 1e-10, 1e-12);
    /* eval: the running statistics, which stay */
    l->training = false;
    assert_close(nb_batch_norm2d_forward(l, x), nb_batch_norm(x, rm, rv, NULL, NULL, false, 0.1, 1e-5), 0, 0);
    assert_close(l->running_mean, rm, 0, 0);
    nb_batch_norm2d_free(l);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, params_train_switches_every_layer_that_cares, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_params *p = nb_params_new();
    nb_batch_norm2d *bn = nb_batch_norm2d_new(4, NB_OPTS(NB_FLOAT32));
    nb_dropout_layer *drop = nb_dropout_layer_new(0.5);
    cr_assert(nb_params_training(p));
    cr_assert_eq(nb_batch_norm2d_params(bn, p), NB_OK);
    cr_assert_eq(nb_dropout_layer_params(drop, p), NB_OK);
    cr_assert_eq(nb_params_count(p), 2); /* weight and bias; dropout has none */
    nb_params_train(p, false);
    cr_assert(!nb_params_training(p) && !bn->training && !drop->training);
    /* eval: dropout is the identity, batch norm uses its running statistics (0 and 1) */
    nb_tensor *x = gold("x4", "f32");
    assert_close(nb_dropout_layer_forward(drop, x), x, 0, 0);
    assert_close(nb_batch_norm2d_forward(bn, x), nb_div_scalar(x, sqrt(1 + 1e-5)), 1e-6, 1e-7);
    assert_values(bn->running_mean, (const double[]){0, 0, 0, 0}, 4, 0, 0);
    nb_params_train(p, true);
    cr_assert(bn->training && drop->training);
    nb_tensor *dropped = nb_dropout_layer_forward(drop, x);
    cr_assert_gt(nb_item(nb_sum(nb_eq_scalar(dropped, 0))), 0);
    /* a layer added after nb_params_train(false) joins in eval */
    nb_params_train(p, false);
    nb_dropout_layer *late = nb_dropout_layer_new(0.2);
    cr_assert(late->training);
    cr_assert_eq(nb_dropout_layer_params(late, p), NB_OK);
    cr_assert(!late->training);
    nb_params_free(p);
    nb_batch_norm2d_free(bn);
    nb_dropout_layer_free(drop);
    nb_dropout_layer_free(late);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, batch_norm2d_buffers_round_trip_through_a_checkpoint, .init = nb_test_setup)
{
    nb_scope_begin();
    char dir[64];
    tmpdir_create(dir, sizeof dir, "batch_norm");
    const char *path = path_join(dir, "bn.ckpt");
    nb_batch_norm2d *a = nb_batch_norm2d_new(4, NB_OPTS(NB_FLOAT32)), *b = nb_batch_norm2d_new(4, NB_OPTS(NB_FLOAT32));
    cr_assert_not_null(nb_batch_norm2d_forward(a, gold("x4", "f32")), "%s", nb_last_error());
    nb_params *pa = nb_params_new(), *pb = nb_params_new();
    cr_assert_eq(nb_batch_norm2d_params(a, pa), NB_OK);
    cr_assert_eq(nb_batch_norm2d_buffers(a, pa), NB_OK);
    cr_assert_eq(nb_batch_norm2d_params(b, pb), NB_OK);
    cr_assert_eq(nb_batch_norm2d_buffers(b, pb), NB_OK);
    cr_assert_eq(nb_params_count(pa), 4);
    cr_assert_eq(nb_params_save(pa, path), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_params_load(pb, path), NB_OK, "%s", nb_last_error());
    assert_close(b->running_mean, a->running_mean, 0, 0);
    assert_close(b->running_var, a->running_var, 0, 0);
    cr_assert_gt(nb_item(nb_sum(nb_abs(a->running_mean))), 0); /* the forward changed them */
    tree_remove(dir);
    nb_params_free(pa);
    nb_params_free(pb);
    nb_batch_norm2d_free(a);
    nb_batch_norm2d_free(b);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, layer_errors, .init = nb_test_setup)
{
    cr_assert_null(nb_batch_norm2d_new(0, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_batch_norm2d_new", "num_features", "0"));
    cr_assert_null(nb_batch_norm2d_new(3, NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_batch_norm2d_new", "int64"));
    cr_assert_null(nb_dropout_layer_new(1.5));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_dropout_layer_new", "between 0 and 1", "1.5"));
    cr_assert_null(nb_dropout_layer_forward(NULL, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_dropout_layer_forward", "layer"));
    nb_scope_begin();
    nb_batch_norm2d *l = nb_batch_norm2d_new(3, NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_batch_norm2d_forward(l, nb_zeros(NB_SHAPE(4, 3, 5), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_batch_norm2d_forward", "4-D input (N, 3, H, W)", "[4, 3, 5]"));
    cr_assert_null(nb_batch_norm2d_forward(l, nb_zeros(NB_SHAPE(4, 2, 5, 5), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_batch_norm", "weight", "[2]", "[3]"));
    cr_assert_null(nb_batch_norm2d_forward(l, nb_zeros(NB_SHAPE(1, 3, 1, 1), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_batch_norm", "more than 1 value per channel"));
    cr_assert_eq(nb_batch_norm2d_params(l, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_batch_norm2d_params", "params"));
    nb_batch_norm2d_free(l);
    cr_assert_eq(nb_scope_end(), NB_OK);
}
