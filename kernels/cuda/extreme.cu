/* extreme.cu — maxima and minima on the GPU: nb_max, nb_min, nb_argmax, nb_argmin and their
 * forms along a dim (nb_max_dim and nb_min_dim also give the indices autograd routes gradients
 * to), by the rule of kernels/reduce.h, so the results have the CPU's bits.
 *
 * The rule is an order on elements: a NaN comes before every number, then the further value
 * (larger for a maximum), then the lower index (so of values equal under ==, +0 and -0 too, and
 * of NaNs, the first wins). Each thread folds elements into a summary of the set it has seen
 * (struct best): the element first in that order, as its bits and its index. Two summaries
 * combine into the summary of their union, in any order and grouping, so a result depends on
 * the values and the layout only: the same for every grid and on every run, with no atomics.
 *
 * Three ways through a plan, as for sums (reduce.cu, route_for in reduce_plan.cuh):
 *  - one output: a fixed number of blocks (a function of the element count) each fold a
 *    grid-stride share and combine it in a block tree; one more block combines the partials
 *    (from the caching allocator); a single block writes the output directly;
 *  - many outputs with long rows: one block per output;
 *  - many outputs with short rows, or many side-by-side columns: one thread per output.
 * The per-thread work is in __host__ __device__ functions, so a grid can be run on the CPU. */
#include "internal.h"
#include "reduce_plan.cuh"

#include <stdint.h>
#include <type_traits>

namespace nb_cuda {
namespace {

/* ---------------------------------------------------------------- summaries */

/* What one thread, block or stage knows of a set of elements: the element that wins the rule. */
template <class T> struct best {
    T value;       /* its value, bits unchanged (only copied, never converted) */
    int64_t index; /* its index, as argmax reports it */
    bool any;      /* false: an empty set */
};

template <class T> __host__ __device__ __forceinline__ bool is_nan(T v)
{
    if constexpr (std::is_floating_point<T>::value) return v != v;
    else return false;
}

/* b comes before a in the rule's order: a NaN before a number; then the further value; then, of
 * equal values or of two NaNs, the lower index. */
template <class T, bool MIN> __host__ __device__ __forceinline__ bool wins(const best<T> &b, const best<T> &a)
{
    const bool a_nan = is_nan(a.value), b_nan = is_nan(b.value);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && b.value != a.value) return MIN ? b.value < a.value : b.value > a.value;
    return b.index < a.index;
}

/* a becomes the summary of a's set and b's. */
template <class T, bool MIN> __host__ __device__ __forceinline__ void combine(best<T> &a, const best<T> &b)
{
    if (b.any && (!a.any || wins<T, MIN>(b, a))) a = b;
}

/* Folds position r (row-major over the reduced dims) of the output whose element 0 is base: its
 * address from red_strides, its index from red_index_strides. */
template <class T, bool MIN>
__host__ __device__ __forceinline__ void fold(best<T> &acc, const T *base, const nbk_reduce_plan &p, int64_t r)
{
    int64_t off = 0, index = 0;
    if (p.red_ndim == 1) {
        off = r * p.red_strides[0];
        index = r * p.red_index_strides[0];
    } else {
        int64_t rest = r;
NB_UNROLL
        for (int d = NB_MAX_DIMS - 1; d >= 0; d--) {
            if (d >= p.red_ndim) continue;
            const int64_t c = rest % p.red_shape[d];
            rest /= p.red_shape[d];
            off += c * p.red_strides[d];
            index += c * p.red_index_strides[d];
        }
    }
    combine<T, MIN>(acc, best<T>{base[off], index, true});
}

/* The shares below are what one thread computes (callable on the host, so a grid can be run
 * there thread by thread). */

/* Stage one of a whole reduction: thread `thread` of block `block` (of `grid`) folds elements
 * block·BLOCK + thread, stepping grid·BLOCK. */
template <class T, bool MIN>
__host__ __device__ __forceinline__ best<T> whole_share(const nbk_reduce_plan &p, int64_t count, unsigned block,
                                                        unsigned thread, unsigned grid)
{
    best<T> acc{};
    const int64_t step = (int64_t)grid * BLOCK;
    for (int64_t i = (int64_t)block * BLOCK + thread; i < count; i += step) fold<T, MIN>(acc, (const T *)p.in, p, i);
    return acc;
}

/* Stage two: thread `thread` combines partials thread, thread + BLOCK, ... */
template <class T, bool MIN>
__host__ __device__ __forceinline__ best<T> partials_share(const best<T> *partials, int64_t n, unsigned thread)
{
    best<T> acc{};
    for (int64_t i = thread; i < n; i += BLOCK) combine<T, MIN>(acc, partials[i]);
    return acc;
}

/* Element 0 of output o. */
template <class T> __host__ __device__ __forceinline__ const T *row_of(const nbk_reduce_plan &p, int64_t o)
{
    return (const T *)p.in + offset_of(o, p.outer_ndim, p.outer_shape, p.outer_in_strides);
}

/* One block per output: thread `thread` folds elements thread, thread + BLOCK, ... of output o. */
template <class T, bool MIN>
__host__ __device__ __forceinline__ best<T> row_share(const nbk_reduce_plan &p, int64_t o, int64_t count,
                                                      unsigned thread)
{
    const T *row = row_of<T>(p, o);
    best<T> acc{};
    for (int64_t r = thread; r < count; r += BLOCK) fold<T, MIN>(acc, row, p, r);
    return acc;
}

/* Writes output o (0 for a whole reduction): its index, its value (the element's bits), or both. */
template <class T> __host__ __device__ __forceinline__ void store(const nbk_reduce_plan &p, int64_t o, const best<T> &b)
{
    const int64_t at = offset_of(o, p.outer_ndim, p.outer_shape, p.outer_out_strides); /* 0 without outer dims */
    if (p.indices) p.indices[at] = b.index;
    if (p.values) ((T *)p.values)[at] = b.value;
}

/* One thread per output: output o's row folded in order, and stored. */
template <class T, bool MIN>
__host__ __device__ __forceinline__ void thread_row(const nbk_reduce_plan &p, int64_t o, int64_t count)
{
    const T *row = row_of<T>(p, o);
    best<T> acc{};
    for (int64_t r = 0; r < count; r++) fold<T, MIN>(acc, row, p, r);
    store<T>(p, o, acc);
}

/* ---------------------------------------------------------------- kernels */

/* The summary of the block's elements from each thread's, combined in a fixed tree; the same in
 * every thread. */
template <class T, bool MIN> __device__ __forceinline__ best<T> block_best(const best<T> &mine)
{
    __shared__ best<T> buf[BLOCK];
    buf[threadIdx.x] = mine;
    __syncthreads();
NB_UNROLL
    for (int s = BLOCK / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) combine<T, MIN>(buf[threadIdx.x], buf[threadIdx.x + s]);
        __syncthreads();
    }
    return buf[0];
}

/* Stage one of a whole reduction: each block writes its partial, or (FINAL, one block) the output. */
template <class T, bool MIN, bool FINAL>
__global__ void __launch_bounds__(BLOCK) whole_kernel(nbk_reduce_plan p, int64_t count, best<T> *partials)
{
    const best<T> b = block_best<T, MIN>(whole_share<T, MIN>(p, count, blockIdx.x, threadIdx.x, gridDim.x));
    if (threadIdx.x != 0) return;
    if constexpr (FINAL) store<T>(p, 0, b);
    else partials[blockIdx.x] = b;
}

/* Stage two: one block combines the n partials and writes the output. */
template <class T, bool MIN>
__global__ void __launch_bounds__(BLOCK) partials_kernel(nbk_reduce_plan p, const best<T> *partials, int64_t n)
{
    const best<T> b = block_best<T, MIN>(partials_share<T, MIN>(partials, n, threadIdx.x));
    if (threadIdx.x == 0) store<T>(p, 0, b);
}

/* One block per output: threads stride over the row, then the block tree. */
template <class T, bool MIN>
__global__ void __launch_bounds__(BLOCK) block_rows_kernel(nbk_reduce_plan p, int64_t outputs, int64_t count)
{
    for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) { /* uniform across the block */
        const best<T> b = block_best<T, MIN>(row_share<T, MIN>(p, o, count, threadIdx.x));
        if (threadIdx.x == 0) store<T>(p, o, b);
        __syncthreads(); /* buf is reused by the next output */
    }
}

/* One thread per output, folding its row in order. */
template <class T, bool MIN>
__global__ void __launch_bounds__(BLOCK) thread_rows_kernel(nbk_reduce_plan p, int64_t outputs, int64_t count)
{
    const int64_t step = (int64_t)gridDim.x * BLOCK;
    for (int64_t o = (int64_t)blockIdx.x * BLOCK + threadIdx.x; o < outputs; o += step)
        thread_row<T, MIN>(p, o, count);
}

/* ---------------------------------------------------------------- launching */

/* Checks that plan p describes a reduction the kernels take; NB_OK or the failure recorded. */
nb_status check_plan(const nbk_reduce_plan *p, int64_t outputs, int64_t count)
{
    if (p->red_ndim < 1 || p->red_ndim > NB_MAX_DIMS || p->outer_ndim < 0 || p->outer_ndim > NB_MAX_DIMS)
        return nbk_fail(NB_ERR_ARGUMENT, "a maximum or minimum plan with %d outer and %d reduced dims",
                        p->outer_ndim, p->red_ndim);
    if (!p->values && !p->indices)
        return nbk_fail(NB_ERR_ARGUMENT, "a maximum or minimum with neither values nor indices to write");
    if (count == 0)
        return nbk_fail(NB_ERR_ARGUMENT, "a maximum or minimum of no elements (%lld outputs)", (long long)outputs);
    return NB_OK;
}

template <class T, bool MIN> nb_status extreme(int device, const nbk_reduce_plan *p)
{
    /* no outputs: nothing to do, whatever else the plan says */
    const bool outer_ok = p->outer_ndim >= 0 && p->outer_ndim <= NB_MAX_DIMS;
    const int64_t outputs = outer_ok ? numel_of(p->outer_ndim, p->outer_shape) : 1;
    if (outputs == 0) return NB_OK;
    const bool red_ok = p->red_ndim >= 1 && p->red_ndim <= NB_MAX_DIMS;
    const int64_t count = red_ok ? numel_of(p->red_ndim, p->red_shape) : 0;
    nb_status st = check_plan(p, outputs, count);
    if (st != NB_OK) return st;
    cudaStream_t stream;
    st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;

    const route r = route_for(*p, outputs, count);
    if (r.kind == ROUTE_BLOCK_ROWS) {
        block_rows_kernel<T, MIN><<<r.grid, BLOCK, 0, stream>>>(*p, outputs, count);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    }
    if (r.kind == ROUTE_THREAD_ROWS) {
        thread_rows_kernel<T, MIN><<<r.grid, BLOCK, 0, stream>>>(*p, outputs, count);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    }

    /* one output (outer dims, if any, are all of size 1 and add nothing to the addresses) */
    nbk_reduce_plan whole = *p;
    whole.outer_ndim = 0;
    if (r.grid == 1) {
        whole_kernel<T, MIN, true><<<1, BLOCK, 0, stream>>>(whole, count, nullptr);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    }
    void *partials = nullptr, *handle = nullptr; /* (grid,) summaries, from the cache */
    st = nbk_cuda_malloc(device, (size_t)r.grid * sizeof(best<T>), &partials, &handle);
    if (st != NB_OK) return st;
    whole_kernel<T, MIN, false><<<r.grid, BLOCK, 0, stream>>>(whole, count, (best<T> *)partials);
    st = nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    if (st == NB_OK) {
        partials_kernel<T, MIN><<<1, BLOCK, 0, stream>>>(whole, (const best<T> *)partials, (int64_t)r.grid);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    }
    nbk_cuda_free(device, handle); /* stream order keeps it alive for the kernels queued above */
    return st;
}

template <class T> nb_status extreme_of(int device, bool take_min, const nbk_reduce_plan *p)
{
    return take_min ? extreme<T, true>(device, p) : extreme<T, false>(device, p);
}

} /* namespace */
} /* namespace nb_cuda */

extern "C" nb_status nbk_cuda_extreme(int device, bool take_min, nb_dtype dtype, const nbk_reduce_plan *plan)
{
    switch (dtype) {
    case NB_FLOAT32: return nb_cuda::extreme_of<float>(device, take_min, plan);
    case NB_FLOAT64: return nb_cuda::extreme_of<double>(device, take_min, plan);
    case NB_INT64: return nb_cuda::extreme_of<int64_t>(device, take_min, plan);
    case NB_BOOL: return nb_cuda::extreme_of<bool>(device, take_min, plan);
    case NB_FLOAT16: case NB_BFLOAT16: break; /* computed in float32 (lib/half.c) */
    }
    return nbk_fail(NB_ERR_DTYPE, "no CUDA maximum or minimum for dtype %d", (int)dtype);
}
