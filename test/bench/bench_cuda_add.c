/* bench_cuda_add.c — the bandwidth of nb_add on two 256M-float tensors (1 GiB each) on cuda:0
 * against cudaMemcpy of 1 GiB from device to device. Bytes moved: 3 GiB for an add (read a,
 * read b, write the result), 2 GiB for the copy (read, write). Each is timed over a block of
 * back-to-back calls closed by cudaDeviceSynchronize; the best block counts. nb_add takes its
 * result from the caching allocator (after the first call, with no cudaMalloc) and nb_add_ writes
 * in place. Prints GB/s of each and, last, nb_add's ratio to the copy; without a device it says
 * so and exits 0. */
#include <nabla.h>
#include "bench.h"

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

enum { NUMEL = 256 << 20, WARMUP_BLOCKS = 1, BLOCKS = 5, PER_BLOCK = 5 };
static const double GOAL = 0.8;

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "bench_cuda_add: %s: %s\n", what, why);
    return 1;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    if (no_cuda_device()) return 0;
    const nb_options on_gpu = NB_OPTS(NB_FLOAT32, .device = NB_DEVICE_CUDA(0));
    const size_t bytes = (size_t)NUMEL * sizeof(float);
    nb_tensor *a = nb_full(NB_SHAPE(NUMEL), 1.5, on_gpu);   /* (NUMEL,) */
    nb_tensor *b = nb_full(NB_SHAPE(NUMEL), -0.25, on_gpu); /* (NUMEL,) */
    nb_tensor *acc = nb_zeros(NB_SHAPE(NUMEL), on_gpu);     /* (NUMEL,) in-place target */
    if (!a || !b || !acc) return fail("setup", nb_last_error());
    void *src, *dst;
    if (cudaMalloc(&src, bytes) != cudaSuccess || cudaMalloc(&dst, bytes) != cudaSuccess)
        return fail("cudaMalloc", cudaGetErrorString(cudaGetLastError()));
    cudaMemset(src, 1, bytes);
    cudaMemset(dst, 2, bytes);

    double best_add = INFINITY, best_inplace = INFINITY, best_copy = INFINITY;
    for (int blk = 0; blk < WARMUP_BLOCKS + BLOCKS; blk++) {
        cudaDeviceSynchronize();
        double t0 = now_s();
        for (int r = 0; r < PER_BLOCK; r++) {
            nb_tensor *c = nb_add(a, b);
            if (!c) return fail("nb_add", nb_last_error());
            nb_release(c);
        }
        cudaDeviceSynchronize();
        double t1 = now_s();
        for (int r = 0; r < PER_BLOCK; r++)
            if (!nb_add_(acc, b)) return fail("nb_add_", nb_last_error());
        cudaDeviceSynchronize();
        double t2 = now_s();
        for (int r = 0; r < PER_BLOCK; r++) cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice);
        cudaDeviceSynchronize();
        double t3 = now_s();
        if (blk < WARMUP_BLOCKS) continue;
        best_add = fmin(best_add, (t1 - t0) / PER_BLOCK);
        best_inplace = fmin(best_inplace, (t2 - t1) / PER_BLOCK);
        best_copy = fmin(best_copy, (t3 - t2) / PER_BLOCK);
    }
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return fail("cudaMemcpy", cudaGetErrorString(err));
    nb_tensor *check = nb_sum(nb_add(a, b)); /* 1.25 * NUMEL */
    double sum = nb_item(check);
    nb_cuda_stats stats;
    nb_cuda_memory_stats(0, &stats);

    const double gb = bytes / 1e9;
    double bw_add = 3 * gb / best_add, bw_inplace = 3 * gb / best_inplace, bw_copy = 2 * gb / best_copy;
    char name[256];
    nb_cuda_device_name(0, name, sizeof name);
    printf("%s: %d floats (%.2f GB per tensor), best block of %d after %d warm-up block(s)\n", name, NUMEL, gb,
           PER_BLOCK, WARMUP_BLOCKS);
    printf("nb_add (new result):  %7.3f ms  %7.1f GB/s (3 x %.2f GB)\n", best_add * 1e3, bw_add, gb);
    printf("nb_add_ (in place):   %7.3f ms  %7.1f GB/s (3 x %.2f GB)\n", best_inplace * 1e3, bw_inplace, gb);
    printf("cudaMemcpy D2D:       %7.3f ms  %7.1f GB/s (2 x %.2f GB)\n", best_copy * 1e3, bw_copy, gb);
    printf("check: sum of a + b = %.6g (expected %.6g); cudaMalloc calls %llu\n", sum, 1.25 * NUMEL,
           (unsigned long long)stats.num_device_allocs);
    printf("ratio (nb_add / cudaMemcpy bandwidth): %.3f  goal >= %.2f\n", bw_add / bw_copy, GOAL);
    nb_release(check);
    nb_release(a);
    nb_release(b);
    nb_release(acc);
    cudaFree(src);
    cudaFree(dst);
    return 0;
}
