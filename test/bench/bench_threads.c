/* bench_threads.c — nabla's default thread choice (each op's count from its work, by the rule of
 * kernels/cpu/threads.h) against fixed thread counts (nb_set_num_threads(n), n = 1, 2, 4, ... up
 * to the cores), on four workloads: the seed loop's manual step (N=64, 1000-100-10), a
 * Fashion-MNIST-sized autograd step (128 x 784-256-10, cross entropy, SGD), a 1024^3 product and
 * a 16M-float add. Each setting runs one timed block per round, the settings taking turns for
 * ROUNDS rounds, and its best block counts, so a busy machine or a drifting clock hurts them
 * alike. The goal: no fixed count beats the default by more than 10%, so the
 * last line is the worst, over the workloads, of default time / best fixed time (goal <= 1.10). */
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 7

typedef struct workload {
    const char *name;
    int steps;              /* per timed block */
    nb_tensor *t[8];        /* the workload's tensors (owned) */
    bool (*step)(nb_tensor **t);
} workload;

static bool fail(const char *what)
{
    fprintf(stderr, "bench_threads: %s: %s\n", what, nb_last_error());
    return false;
}

/* The seed's manual step: x (64, 1000), y (64, 10), w1 (1000, 100), w2 (100, 10). */
static bool seed_step(nb_tensor **t)
{
    nb_tensor *x = t[0], *y = t[1], *w1 = t[2], *w2 = t[3];
    nb_scope_begin();
    nb_tensor *h = nb_mm(x, w1);
    nb_tensor *h_relu = nb_clamp_min(h, 0);
    nb_tensor *y_pred = nb_mm(h_relu, w2);
    nb_tensor *diff = nb_sub(y_pred, y);
    nb_tensor *grad_y_pred = nb_mul_scalar(diff, 2.0);
    nb_tensor *grad_w2 = nb_mm(nb_t(h_relu), grad_y_pred);
    nb_tensor *grad_h = nb_clone(nb_mm(grad_y_pred, nb_t(w2)));
    nb_masked_fill_(grad_h, nb_lt_scalar(h, 0), 0);
    nb_tensor *grad_w1 = nb_mm(nb_t(x), grad_h);
    nb_sub_scaled_(w1, grad_w1, 1e-6);
    nb_sub_scaled_(w2, grad_w2, 1e-6);
    return nb_scope_end() == NB_OK || fail("seed step");
}

/* x (128, 784), labels (128,), w1 (784, 256), b1 (256,), w2 (256, 10), b2 (10,): forward,
 * backward, and an SGD update under no-grad. */
static bool fashion_step(nb_tensor **t)
{
    nb_tensor *x = t[0], *labels = t[1], *w1 = t[2], *b1 = t[3], *w2 = t[4], *b2 = t[5];
    nb_scope_begin();
    nb_tensor *h = nb_relu(nb_add(nb_mm(x, w1), b1));    /* (128, 256) */
    nb_tensor *logits = nb_add(nb_mm(h, w2), b2);        /* (128, 10) */
    nb_tensor *loss = nb_cross_entropy(logits, labels);
    nb_backward(loss);
    nb_no_grad_begin();
    nb_tensor *params[4] = {w1, b1, w2, b2};
    for (int k = 0; k < 4; k++) {
        nb_sub_scaled_(params[k], nb_grad(params[k]), 1e-3);
        nb_zero_grad(params[k]);
    }
    nb_no_grad_end();
    return nb_scope_end() == NB_OK || fail("fashion step");
}

/* (1024, 1024) x (1024, 1024) */
static bool mm_step(nb_tensor **t)
{
    nb_tensor *c = nb_mm(t[0], t[1]);
    nb_release(c);
    return c || fail("mm");
}

/* 16M floats: out = a + b */
static bool add_step(nb_tensor **t)
{
    nb_tensor *c = nb_add(t[0], t[1]);
    nb_release(c);
    return c || fail("add");
}

static nb_tensor *randn(int ndim, const int64_t *shape, bool requires_grad)
{
    return nb_randn(ndim, shape, NB_OPTS(NB_FLOAT32, .requires_grad = requires_grad));
}

static void set_up(workload *w)
{
    nb_manual_seed(0);
    memset(w, 0, 4 * sizeof *w);
    w[0] = (workload){"seed loop step", 200, {randn(NB_SHAPE(64, 1000), false), randn(NB_SHAPE(64, 10), false),
                                              randn(NB_SHAPE(1000, 100), false), randn(NB_SHAPE(100, 10), false)},
                      seed_step};
    int64_t labels[128];
    for (int i = 0; i < 128; i++) labels[i] = i % 10;
    w[1] = (workload){"fashion step", 50, {randn(NB_SHAPE(128, 784), false),
                                           nb_from_array(labels, NB_SHAPE(128), NB_OPTS(NB_INT64)),
                                           randn(NB_SHAPE(784, 256), true), randn(NB_SHAPE(256), true),
                                           randn(NB_SHAPE(256, 10), true), randn(NB_SHAPE(10), true)},
                      fashion_step};
    w[2] = (workload){"mm 1024^3", 3, {randn(NB_SHAPE(1024, 1024), false), randn(NB_SHAPE(1024, 1024), false)},
                      mm_step};
    w[3] = (workload){"add 16M floats", 10, {randn(NB_SHAPE(16 << 20), false), randn(NB_SHAPE(16 << 20), false)},
                      add_step};
}

/* Microseconds per step of one block of w on threads (0: the default); NAN on an error. */
static double time_block(workload *w, int threads)
{
    nb_set_num_threads(threads);
    if (!w->step(w->t)) return NAN; /* warm-up, on these threads */
    double t0 = now_s();
    for (int s = 0; s < w->steps; s++)
        if (!w->step(w->t)) return NAN;
    return (now_s() - t0) * 1e6 / w->steps;
}

int main(void)
{
    nb_set_num_threads(0);
    const int cores = nb_get_num_threads();
    printf("%s\n", nb_config_string());
    int counts[16], ncounts = 0;
    for (int n = 1; n <= cores && ncounts < 16; n *= 2) counts[ncounts++] = n;
    if (counts[ncounts - 1] != cores && ncounts < 16) counts[ncounts++] = cores;

    workload w[4];
    set_up(w);
    if (nb_last_status() != NB_OK) return fail("setting up"), 1;
    double worst = 0;
    printf("%-16s %12s", "us per step", "default");
    for (int c = 0; c < ncounts; c++) printf("   %3d thread%s", counts[c], counts[c] == 1 ? " " : "s");
    printf("   default / best fixed\n");
    for (int k = 0; k < 4; k++) {
        double best[17]; /* [0] the default, [1 + c] counts[c] */
        for (int c = 0; c <= ncounts; c++) best[c] = INFINITY;
        for (int round = 0; round < ROUNDS; round++)
            for (int c = 0; c <= ncounts; c++) {
                double us = time_block(&w[k], c == 0 ? 0 : counts[c - 1]);
                if (isnan(us)) return 1;
                if (us < best[c]) best[c] = us;
            }
        double best_fixed = INFINITY;
        for (int c = 1; c <= ncounts; c++) best_fixed = fmin(best_fixed, best[c]);
        printf("%-16s %12.1f", w[k].name, best[0]);
        for (int c = 1; c <= ncounts; c++) printf("   %10.1f", best[c]);
        printf("   %.2f\n", best[0] / best_fixed);
        if (best[0] / best_fixed > worst) worst = best[0] / best_fixed;
        for (int i = 0; i < 8; i++) nb_release(w[k].t[i]);
    }
    nb_set_num_threads(0);
    printf("ratio (default / best fixed thread count, worst workload): %.2f  goal <= 1.10\n", worst);
    return 0;
}
