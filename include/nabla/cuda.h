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
NB_API int nb_cuda_device_count(void);
/* Why there is no device ("no CUDA-capable device is detected", CUDA's own words, or "nabla was
 * built without CUDA"); "" when there is at least one. */
NB_API const char *nb_cuda_available_reason(void);
/* The name of device index ("NVIDIA H100 80GB HBM3") into buf (at most size bytes, terminated). */
NB_API nb_status nb_cuda_device_name(int index, char *buf, size_t size);
/* Free and total memory of device index, in bytes, as the driver reports them. */
NB_API nb_status nb_cuda_memory(int index, size_t *free_bytes, size_t *total_bytes);

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

NB_API nb_status nb_cuda_memory_stats(int index, nb_cuda_stats *out);
/* Returns every cached block that no tensor uses to the driver (cudaFree), on every device. */
NB_API void nb_cuda_empty_cache(void);

/* ---------------------------------------------------------------- step replay (CUDA Graphs)
 *
 * A training step whose shapes and tensors stay the same can be captured once and replayed, so
 * later steps cost one launch instead of one per op (and no host work at all):
 *
 *     step(...);                                    // warm-up steps run eagerly first
 *     nb_graph_capture_begin(NB_DEVICE_CUDA(0));
 *     nb_tensor *loss = step(...);                  // recorded: runs no kernel now
 *     nb_graph *g = nb_graph_capture_end();
 *     for (...) { nb_copy_(x, next_batch); nb_graph_replay(g); }  // loss holds the last value
 *     nb_graph_release(g);
 *
 * Between begin and end this thread's ops on the device are recorded, not run; their host side
 * (shapes, autograd, scopes) runs once. Tensors made during the capture live in the graph's own
 * memory and are rewritten by every replay; tensors made before it (parameters, inputs) are read
 * and updated in place by every replay, so new data goes in with nb_copy_ before a replay.
 * Refused during a capture, with an error naming the op: reading values back (nb_item,
 * nb_copy_to_array, nb_to to the CPU), copies from the host, CPU tensors and other devices, and
 * optimizer steps that create state (the first step of Adam and AdamW, and SGD's first step with
 * momentum), and setting a learning rate. Adam's step counts and rates live on the device, so
 * its captured steps replay correctly and each replay uses the rates set before it (a schedule
 * between replays works as it does between eager steps; SGD's rates are those of the capture),
 * and nb_clip_grad_norm_tensor_ clips without reading back. Warm-up steps before the capture create
 * optimizer state and cuBLAS's set-up. */
typedef struct nb_graph nb_graph;

/* Starts capturing this thread's work on device (a CUDA device). */
NB_API nb_status nb_graph_capture_begin(nb_device device);
/* Ends the capture; the graph, or NULL with the error of the capture (an op refused in it, or
 * CUDA's). The capture is over either way. */
NB_API nb_graph *nb_graph_capture_end(void);
/* Queues one run of the captured work on its device (asynchronous, in order with other work). */
NB_API nb_status nb_graph_replay(nb_graph *g);
/* Frees g (NULL does nothing); tensors made during its capture keep their memory until released. */
NB_API void nb_graph_release(nb_graph *g);
/* True while this thread is capturing. */
NB_API bool nb_graph_is_capturing(void);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_CUDA_H */
