/* test_blob.c — suite interop: nb_from_blob, tensors over memory nabla does not own. The deleter
 * runs exactly once, when the last tensor or view sharing the memory goes (views outliving the
 * tensor, scopes, autograd graphs); ops, in-place ops and autograd see and change the caller's
 * memory; every bad argument is refused with its message and without calling the deleter. */
#include "cuda_checks.h"
#include "helpers.h"

#include <nabla/dlpack.h>

#include <stdlib.h>
#include <string.h>

/* A deleter that counts its calls (ctx: an int) and frees data. */
static void count_and_free(void *data, void *ctx)
{
    ++*(int *)ctx;
    free(data);
}

static void count_only(void *data, void *ctx)
{
    (void)data;
    ++*(int *)ctx;
}

TestSuite(blob, .init = nb_test_setup);

Test(blob, wraps_without_copy_and_deletes_once)
{
    int deleted = 0;
    float *buf = malloc(6 * sizeof *buf); /* (2, 3) */
    for (int i = 0; i < 6; i++) buf[i] = (float)i;
    nb_tensor *t = nb_from_blob(buf, NB_SHAPE(2, 3), NULL, NB_FLOAT32, NB_DEVICE_CPU, count_and_free, &deleted);
    cr_assert(t, "%s", nb_last_error());
    cr_assert_eq(nb_data(t), (void *)buf, "the tensor's data is the caller's memory");
    cr_assert(nb_is_contiguous(t));
    nb_tensor *y = nb_add_scalar(t, 10);
    assert_values(y, (const double[]){10, 11, 12, 13, 14, 15}, 6, 0, 0);
    nb_release(y);
    nb_release(t);
    cr_assert_eq(deleted, 1, "deleter called %d times", deleted);
}

Test(blob, views_outlive_the_tensor)
{
    int deleted = 0;
    double *buf = malloc(12 * sizeof *buf); /* (3, 4) */
    for (int i = 0; i < 12; i++) buf[i] = i;
    nb_tensor *t = nb_from_blob(buf, NB_SHAPE(3, 4), NULL, NB_FLOAT64, NB_DEVICE_CPU, count_and_free, &deleted);
    nb_tensor *col = nb_select(t, 1, 2);           /* (3,) stride 4 */
    nb_tensor *tt = nb_t(t);                        /* (4, 3) */
    nb_release(t);
    cr_assert_eq(deleted, 0, "a view still shares the memory");
    assert_values(col, (const double[]){2, 6, 10}, 3, 0, 0);
    nb_release(col);
    cr_assert_eq(deleted, 0);
    nb_tensor *c = nb_contiguous(tt);
    nb_release(tt);
    cr_assert_eq(deleted, 1, "deleter called %d times after the last view", deleted);
    assert_values(c, (const double[]){0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, 12, 0, 0);
    nb_release(c);
    cr_assert_eq(deleted, 1);
}

Test(blob, in_place_ops_write_the_callers_memory)
{
    int deleted = 0;
    int64_t buf[4] = {1, 2, 3, 4};
    nb_tensor *t = nb_from_blob(buf, NB_SHAPE(4), NULL, NB_INT64, NB_DEVICE_CPU, count_only, &deleted);
    cr_assert(nb_mul_scalar_(t, 3) == t, "%s", nb_last_error());
    cr_assert_eq(buf[0], 3);
    cr_assert_eq(buf[3], 12);
    nb_tensor *half = nb_narrow(t, 0, 2, 2);
    nb_fill_(half, -1);
    cr_assert(buf[2] == -1 && buf[3] == -1 && buf[1] == 6);
    nb_release(half);
    nb_release(t);
    cr_assert_eq(deleted, 1);
}

Test(blob, strides_in_elements)
{
    int deleted = 0;
    float buf[6] = {0, 1, 2, 3, 4, 5}; /* (2, 3) row-major, seen as its (3, 2) transpose */
    nb_tensor *t = nb_from_blob(buf, NB_SHAPE(3, 2), (const int64_t[]){1, 3}, NB_FLOAT32, NB_DEVICE_CPU, count_only,
                                &deleted);
    cr_assert(t, "%s", nb_last_error());
    cr_assert(!nb_is_contiguous(t));
    assert_values(t, (const double[]){0, 3, 1, 4, 2, 5}, 6, 0, 0);
    /* a broadcast row: stride 0 */
    nb_tensor *b = nb_from_blob(buf, NB_SHAPE(4, 3), (const int64_t[]){0, 1}, NB_FLOAT32, NB_DEVICE_CPU, count_only,
                                &deleted);
    nb_tensor *s = nb_sum(b);
    cr_assert_float_eq(nb_item(s), 12.0, 1e-6);
    nb_release(s);
    nb_release(b);
    nb_release(t);
    cr_assert_eq(deleted, 2);
}

Test(blob, autograd_through_external_memory)
{
    int deleted = 0;
    double *buf = malloc(3 * sizeof *buf);
    buf[0] = 1, buf[1] = -2, buf[2] = 0.5;
    nb_tensor *x = nb_from_blob(buf, NB_SHAPE(3), NULL, NB_FLOAT64, NB_DEVICE_CPU, count_and_free, &deleted);
    nb_requires_grad_(x, true);
    nb_tensor *sq = nb_mul(x, x);
    nb_tensor *loss = nb_sum(sq);
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    assert_values(nb_grad(x), (const double[]){2, -4, 1}, 3, 0, 1e-12);
    nb_release(loss);
    nb_release(sq);
    cr_assert_eq(deleted, 0);
    nb_release(x);
    cr_assert_eq(deleted, 1, "deleter called %d times", deleted);
}

Test(blob, autograd_graph_keeps_memory_until_freed)
{
    int deleted = 0;
    double *buf = malloc(2 * sizeof *buf);
    buf[0] = 3, buf[1] = 4;
    nb_scope_begin();
    nb_tensor *x = nb_keep(nb_requires_grad_(
        nb_from_blob(buf, NB_SHAPE(2), NULL, NB_FLOAT64, NB_DEVICE_CPU, count_and_free, &deleted), true));
    nb_tensor *loss = nb_sum(nb_mul(x, x));
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_scope_end(), NB_OK);
    assert_values(nb_grad(x), (const double[]){6, 8}, 2, 0, 1e-12);
    cr_assert_eq(deleted, 0, "x is kept");
    nb_release(x);
    cr_assert_eq(deleted, 1, "deleter called %d times", deleted);
}

Test(blob, released_with_its_scope)
{
    int deleted = 0;
    nb_scope_begin();
    nb_from_blob(malloc(8), NB_SHAPE(2), NULL, NB_FLOAT32, NB_DEVICE_CPU, count_and_free, &deleted);
    cr_assert_eq(deleted, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
    cr_assert_eq(deleted, 1);
}

Test(blob, empty_and_zero_dim)
{
    int deleted = 0;
    nb_tensor *e = nb_from_blob(NULL, NB_SHAPE(0, 3), NULL, NB_FLOAT32, NB_DEVICE_CPU, count_only, &deleted);
    cr_assert(e, "%s", nb_last_error());
    cr_assert_eq(nb_numel(e), 0);
    nb_tensor *s = nb_sum(e);
    cr_assert_float_eq(nb_item(s), 0.0, 0);
    nb_release(s);
    double v = 2.5;
    nb_tensor *z = nb_from_blob(&v, 0, NULL, NULL, NB_FLOAT64, NB_DEVICE_CPU, NULL, NULL); /* no deleter */
    cr_assert_eq(nb_ndim(z), 0);
    cr_assert_float_eq(nb_item(z), 2.5, 0);
    nb_release(z);
    nb_release(e);
    cr_assert_eq(deleted, 1);
    assert_ok();
}

Test(blob, refusals_name_the_argument_and_keep_the_memory)
{
    int deleted = 0;
    float buf[8];
    cr_assert_null(nb_from_blob(buf, NB_SHAPE(2), (const int64_t[]){-1}, NB_FLOAT32, NB_DEVICE_CPU, count_only,
                                &deleted));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_from_blob", "stride -1 of dim 0 is negative"));
    cr_assert_null(nb_from_blob(buf, 9, (const int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, NULL, NB_FLOAT32,
                                NB_DEVICE_CPU, count_only, &deleted));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_from_blob", "9 dims given; expected 0 to 8"));
    cr_assert_null(nb_from_blob(NULL, NB_SHAPE(2), NULL, NB_FLOAT32, NB_DEVICE_CPU, count_only, &deleted));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_from_blob", "data is NULL", "[2]"));
    cr_assert_null(nb_from_blob((char *)buf + 2, NB_SHAPE(2), NULL, NB_FLOAT32, NB_DEVICE_CPU, count_only, &deleted));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_from_blob", "not aligned to its float32 elements (4 bytes)"));
    cr_assert_null(nb_from_blob(buf, NB_SHAPE(2, -3), NULL, NB_FLOAT32, NB_DEVICE_CPU, count_only, &deleted));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_from_blob", "negative size -3"));
    cr_assert_null(nb_from_blob(buf, NB_SHAPE(2), NULL, (nb_dtype)17, NB_DEVICE_CPU, count_only, &deleted));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_from_blob", "unknown dtype 17"));
    cr_assert_null(nb_from_blob(buf, NB_SHAPE(1 << 20, 1 << 20), (const int64_t[]){(int64_t)1 << 40, 1}, NB_FLOAT32,
                                NB_DEVICE_CPU, count_only, &deleted));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_from_blob", "reach past 2^59 elements"));
    if (nb_cuda_device_count() == 0) {
        cr_assert_null(nb_from_blob(buf, NB_SHAPE(2), NULL, NB_FLOAT32, NB_DEVICE_CUDA(0), count_only, &deleted));
        assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_from_blob: cannot wrap memory of cuda:0"));
    }
    cr_assert_eq(deleted, 0, "a refused call never calls the deleter");
}

/* Gives back the DLPack export that lent a tensor's device address. */
static void release_export(void *data, void *ctx)
{
    (void)data;
    DLManagedTensor *m = ctx;
    m->deleter(m);
}

Test(blob, cuda_memory_from_another_owner, .init = cuda_test_setup)
{
    /* device memory nabla did not allocate for this tensor: another tensor's, lent by an export */
    nb_tensor *a = nb_arange(0, 6, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *owner = nb_to(a, NB_DEVICE_CUDA(0));
    nb_release(a);
    DLManagedTensor *m = nb_to_dlpack(owner);
    nb_release(owner); /* the export keeps the memory */
    nb_tensor *t = nb_from_blob(m->dl_tensor.data, NB_SHAPE(3, 2), NULL, NB_FLOAT32, NB_DEVICE_CUDA(0), release_export, m);
    cr_assert(t, "%s", nb_last_error());
    nb_tensor *t2 = nb_mul_scalar(t, 2);
    nb_tensor *y = nb_to(t2, NB_DEVICE_CPU);
    assert_values(y, (const double[]){0, 2, 4, 6, 8, 10}, 6, 0, 0);
    nb_release(y);
    nb_release(t2);
    nb_release(t);
}
