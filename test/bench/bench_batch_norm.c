/* bench_batch_norm.c — nb_batch_norm in training (weight and bias, running statistics, no graph)
 * on a (32, 64, 56, 56) float32 input, and its backward through the autograd node, against the
 * memory bandwidth of the same bytes moved in the same process: a memcpy of the input (read once,
 * write once: the least traffic a batch norm forward can have; it reads x three times). Prints
 * the time and GB/s of each (best of several repetitions after a warm-up), then the ratio
 * batch_norm forward / memcpy bandwidth last. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 32, C = 64, H = 56, W = 56, WARMUP = 2, REPEATS = 8 };

int main(void)
{
    printf("%s\n", nb_config_string());
    const size_t count = (size_t)N * C * H * W, bytes = count * sizeof(float);
    const double mb = bytes / 1e6;
    nb_tensor *x = nb_randn(NB_SHAPE(N, C, H, W), NB_OPTS(NB_FLOAT32));  /* (N, C, H, W) */
    nb_tensor *xg = nb_requires_grad_(nb_detach(x), true);                  /* the same, a leaf */
    nb_tensor *gy = nb_randn(NB_SHAPE(N, C, H, W), NB_OPTS(NB_FLOAT32));   /* (N, C, H, W) */
    nb_tensor *w = nb_rand(NB_SHAPE(C), NB_OPTS(NB_FLOAT32));              /* (C,) */
    nb_tensor *b = nb_rand(NB_SHAPE(C), NB_OPTS(NB_FLOAT32));              /* (C,) */
    nb_tensor *rm = nb_zeros(NB_SHAPE(C), NB_OPTS(NB_FLOAT32)), *rv = nb_ones(NB_SHAPE(C), NB_OPTS(NB_FLOAT32));
    float *src = malloc(bytes), *dst = malloc(bytes);
    if (!x || !xg || !gy || !w || !b || !rm || !rv || !src || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    for (size_t i = 0; i < count; i++) src[i] = (float)(i % 7);
    memset(dst, 2, bytes);

    double best_fwd = INFINITY, best_bwd = INFINITY, best_copy = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_tensor *y = nb_batch_norm(x, rm, rv, w, b, true, 0.1, 1e-5);
        double t1 = now_s();
        nb_tensor *yg = nb_batch_norm(xg, rm, rv, w, b, true, 0.1, 1e-5);
        nb_tensor *gx = NULL;
        double t2 = now_s();
        nb_status st = yg ? nb_grad_of(1, &yg, &gy, 1, &xg, &gx, false) : NB_ERR_ARGUMENT;
        double t3 = now_s();
        if (!y || st != NB_OK) {
            fprintf(stderr, "nb_batch_norm failed: %s\n", nb_last_error());
            return 1;
        }
        nb_release(y);
        nb_release(yg);
        nb_release(gx);
        double t4 = now_s();
        memcpy(dst, src, bytes);
        double t5 = now_s();
        if (rep < WARMUP) continue;
        best_fwd = fmin(best_fwd, t1 - t0);
        best_bwd = fmin(best_bwd, t3 - t2);
        best_copy = fmin(best_copy, t5 - t4);
    }
    const double bw_fwd = 2 * mb / best_fwd / 1e3, bw_copy = 2 * mb / best_copy / 1e3;
    printf("(%d, %d, %d, %d) float32 (%.0f MB), %d nabla threads, best of %d after %d warm-up (checksum %g)\n", N, C,
           H, W, mb, nb_get_num_threads(), REPEATS, WARMUP, (double)dst[count - 1]);
    printf("nb_batch_norm forward:  %7.2f ms  %6.1f GB/s (read + write %.0f MB)\n", best_fwd * 1e3, bw_fwd, mb);
    printf("nb_batch_norm backward: %7.2f ms  (gx only: reads x and g, writes gx)\n", best_bwd * 1e3);
    printf("memcpy:                 %7.2f ms  %6.1f GB/s (read + write %.0f MB)\n", best_copy * 1e3, bw_copy, mb);
    printf("ratio (backward / forward time): %.3f\n", best_bwd / best_fwd);
    printf("ratio (batch_norm forward / memcpy bandwidth): %.3f\n", bw_fwd / bw_copy);
    nb_release(x);
    nb_release(xg);
    nb_release(gy);
    nb_release(w);
    nb_release(b);
    nb_release(rm);
    nb_release(rv);
    free(src);
    free(dst);
    return 0;
}
