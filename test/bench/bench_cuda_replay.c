/* bench_cuda_replay.c — one training step on cuda:0 run eagerly (one launch per op, plus the
 * host work of every op: shapes, scopes, autograd) against the same step captured once into a
 * CUDA graph and replayed (one launch per step). Two steps:
 *  - the seed loop (64 x 1000 x 100 x 10, hand-written gradients, plain gradient descent);
 *  - a Fashion-MNIST-sized MLP (batch 128, 784-256-10, nb_linear layers, relu, cross entropy,
 *    autograd, SGD with momentum 0.9).
 * Time per step is the fastest of several blocks of steps, each block ending with one read of the
 * loss (which waits for the device); the losses of both ways are printed (they must agree). The
 * baseline is the eager step in the same process: the last line is the speedup eager/replay
 * (goal: at least 3 for the seed loop). Without a device it says so and exits 0. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define GPU NB_DEVICE_CUDA(0)

enum { WARMUP = 10, BLOCKS = 10, PER_BLOCK = 100 };

/* A step: runs one training step in its own scope and returns its loss (kept), or NULL. */
typedef nb_tensor *(*step_fn)(void *ctx);

/* ---------------------------------------------------------------- the seed loop */

typedef struct seed_net {
    nb_tensor *x, *y, *w1, *w2; /* (64, 1000), (64, 10), (1000, 100), (100, 10) */
} seed_net;

static nb_tensor *seed_step(void *ctx)
{
    seed_net *n = ctx;
    nb_scope_begin();
    nb_tensor *h = nb_mm(n->x, n->w1);                   /* (N, H) */
    nb_tensor *h_relu = nb_clamp_min(h, 0);
    nb_tensor *y_pred = nb_mm(h_relu, n->w2);             /* (N, D_out) */
    nb_tensor *loss = nb_keep(nb_sum(nb_pow_scalar(nb_sub(y_pred, n->y), 2)));
    nb_tensor *grad_y_pred = nb_mul_scalar(nb_sub(y_pred, n->y), 2.0);
    nb_tensor *grad_w2 = nb_mm(nb_t(h_relu), grad_y_pred);
    nb_tensor *grad_h = nb_clone(nb_mm(grad_y_pred, nb_t(n->w2)));
    nb_masked_fill_(grad_h, nb_lt_scalar(h, 0), 0);
    nb_tensor *grad_w1 = nb_mm(nb_t(n->x), grad_h);
    nb_sub_scaled_(n->w1, grad_w1, 1e-6);
    nb_sub_scaled_(n->w2, grad_w2, 1e-6);
    if (nb_scope_end() != NB_OK) {
        nb_release(loss);
        return NULL;
    }
    return loss;
}

static bool make_seed_net(seed_net *n)
{
    nb_manual_seed(0);
    nb_options o = NB_OPTS(NB_FLOAT32, .device = GPU);
    *n = (seed_net){nb_randn(NB_SHAPE(64, 1000), o), nb_randn(NB_SHAPE(64, 10), o),
                    nb_randn(NB_SHAPE(1000, 100), o), nb_randn(NB_SHAPE(100, 10), o)};
    return nb_last_status() == NB_OK;
}

static void free_seed_net(seed_net *n)
{
    nb_release(n->x), nb_release(n->y), nb_release(n->w1), nb_release(n->w2);
}

/* ---------------------------------------------------------------- the Fashion-MNIST MLP */

typedef struct fashion_net {
    nb_tensor *x;      /* (128, 784) */
    nb_tensor *labels; /* (128,) int64 */
    nb_linear *fc1, *fc2;
    nb_params *params;
    nb_optimizer *sgd;
} fashion_net;

static nb_tensor *fashion_step(void *ctx)
{
    fashion_net *n = ctx;
    nb_scope_begin();
    nb_optimizer_zero_grad(n->sgd);
    nb_tensor *logits = nb_linear_forward(n->fc2, nb_relu(nb_linear_forward(n->fc1, n->x))); /* (128, 10) */
    nb_tensor *loss = nb_cross_entropy(logits, n->labels);
    nb_backward(loss);
    nb_optimizer_step(n->sgd);
    nb_tensor *value = nb_keep(nb_detach(loss));
    if (nb_scope_end() != NB_OK) {
        nb_release(value);
        return NULL;
    }
    return value;
}

static bool make_fashion_net(fashion_net *n)
{
    nb_manual_seed(0);
    nb_options o = NB_OPTS(NB_FLOAT32, .device = GPU);
    *n = (fashion_net){0};
    n->x = nb_rand(NB_SHAPE(128, 784), o);
    nb_tensor *u = nb_mul_scalar(nb_rand(NB_SHAPE(128), NB_OPTS(NB_FLOAT64)), 9.999);
    nb_tensor *labels_cpu = nb_to_dtype(u, NB_INT64); /* uniform classes 0..9 */
    n->labels = nb_to(labels_cpu, GPU);
    nb_release(u), nb_release(labels_cpu);
    n->fc1 = nb_linear_new(784, 256, true, o);
    n->fc2 = nb_linear_new(256, 10, true, o);
    n->params = nb_params_new();
    if (!n->fc1 || !n->fc2 || !n->params) return false;
    nb_linear_params(n->fc1, n->params);
    nb_linear_params(n->fc2, n->params);
    n->sgd = nb_sgd_new(n->params, (nb_sgd_options){.lr = 0.05, .momentum = 0.9});
    return n->sgd && nb_last_status() == NB_OK;
}

static void free_fashion_net(fashion_net *n)
{
    nb_optimizer_free(n->sgd);
    nb_params_free(n->params);
    nb_linear_free(n->fc1), nb_linear_free(n->fc2);
    nb_release(n->x), nb_release(n->labels);
}

/* ---------------------------------------------------------------- timing */

typedef struct timing {
    double us_per_step;
    double loss; /* after the last step */
} timing;

/* Eager: blocks of steps, each ended by a read of the loss. */
static bool time_eager(step_fn step, void *ctx, timing *out)
{
    out->us_per_step = INFINITY;
    for (int s = 0; s < WARMUP; s++) nb_release(step(ctx));
    for (int b = 0; b < BLOCKS; b++) {
        double t0 = now_s();
        nb_tensor *loss = NULL;
        for (int s = 0; s < PER_BLOCK; s++) {
            nb_release(loss);
            loss = step(ctx);
        }
        out->loss = nb_item(loss);
        double us = (now_s() - t0) * 1e6 / PER_BLOCK;
        nb_release(loss);
        if (nb_last_status() != NB_OK) return false;
        if (us < out->us_per_step) out->us_per_step = us;
    }
    return true;
}

/* Replay: warm-up steps, one capture, then blocks of replays, each ended by a read of the loss.
 * Also counts cudaMalloc calls during the replays (none are expected). */
static bool time_replay(step_fn step, void *ctx, timing *out, unsigned long long *mallocs)
{
    out->us_per_step = INFINITY;
    for (int s = 0; s < WARMUP; s++) nb_release(step(ctx));
    if (nb_graph_capture_begin(GPU) != NB_OK) return false;
    nb_tensor *loss = step(ctx);
    nb_graph *g = nb_graph_capture_end();
    if (!g) {
        nb_release(loss);
        return false;
    }
    nb_cuda_stats before, after;
    nb_cuda_memory_stats(0, &before);
    bool ok = true;
    for (int b = 0; b < BLOCKS && ok; b++) {
        double t0 = now_s();
        for (int s = 0; s < PER_BLOCK; s++) nb_graph_replay(g);
        out->loss = nb_item(loss);
        double us = (now_s() - t0) * 1e6 / PER_BLOCK;
        ok = nb_last_status() == NB_OK;
        if (us < out->us_per_step) out->us_per_step = us;
    }
    nb_cuda_memory_stats(0, &after);
    *mallocs = (unsigned long long)(after.num_device_allocs - before.num_device_allocs);
    nb_graph_release(g);
    nb_release(loss);
    return ok;
}

/* Times step eagerly on one network and by replay on a second one made the same way. */
static bool compare(const char *what, step_fn step, void *eager_ctx, void *replay_ctx, double goal)
{
    timing eager, replay;
    unsigned long long mallocs = 0;
    if (!time_eager(step, eager_ctx, &eager) || !time_replay(step, replay_ctx, &replay, &mallocs)) {
        fprintf(stderr, "bench_cuda_replay: %s: %s\n", what, nb_last_error());
        return false;
    }
    const int steps = WARMUP + 1 + BLOCKS * PER_BLOCK;
    printf("%s: eager %8.1f us/step  replay %8.1f us/step  (fastest block of %d; %d steps each)\n", what,
           eager.us_per_step, replay.us_per_step, PER_BLOCK, steps);
    printf("%s: loss after %d steps: eager %.9g, replay %.9g; cudaMalloc calls during replays: %llu\n", what,
           steps, eager.loss, replay.loss, mallocs);
    printf("%s: ratio (eager/replay time per step, the replay's speedup; goal >= %.0f): %.2f\n", what, goal,
           eager.us_per_step / replay.us_per_step);
    return true;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    if (no_cuda_device()) return 0;
    char name[256];
    nb_cuda_device_name(0, name, sizeof name);
    printf("device: cuda:0 (%s)\n", name);

    seed_net s1, s2;
    fashion_net f1, f2;
    bool made = make_seed_net(&s1) && make_seed_net(&s2) && make_fashion_net(&f1) && make_fashion_net(&f2);
    bool ok = made && compare("fashion MLP step (128 x 784-256-10, autograd, SGD momentum)", fashion_step, &f1, &f2, 1) &&
              compare("seed loop (64 x 1000-100-10, hand-written gradients)", seed_step, &s1, &s2, 3);
    if (!made) fprintf(stderr, "bench_cuda_replay: setup: %s\n", nb_last_error());
    free_seed_net(&s1), free_seed_net(&s2);
    free_fashion_net(&f1), free_fashion_net(&f2);
    return ok ? 0 : 1;
}
