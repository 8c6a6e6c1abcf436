/* rows.cu — products, cumulative sums and sorts along rows on the GPU (kernels/rows.h's rules),
 * deterministic: every output is computed by one thread, in a fixed order, with the per-row and
 * per-element functions of kernels/rows_row.h that the CPU runs too.
 *  - products and scans: a thread per row, folding it in order (rows of a reduction are
 *    independent; a long single row runs on one thread);
 *  - log-sum-exp and variance of rows of at least STAT_BLOCK elements: a block per row, each
 *    thread folding the elements tid, tid + STAT_BLOCK, ... and the block combining the
 *    threads' partial results by a fixed tree in shared memory (maximum, then the sums, in
 *    float64); shorter rows take the thread-per-row path;
 *  - sorts and top-k: a thread per element counts the elements that sort before it (its rank,
 *    O(n) per element) and writes itself there when the rank is among the first k. Ranks are a
 *    permutation because the order is total (ties broken by index), so every output is written
 *    exactly once and no thread waits on another. */
#include "internal.h"

#include "../rows_row.h"

#include <stdint.h>

namespace {

constexpr int BLOCK = 256;
constexpr int64_t MAX_BLOCKS = 1 << 24;

unsigned grid_for(int64_t n)
{
    int64_t blocks = (n + BLOCK - 1) / BLOCK;
    if (blocks > MAX_BLOCKS) blocks = MAX_BLOCKS;
    return blocks < 1 ? 1u : (unsigned)blocks;
}

__global__ void rows_kernel(nbk_rows_op op, nbk_rows_args a)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; r < a.rows; r += stride) {
        switch (op) {
        case NBK_ROWS_PROD: nbk_rows_prod(&a, r); break;
        case NBK_ROWS_PROD_OTHERS: nbk_rows_prod_others(&a, r); break;
        case NBK_ROWS_CUMSUM: nbk_rows_cumsum(&a, r); break;
        case NBK_ROWS_LOGSUMEXP: nbk_rows_logsumexp(&a, r); break;
        case NBK_ROWS_VAR: nbk_rows_var(&a, r); break;
        }
    }
}

__global__ void sort_kernel(nbk_sort_args a)
{
    const int64_t total = a.rows * a.n, stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        const int64_t r = e / a.n, i = e % a.n;
        nbk_sort_place(&a, r, i, nbk_sort_rank(&a, r, i));
    }
}

/* ---------------------------------------------------------------- row statistics, a block per row */

constexpr int STAT_BLOCK = 256; /* threads per block (a power of two) */

/* What thread tid of a row's block folds first: elements tid, tid + STAT_BLOCK, ... */
__host__ __device__ inline double share_max(const nbk_rows_args &a, int64_t r, int tid, bool *nan)
{
    double m = -INFINITY;
    bool any = false;
    for (int64_t i = tid; i < a.n; i += STAT_BLOCK) {
        const double x = nbk_rows_float(a.in, a.dtype, r * a.n + i);
        any = any || x != x;
        m = x > m ? x : m;
    }
    *nan = any;
    return m;
}
__host__ __device__ inline double share_exp_sum(const nbk_rows_args &a, int64_t r, int tid, double shift)
{
    double s = 0;
    for (int64_t i = tid; i < a.n; i += STAT_BLOCK) s += exp(nbk_rows_float(a.in, a.dtype, r * a.n + i) - shift);
    return s;
}
__host__ __device__ inline double share_sum(const nbk_rows_args &a, int64_t r, int tid)
{
    double s = 0;
    for (int64_t i = tid; i < a.n; i += STAT_BLOCK) s += nbk_rows_float(a.in, a.dtype, r * a.n + i);
    return s;
}
__host__ __device__ inline double share_sq_sum(const nbk_rows_args &a, int64_t r, int tid, double mean)
{
    double s = 0;
    for (int64_t i = tid; i < a.n; i += STAT_BLOCK) {
        const double d = nbk_rows_float(a.in, a.dtype, r * a.n + i) - mean;
        s += d * d;
    }
    return s;
}

/* Combines the block's values in sh (STAT_BLOCK of them) by a fixed tree: sum, or maximum when
 * take_max; every thread gets the result. */
__device__ double block_combine(double *sh, double v, bool take_max)
{
    const int tid = threadIdx.x;
    sh[tid] = v;
    __syncthreads();
    for (int s = STAT_BLOCK / 2; s > 0; s >>= 1) {
        if (tid < s) sh[tid] = take_max ? (sh[tid + s] > sh[tid] ? sh[tid + s] : sh[tid]) : sh[tid] + sh[tid + s];
        __syncthreads();
    }
    const double result = sh[0];
    __syncthreads(); /* sh is reused by the next combine */
    return result;
}

__global__ void __launch_bounds__(STAT_BLOCK) stat_kernel(nbk_rows_op op, nbk_rows_args a)
{
    __shared__ double sh[STAT_BLOCK];
    const int tid = threadIdx.x;
    for (int64_t r = blockIdx.x; r < a.rows; r += gridDim.x) {
        double result;
        if (op == NBK_ROWS_LOGSUMEXP) {
            bool nan;
            const double m = block_combine(sh, share_max(a, r, tid, &nan), true);
            const double any_nan = block_combine(sh, nan ? 1.0 : 0.0, true);
            const double shift = m == INFINITY || m == -INFINITY ? 0.0 : m;
            const double s = block_combine(sh, share_exp_sum(a, r, tid, shift), false);
            result = any_nan > 0 ? NAN : log(s) + shift;
        } else {
            const double mean = block_combine(sh, share_sum(a, r, tid), false) / (double)a.n;
            const double ss = block_combine(sh, share_sq_sum(a, r, tid, mean), false);
            const double divisor = (double)a.n - a.correction;
            result = ss / (divisor > 0.0 ? divisor : 0.0);
        }
        if (tid == 0) nbk_rows_put_float(a.out, a.dtype, r, result);
    }
}

} /* namespace */

extern "C" nb_status nbk_cuda_rows(int device, nbk_rows_op op, const nbk_rows_args *a)
{
    if (a->rows == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    if ((op == NBK_ROWS_LOGSUMEXP || op == NBK_ROWS_VAR) && a->n >= STAT_BLOCK) {
        const int64_t blocks = a->rows < MAX_BLOCKS ? a->rows : MAX_BLOCKS;
        stat_kernel<<<(unsigned)blocks, STAT_BLOCK, 0, stream>>>(op, *a);
        return nbk_cuda_check(cudaGetLastError(), device, "launching a row statistics kernel");
    }
    rows_kernel<<<grid_for(a->rows), BLOCK, 0, stream>>>(op, *a);
    return nbk_cuda_check(cudaGetLastError(), device, "launching a row kernel");
}

extern "C" nb_status nbk_cuda_sort(int device, const nbk_sort_args *a)
{
    if (a->rows == 0 || a->n == 0 || a->k == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    sort_kernel<<<grid_for(a->rows * a->n), BLOCK, 0, stream>>>(*a);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the sort kernel");
}
