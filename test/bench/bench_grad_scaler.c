/* bench_grad_scaler.c — the gradient scaler's fused non-finite check and unscale
 * (nb_grad_scaler_unscale_, then nb_grad_scaler_update) over a GPT-sized list of gradients, 50
 * float32 tensors of 858,112 in all (bench_optim's list), against memcpy of the same traffic: the
 * unscale reads and writes every gradient (2 x 4 bytes per parameter), the baseline copies 4
 * bytes per parameter from one buffer into another written beforehand. The scale is 65536 and
 * is multiplied back into the gradients after each timed unscale (untimed), so the values stay
 * put across repetitions. Best of several repetitions after a warm-up, then the ratio of the
 * bandwidths (nabla's over memcpy's) last. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NTENSORS = 50, WARMUP = 5, REPEATS = 100 };

int main(void)
{
    printf("%s\n", nb_config_string());
    static const int64_t shapes[4][2] = {{128, 384}, {128, 128}, {384, 1}, {128, 1}};
    nb_params *params = nb_params_new();
    nb_tensor *ps[NTENSORS];
    int64_t total = 0;
    nb_manual_seed(1);
    nb_grad_scaler *scaler = nb_grad_scaler_new((nb_grad_scaler_options){.init_scale = 65536, .growth_interval = 1000000});
    nb_scope_begin();
    for (int i = 0; i < NTENSORS; i++) {
        const int64_t *s = shapes[i % 4];
        ps[i] = nb_requires_grad_(nb_mul_scalar_(nb_randn(s[1] == 1 ? 1 : 2, s, NB_OPTS(NB_FLOAT32)), 0.02), true);
        nb_keep(ps[i]);
        nb_params_add(params, ps[i]);
        total += nb_numel(ps[i]);
        nb_tensor *loss = nb_grad_scaler_scale(scaler, nb_sum(nb_mul(ps[i], ps[i]))); /* grads 2 p */
        if (nb_backward(loss) != NB_OK) {
            fprintf(stderr, "setup failed: %s\n", nb_last_error());
            return 1;
        }
    }
    nb_scope_end();
    nb_optimizer *opt = nb_sgd_new(params, (nb_sgd_options){.lr = 1e-3}); /* its list; never stepped */
    const size_t copy_bytes = (size_t)total * sizeof(float);
    char *src = malloc(copy_bytes), *dst = malloc(copy_bytes);
    if (!opt || !src || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    memset(src, 1, copy_bytes);
    memset(dst, 2, copy_bytes);
    double best_unscale = INFINITY, best_copy = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_status st = nb_grad_scaler_unscale_(scaler, opt);
        if (st == NB_OK) st = nb_grad_scaler_update(scaler);
        double t1 = now_s();
        memcpy(dst, src, copy_bytes);
        double t2 = now_s();
        for (int i = 0; i < NTENSORS && st == NB_OK; i++) /* the scaled gradients again */
            if (!nb_mul_scalar_(nb_grad(ps[i]), 65536)) st = nb_last_status();
        if (st != NB_OK) {
            fprintf(stderr, "unscale failed: %s\n", nb_last_error());
            return 1;
        }
        if (rep < WARMUP) continue;
        best_unscale = fmin(best_unscale, t1 - t0);
        best_copy = fmin(best_copy, t2 - t1);
    }
    const double mb = 2.0 * (double)total * sizeof(float) / 1e6; /* the unscale's traffic */
    printf("%d float32 gradients, %lld elements, best of %d after %d warm-up\n", NTENSORS, (long long)total, REPEATS,
           WARMUP);
    printf("unscale + update: %8.1f us  %6.1f GB/s (2 x 4 bytes per element, %.1f MB)\n", best_unscale * 1e6,
           mb / best_unscale / 1e3, mb);
    printf("memcpy:           %8.1f us  %6.1f GB/s (the same %.1f MB read and written)\n", best_copy * 1e6,
           mb / best_copy / 1e3, mb);
    printf("ratio (unscale / memcpy bandwidth): %.3f\n", best_copy / best_unscale);
    nb_grad_scaler_free(scaler);
    nb_optimizer_free(opt);
    nb_params_free(params);
    for (int i = 0; i < NTENSORS; i++) nb_release(ps[i]);
    free(src);
    free(dst);
    return 0;
}
