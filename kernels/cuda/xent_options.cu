/* xent_options.cu — cross entropy and nll with options on the GPU (class weights, ignored labels,
 * label smoothing, log-probabilities, reductions: kernels/softmax.h), forward and backward; the
 * plain mean of nb_cross_entropy stays in softmax.cu. The formulas and the precision are the
 * CPU's (softmax_typed.h, "cross entropy with options"): a row's maximum, log-sum-exp and the
 * sums the options need, each in double.
 *
 * A block takes a row at a time (looping over rows beyond the grid): thread t takes the row's
 * classes t, t + THREADS, ...; the threads' values are combined in a fixed tree in shared memory,
 * so results depend on the shapes only. The forward writes each row's loss and its label's
 * weight (double) to scratch; one block then adds them in a fixed order (mean, sum), or the
 * losses are converted to the output (none). The backward's mean first adds the labels' weights
 * in one block. A label out of range (and not ignored) is recorded in the device's fault record
 * and makes its loss, or its row of the gradient, NaN.
 *
 * What one thread does is written as __host__ __device__ functions (thread_*), so it can be run
 * and checked on the CPU; the kernels only add the combining across threads. */
#include "softmax.h"

#include "internal.h"

#include <math.h>
#include <stdint.h>

namespace nb_cuda_xent {
namespace {

constexpr int THREADS = 256;        /* threads per block, every kernel (a power of two) */
constexpr int64_t MAX_GRID = 65535; /* blocks; the kernels loop beyond */

/* ---------------------------------------------------------------- one thread */

__host__ __device__ inline float exp_of(float x) { return expf(x); }
__host__ __device__ inline double exp_of(double x) { return exp(x); }

/* kernels/softmax.h's nbk_xent_ignored, for the device */
__host__ __device__ inline bool ignored(const nbk_xent_args &a, int64_t label)
{
    return a.ignore && label == a.ignore_index;
}

template <class T> __host__ __device__ inline double weight_of(const T *w, int64_t c) { return w ? (double)w[c] : 1.0; }

/* Thread t's maximum of a row of n elements cs apart (NaNs skipped, as on the CPU). */
template <class T> __host__ __device__ inline double thread_max(const T *x, int64_t n, int64_t cs, int t)
{
    T m = -INFINITY;
    for (int64_t j = t; j < n; j += THREADS) m = x[j * cs] > m ? x[j * cs] : m;
    return (double)m;
}

/* Thread t's parts of the row's sums: exp(x - m), w x (when dot), and w (when wsum). */
template <class T>
__host__ __device__ inline void thread_sums(const T *x, int64_t n, int64_t cs, const T *w, T m, int t, double *se,
                                            double *dot, double *ws)
{
    double a = 0, b = 0, c = 0;
    for (int64_t j = t; j < n; j += THREADS) {
        a += (double)exp_of((T)(x[j * cs] - m));
        b += weight_of(w, j) * (double)x[j * cs];
        c += weight_of(w, j);
    }
    *se = a;
    *dot = b;
    *ws = c;
}

/* Thread t's part of the sum of a row's probabilities but the label's. */
template <class T>
__host__ __device__ inline double thread_others(const T *x, int64_t n, int64_t cs, double lse, int64_t label, int t)
{
    double s = 0;
    for (int64_t j = t; j < n; j += THREADS)
        if (j != label) s += (double)exp_of((T)((double)x[j * cs] - lse));
    return s;
}

/* ---------------------------------------------------------------- combining */

/* The sum (or the maximum) of every thread's v in a fixed tree; every thread gets it. */
template <bool MAX> __device__ double block_combine(double v, double *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) {
            const double o = sh[threadIdx.x + s];
            sh[threadIdx.x] = MAX ? (o > sh[threadIdx.x] ? o : sh[threadIdx.x]) : sh[threadIdx.x] + o;
        }
        __syncthreads();
    }
    const double r = sh[0];
    __syncthreads();
    return r;
}

/* The row's lse (its maximum in *m), the sum of w x and of the weights, by the whole block. */
template <class T>
__device__ double row_lse(const nbk_xent_args &a, const T *x, double *sh, double *dot, double *wsum)
{
    const int t = (int)threadIdx.x;
    const T m = (T)block_combine<true>(thread_max(x, a.classes, a.col_stride, t), sh);
    double se, d, w;
    thread_sums(x, a.classes, a.col_stride, (const T *)a.class_weight, m, t, &se, &d, &w);
    se = block_combine<false>(se, sh);
    *dot = block_combine<false>(d, sh);
    *wsum = block_combine<false>(w, sh);
    return (double)m + log(se);
}

__host__ __device__ inline bool label_bad(const nbk_xent_args &a, int64_t label)
{
    return (label < 0 || label >= a.classes) && !ignored(a, label);
}

/* ---------------------------------------------------------------- kernels */

/* losses (rows,) and label weights wts (rows,) */
template <class T>
__global__ void __launch_bounds__(THREADS) forward_rows_kernel(nbk_xent_args a, double *losses, double *wts,
                                                               nbk_cuda_fault *fault)
{
    __shared__ double sh[THREADS];
    const double e = a.smoothing;
    for (int64_t r = blockIdx.x; r < a.rows; r += gridDim.x) {
        const T *x = (const T *)a.logits + r * a.row_stride;
        const int64_t label = a.labels[r * a.label_stride];
        if (ignored(a, label) || label_bad(a, label)) { /* the same branch for the whole block */
            if (threadIdx.x == 0) {
                const bool bad = label_bad(a, label);
                losses[r] = bad ? NAN : 0.0;
                wts[r] = bad ? NAN : 0.0;
                if (bad) nbk_cuda_report_fault(fault, NB_CUDA_FAULT_LABEL, label, r, a.classes);
            }
            continue;
        }
        const double wy = weight_of((const T *)a.class_weight, label);
        double loss;
        if (a.log_probs) {
            loss = -wy * (double)x[label * a.col_stride];
        } else {
            double dot, W;
            const double lse = row_lse<T>(a, x, sh, &dot, &W);
            loss = (1 - e) * wy * (lse - (double)x[label * a.col_stride]);
            if (e != 0) loss += e / (double)a.classes * (W * lse - dot);
        }
        if (threadIdx.x == 0) {
            losses[r] = loss;
            wts[r] = wy;
        }
    }
}

/* One block: loss (0-d) = sum of losses / sum of wts (mean) or sum of losses (sum). */
template <class T>
__global__ void __launch_bounds__(THREADS) reduce_kernel(const double *losses, const double *wts, int64_t rows,
                                                         bool mean, T *loss)
{
    __shared__ double sh[THREADS];
    double l = 0, w = 0;
    for (int64_t i = threadIdx.x; i < rows; i += THREADS) l += losses[i], w += wts[i];
    const double total = block_combine<false>(l, sh), wsum = block_combine<false>(w, sh);
    if (threadIdx.x == 0) *loss = (T)(mean ? total / wsum : total);
}

template <class T> __global__ void convert_kernel(const double *losses, int64_t rows, T *out)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < rows; i += step) out[i] = (T)losses[i];
}

/* One block: *wsum = the weights of the labels not ignored (the mean's divisor). */
template <class T>
__global__ void __launch_bounds__(THREADS) weight_sum_kernel(nbk_xent_args a, double *wsum)
{
    __shared__ double sh[THREADS];
    double w = 0;
    for (int64_t i = threadIdx.x; i < a.rows; i += THREADS) {
        const int64_t label = a.labels[i * a.label_stride];
        if (!ignored(a, label) && label >= 0 && label < a.classes)
            w += weight_of((const T *)a.class_weight, label);
    }
    const double total = block_combine<false>(w, sh);
    if (threadIdx.x == 0) *wsum = total;
}

/* grad (rows, classes) as the CPU's xent_ext_grad_rows: g is 0-d (divided by *wsum for the mean)
 * or (rows,) for reduction none. */
template <class T>
__global__ void __launch_bounds__(THREADS) grad_rows_kernel(nbk_xent_args a, const T *g, const double *wsum, T *grad,
                                                            nbk_cuda_fault *fault)
{
    __shared__ double sh[THREADS];
    const int t = (int)threadIdx.x;
    const double e = a.smoothing, ec = e / (double)a.classes;
    const T *w = (const T *)a.class_weight;
    for (int64_t r = blockIdx.x; r < a.rows; r += gridDim.x) {
        const T *x = (const T *)a.logits + r * a.row_stride;
        T *gr = grad + r * a.classes;
        const int64_t label = a.labels[r * a.label_stride];
        if (ignored(a, label) || label_bad(a, label)) {
            const bool bad = label_bad(a, label);
            for (int64_t j = t; j < a.classes; j += THREADS) gr[j] = bad ? (T)NAN : (T)0;
            if (bad && t == 0) nbk_cuda_report_fault(fault, NB_CUDA_FAULT_LABEL, label, r, a.classes);
            continue;
        }
        double si = a.reduction == 2 ? (double)g[r] : (double)g[0];
        if (a.reduction == 0) si /= *wsum;
        const double wy = weight_of(w, label);
        if (a.log_probs) {
            for (int64_t j = t; j < a.classes; j += THREADS) gr[j] = j == label ? (T)(-si * wy) : (T)0;
            continue;
        }
        double dot, W;
        const double lse = row_lse<T>(a, x, sh, &dot, &W);
        const double A = (1 - e) * wy + ec * W, B = (1 - e) * wy;
        const double others = block_combine<false>(thread_others(x, a.classes, a.col_stride, lse, label, t), sh);
        for (int64_t j = t; j < a.classes; j += THREADS) {
            const double p = (double)exp_of((T)((double)x[j * a.col_stride] - lse));
            gr[j] = j == label ? (T)(si * (ec * W * p - B * others - ec * wy)) : (T)(si * (A * p - ec * weight_of(w, j)));
        }
    }
}

/* ---------------------------------------------------------------- launches */

unsigned grid_of(int64_t items, int64_t per_block)
{
    const int64_t blocks = (items + per_block - 1) / per_block;
    return blocks < 1 ? 1u : (unsigned)(blocks < MAX_GRID ? blocks : MAX_GRID);
}

template <class T> nb_status forward(int device, cudaStream_t stream, const nbk_xent_args *a, T *loss)
{
    nbk_cuda_fault *fault = nbk_cuda_fault_slot(device);
    void *scratch = nullptr, *handle = nullptr; /* (2, rows): the losses, then the label weights */
    nb_status st = NB_OK;
    if (a->rows > 0) {
        st = nbk_cuda_malloc(device, (size_t)a->rows * 2 * sizeof(double), &scratch, &handle);
        if (st != NB_OK) return st;
    }
    double *losses = (double *)scratch, *wts = losses ? losses + a->rows : nullptr;
    if (a->rows > 0) {
        forward_rows_kernel<T><<<grid_of(a->rows, 1), THREADS, 0, stream>>>(*a, losses, wts, fault);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a cross entropy kernel");
    }
    if (st == NB_OK && a->reduction != 2) { /* no rows: 0 / 0 (NaN) for the mean, 0 for the sum */
        reduce_kernel<T><<<1, THREADS, 0, stream>>>(losses, wts, a->rows, a->reduction == 0, loss);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a cross entropy kernel");
    } else if (st == NB_OK && a->rows > 0) {
        convert_kernel<T><<<grid_of(a->rows, THREADS), THREADS, 0, stream>>>(losses, a->rows, loss);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a cross entropy kernel");
    }
    nbk_cuda_free(device, handle); /* stream order keeps it alive for the kernels queued above */
    return st;
}

template <class T> nb_status backward(int device, cudaStream_t stream, const nbk_xent_args *a, const T *g, T *grad)
{
    if (a->rows == 0 || a->classes == 0) return NB_OK;
    nbk_cuda_fault *fault = nbk_cuda_fault_slot(device);
    void *wsum = nullptr, *handle = nullptr; /* the mean's divisor */
    nb_status st = NB_OK;
    if (a->reduction == 0) {
        st = nbk_cuda_malloc(device, sizeof(double), &wsum, &handle);
        if (st != NB_OK) return st;
        weight_sum_kernel<T><<<1, THREADS, 0, stream>>>(*a, (double *)wsum);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a cross entropy backward kernel");
    }
    if (st == NB_OK) {
        grad_rows_kernel<T><<<grid_of(a->rows, 1), THREADS, 0, stream>>>(*a, g, (const double *)wsum, grad, fault);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a cross entropy backward kernel");
    }
    nbk_cuda_free(device, handle);
    return st;
}

nb_status bad_dtype(const char *what, nb_dtype dtype)
{
    return nbk_fail(NB_ERR_DTYPE, "no CUDA %s for dtype %d (float32 or float64 only)", what, (int)dtype);
}

} /* namespace */
} /* namespace nb_cuda_xent */

extern "C" nb_status nbk_cuda_xent_options_forward(int device, const nbk_xent_args *a, void *loss)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (a->dtype) {
    case NB_FLOAT32: return nb_cuda_xent::forward(device, stream, a, (float *)loss);
    case NB_FLOAT64: return nb_cuda_xent::forward(device, stream, a, (double *)loss);
    default: return nb_cuda_xent::bad_dtype("cross entropy", a->dtype);
    }
}

extern "C" nb_status nbk_cuda_xent_options_backward(int device, const nbk_xent_args *a, const void *g, void *grad)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (a->dtype) {
    case NB_FLOAT32: return nb_cuda_xent::backward(device, stream, a, (const float *)g, (float *)grad);
    case NB_FLOAT64: return nb_cuda_xent::backward(device, stream, a, (const double *)g, (double *)grad);
    default: return nb_cuda_xent::bad_dtype("cross entropy backward", a->dtype);
    }
}
