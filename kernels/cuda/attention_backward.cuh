/* attention_backward.cuh — the backward of fused scaled dot-product attention (kernels/attention.h
 * gives the math), as two kinds of work item of one kernel that never add into the same element
 * from two threads (no atomics), written over an executor (attention_tiles.cuh) so the tests run
 * this same code on the host. Included by attention.cu.
 *
 *  - dk, dv item: a batch and a tile of BK keys. For each query tile of BQ rows that attends
 *    them (causal items start at the diagonal's tile), in order: the rows of q and g, their lse
 *    and rowsum(g out) are loaded; each thread recomputes its register tile of the scores and of
 *    dp = g v^T, and writes the weights p z and ds = p (z dp - rowsum) into shared memory; then
 *    dv += (p z)^T g and dk += ds^T q on its register tiles of keys by dims.
 *  - dq item: a batch and a tile of BQ query rows, over the key tiles it attends in order: the
 *    same ds, then dq += ds k.
 * dk and dq are scaled once at the end. Every sum runs in an order fixed by the shapes, so results
 * are the same on every run. A row's rowsum(g out) is a serial sum over its dims (stored_dot), the
 * same in both items. Half inputs are widened as they are loaded and each gradient is rounded once. */
#ifndef NB_CUDA_ATTENTION_BACKWARD_CUH
#define NB_CUDA_ATTENTION_BACKWARD_CUH

#include "attention_tiles.cuh"

namespace nb_cuda {
namespace attention {

/* The shared memory of a backward item, carved from one buffer (sizes in T). */
template <class T> struct BwdShared {
    T *q;   /* (BQ, e + 1) */
    T *g;   /* (BQ, ev + 1): the output's gradient */
    T *k;   /* (BK, e + 1) */
    T *v;   /* (BK, ev + 1) */
    T *p;   /* (BQ, BK + 1): the weights times dropout's factor */
    T *ds;  /* (BQ, BK + 1) */
    T *lse; /* (BQ,) */
    T *dot; /* (BQ,) rowsum(g out) */
};

template <class T> __host__ __device__ inline int64_t bwd_shared_count(const nbk_attention_args &a)
{
    using C = Tiles<T>;
    return (C::BQ + C::BK) * (a.e + 1 + a.ev + 1) + 2 * C::BQ * (C::BK + 1) + 2 * C::BQ;
}

template <class T> __host__ __device__ inline BwdShared<T> bwd_shared(T *base, const nbk_attention_args &a)
{
    using C = Tiles<T>;
    BwdShared<T> s;
    s.q = base;
    s.g = s.q + C::BQ * (a.e + 1);
    s.k = s.g + C::BQ * (a.ev + 1);
    s.v = s.k + C::BK * (a.e + 1);
    s.p = s.v + C::BK * (a.ev + 1);
    s.ds = s.p + C::BQ * (C::BK + 1);
    s.lse = s.ds + C::BQ * (C::BK + 1);
    s.dot = s.lse + C::BQ;
    return s;
}

/* A thread's registers: in a dq item its tile of rows ty + TY i by dims tx + TX c, in a dk, dv
 * item its tiles of keys ty + TY i by dims tx + TX c (an item uses only its own). */
template <class T, int DV> struct BwdThread {
    static constexpr int dims = DV;
    T dq[Tiles<T>::BQ / TY][DV];
    T dk[Tiles<T>::BK / TY][DV], dv[Tiles<T>::BK / TY][DV];
};

/* The items of a backward: dq items of BQ rows first, then dk, dv items of BK keys. */
template <class T> __host__ __device__ inline int64_t query_items(const nbk_attention_args &a)
{
    return a.batch * ((a.l + Tiles<T>::BQ - 1) / Tiles<T>::BQ);
}
template <class T> __host__ __device__ inline int64_t key_items(const nbk_attention_args &a)
{
    return a.batch * ((a.s + Tiles<T>::BK - 1) / Tiles<T>::BK);
}

/* Thread t's share of loading query rows [i0, i0 + BQ) of batch b: q, g, lse, rowsum(g out). */
template <class S>
__host__ __device__ inline void load_queries(int t, const nbk_attention_args &a, const BwdShared<compute_t<S>> &sh,
                                             const S *out, const compute_t<S> *lse, const S *g, int64_t b, int64_t i0)
{
    using T = compute_t<S>;
    constexpr int BQ = Tiles<T>::BQ;
    const S *gb = g + b * a.l * a.ev, *ob = out + b * a.l * a.ev;
    load_rows(t, sh.q, a.e + 1, (const S *)a.q + b * a.l * a.e, i0, BQ, a.l, a.e);
    load_rows(t, sh.g, a.ev + 1, gb, i0, BQ, a.l, a.ev);
    for (int r = t; r < BQ; r += THREADS) {
        const bool in = i0 + r < a.l;
        sh.lse[r] = in ? lse[b * a.l + i0 + r] : (T)0;
        sh.dot[r] = in ? stored_dot(gb + (i0 + r) * a.ev, ob + (i0 + r) * a.ev, a.ev) : (T)0;
    }
}

/* Thread t's share of loading keys [j0, j0 + BK) of batch b: k and v. */
template <class S>
__host__ __device__ inline void load_keys(int t, const nbk_attention_args &a, const BwdShared<compute_t<S>> &sh,
                                          int64_t b, int64_t j0)
{
    constexpr int BK = Tiles<compute_t<S>>::BK;
    load_rows(t, sh.k, a.e + 1, (const S *)a.k + b * a.s * a.e, j0, BK, a.s, a.e);
    load_rows(t, sh.v, a.ev + 1, (const S *)a.v + b * a.s * a.ev, j0, BK, a.s, a.ev);
}

/* Thread t's register tiles of the scores and of dp = g v^T for the loaded rows and keys, made
 * into ds (and, with want_p, the weights p z) in shared memory; 0 outside the problem. */
template <class T>
__host__ __device__ inline void weights_and_ds(int t, const nbk_attention_args &a, const BwdShared<T> &sh, int64_t b,
                                               int64_t i0, int64_t j0, bool want_p)
{
    constexpr int BQ = Tiles<T>::BQ, BK = Tiles<T>::BK, TM = BQ / TY, TN = BK / TX;
    const int ty = t / TX, tx = t % TX;
    T sc[TM][TN], dp[TM][TN];
    tile_zero(sc);
    tile_zero(dp);
    tile_product(sc, sh.q, a.e + 1, 1, ty, sh.k, 1, a.e + 1, tx, a.e, BK);
    tile_product(dp, sh.g, a.ev + 1, 1, ty, sh.v, 1, a.ev + 1, tx, a.ev, BK);
NB_UNROLL
    for (int i = 0; i < TM; i++) {
        const int r = ty + TY * i;
        const int64_t row = i0 + r;
NB_UNROLL
        for (int j = 0; j < TN; j++) {
            const int c = tx + TX * j;
            const int64_t key = j0 + c;
            T p = 0, ds = 0;
            if (row < a.l && key < a.s) {
                p = ex((T)a.scale * sc[i][j] + (T)nbk_attention_bias(&a, b, row, key) - sh.lse[r]);
                const T z = a.dropout_p > 0 ? (T)nbk_attention_keep(&a, b, row, key) : (T)1;
                ds = nbk_attention_removed(&a, b, row, key) ? (T)0 : p * (dp[i][j] * z - sh.dot[r]);
                p *= z;
            }
            if (want_p) sh.p[r * (BK + 1) + c] = p;
            sh.ds[r * (BK + 1) + c] = ds;
        }
    }
}

/* The dk, dv item of keys [j0, j0 + BK) of batch b: gk (batch, s, e) and gv (batch, s, ev). */
template <class S, class Exec>
__host__ __device__ void key_item(Exec &block, const nbk_attention_args &a, const S *out, const compute_t<S> *lse,
                                  const S *g, S *gk, S *gv, const BwdShared<compute_t<S>> &sh, int64_t b, int64_t j0)
{
    using T = compute_t<S>;
    using State = typename Exec::State;
    constexpr int BQ = Tiles<T>::BQ, BK = Tiles<T>::BK, TK = BK / TY, DV = State::dims;
    block.run([&](int t) {
        load_keys<S>(t, a, sh, b, j0);
        tile_zero(block.state(t).dk);
        tile_zero(block.state(t).dv);
    });
    const int64_t qtiles = (a.l + BQ - 1) / BQ;
    for (int64_t qt = first_query_tile(a, j0, BQ); qt < qtiles; qt++) {
        const int64_t i0 = qt * BQ;
        block.run([&](int t) { load_queries<S>(t, a, sh, out, lse, g, b, i0); });
        block.run([&](int t) { weights_and_ds(t, a, sh, b, i0, j0, true); });
        block.run([&](int t) { /* dv += (p z)^T g, dk += ds^T q, over the rows in order */
            const int ty = t / TX, tx = t % TX;
            State &st = block.state(t);
            tile_product(st.dv, sh.p, 1, BK + 1, ty, sh.g, a.ev + 1, 1, tx, BQ, a.ev);
            tile_product(st.dk, sh.ds, 1, BK + 1, ty, sh.q, a.e + 1, 1, tx, BQ, a.e);
        });
    }
    block.run([&](int t) {
        const int ty = t / TX, tx = t % TX;
        State &st = block.state(t);
NB_UNROLL
        for (int i = 0; i < TK; i++) {
            const int64_t key = j0 + ty + TY * i;
            if (key >= a.s) continue;
NB_UNROLL
            for (int c = 0; c < DV; c++) {
                const int64_t d = tx + TX * c;
                if (d < a.e) gk[(b * a.s + key) * a.e + d] = narrow<S>((T)a.scale * st.dk[i][c]);
                if (d < a.ev) gv[(b * a.s + key) * a.ev + d] = narrow<S>(st.dv[i][c]);
            }
        }
    });
}

/* The dq item of query rows [i0, i0 + BQ) of batch b: gq (batch, l, e). */
template <class S, class Exec>
__host__ __device__ void query_item(Exec &block, const nbk_attention_args &a, const S *out, const compute_t<S> *lse,
                                    const S *g, S *gq, const BwdShared<compute_t<S>> &sh, int64_t b, int64_t i0)
{
    using T = compute_t<S>;
    using State = typename Exec::State;
    constexpr int BQ = Tiles<T>::BQ, BK = Tiles<T>::BK, TM = BQ / TY, DV = State::dims;
    block.run([&](int t) {
        load_queries<S>(t, a, sh, out, lse, g, b, i0);
        tile_zero(block.state(t).dq);
    });
    const int64_t ntiles = key_tiles_for(a, i0, BQ, BK);
    for (int64_t tile = 0; tile < ntiles; tile++) {
        const int64_t j0 = tile * BK;
        block.run([&](int t) { load_keys<S>(t, a, sh, b, j0); });
        block.run([&](int t) { weights_and_ds(t, a, sh, b, i0, j0, false); });
        block.run([&](int t) { /* dq += ds k, over the keys in order */
            const int ty = t / TX, tx = t % TX;
            tile_product(block.state(t).dq, sh.ds, BK + 1, 1, ty, sh.k, a.e + 1, 1, tx, BK, a.e);
        });
    }
    block.run([&](int t) {
        const int ty = t / TX, tx = t % TX;
        State &st = block.state(t);
NB_UNROLL
        for (int i = 0; i < TM; i++) {
            const int64_t row = i0 + ty + TY * i;
            if (row >= a.l) continue;
NB_UNROLL
            for (int c = 0; c < DV; c++) {
                const int64_t d = tx + TX * c;
                if (d >= a.e) break;
                gq[(b * a.l + row) * a.e + d] = narrow<S>((T)a.scale * st.dq[i][c]);
            }
        }
    });
}

/* Backward item `item` (query_items<T> dq items, then key_items<T> dk, dv items). */
template <class S, class Exec>
__host__ __device__ void backward_item(Exec &block, const nbk_attention_args &a, const S *out, const compute_t<S> *lse,
                                       const S *g, S *gq, S *gk, S *gv, const BwdShared<compute_t<S>> &sh,
                                       int64_t item)
{
    using T = compute_t<S>;
    const int64_t nq = query_items<T>(a);
    int64_t b, first;
    if (item < nq) {
        item_of(item, (a.l + Tiles<T>::BQ - 1) / Tiles<T>::BQ, Tiles<T>::BQ, &b, &first);
        query_item<S>(block, a, out, lse, g, gq, sh, b, first);
    } else {
        item_of(item - nq, (a.s + Tiles<T>::BK - 1) / Tiles<T>::BK, Tiles<T>::BK, &b, &first);
        key_item<S>(block, a, out, lse, g, gk, gv, sh, b, first);
    }
}

} /* namespace attention */
} /* namespace nb_cuda */

#endif /* NB_CUDA_ATTENTION_BACKWARD_CUH */
