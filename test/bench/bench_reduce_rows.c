/* bench_reduce_rows.c — row reductions of a (4096, 4096) float32 matrix (64 MB): nb_logsumexp
 * and nb_var along dim 1, against the bandwidth of reading the input once, measured in the same
 * process by a plain C sum loop over the same 64 MB (8 float lanes, which the compiler
 * vectorises, one thread; the ratio says how close each op comes to a single read of its
 * input). Best of several repetitions after a warm-up; the ratios come last, logsumexp's and
 * var's. nabla runs on its own threads (all cores for ops this large). */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { ROWS = 4096, COLS = 4096, WARMUP = 2, REPEATS = 10 };
static const double GOAL = 0.7;

/* The baseline: one read of n floats, summed in 8 lanes. */
static float read_once(const float *x, size_t n)
{
    float lane[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) lane[l] += x[i + l];
    float s = 0;
    for (int l = 0; l < 8; l++) s += lane[l];
    for (; i < n; i++) s += x[i];
    return s;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    nb_manual_seed(1);
    nb_tensor *x = nb_randn(NB_SHAPE(ROWS, COLS), NB_OPTS(NB_FLOAT32)); /* (ROWS, COLS) */
    float *host = malloc((size_t)ROWS * COLS * sizeof(float));           /* (ROWS, COLS) */
    if (!x || !host || nb_copy_to_array(x, host, (size_t)ROWS * COLS * sizeof(float)) != NB_OK) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    const double mb = (double)ROWS * COLS * sizeof(float) / 1e6;
    double best_lse = INFINITY, best_var = INFINITY, best_read = INFINITY;
    volatile float sink = 0;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_tensor *l = nb_logsumexp(x, NB_DIMS(1), false); /* (ROWS,) */
        double t1 = now_s();
        nb_tensor *v = nb_var(x, NB_DIMS(1), 1, false); /* (ROWS,) */
        double t2 = now_s();
        sink += read_once(host, (size_t)ROWS * COLS);
        double t3 = now_s();
        if (!l || !v) {
            fprintf(stderr, "failed: %s\n", nb_last_error());
            return 1;
        }
        nb_release(l);
        nb_release(v);
        if (rep < WARMUP) continue;
        best_lse = fmin(best_lse, t1 - t0);
        best_var = fmin(best_var, t2 - t1);
        best_read = fmin(best_read, t3 - t2);
    }
    const double bw_lse = mb / best_lse / 1e3, bw_var = mb / best_var / 1e3, bw_read = mb / best_read / 1e3;
    printf("(%d, %d) float32 (%.0f MB), %d nabla threads, best of %d after %d warm-up\n", ROWS, COLS, mb,
           nb_get_num_threads(), REPEATS, WARMUP);
    printf("nb_logsumexp(x, [1]):  %7.2f ms  %6.1f GB/s of input\n", best_lse * 1e3, bw_lse);
    printf("nb_var(x, [1]):        %7.2f ms  %6.1f GB/s of input\n", best_var * 1e3, bw_var);
    printf("plain sum loop:        %7.2f ms  %6.1f GB/s (one read, one thread)\n", best_read * 1e3, bw_read);
    printf("ratio (nabla var / one read): %.3f  goal >= %.2f\n", bw_var / bw_read, GOAL);
    printf("ratio (nabla logsumexp / one read): %.3f  goal >= %.2f\n", bw_lse / bw_read, GOAL);
    nb_release(x);
    free(host);
    return 0;
}
