/* graph.c — the public graph calls (nabla/cuda.h): capturing a training step on a CUDA device
 * into a CUDA graph and replaying it, and the checks the rest of lib/ makes while a thread
 * captures. The capture itself (the stream, the private memory pool) is kernels/cuda/graph.c.
 *
 * Capture is per thread: between begin and end, this thread's ops on the capturing device are
 * recorded (they also run their host side once: shapes, autograd, scopes), while work that a
 * replay could not repeat is refused with an error naming the op — CPU tensors, other devices,
 * reads back to the host and copies from it. */
#include "graph.h"

#include "error.h"
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef NB_HAVE_CUDA
#include "../kernels/cuda/cuda.h"
#include "../kernels/cuda/graph.h"
#endif

struct nb_graph {
    nb_device device;
#ifdef NB_HAVE_CUDA
    nbk_cuda_graph *cuda;
#endif
};

static _Thread_local bool capturing;
static _Thread_local bool capture_failed; /* an op failed since nb_graph_capture_begin */
static _Thread_local nb_device capture_device;

void nb__graph_note_error(void)
{
    if (capturing) capture_failed = true;
}

bool nb__graph_capturing(void) { return capturing; }

bool nb__graph_allows(const char *op, nb_device device)
{
#ifdef NB_HAVE_CUDA
    /* another thread's capture would record this thread's work on the device as its own */
    if (!capturing && device.type == NB_CUDA && nbk_cuda_capturing(device.index)) {
        char d[32];
        nb__fail(NB_ERR_ARGUMENT,
                 "%s: %s is capturing a graph on another thread; its work there would be recorded "
                 "into that graph (use the device from the capturing thread, or after "
                 "nb_graph_capture_end)",
                 op, nb__device_string(device, d, sizeof d));
        return false;
    }
#endif
    if (!capturing || nb__same_device(device, capture_device)) return true;
    char d[32], c[32];
    nb__fail(NB_ERR_ARGUMENT,
             "%s: cannot run on %s while this thread captures a graph on %s: the work would run "
             "once now and never on replay (create and move tensors before "
             "nb_graph_capture_begin)",
             op, nb__device_string(device, d, sizeof d), nb__device_string(capture_device, c, sizeof c));
    return false;
}

bool nb__graph_allows_host_work(const char *op, const char *what)
{
    if (!capturing) return true;
    char c[32];
    nb__fail(NB_ERR_ARGUMENT,
             "%s: %s cannot be captured: this thread captures a graph on %s, and a replay would "
             "not repeat it (read values after nb_graph_capture_end or nb_graph_replay)",
             op, what, nb__device_string(capture_device, c, sizeof c));
    return false;
}

#ifdef NB_HAVE_CUDA

nb_status nb_graph_capture_begin(nb_device device)
{
    const char *op = "nb_graph_capture_begin";
    char d[32];
    if (capturing)
        return nb__fail_status(NB_ERR_ARGUMENT, "%s: this thread is already capturing a graph on %s", op,
                               nb__device_string(capture_device, d, sizeof d));
    if (device.type != NB_CUDA)
        return nb__fail_status(NB_ERR_DEVICE, "%s: graphs are captured on a CUDA device, got %s", op,
                               nb__device_string(device, d, sizeof d));
    nb_status st = nbk_cuda_capture_begin(device.index);
    if (st != NB_OK) return nb__fail_status(st, "%s: %s", op, nbk_cuda_error());
    capturing = true;
    capture_failed = false;
    capture_device = device;
    return NB_OK;
}

nb_graph *nb_graph_capture_end(void)
{
    const char *op = "nb_graph_capture_end";
    if (!capturing) return nb__fail(NB_ERR_ARGUMENT, "%s: this thread is not capturing a graph", op);
    capturing = false;
    nbk_cuda_graph *cg = NULL;
    nb_status st = nbk_cuda_capture_end(capture_device.index, &cg);
    if (st != NB_OK) return nb__fail(st, "%s: %s", op, nbk_cuda_error());
    if (capture_failed) {
        /* the first error (the op's own) is kept; this one only adds when none is pending */
        nbk_cuda_graph_destroy(cg);
        return nb__fail(NB_ERR_ARGUMENT, "%s: an op failed during the capture, so there is no graph", op);
    }
    nb_graph *g = malloc(sizeof *g);
    if (!g) {
        nbk_cuda_graph_destroy(cg);
        return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    }
    *g = (nb_graph){.device = capture_device, .cuda = cg};
    return g;
}

nb_status nb_graph_replay(nb_graph *g)
{
    const char *op = "nb_graph_replay";
    if (nb__is_null(op, "graph", g)) return nb_last_status();
    if (capturing) return nb__fail_status(NB_ERR_ARGUMENT, "%s: cannot replay while this thread captures a graph", op);
    nbk_cuda_note_op(g->device.index, op);
    nb_status st = nbk_cuda_graph_launch(g->cuda);
    if (st != NB_OK) return nb__fail_status(st, "%s: %s", op, nbk_cuda_error());
    return NB_OK;
}

void nb_graph_release(nb_graph *g)
{
    if (!g) return;
    nbk_cuda_graph_destroy(g->cuda);
    free(g);
}

#else /* a build without CUDA: there is nothing to capture on */

nb_status nb_graph_capture_begin(nb_device device)
{
    char d[32];
    return nb__fail_status(NB_ERR_DEVICE, "nb_graph_capture_begin: cannot capture on %s: nabla was built without CUDA",
                           nb__device_string(device, d, sizeof d));
}

nb_graph *nb_graph_capture_end(void)
{
    return nb__fail(NB_ERR_ARGUMENT, "nb_graph_capture_end: this thread is not capturing a graph");
}

nb_status nb_graph_replay(nb_graph *g)
{
    if (nb__is_null("nb_graph_replay", "graph", g)) return nb_last_status();
    return nb__fail_status(NB_ERR_DEVICE, "nb_graph_replay: nabla was built without CUDA");
}

void nb_graph_release(nb_graph *g) { free(g); }

#endif

bool nb_graph_is_capturing(void) { return capturing; }

/* A test hook (declared by the tests that use it): queues a kernel that faults on device, as
 * "nb__debug_trap", so that the fault report can be checked. */
nb_status nb__debug_cuda_trap(nb_device device)
{
#ifdef NB_HAVE_CUDA
    if (device.type == NB_CUDA) {
        nbk_cuda_note_op(device.index, "nb__debug_trap");
        nb_status st = nbk_cuda_debug_trap(device.index);
        if (st != NB_OK) return nb__fail_status(st, "nb__debug_trap: %s", nbk_cuda_error());
        return NB_OK;
    }
#endif
    char d[32];
    return nb__fail_status(NB_ERR_DEVICE, "nb__debug_trap: no CUDA kernel on %s", nb__device_string(device, d, sizeof d));
}
