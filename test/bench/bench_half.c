/* bench_half.c — the bandwidth of the float16 and bfloat16 conversions on the CPU: 16M float32
 * values converted into a preallocated half tensor (nb_copy_, reading 4 and writing 2 bytes a
 * value) and back into a preallocated float32 one (reading 2, writing 4), against memcpy of the
 * same 96 MB (64 MB read, 32 MB written: a memcpy of 64 MB moves 128 MB, so it is scaled to the
 * conversion's bytes by bandwidth). Prints GB/s of each, best of several repetitions after a
 * warm-up, then each ratio against memcpy. The conversions run on nabla's threads (all cores for
 * tensors this large); memcpy is glibc's, on one thread.
 * Then nb_mm of 1024 x 1024 float16 and bfloat16 matrices on the CPU against nb_mm of the same
 * float32 matrices: the CPU converts half operands to float32, runs BLIS's sgemm and rounds the
 * product once (lib/linalg.c), so its half product costs the float32 one plus the conversions;
 * the ratios (half time / float32 time) come last. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NUMEL = 16 << 20, WARMUP = 2, REPEATS = 10 };

enum { MM = 1024 };

/* seconds for the best of REPEATS nb_mm(a, b) after WARMUP */
static double best_mm(const nb_tensor *a, const nb_tensor *b)
{
    double best = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_tensor *c = nb_mm(a, b);
        double t1 = now_s();
        if (!c) {
            fprintf(stderr, "nb_mm failed: %s\n", nb_last_error());
            exit(1);
        }
        nb_release(c);
        if (rep >= WARMUP) best = fmin(best, t1 - t0);
    }
    return best;
}

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
    /* CPU products: half against float32, the same values */
    nb_tensor *ma = nb_randn(NB_SHAPE(MM, MM), NB_OPTS(NB_FLOAT32)), *mb = nb_randn(NB_SHAPE(MM, MM), NB_OPTS(NB_FLOAT32));
    const nb_dtype mm_dtypes[2] = {NB_FLOAT16, NB_BFLOAT16};
    const double t_f32 = best_mm(ma, mb), gflop = 2.0 * MM * MM * MM / 1e9;
    double t_half[2];
    printf("nb_mm %d^3 float32:        %7.2f ms  %6.1f GFLOP/s\n", MM, t_f32 * 1e3, gflop / t_f32);
    for (int k = 0; k < 2; k++) {
        nb_tensor *ha = nb_to_dtype(ma, mm_dtypes[k]), *hb = nb_to_dtype(mb, mm_dtypes[k]);
        t_half[k] = best_mm(ha, hb);
        printf("nb_mm %d^3 %-9s       %7.2f ms  %6.1f GFLOP/s\n", MM, nb_dtype_name(mm_dtypes[k]), t_half[k] * 1e3,
               gflop / t_half[k]);
        nb_release(ha);
        nb_release(hb);
    }
    nb_release(ma);
    nb_release(mb);
    for (int k = 0; k < 4; k++) printf("ratio (%s / memcpy bandwidth): %.3f\n", runs[k].what, bw[k] / bw_memcpy);
    for (int k = 0; k < 2; k++)
        printf("ratio (nb_mm %s time / float32 time): %.3f\n", nb_dtype_name(mm_dtypes[k]), t_half[k] / t_f32);
    nb_release(x);
    nb_release(back);
    nb_release(h);
    nb_release(b);
    free(src);
    free(dst);
    return 0;
}
