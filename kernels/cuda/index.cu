/* index.cu — the gather and the scatter of kernels/index.h on the GPU.
 *  - gather: a thread per element of the iteration (grid-stride), reading self at the element's
 *    index and writing other;
 *  - scatter: a thread per line (the elements sharing every coordinate but dim's), walking the
 *    line in order along dim: duplicate indices within a line are set or added in that order,
 *    and different lines write different elements of self, so no atomics are needed and the
 *    result is the same on every run (and the CPU's, kernels/cpu/index.c).
 * Every index is checked: one out of range is recorded in the device's fault record (the first
 * report wins) and its element is skipped (a gather writes NaN, or 0 for int64 and bool).
 * What one thread does is a __host__ __device__ function (gather_share, scatter_share), so the
 * index arithmetic can be run and checked on the CPU. */
#include "index_kernels.h"

#include "internal.h"
#include "launch.cuh"

#include <math.h>
#include <stdint.h>

namespace nb_cuda {
namespace {

template <class T> __host__ __device__ __forceinline__ T bad_value() { return T(0); }
template <> __host__ __device__ __forceinline__ float bad_value<float>() { return nanf(""); }
template <> __host__ __device__ __forceinline__ double bad_value<double>() { return nan(""); }

template <class T> __host__ __device__ __forceinline__ T add_of(T x, T y) { return x + y; }
template <> __host__ __device__ __forceinline__ bool add_of<bool>(bool x, bool y) { return x || y; }
template <class T> __host__ __device__ __forceinline__ T scale_of(T x, T alpha) { return x * alpha; }
template <> __host__ __device__ __forceinline__ bool scale_of<bool>(bool x, bool alpha) { return x && alpha; }

/* Where a thread records a bad index: the device's fault record, or on the host (a check run)
 * the same record written plainly. */
__host__ __device__ __forceinline__ void report(nbk_cuda_fault *fault, const char *op, int64_t index,
                                                int64_t position, int64_t bound)
{
#ifdef __CUDA_ARCH__
    nbk_cuda_report_index_fault(fault, op, index, position, bound);
#else
    if (fault && fault->code == 0) *fault = nbk_cuda_fault{NB_CUDA_FAULT_INDEX, index, position, bound, op};
#endif
}

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

/* The lines of the scatter that a thread handles: line l = block·BLOCK + thread, then a grid
 * further each step; lines are numbered row-major over the iteration's dims but dim. */
template <class T>
__host__ __device__ __forceinline__ void scatter_share(unsigned block, unsigned thread, unsigned grid,
                                                       const nbk_index_args &a, int64_t lines, bool add,
                                                       nbk_cuda_fault *fault, const char *op)
{
    T *self = (T *)a.self;
    const T *other = (const T *)a.other;
    const T alpha = (T)a.alpha;
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
    gather_kernel(const nbk_index_args a, int64_t numel, nbk_cuda_fault *fault, const char *op)
{
    gather_share<T>(blockIdx.x, threadIdx.x, gridDim.x, a, numel, fault, op);
}

template <class T>
__global__ void __launch_bounds__(BLOCK)
    scatter_kernel(const nbk_index_args a, int64_t lines, bool add, nbk_cuda_fault *fault, const char *op)
{
    scatter_share<T>(blockIdx.x, threadIdx.x, gridDim.x, a, lines, add, fault, op);
}

int64_t numel_of(const nbk_index_args *a)
{
    int64_t n = 1;
    for (int d = 0; d < a->ndim; d++) n *= a->shape[d];
    return n;
}

/* Runs launch(T) for a's dtype */
template <class F> nb_status with_dtype(nb_dtype dtype, F launch)
{
    switch (dtype) {
    case NB_FLOAT32: launch(float{}); return NB_OK;
    case NB_FLOAT64: launch(double{}); return NB_OK;
    case NB_INT64: launch(int64_t{}); return NB_OK;
    case NB_BOOL: launch(bool{}); return NB_OK;
    }
    return nbk_fail(NB_ERR_DTYPE, "no CUDA index kernel for dtype %d", (int)dtype);
}

} /* namespace */
} /* namespace nb_cuda */

using namespace nb_cuda;

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
