/* bench_fashion.c — an epoch of the fashion_mnist sample's training (784-256-10, ReLU, cross
 * entropy, SGD momentum 0.9, lr 0.03, shuffled batches of 128 from nabla's loader), in nabla and
 * in PyTorch, on the same machine.
 *
 *   bench_fashion SCRIPT   (SCRIPT: fashion_mnist_torch.py, passed by meson)
 *
 * nabla trains in this process: one warm-up epoch, then two timed ones, with nabla's default
 * threads and then with one. PyTorch runs SCRIPT under Debian's /usr/bin/python3 (python3-torch
 * 1.13) with 1 and 2 threads, 3 epochs each, the first one counted as its warm-up. The four runs
 * take turns (nabla, PyTorch, nabla, PyTorch) so that a shared machine's changing load falls on
 * both. Both time only
 * the training (shuffling, batches and steps), not reading the files nor evaluating. Prints each
 * epoch time and, last, the best nabla epoch over the best PyTorch epoch (goal <= 0.5). Without
 * PyTorch it says so and prints nabla's figures only; without the data set it exits 77 (skipped). */
#include "bench.h"
#include "epoch_times.h"
#include "spawn_capture.h"
#include "../../samples/fashion_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "bench_fashion"
#define PYTHON "/usr/bin/python3"
#define TIMED_EPOCHS 2
#define HIDDEN 256
#define BATCH 128
static const double LEARNING_RATE = 0.03, MOMENTUM = 0.9, GOAL = 0.5;

/* ---------------------------------------------------------------- nabla */

typedef struct net {
    nb_linear *fc1, *fc2; /* 784 -> 256 -> 10 */
    nb_params *params;
    nb_optimizer *opt;
    nb_loader *loader;
} net;

static void net_free(net *n)
{
    nb_loader_free(n->loader);
    nb_optimizer_free(n->opt);
    nb_params_free(n->params);
    nb_linear_free(n->fc1);
    nb_linear_free(n->fc2);
    *n = (net){0};
}

static bool net_new(net *n, const fashion_data *d)
{
    *n = (net){0};
    nb_clear_error();
    nb_manual_seed(0);
    n->fc1 = nb_linear_new(FASHION_PIXELS, HIDDEN, true, NB_OPTS(NB_FLOAT32));
    n->fc2 = nb_linear_new(HIDDEN, FASHION_CLASSES, true, NB_OPTS(NB_FLOAT32));
    n->params = nb_params_new();
    nb_linear_params(n->fc1, n->params);
    nb_linear_params(n->fc2, n->params);
    n->opt = nb_sgd_new(n->params, (nb_sgd_options){.lr = LEARNING_RATE, .momentum = MOMENTUM});
    n->loader = nb_loader_new(d->train_images, d->train_labels,
                              (nb_loader_options){.batch_size = BATCH, .shuffle = true});
    if (nb_last_status() == NB_OK) return true;
    fprintf(stderr, PROG ": %s\n", nb_last_error());
    net_free(n);
    return false;
}

/* One epoch, as samples/fashion_mnist.c trains it; its seconds, or a negative value on an error. */
static double nabla_epoch(net *n, double *mean_loss)
{
    double start = now_s(), loss_sum = 0;
    int64_t steps = 0;
    nb_clear_error();
    if (nb_loader_start_epoch(n->loader) != NB_OK) return -1;
    for (;;) {
        nb_scope_begin();
        nb_tensor *x, *y; /* (B, 784), (B,) */
        if (!nb_loader_next(n->loader, &x, &y)) {
            nb_scope_end();
            break;
        }
        nb_tensor *logits = nb_linear_forward(n->fc2, nb_relu(nb_linear_forward(n->fc1, x))); /* (B, 10) */
        nb_tensor *loss = nb_cross_entropy(logits, y);
        loss_sum += nb_item(loss);
        nb_backward(loss);
        nb_optimizer_step(n->opt);
        nb_optimizer_zero_grad(n->opt);
        if (nb_scope_end() != NB_OK) break;
        steps++;
    }
    if (nb_last_status() != NB_OK) return -1;
    *mean_loss = loss_sum / (double)steps;
    return now_s() - start;
}

/* Test accuracy in percent, to show that the timed training learned what the sample's does. */
static double nabla_accuracy(const net *n, const fashion_data *d)
{
    nb_no_grad_begin();
    nb_scope_begin();
    nb_tensor *logits = nb_linear_forward(n->fc2, nb_relu(nb_linear_forward(n->fc1, d->test_images)));
    double correct = nb_item(nb_sum(nb_eq(nb_argmax_dim(logits, 1, false), d->test_labels)));
    nb_scope_end();
    nb_no_grad_end();
    return 100.0 * correct / (double)nb_size(d->test_images, 0);
}

/* A warm-up epoch and TIMED_EPOCHS timed ones on `threads` threads; the best timed epoch's
 * seconds, or a negative value on an error. */
static double run_nabla(const fashion_data *d, int threads)
{
    nb_set_num_threads(threads);
    net n;
    if (!net_new(&n, d)) return -1;
    double loss, best = INFINITY;
    double warmup = nabla_epoch(&n, &loss);
    printf("nabla,   %d thread%s: warm-up %.3f s; epochs", threads, threads == 1 ? " " : "s", warmup);
    for (int e = 0; e < TIMED_EPOCHS && warmup >= 0; e++) {
        double s = nabla_epoch(&n, &loss);
        if (s < 0) {
            best = -1;
            break;
        }
        printf(" %.3f s", s);
        if (s < best) best = s;
    }
    if (warmup < 0 || best < 0) {
        printf("\n");
        fprintf(stderr, PROG ": nabla: %s\n", nb_last_error());
        net_free(&n);
        return -1;
    }
    printf("  (loss %.4f, test accuracy %.2f%%)\n", loss, nabla_accuracy(&n, d));
    fflush(stdout);
    net_free(&n);
    return best;
}

/* ---------------------------------------------------------------- PyTorch */

/* The script's epochs on `threads` threads, printed; the best after the first, or a negative
 * value when it failed. */
static double run_torch(const char *script, int threads)
{
    char threads_arg[16], epochs_arg[16];
    snprintf(threads_arg, sizeof threads_arg, "%d", threads);
    snprintf(epochs_arg, sizeof epochs_arg, "%d", TIMED_EPOCHS + 1);
    char *argv[] = {PYTHON, (char *)script, "--epochs", epochs_arg, "--threads", threads_arg, NULL};
    char *out;
    int status = spawn_capture(argv, &out);
    if (status != 0) {
        fprintf(stderr, PROG ": %s %s exited with status %d:\n%s\n", PYTHON, script, status, out ? out : "");
        free(out);
        return -1;
    }
    char who[32];
    snprintf(who, sizeof who, "PyTorch, %d thread%s", threads, threads == 1 ? " " : "s");
    double best = epoch_times_best(who, out);
    free(out);
    return best;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: " PROG " fashion_mnist_torch.py\n");
        return 2;
    }
    const char *script = argv[1];
    printf("%s\n", nb_config_string());
    fashion_data data;
    if (!fashion_load(PROG, FASHION_DEFAULT_DIR, &data)) return 77;

    /* nabla and PyTorch take turns, so that a change in the machine's load falls on both */
    bool torch = epoch_times_have_torch(PYTHON);
    if (!torch) printf("PyTorch: %s cannot import torch (install python3-torch): nabla's figures only\n", PYTHON);
    int default_threads = nb_get_num_threads();
    int nabla_threads[2] = {default_threads, 1};
    double nabla_best = INFINITY, torch_best = INFINITY;
    for (int round = 0; round < 2; round++) {
        if (round == 0 || default_threads != 1) {
            double s = run_nabla(&data, nabla_threads[round]);
            if (s < 0) {
                fashion_release(&data);
                return 1;
            }
            if (s < nabla_best) nabla_best = s;
        }
        if (torch) {
            double s = run_torch(script, round + 1); /* 1 thread, then 2 */
            if (s > 0 && s < torch_best) torch_best = s;
        }
    }
    nb_set_num_threads(default_threads);
    fashion_release(&data);

    if (!torch) {
        printf("nabla epoch, best: %.3f s\n", nabla_best);
        return 0;
    }
    if (!isfinite(torch_best)) return 1;
    printf("epoch, best of each: nabla %.3f s, PyTorch %.3f s\n", nabla_best, torch_best);
    printf("ratio (nabla epoch / PyTorch epoch, best of each): %.2f  goal <= %.1f\n", nabla_best / torch_best, GOAL);
    return 0;
}
