/* bench_index.c — nb_embedding forward and backward and nb_gather against PyTorch 1.13 on the
 * same machine, on one thread and on two.
 *
 *   bench_index SCRIPT   (SCRIPT: index_torch.py, passed by meson)
 *
 * Workloads: rows of a (50000, 128) float32 weight at 32768 random indices (forward), the
 * weight's gradient from a (32768, 128) output gradient (backward, functional: nb_grad_of
 * against torch.autograd.grad, timing the backward only), and a (4096, 1024) gather of 256
 * random indices per row along dim 1. Each figure is the best of 7 rounds of a round's mean,
 * and of two turns: nabla and PyTorch take turns (nabla, PyTorch, for 1 then 2 threads, twice),
 * so a shared machine's changing load falls on both.
 * Prints every figure and, last, the worst nabla / PyTorch ratio (goal <= 1: no slower). Without
 * PyTorch it prints nabla's figures only. */
#include "bench.h"
#include "spawn_capture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "bench_index"
#define PYTHON "/usr/bin/python3"
#define VOCAB 50000
#define DIM 128
#define TOKENS 32768
#define ROWS 4096
#define COLS 1024
#define PICKS 256
#define ROUNDS 7

enum { FORWARD, BACKWARD, GATHER, WORKLOADS };
static const char *const names[WORKLOADS] = {"embedding_forward", "embedding_backward", "gather"};

/* ---------------------------------------------------------------- nabla */

typedef struct inputs {
    nb_tensor *weight, *ids, *g, *x, *index;
} inputs;

static double time_forward(const inputs *in, int reps)
{
    nb_no_grad_begin();
    double best = INFINITY;
    nb_release(nb_embedding(in->weight, in->ids, NB_NO_PADDING)); /* warm-up */
    for (int r = 0; r < ROUNDS; r++) {
        const double t = now_s();
        for (int i = 0; i < reps; i++) nb_release(nb_embedding(in->weight, in->ids, NB_NO_PADDING));
        const double s = (now_s() - t) / reps;
        if (s < best) best = s;
    }
    nb_no_grad_end();
    return best;
}

/* one backward, timed alone */
static double one_backward(const inputs *in)
{
    nb_tensor *out = nb_embedding(in->weight, in->ids, NB_NO_PADDING);
    nb_tensor *grad = NULL;
    const double t = now_s();
    nb_status st = nb_grad_of(1, &out, &in->g, 1, &in->weight, &grad, false);
    const double s = now_s() - t;
    nb_release(grad);
    nb_release(out);
    return st == NB_OK ? s : NAN;
}

static double time_backward(const inputs *in, int reps)
{
    double best = INFINITY;
    one_backward(in);
    for (int r = 0; r < ROUNDS; r++) {
        double sum = 0;
        for (int i = 0; i < reps; i++) sum += one_backward(in);
        if (sum / reps < best) best = sum / reps;
    }
    return best;
}

static double time_gather(const inputs *in, int reps)
{
    double best = INFINITY;
    nb_release(nb_gather(in->x, 1, in->index));
    for (int r = 0; r < ROUNDS; r++) {
        const double t = now_s();
        for (int i = 0; i < reps; i++) nb_release(nb_gather(in->x, 1, in->index));
        const double s = (now_s() - t) / reps;
        if (s < best) best = s;
    }
    return best;
}

static bool run_nabla(const inputs *in, int threads, double *out)
{
    nb_set_num_threads(threads);
    out[FORWARD] = time_forward(in, 20);
    out[BACKWARD] = time_backward(in, 10);
    out[GATHER] = time_gather(in, 20);
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, PROG ": nabla: %s\n", nb_last_error());
        return false;
    }
    return true;
}

/* uniform int64 in [0, n) of shape (ndim, shape) */
static nb_tensor *random_ids(int ndim, const int64_t *shape, int64_t n)
{
    nb_tensor *u = nb_mul_scalar(nb_rand(ndim, shape, NB_OPTS(NB_FLOAT64)), (double)n);
    nb_tensor *ids = nb_to_dtype(u, NB_INT64);
    nb_release(u);
    return ids;
}

/* ---------------------------------------------------------------- PyTorch */

static bool run_torch(const char *script, int threads, double *out)
{
    char threads_arg[16];
    snprintf(threads_arg, sizeof threads_arg, "%d", threads);
    char *argv[] = {PYTHON, (char *)script, threads_arg, NULL};
    char *text;
    const int status = spawn_capture(argv, &text);
    bool ok = status == 0;
    for (int w = 0; w < WORKLOADS && ok; w++) {
        const char *p = text ? strstr(text, names[w]) : NULL;
        ok = p && sscanf(p + strlen(names[w]), "%lf", &out[w]) == 1;
    }
    if (!ok) fprintf(stderr, PROG ": %s %s %s (status %d) printed:\n%s\n", PYTHON, script, threads_arg, status,
                     text ? text : "");
    free(text);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: " PROG " index_torch.py\n");
        return 2;
    }
    printf("%s\n", nb_config_string());
    char *probe;
    char *probe_argv[] = {PYTHON, "-c", "import torch", NULL};
    const int probe_status = access(PYTHON, X_OK) == 0 ? spawn_capture(probe_argv, &probe) : -1;
    if (probe_status >= 0) free(probe);
    const bool torch = probe_status == 0;
    if (!torch) printf("PyTorch: %s cannot import torch: nabla's figures only\n", PYTHON);

    nb_manual_seed(0);
    inputs in = {
        .weight = nb_requires_grad_(nb_randn(NB_SHAPE(VOCAB, DIM), NB_OPTS(NB_FLOAT32)), true),
        .ids = random_ids(NB_SHAPE(TOKENS), VOCAB),
        .g = nb_randn(NB_SHAPE(TOKENS, DIM), NB_OPTS(NB_FLOAT32)),
        .x = nb_randn(NB_SHAPE(ROWS, COLS), NB_OPTS(NB_FLOAT32)),
        .index = random_ids(NB_SHAPE(ROWS, PICKS), COLS),
    };
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, PROG ": %s\n", nb_last_error());
        return 1;
    }
    double worst = 0;
    const int default_threads = nb_get_num_threads();
    double nabla[2][WORKLOADS], torch_s[2][WORKLOADS];
    bool have[2] = {torch, torch};
    for (int round = 0; round < 2; round++) /* turns: nabla, PyTorch, nabla, PyTorch per count */
        for (int threads = 1; threads <= 2; threads++) {
            double n[WORKLOADS], t[WORKLOADS];
            if (!run_nabla(&in, threads, n)) return 1;
            if (have[threads - 1]) have[threads - 1] = run_torch(argv[1], threads, t);
            for (int w = 0; w < WORKLOADS; w++) {
                if (round == 0 || n[w] < nabla[threads - 1][w]) nabla[threads - 1][w] = n[w];
                if (have[threads - 1] && (round == 0 || t[w] < torch_s[threads - 1][w])) torch_s[threads - 1][w] = t[w];
            }
        }
    for (int threads = 1; threads <= 2; threads++) {
        for (int w = 0; w < WORKLOADS; w++) {
            const double ns = nabla[threads - 1][w], ts = torch_s[threads - 1][w];
            printf("%-19s %d thread%s: nabla %8.3f ms", names[w], threads, threads == 1 ? " " : "s", ns * 1e3);
            if (have[threads - 1]) {
                const double ratio = ns / ts;
                printf(", PyTorch %8.3f ms, ratio %.2f", ts * 1e3, ratio);
                if (ratio > worst) worst = ratio;
            }
            printf("\n");
        }
        fflush(stdout);
    }
    nb_set_num_threads(default_threads);
    nb_release(in.weight);
    nb_release(in.ids);
    nb_release(in.g);
    nb_release(in.x);
    nb_release(in.index);
    if (torch && worst > 0) printf("ratio (nabla / PyTorch, worst of 3 workloads x 2 thread counts): %.2f  goal <= 1\n", worst);
    return 0;
}
