/* pool.c — CPU kernels of 2-D pooling (kernels/pool.h): a plane at a time, planes split over
 * threads. Every output (forward) or input element (backward) is computed by the per-element
 * functions of kernels/pool.h, which the CUDA kernels run too, so the result does not depend on
 * the thread count. */
#include "pool.h"

#include "threads.h"

#include "../error.h"

#include <omp.h>
#include <stdlib.h>

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

/* (the arguments are copied: stores through y and indices cannot then change them) */
static void forward_plane(const nbk_pool_args *args, const void *x, void *y, int64_t *indices, int64_t p)
{
    const nbk_pool_args a = *args;
    for (int64_t oy = 0; oy < a.out_h; oy++)
        for (int64_t ox = 0; ox < a.out_w; ox++) nbk_pool_forward_one(&a, x, y, indices, p, oy, ox);
}

/* cols (in_w, 2): the outputs along the width that may take each input column */
static void backward_plane(const nbk_pool_args *args, const void *g, const int64_t *indices, void *gx,
                           const int64_t *cols, int64_t p)
{
    const nbk_pool_args a = *args;
    for (int64_t iy = 0; iy < a.in_h; iy++) {
        int64_t y0, y1;
        nbk_pool_backward_range(&a, 0, iy, &y0, &y1);
        for (int64_t ix = 0; ix < a.in_w; ix++)
            nbk_pool_backward_one(&a, g, indices, gx, p, iy, ix, y0, y1, cols[2 * ix], cols[2 * ix + 1]);
    }
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

nb_status nbk_cpu_pool_backward(const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx,
                                int nthreads)
{
    if (a->planes == 0 || a->in_h == 0 || a->in_w == 0) return NB_OK;
    int64_t *cols = malloc((size_t)a->in_w * 2 * sizeof(int64_t)); /* (in_w, 2) */
    if (!cols) return nbk_fail(NB_ERR_MEMORY, "out of memory for the column ranges of a pooling backward");
    for (int64_t ix = 0; ix < a->in_w; ix++) nbk_pool_backward_range(a, 1, ix, &cols[2 * ix], &cols[2 * ix + 1]);
    const int nt = threads_for(a, a->planes * a->in_h * a->in_w, nthreads);
    if (nt <= 1) {
        for (int64_t p = 0; p < a->planes; p++) backward_plane(a, g, indices, gx, cols, p);
    } else {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t p = 0; p < a->planes; p++) backward_plane(a, g, indices, gx, cols, p);
    }
    free(cols);
    return NB_OK;
}
