/* bench_cuda_half_mm.c — nb_mm of two 4096 x 4096 matrices on cuda:0 in float16, bfloat16 and
 * float32 with TF32 (nb_set_float32_matmul_precision("high")), each against raw cublasGemmEx at
 * the same precision (half operands and result with CUBLAS_COMPUTE_32F; float32 with
 * CUBLAS_COMPUTE_32F_FAST_TF32) on buffers of the same values, in the same process. As in
 * bench_cuda_mm, each side runs blocks of back-to-back products closed by cudaDeviceSynchronize,
 * interleaved, and the best block gives its TFLOP/s. Prints the ratios last; without a device it
 * says so and exits 0. */
#include <nabla.h>
#include "bench.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { SIZE = 4096, WARMUP_BLOCKS = 1, BLOCKS = 5, PER_BLOCK = 10 };

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "bench_cuda_half_mm: %s: %s\n", what, why);
    return 1;
}

typedef struct precision {
    const char *name;
    nb_dtype dtype;             /* of the tensors and the raw buffers */
    cudaDataType type;          /* cublasGemmEx's name for it */
    cublasComputeType_t compute;
} precision;

/* Best seconds per product of nabla's nb_mm and raw cublasGemmEx at p; the largest difference
 * between their results (as float32) in *max_diff. Returns nonzero on failure. */
static int measure(const precision *p, cublasHandle_t handle, double *t_nabla, double *t_raw, double *max_diff)
{
    const int64_t n = SIZE;
    const size_t esize = nb_dtype_size(p->dtype), bytes = (size_t)(n * n) * esize;
    nb_manual_seed(1);
    nb_tensor *a32 = nb_randn(NB_SHAPE(n, n), NB_OPTS(NB_FLOAT32)); /* (n, n) */
    nb_tensor *b32 = nb_randn(NB_SHAPE(n, n), NB_OPTS(NB_FLOAT32)); /* (n, n) */
    nb_tensor *a_host = nb_to_dtype(a32, p->dtype), *b_host = nb_to_dtype(b32, p->dtype);
    nb_tensor *a = nb_to(a_host, NB_DEVICE_CUDA(0)), *b = nb_to(b_host, NB_DEVICE_CUDA(0));
    if (!a || !b) return fail("setup", nb_last_error());
    void *da, *db, *dc;
    if (cudaMalloc(&da, bytes) != cudaSuccess || cudaMalloc(&db, bytes) != cudaSuccess ||
        cudaMalloc(&dc, bytes) != cudaSuccess)
        return fail("cudaMalloc", cudaGetErrorString(cudaGetLastError()));
    cudaMemcpy(da, nb_data(a_host), bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(db, nb_data(b_host), bytes, cudaMemcpyHostToDevice);
    const float one = 1.0f, zero = 0.0f;

    *t_nabla = *t_raw = INFINITY;
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
            if (cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, SIZE, SIZE, SIZE, &one, db, p->type, SIZE, da, p->type,
                             SIZE, &zero, dc, p->type, SIZE, p->compute, CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS)
                return fail("cublasGemmEx", p->name);
        cudaDeviceSynchronize();
        double t2 = now_s();
        if (blk < WARMUP_BLOCKS) continue;
        *t_nabla = fmin(*t_nabla, (t1 - t0) / PER_BLOCK);
        *t_raw = fmin(*t_raw, (t2 - t1) / PER_BLOCK);
    }
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return fail("cuBLAS", cudaGetErrorString(err));

    /* the two results agree (both as float32) */
    nb_tensor *c = nb_to_dtype(nb_to(nb_mm(a, b), NB_DEVICE_CPU), NB_FLOAT32);
    nb_tensor *raw = nb_empty(NB_SHAPE(n, n), NB_OPTS(p->dtype));
    if (!c || !raw) return fail("result", nb_last_error());
    cudaMemcpy(nb_data(raw), dc, bytes, cudaMemcpyDeviceToHost);
    nb_tensor *raw32 = nb_to_dtype(raw, NB_FLOAT32);
    const float *cv = nb_data(c), *rv = nb_data(raw32);
    *max_diff = 0;
    for (int64_t i = 0; i < n * n; i++) *max_diff = fmax(*max_diff, fabs((double)cv[i] - rv[i]));
    nb_release(c);
    nb_release(raw);
    nb_release(raw32);
    nb_release(a), nb_release(b), nb_release(a_host), nb_release(b_host), nb_release(a32), nb_release(b32);
    cudaFree(da);
    cudaFree(db);
    cudaFree(dc);
    return 0;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    if (no_cuda_device()) return 0;
    cublasHandle_t handle;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) return fail("cublasCreate", "failed");
    const precision ps[3] = {
        {"float16", NB_FLOAT16, CUDA_R_16F, CUBLAS_COMPUTE_32F},
        {"bfloat16", NB_BFLOAT16, CUDA_R_16BF, CUBLAS_COMPUTE_32F},
        {"float32 TF32", NB_FLOAT32, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32},
    };
    const double flops = 2.0 * SIZE * SIZE * (double)SIZE;
    double ratio[3];
    char name[256];
    nb_cuda_device_name(0, name, sizeof name);
    printf("%s: %d^3, best block of %d after %d warm-up block(s), %d blocks\n", name, SIZE, PER_BLOCK,
           WARMUP_BLOCKS, BLOCKS);
    for (int i = 0; i < 3; i++) {
        double tn, tr, diff;
        if (ps[i].dtype == NB_FLOAT32) nb_set_float32_matmul_precision("high");
        int rc = measure(&ps[i], handle, &tn, &tr, &diff);
        nb_set_float32_matmul_precision("highest");
        if (rc) return rc;
        const double tf_n = flops / tn * 1e-12, tf_r = flops / tr * 1e-12;
        ratio[i] = tf_n / tf_r;
        printf("%-13s nabla nb_mm %8.3f ms %7.1f TFLOP/s   raw cublasGemmEx %8.3f ms %7.1f TFLOP/s   "
               "largest difference %g\n",
               ps[i].name, tn * 1e3, tf_n, tr * 1e3, tf_r, diff);
    }
    cublasDestroy(handle);
    for (int i = 0; i < 3; i++) printf("ratio (%s: nabla/raw cublasGemmEx TFLOP/s): %.3f\n", ps[i].name, ratio[i]);
    return 0;
}
