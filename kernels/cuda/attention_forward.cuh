/* attention_forward.cuh — the forward of fused scaled dot-product attention for one work item
 * (a batch and a tile of BQ query rows), in the style of flash attention: no (l, s) matrix is
 * written to global memory. Written over an executor (attention_tiles.cuh), so the tests run this
 * same code on the host. Included by attention.cu.
 *
 * Per item: q's tile is loaded into shared memory. Then for each key tile of BK keys (a causal
 * item stops after its last row's keys):
 *  1. k's and v's tiles are loaded;
 *  2. scores: each thread computes its register tile of the (BQ, BK) block scale q k^T + mask;
 *  3. the online softmax, a thread per row: the tile's maximum m_new (NaN read as -inf), the
 *     factor exp(m_old - m_new) by which the row's sum and output shrink, and the weights
 *     p = exp(x - m_new) (times dropout's factor) in place of the scores;
 *  4. the output: each thread scales its register tile of (BQ, ev) by the rows' factors and adds
 *     p v over the tile's keys in order.
 * At the end each output row is divided by its sum and lse = m + log(sum) is kept. Every sum runs
 * in an order fixed by the shapes. Half inputs are widened as they are loaded; all arithmetic is
 * in the compute type T and each output is rounded once. */
#ifndef NB_CUDA_ATTENTION_FORWARD_CUH
#define NB_CUDA_ATTENTION_FORWARD_CUH

#include "attention_tiles.cuh"

namespace nb_cuda {
namespace attention {

/* The shared memory of a forward item, carved from one buffer (sizes in T). */
template <class T> struct FwdShared {
    T *q;    /* (BQ, e + 1) */
    T *k;    /* (BK, e + 1) */
    T *v;    /* (BK, ev) */
    T *p;    /* (BQ, BK + 1): scores, then weights */
    T *m;    /* (BQ,) the running maximum of each row */
    T *sum;  /* (BQ,) the running sum of exps */
    T *corr; /* (BQ,) this tile's factor on the row's sum and output */
};

template <class T> __host__ __device__ inline int64_t fwd_shared_count(const nbk_attention_args &a)
{
    using C = Tiles<T>;
    return C::BQ * (a.e + 1) + C::BK * (a.e + 1) + C::BK * a.ev + C::BQ * (C::BK + 1) + 3 * C::BQ;
}

template <class T> __host__ __device__ inline FwdShared<T> fwd_shared(T *base, const nbk_attention_args &a)
{
    using C = Tiles<T>;
    FwdShared<T> s;
    s.q = base;
    s.k = s.q + C::BQ * (a.e + 1);
    s.v = s.k + C::BK * (a.e + 1);
    s.p = s.v + C::BK * a.ev;
    s.m = s.p + C::BQ * (C::BK + 1);
    s.sum = s.m + C::BQ;
    s.corr = s.sum + C::BQ;
    return s;
}

/* A thread's registers across the phases: its output tile, DV dims per row. */
template <class T, int DV> struct FwdThread {
    static constexpr int dims = DV;
    T o[Tiles<T>::BQ / TY][DV]; /* rows ty + TY i, dims tx + TX c */
};

/* The item's rows [i0, i0 + BQ) of batch b: out (batch, l, ev) and lse (batch, l). */
template <class S, class Exec>
__host__ __device__ void forward_item(Exec &block, const nbk_attention_args &a, S *out, compute_t<S> *lse,
                                      const FwdShared<compute_t<S>> &sh, int64_t b, int64_t i0)
{
    using T = compute_t<S>;
    using State = typename Exec::State;
    constexpr int BQ = Tiles<T>::BQ, BK = Tiles<T>::BK, TM = BQ / TY, TN = BK / TX, DV = State::dims;
    const S *q = (const S *)a.q + b * a.l * a.e, *k = (const S *)a.k + b * a.s * a.e;
    const S *v = (const S *)a.v + b * a.s * a.ev;

    block.run([&](int t) { /* q's tile; the rows' state */
        load_rows(t, sh.q, a.e + 1, q, i0, BQ, a.l, a.e);
        for (int r = t; r < BQ; r += THREADS) sh.m[r] = (T)-INFINITY, sh.sum[r] = 0;
        tile_zero(block.state(t).o);
    });
    const int64_t ntiles = key_tiles_for(a, i0, BQ, BK);
    for (int64_t tile = 0; tile < ntiles; tile++) {
        const int64_t j0 = tile * BK;
        block.run([&](int t) { /* 1. k's and v's tiles */
            load_rows(t, sh.k, a.e + 1, k, j0, BK, a.s, a.e);
            load_rows(t, sh.v, a.ev, v, j0, BK, a.s, a.ev);
        });
        block.run([&](int t) { /* 2. scores (BQ, BK) */
            const int ty = t / TX, tx = t % TX;
            T acc[TM][TN];
            tile_zero(acc);
            tile_product(acc, sh.q, a.e + 1, 1, ty, sh.k, 1, a.e + 1, tx, a.e, BK);
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
            tile_product(st.o, sh.p, BK + 1, 1, ty, sh.v, a.ev, 1, tx, BK, a.ev);
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
