/* pool.c — CPU kernels of 2-D pooling (kernels/pool.h): a plane at a time, planes split over
 * threads. Every output (forward) or input element (backward) is computed by the per-element
 * functions of kernels/pool.h, which the CUDA kernels run too, so the result does not depend on
 * the thread count. */
#include "pool.h"

#include "threads.h"

#include <omp.h>

/* Work of one element: the taps of its window (forward) or the outputs that may take it. */
static double window_taps(const nbk_pool_args *a)
{
    if (a->kind == NBK_POOL_ADAPTIVE_AVG)
        return (double)((a->in_h + a->out_h - 1) / (a->out_h > 0 ? a->out_h : 1) + 1) *
               (double)((a->in_w + a->out_w - 1) / (a->out_w > 0 ? a->out_w : 1) + 1);
    return (double)(a->kh * a->kw);
}

static int threads_for(const nbk_pool_args *a, int64_t elements, int nthreads)
{
    return nbk_cpu_threads_for((double)elements * window_taps(a), NBK_CPU_UNIT_EWISE, a->planes, nthreads);
}

static void forward_plane(const nbk_pool_args *a, const void *x, void *y, int64_t *indices, int64_t p)
{
    for (int64_t oy = 0; oy < a->out_h; oy++)
        for (int64_t ox = 0; ox < a->out_w; ox++) nbk_pool_forward_one(a, x, y, indices, p, oy, ox);
}

static void backward_plane(const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx, int64_t p)
{
    for (int64_t iy = 0; iy < a->in_h; iy++)
        for (int64_t ix = 0; ix < a->in_w; ix++) nbk_pool_backward_one(a, g, indices, gx, p, iy, ix);
}

void nbk_cpu_pool_forward(const nbk_pool_args *a, const void *x, void *y, int64_t *indices, int nthreads)
{
    const int nt = threads_for(a, a->planes * a->out_h * a->out_w, nthreads);
    if (nt <= 1) {
        for (int64_t p = 0; p < a->planes; p++) forward_plane(a, x, y, indices, p);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < a->planes; p++) forward_plane(a, x, y, indices, p);
}

void nbk_cpu_pool_backward(const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx, int nthreads)
{
    const int nt = threads_for(a, a->planes * a->in_h * a->in_w, nthreads);
    if (nt <= 1) {
        for (int64_t p = 0; p < a->planes; p++) backward_plane(a, g, indices, gx, p);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < a->planes; p++) backward_plane(a, g, indices, gx, p);
}
