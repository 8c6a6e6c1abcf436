/* bench_seed_loop.c — the seed loop three ways in one process (seed_loops.c): nabla with
 * hand-written gradients (samples/mlp_manual.c), nabla with autograd (samples/mlp_autograd.c) and
 * the same loop hand-written on raw BLIS. All start from the same weights; prints microseconds per
 * step for each, then the ratios autograd/manual (goal <= 1.15) and manual/raw BLIS (goal <=
 * 1.10), the one named by the argument ("autograd" or "manual", the default) last.
 * nb_config_string() runs first: it makes nabla choose BLIS's kernel set, which the raw loop then
 * shares. */
#include "seed_loops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { STEPS = 500, WARMUP = 50, REPEATS = 3, BLOCK = 25 };
static const double LEARNING_RATE = 1e-6;
static const double GOAL_MANUAL = 1.10, GOAL_AUTOGRAD = 1.15;

/* ---------------------------------------------------------------- runs */

/* Both loops train side by side from the same weights, alternating blocks of BLOCK steps; each
 * block is timed, and the fastest block of each loop (over every run) gives its time per step.
 * Short interleaved blocks let a shared, busy machine disturb both loops alike. */
typedef struct run_stats {
    double us_per_step; /* the fastest block's time per step */
    double loss_100;    /* loss at step 100 of the last run */
    double loss_final;  /* loss at the last step of the last run */
} run_stats;

typedef double (*nabla_step_fn)(nb_tensor *x, nb_tensor *y, nb_tensor *w1, nb_tensor *w2, double lr);

typedef struct nabla_net {
    nabla_step_fn step;
    nb_tensor *x, *y, *w1, *w2;
    bool requires_grad; /* the autograd loop's weights are leaves that require grad */
} nabla_net;

static bool nabla_block(nabla_net *n, int first, int steps, run_stats *st)
{
    double t0 = now_us(), loss = 0;
    for (int t = first; t < first + steps; t++) {
        loss = n->step(n->x, n->y, n->w1, n->w2, LEARNING_RATE);
        if (t == 99) st->loss_100 = loss;
    }
    double us = (now_us() - t0) / steps;
    if (isnan(loss)) {
        fprintf(stderr, "bench_seed_loop: nabla: %s\n", nb_last_error());
        return false;
    }
    st->loss_final = loss;
    if (us < st->us_per_step) st->us_per_step = us;
    return true;
}

static void raw_block(raw_net *r, int first, int steps, run_stats *st)
{
    double t0 = now_us(), loss = 0;
    for (int t = first; t < first + steps; t++) {
        loss = raw_step(r, (float)LEARNING_RATE);
        if (t == 99) st->loss_100 = loss;
    }
    double us = (now_us() - t0) / steps;
    st->loss_final = loss;
    if (us < st->us_per_step) st->us_per_step = us;
}

static void reset_weights(nabla_net *n, const nb_tensor *w1_init, const nb_tensor *w2_init)
{
    nb_release(n->w1);
    nb_release(n->w2);
    n->w1 = nb_requires_grad_(nb_clone(w1_init), n->requires_grad);
    n->w2 = nb_requires_grad_(nb_clone(w2_init), n->requires_grad);
}

/* One training run of the three loops from the initial weights; false on a nabla error. */
static bool run_all(nabla_net *manual, nabla_net *autograd, const nb_tensor *w1_init,
                    const nb_tensor *w2_init, raw_net *r, const float *w1_raw, const float *w2_raw,
                    int steps, run_stats stats[3])
{
    reset_weights(manual, w1_init, w2_init);
    reset_weights(autograd, w1_init, w2_init);
    memcpy(r->w1, w1_raw, sizeof(float) * D_IN * H);
    memcpy(r->w2, w2_raw, sizeof(float) * H * D_OUT);
    for (int first = 0; first < steps; first += BLOCK) {
        int len = steps - first < BLOCK ? steps - first : BLOCK;
        if (!nabla_block(manual, first, len, &stats[0]) || !nabla_block(autograd, first, len, &stats[1]))
            return false;
        raw_block(r, first, len, &stats[2]);
    }
    return true;
}

static void copy_out(const nb_tensor *t, float *dst, size_t n)
{
    if (nb_copy_to_array(t, dst, n * sizeof(float)) != NB_OK) {
        fprintf(stderr, "bench_seed_loop: %s\n", nb_last_error());
        exit(1);
    }
}

int main(int argc, char **argv)
{
    bool autograd_last = argc > 1 && strcmp(argv[1], "autograd") == 0;
    printf("%s\n", nb_config_string());

    nb_manual_seed(0);
    nb_tensor *x = nb_randn(NB_SHAPE(N, D_IN), NB_OPTS(NB_FLOAT32));    /* (N, D_in) */
    nb_tensor *y = nb_randn(NB_SHAPE(N, D_OUT), NB_OPTS(NB_FLOAT32));   /* (N, D_out) */
    nb_tensor *w1 = nb_randn(NB_SHAPE(D_IN, H), NB_OPTS(NB_FLOAT32));   /* (D_in, H) */
    nb_tensor *w2 = nb_randn(NB_SHAPE(H, D_OUT), NB_OPTS(NB_FLOAT32));  /* (H, D_out) */
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, "bench_seed_loop: %s\n", nb_last_error());
        return 1;
    }

    raw_net r = {buffer(N * D_IN), buffer(N * D_OUT), buffer(D_IN * H), buffer(H * D_OUT),
                 buffer(N * H),    buffer(N * H),     buffer(N * D_OUT), buffer(N * D_OUT),
                 buffer(H * D_OUT), buffer(N * H),    buffer(D_IN * H)};
    float *w1_init = buffer(D_IN * H), *w2_init = buffer(H * D_OUT);
    copy_out(x, r.x, N * D_IN);
    copy_out(y, r.y, N * D_OUT);
    copy_out(w1, w1_init, D_IN * H);
    copy_out(w2, w2_init, H * D_OUT);

    run_stats fresh = {.us_per_step = INFINITY};
    run_stats stats[3] = {fresh, fresh, fresh}, warm[3] = {fresh, fresh, fresh}; /* manual, autograd, raw */
    nabla_net manual = {nabla_step, x, y, NULL, NULL, false};
    nabla_net autograd = {nabla_autograd_step, x, y, NULL, NULL, true};
    bool ok = run_all(&manual, &autograd, w1, w2, &r, w1_init, w2_init, WARMUP, warm);
    for (int rep = 0; ok && rep < REPEATS; rep++)
        ok = run_all(&manual, &autograd, w1, w2, &r, w1_init, w2_init, STEPS, stats);

    if (ok) {
        printf("seed loop: N=%d D_in=%d H=%d D_out=%d; %d runs of %d steps, fastest block of %d steps; "
               "threads %d\n", N, D_IN, H, D_OUT, REPEATS, STEPS, BLOCK, nb_get_num_threads());
        const char *names[3] = {"nabla manual", "nabla autograd", "raw BLIS"};
        for (int k = 0; k < 3; k++)
            printf("  %-15s %8.1f us/step   loss at step 100 %.6g, final loss %.6g\n", names[k],
                   stats[k].us_per_step, stats[k].loss_100, stats[k].loss_final);
        /* float32 rounding differs with the order of the sums; the final loss sits at float32's
         * noise floor (~3e-5 here), so only its magnitude is expected to agree */
        for (int k = 1; k < 3; k++) {
            double rel_100 = fabs(stats[k].loss_100 - stats[0].loss_100) / fabs(stats[0].loss_100);
            double rel_final = fabs(stats[k].loss_final - stats[0].loss_final) / fabs(stats[0].loss_final);
            printf("  %s vs manual: step 100 within %.1e, final within %.1e (relative) -> %s\n", names[k],
                   rel_100, rel_final, rel_100 < 1e-4 && rel_final < 0.1 ? "same" : "DIFFERENT");
        }
        char line_autograd[128], line_manual[128];
        snprintf(line_autograd, sizeof line_autograd, "ratio (autograd/manual per step): %.2f  goal <= %.2f",
                 stats[1].us_per_step / stats[0].us_per_step, GOAL_AUTOGRAD);
        snprintf(line_manual, sizeof line_manual, "ratio (nabla/raw BLIS per step): %.2f  goal <= %.2f",
                 stats[0].us_per_step / stats[2].us_per_step, GOAL_MANUAL);
        printf("%s\n%s\n", autograd_last ? line_manual : line_autograd, autograd_last ? line_autograd : line_manual);
    }

    float *bufs[] = {r.x, r.y, r.w1, r.w2, r.h, r.h_relu, r.y_pred, r.grad_y_pred, r.grad_w2,
                     r.grad_h, r.grad_w1, w1_init, w2_init};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    nb_tensor *held[] = {manual.w1, manual.w2, autograd.w1, autograd.w2, x, y, w1, w2};
    for (size_t i = 0; i < sizeof held / sizeof held[0]; i++) nb_release(held[i]);
    return ok ? 0 : 1;
}
