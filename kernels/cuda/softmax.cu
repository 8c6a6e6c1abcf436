/* softmax.cu — softmax, log_softmax and cross entropy on the GPU, forward and backward
 * (softmax.h). The formulas and the precision are the CPU's (kernels/cpu/softmax.c): the maximum
 * is subtracted before exp, sums run in double, float32 softmax multiplies by (float)(1 / sum).
 *
 * A softmax over (outer, n, inner) takes one of three ways, chosen from the shapes only (so the
 * order of additions, and the result, is the same on every run):
 *  - rows of n <= 1024 (inner == 1, and every cross entropy with that many classes): a group of
 *    `width` lanes of a warp per row (width = n rounded up to a power of two, at most 32, so rows
 *    of ten classes take 16 lanes and two rows share a warp). Each lane keeps its PER elements
 *    (lane, lane + width, ...) in registers, so the row is read once and written once; the
 *    maximum and the sums are combined across the group by a butterfly of warp shuffles.
 *  - long rows, and few long columns (inner > 1): a block per row, each thread taking every
 *    THREADS-th element; per-thread values are combined by a butterfly inside each warp and then
 *    the warps' values in order. The row is read once per pass (the repeats hit the caches).
 *  - many columns (inner > 1): a thread per (outer, inner) column, walking the column in order;
 *    neighbouring threads read neighbouring elements.
 * Cross entropy's forward writes each row's loss (double) to a scratch buffer, and one block adds
 * them in a fixed tree and divides by the rows. Labels are checked on the device: a bad one is
 * recorded in the device's fault record and gives NaN.
 *
 * What one lane or one thread does is written as __host__ __device__ functions (lane_*,
 * strided_*), so it can be run and checked on the CPU; the kernels only add the combining across
 * lanes and threads. */
#include "softmax.h"

#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <type_traits>

namespace nb_cuda {
namespace {

constexpr int WARP = 32;
constexpr int THREADS = 256; /* threads per block, every kernel */
constexpr int WARPS = THREADS / WARP;
constexpr int MAX_PER_LANE = 32;
constexpr int64_t GROUP_ROW_MAX = (int64_t)WARP * MAX_PER_LANE; /* rows up to 1024 take a group of lanes */
constexpr int64_t BLOCK_COLUMN_N_MIN = 512;   /* columns at least this long get a block each, */
constexpr int64_t BLOCK_COLUMNS_MAX = 8192;   /* while there are too few to fill the device */
constexpr int64_t MAX_GRID = 65535;           /* blocks; the kernels loop beyond */
constexpr unsigned FULL_MASK = 0xffffffffu;

/* ---------------------------------------------------------------- element helpers */

__host__ __device__ __forceinline__ float exp_of(float x) { return expf(x); }
__host__ __device__ __forceinline__ double exp_of(double x) { return exp(x); }

/* The CPU's maximum step: NaNs are skipped (they reach the result through their exps). */
template <class T> __host__ __device__ __forceinline__ T max_of(T m, T x) { return x > m ? x : m; }

__host__ __device__ __forceinline__ bool label_ok(int64_t label, int64_t classes)
{
    return label >= 0 && label < classes;
}

/* Lanes per row (a power of two, at most a warp) and elements per lane (a power of two, at most
 * MAX_PER_LANE) for rows of n <= GROUP_ROW_MAX elements. */
__host__ __device__ inline void group_shape(int64_t n, int *width, int *per)
{
    int w = 1;
    while (w < n && w < WARP) w <<= 1;
    const int64_t need = (n + w - 1) / w;
    int p = 1;
    while (p < need) p <<= 1;
    *width = w;
    *per = p;
}

/* ---------------------------------------------------------------- one lane of a group
 *
 * Element k of lane `lane` in a group of `width` lanes is row element lane + k·width; those at n
 * or beyond are padding, never read or written. A group past the last row runs with n = 0. */

template <int PER, class T>
__host__ __device__ __forceinline__ void lane_load(const T *x, int64_t stride, int64_t n, int lane, int width,
                                                   T (&v)[PER])
{
NB_UNROLL
    for (int k = 0; k < PER; k++) {
        const int64_t j = lane + (int64_t)k * width;
        v[k] = j < n ? x[j * stride] : (T)0;
    }
}

template <int PER, class T>
__host__ __device__ __forceinline__ T lane_max(const T (&v)[PER], int64_t n, int lane, int width)
{
    T m = (T)-INFINITY;
NB_UNROLL
    for (int k = 0; k < PER; k++)
        if (lane + (int64_t)k * width < n) m = max_of(m, v[k]);
    return m;
}

/* The lane's sum of exp(v - m) in double; with keep, v becomes those exps. */
template <int PER, class T>
__host__ __device__ __forceinline__ double lane_exp_sum(T (&v)[PER], T m, int64_t n, int lane, int width,
                                                        bool keep)
{
    double s = 0;
NB_UNROLL
    for (int k = 0; k < PER; k++) {
        if (lane + (int64_t)k * width >= n) continue;
        const T e = exp_of(v[k] - m);
        s += e;
        if (keep) v[k] = e;
    }
    return s;
}

/* y from the row's maximum and sum: softmax: v holds the exps, y = v · (T)(1 / sum);
 * log_softmax: v holds x, y = x - (m + log(sum)) in double. */
template <int PER, class T>
__host__ __device__ __forceinline__ void lane_store_softmax(const T (&v)[PER], T *y, T m, double sum, bool take_log,
                                                            int64_t n, int lane, int width)
{
    const double shift = take_log ? (double)m + log(sum) : 0.0;
    const T inv = take_log ? (T)0 : (T)(1.0 / sum);
NB_UNROLL
    for (int k = 0; k < PER; k++) {
        const int64_t j = lane + (int64_t)k * width;
        if (j < n) y[j] = take_log ? (T)((double)v[k] - shift) : v[k] * inv;
    }
}

/* The lane's share of the backward's sum: softmax: sum(g · y); log_softmax: sum(g). */
template <int PER, class T>
__host__ __device__ __forceinline__ double lane_backward_sum(const T (&y)[PER], const T (&g)[PER], bool take_log,
                                                             int64_t n, int lane, int width)
{
    double s = 0;
NB_UNROLL
    for (int k = 0; k < PER; k++)
        if (lane + (int64_t)k * width < n) s += take_log ? (double)g[k] : (double)g[k] * y[k];
    return s;
}

/* softmax: gi = y (g - (T)total); log_softmax: gi = g - exp(y) (T)total. */
template <int PER, class T>
__host__ __device__ __forceinline__ void lane_store_backward(const T (&y)[PER], const T (&g)[PER], T *gi,
                                                             double total, bool take_log, int64_t n, int lane,
                                                             int width)
{
    const T t = (T)total;
NB_UNROLL
    for (int k = 0; k < PER; k++) {
        const int64_t j = lane + (int64_t)k * width;
        if (j < n) gi[j] = take_log ? g[k] - exp_of(y[k]) * t : y[k] * (g[k] - t);
    }
}

/* Cross entropy's backward: v holds the exps and becomes the gradients v · scale_by; returns the
 * lane's sum of the gradients of every class but label (in double). */
template <int PER, class T>
__host__ __device__ __forceinline__ double lane_xent_grad(T (&v)[PER], T scale_by, int64_t label, int64_t n,
                                                          int lane, int width)
{
    double other = 0;
NB_UNROLL
    for (int k = 0; k < PER; k++) {
        const int64_t j = lane + (int64_t)k * width;
        if (j >= n) continue;
        v[k] *= scale_by;
        if (j != label) other += v[k];
    }
    return other;
}

/* grad row gr: the label's element is -(the other classes' gradients), so p - 1 near p = 1 loses
 * nothing to cancellation; a bad label's row is NaN. */
template <int PER, class T>
__host__ __device__ __forceinline__ void lane_store_xent_grad(const T (&v)[PER], T *gr, int64_t label, double other,
                                                              bool bad, int64_t n, int lane, int width)
{
NB_UNROLL
    for (int k = 0; k < PER; k++) {
        const int64_t j = lane + (int64_t)k * width;
        if (j < n) gr[j] = bad ? (T)NAN : j == label ? (T)-other : v[k];
    }
}

/* The loss of one row from its maximum m, sum of exp(x - m) and the label's logit. */
template <class T>
__host__ __device__ __forceinline__ double row_loss(double sum, T m, T x_label)
{
    return log(sum) + (double)m - (double)x_label;
}

/* ---------------------------------------------------------------- one thread of a strided walk
 *
 * A thread takes elements first, first + step, ... below n of a row or column whose elements are
 * stride apart: a block's thread t of a long row (first t, step THREADS), or a whole column
 * (first 0, step 1). */

template <class T>
__host__ __device__ __forceinline__ T strided_max(const T *x, int64_t stride, int64_t n, int64_t first, int64_t step)
{
    T m = (T)-INFINITY;
    for (int64_t j = first; j < n; j += step) m = max_of(m, x[j * stride]);
    return m;
}

template <class T>
__host__ __device__ __forceinline__ double strided_exp_sum(const T *x, int64_t stride, int64_t n, T m, int64_t first,
                                                           int64_t step)
{
    double s = 0;
    for (int64_t j = first; j < n; j += step) s += exp_of(x[j * stride] - m);
    return s;
}

template <class T>
__host__ __device__ __forceinline__ void strided_store_softmax(const T *x, T *y, int64_t stride, int64_t n, T m,
                                                               double sum, bool take_log, int64_t first,
                                                               int64_t step)
{
    if (take_log) {
        const double shift = (double)m + log(sum);
        for (int64_t j = first; j < n; j += step) y[j * stride] = (T)((double)x[j * stride] - shift);
    } else {
        const T inv = (T)(1.0 / sum);
        for (int64_t j = first; j < n; j += step) y[j * stride] = exp_of(x[j * stride] - m) * inv;
    }
}

template <class T>
__host__ __device__ __forceinline__ double strided_backward_sum(const T *y, const T *g, int64_t stride, int64_t n,
                                                                bool take_log, int64_t first, int64_t step)
{
    double s = 0;
    for (int64_t j = first; j < n; j += step)
        s += take_log ? (double)g[j * stride] : (double)g[j * stride] * y[j * stride];
    return s;
}

template <class T>
__host__ __device__ __forceinline__ void strided_store_backward(const T *y, const T *g, T *gi, int64_t stride,
                                                                int64_t n, double total, bool take_log,
                                                                int64_t first, int64_t step)
{
    const T t = (T)total;
    for (int64_t j = first; j < n; j += step) {
        const int64_t o = j * stride;
        gi[o] = take_log ? g[o] - exp_of(y[o]) * t : y[o] * (g[o] - t);
    }
}

/* Cross entropy's backward over a long row: gr[j] (contiguous) = exp(x[j·cs] - m) · scale_by;
 * returns the thread's sum of them over j != label (or NaNs the row for a bad label). */
template <class T>
__host__ __device__ __forceinline__ double strided_xent_grad(const T *x, int64_t cs, T *gr, int64_t n, T m,
                                                             T scale_by, int64_t label, bool bad, int64_t first,
                                                             int64_t step)
{
    double other = 0;
    for (int64_t j = first; j < n; j += step) {
        const T v = bad ? (T)NAN : exp_of(x[j * cs] - m) * scale_by;
        gr[j] = v;
        if (j != label) other += v;
    }
    return other;
}

/* One column of a softmax (a thread's whole work on the column path); x and y at its element 0. */
template <class T>
__host__ __device__ __forceinline__ void softmax_column(const T *x, T *y, int64_t n, int64_t inner, bool take_log)
{
    const T m = strided_max(x, inner, n, 0, 1);
    const double s = strided_exp_sum(x, inner, n, m, 0, 1);
    strided_store_softmax(x, y, inner, n, m, s, take_log, 0, 1);
}

template <class T>
__host__ __device__ __forceinline__ void softmax_backward_column(const T *y, const T *g, T *gi, int64_t n,
                                                                 int64_t inner, bool take_log)
{
    const double total = strided_backward_sum(y, g, inner, n, take_log, 0, 1);
    strided_store_backward(y, g, gi, inner, n, total, take_log, 0, 1);
}

/* ---------------------------------------------------------------- which rows a lane takes */

/* The rows of the group path: this lane's row and its place in the group. The loop runs over the
 * warp's first row, so every lane of a warp takes the same turns (the shuffles need them all). */
struct GroupRows {
    int lane;          /* within the group */
    int width;         /* lanes per row */
    int64_t first;     /* the warp's first row this turn */
    int64_t offset;    /* this group's row - first */
    int64_t step;      /* rows between turns */
};

/* Thread `thread` of block `block` in a grid of `grid` blocks (callable on the host, so the
 * rows a grid covers can be checked there). */
__host__ __device__ __forceinline__ GroupRows group_rows(int width, unsigned block, unsigned thread, unsigned grid)
{
    const int per_warp = WARP / width;
    GroupRows g;
    g.lane = (int)(thread % WARP) % width;
    g.width = width;
    g.offset = (int)(thread % WARP) / width;
    g.first = ((int64_t)block * WARPS + thread / WARP) * per_warp;
    g.step = (int64_t)grid * WARPS * per_warp;
    return g;
}

/* ---------------------------------------------------------------- combining (device only) */

/* The butterfly over a group of width lanes: every lane ends with the same value, combined in an
 * order that depends on width only. */
template <class V> __device__ __forceinline__ V group_max(V v, int width)
{
    for (int o = width / 2; o > 0; o >>= 1) v = max_of(v, __shfl_xor_sync(FULL_MASK, v, o, width));
    return v;
}

__device__ __forceinline__ double group_sum(double v, int width)
{
    for (int o = width / 2; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o, width);
    return v;
}

/* The whole block's maximum (MAX) or sum: each warp's butterfly, then the warps' values in order.
 * The same value in every thread. */
template <bool MAX, class V> __device__ __forceinline__ V block_combine(V v)
{
    __shared__ V part[WARPS];
    if constexpr (MAX) v = group_max(v, WARP);
    else v = group_sum(v, WARP);
    if (threadIdx.x % WARP == 0) part[threadIdx.x / WARP] = v;
    __syncthreads();
    V r = part[0];
NB_UNROLL
    for (int w = 1; w < WARPS; w++) r = MAX ? max_of(r, part[w]) : r + part[w];
    __syncthreads(); /* part is reused by the next call */
    return r;
}

/* ---------------------------------------------------------------- softmax kernels */

template <int PER, class T>
__global__ void __launch_bounds__(THREADS)
    softmax_group_kernel(const T *x, T *y, int64_t rows, int64_t n, int width, bool take_log)
{
    GroupRows g = group_rows(width, blockIdx.x, threadIdx.x, gridDim.x);
    for (; g.first < rows; g.first += g.step) {
        const int64_t row = g.first + g.offset;
        const int64_t len = row < rows ? n : 0;
        const int64_t at = row < rows ? row * n : 0;
        T v[PER];
        lane_load<PER>(x + at, 1, len, g.lane, width, v);
        const T m = group_max(lane_max<PER>(v, len, g.lane, width), width);
        const double s = group_sum(lane_exp_sum<PER>(v, m, len, g.lane, width, !take_log), width);
        lane_store_softmax<PER>(v, y + at, m, s, take_log, len, g.lane, width);
    }
}

/* Element 0 of row r of an (outer, n, inner) block: (r / inner, 0, r % inner). */
__host__ __device__ __forceinline__ int64_t row_start(int64_t r, int64_t n, int64_t inner)
{
    return inner == 1 ? r * n : (r / inner) * n * inner + r % inner;
}

template <class T>
__global__ void __launch_bounds__(THREADS)
    softmax_block_kernel(const T *x, T *y, int64_t rows, int64_t n, int64_t inner, bool take_log)
{
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) { /* uniform across the block */
        const int64_t at = row_start(r, n, inner);
        const T m = block_combine<true>(strided_max(x + at, inner, n, threadIdx.x, THREADS));
        const double s = block_combine<false>(strided_exp_sum(x + at, inner, n, m, threadIdx.x, THREADS));
        strided_store_softmax(x + at, y + at, inner, n, m, s, take_log, threadIdx.x, THREADS);
    }
}

template <class T>
__global__ void __launch_bounds__(THREADS)
    softmax_column_kernel(const T *x, T *y, int64_t columns, int64_t n, int64_t inner, bool take_log)
{
    const int64_t step = (int64_t)gridDim.x * THREADS;
    for (int64_t c = (int64_t)blockIdx.x * THREADS + threadIdx.x; c < columns; c += step) {
        const int64_t at = row_start(c, n, inner);
        softmax_column(x + at, y + at, n, inner, take_log);
    }
}

template <int PER, class T>
__global__ void __launch_bounds__(THREADS)
    softmax_backward_group_kernel(const T *y, const T *g, T *gi, int64_t rows, int64_t n, int width, bool take_log)
{
    GroupRows gr = group_rows(width, blockIdx.x, threadIdx.x, gridDim.x);
    for (; gr.first < rows; gr.first += gr.step) {
        const int64_t row = gr.first + gr.offset;
        const int64_t len = row < rows ? n : 0;
        const int64_t at = row < rows ? row * n : 0;
        T yv[PER], gv[PER];
        lane_load<PER>(y + at, 1, len, gr.lane, width, yv);
        lane_load<PER>(g + at, 1, len, gr.lane, width, gv);
        const double total = group_sum(lane_backward_sum<PER>(yv, gv, take_log, len, gr.lane, width), width);
        lane_store_backward<PER>(yv, gv, gi + at, total, take_log, len, gr.lane, width);
    }
}

template <class T>
__global__ void __launch_bounds__(THREADS)
    softmax_backward_block_kernel(const T *y, const T *g, T *gi, int64_t rows, int64_t n, int64_t inner,
                                  bool take_log)
{
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t at = row_start(r, n, inner);
        const double total =
            block_combine<false>(strided_backward_sum(y + at, g + at, inner, n, take_log, threadIdx.x, THREADS));
        strided_store_backward(y + at, g + at, gi + at, inner, n, total, take_log, threadIdx.x, THREADS);
    }
}

template <class T>
__global__ void __launch_bounds__(THREADS)
    softmax_backward_column_kernel(const T *y, const T *g, T *gi, int64_t columns, int64_t n, int64_t inner,
                                   bool take_log)
{
    const int64_t step = (int64_t)gridDim.x * THREADS;
    for (int64_t c = (int64_t)blockIdx.x * THREADS + threadIdx.x; c < columns; c += step) {
        const int64_t at = row_start(c, n, inner);
        softmax_backward_column(y + at, g + at, gi + at, n, inner, take_log);
    }
}

/* ---------------------------------------------------------------- cross entropy kernels */

template <class T> struct Xent {
    const T *logits;
    int64_t rows, classes, row_stride, col_stride;
    const int64_t *labels;
    int64_t label_stride;
};

/* Each row's loss into losses (rows,); a bad label gives NaN and is reported. */
template <int PER, class T>
__global__ void __launch_bounds__(THREADS)
    xent_group_kernel(Xent<T> a, double *losses, nbk_cuda_fault *fault, int width)
{
    GroupRows g = group_rows(width, blockIdx.x, threadIdx.x, gridDim.x);
    for (; g.first < a.rows; g.first += g.step) {
        const int64_t row = g.first + g.offset;
        const bool valid = row < a.rows;
        const T *x = a.logits + (valid ? row * a.row_stride : 0);
        const int64_t label = valid ? a.labels[row * a.label_stride] : 0;
        const int64_t len = valid ? a.classes : 0;
        T v[PER];
        lane_load<PER>(x, a.col_stride, len, g.lane, width, v);
        const T m = group_max(lane_max<PER>(v, len, g.lane, width), width);
        const double s = group_sum(lane_exp_sum<PER>(v, m, len, g.lane, width, false), width);
        if (!valid || g.lane != 0) continue;
        if (label_ok(label, a.classes)) {
            losses[row] = row_loss(s, m, x[label * a.col_stride]);
        } else {
            losses[row] = NAN;
            nbk_cuda_report_fault(fault, NB_CUDA_FAULT_LABEL, label, row, a.classes);
        }
    }
}

template <class T>
__global__ void __launch_bounds__(THREADS) xent_block_kernel(Xent<T> a, double *losses, nbk_cuda_fault *fault)
{
    for (int64_t row = blockIdx.x; row < a.rows; row += gridDim.x) {
        const T *x = a.logits + row * a.row_stride;
        const int64_t label = a.labels[row * a.label_stride];
        const T m = block_combine<true>(strided_max(x, a.col_stride, a.classes, threadIdx.x, THREADS));
        const double s = block_combine<false>(strided_exp_sum(x, a.col_stride, a.classes, m, threadIdx.x, THREADS));
        if (threadIdx.x != 0) continue;
        if (label_ok(label, a.classes)) {
            losses[row] = row_loss(s, m, x[label * a.col_stride]);
        } else {
            losses[row] = NAN;
            nbk_cuda_report_fault(fault, NB_CUDA_FAULT_LABEL, label, row, a.classes);
        }
    }
}

/* The sum of losses (rows,) that thread t of a block adds: t, t + THREADS, ... in order. */
__host__ __device__ __forceinline__ double losses_share(const double *losses, int64_t rows, int t)
{
    double s = 0;
    for (int64_t i = t; i < rows; i += THREADS) s += losses[i];
    return s;
}

/* One block: the mean of the rows' losses into the 0-d loss. */
template <class T> __global__ void __launch_bounds__(THREADS) xent_mean_kernel(const double *losses, int64_t rows, T *loss)
{
    const double total = block_combine<false>(losses_share(losses, rows, threadIdx.x));
    if (threadIdx.x == 0) *loss = (T)(total / (double)rows);
}

template <int PER, class T>
__global__ void __launch_bounds__(THREADS)
    xent_grad_group_kernel(Xent<T> a, const T *g, T *grad, nbk_cuda_fault *fault, int width)
{
    const double scale = (double)*g / (double)a.rows;
    GroupRows gr = group_rows(width, blockIdx.x, threadIdx.x, gridDim.x);
    for (; gr.first < a.rows; gr.first += gr.step) {
        const int64_t row = gr.first + gr.offset;
        const bool valid = row < a.rows;
        const T *x = a.logits + (valid ? row * a.row_stride : 0);
        const int64_t label = valid ? a.labels[row * a.label_stride] : 0;
        const bool bad = valid && !label_ok(label, a.classes);
        const int64_t len = valid ? a.classes : 0;
        T v[PER];
        lane_load<PER>(x, a.col_stride, len, gr.lane, width, v);
        const T m = group_max(lane_max<PER>(v, len, gr.lane, width), width);
        const double s = group_sum(lane_exp_sum<PER>(v, m, len, gr.lane, width, true), width);
        const double other = group_sum(lane_xent_grad<PER>(v, (T)(scale / s), label, len, gr.lane, width), width);
        lane_store_xent_grad<PER>(v, grad + (valid ? row * a.classes : 0), label, other, bad, len, gr.lane, width);
        if (bad && gr.lane == 0) nbk_cuda_report_fault(fault, NB_CUDA_FAULT_LABEL, label, row, a.classes);
    }
}

template <class T>
__global__ void __launch_bounds__(THREADS) xent_grad_block_kernel(Xent<T> a, const T *g, T *grad, nbk_cuda_fault *fault)
{
    const double scale = (double)*g / (double)a.rows;
    for (int64_t row = blockIdx.x; row < a.rows; row += gridDim.x) {
        const T *x = a.logits + row * a.row_stride;
        T *gr = grad + row * a.classes;
        const int64_t label = a.labels[row * a.label_stride];
        const bool bad = !label_ok(label, a.classes);
        const T m = block_combine<true>(strided_max(x, a.col_stride, a.classes, threadIdx.x, THREADS));
        const double s = block_combine<false>(strided_exp_sum(x, a.col_stride, a.classes, m, threadIdx.x, THREADS));
        const double other = block_combine<false>(
            strided_xent_grad(x, a.col_stride, gr, a.classes, m, (T)(scale / s), label, bad, threadIdx.x, THREADS));
        /* the thread that wrote the label's element overwrites it */
        if (!bad && label % THREADS == threadIdx.x) gr[label] = (T)-other;
        if (bad && threadIdx.x == 0) nbk_cuda_report_fault(fault, NB_CUDA_FAULT_LABEL, label, row, a.classes);
    }
}

/* ---------------------------------------------------------------- launching */

unsigned grid_of(int64_t items, int64_t per_block)
{
    const int64_t blocks = (items + per_block - 1) / per_block;
    return blocks < 1 ? 1u : (unsigned)(blocks < MAX_GRID ? blocks : MAX_GRID);
}

/* Rows a block of the group path covers. */
int64_t group_rows_per_block(int width) { return (int64_t)WARPS * (WARP / width); }

/* Calls f with std::integral_constant<int, per> (a power of two up to MAX_PER_LANE). */
template <class F> void with_per(int per, F f)
{
    switch (per) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 16: f(std::integral_constant<int, 16>{}); break;
    default: f(std::integral_constant<int, 32>{}); break;
    }
}

/* The way a softmax of shape s goes (see the top of the file). */
enum Way { GROUPS, BLOCKS, COLUMNS };

Way way_of(const nbk_softmax_shape *s)
{
    if (s->inner == 1) return s->n <= GROUP_ROW_MAX ? GROUPS : BLOCKS;
    const int64_t columns = s->outer * s->inner;
    return s->n >= BLOCK_COLUMN_N_MIN && columns <= BLOCK_COLUMNS_MAX ? BLOCKS : COLUMNS;
}

template <class T>
nb_status softmax(int device, cudaStream_t stream, const nbk_softmax_shape *s, bool take_log, const T *x, T *y)
{
    const int64_t rows = s->outer * s->inner; /* rows along the softmax dim */
    switch (way_of(s)) {
    case GROUPS: {
        int width, per;
        group_shape(s->n, &width, &per);
        const unsigned grid = grid_of(s->outer, group_rows_per_block(width));
        with_per(per, [&](auto p) {
            softmax_group_kernel<decltype(p)::value, T><<<grid, THREADS, 0, stream>>>(x, y, s->outer, s->n, width,
                                                                                      take_log);
        });
        break;
    }
    case BLOCKS:
        softmax_block_kernel<T><<<grid_of(rows, 1), THREADS, 0, stream>>>(x, y, rows, s->n, s->inner, take_log);
        break;
    case COLUMNS:
        softmax_column_kernel<T><<<grid_of(rows, THREADS), THREADS, 0, stream>>>(x, y, rows, s->n, s->inner,
                                                                                 take_log);
        break;
    }
    return nbk_cuda_check(cudaGetLastError(), device, "launching a softmax kernel");
}

template <class T>
nb_status softmax_backward(int device, cudaStream_t stream, const nbk_softmax_shape *s, bool take_log,
                           const T *y, const T *g, T *gi)
{
    const int64_t rows = s->outer * s->inner;
    switch (way_of(s)) {
    case GROUPS: {
        int width, per;
        group_shape(s->n, &width, &per);
        const unsigned grid = grid_of(s->outer, group_rows_per_block(width));
        with_per(per, [&](auto p) {
            softmax_backward_group_kernel<decltype(p)::value, T>
                <<<grid, THREADS, 0, stream>>>(y, g, gi, s->outer, s->n, width, take_log);
        });
        break;
    }
    case BLOCKS:
        softmax_backward_block_kernel<T>
            <<<grid_of(rows, 1), THREADS, 0, stream>>>(y, g, gi, rows, s->n, s->inner, take_log);
        break;
    case COLUMNS:
        softmax_backward_column_kernel<T>
            <<<grid_of(rows, THREADS), THREADS, 0, stream>>>(y, g, gi, rows, s->n, s->inner, take_log);
        break;
    }
    return nbk_cuda_check(cudaGetLastError(), device, "launching a softmax backward kernel");
}

template <class T> Xent<T> xent_of(const nbk_xent_args *a)
{
    return Xent<T>{(const T *)a->logits, a->rows,   a->classes,   a->row_stride,
                   a->col_stride,        a->labels, a->label_stride};
}

template <class T>
nb_status xent_forward(int device, cudaStream_t stream, const nbk_xent_args *args, T *loss)
{
    const Xent<T> a = xent_of<T>(args);
    nbk_cuda_fault *fault = nbk_cuda_fault_slot(device);
    void *losses = nullptr, *handle = nullptr; /* (rows,) each row's loss, from the cache */
    nb_status st = NB_OK;
    if (a.rows > 0) {
        st = nbk_cuda_malloc(device, (size_t)a.rows * sizeof(double), &losses, &handle);
        if (st != NB_OK) return st;
        if (a.classes <= GROUP_ROW_MAX) {
            int width, per;
            group_shape(a.classes, &width, &per);
            const unsigned grid = grid_of(a.rows, group_rows_per_block(width));
            with_per(per, [&](auto p) {
                xent_group_kernel<decltype(p)::value, T>
                    <<<grid, THREADS, 0, stream>>>(a, (double *)losses, fault, width);
            });
        } else {
            xent_block_kernel<T><<<grid_of(a.rows, 1), THREADS, 0, stream>>>(a, (double *)losses, fault);
        }
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a cross entropy kernel");
    }
    if (st == NB_OK) { /* no rows: 0 / 0, NaN, as on the CPU */
        xent_mean_kernel<T><<<1, THREADS, 0, stream>>>((const double *)losses, a.rows, loss);
        st = nbk_cuda_check(cudaGetLastError(), device, "launching a cross entropy kernel");
    }
    nbk_cuda_free(device, handle); /* stream order keeps it alive for the kernels queued above */
    return st;
}

template <class T>
nb_status xent_backward(int device, cudaStream_t stream, const nbk_xent_args *args, const T *g, T *grad)
{
    const Xent<T> a = xent_of<T>(args);
    if (a.rows == 0 || a.classes == 0) return NB_OK;
    nbk_cuda_fault *fault = nbk_cuda_fault_slot(device);
    if (a.classes <= GROUP_ROW_MAX) {
        int width, per;
        group_shape(a.classes, &width, &per);
        const unsigned grid = grid_of(a.rows, group_rows_per_block(width));
        with_per(per, [&](auto p) {
            xent_grad_group_kernel<decltype(p)::value, T><<<grid, THREADS, 0, stream>>>(a, g, grad, fault, width);
        });
    } else {
        xent_grad_block_kernel<T><<<grid_of(a.rows, 1), THREADS, 0, stream>>>(a, g, grad, fault);
    }
    return nbk_cuda_check(cudaGetLastError(), device, "launching a cross entropy backward kernel");
}

nb_status bad_dtype(const char *what, nb_dtype dtype)
{
    return nbk_fail(NB_ERR_DTYPE, "no CUDA %s for dtype %d (float32 or float64 only)", what, (int)dtype);
}

} /* namespace */
} /* namespace nb_cuda */

extern "C" nb_status nbk_cuda_softmax(int device, const nbk_softmax_shape *s, bool take_log, const void *in,
                                     void *out)
{
    if (s->outer == 0 || s->n == 0 || s->inner == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (s->dtype) {
    case NB_FLOAT32: return nb_cuda::softmax(device, stream, s, take_log, (const float *)in, (float *)out);
    case NB_FLOAT64: return nb_cuda::softmax(device, stream, s, take_log, (const double *)in, (double *)out);
    default: return nb_cuda::bad_dtype("softmax", s->dtype);
    }
}

extern "C" nb_status nbk_cuda_softmax_backward(int device, const nbk_softmax_shape *s, bool take_log,
                                              const void *y, const void *g, void *gi)
{
    if (s->outer == 0 || s->n == 0 || s->inner == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (s->dtype) {
    case NB_FLOAT32:
        return nb_cuda::softmax_backward(device, stream, s, take_log, (const float *)y, (const float *)g,
                                         (float *)gi);
    case NB_FLOAT64:
        return nb_cuda::softmax_backward(device, stream, s, take_log, (const double *)y, (const double *)g,
                                         (double *)gi);
    default: return nb_cuda::bad_dtype("softmax backward", s->dtype);
    }
}

extern "C" nb_status nbk_cuda_xent_forward(int device, const nbk_xent_args *a, void *loss)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (a->dtype) {
    case NB_FLOAT32: return nb_cuda::xent_forward(device, stream, a, (float *)loss);
    case NB_FLOAT64: return nb_cuda::xent_forward(device, stream, a, (double *)loss);
    default: return nb_cuda::bad_dtype("cross entropy", a->dtype);
    }
}

extern "C" nb_status nbk_cuda_xent_backward(int device, const nbk_xent_args *a, const void *g, void *grad)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    switch (a->dtype) {
    case NB_FLOAT32: return nb_cuda::xent_backward(device, stream, a, (const float *)g, (float *)grad);
    case NB_FLOAT64: return nb_cuda::xent_backward(device, stream, a, (const double *)g, (double *)grad);
    default: return nb_cuda::bad_dtype("cross entropy backward", a->dtype);
    }
}
