/* launch.cuh — the one broadcasting, strided elementwise kernel of the CUDA backend and its
 * launcher, shared by the elementwise ops (ewise.cu) and the conversions (cast.cu).
 *
 * A functor F says what one element is: F::nin inputs of types In0..In2 (unused ones are
 * `Unused`), an output of type Out, and `Out operator()(In0, In1, In2) const`. The iteration is
 * lib's nb_iter (kernels/iter.h): the output and up to three inputs over a common shape of up to
 * 8 dims, each with its own byte strides (0 where broadcast), dims already coalesced. Two
 * kernels run it:
 *  - contiguous: every operand is one dense row (ndim 1, strides equal to element sizes); each
 *    thread handles UNROLL elements a block apart per step, so loads stay coalesced and several
 *    are in flight at once;
 *  - strided: any layout; each element's offsets come from its index (no division when the
 *    iteration has one dim).
 * Both are grid-stride loops with int64 indices; the grid covers the elements (up to 2^24 blocks,
 * then each thread loops), and the launch is checked. */
#ifndef NB_KERNELS_CUDA_LAUNCH_CUH
#define NB_KERNELS_CUDA_LAUNCH_CUH

#include "internal.h"

#include <stdint.h>

namespace nb_cuda {

constexpr int BLOCK = 256;                /* threads per block */
constexpr int UNROLL = 4;                 /* elements per thread per step of the contiguous kernel */
constexpr int64_t MAX_BLOCKS = 1 << 24;   /* beyond this the grid-stride loops take over */

struct Unused {}; /* the type of an input an op does not have */

/* Blocks for n work items of per_block items each: enough to cover them (the hardware spreads
 * them over the multiprocessors, with no wave of a few leftover blocks at the end, as a grid
 * capped at the resident count would have when fewer blocks fit than assumed). */
inline unsigned grid_for(int64_t n, int64_t per_block)
{
    int64_t blocks = (n + per_block - 1) / per_block;
    if (blocks > MAX_BLOCKS) blocks = MAX_BLOCKS;
    return blocks < 1 ? 1u : (unsigned)blocks;
}

/* The share of the contiguous kernel's work that thread `thread` of block `block` does in a grid
 * of `grid` blocks (a function of its own, callable on the host, so the index math can be checked
 * by running every thread of a grid on the CPU). */
template <class F>
__host__ __device__ __forceinline__ void contiguous_share(unsigned block, unsigned thread, unsigned grid,
                                                          int64_t n, typename F::Out *out,
                                                          const typename F::In0 *a,
                                                          const typename F::In1 *b,
                                                          const typename F::In2 *c, const F &f)
{
    const int64_t step = (int64_t)grid * BLOCK * UNROLL;
    for (int64_t base = (int64_t)block * BLOCK * UNROLL + thread; base < n; base += step) {
        typename F::In0 va[UNROLL] = {};
        typename F::In1 vb[UNROLL] = {};
        typename F::In2 vc[UNROLL] = {};
NB_UNROLL
        for (int u = 0; u < UNROLL; u++) { /* all loads first: UNROLL of them in flight */
            const int64_t i = base + (int64_t)u * BLOCK;
            if (i < n) {
                if constexpr (F::nin >= 1) va[u] = a[i];
                if constexpr (F::nin >= 2) vb[u] = b[i];
                if constexpr (F::nin >= 3) vc[u] = c[i];
            }
        }
NB_UNROLL
        for (int u = 0; u < UNROLL; u++) {
            const int64_t i = base + (int64_t)u * BLOCK;
            if (i < n) out[i] = f(va[u], vb[u], vc[u]);
        }
    }
}

template <class F>
__global__ void __launch_bounds__(BLOCK)
    contiguous_kernel(int64_t n, typename F::Out *out, const typename F::In0 *a,
                      const typename F::In1 *b, const typename F::In2 *c, F f)
{
    contiguous_share<F>(blockIdx.x, threadIdx.x, gridDim.x, n, out, a, b, c, f);
}

/* Byte offsets of element i (row-major over it's shape) in each of the NOPS operands. */
template <int NOPS>
__host__ __device__ __forceinline__ void element_offsets(const nb_iter &it, int64_t i, int64_t *off)
{
    if (it.ndim == 1) {
NB_UNROLL
        for (int k = 0; k < NOPS; k++) off[k] = i * it.strides[k][0];
        return;
    }
NB_UNROLL
    for (int k = 0; k < NOPS; k++) off[k] = 0;
    int64_t rest = i;
NB_UNROLL
    for (int d = NB_MAX_DIMS - 1; d >= 0; d--) {
        if (d >= it.ndim) continue;
        const int64_t size = it.shape[d];
        const int64_t coord = rest % size;
        rest /= size;
NB_UNROLL
        for (int k = 0; k < NOPS; k++) off[k] += coord * it.strides[k][d];
    }
}

/* The strided kernel's share for one thread, as contiguous_share. */
template <class F>
__host__ __device__ __forceinline__ void strided_share(unsigned block, unsigned thread, unsigned grid,
                                                       const nb_iter &it, const F &f)
{
    constexpr int NOPS = F::nin + 1;
    const int64_t step = (int64_t)grid * BLOCK;
    for (int64_t i = (int64_t)block * BLOCK + thread; i < it.numel; i += step) {
        int64_t off[NOPS];
        element_offsets<NOPS>(it, i, off);
        typename F::In0 a{};
        typename F::In1 b{};
        typename F::In2 c{};
        if constexpr (F::nin >= 1) a = *(const typename F::In0 *)(it.data[1] + off[1]);
        if constexpr (F::nin >= 2) b = *(const typename F::In1 *)(it.data[2] + off[2]);
        if constexpr (F::nin >= 3) c = *(const typename F::In2 *)(it.data[3] + off[3]);
        *(typename F::Out *)(it.data[0] + off[0]) = f(a, b, c);
    }
}

template <class F>
__global__ void __launch_bounds__(BLOCK) strided_kernel(const nb_iter it, F f)
{
    strided_share<F>(blockIdx.x, threadIdx.x, gridDim.x, it, f);
}

/* The element size of a functor's operand type (0 for Unused). */
template <class T> constexpr int64_t size_of() { return sizeof(T); }
template <> constexpr int64_t size_of<Unused>() { return 0; }

/* True when every operand of it is one dense row of its element type (the contiguous kernel). */
template <class F> bool is_dense(const nb_iter *it)
{
    const int64_t sizes[4] = {size_of<typename F::Out>(), size_of<typename F::In0>(),
                              size_of<typename F::In1>(), size_of<typename F::In2>()};
    bool dense = it->ndim == 1;
    for (int k = 0; k <= F::nin && dense; k++) dense = it->strides[k][0] == sizes[k];
    return dense;
}

/* Runs f over it on device; what names the kernel in a launch failure. */
template <class F>
nb_status run_elementwise(int device, const nb_iter *it, F f, const char *what)
{
    if (it->noperands != F::nin + 1)
        return nbk_fail(NB_ERR_ARGUMENT, "%s: %d operands given, the kernel takes %d", what,
                            it->noperands, F::nin + 1);
    if (it->numel == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;

    if (is_dense<F>(it)) {
        const unsigned grid = grid_for(it->numel, (int64_t)BLOCK * UNROLL);
        contiguous_kernel<F><<<grid, BLOCK, 0, stream>>>(
            it->numel, (typename F::Out *)it->data[0],
            (const typename F::In0 *)(F::nin >= 1 ? it->data[1] : nullptr),
            (const typename F::In1 *)(F::nin >= 2 ? it->data[2] : nullptr),
            (const typename F::In2 *)(F::nin >= 3 ? it->data[3] : nullptr), f);
    } else {
        const unsigned grid = grid_for(it->numel, BLOCK);
        strided_kernel<F><<<grid, BLOCK, 0, stream>>>(*it, f);
    }
    return nbk_cuda_check(cudaGetLastError(), device, what);
}

} /* namespace nb_cuda */

#endif /* NB_KERNELS_CUDA_LAUNCH_CUH */
