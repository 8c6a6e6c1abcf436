/* graph.c — capturing a device's stream into a CUDA graph and replaying it (graph.h).
 *
 * The capture is relaxed (cudaStreamCaptureModeRelaxed): the private pool may still need
 * cudaMalloc for a segment while capturing, which the stricter modes forbid. Everything nabla
 * queues on the device goes through its one stream, so the graph is a straight chain in the
 * order the ops ran; a replay therefore reuses the pool's blocks exactly as the captured step did. */
#include "graph.h"

#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>

struct nbk_graph {
    int device;
    cudaGraphExec_t exec;
    void *pool; /* allocator.c's capture pool */
};

typedef struct capture_state {
    atomic_bool active;
    void *pool;
} capture_state;

#define MAX_DEVICES 64
static capture_state captures[MAX_DEVICES];

bool nbk_cuda_capturing(int device)
{
    return device >= 0 && device < MAX_DEVICES && atomic_load_explicit(&captures[device].active, memory_order_acquire);
}

nb_status nbk_cuda_refuse_in_capture(int device, const char *what)
{
    if (!nbk_cuda_capturing(device)) return NB_OK;
    return nbk_fail(NB_ERR_ARGUMENT,
                        "%s cannot be captured: cuda:%d is capturing a graph, and a replay would "
                        "not repeat it (do it before nb_graph_capture_begin or after "
                        "nb_graph_capture_end)",
                        what, device);
}

nb_status nbk_cuda_capture_begin(int device)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    if (device >= MAX_DEVICES)
        return nbk_fail(NB_ERR_DEVICE, "cuda:%d: graphs are supported on the first %d devices", device,
                            MAX_DEVICES);
    if (nbk_cuda_capturing(device)) return nbk_fail(NB_ERR_ARGUMENT, "cuda:%d is already capturing a graph", device);
    /* set-up that cannot be captured: cuBLAS's handle and workspace, and earlier work finished
     * (so that its errors are reported now, not as a failed capture) */
    st = nbk_cuda_blas_ready(device, stream);
    if (st == NB_OK) st = nbk_cuda_wait(device, stream);
    if (st != NB_OK) return st;
    void *pool = NULL;
    st = nbk_cuda_pool_begin(device, &pool);
    if (st != NB_OK) return st;
    st = nbk_cuda_check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed), device,
                       "cudaStreamBeginCapture");
    if (st != NB_OK) {
        nbk_cuda_pool_release(device, pool);
        return st;
    }
    captures[device].pool = pool;
    atomic_store_explicit(&captures[device].active, true, memory_order_release);
    return NB_OK;
}

nb_status nbk_cuda_capture_end(int device, nbk_graph **out)
{
    *out = NULL;
    if (!nbk_cuda_capturing(device)) return nbk_fail(NB_ERR_ARGUMENT, "cuda:%d is not capturing a graph", device);
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    void *pool = captures[device].pool;
    cudaGraph_t graph = NULL;
    if (st == NB_OK)
        st = nbk_cuda_check(cudaStreamEndCapture(stream, &graph), device,
                           "cudaStreamEndCapture (a call inside the capture was refused by CUDA)");
    atomic_store_explicit(&captures[device].active, false, memory_order_release);
    captures[device].pool = NULL;
    nbk_cuda_pool_end(device);

    cudaGraphExec_t exec = NULL;
    if (st == NB_OK) st = nbk_cuda_check(cudaGraphInstantiate(&exec, graph, 0), device, "cudaGraphInstantiate");
    if (graph) (void)cudaGraphDestroy(graph);
    nbk_graph *g = NULL;
    if (st == NB_OK) {
        g = malloc(sizeof *g);
        if (!g) st = nbk_fail(NB_ERR_MEMORY, "out of host memory for a graph on cuda:%d", device);
    }
    if (st != NB_OK) {
        if (exec) (void)cudaGraphExecDestroy(exec);
        nbk_cuda_pool_release(device, pool);
        return st;
    }
    *g = (nbk_graph){.device = device, .exec = exec, .pool = pool};
    *out = g;
    return NB_OK;
}

nb_status nbk_cuda_graph_launch(nbk_graph *g)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(g->device, &stream);
    if (st != NB_OK) return st;
    if (nbk_cuda_capturing(g->device))
        return nbk_fail(NB_ERR_ARGUMENT, "cannot replay a graph on cuda:%d while the device captures another",
                            g->device);
    return nbk_cuda_check(cudaGraphLaunch(g->exec, stream), g->device, "cudaGraphLaunch");
}

void nbk_cuda_graph_destroy(nbk_graph *g)
{
    if (!g) return;
    /* replays still queued finish first: CUDA defers the destruction, and the pool's memory is
     * reused only by work queued later on the same stream */
    if (cudaSetDevice(g->device) != cudaSuccess) (void)cudaGetLastError();
    (void)cudaGraphExecDestroy(g->exec);
    (void)cudaGetLastError();
    nbk_cuda_pool_release(g->device, g->pool);
    free(g);
}
