/* device.c — CUDA devices: discovering them once (a missing GPU or driver is a reported state,
 * not a failure), each device's stream (created on first use), and the reports of failures: a
 * failed call in CUDA's own words, and a kernel fault, wherever CUDA surfaces it, as one report
 * naming the last op queued on the device. */
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct device_state {
    pthread_mutex_t lock; /* guards the setup below and the device's cuBLAS handle */
    atomic_bool ready;    /* the stream exists */
    cudaStream_t stream;  /* every kernel, copy and product on the device runs here, in order */
    _Atomic(const char *) last_op; /* the last op queued here, for fault messages */
    nbk_cuda_fault *fault_host;     /* the fault record (mapped host memory), or NULL */
    nbk_cuda_fault *fault_device;   /* its address on the device */
} device_state;

static pthread_once_t discovered = PTHREAD_ONCE_INIT;
static int device_count;
static char no_device_reason[256];
static device_state *devices; /* (device_count,), for the life of the process */

/* ---------------------------------------------------------------- errors */

/* Errors that mean a kernel faulted: the context is unusable from then on, and CUDA reports the
 * fault from whichever call comes next (a copy, a launch, a synchronisation). */
static bool is_kernel_fault(cudaError_t err)
{
    switch (err) {
    case cudaErrorLaunchFailure:
    case cudaErrorIllegalAddress:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
        return true;
    default:
        return false;
    }
}

/* The one report of a failure of work queued earlier on device, wherever it surfaced. */
static nb_status kernel_failed(int device, cudaError_t err)
{
    const char *op = device >= 0 && device < device_count
                         ? atomic_load_explicit(&devices[device].last_op, memory_order_relaxed)
                         : NULL;
    return nbk_fail(err == cudaErrorMemoryAllocation ? NB_ERR_MEMORY : NB_ERR_DEVICE,
                    "a kernel failed on cuda:%d: %s (%s); the last op queued there was %s. Errors "
                    "such as this one leave the device unusable until the process ends",
                    device, cudaGetErrorString(err), cudaGetErrorName(err), op ? op : "none");
}

nb_status nbk_cuda_check(cudaError_t err, int device, const char *what)
{
    if (err == cudaSuccess) return NB_OK;
    (void)cudaGetLastError(); /* a non-sticky error must not be reported again by a later call */
    if (is_kernel_fault(err)) return kernel_failed(device, err);
    return nbk_fail(err == cudaErrorMemoryAllocation ? NB_ERR_MEMORY : NB_ERR_DEVICE, "%s on cuda:%d: %s (%s)",
                    what, device, cudaGetErrorString(err), cudaGetErrorName(err));
}

/* ---------------------------------------------------------------- discovery */

static void discover(void)
{
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        /* no device, no driver, or a driver older than the runtime: CUDA says which */
        snprintf(no_device_reason, sizeof no_device_reason, "%s", cudaGetErrorString(err));
        (void)cudaGetLastError();
        n = 0;
    } else if (n <= 0) {
        snprintf(no_device_reason, sizeof no_device_reason, "no CUDA-capable device is detected");
        n = 0;
    }
    if (n > 0) {
        devices = calloc((size_t)n, sizeof *devices);
        if (!devices) {
            snprintf(no_device_reason, sizeof no_device_reason,
                     "out of memory recording %d CUDA devices", n);
            n = 0;
        }
        for (int i = 0; i < n; i++) {
            pthread_mutex_init(&devices[i].lock, NULL);
            atomic_init(&devices[i].ready, false);
        }
    }
    device_count = n;
}

int nbk_cuda_count(void)
{
    pthread_once(&discovered, discover);
    return device_count;
}

const char *nbk_cuda_no_device_reason(void)
{
    pthread_once(&discovered, discover);
    return device_count > 0 ? "" : no_device_reason;
}

/* ---------------------------------------------------------------- using a device */

static nb_status check_index(int device)
{
    int n = nbk_cuda_count();
    if (n == 0)
        return nbk_fail(NB_ERR_DEVICE, "cuda:%d is not available: %s", device, no_device_reason);
    if (device < 0 || device >= n) {
        if (n == 1)
            return nbk_fail(NB_ERR_DEVICE, "cuda:%d does not exist: there is 1 CUDA device (cuda:0)",
                                device);
        return nbk_fail(NB_ERR_DEVICE, "cuda:%d does not exist: there are %d CUDA devices (cuda:0 to cuda:%d)",
                            device, n, n - 1);
    }
    return NB_OK;
}

/* The fault record of a device: pinned host memory the device writes through its mapping.
 * Without one, kernels skip their reports (the device still works). */
static void set_up_fault_record(device_state *d)
{
    void *host = NULL, *dev = NULL;
    if (cudaHostAlloc(&host, sizeof(nbk_cuda_fault), cudaHostAllocMapped) != cudaSuccess) {
        (void)cudaGetLastError();
        return;
    }
    if (cudaHostGetDevicePointer(&dev, host, 0) != cudaSuccess) {
        (void)cudaGetLastError();
        (void)cudaFreeHost(host);
        return;
    }
    *(nbk_cuda_fault *)host = (nbk_cuda_fault){0};
    d->fault_host = host;
    d->fault_device = dev;
}

/* Creates device's stream and fault record, once. Runs with device current. */
static nb_status set_up(int device)
{
    device_state *d = &devices[device];
    nb_status st = NB_OK;
    pthread_mutex_lock(&d->lock);
    if (!atomic_load_explicit(&d->ready, memory_order_relaxed)) {
        st = nbk_cuda_check(cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking), device,
                           "cudaStreamCreate");
        if (st == NB_OK) set_up_fault_record(d);
        if (st == NB_OK) atomic_store_explicit(&d->ready, true, memory_order_release);
    }
    pthread_mutex_unlock(&d->lock);
    return st;
}

nb_status nbk_cuda_use(int device, cudaStream_t *stream)
{
    nb_status st = check_index(device);
    if (st != NB_OK) return st;
    st = nbk_cuda_check(cudaSetDevice(device), device, "cudaSetDevice");
    if (st != NB_OK) return st;
    if (!atomic_load_explicit(&devices[device].ready, memory_order_acquire)) {
        st = set_up(device);
        if (st != NB_OK) return st;
    }
    *stream = devices[device].stream;
    return NB_OK;
}

nbk_cuda_fault *nbk_cuda_fault_slot(int device)
{
    return device >= 0 && device < device_count ? devices[device].fault_device : NULL;
}

void nbk_cuda_note_op(int device, const char *op)
{
    if (device >= 0 && device < nbk_cuda_count())
        atomic_store_explicit(&devices[device].last_op, op, memory_order_relaxed);
}

/* ---------------------------------------------------------------- synchronising */

/* The message of a fault record, cleared once read. */
static nb_status report_fault(int device, nbk_cuda_fault *f)
{
    nbk_cuda_fault seen = *f;
    *f = (nbk_cuda_fault){0};
    switch (seen.code) {
    case NB_CUDA_FAULT_LABEL:
        return nbk_fail(NB_ERR_ARGUMENT,
                            "nb_cross_entropy on cuda:%d (found by the device, reported at this "
                            "synchronisation): label %lld in row %lld is out of range for %lld "
                            "classes (expected 0 to %lld); the loss is NaN",
                            device, seen.a, seen.b, seen.c, seen.c - 1);
    case NB_CUDA_FAULT_MULTINOMIAL:
        return nbk_fail(NB_ERR_ARGUMENT,
                        "nb_multinomial on cuda:%d (found by the device, reported at this "
                        "synchronisation): invalid distribution in row %lld: %s; its samples are -1",
                        device, seen.a,
                        seen.b == 1   ? "probabilities must be finite and not negative"
                        : seen.b == 2 ? "the probabilities sum to 0"
                                      : "fewer nonzero probabilities than samples without replacement");
    case NB_CUDA_FAULT_INDEX:
        return nbk_fail(NB_ERR_ARGUMENT,
                        "%s on cuda:%d (found by the device, reported at this synchronisation): index %lld "
                        "at position %lld is out of range for a dim of size %lld; the result is undefined",
                        seen.op ? seen.op : "an index op", device, seen.a, seen.b, seen.c);
    default:
        return nbk_fail(NB_ERR_DEVICE, "cuda:%d reported an unknown fault (code %llu)", device, seen.code);
    }
}

nb_status nbk_cuda_wait(int device, cudaStream_t stream)
{
    cudaError_t err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return kernel_failed(device, err); /* an error of the work queued before */
    }
    nbk_cuda_fault *f = devices[device].fault_host;
    if (f && f->code != NB_CUDA_FAULT_NONE) return report_fault(device, f);
    return NB_OK;
}

void nbk_cuda_lock(int device) { pthread_mutex_lock(&devices[device].lock); }
void nbk_cuda_unlock(int device) { pthread_mutex_unlock(&devices[device].lock); }

/* ---------------------------------------------------------------- facts */

nb_status nbk_cuda_name(int device, char *buf, size_t size)
{
    nb_status st = check_index(device);
    if (st != NB_OK) return st;
    struct cudaDeviceProp prop;
    st = nbk_cuda_check(cudaGetDeviceProperties(&prop, device), device, "cudaGetDeviceProperties");
    if (st != NB_OK) return st;
    if (size > 0) snprintf(buf, size, "%s", prop.name);
    return NB_OK;
}

nb_status nbk_cuda_mem_info(int device, size_t *free_bytes, size_t *total_bytes)
{
    nb_status st = check_index(device);
    if (st == NB_OK) st = nbk_cuda_check(cudaSetDevice(device), device, "cudaSetDevice");
    if (st == NB_OK) st = nbk_cuda_check(cudaMemGetInfo(free_bytes, total_bytes), device, "cudaMemGetInfo");
    return st;
}
