/* index_scatter.cu — the scatter of kernels/index.h on the GPU: a thread per line (the
 * elements sharing every coordinate but dim's), walking the line in order along dim. Duplicate
 * indices within a line are set or added in that order, and different lines write different
 * elements of self, so no atomics are needed and the result is the same on every run (and the
 * CPU's, kernels/cpu/index.c). An index out of range is recorded in the device's fault record and
 * its element skipped. What one thread does is a __host__ __device__ function (scatter_share),
 * so the index arithmetic can be run and checked on the CPU. */
#include "index.cuh"

namespace nb_cuda {
namespace index {
namespace {

/* The lines of the scatter that a thread handles: line l = block·BLOCK + thread, then a grid
 * further each step; lines are numbered row-major over the iteration's dims but dim. */
template <class T>
__host__ __device__ __forceinline__ void scatter_share(unsigned block, unsigned thread, unsigned grid,
                                                       const nbk_index_args &a, int64_t lines, bool add,
                                                       nbk_cuda_fault *fault, const char *op)
{
    T *self = (T *)a.self;
    const T *other = (const T *)a.other;
    const T alpha = alpha_of<T>(a.alpha);
    const bool scaled = a.alpha != 1.0;
    const int dim = a.dim;
    const int64_t len = a.shape[dim], sd = a.self_strides[dim], od = a.other_strides[dim], id = a.index_strides[dim];
    const int64_t step = (int64_t)grid * BLOCK;
    for (int64_t l = (int64_t)block * BLOCK + thread; l < lines; l += step) {
        int64_t rest = l, so = 0, oo = 0, io = 0;
        for (int d = a.ndim - 1; d >= 0; d--) {
            if (d == dim) continue;
            const int64_t c = rest % a.shape[d];
            rest /= a.shape[d];
            so += c * a.self_strides[d];
            oo += c * a.other_strides[d];
            io += c * a.index_strides[d];
        }
        for (int64_t j = 0; j < len; j++) {
            const int64_t v = a.index[io + j * id];
            if (v < 0 || v >= a.bound) {
                report(fault, op, v, io + j * id, a.bound);
                continue;
            }
            T *dst = self + so + v * sd;
            const T x = other[oo + j * od];
            *dst = !add ? x : add_of(*dst, scaled ? scale_of(x, alpha) : x);
        }
    }
}

template <class T>
__global__ void __launch_bounds__(BLOCK)
    scatter_kernel(const nbk_index_args a, int64_t lines, bool add, nbk_cuda_fault *fault, const char *op)
{
    scatter_share<T>(blockIdx.x, threadIdx.x, gridDim.x, a, lines, add, fault, op);
}

} /* namespace */
} /* namespace index */
} /* namespace nb_cuda */

using namespace nb_cuda;
using namespace nb_cuda::index;

extern "C" nb_status nbk_cuda_index_scatter(int device, const char *op, const nbk_index_args *a, bool add)
{
    const int64_t numel = numel_of(a);
    if (numel == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    nbk_cuda_fault *fault = nbk_cuda_fault_slot(device);
    const int64_t lines = numel / a->shape[a->dim];
    const unsigned grid = grid_for(lines, BLOCK);
    st = with_dtype(a->dtype, [&](auto t) {
        scatter_kernel<decltype(t)><<<grid, BLOCK, 0, stream>>>(*a, lines, add, fault, op);
    });
    if (st != NB_OK) return st;
    return nbk_cuda_check(cudaGetLastError(), device, "launching an index scatter kernel");
}
