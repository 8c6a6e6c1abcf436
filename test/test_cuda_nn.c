/* test_cuda_nn.c — softmax, log_softmax and cross entropy on cuda:0 against the same ops on the
 * CPU (normalised MSE <= 1e-7 for float32, 1e-24 for float64), forward and backward: along every
 * dim, through each of the GPU kernels' ways (a group of lanes per short row, a block per long row
 * or long column, a thread per column), with strided inputs; cross entropy's labels checked on the
 * device and reported at the next synchronisation; float64 gradient checks on the device.
 *
 * Every test skips without a device (and in builds without CUDA): a CUDA tensor cannot exist
 * there, so nothing of these ops can be checked without one. */
#include "cuda_checks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPU NB_DEVICE_CUDA(0)


/* ================================================================ parity helpers */

/* got (computed on cuda:0) against want, the same op on the CPU (parity_helpers.c). */
static void assert_parity(const nb_tensor *got, const nb_tensor *want, const char *what)
{
    cuda_assert_match(got, want, GPU, what);
}

/* Every element of a and b (both on cuda:0) has the same bits. */
static void assert_bit_equal(const nb_tensor *a, const nb_tensor *b, const char *what)
{
    cuda_assert_close(a, b, GPU, 0, what);
}

/* ================================================================ inputs */

typedef nb_tensor *(*softmax_fn)(const nb_tensor *, int);
static const softmax_fn softmax_fns[2] = {nb_softmax, nb_log_softmax};
static const char *const softmax_names[2] = {"nb_softmax", "nb_log_softmax"};
static const nb_dtype float_dtypes[2] = {NB_FLOAT32, NB_FLOAT64};

/* randn(shape) * scale as dt: *cpu on the CPU and *gpu, the same values, on cuda:0. Registered
 * in the open scope. */
static void random_pair(int ndim, const int64_t *shape, nb_dtype dt, uint64_t seed, double scale, nb_tensor **cpu,
                        nb_tensor **gpu)
{
    nb_manual_seed(seed);
    *cpu = nb_to_dtype(nb_mul_scalar(nb_randn(ndim, shape, NB_OPTS(NB_FLOAT64)), scale), dt);
    cr_assert_not_null(*cpu, "%s", nb_last_error());
    *gpu = nb_to(*cpu, GPU);
    cr_assert_not_null(*gpu, "to cuda:0: %s", nb_last_error());
}

/* Class labels in [0, classes) for rows rows, as a (rows,) column of a (rows, 2) int64 tensor
 * (stride 2): *cpu and the same labels on cuda:0 as *gpu. */
static void label_pair(int64_t rows, int64_t classes, uint64_t seed, nb_tensor **cpu, nb_tensor **gpu)
{
    nb_manual_seed(seed);
    nb_tensor *u = nb_rand(NB_SHAPE(rows, 2), NB_OPTS(NB_FLOAT64));
    nb_tensor *wide = nb_to_dtype(nb_clamp(nb_mul_scalar(u, (double)classes), 0, (double)classes - 1), NB_INT64);
    cr_assert_not_null(wide, "%s", nb_last_error());
    *cpu = nb_select(wide, 1, 0);
    *gpu = nb_select(nb_to(wide, GPU), 1, 0);
    cr_assert_not_null(*gpu, "%s", nb_last_error());
}

/* ================================================================ softmax and log_softmax */

/* Shapes whose dims take every way of the kernels: short rows (a group of lanes, up to 32
 * elements each in registers), long rows and long columns (a block each), many columns (a
 * thread each). */
static const int64_t shapes3[][3] = {{4, 5, 6}, {2, 600, 3}, {3, 2, 1100}, {2, 40, 700}, {1, 1, 1}};
#define N_SHAPES3 (sizeof shapes3 / sizeof shapes3[0])

Test(cuda_nn, softmax_and_log_softmax_match_the_cpu_along_every_dim, .init = cuda_test_setup)
{
    for (size_t s = 0; s < N_SHAPES3; s++)
        for (int d = 0; d < 2; d++)
            for (int f = 0; f < 2; f++)
                for (int dim = -1; dim < 3; dim++) {
                    char what[200];
                    snprintf(what, sizeof what, "%s (%s, [%lld, %lld, %lld], dim %d)", softmax_names[f],
                             nb_dtype_name(float_dtypes[d]), (long long)shapes3[s][0], (long long)shapes3[s][1],
                             (long long)shapes3[s][2], dim);
                    nb_scope_begin();
                    nb_tensor *xc, *xg;
                    random_pair(3, shapes3[s], float_dtypes[d], 101 + s, 3.0, &xc, &xg);
                    assert_parity(softmax_fns[f](xg, dim), softmax_fns[f](xc, dim), what);
                    cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
                }
}

Test(cuda_nn, softmax_of_strided_inputs_matches_the_cpu, .init = cuda_test_setup)
{
    for (int d = 0; d < 2; d++)
        for (int f = 0; f < 2; f++)
            for (int dim = 0; dim < 3; dim++) {
                nb_dtype dt = float_dtypes[d];
                char what[160];
                nb_scope_begin();
                nb_tensor *xc, *xg;
                random_pair(3, (const int64_t[]){5, 4, 66}, dt, 7, 2.0, &xc, &xg);
                /* permuted (4, 66, 5) */
                snprintf(what, sizeof what, "%s (%s, permuted, dim %d)", softmax_names[f], nb_dtype_name(dt), dim);
                assert_parity(softmax_fns[f](nb_permute(xg, NB_DIMS(1, 2, 0)), dim),
                              softmax_fns[f](nb_permute(xc, NB_DIMS(1, 2, 0)), dim), what);
                /* narrowed (5, 4, 33): rows 66 apart */
                snprintf(what, sizeof what, "%s (%s, narrowed, dim %d)", softmax_names[f], nb_dtype_name(dt), dim);
                assert_parity(softmax_fns[f](nb_narrow(xg, 2, 17, 33), dim), softmax_fns[f](nb_narrow(xc, 2, 17, 33), dim),
                              what);
                /* expanded (stride 0) (5, 3, 4, 66) seen along a dim of repeats */
                snprintf(what, sizeof what, "%s (%s, expanded, dim %d)", softmax_names[f], nb_dtype_name(dt), dim);
                const int64_t big[4] = {5, 3, 4, 66};
                assert_parity(softmax_fns[f](nb_expand(nb_unsqueeze(xg, 1), 4, big), dim + 1),
                              softmax_fns[f](nb_expand(nb_unsqueeze(xc, 1), 4, big), dim + 1), what);
                cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
            }
}

Test(cuda_nn, softmax_is_stable_and_keeps_nan_and_inf_like_the_cpu, .init = cuda_test_setup)
{
    /* exps that overflow without the maximum subtracted; a row of -inf (NaN); a NaN; +inf */
    const double v[4][6] = {{1000, 999, -1000, 0, 5, 998},
                            {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY},
                            {1, NAN, 2, 3, 4, 5},
                            {1, INFINITY, 2, 3, -INFINITY, 5}};
    for (int d = 0; d < 2; d++)
        for (int f = 0; f < 2; f++) {
            char what[96];
            snprintf(what, sizeof what, "%s (%s, special values)", softmax_names[f], nb_dtype_name(float_dtypes[d]));
            nb_scope_begin();
            nb_tensor *xc = nb_to_dtype(nb_from_array(v, NB_SHAPE(4, 6), NB_OPTS(NB_FLOAT64)), float_dtypes[d]);
            nb_tensor *xg = nb_to(xc, GPU);
            assert_parity(softmax_fns[f](xg, 1), softmax_fns[f](xc, 1), what);
            cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
        }
}

Test(cuda_nn, softmax_of_empty_and_zero_dim_tensors, .init = cuda_test_setup)
{
    nb_scope_begin();
    nb_tensor *s = nb_full(0, NULL, 3.5, NB_OPTS(NB_FLOAT32, .device = GPU));
    cr_assert_eq(nb_item(nb_softmax(s, 0)), 1.0, "%s", nb_last_error());
    cr_assert_eq(nb_item(nb_log_softmax(s, -1)), 0.0, "%s", nb_last_error());
    nb_tensor *e = nb_softmax(nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT64, .device = GPU)), 1);
    cr_assert_not_null(e, "%s", nb_last_error());
    cr_assert_eq(nb_numel(e), 0);
    cr_assert_eq(nb_device_of(e).type, NB_CUDA);
    cr_assert_not_null(nb_log_softmax(nb_zeros(NB_SHAPE(2, 0), NB_OPTS(NB_FLOAT32, .device = GPU)), 1));
    assert_ok();
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda_nn, softmax_refuses_what_the_cpu_refuses, .init = cuda_test_setup)
{
    nb_scope_begin();
    cr_assert_null(nb_softmax(nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_INT64, .device = GPU)), 1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_softmax", "int64"));
    cr_assert_null(nb_log_softmax(nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32, .device = GPU)), 2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_log_softmax", "dim 2 is out of range"));
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

/* The gradient of x from y = fn(x, dim) against weights w (the output's gradient), on x's device. */
static nb_tensor *softmax_grad(softmax_fn fn, nb_tensor *x, int dim, nb_tensor *w)
{
    nb_requires_grad_(x, true);
    nb_tensor *y = fn(x, dim);
    cr_assert_not_null(y, "%s", nb_last_error());
    nb_tensor *gx = NULL;
    cr_assert_eq(nb_grad_of(1, &y, &w, 1, &x, &gx, false), NB_OK, "%s", nb_last_error());
    return gx;
}

Test(cuda_nn, softmax_gradients_match_the_cpu, .init = cuda_test_setup)
{
    for (size_t s = 0; s < N_SHAPES3; s++)
        for (int d = 0; d < 2; d++)
            for (int f = 0; f < 2; f++)
                for (int dim = 0; dim < 3; dim++) {
                    nb_dtype dt = float_dtypes[d];
                    char what[200];
                    snprintf(what, sizeof what, "%s backward (%s, [%lld, %lld, %lld], dim %d)", softmax_names[f],
                             nb_dtype_name(dt), (long long)shapes3[s][0], (long long)shapes3[s][1],
                             (long long)shapes3[s][2], dim);
                    nb_scope_begin();
                    nb_tensor *xc, *xg, *wc, *wg;
                    random_pair(3, shapes3[s], dt, 201 + s, 2.0, &xc, &xg);
                    random_pair(3, shapes3[s], dt, 301 + s, 1.0, &wc, &wg);
                    assert_parity(softmax_grad(softmax_fns[f], xg, dim, wg), softmax_grad(softmax_fns[f], xc, dim, wc),
                                  what);
                    cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
                }
}

Test(cuda_nn, softmax_backward_takes_strided_and_broadcast_gradients, .init = cuda_test_setup)
{
    for (int d = 0; d < 2; d++)
        for (int f = 0; f < 2; f++) {
            nb_dtype dt = float_dtypes[d];
            char what[160];
            nb_scope_begin();
            nb_tensor *xc, *xg, *wc, *wg;
            random_pair(2, (const int64_t[]){6, 9}, dt, 11, 2.0, &xc, &xg);
            random_pair(2, (const int64_t[]){9, 6}, dt, 12, 1.0, &wc, &wg);
            snprintf(what, sizeof what, "%s backward (%s, transposed gradient)", softmax_names[f], nb_dtype_name(dt));
            assert_parity(softmax_grad(softmax_fns[f], xg, 1, nb_t(wg)), softmax_grad(softmax_fns[f], xc, 1, nb_t(wc)),
                          what);
            /* a row sum's backward hands the op a gradient expanded along dim 1 (stride 0): sum (W
             * (6, 1) * rowsum(softmax(x, dim 0))). Not a plain nb_sum: the columns of softmax along
             * dim 0 sum to 1, so that gradient is rounding noise on both devices. */
            snprintf(what, sizeof what, "%s backward (%s, through a row sum)", softmax_names[f], nb_dtype_name(dt));
            nb_tensor *wrc, *wrg;
            random_pair(2, (const int64_t[]){6, 1}, dt, 13, 1.0, &wrc, &wrg);
            nb_tensor *grads[2];
            nb_tensor *xs[2] = {xg, xc}, *ws[2] = {wrg, wrc};
            for (int k = 0; k < 2; k++) {
                nb_tensor *rows = nb_sum_dims(softmax_fns[f](xs[k], 0), NB_DIMS(1), true); /* (6, 1) */
                nb_tensor *loss = nb_sum(nb_mul(rows, ws[k]));
                grads[k] = NULL;
                cr_assert_eq(nb_grad_of(1, &loss, NULL, 1, &xs[k], &grads[k], false), NB_OK, "%s", nb_last_error());
            }
            assert_parity(grads[0], grads[1], what);
            cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
        }
}

Test(cuda_nn, softmax_results_are_the_same_on_every_run, .init = cuda_test_setup)
{
    nb_scope_begin();
    nb_tensor *xc, *xg;
    random_pair(3, (const int64_t[]){64, 700, 3}, NB_FLOAT32, 5, 4.0, &xc, &xg);
    for (int dim = 0; dim < 3; dim++) {
        nb_tensor *first = nb_log_softmax(xg, dim);
        for (int rep = 0; rep < 3; rep++) assert_bit_equal(nb_log_softmax(xg, dim), first, "log_softmax repeated");
    }
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

/* ================================================================ cross entropy */

/* The loss and the gradient of logits, with the loss's gradient g_value, on logits' device. */
static void xent_with_grad(nb_tensor *logits_leaf, nb_tensor *logits, nb_tensor *labels, double g_value,
                           nb_tensor **loss, nb_tensor **grad)
{
    *loss = nb_cross_entropy(logits, labels);
    cr_assert_not_null(*loss, "%s", nb_last_error());
    nb_tensor *g = nb_full(0, NULL, g_value, NB_OPTS(nb_dtype_of(logits), .device = nb_device_of(logits)));
    *grad = NULL;
    cr_assert_eq(nb_grad_of(1, loss, &g, 1, &logits_leaf, grad, false), NB_OK, "%s", nb_last_error());
}

/* Logits (rows, classes) seen in layout l of the leaf: 0 contiguous, 1 the first classes columns
 * of a (rows, classes + 5) leaf (rows apart by classes + 5), 2 the transpose of a (classes, rows)
 * leaf (columns rows apart). */
static nb_tensor *logits_view(nb_tensor *leaf, int l, int64_t classes)
{
    if (l == 1) return nb_narrow(leaf, 1, 2, classes);
    if (l == 2) return nb_t(leaf);
    return leaf;
}

Test(cuda_nn, cross_entropy_matches_the_cpu_with_strided_logits_and_labels, .init = cuda_test_setup)
{
    static const int64_t sizes[][2] = {{128, 10}, {37, 1}, {64, 1000}, {5, 3000}, {300, 33}};
    static const char *const layouts[3] = {"contiguous", "narrowed", "transposed"};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int d = 0; d < 2; d++)
            for (int l = 0; l < 3; l++) {
                const int64_t rows = sizes[s][0], classes = sizes[s][1];
                nb_dtype dt = float_dtypes[d];
                char what[200];
                snprintf(what, sizeof what, "nb_cross_entropy (%s, [%lld, %lld], %s logits, strided labels)",
                         nb_dtype_name(dt), (long long)rows, (long long)classes, layouts[l]);
                nb_scope_begin();
                const int64_t leaf_shape[2] = {l == 2 ? classes : rows, l == 1 ? classes + 5 : l == 2 ? rows : classes};
                nb_tensor *lc, *lg, *yc, *yg;
                random_pair(2, leaf_shape, dt, 401 + s, 4.0, &lc, &lg);
                label_pair(rows, classes, 501 + s, &yc, &yg);
                nb_requires_grad_(lc, true);
                nb_requires_grad_(lg, true);
                nb_tensor *loss_c, *loss_g, *grad_c, *grad_g;
                xent_with_grad(lc, logits_view(lc, l, classes), yc, 2.5, &loss_c, &grad_c);
                xent_with_grad(lg, logits_view(lg, l, classes), yg, 2.5, &loss_g, &grad_g);
                assert_parity(loss_g, loss_c, what);
                assert_parity(grad_g, grad_c, what);
                cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
            }
}

Test(cuda_nn, cross_entropy_of_a_fashion_mnist_batch_matches_the_cpu_and_repeats_exactly, .init = cuda_test_setup)
{
    /* (128, 10) float32 logits, the shape of the Fashion-MNIST samples' batches */
    nb_scope_begin();
    nb_tensor *lc, *lg, *yc, *yg;
    random_pair(2, (const int64_t[]){128, 10}, NB_FLOAT32, 77, 3.0, &lc, &lg);
    label_pair(128, 10, 78, &yc, &yg);
    nb_requires_grad_(lc, true);
    nb_requires_grad_(lg, true);
    nb_tensor *loss_c, *loss_g, *grad_c, *grad_g;
    xent_with_grad(lc, lc, yc, 1.0, &loss_c, &grad_c);
    xent_with_grad(lg, lg, yg, 1.0, &loss_g, &grad_g);
    assert_parity(loss_g, loss_c, "nb_cross_entropy (128, 10)");
    assert_parity(grad_g, grad_c, "nb_cross_entropy backward (128, 10)");
    cr_assert_float_eq(nb_item(loss_g), nb_item(loss_c), 1e-6 * fabs(nb_item(loss_c)), "%s", nb_last_error());
    /* each row of the gradient sums to 0 (softmax sums to 1, the one-hot to 1) */
    nb_tensor *row_sums = nb_sum_dim(grad_g, 1, false);
    nb_tensor *abs_sums = nb_abs(row_sums);
    cr_assert_leq(nb_item(nb_sum(abs_sums)), 1e-6, "%s", nb_last_error());
    for (int rep = 0; rep < 3; rep++) {
        nb_tensor *again, *grad_again;
        xent_with_grad(lg, lg, yg, 1.0, &again, &grad_again);
        assert_bit_equal(again, loss_g, "cross entropy repeated");
        assert_bit_equal(grad_again, grad_g, "cross entropy backward repeated");
    }
    /* and it trains: a step against the gradient lowers the loss */
    nb_tensor *stepped = nb_sub(nb_detach(lg), nb_mul_scalar(grad_g, 1.0));
    cr_assert_lt(nb_item(nb_cross_entropy(stepped, yg)), nb_item(loss_g), "%s", nb_last_error());
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda_nn, cross_entropy_gradient_takes_a_loss_gradient_of_another_dtype, .init = cuda_test_setup)
{
    /* a float64 gradient of a float32 loss: the kernel reads it as float32, on the device */
    nb_scope_begin();
    nb_tensor *lc, *lg, *yc, *yg;
    random_pair(2, (const int64_t[]){16, 10}, NB_FLOAT32, 31, 2.0, &lc, &lg);
    label_pair(16, 10, 32, &yc, &yg);
    nb_tensor *grads[2];
    nb_tensor *leaves[2] = {lc, lg}, *labels[2] = {yc, yg};
    for (int k = 0; k < 2; k++) {
        nb_requires_grad_(leaves[k], true);
        nb_tensor *loss = nb_cross_entropy(leaves[k], labels[k]);
        nb_tensor *g = nb_full(0, NULL, -3.0, NB_OPTS(NB_FLOAT64, .device = nb_device_of(leaves[k])));
        grads[k] = NULL;
        cr_assert_eq(nb_grad_of(1, &loss, &g, 1, &leaves[k], &grads[k], false), NB_OK, "%s", nb_last_error());
    }
    assert_parity(grads[1], grads[0], "cross entropy backward with a float64 loss gradient");
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda_nn, a_bad_label_is_reported_at_the_next_synchronisation, .init = cuda_test_setup)
{
    nb_scope_begin();
    const int64_t bad[8] = {1, 2, 0, 12, 4, 5, 6, 7};
    nb_tensor *labels = nb_to(nb_from_array(bad, NB_SHAPE(8), NB_OPTS(NB_INT64)), GPU);
    nb_tensor *logits = nb_zeros(NB_SHAPE(8, 10), NB_OPTS(NB_FLOAT32, .device = GPU));
    /* the labels are on the device: queuing the loss cannot check them */
    nb_tensor *loss = nb_cross_entropy(logits, labels);
    cr_assert_not_null(loss, "%s", nb_last_error());
    assert_ok();
    cr_assert(isnan(nb_item(loss)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_cross_entropy", "label 12", "row 3", "10 classes"));
    /* reported once: the device goes on working */
    const int64_t good[8] = {1, 2, 0, 9, 4, 5, 6, 7};
    nb_tensor *fixed = nb_to(nb_from_array(good, NB_SHAPE(8), NB_OPTS(NB_INT64)), GPU);
    double v = nb_item(nb_cross_entropy(logits, fixed));
    assert_ok();
    cr_assert_float_eq(v, log(10.0), 1e-6);

    /* a negative label in the backward too: the gradient's row is NaN and the label reported */
    const int64_t negative[8] = {1, 2, 0, 3, 4, -1, 6, 7};
    nb_tensor *neg = nb_to(nb_from_array(negative, NB_SHAPE(8), NB_OPTS(NB_INT64)), GPU);
    nb_tensor *leaf = nb_requires_grad_(nb_zeros(NB_SHAPE(8, 10), NB_OPTS(NB_FLOAT64, .device = GPU)), true);
    nb_tensor *l2 = nb_cross_entropy(leaf, neg);
    cr_assert_not_null(l2, "%s", nb_last_error());
    nb_tensor *grad = NULL;
    cr_assert_eq(nb_grad_of(1, &l2, NULL, 1, &leaf, &grad, false), NB_OK, "%s", nb_last_error());
    double row[10];
    cr_assert_eq(nb_copy_to_array(nb_select(grad, 0, 5), row, sizeof row), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_cross_entropy", "label -1", "row 5", "10 classes"));
    cr_assert_eq(nb_copy_to_array(nb_select(grad, 0, 5), row, sizeof row), NB_OK, "%s", nb_last_error());
    for (int j = 0; j < 10; j++) cr_assert(isnan(row[j]), "element %d of the bad row is %g", j, row[j]);
    double first[10];
    cr_assert_eq(nb_copy_to_array(nb_select(grad, 0, 0), first, sizeof first), NB_OK, "%s", nb_last_error());
    cr_assert_float_eq(first[0], 0.1 / 8, 1e-15); /* softmax of zeros, the label elsewhere */
    cr_assert_float_eq(first[1], (0.1 - 1) / 8, 1e-15);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda_nn, cross_entropy_refuses_what_the_cpu_refuses, .init = cuda_test_setup)
{
    nb_scope_begin();
    nb_tensor *logits = nb_zeros(NB_SHAPE(4, 3), NB_OPTS(NB_FLOAT32, .device = GPU));
    cr_assert_null(nb_cross_entropy(logits, nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32, .device = GPU))));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_cross_entropy", "int64", "float32"));
    cr_assert_null(nb_cross_entropy(logits, nb_zeros(NB_SHAPE(5), NB_OPTS(NB_INT64, .device = GPU))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_cross_entropy", "[4, 3]", "[5]"));
    cr_assert_null(nb_cross_entropy(logits, nb_zeros(NB_SHAPE(4), NB_OPTS(NB_INT64))));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_cross_entropy", "cuda:0", "cpu"));
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

/* ================================================================ float64 gradient checks */

typedef struct gc_ctx {
    int dim;
    const nb_tensor *labels;
} gc_ctx;

static nb_tensor *gc_softmax(int n, nb_tensor *const *in, void *ctx)
{
    (void)n;
    return nb_softmax(in[0], ((gc_ctx *)ctx)->dim);
}

static nb_tensor *gc_log_softmax(int n, nb_tensor *const *in, void *ctx)
{
    (void)n;
    return nb_log_softmax(in[0], ((gc_ctx *)ctx)->dim);
}

static nb_tensor *gc_cross_entropy(int n, nb_tensor *const *in, void *ctx)
{
    (void)n;
    return nb_cross_entropy(in[0], ((gc_ctx *)ctx)->labels);
}

Test(cuda_nn, float64_gradcheck_of_softmax_log_softmax_and_cross_entropy_on_cuda, .init = cuda_test_setup)
{
    nb_scope_begin();
    for (int dim = 0; dim < 3; dim++) {
        nb_tensor *xc, *xg;
        random_pair(3, (const int64_t[]){2, 3, 4}, NB_FLOAT64, 61, 1.0, &xc, &xg);
        nb_requires_grad_(xg, true);
        gc_ctx ctx = {.dim = dim};
        cr_assert_eq(nb_gradcheck(gc_softmax, &ctx, 1, &xg), NB_OK, "softmax dim %d: %s", dim, nb_last_error());
        cr_assert_eq(nb_gradcheck(gc_log_softmax, &ctx, 1, &xg), NB_OK, "log_softmax dim %d: %s", dim,
                     nb_last_error());
    }
    nb_tensor *lc, *lg, *yc, *yg;
    random_pair(2, (const int64_t[]){5, 4}, NB_FLOAT64, 62, 1.0, &lc, &lg);
    label_pair(5, 4, 63, &yc, &yg);
    nb_requires_grad_(lg, true);
    gc_ctx ctx = {.labels = yg};
    cr_assert_eq(nb_gradcheck(gc_cross_entropy, &ctx, 1, &lg), NB_OK, "cross entropy: %s", nb_last_error());
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}
