/* test_conv_layers.c — the Conv2d and MaxPool2d layers: PyTorch's initialisation bounds, the
 * forward being the functional op with the layer's tensors and options, gradients reaching the
 * parameters, parameter lists, and errors. */
#include "helpers.h"

#include <math.h>

Test(nn, conv2d_layer_initialises_and_forwards_like_nn_conv2d, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_manual_seed(5);
    nb_conv2d_options o = NB_CONV2D_DEFAULTS;
    o.padding[0] = o.padding[1] = 1;
    o.groups = 2;
    nb_conv2d_layer *l = nb_conv2d_layer_new(4, 6, 3, 3, &o, true, NB_OPTS(NB_FLOAT64));
    cr_assert_not_null(l, "%s", nb_last_error());
    cr_assert_eq(nb_ndim(l->weight), 4);
    const int64_t *ws = nb_shape(l->weight);
    cr_assert(ws[0] == 6 && ws[1] == 2 && ws[2] == 3 && ws[3] == 3);
    cr_assert_eq(nb_shape(l->bias)[0], 6);
    cr_assert(nb_requires_grad(l->weight) && nb_requires_grad(l->bias));
    /* kaiming-uniform: every value within 1/sqrt(fan_in), fan_in = 4/2 * 3 * 3, and spread out */
    const double bound = 1.0 / sqrt(18.0);
    cr_assert_leq(nb_item(nb_amax(nb_abs(l->weight), 0, NULL, false)), bound);
    cr_assert_leq(nb_item(nb_amax(nb_abs(l->bias), 0, NULL, false)), bound);
    cr_assert_gt(nb_item(nb_amax(nb_abs(l->weight), 0, NULL, false)), 0.8 * bound);
    /* the forward is nb_conv2d with the layer's tensors and options */
    nb_tensor *x = nb_randn(NB_SHAPE(2, 4, 5, 6), NB_OPTS(NB_FLOAT64));
    nb_tensor *y = nb_conv2d_layer_forward(l, x);
    cr_assert_not_null(y, "%s", nb_last_error());
    assert_close(y, nb_conv2d(x, l->weight, l->bias, &o), 0, 0);
    cr_assert(nb_shape(y)[1] == 6 && nb_shape(y)[2] == 5 && nb_shape(y)[3] == 6);
    /* gradients reach both parameters; the bias's is the output gradient summed */
    cr_assert_eq(nb_backward(nb_sum(y)), NB_OK, "%s", nb_last_error());
    assert_values(nb_grad(l->bias), (const double[]){60, 60, 60, 60, 60, 60}, 6, 0, 1e-12);
    cr_assert_not_null(nb_grad(l->weight));
    nb_params *p = nb_params_new();
    cr_assert_eq(nb_conv2d_layer_params(l, p), NB_OK);
    cr_assert_eq(nb_params_count(p), 2);
    nb_params_free(p);
    nb_conv2d_layer_free(l);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, conv2d_layer_without_bias_and_with_default_options, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_conv2d_layer *l = nb_conv2d_layer_new(1, 3, 2, 2, NULL, false, NB_OPTS(NB_FLOAT32));
    cr_assert_not_null(l, "%s", nb_last_error());
    cr_assert_null(l->bias);
    nb_tensor *x = nb_ones(NB_SHAPE(1, 1, 4, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *y = nb_conv2d_layer_forward(l, x);
    cr_assert(nb_shape(y)[2] == 3 && nb_shape(y)[3] == 3); /* stride 1, no padding */
    nb_params *p = nb_params_new();
    cr_assert_eq(nb_conv2d_layer_params(l, p), NB_OK);
    cr_assert_eq(nb_params_count(p), 1);
    nb_params_free(p);
    nb_conv2d_layer_free(l);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, max_pool2d_layer_is_max_pool2d_with_its_options, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_max_pool2d_layer pool = {NB_MAX_POOL2D_OPTIONS(2, 2)};
    nb_tensor *x = nb_randn(NB_SHAPE(2, 3, 8, 7), NB_OPTS(NB_FLOAT32));
    nb_tensor *y = nb_max_pool2d_layer_forward(&pool, x);
    cr_assert_not_null(y, "%s", nb_last_error());
    assert_close(y, nb_max_pool2d(x, &pool.options), 0, 0);
    cr_assert(nb_shape(y)[2] == 4 && nb_shape(y)[3] == 3);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, conv_layer_errors, .init = nb_test_setup)
{
    cr_assert_null(nb_conv2d_layer_new(0, 3, 3, 3, NULL, true, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d_layer_new", "positive", "in 0"));
    cr_assert_null(nb_conv2d_layer_new(3, 4, 3, 0, NULL, true, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d_layer_new", "kernel 3x0"));
    nb_conv2d_options o = NB_CONV2D_DEFAULTS;
    o.groups = 2;
    cr_assert_null(nb_conv2d_layer_new(3, 4, 3, 3, &o, true, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d_layer_new", "groups (2)", "in_channels (3)"));
    cr_assert_null(nb_conv2d_layer_new(3, 4, 3, 3, NULL, true, NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_conv2d_layer_new", "int64"));
    cr_assert_null(nb_conv2d_layer_forward(NULL, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_conv2d_layer_forward", "layer"));
    cr_assert_null(nb_max_pool2d_layer_forward(NULL, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_max_pool2d_layer_forward", "layer"));
    nb_scope_begin();
    nb_conv2d_layer *l = nb_conv2d_layer_new(3, 4, 3, 3, NULL, true, NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_conv2d_layer_forward(l, nb_zeros(NB_SHAPE(1, 2, 5, 5), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d"));
    cr_assert_eq(nb_conv2d_layer_params(l, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_conv2d_layer_params", "params"));
    nb_conv2d_layer_free(l);
    cr_assert_eq(nb_scope_end(), NB_OK);
}
