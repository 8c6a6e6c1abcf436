/* internal.h — what the CUDA backend's files share (host side, C and CUDA C++): making a device
 * current and getting its stream, the lock of its cuBLAS handle, and recording failures with
 * CUDA's own message for nbk_error(). */
#ifndef NB_KERNELS_CUDA_INTERNAL_H
#define NB_KERNELS_CUDA_INTERNAL_H

#include "cuda.h"

#include <cuda_runtime.h>

/* "#pragma unroll" for loops in functions compiled for both the device and the host: the device
 * pass unrolls, the host compiler (which does not know the pragma) sees nothing. */
#ifdef __CUDA_ARCH__
#define NB_UNROLL _Pragma("unroll")
#else
#define NB_UNROLL
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Makes device current on this thread and gives its stream (created on first use); an error
 * (NB_ERR_DEVICE) for an index that is not a device or a device that cannot be used. */
nb_status nbk_cuda_use(int device, cudaStream_t *stream);
/* Waits for everything queued on device's stream. A failure of earlier work becomes an error
 * naming the last op queued there (nbk_cuda_note_op); a fault a kernel recorded becomes its
 * message. */
nb_status nbk_cuda_wait(int device, cudaStream_t stream);
/* Creates device's cuBLAS handle (bound to stream, with its workspace) if it does not exist yet. */
nb_status nbk_cuda_blas_ready(int device, cudaStream_t stream);
/* NB_OK, or an error saying that what (such as "copying from the host") cannot be captured when
 * device is capturing a graph (graph.c). */
nb_status nbk_cuda_refuse_in_capture(int device, const char *what);
/* The lock that serialises one device's cuBLAS handle (gemm.c). */
void nbk_cuda_lock(int device);
void nbk_cuda_unlock(int device);

/* NB_OK for cudaSuccess; otherwise clears CUDA's last error and records "what on cuda:N:
 * <CUDA's message> (<error name>)": NB_ERR_MEMORY for an allocation failure, else NB_ERR_DEVICE.
 * An error that means a kernel faulted earlier is reported as nbk_cuda_wait reports it: "a kernel
 * failed on cuda:N ...; the last op queued there was ...". */
nb_status nbk_cuda_check(cudaError_t err, int device, const char *what);

/* Bad data found by a kernel (a class label out of range) cannot fail the op that queued it: the
 * kernel records it here and the next synchronisation reports it (an NB_ERR_ARGUMENT naming the
 * op). The record lives in host memory mapped into the device. A kernel reports with
 * nbk_cuda_report_fault (first report wins); the a, b, c fields are the code's details. */
typedef struct nbk_cuda_fault {
    unsigned long long code; /* 0: nothing reported */
    long long a, b, c;
    const char *op; /* the op whose kernel reported (a string of the host's), where the code has one */
} nbk_cuda_fault;

enum nbk_cuda_fault_code {
    NB_CUDA_FAULT_NONE = 0,
    NB_CUDA_FAULT_LABEL = 1, /* nb_cross_entropy: a = the label, b = its row, c = the classes */
    NB_CUDA_FAULT_MULTINOMIAL = 2, /* nb_multinomial: a = the row, b = nbk_multinomial_check's code */
    NB_CUDA_FAULT_INDEX = 3, /* an index op (op): a = the index, b = its position, c = the size it indexes */
};

/* The device-visible address of device's fault record; NULL when it could not be set up (the
 * kernels then skip reporting). */
nbk_cuda_fault *nbk_cuda_fault_slot(int device);

#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
/* Records a fault from a kernel: the first report since the last synchronisation is kept. */
__device__ __forceinline__ void nbk_cuda_report_fault(nbk_cuda_fault *slot, unsigned long long code, long long a,
                                                     long long b, long long c)
{
    if (!slot) return;
    if (atomicCAS(&slot->code, 0ULL, code) == 0ULL) {
        slot->a = a;
        slot->b = b;
        slot->c = c;
        __threadfence_system();
    }
}

/* Records an index out of range, naming the op (the host's string, only carried along). */
__device__ __forceinline__ void nbk_cuda_report_index_fault(nbk_cuda_fault *slot, const char *op, long long index,
                                                           long long position, long long bound)
{
    if (!slot) return;
    if (atomicCAS(&slot->code, 0ULL, (unsigned long long)NB_CUDA_FAULT_INDEX) == 0ULL) {
        slot->a = index;
        slot->b = position;
        slot->c = bound;
        slot->op = op;
        __threadfence_system();
    }
}
#endif

#endif /* NB_KERNELS_CUDA_INTERNAL_H */
