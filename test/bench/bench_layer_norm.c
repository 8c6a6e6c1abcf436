/* bench_layer_norm.c — nb_layer_norm forward (with weight and bias, no graph) on a (4096, 4096)
 * float32 tensor against the memory bandwidth of the same bytes moved in the same process: a
 * memcpy of 64 MB (read the input once, write the output once: a layer norm's traffic), and,
 * for reference, a read-only sum over the input on one thread. Prints the time and GB/s of each
 * (best of several repetitions after a warm-up), the time of the sum over that of the layer norm,
 * then the ratio layer_norm / memcpy bandwidth last. nb_layer_norm makes a new output each call,
 * so first-touch page faults of its 64 MB count, as for nb_add in bench_add.c. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 4096, COLS = 4096, WARMUP = 2, REPEATS = 10 };
static const double GOAL = 0.7;

int main(void)
{
    printf("%s\n", nb_config_string());
    const size_t bytes = (size_t)ROWS * COLS * sizeof(float);
    const double mb = bytes / 1e6;
    nb_tensor *x = nb_randn(NB_SHAPE(ROWS, COLS), NB_OPTS(NB_FLOAT32)); /* (ROWS, COLS) */
    nb_tensor *w = nb_rand(NB_SHAPE(COLS), NB_OPTS(NB_FLOAT32));        /* (COLS,) */
    nb_tensor *b = nb_rand(NB_SHAPE(COLS), NB_OPTS(NB_FLOAT32));        /* (COLS,) */
    float *src = malloc(bytes), *dst = malloc(bytes);
    if (!x || !w || !b || !src || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    for (size_t i = 0; i < (size_t)ROWS * COLS; i++) src[i] = (float)(i % 7);
    memset(dst, 2, bytes);

    double best_ln = INFINITY, best_copy = INFINITY, best_sum = INFINITY, sink = 0;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_tensor *y = nb_layer_norm(x, NB_SHAPE(COLS), w, b, 1e-5);
        double t1 = now_s();
        if (!y) {
            fprintf(stderr, "nb_layer_norm failed: %s\n", nb_last_error());
            return 1;
        }
        nb_release(y);
        double t2 = now_s();
        memcpy(dst, src, bytes);
        double t3 = now_s();
        float lanes[16] = {0};
        for (size_t i = 0; i < (size_t)ROWS * COLS; i += 16)
            for (int l = 0; l < 16; l++) lanes[l] += src[i + l];
        double t4 = now_s();
        for (int l = 0; l < 16; l++) sink += lanes[l];
        if (rep < WARMUP) continue;
        best_ln = fmin(best_ln, t1 - t0);
        best_copy = fmin(best_copy, t3 - t2);
        best_sum = fmin(best_sum, t4 - t3);
    }
    const double bw_ln = 2 * mb / best_ln / 1e3, bw_copy = 2 * mb / best_copy / 1e3, bw_sum = mb / best_sum / 1e3;
    printf("(%d, %d) float32 (%.0f MB), %d nabla threads, best of %d after %d warm-up (checksum %g)\n", ROWS, COLS,
           mb, nb_get_num_threads(), REPEATS, WARMUP, sink);
    printf("nb_layer_norm:       %7.2f ms  %6.1f GB/s (read + write %.0f MB)\n", best_ln * 1e3, bw_ln, mb);
    printf("memcpy:              %7.2f ms  %6.1f GB/s (read + write %.0f MB)\n", best_copy * 1e3, bw_copy, mb);
    printf("sum (read once):     %7.2f ms  %6.1f GB/s (read %.0f MB, one thread)\n", best_sum * 1e3, bw_sum, mb);
    printf("ratio (read-once sum time / layer_norm time): %.3f\n", best_sum / best_ln);
    printf("ratio (layer_norm / memcpy bandwidth): %.3f  goal >= %.2f\n", bw_ln / bw_copy, GOAL);
    nb_release(x);
    nb_release(w);
    nb_release(b);
    free(src);
    free(dst);
    return 0;
}
