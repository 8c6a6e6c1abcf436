/* norm.c — CPU kernels of layer and RMS normalisation (kernels/norm.h), forward and backward.
 *
 * The typed kernels are written once in norm_typed.h and included below per floating dtype. The
 * forward takes a row at a time in three passes over it (its mean, its squared deviations, then
 * y), the row staying in cache; the statistics are summed in double and y is formed in the
 * element type from a two-part mean (kernels/norm.h), so float32 runs at float32's width. The
 * backward (in double) takes the input's gradient a row at a time (two passes: the row's two
 * sums, then gx) and the weight's and bias's gradients a strip of columns at a time, adding the
 * rows in order, so they are the same on any thread count. The drivers at the end split rows (or
 * strips) over threads. */
#include "norm.h"

#include "math_f32.h"
#include "threads.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>

/* Independent partial sums of a row. */
#define LANES 8
/* Columns of the weight's and bias's gradients summed together, their sums on the stack. */
#define STRIP 256
/* Rows per work item of the row kernels. */
#define ROW_BLOCK 16
/* The row loops are also compiled for x86-64-v3 (SIMD_CLONES, math_f32.h). */

#include "typed.h" /* TYPED(name): name_SFX */

#define T float
#define SFX f32
#include "norm_typed.h"

#define T double
#define SFX f64
#include "norm_typed.h"

static int threads_for(const nbk_norm_args *a, int64_t items, int nthreads)
{
    return nbk_cpu_threads_for((double)a->rows * (double)a->cols, NBK_CPU_UNIT_SOFTMAX, items, nthreads);
}

static void forward_item(const nbk_norm_args *a, void *y, double *stats, int64_t k)
{
    const int64_t begin = k * ROW_BLOCK, end = begin + ROW_BLOCK < a->rows ? begin + ROW_BLOCK : a->rows;
    if (a->dtype == NB_FLOAT32) norm_rows_f32(a, (float *)y, stats, begin, end);
    else norm_rows_f64(a, (double *)y, stats, begin, end);
}

void nbk_cpu_norm_forward(const nbk_norm_args *a, void *y, double *stats, int nthreads)
{
    if (a->rows == 0 || a->cols == 0) return; /* no elements: nothing to write, no statistics */
    const int64_t items = (a->rows + ROW_BLOCK - 1) / ROW_BLOCK;
    const int nt = threads_for(a, items, nthreads);
    if (nt == 1) {
        for (int64_t k = 0; k < items; k++) forward_item(a, y, stats, k);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t k = 0; k < items; k++) forward_item(a, y, stats, k);
}

static void grad_rows_item(const nbk_norm_args *a, const double *stats, const void *g, void *gx, int64_t k)
{
    const int64_t begin = k * ROW_BLOCK, end = begin + ROW_BLOCK < a->rows ? begin + ROW_BLOCK : a->rows;
    if (a->dtype == NB_FLOAT32) norm_grad_rows_f32(a, stats, (const float *)g, (float *)gx, begin, end);
    else norm_grad_rows_f64(a, stats, (const double *)g, (double *)gx, begin, end);
}

static void grad_strip_item(const nbk_norm_args *a, const double *stats, const void *g, void *gw, void *gb,
                            int64_t k)
{
    const int64_t c0 = k * STRIP, width = a->cols - c0 < STRIP ? a->cols - c0 : STRIP;
    if (a->dtype == NB_FLOAT32) norm_grad_strip_f32(a, stats, (const float *)g, (float *)gw, (float *)gb, c0, width);
    else norm_grad_strip_f64(a, stats, (const double *)g, (double *)gw, (double *)gb, c0, width);
}

void nbk_cpu_norm_backward(const nbk_norm_args *a, const double *stats, const void *g, void *gx, void *gw,
                           void *gb, int nthreads)
{
    if (gx && a->cols > 0) {
        const int64_t items = (a->rows + ROW_BLOCK - 1) / ROW_BLOCK;
        const int nt = threads_for(a, items, nthreads);
        if (nt == 1) {
            for (int64_t k = 0; k < items; k++) grad_rows_item(a, stats, g, gx, k);
        } else {
#pragma omp parallel for num_threads(nt) schedule(static)
            for (int64_t k = 0; k < items; k++) grad_rows_item(a, stats, g, gx, k);
        }
    }
    if (gw || gb) {
        const int64_t items = (a->cols + STRIP - 1) / STRIP;
        const int nt = threads_for(a, items, nthreads);
        if (nt == 1) {
            for (int64_t k = 0; k < items; k++) grad_strip_item(a, stats, g, gw, gb, k);
        } else {
#pragma omp parallel for num_threads(nt) schedule(static)
            for (int64_t k = 0; k < items; k++) grad_strip_item(a, stats, g, gw, gb, k);
        }
    }
}
