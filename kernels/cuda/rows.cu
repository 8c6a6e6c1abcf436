/* rows.cu — products, cumulative sums and sorts along rows on the GPU (kernels/rows.h's rules),
 * deterministic: every output is computed by one thread, in a fixed order, with the per-row and
 * per-element functions of kernels/rows_row.h that the CPU runs too.
 *  - products and scans: a thread per row, folding it in order (rows of a reduction are
 *    independent; a long single row runs on one thread);
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

} /* namespace */

extern "C" nb_status nbk_cuda_rows(int device, nbk_rows_op op, const nbk_rows_args *a)
{
    if (a->rows == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
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
