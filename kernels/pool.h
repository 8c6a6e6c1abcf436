/* pool.h — the arguments of 2-D pooling (max, average, adaptive average), forward and backward,
 * read by every device's kernels (kernels/cpu/pool.c, kernels/cuda/pool.cu), and the work of one
 * output element (forward) or one input element (backward) written once in plain C: the CPU's
 * loops and the CUDA kernels (where each is __host__ __device__) call the same functions, so the
 * devices agree bit for bit. lib/nn/pool.c fills the arguments from tensors.
 *
 * Layout: x (planes, in_h, in_w) and y (planes, out_h, out_w), contiguous, planes = N * C. The
 * windows are PyTorch's:
 *   max:      rows oy * stride - pad + i * dilation (i < kernel) inside the input; the maximum,
 *             a NaN winning (the last NaN of the window, as PyTorch's loops); the index is
 *             row * in_w + col within the plane;
 *   average:  rows [oy * stride - pad, + kernel) clipped to the input; the divisor is
 *             divisor_override when not 0, else the window clipped to the padded input
 *             (count_include_pad) or to the input;
 *   adaptive: rows [floor(oy * in_h / out_h), ceil((oy + 1) * in_h / out_h)), the mean.
 * Sums are taken in double in row-major order of the window. The backward is a gather: each
 * input element adds, in order of the outputs, the gradients of the windows that take it, so it
 * is deterministic on every device with no atomics. A max window with no tap inside the input
 * (possible with dilation and padding) gives -inf and PyTorch's index (the first tap moved
 * inside); its gradient reaches the element that index names only when that element lies in
 * the window's span, as in PyTorch's CUDA backward (its CPU backward always adds it there). */
#ifndef NB_KERNELS_POOL_H
#define NB_KERNELS_POOL_H

#include "nabla.h"

#include <math.h>
#include <stdint.h>

typedef enum nbk_pool_kind { NBK_POOL_MAX = 0, NBK_POOL_AVG, NBK_POOL_ADAPTIVE_AVG } nbk_pool_kind;

typedef struct nbk_pool_args {
    nbk_pool_kind kind;
    nb_dtype dtype; /* of x, y, the gradients: float32 or float64 */
    int64_t planes, in_h, in_w, out_h, out_w;
    int64_t kh, kw, sh, sw, ph, pw, dh, dw; /* kernel, stride, padding, dilation (max and avg) */
    bool count_include_pad;                 /* avg */
    int64_t divisor;                        /* avg: divisor_override, 0 for none */
} nbk_pool_args;

#ifdef __CUDACC__
#define NBK_POOL_FN __host__ __device__ static inline
#else
#define NBK_POOL_FN static inline
#endif

NBK_POOL_FN double nbk_pool_load(const void *p, nb_dtype dt, int64_t i)
{
    return dt == NB_FLOAT32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}
NBK_POOL_FN void nbk_pool_store(void *p, nb_dtype dt, int64_t i, double v)
{
    if (dt == NB_FLOAT32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}
NBK_POOL_FN int64_t nbk_pool_floor_div(int64_t a, int64_t b) /* b > 0 */
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
NBK_POOL_FN int64_t nbk_pool_min(int64_t a, int64_t b) { return a < b ? a : b; }
NBK_POOL_FN int64_t nbk_pool_max(int64_t a, int64_t b) { return a > b ? a : b; }

/* The average window of output (oy, ox) clipped to the input, [*h0, *h1) x [*w0, *w1), and its
 * divisor; false when the window holds no input element (its output is 0). */
NBK_POOL_FN bool nbk_pool_avg_window(const nbk_pool_args *a, int64_t oy, int64_t ox, int64_t *h0, int64_t *h1,
                                     int64_t *w0, int64_t *w1, double *divisor)
{
    int64_t hs = oy * a->sh - a->ph, ws = ox * a->sw - a->pw;
    int64_t he = nbk_pool_min(hs + a->kh, a->in_h + a->ph), we = nbk_pool_min(ws + a->kw, a->in_w + a->pw);
    const int64_t padded = (he - hs) * (we - ws);
    hs = nbk_pool_max(hs, 0);
    ws = nbk_pool_max(ws, 0);
    he = nbk_pool_min(he, a->in_h);
    we = nbk_pool_min(we, a->in_w);
    *h0 = hs, *h1 = he, *w0 = ws, *w1 = we;
    if (hs >= he || ws >= we) return false;
    *divisor = a->divisor != 0 ? (double)a->divisor
               : a->count_include_pad ? (double)padded
                                      : (double)((he - hs) * (we - ws));
    return true;
}

/* The adaptive window of output (oy, ox): [*h0, *h1) x [*w0, *w1). */
NBK_POOL_FN void nbk_pool_adaptive_window(const nbk_pool_args *a, int64_t oy, int64_t ox, int64_t *h0, int64_t *h1,
                                          int64_t *w0, int64_t *w1)
{
    *h0 = oy * a->in_h / a->out_h;
    *h1 = ((oy + 1) * a->in_h + a->out_h - 1) / a->out_h;
    *w0 = ox * a->in_w / a->out_w;
    *w1 = ((ox + 1) * a->in_w + a->out_w - 1) / a->out_w;
}

/* Output (p, oy, ox) of the forward: y, and for max pooling its index (indices may be NULL
 * otherwise). */
NBK_POOL_FN void nbk_pool_forward_one(const nbk_pool_args *a, const void *x, void *y, int64_t *indices, int64_t p,
                                      int64_t oy, int64_t ox)
{
    const int64_t in_plane = p * a->in_h * a->in_w;
    const int64_t o = (p * a->out_h + oy) * a->out_w + ox;
    if (a->kind == NBK_POOL_MAX) {
        int64_t hs = oy * a->sh - a->ph, ws = ox * a->sw - a->pw;
        const int64_t he = nbk_pool_min(hs + (a->kh - 1) * a->dh + 1, a->in_h);
        const int64_t we = nbk_pool_min(ws + (a->kw - 1) * a->dw + 1, a->in_w);
        if (hs < 0) hs += (-hs + a->dh - 1) / a->dh * a->dh; /* the first tap inside the input */
        if (ws < 0) ws += (-ws + a->dw - 1) / a->dw * a->dw;
        int64_t best = hs * a->in_w + ws;
        double m = -INFINITY;
        for (int64_t iy = hs; iy < he; iy += a->dh)
            for (int64_t ix = ws; ix < we; ix += a->dw) {
                const int64_t i = iy * a->in_w + ix;
                const double v = nbk_pool_load(x, a->dtype, in_plane + i);
                if (v > m || v != v) m = v, best = i;
            }
        nbk_pool_store(y, a->dtype, o, m);
        indices[o] = best;
        return;
    }
    int64_t h0, h1, w0, w1;
    double divisor = 1;
    if (a->kind == NBK_POOL_AVG) {
        if (!nbk_pool_avg_window(a, oy, ox, &h0, &h1, &w0, &w1, &divisor)) {
            nbk_pool_store(y, a->dtype, o, 0.0);
            return;
        }
    } else {
        nbk_pool_adaptive_window(a, oy, ox, &h0, &h1, &w0, &w1);
        divisor = (double)((h1 - h0) * (w1 - w0));
    }
    double s = 0;
    for (int64_t iy = h0; iy < h1; iy++)
        for (int64_t ix = w0; ix < w1; ix++) s += nbk_pool_load(x, a->dtype, in_plane + iy * a->in_w + ix);
    nbk_pool_store(y, a->dtype, o, s / divisor);
}

/* The outputs [*lo, *hi) along one dim whose windows may take input position i (the window of o
 * starts at o * stride - pad and spans span positions), clipped to [0, out). */
NBK_POOL_FN void nbk_pool_taking(int64_t i, int64_t stride, int64_t pad, int64_t span, int64_t out, int64_t *lo,
                                 int64_t *hi)
{
    /* o * stride - pad <= i  and  i < o * stride - pad + span */
    *lo = nbk_pool_max(nbk_pool_floor_div(i + pad - span, stride) + 1, 0);
    *hi = nbk_pool_min(nbk_pool_floor_div(i + pad, stride) + 1, out);
}

/* The outputs [*lo, *hi) along one axis (0: rows, 1: columns) whose windows may take input
 * position i; the CPU computes them once per row and column, a GPU thread for its element. */
NBK_POOL_FN void nbk_pool_backward_range(const nbk_pool_args *a, int axis, int64_t i, int64_t *lo, int64_t *hi)
{
    const int64_t in = axis == 0 ? a->in_h : a->in_w, out = axis == 0 ? a->out_h : a->out_w;
    if (a->kind == NBK_POOL_ADAPTIVE_AVG) {
        /* outputs [floor(i * out / in), ceil((i + 1) * out / in)) may take i; each is checked */
        *lo = i * out / in;
        *hi = nbk_pool_min(((i + 1) * out + in - 1) / in, out);
        return;
    }
    const int64_t k = axis == 0 ? a->kh : a->kw, d = axis == 0 ? a->dh : a->dw;
    nbk_pool_taking(i, axis == 0 ? a->sh : a->sw, axis == 0 ? a->ph : a->pw, (k - 1) * d + 1, out, lo, hi);
}

/* Input (p, iy, ix) of the backward: gx from g (planes, out_h, out_w) and, for max pooling, the
 * forward's indices, over the outputs [y0, y1) x [x0, x1) that may take it (from
 * nbk_pool_backward_range), in row-major order. */
NBK_POOL_FN void nbk_pool_backward_one(const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx,
                                       int64_t p, int64_t iy, int64_t ix, int64_t y0, int64_t y1, int64_t x0,
                                       int64_t x1)
{
    const int64_t out_plane = p * a->out_h * a->out_w;
    double s = 0;
    if (a->kind == NBK_POOL_MAX) {
        const int64_t me = iy * a->in_w + ix;
        for (int64_t oy = y0; oy < y1; oy++)
            for (int64_t ox = x0; ox < x1; ox++) {
                const int64_t o = out_plane + oy * a->out_w + ox;
                if (indices[o] == me) s += nbk_pool_load(g, a->dtype, o);
            }
    } else {
        for (int64_t oy = y0; oy < y1; oy++)
            for (int64_t ox = x0; ox < x1; ox++) {
                int64_t h0, h1, w0, w1;
                double divisor = 1;
                bool any = true;
                if (a->kind == NBK_POOL_AVG) {
                    any = nbk_pool_avg_window(a, oy, ox, &h0, &h1, &w0, &w1, &divisor);
                } else {
                    nbk_pool_adaptive_window(a, oy, ox, &h0, &h1, &w0, &w1);
                    divisor = (double)((h1 - h0) * (w1 - w0));
                }
                if (any && iy >= h0 && iy < h1 && ix >= w0 && ix < w1)
                    s += nbk_pool_load(g, a->dtype, out_plane + oy * a->out_w + ox) / divisor;
            }
    }
    nbk_pool_store(gx, a->dtype, (p * a->in_h + iy) * a->in_w + ix, s);
}

#endif /* NB_KERNELS_POOL_H */
