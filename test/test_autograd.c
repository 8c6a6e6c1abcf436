/* test_autograd.c — recording, backward, accumulation, modes, in-place rules, version checks,
 * functional gradients and graph memory. Each test runs in a scope, which releases what it made. */
#include "helpers.h"

#include <math.h>

static nb_tensor *leaf(int ndim, const int64_t *shape, const double *values)
{
    nb_tensor *t = values ? nb_from_array(values, ndim, shape, NB_OPTS(NB_FLOAT64))
                          : nb_randn(ndim, shape, NB_OPTS(NB_FLOAT64));
    return nb_requires_grad_(t, true);
}

static void setup(void)
{
    nb_test_setup();
    nb_scope_begin();
}

static void teardown(void) { nb_scope_end(); }

TestSuite(autograd, .init = setup, .fini = teardown);

Test(autograd, square_sum_gradient)
{
    const double v[] = {1, -2, 3};
    nb_tensor *x = leaf(NB_SHAPE(3), v);
    nb_tensor *y = nb_mul(x, x);
    nb_tensor *loss = nb_sum(y);
    cr_assert(nb_requires_grad(loss));
    cr_assert_str_eq(nb_grad_fn_name(loss), "SumBackward");
    cr_assert(nb_is_leaf(x) && !nb_is_leaf(y));
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    const double want[] = {2, -4, 6};
    assert_values(nb_grad(x), want, 3, 0, 0);
}

Test(autograd, gradients_accumulate_and_zero)
{
    const double v[] = {1, 2};
    nb_tensor *x = leaf(NB_SHAPE(2), v);
    nb_tensor *loss = nb_sum(nb_mul_scalar(x, 3.0));
    cr_assert_eq(nb_backward_ex(loss, NULL, true), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_backward_ex(loss, NULL, true), NB_OK, "%s", nb_last_error());
    const double six[] = {6, 6};
    assert_values(nb_grad(x), six, 2, 0, 0);
    cr_assert_eq(nb_zero_grad(x), NB_OK);
    const double zero[] = {0, 0};
    assert_values(nb_grad(x), zero, 2, 0, 0);
    nb_tensor *loss2 = nb_sum(nb_mul(x, x));
    cr_assert_eq(nb_backward(loss2), NB_OK);
    const double twice[] = {2, 4};
    assert_values(nb_grad(x), twice, 2, 0, 0);
}

Test(autograd, second_backward_through_freed_graph_is_refused)
{
    nb_tensor *x = leaf(NB_SHAPE(3), NULL);
    nb_tensor *loss = nb_sum(nb_mul(x, x));
    cr_assert_eq(nb_backward(loss), NB_OK);
    cr_assert_eq(nb_backward(loss), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("MulBackward", "nb_mul", "retain_graph"));
}

Test(autograd, backward_without_grad_is_refused)
{
    nb_tensor *x = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT64));
    nb_tensor *loss = nb_sum(x);
    cr_assert_eq(nb_backward(loss), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_backward", "does not require grad", "no-grad"));
    nb_tensor *w = leaf(NB_SHAPE(2), NULL);
    nb_no_grad_begin();
    nb_tensor *quiet = nb_sum(nb_mul(w, w));
    nb_no_grad_end();
    cr_assert(!nb_requires_grad(quiet));
    cr_assert_eq(nb_backward(quiet), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("probably computed under no-grad"));
}

Test(autograd, non_scalar_backward_needs_a_gradient)
{
    nb_tensor *x = leaf(NB_SHAPE(2, 2), NULL);
    nb_tensor *y = nb_mul_scalar(x, 2.0);
    cr_assert_eq(nb_backward(y), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("one-element", "[2, 2]"));
    const double g[] = {1, 2, 3, 4};
    nb_tensor *gy = nb_from_array(g, NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT64));
    cr_assert_eq(nb_backward_ex(y, gy, false), NB_OK, "%s", nb_last_error());
    const double want[] = {2, 4, 6, 8};
    assert_values(nb_grad(x), want, 4, 0, 0);
    nb_tensor *bad = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
    nb_tensor *y2 = nb_mul_scalar(x, 2.0);
    cr_assert_eq(nb_backward_ex(y2, bad, false), NB_ERR_SHAPE);
    assert_error(NB_ERR_SHAPE, ERR_PARTS("[3]", "[2, 2]"));
}

Test(autograd, grad_of_non_leaf_is_refused)
{
    nb_tensor *x = leaf(NB_SHAPE(2), NULL);
    nb_tensor *y = nb_mul_scalar(x, 2.0);
    cr_assert_null(nb_grad(y));
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_grad", "not a leaf", "nb_mul_scalar"));
    cr_assert_null(nb_grad(x)); /* a leaf before any backward: no gradient yet, no error */
    assert_ok();
}

Test(autograd, no_grad_scopes_nest)
{
    nb_tensor *x = leaf(NB_SHAPE(2), NULL);
    cr_assert(nb_is_grad_enabled());
    nb_no_grad_begin();
    nb_no_grad_begin();
    cr_assert(!nb_is_grad_enabled());
    nb_no_grad_end();
    cr_assert(!nb_is_grad_enabled());
    nb_tensor *y = nb_add(x, x);
    cr_assert(!nb_requires_grad(y) && nb_grad_fn_name(y) == NULL);
    nb_no_grad_end();
    cr_assert(nb_is_grad_enabled());
    nb_no_grad_end();
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_no_grad_end"));
}

Test(autograd, detach_shares_storage_without_history)
{
    nb_tensor *x = leaf(NB_SHAPE(3), NULL);
    nb_tensor *y = nb_mul_scalar(x, 2.0);
    nb_tensor *d = nb_detach(y);
    cr_assert(!nb_requires_grad(d) && nb_is_leaf(d));
    cr_assert_eq(nb_data(d), nb_data(y));
    nb_fill_(d, 7.0);
    const double sevens[] = {7, 7, 7};
    assert_values(y, sevens, 3, 0, 0);
}

Test(autograd, requires_grad_rules)
{
    nb_tensor *i = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_INT64));
    cr_assert_null(nb_requires_grad_(i, true));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("floating point", "int64"));
    nb_tensor *x = leaf(NB_SHAPE(2), NULL);
    nb_tensor *y = nb_neg(x);
    cr_assert_null(nb_requires_grad_(y, false));
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("only leaves", "nb_neg"));
}

Test(autograd, inplace_on_leaf_is_refused_outside_no_grad)
{
    nb_tensor *w = leaf(NB_SHAPE(2), NULL);
    nb_tensor *g = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT64));
    cr_assert_null(nb_sub_scaled_(w, g, 0.1));
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_sub_scaled_", "leaf", "requires grad"));
    nb_no_grad_begin();
    cr_assert_eq(nb_sub_scaled_(w, g, 0.5), w);
    nb_no_grad_end();
    assert_ok();
}

Test(autograd, inplace_on_non_leaf_is_recorded)
{
    const double v[] = {1, 2, 3};
    nb_tensor *x = leaf(NB_SHAPE(3), v);
    nb_tensor *y = nb_mul_scalar(x, 3.0); /* 3x */
    cr_assert_eq(nb_mul_(y, x), y);       /* 3x^2 */
    cr_assert_eq(nb_add_scalar_(y, 1.0), y);
    cr_assert_str_eq(nb_grad_fn_name(y), "AddScalarBackward");
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK, "%s", nb_last_error());
    const double want[] = {6, 12, 18};
    assert_values(nb_grad(x), want, 3, 1e-12, 0);
}

Test(autograd, masked_fill_inplace_and_fill_cut_gradients)
{
    const double v[] = {-1, 2, -3, 4};
    nb_tensor *x = leaf(NB_SHAPE(4), v);
    nb_tensor *y = nb_mul_scalar(x, 1.0);
    nb_tensor *neg = nb_lt_scalar(x, 0);
    nb_masked_fill_(y, neg, 0);
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK, "%s", nb_last_error());
    const double want[] = {0, 1, 0, 1};
    assert_values(nb_grad(x), want, 4, 0, 0);
    nb_tensor *z = nb_mul_scalar(x, 2.0);
    nb_fill_(z, 5.0);
    cr_assert_str_eq(nb_grad_fn_name(z), "FillBackward");
    nb_zero_grad(x);
    cr_assert_eq(nb_backward(nb_sum(z)), NB_OK, "%s", nb_last_error());
    const double zeros[] = {0, 0, 0, 0};
    assert_values(nb_grad(x), zeros, 4, 0, 0);
}

Test(autograd, modified_saved_tensor_is_caught)
{
    nb_tensor *x = leaf(NB_SHAPE(3), NULL);
    nb_tensor *y = nb_mul_scalar(x, 2.0);
    nb_tensor *z = nb_mul(y, y); /* saves y at version 0 */
    nb_add_scalar_(y, 1.0);      /* y is now at version 1 */
    cr_assert_eq(nb_backward(nb_sum(z)), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("modified by an in-place operation", "MulBackward", "nb_mul",
                                            "version 0", "version 1"));
}

Test(autograd, inplace_on_views_that_need_grad_is_refused)
{
    nb_tensor *x = leaf(NB_SHAPE(2, 2), NULL);
    nb_tensor *y = nb_mul_scalar(x, 1.0);
    nb_tensor *row = nb_select(y, 0, 0);
    cr_assert_null(nb_add_scalar_(row, 1.0));
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_add_scalar_", "view"));
}

Test(autograd, broadcast_gradients_are_summed_back)
{
    nb_tensor *a = leaf(NB_SHAPE(3, 1), NULL);
    nb_tensor *b = leaf(NB_SHAPE(4), NULL);
    nb_tensor *loss = nb_sum(nb_add(a, b));
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    const double fours[] = {4, 4, 4}, threes[] = {3, 3, 3, 3};
    char shape[64];
    cr_assert_str_eq(nb_shape_string(nb_grad(a), shape, sizeof shape), "[3, 1]");
    assert_values(nb_grad(a), fours, 3, 0, 0);
    assert_values(nb_grad(b), threes, 4, 0, 0);
}

Test(autograd, mixed_dtype_gradient_keeps_the_input_dtype)
{
    nb_tensor *a = nb_requires_grad_(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *b = leaf(NB_SHAPE(2), NULL);
    nb_tensor *loss = nb_sum(nb_mul(a, b));
    cr_assert_eq(nb_dtype_of(loss), NB_FLOAT64);
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_dtype_of(nb_grad(a)), NB_FLOAT32);
    assert_close(nb_grad(a), nb_to_dtype(b, NB_FLOAT32), 1e-6, 1e-7);
}

Test(autograd, functional_gradients_leave_grad_alone)
{
    nb_tensor *x = nb_randn(NB_SHAPE(4, 5), NB_OPTS(NB_FLOAT64));
    nb_tensor *w1 = leaf(NB_SHAPE(5, 3), NULL);
    nb_tensor *w2 = leaf(NB_SHAPE(3, 2), NULL);
    nb_tensor *h = nb_mm(x, w1);
    nb_tensor *loss = nb_sum(nb_pow_scalar(nb_mm(h, w2), 2.0));
    nb_tensor *grads[2];
    nb_tensor *wrt[2] = {w1, w2};
    cr_assert_eq(nb_grad_of(1, &loss, NULL, 2, wrt, grads, true), NB_OK, "%s", nb_last_error());
    cr_assert_null(nb_grad(w1));
    cr_assert_null(nb_grad(w2));
    /* the same as backward's */
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    assert_close(grads[0], nb_grad(w1), 1e-12, 1e-12);
    assert_close(grads[1], nb_grad(w2), 1e-12, 1e-12);
    /* and with respect to an intermediate tensor */
    nb_tensor *loss2 = nb_sum(nb_mul_scalar(h, 5.0));
    nb_tensor *gh;
    cr_assert_eq(nb_grad_of(1, &loss2, NULL, 1, &h, &gh, false), NB_OK, "%s", nb_last_error());
    assert_close(gh, nb_full(NB_SHAPE(4, 3), 5.0, NB_OPTS(NB_FLOAT64)), 0, 0);
}

Test(autograd, functional_gradient_errors)
{
    nb_tensor *x = leaf(NB_SHAPE(2), NULL);
    nb_tensor *unused = leaf(NB_SHAPE(2), NULL);
    nb_tensor *plain = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT64));
    nb_tensor *loss = nb_sum(nb_mul(x, x));
    nb_tensor *g[1];
    cr_assert_eq(nb_grad_of(1, &loss, NULL, 1, &unused, g, true), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_grad_of", "input 0", "not used"));
    cr_assert_eq(nb_grad_of(1, &loss, NULL, 1, &plain, g, true), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_grad_of", "does not require grad"));
}

Test(autograd, view_and_reduction_gradients)
{
    const double v[] = {1, 5, 3, 2, 4, 6};
    nb_tensor *x = leaf(NB_SHAPE(2, 3), v);
    nb_tensor *m = nb_max_dim(x, 1, false); /* [5, 6] */
    nb_tensor *t = nb_t(x);
    nb_tensor *col = nb_narrow(t, 0, 0, 1); /* x[:, 0] as (1, 2) */
    nb_tensor *loss = nb_add(nb_sum(m), nb_sum(col));
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    const double want[] = {1, 1, 0, 1, 0, 1};
    assert_values(nb_grad(x), want, 6, 0, 0);
}

/* a long chain is built, backpropagated and freed without deep recursion */
Test(autograd, million_op_chain)
{
    nb_tensor *x = leaf(NB_SHAPE(1), NULL);
    nb_scope_begin();
    nb_tensor *y = nb_retain(x);
    for (int i = 0; i < 1000000; i++) {
        nb_tensor *next = nb_add_scalar(y, 1e-6);
        nb_release(y);
        y = next;
    }
    nb_keep(y);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_backward(y), NB_OK, "%s", nb_last_error());
    const double one[] = {1};
    assert_values(nb_grad(x), one, 1, 0, 0);
    nb_release(y); /* frees the whole chain */
}

/* A small model trained for 1000 steps: loss falls; the sanitizer run checks nothing leaks. */
Test(autograd, training_loop_1000_steps)
{
    nb_manual_seed(1);
    nb_tensor *x = nb_randn(NB_SHAPE(16, 8), NB_OPTS(NB_FLOAT32));
    nb_tensor *y = nb_randn(NB_SHAPE(16, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *w1 = nb_requires_grad_(nb_mul_scalar(nb_randn(NB_SHAPE(8, 16), NB_OPTS(NB_FLOAT32)), 0.3), true);
    nb_tensor *w2 = nb_requires_grad_(nb_mul_scalar(nb_randn(NB_SHAPE(16, 2), NB_OPTS(NB_FLOAT32)), 0.3), true);
    double first = 0, last = 0;
    for (int step = 0; step < 1000; step++) {
        nb_scope_begin();
        nb_tensor *pred = nb_mm(nb_clamp_min(nb_mm(x, w1), 0), w2);
        nb_tensor *loss = nb_sum(nb_pow_scalar(nb_sub(pred, y), 2));
        nb_backward(loss);
        nb_no_grad_begin();
        nb_sub_scaled_(w1, nb_grad(w1), 1e-3);
        nb_sub_scaled_(w2, nb_grad(w2), 1e-3);
        nb_no_grad_end();
        nb_zero_grad(w1);
        nb_zero_grad(w2);
        if (step == 0) first = nb_item(loss);
        last = nb_item(loss);
        cr_assert_eq(nb_scope_end(), NB_OK, "step %d: %s", step, nb_last_error());
    }
    cr_assert(last < 0.5 * first, "loss went from %g to %g", first, last);
}

/* relu and clamp pass the gradient like PyTorch at their kinks: relu's is 0 at 0 (threshold_backward),
 * clamp's is 1 on its bounds (min <= x <= max) */
Test(autograd, relu_and_clamp_gradients_at_the_kinks)
{
    const double v[] = {-1, 0, 2, -0.0};
    nb_tensor *x = leaf(NB_SHAPE(4), v);
    cr_assert_eq(nb_backward(nb_sum(nb_relu(x))), NB_OK, "%s", nb_last_error());
    const double relu_grad[] = {0, 0, 1, 0};
    assert_values(nb_grad(x), relu_grad, 4, 0, 0);
    nb_zero_grad(x);
    cr_assert_eq(nb_backward(nb_sum(nb_clamp_min(x, 0))), NB_OK, "%s", nb_last_error());
    const double clamp_grad[] = {0, 1, 1, 1};
    assert_values(nb_grad(x), clamp_grad, 4, 0, 0);
    nb_tensor *f = nb_requires_grad_(nb_from_array((const float[]){-1e-45f, 1e-45f, 0}, NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), true);
    cr_assert_eq(nb_backward(nb_sum(nb_relu(f))), NB_OK, "%s", nb_last_error());
    const double tiny_grad[] = {0, 1, 0}; /* the smallest float32 subnormal is positive */
    assert_values(nb_grad(f), tiny_grad, 3, 0, 0);
}
