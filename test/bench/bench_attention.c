/* bench_attention.c — nb_scaled_dot_product_attention (fused) against the same attention composed
 * of nabla's own ops in the same process, softmax(q k^T / sqrt(D)) v through nb_matmul,
 * nb_mul_scalar, nb_softmax and nb_matmul (and, causal, nb_masked_fill), and against PyTorch's
 * F.scaled_dot_product_attention on the CPU (sdpa_torch.py, run as a child program): the forward,
 * and the forward with the backward of q, k and v (through autograd), float32, at
 * (B, H, T, D) = (32, 4, 128, 32) and (32, 4, 1024, 32).
 *
 *   bench_attention [--causal] [sdpa_torch.py]
 *
 * --causal: every query attends only the keys up to its own (the gpt sample's attention); else no
 * mask. Each time is the best of several repetitions after a warm-up. On CUDA too when there is a
 * device (each repetition waits for the device by reading one element back); without one that
 * part says so. PyTorch runs on 1 and on 2 threads (the better counts) with the Python NB_PYTHON
 * names (default /usr/bin/python3); without the script, torch or its scaled_dot_product_attention
 * (PyTorch 2.0 and later; Debian's 1.13 has none) that part is skipped with a message. Prints the
 * ratio fused time / composed time over all the CPU measurements and, last when PyTorch ran, nabla's
 * fused time / PyTorch's over all of them. */
#include <nabla.h>
#include "bench.h"
#include "spawn_capture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { WARMUP = 1, REPEATS = 5 };

typedef struct shape {
    int64_t b, h, t, d;
} shape;

static const shape shapes[] = {{32, 4, 128, 32}, {32, 4, 1024, 32}};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static bool causal;

/* softmax(q k^T / sqrt(d) (+ the causal mask)) v composed of nabla's ops */
static nb_tensor *composed(nb_tensor *q, nb_tensor *k, nb_tensor *v)
{
    const double scale = 1.0 / sqrt((double)nb_size(q, -1));
    nb_tensor *scores = nb_mul_scalar(nb_matmul(q, nb_transpose(k, -2, -1)), scale); /* (B, H, T, T) */
    if (causal) {
        const int64_t t = nb_size(q, -2);
        nb_tensor *future = nb_triu(nb_ones(NB_SHAPE(t, t), NB_OPTS(NB_BOOL, .device = nb_device_of(q))), 1);
        scores = nb_masked_fill(scores, future, -INFINITY); /* (B, H, T, T) */
    }
    return nb_matmul(nb_softmax(scores, -1), v);
}

static nb_tensor *fused(nb_tensor *q, nb_tensor *k, nb_tensor *v)
{
    return nb_scaled_dot_product_attention(q, k, v, &(nb_sdpa_options){.is_causal = causal});
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

/* Measures every shape on device; adds the fused and composed times to the sums and, when fused is
 * not NULL, stores the fused times, [shape][forward, forward + backward]. */
static bool measure(nb_device device, const char *name, double *sum_fused, double *sum_composed,
                    double (*fused_times)[2])
{
    for (size_t i = 0; i < NSHAPES; i++) {
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
            if (fused_times) fused_times[i][bw] = times[0][bw];
        }
        if (nb_scope_end() != NB_OK) return false;
    }
    return true;
}

/* PyTorch's best times on 1 and 2 threads, [shape][forward, forward + backward], from script's
 * output; false after a message when it cannot run. */
static bool measure_torch(const char *script, double (*best)[2])
{
    const char *python = getenv("NB_PYTHON") ? getenv("NB_PYTHON") : "/usr/bin/python3";
    if (!script || access(python, X_OK) != 0) {
        printf("PyTorch: %s: skipped\n", script ? "no Python at NB_PYTHON" : "no sdpa_torch.py given");
        return false;
    }
    char specs[NSHAPES][64];
    for (int i = 0; i < NSHAPES; i++)
        snprintf(specs[i], sizeof specs[i], "%lld,%lld,%lld,%lld", (long long)shapes[i].b, (long long)shapes[i].h,
                 (long long)shapes[i].t, (long long)shapes[i].d);
    for (int i = 0; i < NSHAPES; i++) best[i][0] = best[i][1] = INFINITY;
    for (int threads = 1; threads <= 2; threads++) {
        char t[8], repeats[8];
        snprintf(t, sizeof t, "%d", threads);
        snprintf(repeats, sizeof repeats, "%d", REPEATS);
        char *argv[16] = {(char *)python, (char *)script, "--threads", t, "--repeats", repeats};
        int n = 6;
        if (causal) argv[n++] = "--causal";
        for (int i = 0; i < NSHAPES; i++) argv[n++] = specs[i];
        argv[n] = NULL;
        char *out = NULL;
        const int status = spawn_capture(argv, &out);
        if (status != 0) {
            printf("PyTorch (%s): skipped: %s exited with status %d%s%s", python, script, status, out ? ": " : "",
                   out ? out : "\n");
            free(out);
            return false;
        }
        printf("PyTorch F.scaled_dot_product_attention, %d thread%s:\n", threads, threads == 1 ? "" : "s");
        for (int i = 0; i < NSHAPES; i++) {
            for (int bw = 0; bw < 2; bw++) {
                char key[192];
                snprintf(key, sizeof key, "sdpa %s %s ", specs[i], bw ? "backward" : "forward");
                for (char *c = key; *c; c++)
                    if (*c == ',') *c = ' ';
                const char *p = out ? strstr(out, key) : NULL;
                double ms = p ? atof(p + strlen(key)) : -1;
                if (ms <= 0) {
                    printf("PyTorch: no \"%s\" in its output: skipped\n%s", key, out ? out : "");
                    free(out);
                    return false;
                }
                printf("  (%s)  %-19s %8.2f ms\n", specs[i], bw ? "forward + backward" : "forward", ms);
                best[i][bw] = fmin(best[i][bw], ms / 1e3);
            }
        }
        free(out);
    }
    return true;
}

int main(int argc, char **argv)
{
    const char *script = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--causal") == 0) causal = true;
        else script = argv[i];
    }
    printf("%s\n", nb_config_string());
    printf("float32, %s, %d nabla threads, best of %d after %d warm-up\n", causal ? "causal" : "no mask",
           nb_get_num_threads(), REPEATS, WARMUP);
    double cuda_fused = 0, cuda_composed = 0, cpu_fused = 0, cpu_composed = 0;
    if (!no_cuda_device()) {
        if (!measure(NB_DEVICE_CUDA(0), "cuda:0", &cuda_fused, &cuda_composed, NULL)) return 1;
        printf("cuda ratio (fused / composed time, all shapes): %.3f\n", cuda_fused / cuda_composed);
    }
    double nabla[NSHAPES][2], torch[NSHAPES][2];
    if (!measure(NB_DEVICE_CPU, "cpu", &cpu_fused, &cpu_composed, nabla)) return 1;
    fflush(stdout);
    const bool have_torch = measure_torch(script, torch);
    printf("ratio (fused / composed time on the CPU, all shapes): %.3f\n", cpu_fused / cpu_composed);
    if (have_torch) {
        double sum_torch = 0;
        for (int i = 0; i < NSHAPES; i++)
            for (int bw = 0; bw < 2; bw++) {
                printf("  (%lld, %lld, %lld, %lld) %-19s nabla fused / PyTorch SDPA %.2f\n", (long long)shapes[i].b,
                       (long long)shapes[i].h, (long long)shapes[i].t, (long long)shapes[i].d,
                       bw ? "forward + backward" : "forward", nabla[i][bw] / torch[i][bw]);
                sum_torch += torch[i][bw];
            }
        printf("ratio (nabla fused / PyTorch SDPA time on the CPU, the better of 1 and 2 threads, all shapes): %.3f\n",
               cpu_fused / sum_torch);
    }
    return 0;
}
