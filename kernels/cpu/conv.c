/* conv.c — CPU column kernels of convolution (kernels/conv.h): im2col, and its adjoint col2im in
 * gather form. The typed kernels are written once in conv_typed.h and included per floating
 * dtype; the drivers split the image planes (n·c of them) over threads. col2im's plane belongs to
 * one thread, which adds each pixel's contributions in window order, so the result does not
 * depend on the thread count. */
#include "conv.h"

#include "threads.h"

#include <omp.h>
#include <stdint.h>

#include "typed.h" /* TYPED(name): name_SFX */

#define T float
#define SFX f32
#include "conv_typed.h"

#define T double
#define SFX f64
#include "conv_typed.h"

void nbk_cpu_im2col_plane(const nbk_conv_args *a, const void *plane, void *cols, int64_t rs)
{
    if (a->dtype == NB_FLOAT32) im2col_plane_f32(a, plane, cols, rs);
    else im2col_plane_f64(a, plane, cols, rs);
}

void nbk_cpu_col2im_plane(const nbk_conv_args *a, void *plane, const void *cols, int64_t rs)
{
    if (a->dtype == NB_FLOAT32) col2im_plane_f32(a, plane, cols, rs);
    else col2im_plane_f64(a, plane, cols, rs);
}

/* Plane p = (image, channel) of a->image, and its columns in a->cols (kernels/conv.h's layout). */
static void im2col_plane(const nbk_conv_args *a, int64_t p)
{
    const size_t esize = nb_dtype_size(a->dtype);
    const int64_t L = a->oh * a->ow;
    nbk_cpu_im2col_plane(a, (const char *)a->image + (size_t)(p * a->h * a->w) * esize,
                         (char *)a->cols + (size_t)(p * a->kh * a->kw * L) * esize, L);
}

static void col2im_plane(const nbk_conv_args *a, int64_t p)
{
    const size_t esize = nb_dtype_size(a->dtype);
    const int64_t L = a->oh * a->ow;
    nbk_cpu_col2im_plane(a, (char *)a->image + (size_t)(p * a->h * a->w) * esize,
                         (const char *)a->cols + (size_t)(p * a->kh * a->kw * L) * esize, L);
}

/* Threads by the column elements moved (an elementwise op's cost per element). */
static int threads_for(const nbk_conv_args *a, int64_t planes, int nthreads)
{
    const double elements = (double)planes * (double)(a->kh * a->kw) * (double)(a->oh * a->ow);
    return nbk_cpu_threads_for(elements, NBK_CPU_UNIT_EWISE, planes, nthreads);
}

void nbk_cpu_im2col(const nbk_conv_args *a, int nthreads)
{
    const int64_t planes = a->n * a->c;
    const int nt = threads_for(a, planes, nthreads);
    if (nt == 1) {
        for (int64_t p = 0; p < planes; p++) im2col_plane(a, p);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) im2col_plane(a, p);
}

void nbk_cpu_col2im(const nbk_conv_args *a, int nthreads)
{
    const int64_t planes = a->n * a->c;
    const int nt = threads_for(a, planes, nthreads);
    if (nt == 1) {
        for (int64_t p = 0; p < planes; p++) col2im_plane(a, p);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) col2im_plane(a, p);
}
