/* bench.h — what every benchmark shares: a monotonic clock, and the no-device exit of the CUDA
 * benchmarks (which print why and succeed, so a machine without a GPU runs them harmlessly). */
#ifndef NB_BENCH_H
#define NB_BENCH_H

#include <nabla.h>

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* Seconds on a monotonic clock. */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* True (after printing the reason) when there is no CUDA device to measure. */
static inline bool no_cuda_device(void)
{
    if (nb_cuda_device_count() > 0) return false;
    printf("no CUDA device: %s\n", nb_cuda_available_reason());
    return true;
}

#endif /* NB_BENCH_H */
