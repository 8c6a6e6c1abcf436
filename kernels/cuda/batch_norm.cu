/* batch_norm.cu — batch normalisation on the GPU, forward and backward (batch_norm.h). The
 * formulas and the precision are the CPU's (kernels/cpu/batch_norm.c): statistics and sums in
 * double, two passes over a channel (its mean, then its squared deviations).
 *
 * Every kernel takes a block per channel (looping over channels beyond the grid): thread t takes
 * the channel's elements e = t, t + THREADS, ... of its n * s (element e is batch e / s, place
 * e % s, found by channel_walk without a division per element); each pass's per-thread sums are combined in a fixed tree in shared memory, so the
 * result depends on the shapes only (no atomics). Thread 0 writes the channel's statistics,
 * running statistics and the weight's and bias's gradients.
 *
 * What one thread does is written as __host__ __device__ functions (channel_walk, thread_moment,
 * thread_grad_sums), so it can be run and checked on the CPU; the kernels only add the combining
 * across threads. */
#include "batch_norm.h"

#include "block_sum.cuh"
#include "internal.h"

#include <math.h>
#include <stdint.h>

namespace nb_cuda {
namespace {

constexpr int THREADS = 512;        /* threads per block (a power of two) */
constexpr int64_t MAX_GRID = 65535; /* blocks; the kernels loop beyond */

/* ---------------------------------------------------------------- one thread */

/* A thread's walk over channel ch's elements e = t, t + THREADS, ... of its n * s: element e is
 * batch i = e / s, place j = e % s, at offset (i * c + ch) * s + j of (n, c, s). The walk divides
 * once, at its start, and then steps (i, j) by THREADS = q s + r: a 64-bit division per element
 * costs the GPU more than the element's arithmetic. */
struct channel_walk {
    int64_t i, j;       /* the current element's batch and place */
    int64_t q, r;       /* THREADS / s, THREADS % s */
    int64_t n, c, s, ch;
};

__host__ __device__ inline channel_walk walk_start(const nbk_batch_norm_args &a, int64_t ch, int t)
{
    const int64_t s = a.s > 0 ? a.s : 1;
    return channel_walk{t / s, t % s, THREADS / s, THREADS % s, a.n, a.c, s, ch};
}
__host__ __device__ inline bool walk_more(const channel_walk &w) { return w.i < w.n; }
__host__ __device__ inline int64_t walk_offset(const channel_walk &w) { return (w.i * w.c + w.ch) * w.s + w.j; }
__host__ __device__ inline void walk_next(channel_walk &w)
{
    w.i += w.q;
    w.j += w.r;
    if (w.j >= w.s) {
        w.j -= w.s;
        w.i++;
    }
}

/* Thread t's part of channel ch's sum of (x - shift) (power 1) or (x - shift)^2 (power 2). */
template <class T>
__host__ __device__ inline double thread_moment(const nbk_batch_norm_args &a, int64_t ch, int t, double shift,
                                                int power)
{
    const T *x = (const T *)a.x;
    double r = 0;
    if (a.s == 0) return r;
    for (channel_walk w = walk_start(a, ch, t); walk_more(w); walk_next(w)) {
        const double d = (double)x[walk_offset(w)] - shift;
        r += power == 1 ? d : d * d;
    }
    return r;
}

/* Thread t's part of channel ch's sums of g (*sg) and of g xhat (*sgx). */
template <class T>
__host__ __device__ inline void thread_grad_sums(const nbk_batch_norm_args &a, const T *g, int64_t ch, int t,
                                                 double mean, double rstd, double *sg, double *sgx)
{
    const T *x = (const T *)a.x;
    double p = 0, q = 0;
    for (channel_walk w = walk_start(a, ch, t); a.s > 0 && walk_more(w); walk_next(w)) {
        const int64_t k = walk_offset(w);
        const double gv = (double)g[k];
        p += gv;
        q += gv * (((double)x[k] - mean) * rstd);
    }
    *sg = p;
    *sgx = q;
}

/* ---------------------------------------------------------------- kernels */

template <class T> __global__ void batch_norm_forward_kernel(nbk_batch_norm_args a, T *y, double *stats)
{
    __shared__ double sh[THREADS];
    const int t = (int)threadIdx.x;
    const T *x = (const T *)a.x, *w = (const T *)a.weight, *b = (const T *)a.bias;
    T *rm = (T *)a.running_mean, *rv = (T *)a.running_var;
    const int64_t count = a.n * a.s;
    const double fcount = (double)count;
    for (int64_t ch = blockIdx.x; ch < a.c; ch += gridDim.x) {
        double mean, var;
        if (a.training) {
            mean = block_sum<THREADS>(thread_moment<T>(a, ch, t, 0.0, 1), sh) / fcount;
            var = block_sum<THREADS>(thread_moment<T>(a, ch, t, mean, 2), sh) / fcount;
        } else {
            mean = (double)rm[ch];
            var = (double)rv[ch];
        }
        const double rstd = 1.0 / sqrt(var + a.eps);
        if (t == 0) {
            stats[ch] = mean;
            stats[a.c + ch] = rstd;
            if (a.training) {
                const double m = a.momentum;
                if (rm) rm[ch] = (T)((1.0 - m) * (double)rm[ch] + m * mean);
                if (rv) rv[ch] = (T)((1.0 - m) * (double)rv[ch] + m * var * fcount / (fcount - 1.0));
            }
        }
        const double scale = (w ? (double)w[ch] : 1.0) * rstd, bias = b ? (double)b[ch] : 0.0;
        for (channel_walk e = walk_start(a, ch, t); a.s > 0 && walk_more(e); walk_next(e)) {
            const int64_t k = walk_offset(e);
            y[k] = (T)(((double)x[k] - mean) * scale + bias);
        }
    }
}

template <class T>
__global__ void batch_norm_backward_kernel(nbk_batch_norm_args a, const double *stats, const T *g, T *gx, T *gw,
                                           T *gb)
{
    __shared__ double sh[THREADS];
    const int t = (int)threadIdx.x;
    const T *x = (const T *)a.x, *w = (const T *)a.weight;
    const int64_t count = a.n * a.s;
    const double fcount = (double)count;
    for (int64_t ch = blockIdx.x; ch < a.c; ch += gridDim.x) {
        const double mean = stats[ch], rstd = stats[a.c + ch];
        double p, q;
        thread_grad_sums<T>(a, g, ch, t, mean, rstd, &p, &q);
        const double sg = block_sum<THREADS>(p, sh), sgx = block_sum<THREADS>(q, sh);
        if (t == 0) {
            if (gw) gw[ch] = (T)sgx;
            if (gb) gb[ch] = (T)sg;
        }
        if (!gx) continue;
        const double k = (w ? (double)w[ch] : 1.0) * rstd;
        const double mg = a.training ? sg / fcount : 0.0, mgx = a.training ? sgx / fcount : 0.0;
        for (channel_walk e = walk_start(a, ch, t); a.s > 0 && walk_more(e); walk_next(e)) {
            const int64_t o = walk_offset(e);
            const double xhat = ((double)x[o] - mean) * rstd;
            gx[o] = (T)(k * ((double)g[o] - mg - xhat * mgx));
        }
    }
}

/* ---------------------------------------------------------------- launches */

unsigned grid_of(int64_t channels)
{
    return channels < 1 ? 1u : (unsigned)(channels < MAX_GRID ? channels : MAX_GRID);
}

template <class T> nb_status forward(int device, cudaStream_t stream, const nbk_batch_norm_args *a, T *y, double *stats)
{
    batch_norm_forward_kernel<T><<<grid_of(a->c), THREADS, 0, stream>>>(*a, y, stats);
    return nbk_cuda_check(cudaGetLastError(), device, "launching a batch norm kernel");
}

template <class T>
nb_status backward(int device, cudaStream_t stream, const nbk_batch_norm_args *a, const double *stats, const T *g,
                   T *gx, T *gw, T *gb)
{
    batch_norm_backward_kernel<T><<<grid_of(a->c), THREADS, 0, stream>>>(*a, stats, g, gx, gw, gb);
    return nbk_cuda_check(cudaGetLastError(), device, "launching a batch norm backward kernel");
}

template <class T> __global__ void zero_kernel(T *p, int64_t n)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) p[i] = (T)0;
}

/* The weight's and bias's gradients of a batch with no elements: empty sums. */
template <class T> nb_status zero_sums(int device, cudaStream_t stream, int64_t c, T *gw, T *gb)
{
    T *both[2] = {gw, gb};
    for (int k = 0; k < 2; k++) {
        if (!both[k] || c == 0) continue;
        const int64_t blocks = (c + THREADS - 1) / THREADS;
        zero_kernel<T><<<(unsigned)(blocks < MAX_GRID ? blocks : MAX_GRID), THREADS, 0, stream>>>(both[k], c);
        nb_status st = nbk_cuda_check(cudaGetLastError(), device, "launching a batch norm backward kernel");
        if (st != NB_OK) return st;
    }
    return NB_OK;
}

nb_status bad_dtype(const char *what, nb_dtype dtype)
{
    return nbk_fail(NB_ERR_DTYPE, "no CUDA %s for dtype %d (float32 or float64 only)", what, (int)dtype);
}

} /* namespace */
} /* namespace nb_cuda */

extern "C" nb_status nbk_cuda_batch_norm_forward(int device, const nbk_batch_norm_args *a, void *y, double *stats)
{
    if (a->n == 0 || a->s == 0 || a->c == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (a->dtype) {
    case NB_FLOAT32: return nb_cuda::forward(device, stream, a, (float *)y, stats);
    case NB_FLOAT64: return nb_cuda::forward(device, stream, a, (double *)y, stats);
    default: return nb_cuda::bad_dtype("batch norm", a->dtype);
    }
}

extern "C" nb_status nbk_cuda_batch_norm_backward(int device, const nbk_batch_norm_args *a, const double *stats,
                                                  const void *g, void *gx, void *gw, void *gb)
{
    if (a->c == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    const bool empty = a->n == 0 || a->s == 0;
    switch (a->dtype) {
    case NB_FLOAT32:
        if (empty) return nb_cuda::zero_sums(device, stream, a->c, (float *)gw, (float *)gb);
        return nb_cuda::backward(device, stream, a, stats, (const float *)g, (float *)gx, (float *)gw, (float *)gb);
    case NB_FLOAT64:
        if (empty) return nb_cuda::zero_sums(device, stream, a->c, (double *)gw, (double *)gb);
        return nb_cuda::backward(device, stream, a, stats, (const double *)g, (double *)gx, (double *)gw,
                                 (double *)gb);
    default: return nb_cuda::bad_dtype("batch norm backward", a->dtype);
    }
}
