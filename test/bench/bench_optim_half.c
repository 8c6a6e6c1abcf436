/* bench_optim_half.c — one optimizer step over bench_optim's GPT-sized parameter list (50 tensors,
 * 858,112 parameters) held in bfloat16 and in float16: AdamW (fused: param, grad, exp_avg and
 * exp_avg_sq read, param, exp_avg and exp_avg_sq written: 7 x 2 bytes per parameter) and SGD with
 * momentum (fused for half: param, grad and buffer read, param and buffer written: 5 x 2 bytes),
 * against the float32 AdamW step and a memcpy of the bfloat16 AdamW step's traffic, all measured in
 * this process. Best of several repetitions after a warm-up; the ratio of the bfloat16 AdamW
 * step's bandwidth to memcpy's last. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NTENSORS = 50, WARMUP = 5, REPEATS = 40 };

typedef struct list {
    nb_params *params;
    nb_tensor *ps[NTENSORS];
    int64_t total;
} list;

/* The parameters in dtype, each with the grad 2 p. */
static bool list_new(list *l, nb_dtype dtype)
{
    static const int64_t shapes[4][2] = {{128, 384}, {128, 128}, {384, 1}, {128, 1}};
    l->params = nb_params_new();
    l->total = 0;
    nb_manual_seed(1);
    nb_scope_begin();
    for (int i = 0; i < NTENSORS; i++) {
        const int64_t *s = shapes[i % 4];
        nb_tensor *p32 = nb_mul_scalar_(nb_randn(s[1] == 1 ? 1 : 2, s, NB_OPTS(NB_FLOAT32)), 0.02);
        l->ps[i] = nb_requires_grad_(nb_to_dtype(p32, dtype), true);
        nb_keep(l->ps[i]);
        nb_params_add(l->params, l->ps[i]);
        l->total += nb_numel(l->ps[i]);
        if (nb_backward(nb_sum(nb_mul(l->ps[i], l->ps[i]))) != NB_OK) return false;
    }
    nb_scope_end();
    return true;
}

static void list_free(list *l)
{
    nb_params_free(l->params);
    for (int i = 0; i < NTENSORS; i++) nb_release(l->ps[i]);
}

/* The best time of one step of the optimizer make builds over the list in dtype; NAN on failure. */
static double best_step(nb_dtype dtype, bool adamw, int64_t *total)
{
    list l;
    if (!list_new(&l, dtype)) return NAN;
    *total = l.total;
    nb_optimizer *opt = adamw ? nb_adamw_new(l.params, (nb_adam_options){.lr = 1e-3, .weight_decay = 0.1})
                              : nb_sgd_new(l.params, (nb_sgd_options){.lr = 1e-3, .momentum = 0.9});
    double best = opt ? INFINITY : NAN;
    for (int rep = 0; opt && rep < WARMUP + REPEATS; rep++) {
        const double t0 = now_s();
        if (nb_optimizer_step(opt) != NB_OK) {
            best = NAN;
            break;
        }
        if (rep >= WARMUP) best = fmin(best, now_s() - t0);
    }
    nb_optimizer_free(opt);
    list_free(&l);
    return best;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    int64_t total = 0;
    const double adam32 = best_step(NB_FLOAT32, true, &total);
    const double adam_bf = best_step(NB_BFLOAT16, true, &total);
    const double adam_h = best_step(NB_FLOAT16, true, &total);
    const double sgd_bf = best_step(NB_BFLOAT16, false, &total);
    const double sgd_h = best_step(NB_FLOAT16, false, &total);
    if (isnan(adam32) || isnan(adam_bf) || isnan(adam_h) || isnan(sgd_bf) || isnan(sgd_h)) {
        fprintf(stderr, "a step failed: %s\n", nb_last_error());
        return 1;
    }
    const size_t copy_bytes = (size_t)(3.5 * (double)total * 2); /* 7 x 2 bytes: read and written */
    char *src = malloc(copy_bytes), *dst = malloc(copy_bytes);
    if (!src || !dst) return 1;
    memset(src, 1, copy_bytes);
    memset(dst, 2, copy_bytes);
    double copy = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        const double t0 = now_s();
        memcpy(dst, src, copy_bytes);
        if (rep >= WARMUP) copy = fmin(copy, now_s() - t0);
    }
    const double mb = 7.0 * (double)total * 2 / 1e6; /* a half AdamW step's traffic */
    printf("%d tensors, %lld parameters, best of %d after %d warm-up\n", NTENSORS, (long long)total, REPEATS, WARMUP);
    printf("AdamW float32:   %8.1f us  %6.1f GB/s\n", adam32 * 1e6, 2 * mb / adam32 / 1e3);
    printf("AdamW bfloat16:  %8.1f us  %6.1f GB/s  (%.2f x float32's time)\n", adam_bf * 1e6, mb / adam_bf / 1e3,
           adam_bf / adam32);
    printf("AdamW float16:   %8.1f us  %6.1f GB/s  (%.2f x float32's time)\n", adam_h * 1e6, mb / adam_h / 1e3,
           adam_h / adam32);
    printf("SGD bfloat16:    %8.1f us  %6.1f GB/s  (momentum, 5 x 2 bytes per parameter)\n", sgd_bf * 1e6,
           5.0 / 7.0 * mb / sgd_bf / 1e3);
    printf("SGD float16:     %8.1f us  %6.1f GB/s\n", sgd_h * 1e6, 5.0 / 7.0 * mb / sgd_h / 1e3);
    printf("memcpy:          %8.1f us  %6.1f GB/s  (the bfloat16 AdamW step's %.1f MB)\n", copy * 1e6,
           mb / copy / 1e3, mb);
    printf("ratio (AdamW bfloat16 step / memcpy bandwidth): %.3f\n", copy / adam_bf);
    free(src);
    free(dst);
    return 0;
}
