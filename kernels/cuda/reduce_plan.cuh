/* reduce_plan.cuh — what the reductions over an nbk_reduce_plan share (sums in reduce.cu,
 * extremes in extreme.cu): positions over a plan's dims turned into element offsets, and the
 * choice of kernels for a plan, which depends on its shapes and strides only. */
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

constexpr int BLOCK = 256;                   /* threads per block (a power of two) */
constexpr int64_t PER_THREAD = 8;            /* elements per thread before another block is used */
constexpr int64_t MAX_PARTIALS = 1024;       /* blocks of the first stage of a whole reduction */
constexpr int64_t BLOCK_ROW_MIN = 256;       /* rows at least this long get a block each, */
constexpr int64_t COLUMN_OUTPUTS_MIN = 4096; /* unless they are this many side-by-side columns */
constexpr int64_t MAX_GRID = 65535;          /* blocks of the per-output kernels (they loop) */

inline unsigned capped(int64_t blocks) { return blocks < 1 ? 1u : (unsigned)(blocks < MAX_GRID ? blocks : MAX_GRID); }

enum route_kind {
    ROUTE_WHOLE,       /* one output: blocks of partials, then one block adds them in order */
    ROUTE_BLOCK_ROWS,  /* a block per output (long rows) */
    ROUTE_THREAD_ROWS, /* a thread per output (short rows, or many side-by-side columns) */
};

/* Which kernels run a plan, and on how many blocks (for ROUTE_WHOLE: the first stage's). */
struct route {
    int kind;
    unsigned grid;
};

inline route route_for(const nbk_reduce_plan &p, int64_t outputs, int64_t count)
{
    if (p.outer_ndim > 0 && outputs > 1) {
        /* column reductions (a strided row, outputs side by side in memory) read coalesced with
         * a thread per output once there are enough outputs to fill the device */
        const bool columns = p.red_ndim == 1 && p.red_strides[0] != 1 &&
                             p.outer_in_strides[p.outer_ndim - 1] == 1 && outputs >= COLUMN_OUTPUTS_MIN;
        if (count >= BLOCK_ROW_MIN && !columns) return {ROUTE_BLOCK_ROWS, capped(outputs)};
        return {ROUTE_THREAD_ROWS, capped((outputs + BLOCK - 1) / BLOCK)};
    }
    int64_t blocks = (count + BLOCK * PER_THREAD - 1) / (BLOCK * PER_THREAD);
    if (blocks > MAX_PARTIALS) blocks = MAX_PARTIALS;
    return {ROUTE_WHOLE, blocks < 1 ? 1u : (unsigned)blocks};
}

} /* namespace nb_cuda */

#endif /* NB_KERNELS_CUDA_REDUCE_PLAN_CUH */
