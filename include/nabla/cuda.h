/* nabla/cuda.h — CUDA devices: how many there are, their names and memory, and the statistics of
 * nabla's caching allocator (included by nabla.h). Declared in every build: a build without CUDA
 * reports no devices, and its calls fail with NB_ERR_DEVICE "nabla was built without CUDA".
 *
 * Having no usable GPU (none present, or a driver older than the CUDA runtime) is a normal state:
 * nb_cuda_device_count() returns 0 and nb_cuda_available_reason() says why. */
#ifndef NABLA_CUDA_H
#define NABLA_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

/* Usable CUDA devices; 0 without a GPU, without a driver, or in a build without CUDA. */
int nb_cuda_device_count(void);
/* Why there is no device ("no CUDA-capable device is detected", CUDA's own words, or "nabla was
 * built without CUDA"); "" when there is at least one. */
const char *nb_cuda_available_reason(void);
/* The name of device index ("NVIDIA H100 80GB HBM3") into buf (at most size bytes, terminated). */
nb_status nb_cuda_device_name(int index, char *buf, size_t size);
/* Free and total memory of device index, in bytes, as the driver reports them. */
nb_status nb_cuda_memory(int index, size_t *free_bytes, size_t *total_bytes);

/* The caching allocator of one device. Freed tensors return their blocks to a cache that later
 * tensors reuse, so a steady-state training step calls neither cudaMalloc nor cudaFree. Setting
 * NB_CUDA_NO_CACHE=1 in the environment (read when a device is first used) turns the cache off:
 * every release is a cudaFree, for leak hunts with compute-sanitizer. */
typedef struct nb_cuda_stats {
    size_t allocated;          /* bytes in blocks held by live storages (rounded sizes) */
    size_t reserved;           /* bytes obtained from cudaMalloc and not yet returned */
    size_t peak_allocated;     /* the most `allocated` has been */
    uint64_t num_device_allocs; /* cudaMalloc calls so far */
    uint64_t num_device_frees;  /* cudaFree calls so far */
} nb_cuda_stats;

nb_status nb_cuda_memory_stats(int index, nb_cuda_stats *out);
/* Returns every cached block that no tensor uses to the driver (cudaFree), on every device. */
void nb_cuda_empty_cache(void);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_CUDA_H */
