/* bench_half.c — the bandwidth of the float16 and bfloat16 conversions on the CPU: 16M float32
 * values converted into a preallocated half tensor (nb_copy_, reading 4 and writing 2 bytes a
 * value) and back into a preallocated float32 one (reading 2, writing 4), against memcpy of the
 * same 96 MB (64 MB read, 32 MB written: a memcpy of 64 MB moves 128 MB, so it is scaled to the
 * conversion's bytes by bandwidth). Prints GB/s of each, best of several repetitions after a
 * warm-up, then each ratio against memcpy, the float16 -> float32 one last. The conversions run on
 * nabla's threads (all cores for tensors this large); memcpy is glibc's, on one thread. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NUMEL = 16 << 20, WARMUP = 2, REPEATS = 10 };

/* seconds for the best of REPEATS nb_copy_(dst, src) after WARMUP */
static double best_copy_(nb_tensor *dst, const nb_tensor *src)
{
    double best = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_tensor *r = nb_copy_(dst, src);
        double t1 = now_s();
        if (!r) {
            fprintf(stderr, "nb_copy_ failed: %s\n", nb_last_error());
            exit(1);
        }
        if (rep >= WARMUP) best = fmin(best, t1 - t0);
    }
    return best;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    nb_tensor *x = nb_randn(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT32));   /* (NUMEL,) */
    nb_tensor *back = nb_zeros(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT32)); /* (NUMEL,) */
    nb_tensor *h = nb_zeros(NB_SHAPE(NUMEL), NB_OPTS(NB_FLOAT16));   /* (NUMEL,) */
    nb_tensor *b = nb_zeros(NB_SHAPE(NUMEL), NB_OPTS(NB_BFLOAT16));  /* (NUMEL,) */
    const size_t bytes = (size_t)NUMEL * sizeof(float);
    char *src = malloc(bytes), *dst = malloc(bytes);
    if (!x || !back || !h || !b || !src || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    memset(src, 1, bytes);
    memset(dst, 2, bytes);
    double best_memcpy = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        memcpy(dst, src, bytes);
        double t1 = now_s();
        if (rep >= WARMUP) best_memcpy = fmin(best_memcpy, t1 - t0);
    }
    const double moved = NUMEL * 6.0 / 1e9; /* GB a conversion moves: 4 + 2 bytes a value */
    const double bw_memcpy = 2.0 * bytes / 1e9 / best_memcpy;
    const struct {
        const char *what;
        nb_tensor *dst, *src;
    } runs[4] = {
        {"float32 -> bfloat16", b, x},
        {"bfloat16 -> float32", back, b},
        {"float32 -> float16", h, x},
        {"float16 -> float32", back, h},
    };
    double bw[4];
    printf("%d values, %d nabla threads, best of %d after %d warm-up\n", NUMEL, nb_get_num_threads(), REPEATS, WARMUP);
    printf("memcpy (%.0f MB):           %7.2f ms  %6.1f GB/s\n", bytes / 1e6, best_memcpy * 1e3, bw_memcpy);
    for (int k = 0; k < 4; k++) {
        const double s = best_copy_(runs[k].dst, runs[k].src);
        bw[k] = moved / s;
        printf("%-24s    %7.2f ms  %6.1f GB/s (%.0f MB)\n", runs[k].what, s * 1e3, bw[k], moved * 1e3);
    }
    /* the values survive the round trip (float32 -> half -> float32 is the rounding alone) */
    nb_copy_(h, x);
    nb_copy_(back, h);
    const float *v = nb_data(back), *v0 = nb_data(x);
    for (int64_t i = 0; i < NUMEL; i += 4099)
        if (fabsf(v[i] - v0[i]) > 1e-3f * fabsf(v0[i]) + 1e-7f) {
            fprintf(stderr, "round trip: element %lld is %g, was %g\n", (long long)i, v[i], v0[i]);
            return 1;
        }
    for (int k = 0; k < 4; k++) printf("ratio (%s / memcpy bandwidth): %.3f\n", runs[k].what, bw[k] / bw_memcpy);
    nb_release(x);
    nb_release(back);
    nb_release(h);
    nb_release(b);
    free(src);
    free(dst);
    return 0;
}
