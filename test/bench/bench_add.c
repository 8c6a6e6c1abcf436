/* bench_add.c — the bandwidth of nb_add on two 16M-float tensors (64 MB each) against memcpy of
 * 64 MB. Bytes moved: 3 x 64 MB for an add (read a, read b, write the result), 2 x 64 MB for a
 * memcpy (read, write) into a destination written beforehand. Prints GB/s of each, best of
 * several repetitions after a warm-up:
 *   nb_add        a new result each call: its 64 MB are fresh pages from the kernel (glibc maps
 *                 blocks this large and unmaps them on free), so first-touch page faults count;
 *   nb_add_       in place into a preallocated tensor: the loop alone;
 * then the ratio of each against memcpy, nb_add's last. nb_add runs on nabla's threads (all
 * cores for an op this large); memcpy is glibc's, on one thread. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NUMEL = 16 << 20, WARMUP = 2, REPEATS = 10 };
static const double GOAL = 0.7;

int main(void)
{
    printf("%s\n", nb_config_string());
    const double mb = NUMEL * sizeof(float) / 1e6; /* one tensor, in MB */
    nb_tensor *a = nb_rand(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT32));   /* (NUMEL,) */
    nb_tensor *b = nb_rand(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT32));   /* (NUMEL,) */
    nb_tensor *acc = nb_zeros(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT32)); /* (NUMEL,) in-place target */
    char *src = malloc((size_t)NUMEL * sizeof(float)), *dst = malloc((size_t)NUMEL * sizeof(float));
    if (!a || !b || !acc || !src || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    memset(src, 1, (size_t)NUMEL * sizeof(float));
    memset(dst, 2, (size_t)NUMEL * sizeof(float));

    double best_add = INFINITY, best_inplace = INFINITY, best_copy = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_tensor *c = nb_add(a, b);
        double t1 = now_s();
        nb_release(c);
        double t2 = now_s();
        nb_tensor *r = nb_add_(acc, b);
        double t3 = now_s();
        memcpy(dst, src, (size_t)NUMEL * sizeof(float));
        double t4 = now_s();
        if (!c || !r) {
            fprintf(stderr, "nb_add failed: %s\n", nb_last_error());
            return 1;
        }
        if (rep < WARMUP) continue;
        best_add = fmin(best_add, t1 - t0);
        best_inplace = fmin(best_inplace, t3 - t2);
        best_copy = fmin(best_copy, t4 - t3);
    }
    double bw_add = 3 * mb / best_add / 1e3, bw_inplace = 3 * mb / best_inplace / 1e3;
    double bw_copy = 2 * mb / best_copy / 1e3;
    printf("%d floats (%.0f MB per tensor), %d nabla threads, best of %d after %d warm-up\n", NUMEL, mb,
           nb_get_num_threads(), REPEATS, WARMUP);
    printf("nb_add (new result):     %7.2f ms  %6.1f GB/s (3 x %.0f MB)\n", best_add * 1e3, bw_add, mb);
    printf("nb_add_ (in place):      %7.2f ms  %6.1f GB/s (3 x %.0f MB)\n", best_inplace * 1e3, bw_inplace, mb);
    printf("memcpy:                  %7.2f ms  %6.1f GB/s (2 x %.0f MB)\n", best_copy * 1e3, bw_copy, mb);
    printf("ratio (nabla add_ in place / memcpy bandwidth): %.3f  goal >= %.2f\n", bw_inplace / bw_copy, GOAL);
    printf("ratio (nabla add / memcpy bandwidth): %.3f  goal >= %.2f\n", bw_add / bw_copy, GOAL);
    nb_release(a);
    nb_release(b);
    nb_release(acc);
    free(src);
    free(dst);
    return 0;
}
