/* cuda.h — the CUDA backend's own entry points: devices, the caching allocator, copies,
 * elementwise kernels and conversions, sums, maxima and minima, and cuBLAS matrix products
 * (softmax and cross entropy are in softmax.h, graph capture in graph.h). lib/ reaches them only
 * through the CUDA table of kernels/device.h (device_table.c). Plain C: everything that calls
 * CUDA lives in kernels/cuda/.
 *
 * Devices are CUDA ordinals. All work on a device runs in order on one stream per device, so a
 * block the allocator hands out again is never touched by earlier work still in flight; reads
 * back to the host synchronise that stream. A call that fails returns its status (NB_ERR_DEVICE,
 * NB_ERR_MEMORY) and leaves a message with CUDA's own words in nbk_error(). Kernels run
 * asynchronously: a fault inside one surfaces at the next CUDA call, which reports it as a
 * kernel failure naming the last op queued (nbk_cuda_note_op). */
#ifndef NB_KERNELS_CUDA_H
#define NB_KERNELS_CUDA_H

#include "../error.h"
#include "../gemm.h"
#include "../iter.h"
#include "../ops.h"
#include "../random.h"
#include "../reduce.h"
#include "../rows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- devices (device.c) */

int nbk_cuda_count(void);                /* usable devices; 0 when CUDA reports none or fails */
const char *nbk_cuda_no_device_reason(void); /* CUDA's reason when the count is 0, else "" */
nb_status nbk_cuda_name(int device, char *buf, size_t size);
nb_status nbk_cuda_mem_info(int device, size_t *free_bytes, size_t *total_bytes);
/* Notes op (a string that lives for the whole process, such as "nb_mm") as the last op queued on
 * device, so that a kernel fault found at a later synchronisation can name it. */
void nbk_cuda_note_op(int device, const char *op);
/* Queues a kernel that faults (trap.cu): how the tests check fault reports. */
nb_status nbk_cuda_debug_trap(int device);

/* ---------------------------------------------------------------- memory (allocator.c) */

/* bytes on device from the caching allocator: *data receives the device address, *block the
 * handle to give back to nbk_cuda_free. A request of 0 bytes gives NULL for both. */
nb_status nbk_cuda_malloc(int device, size_t bytes, void **data, void **block);
void nbk_cuda_free(int device, void *block); /* NULL does nothing */
void nbk_cuda_stats_of(int device, nb_cuda_stats *out);
void nbk_cuda_release_cache(void); /* cudaFree of every unused cached segment, every device */

/* ---------------------------------------------------------------- copies (memcpy.c) */

nb_status nbk_cuda_to_device(int device, void *dst, const void *host_src, size_t bytes);
/* Waits for the copy (and all earlier work on the device) to finish. */
nb_status nbk_cuda_to_host(int device, void *host_dst, const void *src, size_t bytes);
nb_status nbk_cuda_device_to_device(int dst_device, void *dst, int src_device, const void *src,
                                   size_t bytes);
/* Waits for all work queued on device. */
nb_status nbk_cuda_synchronize(int device);
/* Waits for all work on device, on every stream (another library's too): cudaDeviceSynchronize. */
nb_status nbk_cuda_synchronize_all(int device);

/* ---------------------------------------------------------------- elementwise (ewise.cu, cast.cu) */

/* True when there is a kernel for op in compute dtype (the CPU table's coverage, exactly). */
bool nbk_cuda_has_ewise(nb_ew_op op, nb_dtype dtype);
/* Runs op over it (byte strides, device addresses) in compute dtype on device. */
nb_status nbk_cuda_ewise(int device, nb_ew_op op, nb_dtype dtype, const nb_iter *it,
                        const nb_scalars *s);
/* out (n,) of dtype = start + i·step computed in double, then converted as the CPU converts (cast.cu). */
nb_status nbk_cuda_arange(int device, nb_dtype dtype, double start, double step, int64_t n, void *out);
/* Converts it's input (operand 1, dtype from) into its output (dtype to), as the CPU does. */
nb_status nbk_cuda_cast(int device, nb_dtype from, nb_dtype to, const nb_iter *it);

/* ---------------------------------------------------------------- reductions (reduce.cu, extreme.cu) */

/* Sums and means over plan (kernels/reduce.h) in dtype: float32 and float64 accumulate in
 * float64, int64 and bool in int64 (wrapping) and give int64. */
nb_status nbk_cuda_sum(int device, nb_dtype dtype, const nbk_reduce_plan *plan);
/* Maxima (take_min false) or minima over plan in dtype float32, float64, int64 or bool, by the
 * rules of kernels/reduce.h: values (plan->values), and indices too where plan->indices is given
 * (argmax, argmin, max_dim's). Every output needs at least one element. */
nb_status nbk_cuda_extreme(int device, bool take_min, nb_dtype dtype, const nbk_reduce_plan *plan);

/* ---------------------------------------------------------------- rows (rows.cu) */

/* Products and cumulative sums along rows (kernels/rows.h): a thread per row. */
nb_status nbk_cuda_rows(int device, nbk_rows_op op, const nbk_rows_args *a);
/* Sorts and top-k along rows: a thread per element finds its rank by counting. */
nb_status nbk_cuda_sort(int device, const nbk_sort_args *a);

/* ---------------------------------------------------------------- matrix products (gemm.c) */

/* C = A·B through cuBLAS on device (the handle is created on first use); an operand cuBLAS cannot
 * take as it is (an expanded or overlapping matrix dim) is copied into a dense buffer from the
 * caching allocator first. k = 0 gives zeros. */
nb_status nbk_cuda_gemm(int device, const nbk_gemm_args *g);
/* float16 or bfloat16 operands and result, float32 accumulation (cublasGemmEx, tensor cores) */
nb_status nbk_cuda_gemm_half(int device, const nbk_gemm_args *g);

/* ---------------------------------------------------------------- random numbers (random.cu) */

/* Queues a write of the generator's state (kernels/random.h) into device's memory. */
nb_status nbk_cuda_rng_set_state(int device, uint64_t seed, uint64_t offset);
/* Queues the draw a, reading the state in device's memory, and then the advance of its offset by
 * a->advance. A multinomial row that is not a distribution is reported at the next
 * synchronisation (its samples are -1). */
nb_status nbk_cuda_random(int device, const nbk_random_args *a);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_H */
