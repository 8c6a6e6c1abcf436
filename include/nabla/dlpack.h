/* nabla/dlpack.h — zero-copy exchange of tensors with other libraries (PyTorch, NumPy, CuPy, JAX)
 * through DLPack's DLManagedTensor. Not included by nabla.h: it needs <dlpack/dlpack.h>
 * (Debian: libdlpack-dev), which a program that does not exchange tensors should not need.
 *
 * CUDA: a capsule carries no stream, so both calls first wait for all work on the device (every
 * stream, nabla's and other libraries'). Work either side queues later on shared memory must be
 * waited for by the caller before the other side reads it (torch.cuda.synchronize(), or a copy
 * of the tensor to the host on nabla's side). */
#ifndef NABLA_DLPACK_H
#define NABLA_DLPACK_H

#include "../nabla.h"

#include <dlpack/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* t's memory as a DLManagedTensor (no copy; kDLCPU, or kDLCUDA with t's device index): shape,
 * strides in elements, data at t's first element (byte_offset 0, as PyTorch expects). dtypes:
 * float32, float64, int64, bool (kDLBool, code 6), float16 and bfloat16. The storage stays alive
 * until the consumer calls the result's deleter, exactly once. Like torch.utils.dlpack, a tensor that requires grad
 * is refused (export a detached one). */
NB_API DLManagedTensor *nb_to_dlpack(const nb_tensor *t);
/* A tensor over m's memory (no copy): data + byte_offset, with m's strides (NULL: contiguous),
 * on the CPU (kDLCPU, kDLCUDAHost) or CUDA device m's device_id. m->deleter(m) is called exactly
 * once, when the last tensor or view sharing the memory is released. On failure (an unsupported
 * device or dtype, lanes > 1, negative strides, misaligned data) NULL and an error, and m still
 * belongs to the caller. */
NB_API nb_tensor *nb_from_dlpack(DLManagedTensor *m);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_DLPACK_H */
