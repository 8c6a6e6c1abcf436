/* bench_optim.c — one AdamW step (nb_optimizer_step) over a GPT-sized parameter list, 50 float32
 * tensors of 858,112 parameters in all (per layer a (128, 384) and a (128, 128) weight and biases
 * of 384 and 128), against memcpy of the same traffic. A step reads param, grad, exp_avg and
 * exp_avg_sq and writes param, exp_avg and exp_avg_sq: 7 x 4 bytes per parameter; the baseline
 * copies 3.5 x 4 bytes per parameter (a copy reads and writes each byte) from one buffer into
 * another written beforehand. Best of several repetitions after a warm-up, then the ratio of the
 * bandwidths (nabla's over memcpy's) last. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NTENSORS = 50, WARMUP = 5, REPEATS = 50 };

int main(void)
{
    printf("%s\n", nb_config_string());
    static const int64_t shapes[4][2] = {{128, 384}, {128, 128}, {384, 1}, {128, 1}};
    nb_params *params = nb_params_new();
    nb_tensor *ps[NTENSORS];
    int64_t total = 0;
    nb_manual_seed(1);
    nb_scope_begin();
    for (int i = 0; i < NTENSORS; i++) {
        const int64_t *s = shapes[i % 4];
        ps[i] = nb_requires_grad_(nb_mul_scalar_(nb_randn(s[1] == 1 ? 1 : 2, s, NB_OPTS(NB_FLOAT32)),
                                                 0.02), true);
        nb_keep(ps[i]);
        nb_params_add(params, ps[i]);
        total += nb_numel(ps[i]);
        nb_tensor *loss = nb_sum(nb_mul(ps[i], ps[i])); /* a grad of 2 p for every parameter */
        if (nb_backward(loss) != NB_OK) {
            fprintf(stderr, "setup failed: %s\n", nb_last_error());
            return 1;
        }
    }
    nb_scope_end();
    nb_optimizer *opt = nb_adamw_new(params, (nb_adam_options){.lr = 1e-3, .weight_decay = 0.1});
    const size_t copy_bytes = (size_t)(3.5 * (double)total * sizeof(float));
    char *src = malloc(copy_bytes), *dst = malloc(copy_bytes);
    if (!opt || !src || !dst) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    memset(src, 1, copy_bytes);
    memset(dst, 2, copy_bytes);
    double best_step = INFINITY, best_copy = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        double t0 = now_s();
        nb_status st = nb_optimizer_step(opt);
        double t1 = now_s();
        memcpy(dst, src, copy_bytes);
        double t2 = now_s();
        if (st != NB_OK) {
            fprintf(stderr, "step failed: %s\n", nb_last_error());
            return 1;
        }
        if (rep < WARMUP) continue;
        best_step = fmin(best_step, t1 - t0);
        best_copy = fmin(best_copy, t2 - t1);
    }
    const double mb = 7.0 * (double)total * sizeof(float) / 1e6; /* the step's traffic */
    printf("%d float32 tensors, %lld parameters, best of %d after %d warm-up\n", NTENSORS, (long long)total, REPEATS,
           WARMUP);
    printf("AdamW step:  %8.1f us  %6.1f GB/s (7 x 4 bytes per parameter, %.1f MB)\n", best_step * 1e6,
           mb / best_step / 1e3, mb);
    printf("memcpy:      %8.1f us  %6.1f GB/s (the same %.1f MB read and written)\n", best_copy * 1e6,
           mb / best_copy / 1e3, mb);
    printf("ratio (AdamW step / memcpy bandwidth): %.3f\n", best_copy / best_step);
    nb_optimizer_free(opt);
    nb_params_free(params);
    for (int i = 0; i < NTENSORS; i++) nb_release(ps[i]);
    free(src);
    free(dst);
    return 0;
}
