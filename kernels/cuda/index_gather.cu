/* index_gather.cu — the gather of kernels/index.h on the GPU: a thread per element of the
 * iteration (grid-stride), reading self at the element's index and writing other. An index out
 * of range is recorded in the device's fault record (the first report wins) and its element is
 * NaN (0 for int64 and bool). What one thread does is a __host__ __device__ function
 * (gather_share), so the index arithmetic can be run and checked on the CPU. */
#include "index.cuh"

namespace nb_cuda {
namespace index {
namespace {

/* The elements of the gather that thread `thread` of block `block` handles in a grid of `grid`
 * blocks: element i = block·BLOCK + thread, then a grid further each step. */
template <class T>
__host__ __device__ __forceinline__ void gather_share(unsigned block, unsigned thread, unsigned grid,
                                                      const nbk_index_args &a, int64_t numel,
                                                      nbk_cuda_fault *fault, const char *op)
{
    const T *self = (const T *)a.self;
    T *out = (T *)a.other;
    const int64_t step = (int64_t)grid * BLOCK;
    for (int64_t i = (int64_t)block * BLOCK + thread; i < numel; i += step) {
        int64_t rest = i, so = 0, oo = 0, io = 0;
        for (int d = a.ndim - 1; d >= 0; d--) {
            const int64_t c = rest % a.shape[d];
            rest /= a.shape[d];
            if (d != a.dim) so += c * a.self_strides[d];
            oo += c * a.other_strides[d];
            io += c * a.index_strides[d];
        }
        const int64_t v = a.index[io];
        if (v < 0 || v >= a.bound) {
            report(fault, op, v, io, a.bound);
            out[oo] = bad_value<T>();
            continue;
        }
        out[oo] = self[so + v * a.self_strides[a.dim]];
    }
}

template <class T>
__global__ void __launch_bounds__(BLOCK)
    gather_kernel(const nbk_index_args a, int64_t numel, nbk_cuda_fault *fault, const char *op)
{
    gather_share<T>(blockIdx.x, threadIdx.x, gridDim.x, a, numel, fault, op);
}

} /* namespace */
} /* namespace index */
} /* namespace nb_cuda */

using namespace nb_cuda;
using namespace nb_cuda::index;

extern "C" nb_status nbk_cuda_index_gather(int device, const char *op, const nbk_index_args *a)
{
    const int64_t numel = numel_of(a);
    if (numel == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    nbk_cuda_fault *fault = nbk_cuda_fault_slot(device);
    const unsigned grid = grid_for(numel, BLOCK);
    st = with_dtype(a->dtype, [&](auto t) {
        gather_kernel<decltype(t)><<<grid, BLOCK, 0, stream>>>(*a, numel, fault, op);
    });
    if (st != NB_OK) return st;
    return nbk_cuda_check(cudaGetLastError(), device, "launching an index gather kernel");
}
