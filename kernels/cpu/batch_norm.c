/* batch_norm.c — CPU kernels of batch normalisation (kernels/batch_norm.h), forward and backward.
 *
 * The typed kernels are written once in batch_norm_typed.h and included below per floating
 * dtype. Both directions take a channel at a time (the forward in three passes over its
 * elements: the mean, the squared deviations, then y; the backward in two: the sums of g and
 * g xhat, then gx), summing in double in an order fixed by the shapes; the drivers split the
 * channels over threads. */
#include "batch_norm.h"

#include "math_f32.h"
#include "threads.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>

/* Independent partial sums of a run of s elements. */
#define LANES 8

#include "typed.h" /* TYPED(name): name_SFX */

#define T float
#define SFX f32
#include "batch_norm_typed.h"

#define T double
#define SFX f64
#include "batch_norm_typed.h"

static int threads_for(const nbk_batch_norm_args *a, int nthreads)
{
    return nbk_cpu_threads_for((double)a->n * (double)a->c * (double)a->s, NBK_CPU_UNIT_SOFTMAX, a->c, nthreads);
}

static void forward_channel(const nbk_batch_norm_args *a, void *y, double *stats, int64_t ch)
{
    if (a->dtype == NB_FLOAT32) bn_channel_f32(a, (float *)y, stats, ch);
    else bn_channel_f64(a, (double *)y, stats, ch);
}

void nbk_cpu_batch_norm_forward(const nbk_batch_norm_args *a, void *y, double *stats, int nthreads)
{
    if (a->n == 0 || a->s == 0) return; /* no elements: nothing to write, no statistics */
    const int nt = threads_for(a, nthreads);
    if (nt == 1) {
        for (int64_t ch = 0; ch < a->c; ch++) forward_channel(a, y, stats, ch);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t ch = 0; ch < a->c; ch++) forward_channel(a, y, stats, ch);
}

static void grad_channel(const nbk_batch_norm_args *a, const double *stats, const void *g, void *gx, void *gw,
                         void *gb, int64_t ch)
{
    if (a->dtype == NB_FLOAT32)
        bn_grad_channel_f32(a, stats, (const float *)g, (float *)gx, (float *)gw, (float *)gb, ch);
    else bn_grad_channel_f64(a, stats, (const double *)g, (double *)gx, (double *)gw, (double *)gb, ch);
}

void nbk_cpu_batch_norm_backward(const nbk_batch_norm_args *a, const double *stats, const void *g, void *gx,
                                 void *gw, void *gb, int nthreads)
{
    if (a->n == 0 || a->s == 0) {
        /* no elements: the weight's and bias's gradients are empty sums */
        for (int64_t ch = 0; ch < a->c; ch++) {
            if (a->dtype == NB_FLOAT32) {
                if (gw) ((float *)gw)[ch] = 0;
                if (gb) ((float *)gb)[ch] = 0;
            } else {
                if (gw) ((double *)gw)[ch] = 0;
                if (gb) ((double *)gb)[ch] = 0;
            }
        }
        return;
    }
    const int nt = threads_for(a, nthreads);
    if (nt == 1) {
        for (int64_t ch = 0; ch < a->c; ch++) grad_channel(a, stats, g, gx, gw, gb, ch);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t ch = 0; ch < a->c; ch++) grad_channel(a, stats, g, gx, gw, gb, ch);
}
