/* pool.cu — 2-D pooling on the GPU (kernels/pool.h), forward and backward: a thread per output
 * element (forward) or per input element (backward, a gather over the windows that take it), in
 * grid-stride loops with int64 indices. Each element's work is kernels/pool.h's function, the
 * one the CPU runs, so the devices agree bit for bit; nothing is accumulated across threads, so
 * no atomics are needed. */
#include "internal.h"
#include "pool.h"

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

/* Element e of a (planes, rows, cols) layout as (*p, *r, *c). */
__host__ __device__ inline void split_index(int64_t e, int64_t rows, int64_t cols, int64_t *p, int64_t *r,
                                            int64_t *c)
{
    const int64_t plane = rows * cols;
    *p = e / plane;
    const int64_t rest = e - *p * plane;
    *r = rest / cols;
    *c = rest - *r * cols;
}

__global__ void pool_forward_kernel(nbk_pool_args a, const void *x, void *y, int64_t *indices)
{
    const int64_t total = a.planes * a.out_h * a.out_w, stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int64_t p, oy, ox;
        split_index(e, a.out_h, a.out_w, &p, &oy, &ox);
        nbk_pool_forward_one(&a, x, y, indices, p, oy, ox);
    }
}

__global__ void pool_backward_kernel(nbk_pool_args a, const void *g, const int64_t *indices, void *gx)
{
    const int64_t total = a.planes * a.in_h * a.in_w, stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int64_t p, iy, ix;
        split_index(e, a.in_h, a.in_w, &p, &iy, &ix);
        int64_t y0, y1, x0, x1;
        nbk_pool_backward_range(&a, 0, iy, &y0, &y1);
        nbk_pool_backward_range(&a, 1, ix, &x0, &x1);
        nbk_pool_backward_one(&a, g, indices, gx, p, iy, ix, y0, y1, x0, x1);
    }
}

} // namespace

extern "C" nb_status nbk_cuda_pool_forward(int device, const nbk_pool_args *a, const void *x, void *y,
                                           int64_t *indices)
{
    const int64_t total = a->planes * a->out_h * a->out_w;
    if (total == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    pool_forward_kernel<<<grid_for(total), BLOCK, 0, stream>>>(*a, x, y, indices);
    return nbk_cuda_check(cudaGetLastError(), device, "launching a pooling kernel");
}

extern "C" nb_status nbk_cuda_pool_backward(int device, const nbk_pool_args *a, const void *g,
                                            const int64_t *indices, void *gx)
{
    const int64_t total = a->planes * a->in_h * a->in_w;
    if (total == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    pool_backward_kernel<<<grid_for(total), BLOCK, 0, stream>>>(*a, g, indices, gx);
    return nbk_cuda_check(cudaGetLastError(), device, "launching a pooling backward kernel");
}
