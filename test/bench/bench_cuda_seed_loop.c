/* bench_cuda_seed_loop.c — the seed loop (seed_loops.c's nabla_step: hand-written gradients, one
 * nb_item per step, which waits for the device) on cuda:0 and on the CPU, from the same weights.
 * Blocks of steps alternate between the devices; the fastest block of each gives its
 * microseconds per step. Prints both, the losses (the devices must agree), the GPU's cudaMalloc
 * calls during the timed steps (0 once the cache is warm) and, last, the speedup cpu/gpu.
 * At these sizes (64 x 1000 x 100 x 10) a step is a dozen small kernels: the GPU's time is mostly
 * launch and synchronisation latency. Without a device it says so and exits 0. */
#include "bench.h"
#include "seed_loops.h"

#include <math.h>
#include <stdio.h>

enum { WARMUP = 20, BLOCKS = 10, PER_BLOCK = 25 };
static const double LEARNING_RATE = 1e-6;

typedef struct net {
    nb_tensor *x, *y, *w1, *w2;
    double us_per_step, loss;
} net;

static bool make_net(net *n, nb_device device)
{
    nb_manual_seed(0);
    nb_tensor *t[4] = {nb_randn(NB_SHAPE(N, D_IN), NB_OPTS(NB_FLOAT32)), nb_randn(NB_SHAPE(N, D_OUT), NB_OPTS(NB_FLOAT32)),
                       nb_randn(NB_SHAPE(D_IN, H), NB_OPTS(NB_FLOAT32)), nb_randn(NB_SHAPE(H, D_OUT), NB_OPTS(NB_FLOAT32))};
    nb_tensor *moved[4];
    for (int k = 0; k < 4; k++) {
        moved[k] = nb_to(t[k], device);
        nb_release(t[k]);
    }
    *n = (net){moved[0], moved[1], moved[2], moved[3], INFINITY, NAN};
    return nb_last_status() == NB_OK;
}

static bool run_block(net *n, int steps)
{
    double t0 = now_us();
    for (int s = 0; s < steps; s++) n->loss = nabla_step(n->x, n->y, n->w1, n->w2, LEARNING_RATE);
    double us = (now_us() - t0) / steps;
    if (isnan(n->loss)) return false;
    if (us < n->us_per_step) n->us_per_step = us;
    return true;
}

static void free_net(net *n)
{
    nb_release(n->x);
    nb_release(n->y);
    nb_release(n->w1);
    nb_release(n->w2);
}

int main(void)
{
    printf("%s\n", nb_config_string());
    if (no_cuda_device()) return 0;
    net gpu, cpu;
    if (!make_net(&gpu, NB_DEVICE_CUDA(0)) || !make_net(&cpu, NB_DEVICE_CPU)) {
        fprintf(stderr, "bench_cuda_seed_loop: setup: %s\n", nb_last_error());
        return 1;
    }
    for (int s = 0; s < WARMUP; s++) {
        nabla_step(gpu.x, gpu.y, gpu.w1, gpu.w2, LEARNING_RATE);
        nabla_step(cpu.x, cpu.y, cpu.w1, cpu.w2, LEARNING_RATE);
    }
    nb_cuda_stats before, after;
    nb_cuda_memory_stats(0, &before);
    for (int b = 0; b < BLOCKS; b++) {
        if (!run_block(&gpu, PER_BLOCK) || !run_block(&cpu, PER_BLOCK)) {
            fprintf(stderr, "bench_cuda_seed_loop: %s\n", nb_last_error());
            return 1;
        }
    }
    nb_cuda_memory_stats(0, &after);
    char name[256];
    nb_cuda_device_name(0, name, sizeof name);
    const int steps = WARMUP + BLOCKS * PER_BLOCK;
    printf("seed loop (N=%d, D_in=%d, H=%d, D_out=%d), fastest block of %d steps, %d steps each\n", N, D_IN, H,
           D_OUT, PER_BLOCK, steps);
    printf("cuda:0 (%s): %8.1f us/step  loss after %d steps %.9g\n", name, gpu.us_per_step, steps, gpu.loss);
    printf("cpu (%d threads): %8.1f us/step  loss after %d steps %.9g\n", nb_get_num_threads(), cpu.us_per_step,
           steps, cpu.loss);
    printf("cudaMalloc calls during the timed steps: %llu, cudaFree calls: %llu\n",
           (unsigned long long)(after.num_device_allocs - before.num_device_allocs),
           (unsigned long long)(after.num_device_frees - before.num_device_frees));
    printf("ratio (cpu/gpu time per step, the GPU's speedup): %.3f\n", cpu.us_per_step / gpu.us_per_step);
    free_net(&gpu);
    free_net(&cpu);
    return 0;
}
