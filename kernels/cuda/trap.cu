/* trap.cu — a kernel that faults on purpose, so that the tests can check how a kernel fault is
 * reported (at the next synchronisation, naming the last op queued), which no valid op can
 * cause. Not part of the public API. */
#include "internal.h"

namespace {
__global__ void trap_kernel() { __trap(); }
} /* namespace */

extern "C" nb_status nbk_cuda_debug_trap(int device)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    trap_kernel<<<1, 1, 0, stream>>>();
    return nbk_cuda_check(cudaGetLastError(), device, "launching the trap kernel");
}
