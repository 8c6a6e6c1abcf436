/* attention_forward.cuh — the forward of fused scaled dot-product attention for one block's work
 * item (a batch and a tile of BQ query rows), in the style of flash attention: no (l, s) matrix
 * is written to global memory. Included by attention.cu.
 *
 * The item is a fixed sequence of phases separated by barriers, written once over an executor:
 *  - BlockExec runs each phase on every thread of a CUDA block, then __syncthreads();
 *  - HostExec runs each phase for thread 0, 1, ... in turn on the host (the tests run the kernel's
 *    own code this way where no GPU is: nbk_cuda_attention_forward_on_host).
 * A thread's registers (its output accumulators) are its executor's state(t).
 *
 * Per item: q's tile is loaded transposed into shared memory, (e, BQ). Then for each key tile of
 * BK keys (a causal item stops after its last row's keys):
 *  1. k's tile is loaded transposed, (e, BK), and v's as it is, (BK, ev);
 *  2. scores: a 16 x 8 grid of threads computes the (BQ, BK) block scale q k^T + mask by register
 *     tiles: thread (ty, tx) owns rows ty + 16 a and keys tx + 8 b, and per head dim reads TM + TN
 *     values for TM · TN multiply-adds;
 *  3. the online softmax, a thread per row: the tile's maximum m_new (NaN read as -inf), the
 *     factor exp(m_old - m_new) by which the row's sum and output shrink, and the weights
 *     p = exp(x - m_new) (times dropout's factor) in place of the scores;
 *  4. the output: thread (ty, tx) owns rows ty + 16 a and dims tx + 8 c, scales them by their
 *     row's factor and adds p v over the tile's keys in order.
 * At the end each output row is divided by its sum and lse = m + log(sum) is kept. Every sum runs
 * in an order fixed by the shapes. Half inputs are widened as they are loaded; all arithmetic is
 * in the compute type T and each output is rounded once. */
#ifndef NB_CUDA_ATTENTION_FORWARD_CUH
#define NB_CUDA_ATTENTION_FORWARD_CUH

#include "../attention.h"
#include "attention.h"
#include "half.cuh"
#include "internal.h" /* NB_UNROLL */

#include <math.h>
#include <stdint.h>

namespace nb_cuda {
namespace attention {

/* The forward's tiles per compute type: BQ query rows by BK keys, on a TY x TX grid of threads. */
template <class T> struct FwdTiles;
template <> struct FwdTiles<float> {
    static constexpr int BQ = 64, BK = 64;
};
template <> struct FwdTiles<double> { /* smaller, to fit shared memory at head dim 128 */
    static constexpr int BQ = 32, BK = 32;
};
constexpr int TY = 16, TX = 8, FWD_THREADS = TY * TX;
constexpr int DV_MAX = NBK_CUDA_ATTENTION_MAX_HEAD / TX; /* output dims per thread, at most */

/* The output dims per thread an instance keeps registers for: 4, 8 or 16 (ev up to 32, 64, 128). */
__host__ __device__ inline int dims_per_thread(int64_t ev) { return ev <= 4 * TX ? 4 : ev <= 8 * TX ? 8 : DV_MAX; }

__host__ __device__ inline float ex(float x) { return expf(x); }
__host__ __device__ inline double ex(double x) { return exp(x); }
__host__ __device__ inline float lg(float x) { return logf(x); }
__host__ __device__ inline double lg(double x) { return log(x); }

/* The shared memory of an item, carved from one buffer (sizes in T). */
template <class T> struct FwdShared {
    T *qt;   /* (e, BQ + 1): q's tile transposed */
    T *kt;   /* (e, BK + 1): k's tile transposed */
    T *v;    /* (BK, ev) */
    T *p;    /* (BQ, BK + 1): scores, then weights */
    T *m;    /* (BQ,) the running maximum of each row */
    T *sum;  /* (BQ,) the running sum of exps */
    T *corr; /* (BQ,) this tile's factor on the row's sum and output */
};

template <class T> __host__ __device__ inline int64_t fwd_shared_count(const nbk_attention_args &a)
{
    using C = FwdTiles<T>;
    return a.e * (C::BQ + 1) + a.e * (C::BK + 1) + C::BK * a.ev + C::BQ * (C::BK + 1) + 3 * C::BQ;
}

template <class T> __host__ __device__ inline FwdShared<T> fwd_shared(T *base, const nbk_attention_args &a)
{
    using C = FwdTiles<T>;
    FwdShared<T> s;
    s.qt = base;
    s.kt = s.qt + a.e * (C::BQ + 1);
    s.v = s.kt + a.e * (C::BK + 1);
    s.p = s.v + C::BK * a.ev;
    s.m = s.p + C::BQ * (C::BK + 1);
    s.sum = s.m + C::BQ;
    s.corr = s.sum + C::BQ;
    return s;
}

/* A thread's registers across the phases: its output accumulators, for DV dims per row. */
template <class T, int DV> struct FwdThread {
    static constexpr int dims = DV;
    T o[FwdTiles<T>::BQ / TY][DV]; /* rows ty + TY a, dims tx + TX c */
};

/* Runs each phase on this CUDA thread, then waits for the block. */
template <class T, int DV> struct BlockExec {
    using State = FwdThread<T, DV>;
    State own;
    __device__ State &state(int) { return own; }
    template <class F> __device__ void run(F f)
    {
        f((int)threadIdx.x);
        __syncthreads();
    }
};

/* Runs each phase for every thread in turn, on the host (also compiled for the device, where
 * nothing calls it, since forward_item is). */
template <class T, int DV> struct HostExec {
    using State = FwdThread<T, DV>;
    State threads[FWD_THREADS];
    __host__ __device__ State &state(int t) { return threads[t]; }
    template <class F> __host__ __device__ void run(F f)
    {
        for (int t = 0; t < FWD_THREADS; t++) f(t);
    }
};

/* The item's rows [i0, i0 + BQ) of batch b: out (batch, l, ev) and lse (batch, l). */
template <class S, class Exec>
__host__ __device__ void forward_item(Exec &block, const nbk_attention_args &a, S *out, compute_t<S> *lse,
                                      const FwdShared<compute_t<S>> &sh, int64_t b, int64_t i0)
{
    using T = compute_t<S>;
    using C = FwdTiles<T>;
    using State = typename Exec::State;
    constexpr int BQ = C::BQ, BK = C::BK, TM = BQ / TY, TN = BK / TX, DV = State::dims;
    const S *q = (const S *)a.q + b * a.l * a.e, *k = (const S *)a.k + b * a.s * a.e;
    const S *v = (const S *)a.v + b * a.s * a.ev;

    block.run([&](int t) { /* q's tile, transposed; the rows' state */
        for (int64_t x = t; x < BQ * a.e; x += FWD_THREADS) {
            const int64_t r = x / a.e, d = x - r * a.e;
            sh.qt[d * (BQ + 1) + r] = i0 + r < a.l ? (T)widen(q[(i0 + r) * a.e + d]) : (T)0;
        }
        for (int r = t; r < BQ; r += FWD_THREADS) sh.m[r] = (T)-INFINITY, sh.sum[r] = 0;
        State &st = block.state(t);
NB_UNROLL
        for (int i = 0; i < TM; i++)
NB_UNROLL
            for (int c = 0; c < DV; c++) st.o[i][c] = 0;
    });

    int64_t last = i0 + BQ - 1 < a.l ? i0 + BQ - 1 : a.l - 1;
    const int64_t end = nbk_attention_key_end(&a, last), ntiles = (end + BK - 1) / BK;
    for (int64_t tile = 0; tile < ntiles; tile++) {
        const int64_t j0 = tile * BK;
        block.run([&](int t) { /* 1. k's tile transposed, v's as it is */
            for (int64_t x = t; x < BK * a.e; x += FWD_THREADS) {
                const int64_t j = x / a.e, d = x - j * a.e;
                sh.kt[d * (BK + 1) + j] = j0 + j < a.s ? (T)widen(k[(j0 + j) * a.e + d]) : (T)0;
            }
            for (int64_t x = t; x < BK * a.ev; x += FWD_THREADS) {
                const int64_t j = x / a.ev;
                sh.v[x] = j0 + j < a.s ? (T)widen(v[j0 * a.ev + x]) : (T)0;
            }
        });
        block.run([&](int t) { /* 2. scores (BQ, BK) by register tiles */
            const int ty = t / TX, tx = t % TX;
            T acc[TM][TN];
NB_UNROLL
            for (int i = 0; i < TM; i++)
NB_UNROLL
                for (int j = 0; j < TN; j++) acc[i][j] = 0;
            for (int64_t d = 0; d < a.e; d++) {
                T qv[TM], kv[TN];
NB_UNROLL
                for (int i = 0; i < TM; i++) qv[i] = sh.qt[d * (BQ + 1) + ty + TY * i];
NB_UNROLL
                for (int j = 0; j < TN; j++) kv[j] = sh.kt[d * (BK + 1) + tx + TX * j];
NB_UNROLL
                for (int i = 0; i < TM; i++)
NB_UNROLL
                    for (int j = 0; j < TN; j++) acc[i][j] += qv[i] * kv[j];
            }
NB_UNROLL
            for (int i = 0; i < TM; i++) {
                const int r = ty + TY * i;
NB_UNROLL
                for (int j = 0; j < TN; j++) {
                    const int c = tx + TX * j;
                    const bool valid = i0 + r < a.l && j0 + c < a.s;
                    sh.p[r * (BK + 1) + c] =
                        valid ? (T)a.scale * acc[i][j] + (T)nbk_attention_bias(&a, b, i0 + r, j0 + c) : (T)-INFINITY;
                }
            }
        });
        block.run([&](int t) { /* 3. the online softmax, a thread per row */
            if (t >= BQ) return;
            T *x = sh.p + t * (BK + 1);
            T tile_max = (T)-INFINITY;
            for (int j = 0; j < BK; j++) tile_max = x[j] > tile_max ? x[j] : tile_max; /* NaN: skipped */
            const T m_old = sh.m[t], m_new = tile_max > m_old ? tile_max : m_old;
            if (m_new == (T)-INFINITY) { /* nothing allowed yet: the row stays as it is */
                sh.corr[t] = 1;
                for (int j = 0; j < BK; j++) x[j] = 0;
                return;
            }
            const T corr = ex(m_old - m_new);
            const int64_t i = i0 + t;
            T s = 0;
            for (int j = 0; j < BK; j++) {
                const T p = ex(x[j] - m_new);
                s += p;
                const bool valid = i < a.l && j0 + j < a.s;
                x[j] = !valid ? (T)0 : a.dropout_p > 0 ? p * (T)nbk_attention_keep(&a, b, i, j0 + j) : p;
            }
            sh.sum[t] = sh.sum[t] * corr + s;
            sh.m[t] = m_new;
            sh.corr[t] = corr;
        });
        block.run([&](int t) { /* 4. the output: o = o corr + p v */
            const int ty = t / TX, tx = t % TX;
            State &st = block.state(t);
NB_UNROLL
            for (int i = 0; i < TM; i++) {
                const T corr = sh.corr[ty + TY * i];
NB_UNROLL
                for (int c = 0; c < DV; c++) st.o[i][c] *= corr;
            }
            for (int j = 0; j < BK; j++) {
                T pv[TM];
NB_UNROLL
                for (int i = 0; i < TM; i++) pv[i] = sh.p[(ty + TY * i) * (BK + 1) + j];
NB_UNROLL
                for (int c = 0; c < DV; c++) {
                    const int64_t d = tx + TX * c;
                    if (d >= a.ev) break;
                    const T vv = sh.v[j * a.ev + d];
NB_UNROLL
                    for (int i = 0; i < TM; i++) st.o[i][c] += pv[i] * vv;
                }
            }
        });
    }

    block.run([&](int t) { /* each row divided by its sum; lse */
        const int ty = t / TX, tx = t % TX;
        State &st = block.state(t);
        const T none_out = a.s > 0 ? (T)NAN : (T)0, none_lse = a.s > 0 ? (T)NAN : (T)-INFINITY;
NB_UNROLL
        for (int i = 0; i < TM; i++) {
            const int r = ty + TY * i;
            const int64_t row = i0 + r;
            if (row >= a.l) continue;
            const bool none = sh.m[r] == (T)-INFINITY; /* no key allowed: NaN, or 0 when there are no keys */
            const T inv = none ? (T)0 : (T)1 / sh.sum[r];
NB_UNROLL
            for (int c = 0; c < DV; c++) {
                const int64_t d = tx + TX * c;
                if (d >= a.ev) break;
                out[(b * a.l + row) * a.ev + d] = narrow<S>(none ? none_out : st.o[i][c] * inv);
            }
            if (tx == 0) lse[b * a.l + row] = none ? none_lse : sh.m[r] + lg(sh.sum[r]);
        }
    });
}

} /* namespace attention */
} /* namespace nb_cuda */

#endif /* NB_CUDA_ATTENTION_FORWARD_CUH */
