/* bench_cuda_mm.c — nb_mm of two 4096 x 4096 float32 matrices on cuda:0 against raw cublasSgemm
 * on buffers of the same values. Each side runs blocks of back-to-back products closed by
 * cudaDeviceSynchronize (so the time is the GPU's, queueing included), interleaved so that clock
 * and thermal drift hit both alike; the best block gives each side's TFLOP/s. nb_mm's time
 * includes taking its result from the caching allocator and giving it back. Prints the ratio
 * last; without a device it says so and exits 0. */
#include <nabla.h>
#include "bench.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { SIZE = 4096, WARMUP_BLOCKS = 1, BLOCKS = 5, PER_BLOCK = 10 };
static const double GOAL = 0.95;

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "bench_cuda_mm: %s: %s\n", what, why);
    return 1;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    if (no_cuda_device()) return 0;
    const int64_t n = SIZE;
    const size_t bytes = (size_t)(n * n) * sizeof(float);
    const double flops = 2.0 * n * n * n;

    nb_manual_seed(1);
    nb_tensor *a_host = nb_randn(NB_SHAPE(n, n), NB_OPTS(NB_FLOAT32)); /* (n, n) */
    nb_tensor *b_host = nb_randn(NB_SHAPE(n, n), NB_OPTS(NB_FLOAT32)); /* (n, n) */
    nb_tensor *a = nb_to(a_host, NB_DEVICE_CUDA(0)), *b = nb_to(b_host, NB_DEVICE_CUDA(0));
    if (!a || !b) return fail("setup", nb_last_error());

    /* the raw side: its own device buffers holding the same values */
    float *da, *db, *dc;
    if (cudaMalloc((void **)&da, bytes) != cudaSuccess || cudaMalloc((void **)&db, bytes) != cudaSuccess ||
        cudaMalloc((void **)&dc, bytes) != cudaSuccess)
        return fail("cudaMalloc", cudaGetErrorString(cudaGetLastError()));
    cudaMemcpy(da, nb_data(a_host), bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(db, nb_data(b_host), bytes, cudaMemcpyHostToDevice);
    cublasHandle_t handle;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) return fail("cublasCreate", "failed");
    const float one = 1.0f, zero = 0.0f;

    double best_nabla = INFINITY, best_raw = INFINITY;
    for (int blk = 0; blk < WARMUP_BLOCKS + BLOCKS; blk++) {
        cudaDeviceSynchronize();
        double t0 = now_s();
        for (int r = 0; r < PER_BLOCK; r++) {
            nb_tensor *c = nb_mm(a, b);
            if (!c) return fail("nb_mm", nb_last_error());
            nb_release(c);
        }
        cudaDeviceSynchronize();
        double t1 = now_s();
        for (int r = 0; r < PER_BLOCK; r++) /* row-major C = A·B as column-major Cᵀ = Bᵀ·Aᵀ */
            cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, SIZE, SIZE, SIZE, &one, db, SIZE, da, SIZE, &zero, dc, SIZE);
        cudaDeviceSynchronize();
        double t2 = now_s();
        if (blk < WARMUP_BLOCKS) continue;
        best_nabla = fmin(best_nabla, (t1 - t0) / PER_BLOCK);
        best_raw = fmin(best_raw, (t2 - t1) / PER_BLOCK);
    }
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return fail("cuBLAS", cudaGetErrorString(err));

    /* the two results agree */
    nb_tensor *c = nb_mm(a, b);
    float *c_nabla = malloc(bytes), *c_raw = malloc(bytes);
    if (!c || !c_nabla || !c_raw || nb_copy_to_array(c, c_nabla, bytes) != NB_OK) return fail("result", nb_last_error());
    cudaMemcpy(c_raw, dc, bytes, cudaMemcpyDeviceToHost);
    double max_diff = 0;
    for (int64_t i = 0; i < n * n; i++) max_diff = fmax(max_diff, fabs((double)c_nabla[i] - c_raw[i]));

    char name[256];
    nb_cuda_device_name(0, name, sizeof name);
    double tf_nabla = flops / best_nabla * 1e-12, tf_raw = flops / best_raw * 1e-12;
    printf("%s: %lld^3 float32, best block of %d after %d warm-up block(s), %d blocks\n", name, (long long)n,
           PER_BLOCK, WARMUP_BLOCKS, BLOCKS);
    printf("nabla nb_mm:      %8.3f ms  %7.2f TFLOP/s\n", best_nabla * 1e3, tf_nabla);
    printf("raw cublasSgemm:  %8.3f ms  %7.2f TFLOP/s\n", best_raw * 1e3, tf_raw);
    printf("largest difference between the two results: %g\n", max_diff);
    printf("ratio (nabla/raw cuBLAS TFLOP/s): %.3f  goal >= %.2f\n", tf_nabla / tf_raw, GOAL);

    free(c_nabla);
    free(c_raw);
    nb_release(c);
    nb_release(a);
    nb_release(b);
    nb_release(a_host);
    nb_release(b_host);
    cublasDestroy(handle);
    cudaFree(da);
    cudaFree(db);
    cudaFree(dc);
    return 0;
}
