/* softmax.c — CPU kernels of softmax, log_softmax and cross entropy (forward and backward).
 *
 * Each typed kernel is written once as plain C over the element type T and its exp, in
 * softmax_typed.h, which is included below once per floating dtype: float32 uses exp_f32 (math_f32.h),
 * plain arithmetic that the compiler vectorises (the exps are most of the work); float64 uses
 * the C library's exp. Sums and the log-sum-exp shift are kept in double, with LANES independent
 * partial sums so the additions vectorise and do not wait on each other. A row is done in passes
 * (maximum, shifted values, exp in place, sum, scale), each a simple loop the compiler
 * vectorises. The drivers at the end split large work over threads. Layouts are described in
 * softmax.h. */
#include "softmax.h"

#include "math_f32.h"
#include "threads.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Columns swept together when the softmax dim is not the last: their running maxima and sums
 * stay on the stack while the rows of the block stream past. */
#define STRIP 256
/* Rows per fixed block of cross entropy's mean: blocks are summed in order, so the result does
 * not depend on the thread count. */
#define XENT_BLOCK 256
/* Independent partial results of a row's maximum and sums. */
#define LANES 8
/* Short rows are handled in groups of up to GROUP_ROWS rows and GROUP_ELEMENTS elements (in L1):
 * each pass (shift by the row maximum, exp, sum) runs over the whole group, so the exps
 * vectorise however short the rows are (ten classes, say). */
#define GROUP_ROWS 64
#define GROUP_ELEMENTS 4096

/* ---------------------------------------------------------------- exp for float32: math_f32.h */

/* Rows per group for rows of n elements. */
static int64_t group_rows(int64_t n)
{
    int64_t g = n > 0 ? GROUP_ELEMENTS / n : GROUP_ROWS;
    return g < 1 ? 1 : (g > GROUP_ROWS ? GROUP_ROWS : g);
}

/* ---------------------------------------------------------------- typed kernels */

/* softmax_typed.h is included once per dtype, with T the element type, SFX its name suffix and
 * EXP its exp. TYPED(name) is name_SFX, so each dtype's functions get their own names
 * (softmax_rows_f32). */
#include "typed.h" /* TYPED(name): name_SFX */

#define T float
#define SFX f32
#define EXP exp_f32
#include "softmax_typed.h"

#define T double
#define SFX f64
#define EXP exp
#include "softmax_typed.h"

/* ---------------------------------------------------------------- drivers */

static int threads_for(int64_t elements, int64_t items, int nthreads)
{
    return nbk_cpu_threads_for((double)elements, NBK_CPU_UNIT_SOFTMAX, items, nthreads);
}

/* Work items of a softmax: groups of rows (inner == 1), or strips of columns of each outer
 * block. Item k starts at element *off and covers *count rows (or *count columns). */
static int64_t per_block(const nbk_softmax_shape *s)
{
    return s->inner == 1 ? group_rows(s->n) : STRIP;
}

static int64_t softmax_items(const nbk_softmax_shape *s)
{
    const int64_t per = per_block(s);
    return s->inner == 1 ? (s->outer + per - 1) / per : s->outer * ((s->inner + per - 1) / per);
}

static void item_at(const nbk_softmax_shape *s, int64_t k, int64_t *off, int64_t *count)
{
    const int64_t per = per_block(s);
    if (s->inner == 1) {
        int64_t r0 = k * per;
        *off = r0 * s->n;
        *count = s->outer - r0 < per ? s->outer - r0 : per;
        return;
    }
    int64_t strips = (s->inner + per - 1) / per, o = k / strips, c0 = (k % strips) * per;
    *off = o * s->n * s->inner + c0;
    *count = s->inner - c0 < per ? s->inner - c0 : per;
}

static void softmax_item(const nbk_softmax_shape *s, bool take_log, const void *in, void *out, int64_t k)
{
    int64_t off, count;
    item_at(s, k, &off, &count);
    if (s->dtype == NB_FLOAT32) {
        const float *x = (const float *)in + off;
        float *y = (float *)out + off;
        if (s->inner == 1) softmax_rows_f32(x, y, count, s->n, take_log);
        else softmax_strip_f32(x, y, s->n, s->inner, count, take_log);
    } else {
        const double *x = (const double *)in + off;
        double *y = (double *)out + off;
        if (s->inner == 1) softmax_rows_f64(x, y, count, s->n, take_log);
        else softmax_strip_f64(x, y, s->n, s->inner, count, take_log);
    }
}

static void softmax_backward_item(const nbk_softmax_shape *s, bool take_log, const void *y,
                                  const void *g, void *gi, int64_t k)
{
    int64_t off, count;
    item_at(s, k, &off, &count);
    if (s->dtype == NB_FLOAT32) {
        const float *yy = (const float *)y + off, *gg = (const float *)g + off;
        float *out = (float *)gi + off;
        if (s->inner == 1) softmax_backward_rows_f32(yy, gg, out, count, s->n, take_log);
        else softmax_backward_strip_f32(yy, gg, out, s->n, s->inner, count, take_log);
    } else {
        const double *yy = (const double *)y + off, *gg = (const double *)g + off;
        double *out = (double *)gi + off;
        if (s->inner == 1) softmax_backward_rows_f64(yy, gg, out, count, s->n, take_log);
        else softmax_backward_strip_f64(yy, gg, out, s->n, s->inner, count, take_log);
    }
}

void nbk_cpu_softmax(const nbk_softmax_shape *s, bool take_log, const void *in, void *out, int nthreads)
{
    const int64_t items = softmax_items(s);
    if (items == 0 || s->n == 0) return;
    const int nt = threads_for(s->outer * s->n * s->inner, items, nthreads);
    if (nt == 1) {
        for (int64_t k = 0; k < items; k++) softmax_item(s, take_log, in, out, k);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t k = 0; k < items; k++) softmax_item(s, take_log, in, out, k);
}

void nbk_cpu_softmax_backward(const nbk_softmax_shape *s, bool take_log, const void *y, const void *g,
                             void *gi, int nthreads)
{
    const int64_t items = softmax_items(s);
    if (items == 0 || s->n == 0) return;
    const int nt = threads_for(s->outer * s->n * s->inner, items, nthreads);
    if (nt == 1) {
        for (int64_t k = 0; k < items; k++) softmax_backward_item(s, take_log, y, g, gi, k);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t k = 0; k < items; k++) softmax_backward_item(s, take_log, y, g, gi, k);
}

int64_t nbk_cpu_xent_check_labels(const nbk_xent_args *a)
{
    for (int64_t i = 0; i < a->rows; i++) {
        int64_t label = a->labels[i * a->label_stride];
        if ((label < 0 || label >= a->classes) && !nbk_xent_ignored(a, label)) return i;
    }
    return -1;
}

static double xent_block(const nbk_xent_args *a, int64_t b)
{
    int64_t begin = b * XENT_BLOCK, end = begin + XENT_BLOCK < a->rows ? begin + XENT_BLOCK : a->rows;
    return a->dtype == NB_FLOAT32 ? xent_rows_f32(a, begin, end) : xent_rows_f64(a, begin, end);
}

double nbk_cpu_xent_forward(const nbk_xent_args *a, int nthreads)
{
    const int64_t blocks = (a->rows + XENT_BLOCK - 1) / XENT_BLOCK;
    const int nt = threads_for(a->rows * a->classes, blocks, nthreads);
    double *partial = nt > 1 ? malloc((size_t)blocks * sizeof *partial) : NULL; /* (blocks,) */
    double total = 0;
    if (!partial) { /* one thread (or no memory for the partials): the same sums in the same order */
        for (int64_t b = 0; b < blocks; b++) total += xent_block(a, b);
    } else {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t b = 0; b < blocks; b++) partial[b] = xent_block(a, b);
        for (int64_t b = 0; b < blocks; b++) total += partial[b];
        free(partial);
    }
    return total / (double)a->rows;
}

static void xent_grad_block(const nbk_xent_args *a, double scale, void *grad, int64_t b)
{
    int64_t begin = b * XENT_BLOCK, end = begin + XENT_BLOCK < a->rows ? begin + XENT_BLOCK : a->rows;
    if (a->dtype == NB_FLOAT32) xent_grad_rows_f32(a, scale, grad, begin, end);
    else xent_grad_rows_f64(a, scale, grad, begin, end);
}

void nbk_cpu_xent_backward(const nbk_xent_args *a, double scale, void *grad, int nthreads)
{
    const int64_t blocks = (a->rows + XENT_BLOCK - 1) / XENT_BLOCK;
    const int nt = threads_for(a->rows * a->classes, blocks, nthreads);
    if (nt == 1) {
        for (int64_t b = 0; b < blocks; b++) xent_grad_block(a, scale, grad, b);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < blocks; b++) xent_grad_block(a, scale, grad, b);
}

/* ---------------------------------------------------------------- cross entropy with options */

static double class_weight_sum(const nbk_xent_args *a)
{
    if (!a->class_weight) return (double)a->classes;
    double W = 0;
    for (int64_t c = 0; c < a->classes; c++)
        W += a->dtype == NB_FLOAT32 ? (double)((const float *)a->class_weight)[c] : ((const double *)a->class_weight)[c];
    return W;
}

static double xent_ext_block(const nbk_xent_args *a, double W, int64_t b, void *each, double *wsum)
{
    int64_t begin = b * XENT_BLOCK, end = begin + XENT_BLOCK < a->rows ? begin + XENT_BLOCK : a->rows;
    return a->dtype == NB_FLOAT32 ? xent_ext_rows_f32(a, W, begin, end, (float *)each, wsum)
                                  : xent_ext_rows_f64(a, W, begin, end, (double *)each, wsum);
}

/* The sums over blocks of the losses and of the label weights, blocks added in order */
static double xent_ext_sums(const nbk_xent_args *a, double W, void *each, double *weight_sum, int nthreads)
{
    const int64_t blocks = (a->rows + XENT_BLOCK - 1) / XENT_BLOCK;
    const int nt = threads_for(a->rows * a->classes, blocks, nthreads);
    double *partial = nt > 1 ? malloc((size_t)blocks * 2 * sizeof *partial) : NULL; /* (2, blocks) */
    double total = 0, wsum = 0;
    if (!partial) {
        for (int64_t b = 0; b < blocks; b++) {
            double w;
            total += xent_ext_block(a, W, b, each, &w);
            wsum += w;
        }
    } else {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t b = 0; b < blocks; b++) partial[b] = xent_ext_block(a, W, b, each, &partial[blocks + b]);
        for (int64_t b = 0; b < blocks; b++) total += partial[b], wsum += partial[blocks + b];
        free(partial);
    }
    *weight_sum = wsum;
    return total;
}

void nbk_cpu_xent_ext_forward(const nbk_xent_args *a, void *loss, int nthreads)
{
    double wsum;
    const bool none = a->reduction == 2;
    const double total = xent_ext_sums(a, class_weight_sum(a), none ? loss : NULL, &wsum, nthreads);
    if (none) return;
    const double value = a->reduction == 0 ? total / wsum : total;
    if (a->dtype == NB_FLOAT32) *(float *)loss = (float)value;
    else *(double *)loss = value;
}

static void xent_ext_grad_block(const nbk_xent_args *a, double W, double s, const void *g_rows, void *grad, int64_t b)
{
    int64_t begin = b * XENT_BLOCK, end = begin + XENT_BLOCK < a->rows ? begin + XENT_BLOCK : a->rows;
    if (a->dtype == NB_FLOAT32) xent_ext_grad_rows_f32(a, W, s, (const float *)g_rows, (float *)grad, begin, end);
    else xent_ext_grad_rows_f64(a, W, s, (const double *)g_rows, (double *)grad, begin, end);
}

void nbk_cpu_xent_ext_backward(const nbk_xent_args *a, const void *g, void *grad, int nthreads)
{
    const double W = class_weight_sum(a);
    const bool none = a->reduction == 2;
    double s = 0;
    if (!none) {
        s = a->dtype == NB_FLOAT32 ? (double)*(const float *)g : *(const double *)g;
        if (a->reduction == 0) { /* the mean's divisor: the weights of the rows not ignored */
            double wsum = 0;
            for (int64_t i = 0; i < a->rows; i++) {
                const int64_t label = a->labels[i * a->label_stride];
                if (!nbk_xent_ignored(a, label) && label >= 0 && label < a->classes)
                    wsum += a->dtype == NB_FLOAT32 ? (a->class_weight ? (double)((const float *)a->class_weight)[label] : 1.0)
                                                   : (a->class_weight ? ((const double *)a->class_weight)[label] : 1.0);
            }
            s /= wsum;
        }
    }
    const int64_t blocks = (a->rows + XENT_BLOCK - 1) / XENT_BLOCK;
    const int nt = threads_for(a->rows * a->classes, blocks, nthreads);
    if (nt == 1) {
        for (int64_t b = 0; b < blocks; b++) xent_ext_grad_block(a, W, s, none ? g : NULL, grad, b);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < blocks; b++) xent_ext_grad_block(a, W, s, none ? g : NULL, grad, b);
}
