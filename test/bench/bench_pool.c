/* bench_pool.c — nb_max_pool2d 2x2 forward and backward (through autograd: the forward with its
 * indices, then MaxPool2DWithIndicesBackward) on a (128, 32, 28, 28) float32 input against a
 * memcpy of the input's bytes in the same process. Prints the time of each (best of several
 * repetitions after a warm-up), then the ratio (forward + backward time) / memcpy time last. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 128, C = 32, H = 28, W = 28, WARMUP = 2, REPEATS = 10 };

int main(void)
{
    printf("%s\n", nb_config_string());
    const size_t count = (size_t)N * C * H * W, bytes = count * sizeof(float);
    nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(N, C, H, W), NB_OPTS(NB_FLOAT32)), true); /* (N, C, H, W) */
    float *src = malloc(bytes), *dst = malloc(bytes);
    if (!x || !src || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    for (size_t i = 0; i < count; i++) src[i] = (float)(i % 7);
    memset(dst, 2, bytes);
    const nb_max_pool2d_options o = NB_MAX_POOL2D_OPTIONS(2, 2);

    double best_fwd = INFINITY, best_bwd = INFINITY, best_copy = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        nb_scope_begin();
        double t0 = now_s();
        nb_tensor *y = nb_max_pool2d(x, &o);                 /* (N, C, H/2, W/2) */
        double t1 = now_s();
        nb_tensor *gy = nb_ones_like(y), *gx = NULL;
        double t2 = now_s();
        nb_status st = nb_grad_of(1, &y, &gy, 1, &x, &gx, false); /* gx (N, C, H, W) */
        double t3 = now_s();
        if (!y || st != NB_OK || nb_scope_end() != NB_OK) {
            fprintf(stderr, "max_pool2d failed: %s\n", nb_last_error());
            return 1;
        }
        double t4 = now_s();
        memcpy(dst, src, bytes);
        double t5 = now_s();
        if (rep < WARMUP) continue;
        best_fwd = fmin(best_fwd, t1 - t0);
        best_bwd = fmin(best_bwd, t3 - t2);
        best_copy = fmin(best_copy, t5 - t4);
    }
    printf("(%d, %d, %d, %d) float32 (%.1f MB), 2x2 max pool, %d nabla threads, best of %d after %d warm-up\n", N, C,
           H, W, bytes / 1e6, nb_get_num_threads(), REPEATS, WARMUP);
    printf("nb_max_pool2d forward:   %7.3f ms\n", best_fwd * 1e3);
    printf("backward (autograd):     %7.3f ms\n", best_bwd * 1e3);
    printf("memcpy of the input:     %7.3f ms  %6.1f GB/s (read + write)\n", best_copy * 1e3,
           2 * bytes / best_copy / 1e9);
    printf("ratio ((forward + backward) / memcpy time): %.2f\n", (best_fwd + best_bwd) / best_copy);
    nb_release(x);
    free(src);
    free(dst);
    return 0;
}
