/* block_sum.cuh — the fixed-order tree sum of a block's values that the row and channel kernels
 * (norm.cu, batch_norm.cu) share: deterministic, no atomics. */
#ifndef NB_KERNELS_CUDA_BLOCK_SUM_CUH
#define NB_KERNELS_CUDA_BLOCK_SUM_CUH

/* The sum of every thread's v in a fixed tree; every thread gets it. Called by the whole block of
 * THREADS threads (a power of two), with sh a shared buffer of THREADS doubles. */
template <int THREADS> __device__ double block_sum(double v, double *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    const double r = sh[0];
    __syncthreads(); /* sh is reused by the next call */
    return r;
}

#endif /* NB_KERNELS_CUDA_BLOCK_SUM_CUH */
