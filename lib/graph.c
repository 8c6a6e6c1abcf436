/* graph.c — the public graph calls (nabla/cuda.h): capturing a training step on a CUDA device
 * into a CUDA graph and replaying it, and the checks the rest of lib/ makes while a thread
 * captures. The capture itself (the stream, the private memory pool) is the device table's
 * (kernels/cuda/graph.c). A capture in which an op failed gives no graph: the thread's count of
 * failures (error.c) tells.
 *
 * Capture is per thread: between begin and end, this thread's ops on the capturing device are
 * recorded (they also run their host side once: shapes, autograd, scopes), while work that a
 * replay could not repeat is refused with an error naming the op — CPU tensors, other devices,
 * reads back to the host and copies from it. Random draws in a capture read and advance the
 * generator's state in device memory, so each replay draws new values (random.c). */
#include "graph.h"

#include "device.h"
#include "error.h"
#include "random.h"
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>

struct nb_graph {
    nb_device device;
    nbk_graph *replay; /* the device's captured work */
    uint64_t draws;    /* generator counters each replay takes (random.c) */
};

static _Thread_local bool capturing;
static _Thread_local uint64_t errors_at_begin; /* nb__error_count() when the capture began */
static _Thread_local nb_device capture_device;

bool nb__graph_capturing(void) { return capturing; }

bool nb__graph_allows(const char *op, nb_device device)
{
    if (!capturing && device.type == NB_CPU) return true; /* the common case, first */
    /* another thread's capture would record this thread's work on the device as its own */
    const nbk_device *table = capturing ? NULL : nb__device_table(device.type);
    if (table && table->capturing && table->capturing(device.index)) {
        char d[32];
        nb__fail(NB_ERR_ARGUMENT,
                 "%s: %s is capturing a graph on another thread; its work there would be recorded "
                 "into that graph (use the device from the capturing thread, or after "
                 "nb_graph_capture_end)",
                 op, nb__device_string(device, d, sizeof d));
        return false;
    }
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

nb_status nb_graph_capture_begin(nb_device device)
{
    const char *op = "nb_graph_capture_begin";
    char d[32];
    if (capturing)
        return nb__fail_status(NB_ERR_ARGUMENT, "%s: this thread is already capturing a graph on %s", op,
                               nb__device_string(capture_device, d, sizeof d));
    const nbk_device *table = nb__device_exists(device, "%s: cannot capture on", op);
    if (!table) return nb_last_status();
    nb__device_string(device, d, sizeof d);
    if (!table->capture_begin)
        return nb__fail_status(NB_ERR_DEVICE, "%s: graphs are captured on a CUDA device, got %s", op, d);
    if (nb__rng_capture_begin(op, device) != NB_OK) return nb_last_status();
    nb_status st = table->capture_begin(nb__call(op, device));
    if (st != NB_OK) return nb__kernel_status(op, st);
    nb__rng_capture_started();
    capturing = true;
    errors_at_begin = nb__error_count();
    capture_device = device;
    return NB_OK;
}

nb_graph *nb_graph_capture_end(void)
{
    const char *op = "nb_graph_capture_end";
    if (!capturing) return nb__fail(NB_ERR_ARGUMENT, "%s: this thread is not capturing a graph", op);
    capturing = false;
    const uint64_t draws = nb__rng_capture_end(capture_device);
    const nbk_device *table = nb__device_table(capture_device.type);
    nbk_graph *replay = NULL;
    nb_status st = table->capture_end(nb__call(op, capture_device), &replay);
    if (st != NB_OK) {
        nb__kernel_status(op, st);
        return NULL;
    }
    if (nb__error_count() != errors_at_begin) {
        /* the first error (the op's own) is kept; this one only adds when none is pending */
        table->graph_destroy(replay);
        return nb__fail(NB_ERR_ARGUMENT, "%s: an op failed during the capture, so there is no graph", op);
    }
    nb_graph *g = malloc(sizeof *g);
    if (!g) {
        table->graph_destroy(replay);
        return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    }
    *g = (nb_graph){.device = capture_device, .replay = replay, .draws = draws};
    return g;
}

nb_status nb_graph_replay(nb_graph *g)
{
    const char *op = "nb_graph_replay";
    if (nb__is_null(op, "graph", g)) return nb_last_status();
    if (capturing) return nb__fail_status(NB_ERR_ARGUMENT, "%s: cannot replay while this thread captures a graph", op);
    const nbk_device *table = nb__device_table(g->device.type);
    if (nb__rng_before_replay(op, g->device, g->draws) != NB_OK) return nb_last_status();
    nb_status st = nb__kernel_status(op, table->graph_launch(nb__call(op, g->device), g->replay));
    if (st != NB_OK) nb__rng_forget_device(g->device);
    return st;
}

void nb_graph_release(nb_graph *g)
{
    if (!g) return;
    nb__device_table(g->device.type)->graph_destroy(g->replay);
    free(g);
}

bool nb_graph_is_capturing(void) { return capturing; }

/* A test hook (declared by the tests that use it): queues a kernel that faults on device, as
 * "nb__debug_trap", so that the fault report can be checked. */
nb_status nb__debug_cuda_trap(nb_device device)
{
    const char *op = "nb__debug_trap";
    const nbk_device *table = nb__device_table(device.type);
    if (!table || !table->debug_trap) {
        char d[32];
        return nb__fail_status(NB_ERR_DEVICE, "%s: no CUDA kernel on %s", op, nb__device_string(device, d, sizeof d));
    }
    return nb__kernel_status(op, table->debug_trap(nb__call(op, device)));
}
