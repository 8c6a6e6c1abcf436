/* pool.c — CPU kernels of 2-D pooling (kernels/pool.h): a plane at a time, planes split over
 * threads. Every output (forward) or input element (backward) is computed by the per-element
 * functions of kernels/pool.h, which the CUDA kernels run too, so the result does not depend on
 * the thread count.
 *
 * Two paths give the same bits faster where they apply. Max pooling in float32 runs a typed
 * loop with the window rules of nbk_pool_forward_one (floats compare as their doubles do). Max
 * pooling whose windows cannot overlap (stride >= the dilated kernel, no padding) has a backward
 * that scatters each output's gradient to its index: every input takes at most one gradient, so
 * the gather's 0 + g equals the g stored. On (128, 32, 28, 28) with 2x2 windows the two paths
 * took the forward from 8.3 to 1.1 ms and the backward from 9.9 to 1.6 ms (2 threads, Zen 4);
 * taking a plane of short rows in one pass took its forward to 0.61 ms, and at (128, 64, 14, 14)
 * from 1.19 to 0.48 ms. */
#include "pool.h"

#include "math_f32.h"
#include "threads.h"

#include "../error.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

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

/* One output row of 2x2, stride 2 max pooling with no padding or dilation, the common case,
 * written so that the compiler vectorises it across outputs: r0 and r1 are the window's two
 * input rows, first the index of r0[0] in the plane. The taps are taken in row-major order by
 * the rule of nbk_pool_forward_one (the first tap needs no test: it beats -inf or is NaN, or is
 * -inf and keeps the first tap's index). */
SIMD_CLONES static void max_2x2_row_f32(const float *restrict r0, const float *restrict r1, int64_t in_w,
                                        int64_t first, float *restrict out, int64_t *restrict where, int64_t n)
{
    for (int64_t ox = 0; ox < n; ox++) {
        const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
        float m = a;
        int64_t off = 0;
        const bool tb = (b > m) | (b != b);
        m = tb ? b : m;
        off = tb ? 1 : off;
        const bool tc = (c > m) | (c != c);
        m = tc ? c : m;
        off = tc ? in_w : off;
        const bool td = (d > m) | (d != d);
        m = td ? d : m;
        off = td ? in_w + 1 : off;
        out[ox] = m;
        where[ox] = first + 2 * ox + off;
    }
}

/* Rows of 2x2 max pooling shorter than this take one pass over the plane, up to this span. */
enum { SHORT_ROW = 16, SHORT_SPAN = 1024 };

/* nbk_pool_forward_one for max pooling of float32 planes, with the window's rows and columns
 * hoisted out of the loops over outputs. */
static void max_forward_plane_f32(const nbk_pool_args *a, const float *x, float *y, int64_t *indices, int64_t p)
{
    const int64_t in_w = a->in_w;
    const float *plane = x + p * a->in_h * in_w;         /* (in_h, in_w) */
    float *out = y + p * a->out_h * a->out_w;            /* (out_h, out_w) */
    int64_t *where = indices + p * a->out_h * a->out_w;  /* (out_h, out_w) */
    if (a->kh == 2 && a->kw == 2 && a->sh == 2 && a->sw == 2 && a->ph == 0 && a->pw == 0 && a->dh == 1 &&
        a->dw == 1 && 2 * a->out_h <= a->in_h && 2 * a->out_w <= a->in_w) {
        /* Short rows leave the vectorised loop little to do: output (oy, ox) reads from
         * 2 (oy in_w + ox), so one pass over u = oy in_w + ox, u < (out_h - 1) in_w + out_w,
         * computes every row at once (and the columns in between, never past the plane, which
         * are dropped) */
        const int64_t span = (a->out_h - 1) * in_w + a->out_w;
        if (a->out_w < SHORT_ROW && span <= SHORT_SPAN) {
            float m[SHORT_SPAN];
            int64_t at[SHORT_SPAN];
            max_2x2_row_f32(plane, plane + in_w, in_w, 0, m, at, span);
            for (int64_t oy = 0; oy < a->out_h; oy++) {
                memcpy(out + oy * a->out_w, m + oy * in_w, (size_t)a->out_w * sizeof(float));
                memcpy(where + oy * a->out_w, at + oy * in_w, (size_t)a->out_w * sizeof(int64_t));
            }
            return;
        }
        for (int64_t oy = 0; oy < a->out_h; oy++)
            max_2x2_row_f32(plane + 2 * oy * in_w, plane + (2 * oy + 1) * in_w, in_w, 2 * oy * in_w,
                            out + oy * a->out_w, where + oy * a->out_w, a->out_w);
        return;
    }
    for (int64_t oy = 0; oy < a->out_h; oy++) {
        int64_t hs = oy * a->sh - a->ph;
        const int64_t he = nbk_pool_min(hs + (a->kh - 1) * a->dh + 1, a->in_h);
        if (hs < 0) hs += (-hs + a->dh - 1) / a->dh * a->dh;
        for (int64_t ox = 0; ox < a->out_w; ox++) {
            int64_t ws = ox * a->sw - a->pw;
            const int64_t we = nbk_pool_min(ws + (a->kw - 1) * a->dw + 1, in_w);
            if (ws < 0) ws += (-ws + a->dw - 1) / a->dw * a->dw;
            int64_t best = hs * in_w + ws;
            float m = -INFINITY;
            for (int64_t iy = hs; iy < he; iy += a->dh)
                for (int64_t ix = ws; ix < we; ix += a->dw) {
                    const float v = plane[iy * in_w + ix];
                    /* v > m || v != v, as masks rather than branches, which random data mispredicts */
                    const int64_t take = -(int64_t)((v > m) | (v != v));
                    m = select_f32((uint32_t)take, v, m);
                    best = (take & (iy * in_w + ix)) | (~take & best);
                }
            out[oy * a->out_w + ox] = m;
            where[oy * a->out_w + ox] = best;
        }
    }
}

/* Whether each input element lies in at most one max window, every window inside the input. */
static bool max_windows_are_disjoint(const nbk_pool_args *a)
{
    return a->kind == NBK_POOL_MAX && a->ph == 0 && a->pw == 0 && a->sh >= (a->kh - 1) * a->dh + 1 &&
           a->sw >= (a->kw - 1) * a->dw + 1;
}

/* The backward of disjoint max windows: zeros, then each output's gradient at its index. */
static void max_scatter_plane(const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx, int64_t p)
{
    const int64_t in_n = a->in_h * a->in_w, out_n = a->out_h * a->out_w;
    const int64_t *where = indices + p * out_n; /* (out_h, out_w) */
    if (a->dtype == NB_FLOAT32) {
        const float *grad = (const float *)g + p * out_n; /* (out_h, out_w) */
        float *dst = (float *)gx + p * in_n;              /* (in_h, in_w) */
        memset(dst, 0, (size_t)in_n * sizeof *dst);
        for (int64_t o = 0; o < out_n; o++) dst[where[o]] = grad[o];
    } else {
        const double *grad = (const double *)g + p * out_n;
        double *dst = (double *)gx + p * in_n;
        memset(dst, 0, (size_t)in_n * sizeof *dst);
        for (int64_t o = 0; o < out_n; o++) dst[where[o]] = grad[o];
    }
}

/* (the arguments are copied: stores through y and indices cannot then change them) */
static void forward_plane(const nbk_pool_args *args, const void *x, void *y, int64_t *indices, int64_t p)
{
    const nbk_pool_args a = *args;
    if (a.kind == NBK_POOL_MAX && a.dtype == NB_FLOAT32) {
        max_forward_plane_f32(&a, x, y, indices, p);
        return;
    }
    for (int64_t oy = 0; oy < a.out_h; oy++)
        for (int64_t ox = 0; ox < a.out_w; ox++) nbk_pool_forward_one(&a, x, y, indices, p, oy, ox);
}

/* cols (in_w, 2): the outputs along the width that may take each input column */
static void backward_plane(const nbk_pool_args *args, const void *g, const int64_t *indices, void *gx,
                           const int64_t *cols, int64_t p)
{
    const nbk_pool_args a = *args;
    if (max_windows_are_disjoint(&a)) {
        max_scatter_plane(&a, g, indices, gx, p);
        return;
    }
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
