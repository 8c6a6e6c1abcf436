/* reduce.cu — sums (and means) on the GPU, deterministic: the order of every addition depends on
 * the shapes only, never on the device, the grid or timing, and no float is added atomically.
 *
 * Accumulation is the CPU's: float32 and float64 in double, rounded once at the end (after the
 * mean's division); int64 and bool in uint64, wrapping, giving int64. Three ways through a plan:
 *  - one output: a fixed number of blocks (a function of the element count) each sum a fixed
 *    grid-stride share with a fixed tree inside the block; one more block adds the partials in
 *    order (a single block writes the output directly);
 *  - many outputs with long rows: one block per output, the same block tree;
 *  - many outputs with short rows, or many side-by-side columns: one thread per output, adding
 *    its row in order (column sums of a row-major matrix read coalesced this way).
 * Which way a plan takes depends on its shapes and strides only. */
#include "internal.h"
#include "reduce_plan.cuh"

#include <stdint.h>
#include <type_traits>

namespace nb_cuda {
namespace {

template <class In> struct acc_of { using type = double; };
template <> struct acc_of<int64_t> { using type = uint64_t; };
template <> struct acc_of<bool> { using type = uint64_t; };
template <class In> struct out_of { using type = In; };
template <> struct out_of<bool> { using type = int64_t; };

/* The shares below are what one thread computes, as functions of their own (callable on the
 * host, so a grid's index math can be checked by running every thread on the CPU). */

/* Stage one of a whole sum: thread `thread` of block `block` (of `grid`) adds elements
 * block·BLOCK + thread, stepping grid·BLOCK. */
template <class In>
__host__ __device__ __forceinline__ typename acc_of<In>::type
whole_share(const nbk_reduce_plan &p, int64_t count, unsigned block, unsigned thread, unsigned grid)
{
    using Acc = typename acc_of<In>::type;
    const In *in = (const In *)p.in;
    Acc acc = 0;
    const int64_t step = (int64_t)grid * BLOCK;
    for (int64_t i = (int64_t)block * BLOCK + thread; i < count; i += step)
        acc += (Acc)in[offset_of(i, p.red_ndim, p.red_shape, p.red_strides)];
    return acc;
}

/* Stage two: thread `thread` adds partials thread, thread + BLOCK, ... */
template <class Acc>
__host__ __device__ __forceinline__ Acc partials_share(const Acc *partials, int64_t n, unsigned thread)
{
    Acc acc = 0;
    for (int64_t i = thread; i < n; i += BLOCK) acc += partials[i];
    return acc;
}

/* One block per output: thread `thread` adds elements thread, thread + BLOCK, ... of output o. */
template <class In>
__host__ __device__ __forceinline__ typename acc_of<In>::type
row_share(const nbk_reduce_plan &p, int64_t o, int64_t count, unsigned thread)
{
    using Acc = typename acc_of<In>::type;
    const In *row = (const In *)p.in + offset_of(o, p.outer_ndim, p.outer_shape, p.outer_in_strides);
    Acc acc = 0;
    for (int64_t r = thread; r < count; r += BLOCK)
        acc += (Acc)row[offset_of(r, p.red_ndim, p.red_shape, p.red_strides)];
    return acc;
}

/* Writes output o (0 for a whole sum) from its total: divided (a mean) and rounded once. */
template <class In>
__host__ __device__ __forceinline__ void store(const nbk_reduce_plan &p, int64_t o,
                                               typename acc_of<In>::type total)
{
    using Out = typename out_of<In>::type;
    Out v;
    if constexpr (std::is_same<typename acc_of<In>::type, double>::value) v = (Out)(total / p.divisor);
    else v = (Out)(int64_t)total;
    ((Out *)p.values)[offset_of(o, p.outer_ndim, p.outer_shape, p.outer_out_strides)] = v; /* 0 without outer dims */
}

/* One thread per output: output o's row added in order, and stored. */
template <class In>
__host__ __device__ __forceinline__ void thread_row(const nbk_reduce_plan &p, int64_t o, int64_t count)
{
    using Acc = typename acc_of<In>::type;
    const In *row = (const In *)p.in + offset_of(o, p.outer_ndim, p.outer_shape, p.outer_in_strides);
    Acc acc = 0;
    for (int64_t r = 0; r < count; r++) acc += (Acc)row[offset_of(r, p.red_ndim, p.red_shape, p.red_strides)];
    store<In>(p, o, acc);
}

/* The sum of every thread's acc in the block, in a fixed tree; the same value in every thread. */
template <class Acc> __device__ __forceinline__ Acc block_sum(Acc acc)
{
    __shared__ Acc buf[BLOCK];
    buf[threadIdx.x] = acc;
    __syncthreads();
NB_UNROLL
    for (int s = BLOCK / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
        __syncthreads();
    }
    return buf[0];
}

/* Stage one of a whole sum: each block writes its partial, or (FINAL, one block) the output. */
template <class In, bool FINAL>
__global__ void __launch_bounds__(BLOCK)
    whole_kernel(nbk_reduce_plan p, int64_t count, typename acc_of<In>::type *partials)
{
    auto acc = block_sum(whole_share<In>(p, count, blockIdx.x, threadIdx.x, gridDim.x));
    if (threadIdx.x != 0) return;
    if constexpr (FINAL) store<In>(p, 0, acc);
    else partials[blockIdx.x] = acc;
}

/* Stage two: one block adds the n partials in order and writes the output. */
template <class In>
__global__ void __launch_bounds__(BLOCK)
    partials_kernel(nbk_reduce_plan p, const typename acc_of<In>::type *partials, int64_t n)
{
    auto acc = block_sum(partials_share(partials, n, threadIdx.x));
    if (threadIdx.x == 0) store<In>(p, 0, acc);
}

/* One block per output: threads stride over the row, then the block tree. */
template <class In>
__global__ void __launch_bounds__(BLOCK) block_rows_kernel(nbk_reduce_plan p, int64_t outputs, int64_t count)
{
    for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) { /* uniform across the block */
        auto acc = block_sum(row_share<In>(p, o, count, threadIdx.x));
        if (threadIdx.x == 0) store<In>(p, o, acc);
        __syncthreads(); /* buf is reused by the next output */
    }
}

/* One thread per output, adding its row in order. */
template <class In>
__global__ void __launch_bounds__(BLOCK) thread_rows_kernel(nbk_reduce_plan p, int64_t outputs, int64_t count)
{
    const int64_t step = (int64_t)gridDim.x * BLOCK;
    for (int64_t o = (int64_t)blockIdx.x * BLOCK + threadIdx.x; o < outputs; o += step) thread_row<In>(p, o, count);
}

template <class In> nb_status sum(int device, const nbk_reduce_plan *p)
{
    using Acc = typename acc_of<In>::type;
    if (p->red_ndim < 1 || p->red_ndim > NB_MAX_DIMS || p->outer_ndim < 0 || p->outer_ndim > NB_MAX_DIMS)
        return nbk_fail(NB_ERR_ARGUMENT, "a sum plan with %d outer and %d reduced dims", p->outer_ndim,
                            p->red_ndim);
    const int64_t outputs = numel_of(p->outer_ndim, p->outer_shape);
    const int64_t count = numel_of(p->red_ndim, p->red_shape);
    if (outputs == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;

    const route r = route_for(*p, outputs, count);
    if (r.kind == ROUTE_BLOCK_ROWS) {
        block_rows_kernel<In><<<r.grid, BLOCK, 0, stream>>>(*p, outputs, count);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a sum kernel");
    }
    if (r.kind == ROUTE_THREAD_ROWS) {
        thread_rows_kernel<In><<<r.grid, BLOCK, 0, stream>>>(*p, outputs, count);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a sum kernel");
    }

    /* one output (outer dims, if any, are all of size 1 and add nothing to the address) */
    nbk_reduce_plan whole = *p;
    whole.outer_ndim = 0;
    const int64_t blocks = r.grid;
    if (blocks <= 1) {
        whole_kernel<In, true><<<1, BLOCK, 0, stream>>>(whole, count, nullptr);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a sum kernel");
    }
    void *partials = nullptr, *handle = nullptr; /* (blocks,) accumulators, from the cache */
    st = nbk_cuda_malloc(device, (size_t)blocks * sizeof(Acc), &partials, &handle);
    if (st != NB_OK) return st;
    whole_kernel<In, false><<<(unsigned)blocks, BLOCK, 0, stream>>>(whole, count, (Acc *)partials);
    st = nbk_cuda_check(cudaGetLastError(), device, "launching a sum kernel");
    if (st == NB_OK) {
        partials_kernel<In><<<1, BLOCK, 0, stream>>>(whole, (const Acc *)partials, blocks);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a sum kernel");
    }
    nbk_cuda_free(device, handle); /* stream order keeps it alive for the kernels queued above */
    return st;
}

} /* namespace */
} /* namespace nb_cuda */

extern "C" nb_status nbk_cuda_sum(int device, nb_dtype dtype, const nbk_reduce_plan *plan)
{
    switch (dtype) {
    case NB_FLOAT32: return nb_cuda::sum<float>(device, plan);
    case NB_FLOAT64: return nb_cuda::sum<double>(device, plan);
    case NB_INT64: return nb_cuda::sum<int64_t>(device, plan);
    case NB_BOOL: return nb_cuda::sum<bool>(device, plan);
    case NB_FLOAT16: case NB_BFLOAT16: break; /* computed in float32 (lib/half.c) */
    }
    return nbk_fail(NB_ERR_DTYPE, "no CUDA sum for dtype %d", (int)dtype);
}
