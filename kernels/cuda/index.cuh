/* index.cuh — what the CUDA index kernels share (index_gather.cu, index_scatter.cu): the values
 * of a bad gather, adding and scaling per type (bool: or, and), the report of a bad index, and
 * the dispatch on dtype. The rules are kernels/index.h's. */
#ifndef NB_KERNELS_CUDA_INDEX_CUH
#define NB_KERNELS_CUDA_INDEX_CUH

#include "index_kernels.h"

#include "half.cuh"
#include "internal.h"
#include "launch.cuh"

#include <math.h>
#include <stdint.h>

namespace nb_cuda {
namespace index {

template <class T> __host__ __device__ __forceinline__ T bad_value() { return T(0); }
template <> __host__ __device__ __forceinline__ float bad_value<float>() { return nanf(""); }
template <> __host__ __device__ __forceinline__ double bad_value<double>() { return nan(""); }

template <class T> __host__ __device__ __forceinline__ T add_of(T x, T y) { return x + y; }
template <> __host__ __device__ __forceinline__ bool add_of<bool>(bool x, bool y) { return x || y; }
template <class T> __host__ __device__ __forceinline__ T scale_of(T x, T alpha) { return x * alpha; }
template <> __host__ __device__ __forceinline__ bool scale_of<bool>(bool x, bool alpha) { return x && alpha; }
/* a scatter's alpha in T */
template <class T> __host__ __device__ __forceinline__ T alpha_of(double alpha) { return (T)alpha; }

/* float16 and bfloat16: NaN for a bad gather; add and scale in float32, rounded once */
template <> __host__ __device__ __forceinline__ f16 bad_value<f16>() { return f16{0x7E00u}; }
template <> __host__ __device__ __forceinline__ bf16 bad_value<bf16>() { return bf16{0x7FC0u}; }
template <> __host__ __device__ __forceinline__ f16 add_of<f16>(f16 x, f16 y)
{
    return half_from_float<f16>(to_float(x) + to_float(y));
}
template <> __host__ __device__ __forceinline__ bf16 add_of<bf16>(bf16 x, bf16 y)
{
    return half_from_float<bf16>(to_float(x) + to_float(y));
}
template <> __host__ __device__ __forceinline__ f16 scale_of<f16>(f16 x, f16 alpha)
{
    return half_from_float<f16>(to_float(x) * to_float(alpha));
}
template <> __host__ __device__ __forceinline__ bf16 scale_of<bf16>(bf16 x, bf16 alpha)
{
    return half_from_float<bf16>(to_float(x) * to_float(alpha));
}
template <> __host__ __device__ __forceinline__ f16 alpha_of<f16>(double alpha) { return half_from_float<f16>((float)alpha); }
template <> __host__ __device__ __forceinline__ bf16 alpha_of<bf16>(double alpha)
{
    return half_from_float<bf16>((float)alpha);
}

/* Where a thread records a bad index: the device's fault record, or on the host (a check run)
 * the same record written plainly. Kept out of line: it runs only on bad input. */
__host__ __device__ __noinline__ inline void report(nbk_cuda_fault *fault, const char *op, int64_t index,
                                                int64_t position, int64_t bound)
{
#ifdef __CUDA_ARCH__
    nbk_cuda_report_index_fault(fault, op, index, position, bound);
#else
    if (fault && fault->code == 0) *fault = nbk_cuda_fault{NB_CUDA_FAULT_INDEX, index, position, bound, op};
#endif
}

inline int64_t numel_of(const nbk_index_args *a)
{
    int64_t n = 1;
    for (int d = 0; d < a->ndim; d++) n *= a->shape[d];
    return n;
}

/* Runs launch(T) for a's dtype */
template <class F> inline nb_status with_dtype(nb_dtype dtype, F launch)
{
    switch (dtype) {
    case NB_FLOAT32: launch(float{}); return NB_OK;
    case NB_FLOAT64: launch(double{}); return NB_OK;
    case NB_INT64: launch(int64_t{}); return NB_OK;
    case NB_BOOL: launch(bool{}); return NB_OK;
    case NB_FLOAT16: launch(f16{}); return NB_OK;
    case NB_BFLOAT16: launch(bf16{}); return NB_OK;
    }
    return nbk_fail(NB_ERR_DTYPE, "no CUDA index kernel for dtype %d", (int)dtype);
}

} /* namespace index */
} /* namespace nb_cuda */

#endif /* NB_KERNELS_CUDA_INDEX_CUH */
