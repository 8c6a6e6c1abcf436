/* dlpack.c — DLPack export (nb_to_dlpack) and import (nb_from_dlpack), both without copies.
 *
 * Export: a DLManagedTensor carrying t's shape and strides; its manager context holds a reference
 * to t's storage, which its deleter gives back. Import: nb_from_blob's external storage, with a
 * deleter that calls the producer's. */
#include "device.h"
#include "error.h"
#include "tensor.h"

#include "nabla/dlpack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* DLPack 0.8 names bool kDLBool; Debian 12's header (0.6) predates it. */
#define NB_DL_BOOL 6

/* What an exported tensor owns: the DLManagedTensor, its shape and strides, the storage. */
typedef struct nb_dl_export {
    DLManagedTensor managed;
    int64_t shape[NB_MAX_DIMS];
    int64_t strides[NB_MAX_DIMS];
    nb_storage *storage;
} nb_dl_export;

static void export_deleter(DLManagedTensor *m)
{
    nb_dl_export *e = m->manager_ctx;
    nb__storage_release(e->storage);
    free(e);
}

static bool dl_dtype_of(nb_dtype dtype, DLDataType *out)
{
    switch (dtype) {
    case NB_FLOAT32: *out = (DLDataType){kDLFloat, 32, 1}; return true;
    case NB_FLOAT64: *out = (DLDataType){kDLFloat, 64, 1}; return true;
    case NB_INT64: *out = (DLDataType){kDLInt, 64, 1}; return true;
    case NB_BOOL: *out = (DLDataType){NB_DL_BOOL, 8, 1}; return true;
    case NB_FLOAT16: *out = (DLDataType){kDLFloat, 16, 1}; return true;
    case NB_BFLOAT16: *out = (DLDataType){kDLBfloat, 16, 1}; return true;
    }
    return false;
}

/* Waits until every stream of d is idle: DLPack capsules carry no stream, so memory changes hands
 * only when no work, nabla's or the other library's, is pending on it. */
static bool settle(const char *op, nb_device d)
{
    if (d.type == NB_CPU) return true;
    const nbk_device *table = nb__device_for(op, d);
    return table && nb__kernel_status(op, table->synchronize_all(nb__call(op, d))) == NB_OK;
}

DLManagedTensor *nb_to_dlpack(const nb_tensor *t)
{
    if (nb__is_null("nb_to_dlpack", "tensor", t)) return NULL;
    if (t->requires_grad)
        return nb__fail(NB_ERR_AUTOGRAD, "nb_to_dlpack: cannot export a tensor that requires grad; export "
                        "nb_detach(t)");
    DLDataType dt;
    if (!dl_dtype_of(t->dtype, &dt)) return nb__fail(NB_ERR_DTYPE, "nb_to_dlpack: unknown dtype %d", (int)t->dtype);
    if (!settle("nb_to_dlpack", t->storage->device)) return NULL;
    nb_dl_export *e = calloc(1, sizeof *e);
    if (!e) return nb__fail(NB_ERR_MEMORY, "nb_to_dlpack: out of memory");
    memcpy(e->shape, t->shape, sizeof e->shape);
    memcpy(e->strides, t->strides, sizeof e->strides);
    e->storage = t->storage;
    nb__storage_retain(t->storage);
    DLTensor *d = &e->managed.dl_tensor;
    d->data = nb__ptr(t);
    d->device = (DLDevice){t->storage->device.type == NB_CUDA ? kDLCUDA : kDLCPU, t->storage->device.index};
    d->ndim = t->ndim;
    d->dtype = dt;
    d->shape = e->shape;
    d->strides = e->strides;
    d->byte_offset = 0;
    e->managed.manager_ctx = e;
    e->managed.deleter = export_deleter;
    return &e->managed;
}

static void import_deleter(void *data, void *ctx)
{
    (void)data;
    DLManagedTensor *m = ctx;
    if (m->deleter) m->deleter(m);
}

static const char *dl_device_name(int type)
{
    switch (type) {
    case kDLCPU: return "kDLCPU";
    case kDLCUDA: return "kDLCUDA";
    case kDLCUDAHost: return "kDLCUDAHost";
    case kDLOpenCL: return "kDLOpenCL";
    case kDLVulkan: return "kDLVulkan";
    case kDLMetal: return "kDLMetal";
    case kDLVPI: return "kDLVPI";
    case kDLROCM: return "kDLROCM";
    case kDLROCMHost: return "kDLROCMHost";
    case kDLExtDev: return "kDLExtDev";
    case kDLCUDAManaged: return "kDLCUDAManaged";
    default: return "an unknown device type";
    }
}

static const char *dl_code_name(int code)
{
    switch (code) {
    case kDLInt: return "int";
    case kDLUInt: return "uint";
    case kDLFloat: return "float";
    case kDLBfloat: return "bfloat";
    case kDLComplex: return "complex";
    case NB_DL_BOOL: return "bool";
    default: return "code";
    }
}

nb_tensor *nb_from_dlpack(DLManagedTensor *m)
{
    if (nb__is_null("nb_from_dlpack", "managed tensor", m)) return NULL;
    const DLTensor *d = &m->dl_tensor;
    nb_device device;
    if (d->device.device_type == kDLCPU || d->device.device_type == kDLCUDAHost) device = NB_DEVICE_CPU;
    else if (d->device.device_type == kDLCUDA) device = NB_DEVICE_CUDA(d->device.device_id);
    else
        return nb__fail(NB_ERR_DEVICE, "nb_from_dlpack: the tensor is on %s (device type %d, id %d); expected "
                        "kDLCPU, kDLCUDAHost or kDLCUDA", dl_device_name(d->device.device_type),
                        (int)d->device.device_type, d->device.device_id);
    const DLDataType dt = d->dtype;
    nb_dtype dtype;
    if (dt.lanes != 1)
        return nb__fail(NB_ERR_DTYPE, "nb_from_dlpack: dtype %s%u with %u lanes; nabla takes 1 lane",
                        dl_code_name(dt.code), dt.bits, dt.lanes);
    if (dt.code == kDLFloat && dt.bits == 32) dtype = NB_FLOAT32;
    else if (dt.code == kDLFloat && dt.bits == 64) dtype = NB_FLOAT64;
    else if (dt.code == kDLInt && dt.bits == 64) dtype = NB_INT64;
    else if (dt.code == NB_DL_BOOL && dt.bits == 8) dtype = NB_BOOL;
    else if (dt.code == kDLFloat && dt.bits == 16) dtype = NB_FLOAT16;
    else if (dt.code == kDLBfloat && dt.bits == 16) dtype = NB_BFLOAT16;
    else
        return nb__fail(NB_ERR_DTYPE, "nb_from_dlpack: unsupported dtype %s%u (code %u, %u bits); expected float32, "
                        "float64, int64, bool, float16 or bfloat16", dl_code_name(dt.code), dt.bits, dt.code, dt.bits);
    if (d->ndim < 0 || d->ndim > NB_MAX_DIMS)
        return nb__fail(NB_ERR_ARGUMENT, "nb_from_dlpack: %d dims; nabla tensors have 0 to %d", d->ndim, NB_MAX_DIMS);
    if (d->ndim > 0 && !d->shape) return nb__fail(NB_ERR_NULL, "nb_from_dlpack: shape is NULL for %d dims", d->ndim);
    void *data = d->data ? (char *)d->data + d->byte_offset : NULL;
    if (device.type != NB_CPU && nb_cuda_device_count() > device.index && !settle("nb_from_dlpack", device))
        return NULL;
    return nb__from_blob("nb_from_dlpack", data, d->ndim, d->shape, d->strides, dtype, device, import_deleter, m);
}
