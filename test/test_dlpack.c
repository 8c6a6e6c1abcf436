/* test_dlpack.c — suite interop: nb_to_dlpack and nb_from_dlpack. Exports carry the tensor's
 * memory, shape, strides, device and dtype and keep the storage alive until their deleter runs;
 * imports honour strides and byte_offset, share memory, and call the producer's deleter exactly
 * once; unsupported devices and dtypes are refused with a message, leaving the tensor the
 * caller's. The exchange with PyTorch is test/dlpack_torch.py. */
#include "cuda_checks.h"
#include "helpers.h"

#include <nabla/dlpack.h>
#include <stdlib.h>
#include <string.h>

TestSuite(dlpack, .init = nb_test_setup);

/* A hand-made producer: a DLManagedTensor over its own buffer, counting its deleter's calls. */
typedef struct producer {
    DLManagedTensor m;
    int64_t shape[NB_MAX_DIMS], strides[NB_MAX_DIMS];
    double data[24];
    int *deleted;
} producer;

static void producer_deleter(DLManagedTensor *m)
{
    producer *p = m->manager_ctx;
    ++*p->deleted;
    free(p);
}

static producer *make_producer(int *deleted, int ndim, const int64_t *shape, const int64_t *strides)
{
    producer *p = calloc(1, sizeof *p);
    for (int i = 0; i < 24; i++) p->data[i] = i;
    if (ndim > 0) memcpy(p->shape, shape, (size_t)ndim * sizeof *shape);
    if (strides) memcpy(p->strides, strides, (size_t)ndim * sizeof *strides);
    p->deleted = deleted;
    p->m.manager_ctx = p;
    p->m.deleter = producer_deleter;
    p->m.dl_tensor = (DLTensor){.data = p->data, .device = {kDLCPU, 0}, .ndim = ndim, .dtype = {kDLFloat, 64, 1},
                                .shape = p->shape, .strides = strides ? p->strides : NULL, .byte_offset = 0};
    return p;
}

Test(dlpack, export_describes_the_tensor)
{
    nb_tensor *a = nb_arange(0, 12, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *v = nb_reshape(a, NB_SHAPE(3, 4));
    nb_tensor *vt = nb_t(v);
    nb_tensor *t = nb_narrow(vt, 0, 1, 2); /* (2, 3), strides (1, 4), first element 1 */
    DLManagedTensor *m = nb_to_dlpack(t);
    cr_assert(m, "%s", nb_last_error());
    const DLTensor *d = &m->dl_tensor;
    cr_assert_eq(d->device.device_type, kDLCPU);
    cr_assert_eq(d->device.device_id, 0);
    cr_assert(d->dtype.code == kDLFloat && d->dtype.bits == 32 && d->dtype.lanes == 1);
    cr_assert_eq(d->ndim, 2);
    cr_assert(d->shape[0] == 2 && d->shape[1] == 3);
    cr_assert(d->strides[0] == 1 && d->strides[1] == 4, "strides (%lld, %lld)", (long long)d->strides[0],
              (long long)d->strides[1]);
    cr_assert_eq(d->byte_offset, 0u);
    cr_assert_eq(d->data, nb_data(t));
    cr_assert_float_eq(((float *)d->data)[0], 1.0f, 0);
    nb_release(t);
    nb_release(vt);
    nb_release(v);
    nb_release(a);
    /* the export alone keeps the storage: reading it now is checked by ASan */
    cr_assert_float_eq(((float *)d->data)[4 * 2 + 1], 10.0f, 0); /* element (1, 2) */
    m->deleter(m);
}

Test(dlpack, dtypes_map_both_ways)
{
    const nb_dtype dtypes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL, NB_FLOAT16, NB_BFLOAT16};
    const uint8_t codes[] = {kDLFloat, kDLFloat, kDLInt, 6, kDLFloat, kDLBfloat}, bits[] = {32, 64, 64, 8, 16, 16};
    for (int i = 0; i < 6; i++) {
        nb_tensor *t = nb_ones(NB_SHAPE(2, 2), NB_OPTS(dtypes[i]));
        DLManagedTensor *m = nb_to_dlpack(t);
        cr_assert(m->dl_tensor.dtype.code == codes[i] && m->dl_tensor.dtype.bits == bits[i], "%s",
                  nb_dtype_name(dtypes[i]));
        nb_tensor *back = nb_from_dlpack(m);
        cr_assert(back, "%s", nb_last_error());
        cr_assert_eq(nb_dtype_of(back), dtypes[i]);
        cr_assert_eq(nb_data(back), nb_data(t), "the round trip shares memory");
        nb_release(t);
        nb_release(back); /* calls m's deleter, which gives back the storage */
    }
}

Test(dlpack, round_trip_shares_memory)
{
    nb_tensor *t = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
    nb_tensor *u = nb_from_dlpack(nb_to_dlpack(t));
    nb_fill_(u, 7);
    assert_values(t, (const double[]){7, 7, 7}, 3, 0, 0);
    nb_add_scalar_(t, 1);
    assert_values(u, (const double[]){8, 8, 8}, 3, 0, 0);
    nb_release(t);
    nb_tensor *w = nb_mul_scalar(u, 2); /* u alone keeps the memory now */
    assert_values(w, (const double[]){16, 16, 16}, 3, 0, 0);
    nb_release(w);
    nb_release(u);
}

Test(dlpack, import_honours_strides_and_byte_offset)
{
    int deleted = 0;
    producer *p = make_producer(&deleted, 2, (const int64_t[]){2, 3}, (const int64_t[]){1, 4});
    p->m.dl_tensor.byte_offset = 2 * sizeof(double); /* starts at element 2 */
    nb_tensor *t = nb_from_dlpack(&p->m);
    cr_assert(t, "%s", nb_last_error());
    assert_values(t, (const double[]){2, 6, 10, 3, 7, 11}, 6, 0, 0);
    nb_tensor *row = nb_select(t, 0, 1);
    nb_release(t);
    cr_assert_eq(deleted, 0);
    nb_mul_scalar_(row, -1);
    cr_assert_float_eq(p->data[7], -7.0, 0);
    nb_release(row);
    cr_assert_eq(deleted, 1, "deleter called %d times", deleted);
}

Test(dlpack, import_contiguous_and_zero_dim)
{
    int deleted = 0;
    producer *p = make_producer(&deleted, 3, (const int64_t[]){2, 3, 4}, NULL);
    nb_tensor *t = nb_from_dlpack(&p->m);
    cr_assert(nb_is_contiguous(t));
    nb_tensor *s = nb_sum(t);
    cr_assert_float_eq(nb_item(s), 276.0, 0);
    nb_release(s);
    nb_release(t);
    producer *z = make_producer(&deleted, 0, NULL, NULL);
    z->m.dl_tensor.byte_offset = 5 * sizeof(double);
    t = nb_from_dlpack(&z->m);
    cr_assert_eq(nb_ndim(t), 0);
    cr_assert_float_eq(nb_item(t), 5.0, 0);
    nb_release(t);
    cr_assert_eq(deleted, 2);
}

Test(dlpack, refusals_leave_the_tensor_to_the_caller)
{
    int deleted = 0;
    producer *p = make_producer(&deleted, 2, (const int64_t[]){2, 3}, NULL);
    DLTensor *d = &p->m.dl_tensor;
    d->device = (DLDevice){kDLOpenCL, 0};
    cr_assert_null(nb_from_dlpack(&p->m));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_from_dlpack", "kDLOpenCL", "expected kDLCPU, kDLCUDAHost or kDLCUDA"));
    d->device = (DLDevice){kDLCPU, 0};
    d->dtype = (DLDataType){kDLUInt, 8, 1};
    cr_assert_null(nb_from_dlpack(&p->m));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_from_dlpack", "unsupported dtype uint8",
                                         "expected float32, float64, int64, bool, float16 or bfloat16"));
    d->dtype = (DLDataType){kDLFloat, 8, 1};
    cr_assert_null(nb_from_dlpack(&p->m));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_from_dlpack", "unsupported dtype float8"));
    d->dtype = (DLDataType){kDLFloat, 32, 4};
    cr_assert_null(nb_from_dlpack(&p->m));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_from_dlpack", "4 lanes"));
    d->dtype = (DLDataType){kDLFloat, 64, 1};
    d->byte_offset = 3;
    cr_assert_null(nb_from_dlpack(&p->m));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_from_dlpack", "not aligned to its float64 elements"));
    d->byte_offset = 0;
    d->strides = p->strides;
    p->strides[0] = -3, p->strides[1] = 1;
    cr_assert_null(nb_from_dlpack(&p->m));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_from_dlpack", "stride -3 of dim 0 is negative"));
    d->ndim = 9;
    cr_assert_null(nb_from_dlpack(&p->m));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_from_dlpack", "9 dims"));
    cr_assert_null(nb_from_dlpack(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_from_dlpack"));
    cr_assert_eq(deleted, 0, "a refused import never calls the deleter");
    p->m.deleter(&p->m);
    cr_assert_eq(deleted, 1);
}

Test(dlpack, export_refuses_a_tensor_that_requires_grad)
{
    nb_tensor *t = nb_requires_grad_(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), true);
    cr_assert_null(nb_to_dlpack(t));
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_to_dlpack", "requires grad", "nb_detach"));
    cr_assert_null(nb_to_dlpack(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_to_dlpack"));
    nb_tensor *d = nb_detach(t);
    DLManagedTensor *m = nb_to_dlpack(d);
    cr_assert(m, "%s", nb_last_error());
    m->deleter(m);
    nb_release(d);
    nb_release(t);
}

Test(dlpack, cuda_tensors_stay_on_their_device, .init = cuda_test_setup)
{
    nb_tensor *a = nb_arange(0, 6, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *t = nb_to(a, NB_DEVICE_CUDA(0));
    nb_release(a);
    DLManagedTensor *m = nb_to_dlpack(t);
    cr_assert(m, "%s", nb_last_error());
    cr_assert_eq(m->dl_tensor.device.device_type, kDLCUDA);
    cr_assert_eq(m->dl_tensor.device.device_id, 0);
    nb_tensor *u = nb_from_dlpack(m);
    cr_assert(u, "%s", nb_last_error());
    cr_assert_eq(nb_device_of(u).type, NB_CUDA);
    nb_mul_scalar_(u, 3);
    nb_tensor *host = nb_to(t, NB_DEVICE_CPU);
    assert_values(host, (const double[]){0, 3, 6, 9, 12, 15}, 6, 0, 0);
    nb_release(host);
    nb_release(u);
    nb_release(t);
}
