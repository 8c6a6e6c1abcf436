/* bench_attention.c — nb_scaled_dot_product_attention (fused) against the same attention composed
 * of nabla's own ops in the same process, softmax(q k^T / sqrt(D)) v through nb_matmul,
 * nb_mul_scalar, nb_softmax and nb_matmul: the forward, and the forward with the backward of q, k
 * and v (through autograd), float32, at (B, H, T, D) = (32, 4, 128, 32) and (8, 4, 1024, 32).
 * Each time is the best of several repetitions after a warm-up. On CUDA too when there is a
 * device (each repetition waits for the device by reading one element back); without one that
 * part says so. Prints the ratio fused time / composed time over all the CPU measurements last. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>

enum { WARMUP = 1, REPEATS = 5 };

typedef struct shape {
    int64_t b, h, t, d;
} shape;

static const shape shapes[] = {{32, 4, 128, 32}, {8, 4, 1024, 32}};

/* softmax(q k^T / sqrt(d)) v composed of nabla's ops */
static nb_tensor *composed(nb_tensor *q, nb_tensor *k, nb_tensor *v)
{
    const double scale = 1.0 / sqrt((double)nb_size(q, -1));
    return nb_matmul(nb_softmax(nb_mul_scalar(nb_matmul(q, nb_transpose(k, -2, -1)), scale), -1), v);
}

static nb_tensor *fused(nb_tensor *q, nb_tensor *k, nb_tensor *v)
{
    return nb_scaled_dot_product_attention(q, k, v, NULL);
}

/* Waits for t's device: reads one element back. */
static void wait_for(nb_tensor *t)
{
    if (nb_device_of(t).type != NB_CPU && nb_numel(t) > 0) (void)nb_item(nb_select(nb_flatten(t), 0, 0));
}

/* The best time of f's forward (backward false) or forward and backward, in seconds; < 0 on failure. */
static double best_of(nb_tensor *(*f)(nb_tensor *, nb_tensor *, nb_tensor *), nb_tensor *const *in, bool backward)
{
    double best = INFINITY;
    for (int rep = 0; rep < WARMUP + REPEATS; rep++) {
        nb_scope_begin();
        wait_for(in[0]);
        const double t0 = now_s();
        nb_tensor *y = f(in[0], in[1], in[2]);
        nb_status st = y ? NB_OK : nb_last_status();
        if (y && backward) {
            nb_tensor *g = nb_ones_like(y), *grads[3] = {NULL};
            st = nb_grad_of(1, &y, &g, 3, in, grads, false);
            wait_for(grads[0]);
        } else if (y) {
            wait_for(y);
        }
        const double t1 = now_s();
        if (st != NB_OK || nb_scope_end() != NB_OK) {
            fprintf(stderr, "attention failed: %s\n", nb_last_error());
            return -1;
        }
        if (rep >= WARMUP) best = fmin(best, t1 - t0);
    }
    return best;
}

/* Measures every shape on device; adds the fused and composed times to the sums. */
static bool measure(nb_device device, const char *name, double *sum_fused, double *sum_composed)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape s = shapes[i];
        nb_scope_begin();
        nb_manual_seed(1);
        const nb_options o = NB_OPTS(NB_FLOAT32, .device = device);
        nb_tensor *in[3]; /* (B, H, T, D) each, requiring grad */
        for (int t = 0; t < 3; t++) in[t] = nb_requires_grad_(nb_randn(NB_SHAPE(s.b, s.h, s.t, s.d), o), true);
        double times[2][2]; /* [fused, composed][forward, forward + backward] */
        for (int bw = 0; bw < 2; bw++) {
            times[0][bw] = best_of(fused, in, bw);
            times[1][bw] = best_of(composed, in, bw);
            if (times[0][bw] < 0 || times[1][bw] < 0) return false;
        }
        const double flops = 4.0 * s.b * s.h * s.t * s.t * s.d; /* the two products of the forward */
        printf("%s (B, H, T, D) = (%lld, %lld, %lld, %lld):\n", name, (long long)s.b, (long long)s.h, (long long)s.t,
               (long long)s.d);
        printf("  forward             fused %8.2f ms (%6.1f GFLOP/s)   composed %8.2f ms   fused/composed %.2f\n",
               times[0][0] * 1e3, flops / times[0][0] / 1e9, times[1][0] * 1e3, times[0][0] / times[1][0]);
        printf("  forward + backward  fused %8.2f ms                    composed %8.2f ms   fused/composed %.2f\n",
               times[0][1] * 1e3, times[1][1] * 1e3, times[0][1] / times[1][1]);
        for (int bw = 0; bw < 2; bw++) {
            *sum_fused += times[0][bw];
            *sum_composed += times[1][bw];
        }
        if (nb_scope_end() != NB_OK) return false;
    }
    return true;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    printf("float32, %d nabla threads, best of %d after %d warm-up\n", nb_get_num_threads(), REPEATS, WARMUP);
    double cuda_fused = 0, cuda_composed = 0, cpu_fused = 0, cpu_composed = 0;
    if (!no_cuda_device()) {
        if (!measure(NB_DEVICE_CUDA(0), "cuda:0", &cuda_fused, &cuda_composed)) return 1;
        printf("cuda ratio (fused / composed time, all shapes): %.3f\n", cuda_fused / cuda_composed);
    }
    if (!measure(NB_DEVICE_CPU, "cpu", &cpu_fused, &cpu_composed)) return 1;
    printf("ratio (fused / composed time on the CPU, all shapes): %.3f\n", cpu_fused / cpu_composed);
    return 0;
}
