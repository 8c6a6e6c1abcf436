/* graph.h — CUDA Graphs for lib/graph.c: capturing the work a thread queues on one device into a
 * graph (an nbk_graph of kernels/device.h: the instantiated graph and its memory pool), replaying
 * it, and the private memory pool each graph keeps (allocator.c). Plain C, like cuda.h.
 *
 * While a device captures, its stream records instead of running: kernels, copies between device
 * buffers and cuBLAS products become the graph's nodes. What would need the host in the middle of
 * the work (a copy to or from host memory, a synchronisation) cannot be captured and is refused,
 * and so is a graph on a second device at the same time. */
#ifndef NB_KERNELS_CUDA_GRAPH_H
#define NB_KERNELS_CUDA_GRAPH_H

#include "../device.h"

#ifdef __cplusplus
extern "C" {
#endif


/* Starts capturing device's stream (cuBLAS is set up first: creating it cannot be captured);
 * from here until nbk_cuda_capture_end, device memory comes from a new private pool. */
nb_status nbk_cuda_capture_begin(int device);
/* True while device is capturing (any thread may ask). */
bool nbk_cuda_capturing(int device);
/* Ends the capture and instantiates the graph into *out. When the capture failed (CUDA refused
 * a call inside it) or the graph cannot be instantiated, *out is NULL, the pool is released and
 * the error is returned; the capture ends either way. */
nb_status nbk_cuda_capture_end(int device, nbk_graph **out);
/* Queues one replay of g on its device's stream (it runs in order with the work around it). */
nb_status nbk_cuda_graph_launch(nbk_graph *g);
/* Destroys g; its pool's memory returns to the cache once no tensor holds it. NULL does nothing. */
void nbk_cuda_graph_destroy(nbk_graph *g);

/* ---------------------------------------------------------------- pools (allocator.c) */

/* Routes device's allocations to a new private pool (*pool receives it) until nbk_cuda_pool_end. */
nb_status nbk_cuda_pool_begin(int device, void **pool);
void nbk_cuda_pool_end(int device);
/* The graph of pool is gone: the blocks the pool adopted go back to the cache, and its segments
 * join the cache once none of its blocks is in use. */
void nbk_cuda_pool_release(int device, void *pool);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_GRAPH_H */
