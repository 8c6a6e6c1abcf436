/* reduce_plan.cuh — what the reductions over an nb_cuda_reduce_plan share (sums in reduce.cu,
 * extremes in extreme.cu): positions over a plan's dims turned into element offsets. */
#ifndef NB_KERNELS_CUDA_REDUCE_PLAN_CUH
#define NB_KERNELS_CUDA_REDUCE_PLAN_CUH

#include "internal.h"

#include <stdint.h>

namespace nb_cuda {

/* The row-major position i over (ndim, shape) as an offset with strides (elements). */
__host__ __device__ __forceinline__ int64_t offset_of(int64_t i, int ndim, const int64_t *shape,
                                                      const int64_t *strides)
{
    if (ndim == 1) return i * strides[0];
    int64_t off = 0, rest = i;
NB_UNROLL
    for (int d = NB_MAX_DIMS - 1; d >= 0; d--) {
        if (d >= ndim) continue;
        off += (rest % shape[d]) * strides[d];
        rest /= shape[d];
    }
    return off;
}

inline int64_t numel_of(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

} /* namespace nb_cuda */

#endif /* NB_KERNELS_CUDA_REDUCE_PLAN_CUH */
