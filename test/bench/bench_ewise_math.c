/* bench_ewise_math.c — the bandwidth of the new elementwise ops (gelu exact and tanh, silu, erf,
 * sin, softplus) on a 16M-float tensor (64 MB) against memcpy of the same 64 MB. Each op reads 64
 * MB and writes 64 MB, as memcpy does, so the ratio of bandwidths is memcpy's time over the op's.
 * The ops return a new tensor each call (its block comes back warm from nabla's CPU block cache);
 * they run on nabla's threads, memcpy on glibc's one. Best of several repetitions after a warm-up,
 * taking turns; the ratio of the slowest op is printed last. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NUMEL = 16 << 20, WARMUP = 2, REPEATS = 10 };
static const double GOAL = 0.8;

static nb_tensor *gelu_exact(const nb_tensor *x) { return nb_gelu(x, false); }
static nb_tensor *gelu_tanh(const nb_tensor *x) { return nb_gelu(x, true); }
static nb_tensor *softplus(const nb_tensor *x) { return nb_softplus(x, 1.0, 20.0); }

static const struct {
    const char *name;
    nb_tensor *(*fn)(const nb_tensor *);
} ops[] = {
    {"gelu", gelu_exact}, {"gelu (tanh)", gelu_tanh}, {"silu", nb_silu},
    {"erf", nb_erf},      {"sin", nb_sin},            {"softplus", softplus},
};
#define NOPS (int)(sizeof ops / sizeof ops[0])

int main(void)
{
    printf("%s\n", nb_config_string());
    const double mb = NUMEL * sizeof(float) / 1e6; /* one tensor, in MB */
    nb_manual_seed(5);
    nb_tensor *x = nb_mul_scalar(nb_randn(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT32)), 3.0); /* (NUMEL,) */
    char *src = malloc((size_t)NUMEL * sizeof(float)), *dst = malloc((size_t)NUMEL * sizeof(float));
    if (!x || !src || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    memset(src, 1, (size_t)NUMEL * sizeof(float));
    memset(dst, 2, (size_t)NUMEL * sizeof(float));

    double best[NOPS], best_copy = INFINITY;
    for (int k = 0; k < NOPS; k++) best[k] = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        for (int k = 0; k < NOPS; k++) {
            double t0 = now_s();
            nb_tensor *y = ops[k].fn(x);
            double t1 = now_s();
            if (!y) {
                fprintf(stderr, "%s failed: %s\n", ops[k].name, nb_last_error());
                return 1;
            }
            nb_release(y);
            if (rep >= WARMUP) best[k] = fmin(best[k], t1 - t0);
        }
        double t0 = now_s();
        memcpy(dst, src, (size_t)NUMEL * sizeof(float));
        double t1 = now_s();
        if (rep >= WARMUP) best_copy = fmin(best_copy, t1 - t0);
    }
    const double bw_copy = 2 * mb / best_copy / 1e3;
    printf("%d floats (%.0f MB per tensor), %d nabla threads, best of %d after %d warm-up\n", NUMEL, mb,
           nb_get_num_threads(), REPEATS, WARMUP);
    printf("memcpy:        %7.2f ms  %6.1f GB/s (2 x %.0f MB)\n", best_copy * 1e3, bw_copy, mb);
    double worst = INFINITY;
    const char *worst_name = "";
    for (int k = 0; k < NOPS; k++) {
        const double bw = 2 * mb / best[k] / 1e3;
        printf("%-13s  %7.2f ms  %6.1f GB/s  ratio %.3f\n", ops[k].name, best[k] * 1e3, bw, bw / bw_copy);
        if (bw / bw_copy < worst) worst = bw / bw_copy, worst_name = ops[k].name;
    }
    printf("ratio (slowest new op, %s, / memcpy bandwidth): %.3f  goal >= %.2f\n", worst_name, worst, GOAL);
    nb_release(x);
    free(src);
    free(dst);
    return 0;
}
