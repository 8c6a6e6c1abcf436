/* extreme.cu — maxima and minima on the GPU: nb_max, nb_min, nb_argmax, nb_argmin and their
 * forms along a dim (nb_max_dim and nb_min_dim also give the indices autograd routes gradients
 * to), with the CPU kernels' results bit for bit.
 *
 * Each thread folds elements into a summary of the set it has seen (struct best): the extreme
 * (a NaN beats every number), the lowest index among the elements equal to it, and which of
 * those elements gives the value's bits. Two summaries combine into the summary of their union,
 * in either order, so a result depends on the values and the layout only: the same for every
 * grid and on every run, with no atomics.
 *
 * Which bits: +0 and -0 compare equal, and NaNs differ in sign and payload. The CPU's loops
 * (kernels/cpu/reduce_loops.c) pick among equal extremes in an order of their own: a row loop
 * keeps LANES partial extremes, argmax scans chunks of ARG_CHUNK, a whole reduction is cut into
 * fixed blocks, and max/min give C's NAN where argmax gives the first NaN itself. `ranking`
 * reproduces that order as a rank per element; of equal extremes, the lowest rank gives the bits.
 *
 * Three ways through a plan, as for sums (reduce.cu):
 *  - one output: a fixed number of blocks (a function of the element count) each fold a
 *    grid-stride share and combine it in a block tree; one more block combines the partials
 *    (from the caching allocator); a single block writes the output directly;
 *  - many outputs with long rows: one block per output;
 *  - many outputs with short rows, or many side-by-side columns: one thread per output.
 * The per-thread work is in __host__ __device__ functions, so a grid can be run on the CPU. */
#include "../cpu/reduce.h"
#include "internal.h"
#include "reduce_plan.cuh"

#include <stdint.h>
#include <string.h>
#include <type_traits>

namespace nb_cuda {
namespace {

/* The CPU's loops whose order of preference ranking reproduces (reduce.c, reduce_loops.c). */
constexpr int64_t CPU_BLOCK = NBK_CPU_REDUCE_BLOCK; /* a whole reduction's fixed blocks */
constexpr int64_t CPU_LANES = 32;                  /* LANES: a row loop's partial extremes */
constexpr int64_t CPU_ARG_CHUNK = 1024;            /* ARG_CHUNK: argmax's chunks of a long row */

/* ---------------------------------------------------------------- which bits */

enum rank_kind {
    RANK_NONE,     /* no values are written, or the dtype has one encoding per value */
    RANK_POSITION, /* the CPU's column loops: the first equal extreme */
    RANK_LANES,    /* the CPU's max/min row loops, over each piece (below) */
    RANK_CHUNKS,   /* the CPU's argmax/argmin row loops, over each piece */
};

/* What a NaN result is. */
enum nan_rule {
    NAN_AS_IS,     /* the first NaN (the column loops) */
    NAN_QUIETED,   /* the first NaN, a float32 one quieted by the row loops' trip through double */
    NAN_CANONICAL, /* C's NAN (the max/min row loops) */
};

/* An output's elements (its row, positions 0..count-1) are cut into pieces at the multiples of
 * block and of row, each the CPU's one call of a row loop; pieces come in order. */
struct ranking {
    int kind;
    int64_t block, row;
    int nan;
};

/* The order in which the CPU's scan of n elements prefers equal extremes, as element k's rank:
 * LANES partial extremes (lane j sees elements j, j + LANES, ..., each starting from element 0)
 * joined in lane order, then the tail in order; fewer than 2·LANES elements in order. */
__host__ __device__ __forceinline__ int64_t lane_rank(int64_t k, int64_t n)
{
    if (n < 2 * CPU_LANES) return k;
    const int64_t full = n - n % CPU_LANES; /* the elements the lanes see */
    if (k >= full) return k;
    return (k % CPU_LANES) * (full / CPU_LANES) + k / CPU_LANES;
}

/* The rank of position r of an output of count elements (ranks are a permutation of 0..count-1). */
__host__ __device__ __forceinline__ int64_t rank_of(const ranking &rk, int64_t r, int64_t count)
{
    if (rk.kind == RANK_NONE) return 0;
    if (rk.kind == RANK_POSITION) return r;
    int64_t start = 0, end = count; /* one piece unless cut (no division then) */
    if (rk.block < count) {
        start = rk.block == CPU_BLOCK ? r & ~(CPU_BLOCK - 1) : r - r % rk.block;
        end = start + rk.block;
    }
    if (rk.row < count) {
        const int64_t row_start = r - r % rk.row;
        if (row_start > start) start = row_start;
        if (row_start + rk.row < end) end = row_start + rk.row;
    }
    if (end > count) end = count;
    const int64_t k = r - start, n = end - start;
    if (rk.kind == RANK_LANES) return start + lane_rank(k, n);
    /* argmax's row loop: the first chunk holding the extreme, its scan's pick (one pass in order
     * below 2·LANES elements, which lane_rank gives too) */
    const int64_t chunk = k - k % CPU_ARG_CHUNK;
    const int64_t len = n - chunk < CPU_ARG_CHUNK ? n - chunk : CPU_ARG_CHUNK;
    return start + chunk + lane_rank(k - chunk, len);
}

/* The CPU's column loops (kernels/cpu/reduce.c, column_dim) serve plans with many outputs whose
 * reduced dim is strided while an outer dim is contiguous. */
bool cpu_takes_columns(const nbk_reduce_plan &p)
{
    if (p.red_ndim != 1 || p.red_strides[0] == 1 || p.red_shape[0] < 2) return false;
    for (int d = 0; d < p.outer_ndim; d++)
        if (p.outer_in_strides[d] == 1 && p.outer_shape[d] > 1) return true;
    return false;
}

/* The CPU's loop for plan p: one output goes through fixed blocks (reduce_output), many
 * through the column loops or whole rows. */
ranking ranking_for(const nbk_reduce_plan &p, bool with_indices, int64_t outputs, int64_t count)
{
    ranking rk = {RANK_NONE, count, count, NAN_AS_IS};
    if (!p.values) return rk; /* indices only */
    if (outputs > 1 && cpu_takes_columns(p)) {
        rk.kind = RANK_POSITION;
        return rk;
    }
    rk.kind = with_indices ? RANK_CHUNKS : RANK_LANES;
    rk.nan = with_indices ? NAN_QUIETED : NAN_CANONICAL;
    if (outputs == 1) {
        rk.block = CPU_BLOCK;
        rk.row = p.red_shape[p.red_ndim - 1];
    }
    return rk;
}

/* ---------------------------------------------------------------- summaries */

/* What one thread, block or stage knows of a set of elements. */
template <class T> struct best {
    T value;       /* the extreme: of equal extremes, the lowest-ranked one's bits */
    int64_t rank;  /* the rank of the element value came from */
    int64_t index; /* the lowest index among the extremes (among the NaNs, when there is one) */
    bool any;      /* false: an empty set */
};

template <class T> __host__ __device__ __forceinline__ bool is_nan(T v)
{
    if constexpr (std::is_floating_point<T>::value) return v != v;
    else return false;
}

/* C's NAN, as the CPU's max/min row loops give it. */
template <class T> __host__ __device__ __forceinline__ T quiet_nan()
{
    if constexpr (sizeof(T) == 4) {
#ifdef __CUDA_ARCH__
        return __int_as_float(0x7fc00000);
#else
        const uint32_t bits = 0x7fc00000u;
        float v;
        memcpy(&v, &bits, sizeof v);
        return v;
#endif
    } else {
#ifdef __CUDA_ARCH__
        return __longlong_as_double(0x7ff8000000000000LL);
#else
        const uint64_t bits = 0x7ff8000000000000ull;
        double v;
        memcpy(&v, &bits, sizeof v);
        return v;
#endif
    }
}

/* v with its quiet bit set, as converting a float32 NaN to double and back does on the CPU. */
__host__ __device__ __forceinline__ float quieted(float v)
{
#ifdef __CUDA_ARCH__
    return __uint_as_float(__float_as_uint(v) | 0x00400000u);
#else
    uint32_t bits;
    memcpy(&bits, &v, sizeof v);
    bits |= 0x00400000u;
    memcpy(&v, &bits, sizeof v);
    return v;
#endif
}

/* a becomes the summary of a's set and b's. */
template <class T, bool MIN> __host__ __device__ __forceinline__ void combine(best<T> &a, const best<T> &b)
{
    if (!b.any) return;
    if (!a.any) {
        a = b;
        return;
    }
    const bool a_nan = is_nan(a.value), b_nan = is_nan(b.value);
    if (a_nan || b_nan) { /* a NaN beats every number; of NaNs, the first */
        if (b_nan && (!a_nan || b.index < a.index)) a = b;
        return;
    }
    if (a.value == b.value) {
        if (b.rank < a.rank) {
            a.value = b.value;
            a.rank = b.rank;
        }
        if (b.index < a.index) a.index = b.index;
        return;
    }
    if (MIN ? b.value < a.value : b.value > a.value) a = b;
}

/* What a reduction needs beyond its plan. */
struct job {
    int64_t index_strides[NB_MAX_DIMS]; /* per reduced dim: the step of the reported index */
    ranking rank;
    int64_t *indices; /* device address of index 0; NULL: values only */
};

/* Folds position r (row-major over the reduced dims) of the output whose element 0 is base. */
template <class T, bool MIN>
__host__ __device__ __forceinline__ void fold(best<T> &acc, const T *base, const nbk_reduce_plan &p,
                                              const job &j, int64_t r, int64_t count)
{
    int64_t off = 0, index = 0;
    if (p.red_ndim == 1) {
        off = r * p.red_strides[0];
        index = r * j.index_strides[0];
    } else {
        int64_t rest = r;
NB_UNROLL
        for (int d = NB_MAX_DIMS - 1; d >= 0; d--) {
            if (d >= p.red_ndim) continue;
            const int64_t c = rest % p.red_shape[d];
            rest /= p.red_shape[d];
            off += c * p.red_strides[d];
            index += c * j.index_strides[d];
        }
    }
    int64_t rank = 0;
    if constexpr (std::is_floating_point<T>::value) rank = rank_of(j.rank, r, count);
    combine<T, MIN>(acc, best<T>{base[off], rank, index, true});
}

/* The shares below are what one thread computes (callable on the host, so a grid can be run
 * there thread by thread). */

/* Stage one of a whole reduction: thread `thread` of block `block` (of `grid`) folds elements
 * block·BLOCK + thread, stepping grid·BLOCK. */
template <class T, bool MIN>
__host__ __device__ __forceinline__ best<T> whole_share(const nbk_reduce_plan &p, const job &j, int64_t count,
                                                        unsigned block, unsigned thread, unsigned grid)
{
    best<T> acc{};
    const int64_t step = (int64_t)grid * BLOCK;
    for (int64_t i = (int64_t)block * BLOCK + thread; i < count; i += step)
        fold<T, MIN>(acc, (const T *)p.in, p, j, i, count);
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
template <class T>
__host__ __device__ __forceinline__ const T *row_of(const nbk_reduce_plan &p, int64_t o)
{
    return (const T *)p.in + offset_of(o, p.outer_ndim, p.outer_shape, p.outer_in_strides);
}

/* One block per output: thread `thread` folds elements thread, thread + BLOCK, ... of output o. */
template <class T, bool MIN>
__host__ __device__ __forceinline__ best<T> row_share(const nbk_reduce_plan &p, const job &j, int64_t o,
                                                      int64_t count, unsigned thread)
{
    const T *row = row_of<T>(p, o);
    best<T> acc{};
    for (int64_t r = thread; r < count; r += BLOCK) fold<T, MIN>(acc, row, p, j, r, count);
    return acc;
}

/* Writes output o (0 for a whole reduction): its index, its value, or both. */
template <class T>
__host__ __device__ __forceinline__ void store(const nbk_reduce_plan &p, const job &j, int64_t o,
                                               const best<T> &b)
{
    /* 0 without outer dims */
    const int64_t at = offset_of(o, p.outer_ndim, p.outer_shape, p.outer_out_strides);
    if (j.indices) j.indices[at] = b.index;
    if (!p.values) return;
    T v = b.value;
    if constexpr (std::is_floating_point<T>::value) {
        if (is_nan(v) && j.rank.nan == NAN_CANONICAL) v = quiet_nan<T>();
        if constexpr (sizeof(T) == 4)
            if (is_nan(v) && j.rank.nan == NAN_QUIETED) v = quieted(v);
    }
    ((T *)p.values)[at] = v;
}

/* One thread per output: output o's row folded in order, and stored. */
template <class T, bool MIN>
__host__ __device__ __forceinline__ void thread_row(const nbk_reduce_plan &p, const job &j, int64_t o,
                                                    int64_t count)
{
    const T *row = row_of<T>(p, o);
    best<T> acc{};
    for (int64_t r = 0; r < count; r++) fold<T, MIN>(acc, row, p, j, r, count);
    store<T>(p, j, o, acc);
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
__global__ void __launch_bounds__(BLOCK)
    whole_kernel(nbk_reduce_plan p, job j, int64_t count, best<T> *partials)
{
    const best<T> b = block_best<T, MIN>(whole_share<T, MIN>(p, j, count, blockIdx.x, threadIdx.x, gridDim.x));
    if (threadIdx.x != 0) return;
    if constexpr (FINAL) store<T>(p, j, 0, b);
    else partials[blockIdx.x] = b;
}

/* Stage two: one block combines the n partials and writes the output. */
template <class T, bool MIN>
__global__ void __launch_bounds__(BLOCK)
    partials_kernel(nbk_reduce_plan p, job j, const best<T> *partials, int64_t n)
{
    const best<T> b = block_best<T, MIN>(partials_share<T, MIN>(partials, n, threadIdx.x));
    if (threadIdx.x == 0) store<T>(p, j, 0, b);
}

/* One block per output: threads stride over the row, then the block tree. */
template <class T, bool MIN>
__global__ void __launch_bounds__(BLOCK)
    block_rows_kernel(nbk_reduce_plan p, job j, int64_t outputs, int64_t count)
{
    for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) { /* uniform across the block */
        const best<T> b = block_best<T, MIN>(row_share<T, MIN>(p, j, o, count, threadIdx.x));
        if (threadIdx.x == 0) store<T>(p, j, o, b);
        __syncthreads(); /* buf is reused by the next output */
    }
}

/* One thread per output, folding its row in order. */
template <class T, bool MIN>
__global__ void __launch_bounds__(BLOCK)
    thread_rows_kernel(nbk_reduce_plan p, job j, int64_t outputs, int64_t count)
{
    const int64_t step = (int64_t)gridDim.x * BLOCK;
    for (int64_t o = (int64_t)blockIdx.x * BLOCK + threadIdx.x; o < outputs; o += step)
        thread_row<T, MIN>(p, j, o, count);
}

/* ---------------------------------------------------------------- launching */

/* The job of plan p; index_strides NULL: row-major over the reduced dims. */
job job_for(const nbk_reduce_plan &p, const int64_t *index_strides, int64_t *indices, int64_t outputs,
            int64_t count)
{
    job j;
    memset(&j, 0, sizeof j);
    int64_t step = 1;
    for (int d = p.red_ndim - 1; d >= 0; d--) {
        j.index_strides[d] = index_strides ? index_strides[d] : step;
        step *= p.red_shape[d];
    }
    j.rank = ranking_for(p, indices != nullptr, outputs, count);
    j.indices = indices;
    return j;
}

/* Checks that plan p describes a reduction the kernels take; NB_OK or the failure recorded. */
nb_status check_plan(const nbk_reduce_plan *p, const int64_t *indices, int64_t outputs, int64_t count)
{
    if (p->red_ndim < 1 || p->red_ndim > NB_MAX_DIMS || p->outer_ndim < 0 || p->outer_ndim > NB_MAX_DIMS)
        return nbk_fail(NB_ERR_ARGUMENT, "a maximum or minimum plan with %d outer and %d reduced dims",
                            p->outer_ndim, p->red_ndim);
    if (!p->values && !indices)
        return nbk_fail(NB_ERR_ARGUMENT, "a maximum or minimum with neither values nor indices to write");
    if (p->values && indices && p->red_ndim != 1)
        return nbk_fail(NB_ERR_ARGUMENT,
                            "a maximum or minimum with values and indices reduces one dim, not %d", p->red_ndim);
    if (outputs > 0 && count == 0)
        return nbk_fail(NB_ERR_ARGUMENT, "a maximum or minimum of no elements (%lld outputs)",
                            (long long)outputs);
    return NB_OK;
}

template <class T, bool MIN>
nb_status extreme(int device, const nbk_reduce_plan *p, const int64_t *index_strides, int64_t *indices)
{
    const int64_t outputs = numel_of(p->outer_ndim, p->outer_shape);
    const int64_t count = numel_of(p->red_ndim, p->red_shape);
    nb_status st = check_plan(p, indices, outputs, count);
    if (st != NB_OK || outputs == 0) return st;
    cudaStream_t stream;
    st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;

    const job j = job_for(*p, index_strides, indices, outputs, count);
    const route r = route_for(*p, outputs, count);
    if (r.kind == ROUTE_BLOCK_ROWS) {
        block_rows_kernel<T, MIN><<<r.grid, BLOCK, 0, stream>>>(*p, j, outputs, count);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    }
    if (r.kind == ROUTE_THREAD_ROWS) {
        thread_rows_kernel<T, MIN><<<r.grid, BLOCK, 0, stream>>>(*p, j, outputs, count);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    }

    /* one output (outer dims, if any, are all of size 1 and add nothing to the addresses) */
    nbk_reduce_plan whole = *p;
    whole.outer_ndim = 0;
    if (r.grid == 1) {
        whole_kernel<T, MIN, true><<<1, BLOCK, 0, stream>>>(whole, j, count, nullptr);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    }
    void *partials = nullptr, *handle = nullptr; /* (grid,) summaries, from the cache */
    st = nbk_cuda_malloc(device, (size_t)r.grid * sizeof(best<T>), &partials, &handle);
    if (st != NB_OK) return st;
    whole_kernel<T, MIN, false><<<r.grid, BLOCK, 0, stream>>>(whole, j, count, (best<T> *)partials);
    st = nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    if (st == NB_OK) {
        partials_kernel<T, MIN><<<1, BLOCK, 0, stream>>>(whole, j, (const best<T> *)partials, (int64_t)r.grid);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a maximum or minimum kernel");
    }
    nbk_cuda_free(device, handle); /* stream order keeps it alive for the kernels queued above */
    return st;
}

template <class T>
nb_status extreme_of(int device, bool take_min, const nbk_reduce_plan *p, const int64_t *index_strides,
                     int64_t *indices)
{
    return take_min ? extreme<T, true>(device, p, index_strides, indices)
                    : extreme<T, false>(device, p, index_strides, indices);
}

} /* namespace */
} /* namespace nb_cuda */

extern "C" nb_status nbk_cuda_extreme(int device, bool take_min, nb_dtype dtype, const nbk_reduce_plan *plan)
{
    const int64_t *index_strides = plan->red_index_strides;
    int64_t *indices = plan->indices;
    switch (dtype) {
    case NB_FLOAT32: return nb_cuda::extreme_of<float>(device, take_min, plan, index_strides, indices);
    case NB_FLOAT64: return nb_cuda::extreme_of<double>(device, take_min, plan, index_strides, indices);
    case NB_INT64: return nb_cuda::extreme_of<int64_t>(device, take_min, plan, index_strides, indices);
    case NB_BOOL: return nb_cuda::extreme_of<bool>(device, take_min, plan, index_strides, indices);
    }
    return nbk_fail(NB_ERR_DTYPE, "no CUDA maximum or minimum for dtype %d", (int)dtype);
}
