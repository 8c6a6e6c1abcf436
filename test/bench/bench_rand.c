/* bench_rand.c — how fast nabla's generator fills memory on the CPU: nb_uniform_ and nb_normal_ in
 * place into a preallocated 16M-float tensor, and nb_dropout of one (a new mask and result),
 * against memset of the same 64 MB. Every element costs one Philox4x32-10 call (a pair of normal
 * values shares one), so the generator, not memory, sets the pace on few cores. Prints the fill
 * rate of each (GB/s of values written; dropout also reads x and writes its mask), best of several
 * repetitions after a warm-up, then the ratio of nb_uniform_'s rate to memset's, last. */
#include <nabla.h>
#include <nabla/nn.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NUMEL = 16 << 20, WARMUP = 2, REPEATS = 8 };

int main(void)
{
    printf("%s\n", nb_config_string());
    const double mb = NUMEL * sizeof(float) / 1e6; /* one tensor, in MB */
    nb_tensor *t = nb_zeros(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT32)); /* (NUMEL,) target */
    nb_tensor *x = nb_ones(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT32));  /* (NUMEL,) dropout input */
    char *dst = malloc((size_t)NUMEL * sizeof(float));
    if (!t || !x || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    memset(dst, 1, (size_t)NUMEL * sizeof(float));
    nb_manual_seed(1);
    double best_uniform = INFINITY, best_normal = INFINITY, best_dropout = INFINITY, best_memset = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_tensor *u = nb_uniform_(t, -1, 1);
        double t1 = now_s();
        nb_tensor *n = nb_normal_(t, 0, 1);
        double t2 = now_s();
        nb_tensor *d = nb_dropout(x, 0.1, true);
        double t3 = now_s();
        nb_release(d);
        double t4 = now_s();
        memset(dst, rep & 0xff, (size_t)NUMEL * sizeof(float));
        double t5 = now_s();
        if (!u || !n || !d) {
            fprintf(stderr, "a draw failed: %s\n", nb_last_error());
            return 1;
        }
        if (rep < WARMUP) continue;
        best_uniform = fmin(best_uniform, t1 - t0);
        best_normal = fmin(best_normal, t2 - t1);
        best_dropout = fmin(best_dropout, t3 - t2);
        best_memset = fmin(best_memset, t5 - t4);
    }
    const double gb = mb / 1e3;
    printf("%d floats (%.0f MB per tensor), %d nabla threads, best of %d after %d warm-up\n", NUMEL, mb,
           nb_get_num_threads(), REPEATS, WARMUP);
    printf("nb_uniform_ (in place):  %7.2f ms  %6.2f GB/s written  %6.0f M values/s\n", best_uniform * 1e3,
           gb / best_uniform, NUMEL / best_uniform / 1e6);
    printf("nb_normal_ (in place):   %7.2f ms  %6.2f GB/s written  %6.0f M values/s\n", best_normal * 1e3,
           gb / best_normal, NUMEL / best_normal / 1e6);
    printf("nb_dropout (p = 0.1):    %7.2f ms  %6.0f M elements/s (mask, then x * mask)\n", best_dropout * 1e3,
           NUMEL / best_dropout / 1e6);
    printf("memset:                  %7.2f ms  %6.2f GB/s written\n", best_memset * 1e3, gb / best_memset);
    printf("ratio (nb_uniform_ / memset fill rate): %.3f\n", best_memset / best_uniform);
    nb_release(t);
    nb_release(x);
    free(dst);
    return 0;
}
