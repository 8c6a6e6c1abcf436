/* bench_mm.c — nb_mm of two 1024 x 1024 float32 matrices against raw bli_sgemm on the same
 * buffers with the same thread count. Prints GFLOP/s of both (best of several repetitions after a
 * warm-up, the two interleaved so drift on a shared machine hits both alike) and, last, their
 * ratio. nb_config_string() runs first: it makes nabla choose BLIS's kernel set, which the raw
 * calls then share. nb_mm's time includes allocating and releasing its result. */
#include <blis.h>
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { SIZE = 1024, WARMUP = 3, REPEATS = 15 };
static const double GOAL = 0.95;

int main(void)
{
    printf("%s\n", nb_config_string());
    const int64_t n = SIZE;
    const double flops = 2.0 * n * n * n;
    const int nthreads = nb_get_num_threads();

    nb_manual_seed(1);
    nb_tensor *a = nb_randn(NB_SHAPE(n, n), NB_OPTS(NB_FLOAT32)); /* (n, n) */
    nb_tensor *b = nb_randn(NB_SHAPE(n, n), NB_OPTS(NB_FLOAT32)); /* (n, n) */
    float *c_raw = aligned_alloc(64, (size_t)(n * n) * sizeof(float)); /* (n, n) */
    if (!a || !b || !c_raw) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    float *pa = nb_data(a), *pb = nb_data(b);
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(nthreads, &rntm);
    float one = 1.0f, zero = 0.0f;

    double best_nabla = INFINITY, best_raw = INFINITY, max_diff = 0;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_tensor *c = nb_mm(a, b);
        double t1 = now_s();
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, n, n, n, &one, pa, n, 1, pb, n, 1, &zero,
                     c_raw, n, 1, NULL, &rntm);
        double t2 = now_s();
        if (!c) {
            fprintf(stderr, "nb_mm failed: %s\n", nb_last_error());
            return 1;
        }
        if (rep == 0) {
            const float *pc = nb_data(c);
            for (int64_t i = 0; i < n * n; i++) max_diff = fmax(max_diff, fabs((double)pc[i] - c_raw[i]));
        }
        nb_release(c);
        if (rep < WARMUP) continue;
        best_nabla = fmin(best_nabla, t1 - t0);
        best_raw = fmin(best_raw, t2 - t1);
    }
    double gf_nabla = flops / best_nabla * 1e-9, gf_raw = flops / best_raw * 1e-9;
    printf("%lld^3 float32, %d threads, best of %d after %d warm-up\n", (long long)n, nthreads, REPEATS, WARMUP);
    printf("nabla nb_mm:     %8.2f ms  %7.1f GFLOP/s\n", best_nabla * 1e3, gf_nabla);
    printf("raw bli_sgemm:   %8.2f ms  %7.1f GFLOP/s\n", best_raw * 1e3, gf_raw);
    printf("largest difference between the two results: %g\n", max_diff);
    printf("ratio (nabla/raw BLIS GFLOP/s): %.3f  goal >= %.2f\n", gf_nabla / gf_raw, GOAL);
    nb_release(a);
    nb_release(b);
    free(c_raw);
    return 0;
}
