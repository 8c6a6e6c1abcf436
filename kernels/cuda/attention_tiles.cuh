/* attention_tiles.cuh — what the fused attention kernels' block code shares
 * (attention_forward.cuh, attention_backward.cuh): the tile sizes, the executors that run a
 * block's phases on a GPU or on the host, the register-tiled product of two shared-memory tiles,
 * and the per-element helpers.
 *
 * A work item is a fixed sequence of phases separated by barriers, written once over an executor:
 *  - BlockExec runs each phase on every thread of a CUDA block, then __syncthreads();
 *  - HostExec runs each phase for thread 0, 1, ... in turn on the host, which is how the tests
 *    check the kernels' own code where there is no GPU (nbk_cuda_attention_*_on_host).
 * A thread's registers that live across phases (its accumulators) are its executor's state(t).
 * Threads form a TY x TX grid: thread (ty, tx) owns rows ty + TY i and columns tx + TX j of a
 * tile, so that a warp reads shared memory without bank conflicts. */
#ifndef NB_CUDA_ATTENTION_TILES_CUH
#define NB_CUDA_ATTENTION_TILES_CUH

#include "../attention.h"
#include "attention.h"
#include "half.cuh"
#include "internal.h" /* NB_UNROLL */

#include <math.h>
#include <stdint.h>

namespace nb_cuda {
namespace attention {

/* Query rows (BQ) and keys (BK) of a tile per compute type. */
template <class T> struct Tiles;
template <> struct Tiles<float> {
    static constexpr int BQ = 64, BK = 64;
};
template <> struct Tiles<double> { /* smaller, to fit shared memory at head dim 128 */
    static constexpr int BQ = 32, BK = 32;
};
constexpr int TY = 16, TX = 8, THREADS = TY * TX;
constexpr int DV_MAX = NBK_CUDA_ATTENTION_MAX_HEAD / TX; /* head dims per thread, at most */

/* The head dims per thread an instance keeps registers for: 4, 8 or 16 (dims up to 32, 64, 128). */
__host__ __device__ inline int dims_per_thread(int64_t dims) { return dims <= 4 * TX ? 4 : dims <= 8 * TX ? 8 : DV_MAX; }

__host__ __device__ inline float ex(float x) { return expf(x); }
__host__ __device__ inline double ex(double x) { return exp(x); }
__host__ __device__ inline float lg(float x) { return logf(x); }
__host__ __device__ inline double lg(double x) { return log(x); }

/* Runs each phase on this CUDA thread, then waits for the block. */
template <class S> struct BlockExec {
    using State = S;
    State own;
    __device__ State &state(int) { return own; }
    template <class F> __device__ void run(F f)
    {
        f((int)threadIdx.x);
        __syncthreads();
    }
};

/* Runs each phase for every thread in turn, on the host (also compiled for the device, where
 * nothing calls it, since the block code is). */
template <class S> struct HostExec {
    using State = S;
    State threads[THREADS];
    __host__ __device__ State &state(int t) { return threads[t]; }
    template <class F> __host__ __device__ void run(F f)
    {
        for (int t = 0; t < THREADS; t++) f(t);
    }
};

/* acc[i][j] += sum over k < n of X[(ty + TY i) xr + k xk] Y[k yk + (tx + TX j) yc], for the
 * columns tx + TX j below cols, k in order: a thread's register tile of the product of two tiles
 * in shared memory (each operand addressed by its own strides). */
template <class T, int TM, int TN>
__host__ __device__ inline void tile_product(T (&acc)[TM][TN], const T *X, int64_t xr, int64_t xk, int ty,
                                             const T *Y, int64_t yk, int64_t yc, int tx, int64_t n, int64_t cols)
{
    for (int64_t k = 0; k < n; k++) {
        T x[TM];
NB_UNROLL
        for (int i = 0; i < TM; i++) x[i] = X[(ty + TY * i) * xr + k * xk];
NB_UNROLL
        for (int j = 0; j < TN; j++) {
            const int64_t c = tx + TX * j;
            if (c >= cols) break;
            const T y = Y[k * yk + c * yc];
NB_UNROLL
            for (int i = 0; i < TM; i++) acc[i][j] += x[i] * y;
        }
    }
}

template <class T, int TM, int TN> __host__ __device__ inline void tile_zero(T (&acc)[TM][TN])
{
NB_UNROLL
    for (int i = 0; i < TM; i++)
NB_UNROLL
        for (int j = 0; j < TN; j++) acc[i][j] = 0;
}

/* Rows [r0, r0 + n) of a (.., cols) dense matrix of stored S into shared rows of `stride`
 * elements of its compute type, zeros past `limit` rows; thread t of THREADS copies its share. */
template <class S>
__host__ __device__ inline void load_rows(int t, compute_t<S> *dst, int64_t stride, const S *src, int64_t r0,
                                          int64_t n, int64_t limit, int64_t cols)
{
    for (int64_t x = t; x < n * cols; x += THREADS) {
        const int64_t r = x / cols, c = x - r * cols;
        dst[r * stride + c] = r0 + r < limit ? (compute_t<S>)widen(src[(r0 + r) * cols + c]) : (compute_t<S>)0;
    }
}

/* sum over d < n of x[d] y[d], two stored rows widened to their compute type, in order */
template <class S> __host__ __device__ inline compute_t<S> stored_dot(const S *x, const S *y, int64_t n)
{
    compute_t<S> s = 0;
    for (int64_t d = 0; d < n; d++) s += widen(x[d]) * widen(y[d]);
    return s;
}

/* Work item `item` of a grid over (batch, tiles of `rows` rows): its batch and first row. */
__host__ __device__ inline void item_of(int64_t item, int64_t tiles, int64_t rows, int64_t *b, int64_t *first)
{
    *b = item / tiles;
    *first = (item - *b * tiles) * rows;
}

/* The key tiles of `keys` keys that query rows [i0, i0 + rows) visit (causal rows stop early). */
__host__ __device__ inline int64_t key_tiles_for(const nbk_attention_args &a, int64_t i0, int64_t rows, int64_t keys)
{
    int64_t last = i0 + rows - 1;
    if (last >= a.l) last = a.l - 1;
    return (nbk_attention_key_end(&a, last) + keys - 1) / keys;
}

/* The first query tile of `rows` rows that attends keys from j0 on. */
__host__ __device__ inline int64_t first_query_tile(const nbk_attention_args &a, int64_t j0, int64_t rows)
{
    return a.causal ? j0 / rows : 0;
}

} /* namespace attention */
} /* namespace nb_cuda */

#endif /* NB_CUDA_ATTENTION_TILES_CUH */
