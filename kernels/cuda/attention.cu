/* attention.cu — scaled dot-product attention on the GPU (kernels/attention.h), fused in the
 * style of flash attention: no (l, s) matrix is ever written to global memory.
 *
 * Two kernels, each a grid-stride loop of a block per work item running block code written
 * once over an executor (attention_tiles.cuh): the forward (attention_forward.cuh: a batch and a
 * tile of query rows, register tiles for the scores and the weighted sum, an online softmax per
 * row), and the backward (attention_backward.cuh: dq items and dk, dv items, which recompute the
 * weights from the forward's lse; no atomics). The same block code runs on the host through
 * nbk_cuda_attention_*_on_host, which is how the tests check it without a GPU. Each kernel has
 * registers for 4, 8 or 16 head dims per thread, chosen by the head dims (up to 128).
 *
 * Element types: each kernel is written over the stored type S of q, k, v, out and the gradients
 * and computes in T = compute_t<S> (half.cuh): float16 and bfloat16 rows are widened to float32
 * as they are loaded into shared memory, every sum runs in float32, lse is float32, and each
 * stored result is rounded once. Float32 and float64 are stored and computed as themselves. */
#include "attention.h"
#include "attention_backward.cuh"
#include "attention_forward.cuh"
#include "half.cuh"
#include "internal.h"

#include "../error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <type_traits>

namespace {

using namespace nb_cuda::attention;
using nb_cuda::by_floating_dtype;
using nb_cuda::compute_t;

constexpr int64_t MAX_BLOCKS = 1 << 20;

/* ---------------------------------------------------------------- kernels */

template <class S, int DV>
__global__ void __launch_bounds__(THREADS) forward_kernel(nbk_attention_args a, S *out, compute_t<S> *lse)
{
    using T = compute_t<S>;
    constexpr int BQ = Tiles<T>::BQ;
    extern __shared__ __align__(16) unsigned char smem[];
    const FwdShared<T> sh = fwd_shared<T>((T *)smem, a);
    BlockExec<FwdThread<T, DV>> block;
    const int64_t tiles = (a.l + BQ - 1) / BQ, items = a.batch * tiles;
    for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
        int64_t b, i0;
        item_of(item, tiles, BQ, &b, &i0);
        forward_item<S>(block, a, out, lse, sh, b, i0);
    }
}

template <class S, int DV>
__global__ void __launch_bounds__(THREADS)
    backward_kernel(nbk_attention_args a, const S *out, const compute_t<S> *lse, const S *g, S *gq, S *gk, S *gv)
{
    using T = compute_t<S>;
    extern __shared__ __align__(16) unsigned char smem[];
    const BwdShared<T> sh = bwd_shared<T>((T *)smem, a);
    BlockExec<BwdThread<T, DV>> block;
    const int64_t items = query_items<T>(a) + key_items<T>(a);
    for (int64_t item = blockIdx.x; item < items; item += gridDim.x)
        backward_item<S>(block, a, out, lse, g, gq, gk, gv, sh, item);
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

/* f(S{}, DV) for a's stored type S and the registers per thread DV its head dims need (4, 8 or
 * 16, a std::integral_constant: attention_tiles.cuh), or unsupported(a): the one dispatch of every
 * entry below. */
template <class F> nb_status by_type_and_dims(const nbk_attention_args *a, F f)
{
    return by_floating_dtype(
        a->dtype,
        [&](auto s) {
            switch (dims_per_thread(a->e > a->ev ? a->e : a->ev)) {
            case 4: return f(s, std::integral_constant<int, 4>{});
            case 8: return f(s, std::integral_constant<int, 8>{});
            default: return f(s, std::integral_constant<int, DV_MAX>{});
            }
        },
        [&] { return unsupported(a); });
}

template <class S, int DV>
nb_status forward_dims(int device, cudaStream_t stream, const nbk_attention_args *a, void *out, void *lse)
{
    using T = compute_t<S>;
    constexpr int BQ = Tiles<T>::BQ;
    const size_t bytes = (size_t)fwd_shared_count<T>(*a) * sizeof(T);
    nb_status st = shared_for(forward_kernel<S, DV>, bytes, device);
    if (st != NB_OK) return st;
    const int64_t items = a->batch * ((a->l + BQ - 1) / BQ);
    forward_kernel<S, DV><<<grid_for(items), THREADS, bytes, stream>>>(*a, (S *)out, (T *)lse);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the attention kernel");
}

template <class S, int DV>
nb_status backward_dims(int device, cudaStream_t stream, const nbk_attention_args *a, const void *out,
                        const void *lse, const void *g, void *gq, void *gk, void *gv)
{
    using T = compute_t<S>;
    const size_t bytes = (size_t)bwd_shared_count<T>(*a) * sizeof(T);
    nb_status st = shared_for(backward_kernel<S, DV>, bytes, device);
    if (st != NB_OK) return st;
    const int64_t items = query_items<T>(*a) + key_items<T>(*a);
    backward_kernel<S, DV><<<grid_for(items), THREADS, bytes, stream>>>(*a, (const S *)out, (const T *)lse,
                                                                        (const S *)g, (S *)gq, (S *)gk, (S *)gv);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the attention backward kernel");
}

/* ---------------------------------------------------------------- the block code on the host */

/* Runs f(executor, shared memory) with a host executor of State and count T's of shared memory. */
template <class State, class T, class F> nb_status on_host(int64_t count, F f)
{
    T *buf = (T *)malloc((size_t)count * sizeof(T));
    HostExec<State> *host = (HostExec<State> *)malloc(sizeof(HostExec<State>));
    if (buf && host) f(*host, buf);
    free(buf), free(host);
    return buf && host ? NB_OK : nbk_fail(NB_ERR_MEMORY, "out of memory running the attention kernels on the host");
}

template <class S, int DV> nb_status forward_on_host_dims(const nbk_attention_args *a, void *out, void *lse)
{
    using T = compute_t<S>;
    constexpr int BQ = Tiles<T>::BQ;
    return on_host<FwdThread<T, DV>, T>(fwd_shared_count<T>(*a), [&](HostExec<FwdThread<T, DV>> &host, T *buf) {
        const FwdShared<T> sh = fwd_shared<T>(buf, *a);
        for (int64_t b = 0; b < a->batch; b++)
            for (int64_t i0 = 0; i0 < a->l; i0 += BQ) forward_item<S>(host, *a, (S *)out, (T *)lse, sh, b, i0);
    });
}

template <class S, int DV>
nb_status backward_on_host_dims(const nbk_attention_args *a, const void *out, const void *lse, const void *g,
                                void *gq, void *gk, void *gv)
{
    using T = compute_t<S>;
    return on_host<BwdThread<T, DV>, T>(bwd_shared_count<T>(*a), [&](HostExec<BwdThread<T, DV>> &host, T *buf) {
        const BwdShared<T> sh = bwd_shared<T>(buf, *a);
        for (int64_t item = 0; item < query_items<T>(*a) + key_items<T>(*a); item++)
            backward_item<S>(host, *a, (const S *)out, (const T *)lse, (const S *)g, (S *)gq, (S *)gk, (S *)gv, sh,
                             item);
    });
}

} // namespace

extern "C" nb_status nbk_cuda_attention_forward(int device, const nbk_attention_args *a, void *out, void *lse)
{
    nb_status st = head_dims_ok(a);
    if (st != NB_OK || a->batch == 0 || a->l == 0) return st;
    cudaStream_t stream;
    if ((st = nbk_cuda_use(device, &stream)) != NB_OK) return st;
    return by_type_and_dims(a, [&](auto s, auto dv) {
        return forward_dims<decltype(s), decltype(dv)::value>(device, stream, a, out, lse);
    });
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
    return by_type_and_dims(a, [&](auto s, auto dv) {
        return backward_dims<decltype(s), decltype(dv)::value>(device, stream, a, out, lse, g, gq, gk, gv);
    });
}

extern "C" nb_status nbk_cuda_attention_forward_on_host(const nbk_attention_args *a, void *out, void *lse)
{
    nb_status st = head_dims_ok(a);
    if (st != NB_OK || a->batch == 0 || a->l == 0) return st;
    return by_type_and_dims(a, [&](auto s, auto dv) {
        return forward_on_host_dims<decltype(s), decltype(dv)::value>(a, out, lse);
    });
}

extern "C" nb_status nbk_cuda_attention_backward_on_host(const nbk_attention_args *a, const void *out,
                                                         const void *lse, const void *g, void *gq, void *gk, void *gv)
{
    nb_status st = head_dims_ok(a);
    if (st != NB_OK || a->batch == 0) return st;
    if (a->l == 0) { /* no queries: dk and dv are zero */
        memset(gk, 0, (size_t)(a->batch * a->s * a->e) * nb_dtype_size(a->dtype));
        memset(gv, 0, (size_t)(a->batch * a->s * a->ev) * nb_dtype_size(a->dtype));
        return NB_OK;
    }
    return by_type_and_dims(a, [&](auto s, auto dv) {
        return backward_on_host_dims<decltype(s), decltype(dv)::value>(a, out, lse, g, gq, gk, gv);
    });
}
