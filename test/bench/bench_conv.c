/* bench_conv.c — nb_conv2d (3x3, padding 1, float32) forward and backward against raw bli_sgemm
 * at the equivalent GEMM shapes, measured in the same process with the same thread count.
 *
 * A convolution of x (N, C, H, W) by w (O, C, 3, 3) is the product of w as (O, C·9) with the
 * columns (C·9, N·H·W): 2·O·C·9·N·H·W flops. Its backward is two products of the same size, the
 * columns' gradient (C·9, O)·(O, N·H·W) and the weight's (O, N·H·W)·(N·H·W, C·9). The baseline
 * runs exactly those GEMMs on dense buffers, so the ratio is what the column passes, the batching,
 * the bias and the allocations cost on top of the arithmetic. Prints, per shape, best-of times and
 * GFLOP/s of both, and last the ratio of the totals (raw time / nabla time, forward and backward
 * over all shapes). It also measures the BLIS peak (a 1024^3 sgemm) and prints the share of it
 * that nabla's convolutions reach. */
#include <blis.h>
#include <nabla.h>
#include "bench.h"
#include "conv_shapes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { WARMUP = 1, REPEATS = 4 };

static float *filled(int64_t count)
{
    float *p = aligned_alloc(64, (size_t)((count * 4 + 63) / 64 * 64)); /* (count,) */
    if (p)
        for (int64_t i = 0; i < count; i++) p[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    return p;
}

/* C (m, n) = A (m, k) B (k, n), all row-major and dense. */
static void sgemm(int64_t m, int64_t n, int64_t k, float *a, float *b, float *c, rntm_t *rntm)
{
    float one = 1.0f, zero = 0.0f;
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one, a, k, 1, b, n, 1, &zero, c, n, 1, NULL, rntm);
}

/* The machine's BLIS peak as nabla measures it (kernels/cpu/blis_setup.c): a 1024^3 sgemm, best
 * of REPEATS after WARMUP, in GFLOP/s. */
static double blis_peak_gflops(rntm_t *rntm)
{
    enum { SIZE = 1024 };
    float *a = filled(SIZE * SIZE), *b = filled(SIZE * SIZE), *c = filled(SIZE * SIZE);
    double best = INFINITY;
    for (int rep = 0; a && b && c && rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        sgemm(SIZE, SIZE, SIZE, a, b, c, rntm);
        if (rep >= WARMUP) best = fmin(best, now_s() - t0);
    }
    free(a), free(b), free(c);
    return 2.0 * SIZE * SIZE * SIZE / best * 1e-9;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    const int nthreads = nb_get_num_threads();
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(nthreads, &rntm);
    nb_manual_seed(1);
    double total_nabla = 0, total_raw = 0, total_flops = 0;
    const double peak = blis_peak_gflops(&rntm);
    printf("BLIS peak (1024^3 sgemm, %d threads): %.1f GFLOP/s\n", nthreads, peak);
    printf("float32, 3x3 kernels, padding 1, %d threads, best of %d after %d warm-up\n", nthreads, REPEATS, WARMUP);
    for (size_t s = 0; s < CONV_SHAPE_COUNT; s++) {
        const conv_shape *c = &conv_shapes[s];
        const int64_t k = c->c * 9, cols = c->n * c->h * c->w;
        const double flops = 2.0 * (double)c->o * (double)k * (double)cols;
        nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(c->n, c->c, c->h, c->w), NB_OPTS(NB_FLOAT32)), true);
        nb_tensor *w = nb_requires_grad_(nb_mul_scalar_(nb_randn(NB_SHAPE(c->o, c->c, 3, 3), NB_OPTS(NB_FLOAT32)), 0.1),
                                         true);
        nb_tensor *b = nb_requires_grad_(nb_zeros(NB_SHAPE(c->o), NB_OPTS(NB_FLOAT32)), true);
        nb_tensor *gy = nb_ones(NB_SHAPE(c->n, c->o, c->h, c->w), NB_OPTS(NB_FLOAT32));
        float *wm = filled(c->o * k), *colm = filled(k * cols), *ym = filled(c->o * cols); /* (O, K) (K, L) (O, L) */
        float *wt = filled(k * c->o), *gcol = filled(k * cols), *colt = filled(cols * k), *gw = filled(c->o * k);
        if (!x || !w || !b || !gy || !wm || !colm || !ym || !wt || !gcol || !colt || !gw) {
            fprintf(stderr, "setup failed: %s\n", nb_last_error());
            return 1;
        }
        nb_conv2d_options o = NB_CONV2D_DEFAULTS;
        o.padding[0] = o.padding[1] = 1;
        double fwd = INFINITY, bwd = INFINITY, raw_fwd = INFINITY, raw_bwd = INFINITY;
        for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
            nb_scope_begin();
            double t0 = now_s();
            nb_tensor *y = nb_conv2d(x, w, b, &o);
            double t1 = now_s();
            nb_tensor *grads[3] = {NULL};
            nb_status st = y ? nb_grad_of(1, &y, &gy, 3, (nb_tensor *const[]){x, w, b}, grads, false) : NB_ERR_ARGUMENT;
            double t2 = now_s();
            if (st != NB_OK) {
                fprintf(stderr, "nb_conv2d failed: %s\n", nb_last_error());
                return 1;
            }
            nb_scope_end();
            double t3 = now_s();
            sgemm(c->o, cols, k, wm, colm, ym, &rntm); /* the forward product */
            double t4 = now_s();
            sgemm(k, cols, c->o, wt, ym, gcol, &rntm); /* the columns' gradient */
            sgemm(c->o, k, cols, ym, colt, gw, &rntm); /* the weight's */
            double t5 = now_s();
            if (rep < WARMUP) continue;
            fwd = fmin(fwd, t1 - t0), bwd = fmin(bwd, t2 - t1);
            raw_fwd = fmin(raw_fwd, t4 - t3), raw_bwd = fmin(raw_bwd, t5 - t4);
        }
        printf("%s: %.2f GFLOP forward\n", c->what, flops * 1e-9);
        printf("  nabla forward  %8.2f ms %7.1f GFLOP/s   raw sgemm %8.2f ms %7.1f GFLOP/s   ratio %.3f\n", fwd * 1e3,
               flops / fwd * 1e-9, raw_fwd * 1e3, flops / raw_fwd * 1e-9, raw_fwd / fwd);
        printf("  nabla backward %8.2f ms %7.1f GFLOP/s   raw sgemm %8.2f ms %7.1f GFLOP/s   ratio %.3f\n", bwd * 1e3,
               2 * flops / bwd * 1e-9, raw_bwd * 1e3, 2 * flops / raw_bwd * 1e-9, raw_bwd / bwd);
        total_nabla += fwd + bwd, total_raw += raw_fwd + raw_bwd, total_flops += 3 * flops;
        nb_release(x), nb_release(w), nb_release(b), nb_release(gy);
        free(wm), free(colm), free(ym), free(wt), free(gcol), free(colt), free(gw);
    }
    printf("nabla's convolutions, forward and backward, all shapes: %.1f GFLOP/s, %.0f%% of the BLIS peak\n",
           total_flops / total_nabla * 1e-9, 100.0 * total_flops / total_nabla * 1e-9 / peak);
    printf("ratio (nabla/raw sgemm GFLOP/s, forward and backward, all shapes): %.3f\n", total_raw / total_nabla);
    return 0;
}
