/* bench_cuda_conv.c — nb_conv2d (3x3, padding 1, float32) forward and backward on cuda:0 against
 * raw cublasSgemm at the equivalent GEMM shapes (bench_conv.c's, on the CPU, explains them):
 * the forward is (O, C·9)·(C·9, N·H·W), the backward the columns' gradient (C·9, O)·(O, N·H·W)
 * and the weight's (O, N·H·W)·(N·H·W, C·9). The shapes are fashion_cnn's two layers at batch 128
 * and a ResNet-style 64 -> 64 at 56x56, batch 32. Each side runs blocks of repetitions closed by
 * cudaDeviceSynchronize, interleaved; the best block counts. nabla's time includes its column
 * buffers, the bias, the autograd record and the allocator. Prints per shape the times and
 * TFLOP/s of both, and last the ratio of the totals (raw time / nabla time); without a device it
 * says so and exits 0. */
#include <nabla.h>
#include "bench.h"
#include "conv_shapes.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>

enum { WARMUP_BLOCKS = 1, BLOCKS = 5, PER_BLOCK = 10 };

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "bench_cuda_conv: %s: %s\n", what, why);
    return 1;
}

/* Row-major C (m, n) = op(A) op(B) with inner size k, as the column-major Cᵀ = op(B)ᵀ op(A)ᵀ. */
static void sgemm(cublasHandle_t h, bool ta, bool tb, int m, int n, int k, const float *a, const float *b, float *c)
{
    const float one = 1.0f, zero = 0.0f;
    cublasSgemm(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &one, b, tb ? k : n, a,
                ta ? m : k, &zero, c, n);
}

int main(void)
{
    printf("%s\n", nb_config_string());
    if (no_cuda_device()) return 0;
    const nb_device dev = NB_DEVICE_CUDA(0);
    cublasHandle_t handle;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) return fail("cublasCreate", "failed");
    char name[256];
    nb_cuda_device_name(0, name, sizeof name);
    printf("%s: float32, 3x3 kernels, padding 1, best block of %d after %d warm-up block(s)\n", name, PER_BLOCK,
           WARMUP_BLOCKS);
    nb_manual_seed(1);
    double total_nabla = 0, total_raw = 0;
    for (size_t s = 0; s < CONV_SHAPE_COUNT; s++) {
        const conv_shape *c = &conv_shapes[s];
        const int64_t k = c->c * 9, cols = c->n * c->h * c->w;
        const double flops = 2.0 * (double)c->o * (double)k * (double)cols;
        nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(c->n, c->c, c->h, c->w), NB_OPTS(NB_FLOAT32, .device = dev)),
                                         true);
        nb_tensor *w = nb_requires_grad_(
            nb_mul_scalar_(nb_randn(NB_SHAPE(c->o, c->c, 3, 3), NB_OPTS(NB_FLOAT32, .device = dev)), 0.1), true);
        nb_tensor *b = nb_requires_grad_(nb_zeros(NB_SHAPE(c->o), NB_OPTS(NB_FLOAT32, .device = dev)), true);
        nb_tensor *gy = nb_ones(NB_SHAPE(c->n, c->o, c->h, c->w), NB_OPTS(NB_FLOAT32, .device = dev));
        float *wm, *colm, *ym, *gcol, *gw; /* (O, K) (K, L) (O, L) (K, L) (O, K) */
        if (!x || !w || !b || !gy) return fail("setup", nb_last_error());
        if (cudaMalloc((void **)&wm, (size_t)(c->o * k) * 4) != cudaSuccess ||
            cudaMalloc((void **)&colm, (size_t)(k * cols) * 4) != cudaSuccess ||
            cudaMalloc((void **)&ym, (size_t)(c->o * cols) * 4) != cudaSuccess ||
            cudaMalloc((void **)&gcol, (size_t)(k * cols) * 4) != cudaSuccess ||
            cudaMalloc((void **)&gw, (size_t)(c->o * k) * 4) != cudaSuccess)
            return fail("cudaMalloc", cudaGetErrorString(cudaGetLastError()));
        cudaMemset(wm, 0, (size_t)(c->o * k) * 4), cudaMemset(colm, 0, (size_t)(k * cols) * 4);
        cudaMemset(ym, 0, (size_t)(c->o * cols) * 4);
        nb_conv2d_options o = NB_CONV2D_DEFAULTS;
        o.padding[0] = o.padding[1] = 1;
        double fwd = INFINITY, bwd = INFINITY, raw_fwd = INFINITY, raw_bwd = INFINITY;
        for (int blk = 0; blk < WARMUP_BLOCKS + BLOCKS; blk++) {
            double tf = 0, tb = 0;
            for (int r = 0; r < PER_BLOCK; r++) {
                nb_scope_begin();
                cudaDeviceSynchronize();
                double t0 = now_s();
                nb_tensor *y = nb_conv2d(x, w, b, &o);
                cudaDeviceSynchronize();
                double t1 = now_s();
                nb_tensor *grads[3] = {NULL};
                nb_status st =
                    y ? nb_grad_of(1, &y, &gy, 3, (nb_tensor *const[]){x, w, b}, grads, false) : NB_ERR_ARGUMENT;
                cudaDeviceSynchronize();
                double t2 = now_s();
                if (st != NB_OK) return fail("nb_conv2d", nb_last_error());
                nb_scope_end();
                tf += t1 - t0, tb += t2 - t1;
            }
            cudaDeviceSynchronize();
            double t3 = now_s();
            for (int r = 0; r < PER_BLOCK; r++) sgemm(handle, false, false, (int)c->o, (int)cols, (int)k, wm, colm, ym);
            cudaDeviceSynchronize();
            double t4 = now_s();
            for (int r = 0; r < PER_BLOCK; r++) {
                sgemm(handle, true, false, (int)k, (int)cols, (int)c->o, wm, ym, gcol); /* Wᵀ (K, O) · gY (O, L) */
                sgemm(handle, false, true, (int)c->o, (int)k, (int)cols, ym, colm, gw); /* gY (O, L) · colᵀ (L, K) */
            }
            cudaDeviceSynchronize();
            double t5 = now_s();
            if (blk < WARMUP_BLOCKS) continue;
            fwd = fmin(fwd, tf / PER_BLOCK), bwd = fmin(bwd, tb / PER_BLOCK);
            raw_fwd = fmin(raw_fwd, (t4 - t3) / PER_BLOCK), raw_bwd = fmin(raw_bwd, (t5 - t4) / PER_BLOCK);
        }
        cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return fail("cuBLAS", cudaGetErrorString(err));
        printf("%s: %.2f GFLOP forward\n", c->what, flops * 1e-9);
        printf("  nabla forward  %8.3f ms %6.2f TFLOP/s   raw cuBLAS %8.3f ms %6.2f TFLOP/s   ratio %.3f\n", fwd * 1e3,
               flops / fwd * 1e-12, raw_fwd * 1e3, flops / raw_fwd * 1e-12, raw_fwd / fwd);
        printf("  nabla backward %8.3f ms %6.2f TFLOP/s   raw cuBLAS %8.3f ms %6.2f TFLOP/s   ratio %.3f\n", bwd * 1e3,
               2 * flops / bwd * 1e-12, raw_bwd * 1e3, 2 * flops / raw_bwd * 1e-12, raw_bwd / bwd);
        total_nabla += fwd + bwd, total_raw += raw_fwd + raw_bwd;
        nb_release(x), nb_release(w), nb_release(b), nb_release(gy);
        cudaFree(wm), cudaFree(colm), cudaFree(ym), cudaFree(gcol), cudaFree(gw);
    }
    cublasDestroy(handle);
    printf("ratio (nabla/raw cuBLAS TFLOP/s, forward and backward, all shapes): %.3f\n", total_raw / total_nabla);
    return 0;
}
