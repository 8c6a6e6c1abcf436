/* internal.h — what the CUDA backend's files share (host side, C and CUDA C++): making a device
 * current and getting its stream, the lock of its cuBLAS handle, and recording failures with
 * CUDA's own message for nb_cuda_error(). */
#ifndef NB_KERNELS_CUDA_INTERNAL_H
#define NB_KERNELS_CUDA_INTERNAL_H

#include "cuda.h"

#include <cuda_runtime.h>

/* "#pragma unroll" for loops in functions compiled for both the device and the host: the device
 * pass unrolls, the host compiler (which does not know the pragma) sees nothing. */
#ifdef __CUDA_ARCH__
#define NB_UNROLL _Pragma("unroll")
#else
#define NB_UNROLL
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Makes device current on this thread and gives its stream (created on first use); an error
 * (NB_ERR_DEVICE) for an index that is not a device or a device that cannot be used. */
nb_status nb_cuda_use(int device, cudaStream_t *stream);
/* The lock that serialises one device's cuBLAS handle (gemm.c). */
void nb_cuda_lock(int device);
void nb_cuda_unlock(int device);

/* Records a printf-style message as this thread's nb_cuda_error() and returns status. */
nb_status nb_cuda_fail(nb_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NB_OK for cudaSuccess; otherwise clears CUDA's last error and records "what on cuda:N:
 * <CUDA's message> (<error name>)": NB_ERR_MEMORY for an allocation failure, else NB_ERR_DEVICE. */
nb_status nb_cuda_check(cudaError_t err, int device, const char *what);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_INTERNAL_H */
