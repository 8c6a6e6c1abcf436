/* attention.cu — scaled dot-product attention on the GPU (kernels/attention.h), fused in the
 * style of flash attention: no (l, s) matrix is ever written to global memory.
 *
 * Forward: a block per (batch, tile of query rows), in a grid-stride loop, running the block code
 * of attention_forward.cuh (register tiles for the scores and the weighted sum, an online softmax
 * per row), which the tests also run on the host (nbk_cuda_attention_forward_on_host).
 *
 * Backward, in two kernels that never add into the same element from two threads (no atomics):
 *  - dq: a block per (batch, query tile), each warp owning a few rows: each row's weights are recomputed from
 *    its lse, ds = p (z g·v - rowsum(g out)), and dq += ds k over the key tiles in order;
 *  - dk, dv: a block per (batch, block of keys): each warp owns KEYS_PER_WARP keys; query tiles
 *    of QROWS rows (with their g, lse and rowsum(g out)) stream through shared memory in order,
 *    lane r scores query r against the warp's key, and dv += p z g, dk += ds q sum over the rows
 *    in order.
 * Every sum runs in an order fixed by the shapes, so results are the same on every run. A row's
 * rowsum(g out) is a serial sum (row_dot), the same in both kernels. Each lane owns the output
 * dims lane, lane + 32, ... of a row, so head dims up to 4 · 32 = 128 are taken. The per-element
 * math and the tiling are __host__ __device__ functions.
 *
 * Element types: each kernel is written over the stored type S of q, k, v, out and the gradients
 * and computes in T = compute_t<S> (half.cuh): float16 and bfloat16 rows are widened to float32
 * as they are loaded into shared memory, every sum runs in float32, lse is float32, and each
 * stored result is rounded once. Float32 and float64 are stored and computed as themselves. */
#include "attention.h"
#include "attention_forward.cuh"
#include "half.cuh"
#include "internal.h"

#include "../error.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

namespace {

using nb_cuda::bf16;
using nb_cuda::compute_t;
using nb_cuda::f16;
using nb_cuda::narrow;
using nb_cuda::widen;

constexpr int WARPS = 4;
constexpr int THREADS = WARPS * 32;
constexpr int DIMS_PER_LANE = NBK_CUDA_ATTENTION_MAX_HEAD / 32;
constexpr unsigned FULL = 0xffffffffu;
constexpr int64_t MAX_BLOCKS = 1 << 20;

/* Tile sizes per compute type (double tiles are smaller to fit shared memory). */
template <class T> struct Tiles;
template <> struct Tiles<float> {
    static constexpr int ROWS_PER_WARP = 4; /* query rows per warp: BQ = 16 */
    static constexpr int KEYS = 32;         /* keys per tile of the forward and dq (a lane each) */
    static constexpr int KEYS_PER_WARP = 4; /* keys per warp of dk, dv: 16 per block */
    static constexpr int QROWS = 32;        /* query rows per tile of dk, dv (a lane each) */
};
template <> struct Tiles<double> {
    static constexpr int ROWS_PER_WARP = 2;
    static constexpr int KEYS = 16;
    static constexpr int KEYS_PER_WARP = 2;
    static constexpr int QROWS = 16;
};

/* ---------------------------------------------------------------- tiling, also run on the host */

/* Work item `item` of a grid over (batch, tiles of `rows` rows): its batch and first row. */
__host__ __device__ inline void item_of(int64_t item, int64_t tiles, int64_t rows, int64_t *b, int64_t *first)
{
    *b = item / tiles;
    *first = (item - *b * tiles) * rows;
}

/* Key tiles of `keys` keys that query rows [i0, i0 + rows) must visit (causal rows stop early). */
__host__ __device__ inline int64_t key_tiles_for(const nbk_attention_args &a, int64_t i0, int64_t rows, int64_t keys)
{
    int64_t last = i0 + rows - 1;
    if (last >= a.l) last = a.l - 1;
    const int64_t end = nbk_attention_key_end(&a, last);
    return (end + keys - 1) / keys;
}

/* The first query tile of `rows` rows that keys from j0 on are attended by. */
__host__ __device__ inline int64_t first_query_tile(const nbk_attention_args &a, int64_t j0, int64_t rows)
{
    return a.causal ? j0 / rows : 0;
}

/* ---------------------------------------------------------------- per-element math */

using nb_cuda::attention::ex;

/* sum_d x[d] y[d] for d < n, in order */
template <class T> __host__ __device__ inline T dot(const T *x, const T *y, int64_t n)
{
    T s = 0;
    for (int64_t d = 0; d < n; d++) s += x[d] * y[d];
    return s;
}

/* dot of two stored rows in their compute type T: the same sum, each element widened */
template <class S> __host__ __device__ inline compute_t<S> stored_dot(const S *x, const S *y, int64_t n)
{
    compute_t<S> s = 0;
    for (int64_t d = 0; d < n; d++) s += widen(x[d]) * widen(y[d]);
    return s;
}

/* The score of query i against key j of batch b, from their rows q and k. */
template <class T>
__host__ __device__ inline T score(const nbk_attention_args &a, const T *q, const T *k, int64_t b, int64_t i,
                                   int64_t j)
{
    return (T)a.scale * dot(q, k, a.e) + (T)nbk_attention_bias(&a, b, i, j);
}

/* dropout's factor of (b, i, j) in T */
template <class T> __host__ __device__ inline T keep(const nbk_attention_args &a, int64_t b, int64_t i, int64_t j)
{
    return a.dropout_p > 0 ? (T)nbk_attention_keep(&a, b, i, j) : (T)1;
}

/* ---------------------------------------------------------------- warp reductions */

/* The maximum over the warp, NaN read as -inf (every lane gets the same value). */
template <class T> __device__ inline T warp_max(T x)
{
    x = isnan(x) ? (T)-INFINITY : x;
    for (int o = 16; o > 0; o >>= 1) {
        const T y = __shfl_xor_sync(FULL, x, o);
        x = y > x ? y : x;
    }
    return x;
}

/* The sum over the warp by a butterfly: every lane adds the same pairs, so gets the same value. */
template <class T> __device__ inline T warp_sum(T x)
{
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(FULL, x, o);
    return x;
}

/* Copies rows [r0, r0 + n) of a (.., cols) dense matrix of stored S into shared rows of `stride`
 * elements of its compute type, zeros past `limit` rows. */
template <class S>
__device__ inline void load_rows(compute_t<S> *dst, int64_t stride, const S *src, int64_t r0, int64_t n,
                                 int64_t limit, int64_t cols)
{
    for (int64_t x = threadIdx.x; x < n * cols; x += THREADS) {
        const int64_t r = x / cols, c = x - r * cols;
        dst[r * stride + c] = r0 + r < limit ? widen(src[(r0 + r) * cols + c]) : (compute_t<S>)0;
    }
}

/* ---------------------------------------------------------------- backward: dq */

template <class S>
__global__ void __launch_bounds__(THREADS)
    dq_kernel(nbk_attention_args a, const S *out, const compute_t<S> *lse, const S *g, S *gq)
{
    using T = compute_t<S>;
    using C = Tiles<T>;
    constexpr int RPW = C::ROWS_PER_WARP, BQ = WARPS * RPW, BK = C::KEYS;
    extern __shared__ __align__(16) unsigned char smem[];
    T *qs = (T *)smem;           /* (BQ, e) */
    T *gs = qs + BQ * a.e;       /* (BQ, ev) */
    T *ks = gs + BQ * a.ev;      /* (BK, e + 1) */
    T *vs = ks + BK * (a.e + 1); /* (BK, ev + 1) */
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t tiles = (a.l + BQ - 1) / BQ, items = a.batch * tiles;
    for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
        int64_t b, i0;
        item_of(item, tiles, BQ, &b, &i0);
        const S *q = (const S *)a.q + b * a.l * a.e, *k = (const S *)a.k + b * a.s * a.e;
        const S *v = (const S *)a.v + b * a.s * a.ev, *gb = g + b * a.l * a.ev, *ob = out + b * a.l * a.ev;
        __syncthreads();
        load_rows(qs, a.e, q, i0, BQ, a.l, a.e);
        load_rows(gs, a.ev, gb, i0, BQ, a.l, a.ev);
        T dq[RPW][DIMS_PER_LANE], rowsum[RPW], row_lse[RPW];
NB_UNROLL
        for (int r = 0; r < RPW; r++) {
            const int64_t i = i0 + warp * RPW + r;
            rowsum[r] = i < a.l ? stored_dot(gb + i * a.ev, ob + i * a.ev, a.ev) : (T)0;
            row_lse[r] = i < a.l ? lse[b * a.l + i] : (T)0;
NB_UNROLL
            for (int c = 0; c < DIMS_PER_LANE; c++) dq[r][c] = 0;
        }
        const int64_t ntiles = key_tiles_for(a, i0, BQ, BK);
        for (int64_t t = 0; t < ntiles; t++) {
            const int64_t j0 = t * BK, j = j0 + lane;
            __syncthreads();
            load_rows(ks, a.e + 1, k, j0, BK, a.s, a.e);
            load_rows(vs, a.ev + 1, v, j0, BK, a.s, a.ev);
            __syncthreads();
NB_UNROLL
            for (int r = 0; r < RPW; r++) {
                const int row = warp * RPW + r;
                const int64_t i = i0 + row;
                T ds = 0;
                if (lane < BK && j < a.s && i < a.l) {
                    const T p = ex(score(a, qs + row * a.e, ks + lane * (a.e + 1), b, i, j) - row_lse[r]);
                    const T dp = dot(gs + row * a.ev, vs + lane * (a.ev + 1), a.ev);
                    ds = nbk_attention_removed(&a, b, i, j) ? (T)0 : p * (dp * keep<T>(a, b, i, j) - rowsum[r]);
                }
                for (int jj = 0; jj < BK; jj++) {
                    const T dsj = __shfl_sync(FULL, ds, jj);
NB_UNROLL
                    for (int c = 0; c < DIMS_PER_LANE; c++) {
                        const int64_t d = lane + 32 * c;
                        if (d < a.e) dq[r][c] += dsj * ks[jj * (a.e + 1) + d];
                    }
                }
            }
        }
NB_UNROLL
        for (int r = 0; r < RPW; r++) {
            const int64_t i = i0 + warp * RPW + r;
            if (i >= a.l) continue;
NB_UNROLL
            for (int c = 0; c < DIMS_PER_LANE; c++) {
                const int64_t d = lane + 32 * c;
                if (d < a.e) gq[(b * a.l + i) * a.e + d] = narrow<S>((T)a.scale * dq[r][c]);
            }
        }
    }
}

/* ---------------------------------------------------------------- backward: dk, dv */

template <class S>
__global__ void __launch_bounds__(THREADS)
    dkv_kernel(nbk_attention_args a, const S *out, const compute_t<S> *lse, const S *g, S *gk, S *gv)
{
    using T = compute_t<S>;
    using C = Tiles<T>;
    constexpr int KPW = C::KEYS_PER_WARP, BKEY = WARPS * KPW, QR = C::QROWS;
    extern __shared__ __align__(16) unsigned char smem[];
    T *ks = (T *)smem;             /* (BKEY, e) */
    T *vs = ks + BKEY * a.e;       /* (BKEY, ev) */
    T *qs = vs + BKEY * a.ev;      /* (QR, e + 1) */
    T *gs = qs + QR * (a.e + 1);   /* (QR, ev + 1) */
    T *ls = gs + QR * (a.ev + 1);  /* (QR,) lse */
    T *rs = ls + QR;               /* (QR,) rowsum(g out) */
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t blocks = (a.s + BKEY - 1) / BKEY, items = a.batch * blocks, qtiles = (a.l + QR - 1) / QR;
    for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
        int64_t b, j0;
        item_of(item, blocks, BKEY, &b, &j0);
        const S *q = (const S *)a.q + b * a.l * a.e, *k = (const S *)a.k + b * a.s * a.e;
        const S *v = (const S *)a.v + b * a.s * a.ev, *gb = g + b * a.l * a.ev, *ob = out + b * a.l * a.ev;
        __syncthreads();
        load_rows(ks, a.e, k, j0, BKEY, a.s, a.e);
        load_rows(vs, a.ev, v, j0, BKEY, a.s, a.ev);
        T dk[KPW][DIMS_PER_LANE], dv[KPW][DIMS_PER_LANE];
NB_UNROLL
        for (int kk = 0; kk < KPW; kk++)
NB_UNROLL
            for (int c = 0; c < DIMS_PER_LANE; c++) dk[kk][c] = dv[kk][c] = 0;
        for (int64_t t = first_query_tile(a, j0, QR); t < qtiles; t++) {
            const int64_t i0 = t * QR, i = i0 + lane;
            __syncthreads();
            load_rows(qs, a.e + 1, q, i0, QR, a.l, a.e);
            load_rows(gs, a.ev + 1, gb, i0, QR, a.l, a.ev);
            for (int64_t r = threadIdx.x; r < QR; r += THREADS) {
                const bool in = i0 + r < a.l;
                ls[r] = in ? lse[b * a.l + i0 + r] : (T)0;
                rs[r] = in ? stored_dot(gb + (i0 + r) * a.ev, ob + (i0 + r) * a.ev, a.ev) : (T)0;
            }
            __syncthreads();
NB_UNROLL
            for (int kk = 0; kk < KPW; kk++) {
                const int key = warp * KPW + kk;
                const int64_t j = j0 + key;
                if (j >= a.s) continue; /* the same on every lane */
                T ds = 0, pz = 0;
                if (lane < QR && i < a.l) {
                    const T p = ex(score(a, qs + lane * (a.e + 1), ks + key * a.e, b, i, j) - ls[lane]);
                    const T dp = dot(gs + lane * (a.ev + 1), vs + key * a.ev, a.ev);
                    const T z = keep<T>(a, b, i, j);
                    ds = nbk_attention_removed(&a, b, i, j) ? (T)0 : p * (dp * z - rs[lane]);
                    pz = p * z;
                }
                for (int r = 0; r < QR; r++) {
                    const T pzr = __shfl_sync(FULL, pz, r), dsr = __shfl_sync(FULL, ds, r);
NB_UNROLL
                    for (int c = 0; c < DIMS_PER_LANE; c++) {
                        const int64_t d = lane + 32 * c;
                        if (d < a.ev) dv[kk][c] += pzr * gs[r * (a.ev + 1) + d];
                        if (d < a.e) dk[kk][c] += dsr * qs[r * (a.e + 1) + d];
                    }
                }
            }
        }
NB_UNROLL
        for (int kk = 0; kk < KPW; kk++) {
            const int64_t j = j0 + warp * KPW + kk;
            if (j >= a.s) continue;
NB_UNROLL
            for (int c = 0; c < DIMS_PER_LANE; c++) {
                const int64_t d = lane + 32 * c;
                if (d < a.e) gk[(b * a.s + j) * a.e + d] = narrow<S>((T)a.scale * dk[kk][c]);
                if (d < a.ev) gv[(b * a.s + j) * a.ev + d] = narrow<S>(dv[kk][c]);
            }
        }
    }
}

/* ---------------------------------------------------------------- launches */

unsigned grid_for(int64_t items)
{
    return (unsigned)(items < 1 ? 1 : items > MAX_BLOCKS ? MAX_BLOCKS : items);
}

/* Allows a kernel more than the default 48 KB of dynamic shared memory when it asks for it. */
template <class K> nb_status shared_for(K kernel, size_t bytes, int device)
{
    if (bytes <= 48 * 1024) return NB_OK;
    return nbk_cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
                          device, "allowing attention its shared memory");
}

nb_status unsupported(const nbk_attention_args *a)
{
    return nbk_fail(NB_ERR_DTYPE, "attention on CUDA takes floating dtypes, got dtype %d", (int)a->dtype);
}

nb_status head_dims_ok(const nbk_attention_args *a)
{
    if (a->e <= NBK_CUDA_ATTENTION_MAX_HEAD && a->ev <= NBK_CUDA_ATTENTION_MAX_HEAD) return NB_OK;
    return nbk_fail(NB_ERR_UNSUPPORTED, "attention on CUDA takes head dims E and Ev up to %d, got E = %lld and Ev = %lld",
                    NBK_CUDA_ATTENTION_MAX_HEAD, (long long)a->e, (long long)a->ev);
}

template <class S, int DV>
__global__ void __launch_bounds__(nb_cuda::attention::FWD_THREADS)
    forward_kernel(nbk_attention_args a, S *out, compute_t<S> *lse)
{
    using namespace nb_cuda::attention;
    using T = compute_t<S>;
    constexpr int BQ = FwdTiles<T>::BQ;
    extern __shared__ __align__(16) unsigned char smem[];
    const FwdShared<T> sh = fwd_shared<T>((T *)smem, a);
    BlockExec<T, DV> block;
    const int64_t tiles = (a.l + BQ - 1) / BQ, items = a.batch * tiles;
    for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
        int64_t b, i0;
        item_of(item, tiles, BQ, &b, &i0);
        forward_item<S>(block, a, out, lse, sh, b, i0);
    }
}

template <class S, int DV>
nb_status forward_dims(int device, cudaStream_t stream, const nbk_attention_args *a, void *out, void *lse)
{
    using namespace nb_cuda::attention;
    using T = compute_t<S>;
    constexpr int BQ = FwdTiles<T>::BQ;
    const size_t bytes = (size_t)fwd_shared_count<T>(*a) * sizeof(T);
    nb_status st = shared_for(forward_kernel<S, DV>, bytes, device);
    if (st != NB_OK) return st;
    const int64_t items = a->batch * ((a->l + BQ - 1) / BQ);
    forward_kernel<S, DV><<<grid_for(items), FWD_THREADS, bytes, stream>>>(*a, (S *)out, (T *)lse);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the attention kernel");
}

/* The instance with registers for ev's output dims (kernels/cuda/attention_forward.cuh). */
template <class S> nb_status forward(int device, cudaStream_t stream, const nbk_attention_args *a, void *out, void *lse)
{
    switch (nb_cuda::attention::dims_per_thread(a->ev)) {
    case 4: return forward_dims<S, 4>(device, stream, a, out, lse);
    case 8: return forward_dims<S, 8>(device, stream, a, out, lse);
    default: return forward_dims<S, nb_cuda::attention::DV_MAX>(device, stream, a, out, lse);
    }
}

/* The forward kernel's block code run on the host, item after item (host memory). */
template <class S, int DV> nb_status forward_on_host_dims(const nbk_attention_args *a, void *out, void *lse)
{
    using namespace nb_cuda::attention;
    using T = compute_t<S>;
    constexpr int BQ = FwdTiles<T>::BQ;
    T *buf = (T *)malloc((size_t)fwd_shared_count<T>(*a) * sizeof(T));
    HostExec<T, DV> *host = (HostExec<T, DV> *)malloc(sizeof(HostExec<T, DV>));
    if (!buf || !host) {
        free(buf), free(host);
        return nbk_fail(NB_ERR_MEMORY, "out of memory running the attention kernel on the host");
    }
    const FwdShared<T> sh = fwd_shared<T>(buf, *a);
    const int64_t tiles = (a->l + BQ - 1) / BQ;
    for (int64_t item = 0; item < a->batch * tiles; item++) {
        int64_t b, i0;
        item_of(item, tiles, BQ, &b, &i0);
        forward_item<S>(*host, *a, (S *)out, (T *)lse, sh, b, i0);
    }
    free(buf), free(host);
    return NB_OK;
}

template <class S> nb_status forward_on_host(const nbk_attention_args *a, void *out, void *lse)
{
    switch (nb_cuda::attention::dims_per_thread(a->ev)) {
    case 4: return forward_on_host_dims<S, 4>(a, out, lse);
    case 8: return forward_on_host_dims<S, 8>(a, out, lse);
    default: return forward_on_host_dims<S, nb_cuda::attention::DV_MAX>(a, out, lse);
    }
}

template <class S>
nb_status backward(int device, cudaStream_t stream, const nbk_attention_args *a, const void *out, const void *lse,
                   const void *g, void *gq, void *gk, void *gv)
{
    using T = compute_t<S>;
    using C = Tiles<T>;
    constexpr int BQ = WARPS * C::ROWS_PER_WARP, BK = C::KEYS, BKEY = WARPS * C::KEYS_PER_WARP, QR = C::QROWS;
    if (a->l > 0) {
        const size_t bytes = (size_t)(BQ * (a->e + a->ev) + BK * (a->e + 1) + BK * (a->ev + 1)) * sizeof(T);
        nb_status st = shared_for(dq_kernel<S>, bytes, device);
        if (st != NB_OK) return st;
        const int64_t items = a->batch * ((a->l + BQ - 1) / BQ);
        dq_kernel<S><<<grid_for(items), THREADS, bytes, stream>>>(*a, (const S *)out, (const T *)lse, (const S *)g,
                                                                  (S *)gq);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching the attention dq kernel");
        if (st != NB_OK) return st;
    }
    if (a->s > 0) {
        const size_t bytes =
            (size_t)(BKEY * (a->e + a->ev) + QR * (a->e + 1) + QR * (a->ev + 1) + 2 * QR) * sizeof(T);
        nb_status st = shared_for(dkv_kernel<S>, bytes, device);
        if (st != NB_OK) return st;
        const int64_t items = a->batch * ((a->s + BKEY - 1) / BKEY);
        dkv_kernel<S><<<grid_for(items), THREADS, bytes, stream>>>(*a, (const S *)out, (const T *)lse, (const S *)g,
                                                                   (S *)gk, (S *)gv);
        return nbk_cuda_check(cudaGetLastError(), device, "launching the attention dk, dv kernel");
    }
    return NB_OK;
}

} // namespace

extern "C" nb_status nbk_cuda_attention_forward(int device, const nbk_attention_args *a, void *out, void *lse)
{
    nb_status st = head_dims_ok(a);
    if (st != NB_OK || a->batch == 0 || a->l == 0) return st;
    cudaStream_t stream;
    if ((st = nbk_cuda_use(device, &stream)) != NB_OK) return st;
    switch (a->dtype) {
    case NB_FLOAT32: return forward<float>(device, stream, a, out, lse);
    case NB_FLOAT64: return forward<double>(device, stream, a, out, lse);
    case NB_FLOAT16: return forward<f16>(device, stream, a, out, lse);
    case NB_BFLOAT16: return forward<bf16>(device, stream, a, out, lse);
    default: return unsupported(a);
    }
}

extern "C" nb_status nbk_cuda_attention_backward(int device, const nbk_attention_args *a, const void *out,
                                                 const void *lse, const void *g, void *gq, void *gk, void *gv)
{
    nb_status st = head_dims_ok(a);
    if (st != NB_OK || a->batch == 0) return st;
    cudaStream_t stream;
    if ((st = nbk_cuda_use(device, &stream)) != NB_OK) return st;
    if (a->l == 0 && a->s > 0) { /* no queries: dk and dv are zero */
        st = nbk_cuda_check(cudaMemsetAsync(gk, 0, (size_t)(a->batch * a->s * a->e) * nb_dtype_size(a->dtype), stream),
                            device, "zeroing attention's dk");
        if (st == NB_OK)
            st = nbk_cuda_check(
                cudaMemsetAsync(gv, 0, (size_t)(a->batch * a->s * a->ev) * nb_dtype_size(a->dtype), stream), device,
                "zeroing attention's dv");
        return st;
    }
    switch (a->dtype) {
    case NB_FLOAT32: return backward<float>(device, stream, a, out, lse, g, gq, gk, gv);
    case NB_FLOAT64: return backward<double>(device, stream, a, out, lse, g, gq, gk, gv);
    case NB_FLOAT16: return backward<f16>(device, stream, a, out, lse, g, gq, gk, gv);
    case NB_BFLOAT16: return backward<bf16>(device, stream, a, out, lse, g, gq, gk, gv);
    default: return unsupported(a);
    }
}

extern "C" nb_status nbk_cuda_attention_forward_on_host(const nbk_attention_args *a, void *out, void *lse)
{
    nb_status st = head_dims_ok(a);
    if (st != NB_OK || a->batch == 0 || a->l == 0) return st;
    switch (a->dtype) {
    case NB_FLOAT32: return forward_on_host<float>(a, out, lse);
    case NB_FLOAT64: return forward_on_host<double>(a, out, lse);
    case NB_FLOAT16: return forward_on_host<f16>(a, out, lse);
    case NB_BFLOAT16: return forward_on_host<bf16>(a, out, lse);
    default: return unsupported(a);
    }
}
