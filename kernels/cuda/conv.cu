/* conv.cu — convolution's column kernels on the GPU (kernels/conv.h): im2col, a thread per column
 * element, and col2im in gather form, a thread per image element summing the column elements
 * that read it in window order (i, then j) in the element type: no atomics, so the result depends
 * on the shapes only, and it is the CPU's (kernels/cpu/conv_typed.h adds the same terms in the same
 * order). Both are grid-stride loops over int64 indices; what one thread does for one
 * element is a __host__ __device__ function, so it can be run and checked on the CPU.
 * float16 and bfloat16 columns are laid out as they are (a copy); col2im sums them in float32 and
 * rounds each image element once. */
#include "conv.h"

#include "half.cuh"
#include "internal.h"

#include <stdint.h>

namespace nb_cuda {
namespace {

constexpr int THREADS = 256;        /* threads per block */
constexpr int64_t MAX_GRID = 65535; /* blocks; the kernels loop beyond */

/* ---------------------------------------------------------------- one element */

/* Column element e of (n, c·kh·kw, oh·ow): the image pixel it reads, or 0 in the padding. */
template <class T> __host__ __device__ inline T im2col_element(const nbk_conv_args &a, const T *img, int64_t e)
{
    const int64_t x = e % a.ow;
    int64_t r = e / a.ow;
    const int64_t y = r % a.oh;
    r /= a.oh;
    const int64_t j = r % a.kw;
    r /= a.kw;
    const int64_t i = r % a.kh;
    const int64_t p = r / a.kh; /* the plane: image·c + channel */
    const int64_t iy = y * a.sh - a.ph + i * a.dh, ix = x * a.sw - a.pw + j * a.dw;
    if (iy < 0 || iy >= a.h || ix < 0 || ix >= a.w) return T{}; /* +0 in every type */
    return img[(p * a.h + iy) * a.w + ix];
}

/* Image element e of (n, c, h, w): the sum of the column elements that read it. */
template <class T> __host__ __device__ inline T col2im_element(const nbk_conv_args &a, const T *col, int64_t e)
{
    const int64_t ix = e % a.w;
    int64_t r = e / a.w;
    const int64_t iy = r % a.h;
    const int64_t p = r / a.h;
    const int64_t L = a.oh * a.ow;
    const T *plane = col + p * a.kh * a.kw * L; /* (kh·kw, oh·ow) */
    compute_t<T> s = 0;
    for (int64_t i = 0; i < a.kh; i++) {
        const int64_t ty = iy + a.ph - i * a.dh;
        if (ty < 0 || ty % a.sh != 0 || ty / a.sh >= a.oh) continue;
        const int64_t y = ty / a.sh;
        for (int64_t j = 0; j < a.kw; j++) {
            const int64_t tx = ix + a.pw - j * a.dw;
            if (tx < 0 || tx % a.sw != 0 || tx / a.sw >= a.ow) continue;
            s += widen(plane[(i * a.kw + j) * L + y * a.ow + tx / a.sw]);
        }
    }
    return narrow<T>(s);
}

/* ---------------------------------------------------------------- kernels */

template <class T> __global__ void __launch_bounds__(THREADS) im2col_kernel(nbk_conv_args a, int64_t total)
{
    const T *img = (const T *)a.image;
    T *col = (T *)a.cols;
    const int64_t step = (int64_t)gridDim.x * THREADS;
    for (int64_t e = (int64_t)blockIdx.x * THREADS + threadIdx.x; e < total; e += step)
        col[e] = im2col_element<T>(a, img, e);
}

template <class T> __global__ void __launch_bounds__(THREADS) col2im_kernel(nbk_conv_args a, int64_t total)
{
    const T *col = (const T *)a.cols;
    T *img = (T *)a.image;
    const int64_t step = (int64_t)gridDim.x * THREADS;
    for (int64_t e = (int64_t)blockIdx.x * THREADS + threadIdx.x; e < total; e += step)
        img[e] = col2im_element<T>(a, col, e);
}

/* ---------------------------------------------------------------- launches */

unsigned grid_of(int64_t items)
{
    const int64_t blocks = (items + THREADS - 1) / THREADS;
    return blocks < 1 ? 1u : (unsigned)(blocks < MAX_GRID ? blocks : MAX_GRID);
}

template <class T>
void run(const nbk_conv_args &a, int64_t total, bool to_cols, unsigned grid, cudaStream_t stream)
{
    if (to_cols) im2col_kernel<T><<<grid, THREADS, 0, stream>>>(a, total);
    else col2im_kernel<T><<<grid, THREADS, 0, stream>>>(a, total);
}

nb_status launch(int device, const nbk_conv_args *a, bool to_cols)
{
    const int64_t total =
        to_cols ? a->n * a->c * a->kh * a->kw * a->oh * a->ow : a->n * a->c * a->h * a->w;
    if (total == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    const unsigned grid = grid_of(total);
    return by_floating_dtype(
        a->dtype,
        [&](auto t) {
            run<decltype(t)>(*a, total, to_cols, grid, stream);
            return nbk_cuda_check(cudaGetLastError(), device, to_cols ? "launching im2col" : "launching col2im");
        },
        [&] {
            return nbk_fail(NB_ERR_DTYPE, "no CUDA convolution columns for dtype %d (floating dtypes only)",
                            (int)a->dtype);
        });
}

} /* namespace */
} /* namespace nb_cuda */

extern "C" nb_status nbk_cuda_im2col(int device, const nbk_conv_args *a) { return nb_cuda::launch(device, a, true); }

extern "C" nb_status nbk_cuda_col2im(int device, const nbk_conv_args *a) { return nb_cuda::launch(device, a, false); }
