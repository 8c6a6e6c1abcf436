/* norm.cu — layer and RMS normalisation on the GPU, forward and backward (norm.h). The formulas
 * and the precision are the CPU's (kernels/cpu/norm.c): statistics and xhat in double, two passes
 * over a row (its mean, then its squared deviations).
 *
 * The forward and the input's gradient take a block per row (looping over rows beyond the grid):
 * thread t takes the row's elements t, t + THREADS, ...; each pass's per-thread sums are combined
 * in a fixed tree in shared memory, so the result depends on the shapes only. The weight's and
 * bias's gradients take a thread per column, adding the rows in order (no atomics).
 *
 * What one thread does is written as __host__ __device__ functions (thread_*, column_sums), so it
 * can be run and checked on the CPU; the kernels only add the combining across threads. */
#include "norm.h"

#include "block_sum.cuh"
#include "internal.h"

#include <math.h>
#include <stdint.h>

namespace nb_cuda {
namespace {

constexpr int THREADS = 256;        /* threads per block, every kernel (a power of two) */
constexpr int64_t MAX_GRID = 65535; /* blocks; the kernels loop beyond */

/* ---------------------------------------------------------------- one thread */

/* Thread t's part of a row's sum of (x - shift) (power 1) or (x - shift)^2 (power 2). */
template <class T>
__host__ __device__ inline double thread_moment(const T *x, int64_t cols, int t, double shift, int power)
{
    double s = 0;
    for (int64_t j = t; j < cols; j += THREADS) {
        const double d = (double)x[j] - shift;
        s += power == 1 ? d : d * d;
    }
    return s;
}

/* Thread t's part of a row's sums of wg = g * w (*s1) and of wg * xhat (*s2). */
template <class T>
__host__ __device__ inline void thread_grad_sums(const T *x, const T *g, const T *w, int64_t cols, int t,
                                                 double mean, double rstd, double *s1, double *s2)
{
    double a = 0, b = 0;
    for (int64_t j = t; j < cols; j += THREADS) {
        const double wg = (double)g[j] * (w ? (double)w[j] : 1.0);
        a += wg;
        b += wg * (((double)x[j] - mean) * rstd);
    }
    *s1 = a;
    *s2 = b;
}

/* Column c's gradient sums over every row, in row order: of g * xhat (*sw) and of g (*sb). */
template <class T>
__host__ __device__ inline void column_sums(const T *x, const T *g, const double *stats, int64_t rows,
                                            int64_t cols, int64_t c, double *sw, double *sb)
{
    double a = 0, b = 0;
    for (int64_t i = 0; i < rows; i++) {
        const double gv = (double)g[i * cols + c];
        a += gv * (((double)x[i * cols + c] - stats[i]) * stats[rows + i]);
        b += gv;
    }
    *sw = a;
    *sb = b;
}

/* ---------------------------------------------------------------- kernels */

template <class T> __global__ void norm_forward_kernel(nbk_norm_args a, T *y, double *stats)
{
    __shared__ double sh[THREADS];
    const int t = (int)threadIdx.x;
    const T *w = (const T *)a.weight, *b = (const T *)a.bias;
    for (int64_t i = blockIdx.x; i < a.rows; i += gridDim.x) {
        const T *x = (const T *)a.x + i * a.cols; /* (cols,) */
        T *yr = y + i * a.cols;                   /* (cols,) */
        const double mean = a.rms ? 0.0 : block_sum<THREADS>(thread_moment(x, a.cols, t, 0.0, 1), sh) / (double)a.cols;
        const double rstd = 1.0 / sqrt(block_sum<THREADS>(thread_moment(x, a.cols, t, mean, 2), sh) / (double)a.cols + a.eps);
        if (t == 0) {
            stats[i] = mean;
            stats[a.rows + i] = rstd;
        }
        for (int64_t j = t; j < a.cols; j += THREADS) {
            double v = ((double)x[j] - mean) * rstd;
            if (w) v *= (double)w[j];
            if (b) v += (double)b[j];
            yr[j] = (T)v;
        }
    }
}

template <class T> __global__ void norm_grad_rows_kernel(nbk_norm_args a, const double *stats, const T *g, T *gx)
{
    __shared__ double sh[THREADS];
    const int t = (int)threadIdx.x;
    const T *w = (const T *)a.weight;
    for (int64_t i = blockIdx.x; i < a.rows; i += gridDim.x) {
        const T *x = (const T *)a.x + i * a.cols, *gr = g + i * a.cols; /* (cols,) */
        T *out = gx + i * a.cols;                                      /* (cols,) */
        const double mean = stats[i], rstd = stats[a.rows + i];
        double s1, s2;
        thread_grad_sums(x, gr, w, a.cols, t, mean, rstd, &s1, &s2);
        const double sum1 = block_sum<THREADS>(s1, sh), sum2 = block_sum<THREADS>(s2, sh);
        const double m1 = a.rms ? 0.0 : sum1 / (double)a.cols, m2 = sum2 / (double)a.cols;
        for (int64_t j = t; j < a.cols; j += THREADS) {
            const double wg = (double)gr[j] * (w ? (double)w[j] : 1.0);
            const double xhat = ((double)x[j] - mean) * rstd;
            out[j] = (T)(rstd * (wg - m1 - xhat * m2));
        }
    }
}

template <class T>
__global__ void norm_grad_columns_kernel(nbk_norm_args a, const double *stats, const T *g, T *gw, T *gb)
{
    const int64_t step = (int64_t)gridDim.x * THREADS;
    for (int64_t c = (int64_t)blockIdx.x * THREADS + threadIdx.x; c < a.cols; c += step) {
        double sw, sb;
        column_sums((const T *)a.x, g, stats, a.rows, a.cols, c, &sw, &sb);
        if (gw) gw[c] = (T)sw;
        if (gb) gb[c] = (T)sb;
    }
}

/* ---------------------------------------------------------------- launches */

unsigned grid_of(int64_t items, int64_t per_block)
{
    const int64_t blocks = (items + per_block - 1) / per_block;
    return blocks < 1 ? 1u : (unsigned)(blocks < MAX_GRID ? blocks : MAX_GRID);
}

template <class T> nb_status forward(int device, cudaStream_t stream, const nbk_norm_args *a, T *y, double *stats)
{
    norm_forward_kernel<T><<<grid_of(a->rows, 1), THREADS, 0, stream>>>(*a, y, stats);
    return nbk_cuda_check(cudaGetLastError(), device, "launching a normalisation kernel");
}

template <class T>
nb_status backward(int device, cudaStream_t stream, const nbk_norm_args *a, const double *stats, const T *g, T *gx,
                   T *gw, T *gb)
{
    if (gx && a->rows > 0 && a->cols > 0) {
        norm_grad_rows_kernel<T><<<grid_of(a->rows, 1), THREADS, 0, stream>>>(*a, stats, g, gx);
        nb_status st = nbk_cuda_check(cudaGetLastError(), device, "launching a normalisation backward kernel");
        if (st != NB_OK) return st;
    }
    if ((gw || gb) && a->cols > 0) {
        norm_grad_columns_kernel<T><<<grid_of(a->cols, THREADS), THREADS, 0, stream>>>(*a, stats, g, gw, gb);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a normalisation backward kernel");
    }
    return NB_OK;
}

nb_status bad_dtype(const char *what, nb_dtype dtype)
{
    return nbk_fail(NB_ERR_DTYPE, "no CUDA %s for dtype %d (float32 or float64 only)", what, (int)dtype);
}

} /* namespace */
} /* namespace nb_cuda */

extern "C" nb_status nbk_cuda_norm_forward(int device, const nbk_norm_args *a, void *y, double *stats)
{
    if (a->rows == 0 || a->cols == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (a->dtype) {
    case NB_FLOAT32: return nb_cuda::forward(device, stream, a, (float *)y, stats);
    case NB_FLOAT64: return nb_cuda::forward(device, stream, a, (double *)y, stats);
    default: return nb_cuda::bad_dtype("normalisation", a->dtype);
    }
}

extern "C" nb_status nbk_cuda_norm_backward(int device, const nbk_norm_args *a, const double *stats, const void *g,
                                            void *gx, void *gw, void *gb)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (a->dtype) {
    case NB_FLOAT32:
        return nb_cuda::backward(device, stream, a, stats, (const float *)g, (float *)gx, (float *)gw, (float *)gb);
    case NB_FLOAT64:
        return nb_cuda::backward(device, stream, a, stats, (const double *)g, (double *)gx, (double *)gw,
                                 (double *)gb);
    default: return nb_cuda::bad_dtype("normalisation backward", a->dtype);
    }
}
