/* optim.cu — the optimizers' multi-tensor kernels on the GPU (kernels/optim.h): an Adam/AdamW step
 * and the two halves of gradient clipping, each one launch over a whole list of tensors.
 *
 * A list's tensors are cut into chunks of CHUNK elements; chunk_start[k] is the first chunk of
 * tensor k (chunk_start[n] the total), and the grid's blocks take the chunks in a grid-stride
 * loop, so one launch covers every tensor, whatever their sizes. The list and its chunk table
 * travel in the kernel's arguments (under 4 KB), so a launch needs no copy from the host and is
 * captured whole into a CUDA graph. The gradient norm is deterministic: each block sums (or
 * takes the max of) its chunks in a fixed order and a fixed tree, and one block combines the
 * blocks' results in index order; the grid's size depends only on the sizes. The per-thread index
 * math is in __host__ __device__ functions. An Adam launch reads its rate and step counts from
 * device memory when it runs, so a replay of it uses the rate written there since, and skips the
 * whole step (step counts included) when the gradient scaler's found-inf flag it is given is set.
 * The scaler's unscale is one launch over the list, its update one thread. A half SGD step is
 * one grid-stride launch over its parameter. Half elements (float16, bfloat16) are computed in
 * float32 and rounded once, with kernels/half.h's conversions, as on the CPU. */
#include "block_sum.cuh"
#include "half.cuh"
#include "internal.h"
#include "optim.h"

#include <stdint.h>
#include <type_traits>

#define T float
#define SFX f32
#include "../optim_adam_typed.h"
#undef T
#undef SFX
#define T double
#define SFX f64
#include "../optim_adam_typed.h"
#undef T
#undef SFX

#define T float
#define S uint16_t
#define NBK_LOAD nbk_f16_to_f32
#define NBK_STORE nbk_f32_to_f16
#define SFX f16
#include "../optim_adam_typed.h"
#include "../optim_sgd_typed.h"
#undef SFX
#undef NBK_LOAD
#undef NBK_STORE
#define NBK_LOAD nbk_bf16_to_f32
#define NBK_STORE nbk_f32_to_bf16
#define SFX bf16
#include "../optim_adam_typed.h"
#include "../optim_sgd_typed.h"
#undef SFX
#undef NBK_LOAD
#undef NBK_STORE
#undef S
#undef T

namespace {

using nb_cuda::bf16;
using nb_cuda::by_floating_dtype;
using nb_cuda::f16;
using nb_cuda::half_from_float;
using nb_cuda::is_half;
using nb_cuda::to_float;

constexpr int BLOCK = 256;               /* threads per block */
constexpr int64_t CHUNK = BLOCK * 16;    /* elements of a chunk */
constexpr int64_t MAX_BLOCKS = 1 << 24;  /* beyond this the grid-stride loops take over */

/* The chunk table of n tensors of numel[k] elements: chunk_start (n + 1,). */
void chunk_table(int n, const int64_t *numel, int64_t *chunk_start)
{
    chunk_start[0] = 0;
    for (int k = 0; k < n; k++) chunk_start[k + 1] = chunk_start[k] + (numel[k] + CHUNK - 1) / CHUNK;
}

/* The tensor chunk c (< chunk_start[n]) belongs to: the last k whose first chunk is <= c (empty
 * tensors, which have no chunk, are passed over). */
__host__ __device__ inline int tensor_of_chunk(const int64_t *chunk_start, int n, int64_t c)
{
    int k = 0;
    while (k + 1 < n && chunk_start[k + 1] <= c) k++;
    return k;
}

/* Elements [*begin, *end) of chunk c, which belongs to tensor k of numel elements. */
__host__ __device__ inline void chunk_range(const int64_t *chunk_start, int k, int64_t c, int64_t numel,
                                            int64_t *begin, int64_t *end)
{
    *begin = (c - chunk_start[k]) * CHUNK;
    *end = *begin + CHUNK < numel ? *begin + CHUNK : numel;
}

unsigned grid_for(int64_t chunks, int64_t cap)
{
    if (chunks > cap) chunks = cap;
    return chunks < 1 ? 1u : (unsigned)chunks;
}

/* An element as a double: a half one exactly, through float32. */
template <class T> __host__ __device__ inline double as_double(T v)
{
    if constexpr (is_half<T>) return (double)to_float(v);
    else return (double)v;
}

/* ---------------------------------------------------------------- Adam */

struct AdamLaunch {
    nbk_adam_args a;
    int64_t chunk_start[NBK_MULTI_MAX + 1];
};

static_assert(sizeof(AdamLaunch) <= 4096, "a launch's arguments are at most 4 KB");

/* Whether the gradient scaler asks the step to change nothing. */
__host__ __device__ inline bool skipped(const nbk_adam_args &a) { return a.found_inf && *a.found_inf != 0; }

__global__ void adam_advance_kernel(AdamLaunch L)
{
    if (skipped(L.a)) return;
    if ((int)threadIdx.x < L.a.n) *L.a.t[threadIdx.x].step += 1;
}

template <class T> __global__ void adam_kernel(AdamLaunch L)
{
    /* the flag is read before the step counts (advanced by the launch before this one, which
     * read the same flag), and nothing in this launch writes it */
    if (skipped(L.a)) return;
    const int64_t total = L.chunk_start[L.a.n];
    for (int64_t c = blockIdx.x; c < total; c += gridDim.x) {
        const int k = tensor_of_chunk(L.chunk_start, L.a.n, c);
        const nbk_adam_tensor &t = L.a.t[k];
        int64_t begin, end;
        chunk_range(L.chunk_start, k, c, t.numel, &begin, &end);
        if constexpr (std::is_same<T, float>::value) {
            float *p = (float *)t.param, *m = (float *)t.exp_avg, *v = (float *)t.exp_avg_sq;
            const float *g = (const float *)t.grad;
            const nbk_adam_scalars_f32 s = nbk_adam_scalars_of_f32(&L.a, *t.step);
            for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) nbk_adam_element_f32(p, g, m, v, i, &s);
        } else if constexpr (std::is_same<T, double>::value) {
            double *p = (double *)t.param, *m = (double *)t.exp_avg, *v = (double *)t.exp_avg_sq;
            const double *g = (const double *)t.grad;
            const nbk_adam_scalars_f64 s = nbk_adam_scalars_of_f64(&L.a, *t.step);
            for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) nbk_adam_element_f64(p, g, m, v, i, &s);
        } else { /* a half dtype: its bits */
            uint16_t *p = (uint16_t *)t.param, *m = (uint16_t *)t.exp_avg, *v = (uint16_t *)t.exp_avg_sq;
            const uint16_t *g = (const uint16_t *)t.grad;
            if constexpr (std::is_same<T, f16>::value) {
                const nbk_adam_scalars_f16 s = nbk_adam_scalars_of_f16(&L.a, *t.step);
                for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
                    nbk_adam_element_f16(p, g, m, v, i, &s);
            } else {
                const nbk_adam_scalars_bf16 s = nbk_adam_scalars_of_bf16(&L.a, *t.step);
                for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
                    nbk_adam_element_bf16(p, g, m, v, i, &s);
            }
        }
    }
}

/* ---------------------------------------------------------------- SGD of a half parameter */

/* The first element thread `thread` of block `block` steps, and the stride between its
 * elements, in a grid of `blocks` blocks of `threads` threads. */
__host__ __device__ inline int64_t grid_first(unsigned block, unsigned threads, unsigned thread)
{
    return (int64_t)block * threads + thread;
}
__host__ __device__ inline int64_t grid_stride(unsigned blocks, unsigned threads) { return (int64_t)blocks * threads; }

template <class T> __global__ void sgd_kernel(nbk_sgd_args a)
{
    uint16_t *p = (uint16_t *)a.param, *buf = (uint16_t *)a.momentum_buffer; /* (numel,) each */
    const uint16_t *g = (const uint16_t *)a.grad;                            /* (numel,) */
    const int64_t stride = grid_stride(gridDim.x, blockDim.x);
    if constexpr (std::is_same<T, f16>::value) {
        const nbk_sgd_scalars_f16 s = nbk_sgd_scalars_of_f16(&a);
        for (int64_t i = grid_first(blockIdx.x, blockDim.x, threadIdx.x); i < a.numel; i += stride)
            nbk_sgd_element_f16(p, g, buf, i, &s);
    } else {
        const nbk_sgd_scalars_bf16 s = nbk_sgd_scalars_of_bf16(&a);
        for (int64_t i = grid_first(blockIdx.x, blockDim.x, threadIdx.x); i < a.numel; i += stride)
            nbk_sgd_element_bf16(p, g, buf, i, &s);
    }
}

/* ---------------------------------------------------------------- gradient clipping */

struct GradLaunch {
    nbk_grad_list l;
    int64_t chunk_start[NBK_MULTI_MAX + 1];
};

static_assert(sizeof(GradLaunch) <= 4096, "a launch's arguments are at most 4 KB");

/* The combination of a norm's terms: a sum, or a max (p infinite). */
__host__ __device__ inline double combine(double a, double b, bool is_max) { return is_max ? nbk_nan_max(a, b) : a + b; }

/* Every thread's v combined in a fixed tree; every thread gets it (sh: BLOCK doubles). */
__device__ double block_combine(double v, double *sh, bool is_max)
{
    if (!is_max) return block_sum<BLOCK>(v, sh);
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = BLOCK / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] = nbk_nan_max(sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    const double r = sh[0];
    __syncthreads();
    return r;
}

template <class T> __global__ void norm_partials_kernel(GradLaunch L, double norm_type, double *scratch)
{
    __shared__ double sh[BLOCK];
    const bool is_max = isinf(norm_type);
    const int64_t total = L.chunk_start[L.l.n];
    double acc = 0;
    for (int64_t c = blockIdx.x; c < total; c += gridDim.x) {
        const int k = tensor_of_chunk(L.chunk_start, L.l.n, c);
        int64_t begin, end;
        chunk_range(L.chunk_start, k, c, L.l.numel[k], &begin, &end);
        const T *g = (const T *)L.l.grad[k];
        for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
            acc = combine(acc, nbk_norm_term(as_double(g[i]), norm_type), is_max);
    }
    acc = block_combine(acc, sh, is_max);
    if (threadIdx.x == 0) scratch[blockIdx.x] = acc;
}

__global__ void norm_finish_kernel(const double *scratch, int nparts, double norm_type, double *acc)
{
    __shared__ double sh[BLOCK];
    const bool is_max = isinf(norm_type);
    double v = 0;
    for (int i = threadIdx.x; i < nparts; i += BLOCK) v = combine(v, scratch[i], is_max);
    v = block_combine(v, sh, is_max);
    if (threadIdx.x == 0) *acc = combine(*acc, v, is_max);
}

/* g * f, a half g in float32 rounded once (f is a float then) */
template <class T, class F> __host__ __device__ inline T scaled(T g, F f)
{
    if constexpr (is_half<T>) return half_from_float<T>(to_float(g) * f);
    else return g * f;
}

template <class T> __global__ void scale_kernel(GradLaunch L, const double *acc, double norm_type, double max_norm)
{
    const double coef = nbk_clip_coef(nbk_grad_norm_of(*acc, norm_type), max_norm);
    if (coef == 1) return; /* torch multiplies by 1.0: nothing changes */
    using F = typename std::conditional<std::is_same<T, double>::value, double, float>::type;
    const F f = (F)coef;
    const int64_t total = L.chunk_start[L.l.n];
    for (int64_t c = blockIdx.x; c < total; c += gridDim.x) {
        const int k = tensor_of_chunk(L.chunk_start, L.l.n, c);
        int64_t begin, end;
        chunk_range(L.chunk_start, k, c, L.l.numel[k], &begin, &end);
        T *g = (T *)L.l.grad[k];
        for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) g[i] = scaled(g[i], f);
    }
}

/* ---------------------------------------------------------------- the gradient scaler */

struct UnscaleLaunch {
    nbk_unscale_args a;
    int64_t chunk_start[NBK_MULTI_MAX + 1];
};

static_assert(sizeof(UnscaleLaunch) <= 4096, "a launch's arguments are at most 4 KB");

/* The elements [begin, end) of g that thread `thread` of a block of `threads` unscales: every
 * threads-th from begin + thread. Whether one of them was Inf or NaN. */
template <class T>
__host__ __device__ inline bool unscale_share(T *g, int64_t begin, int64_t end, unsigned thread, unsigned threads,
                                              float inv)
{
    bool found = false;
    for (int64_t i = begin + thread; i < end; i += threads) {
        const T v = g[i];
        if constexpr (std::is_same<T, bf16>::value) {
            found |= !isfinite(to_float(v));
            g[i] = bf16{nbk_unscale_bf16(v.bits, inv)};
        } else {
            found |= !isfinite(v);
            if constexpr (std::is_same<T, float>::value) g[i] = nbk_unscale_f32(v, inv);
            else g[i] = nbk_unscale_f64(v, inv);
        }
    }
    return found;
}

template <class T> __global__ void unscale_kernel(UnscaleLaunch L)
{
    const float inv = nbk_inv_scale(*L.a.scale);
    const int64_t total = L.chunk_start[L.a.l.n];
    bool found = false;
    for (int64_t c = blockIdx.x; c < total; c += gridDim.x) {
        const int k = tensor_of_chunk(L.chunk_start, L.a.l.n, c);
        int64_t begin, end;
        chunk_range(L.chunk_start, k, c, L.a.l.numel[k], &begin, &end);
        found |= unscale_share<T>((T *)L.a.l.grad[k], begin, end, threadIdx.x, blockDim.x, inv);
    }
    if (found) *L.a.found_inf = 1.0f; /* every writer stores the same value: no atomic needed */
}

__global__ void scaler_update_kernel(nbk_scaler_update_args a) { nbk_scaler_update_at(&a); }

nb_status not_floating(nb_dtype dtype, const char *what)
{
    return nbk_fail(NB_ERR_DTYPE, "no CUDA %s for dtype %d (floating dtypes only)", what, (int)dtype);
}

GradLaunch grad_launch(const nbk_grad_list *l)
{
    GradLaunch L;
    L.l = *l;
    chunk_table(l->n, l->numel, L.chunk_start);
    return L;
}

} // namespace

extern "C" nb_status nbk_cuda_adam_step(int device, const nbk_adam_args *a)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    AdamLaunch L;
    L.a = *a;
    int64_t numel[NBK_MULTI_MAX]; /* (n,) */
    for (int k = 0; k < a->n; k++) numel[k] = a->t[k].numel;
    chunk_table(a->n, numel, L.chunk_start);
    adam_advance_kernel<<<1, NBK_MULTI_MAX, 0, stream>>>(L); /* a thread per tensor */
    st = nbk_cuda_check(cudaGetLastError(), device, "launching the Adam step-count kernel");
    if (st != NB_OK || L.chunk_start[a->n] == 0) return st;
    const unsigned grid = grid_for(L.chunk_start[a->n], MAX_BLOCKS);
    return by_floating_dtype(
        a->dtype,
        [&](auto t) {
            adam_kernel<decltype(t)><<<grid, BLOCK, 0, stream>>>(L);
            return nbk_cuda_check(cudaGetLastError(), device, "launching the Adam kernel");
        },
        [&] { return not_floating(a->dtype, "Adam step"); });
}

extern "C" nb_status nbk_cuda_sgd_step(int device, const nbk_sgd_args *a)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK || a->numel == 0) return st;
    const unsigned grid = grid_for((a->numel + BLOCK - 1) / BLOCK, MAX_BLOCKS);
    if (a->dtype == NB_FLOAT16) sgd_kernel<f16><<<grid, BLOCK, 0, stream>>>(*a);
    else sgd_kernel<bf16><<<grid, BLOCK, 0, stream>>>(*a);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the SGD kernel");
}

extern "C" nb_status nbk_cuda_grad_norm(int device, const nbk_grad_list *l, double norm_type, double *acc,
                                        double *scratch)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    const GradLaunch L = grad_launch(l);
    if (L.chunk_start[l->n] == 0) return NB_OK; /* only empty gradients: nothing to add */
    const unsigned grid = grid_for(L.chunk_start[l->n], NBK_NORM_SCRATCH);
    st = by_floating_dtype(
        l->dtype,
        [&](auto t) {
            norm_partials_kernel<decltype(t)><<<grid, BLOCK, 0, stream>>>(L, norm_type, scratch);
            return nbk_cuda_check(cudaGetLastError(), device, "launching the gradient norm kernel");
        },
        [&] { return not_floating(l->dtype, "gradient norm"); });
    if (st != NB_OK) return st;
    norm_finish_kernel<<<1, BLOCK, 0, stream>>>(scratch, (int)grid, norm_type, acc);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the gradient norm's final kernel");
}

extern "C" nb_status nbk_cuda_grad_scale(int device, const nbk_grad_list *l, const double *acc, double norm_type,
                                         double max_norm)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    const GradLaunch L = grad_launch(l);
    if (L.chunk_start[l->n] == 0) return NB_OK;
    const unsigned grid = grid_for(L.chunk_start[l->n], MAX_BLOCKS);
    return by_floating_dtype(
        l->dtype,
        [&](auto t) {
            scale_kernel<decltype(t)><<<grid, BLOCK, 0, stream>>>(L, acc, norm_type, max_norm);
            return nbk_cuda_check(cudaGetLastError(), device, "launching the gradient scale kernel");
        },
        [&] { return not_floating(l->dtype, "gradient scale"); });
}

extern "C" nb_status nbk_cuda_grad_unscale(int device, const nbk_unscale_args *a)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    UnscaleLaunch L;
    L.a = *a;
    chunk_table(a->l.n, a->l.numel, L.chunk_start);
    if (L.chunk_start[a->l.n] == 0) return NB_OK; /* only empty gradients: nothing to check */
    const unsigned grid = grid_for(L.chunk_start[a->l.n], MAX_BLOCKS);
    if (a->l.dtype == NB_FLOAT32) unscale_kernel<float><<<grid, BLOCK, 0, stream>>>(L);
    else if (a->l.dtype == NB_BFLOAT16) unscale_kernel<bf16><<<grid, BLOCK, 0, stream>>>(L);
    else unscale_kernel<double><<<grid, BLOCK, 0, stream>>>(L);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the gradient unscale kernel");
}

extern "C" nb_status nbk_cuda_scaler_update(int device, const nbk_scaler_update_args *a)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    scaler_update_kernel<<<1, 1, 0, stream>>>(*a);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the gradient scaler's update kernel");
}
