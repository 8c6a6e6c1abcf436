/* cuda.h — the CUDA backend's entry points for lib/: devices, the caching allocator, copies,
 * elementwise kernels and conversions, sums, maxima and minima, and cuBLAS matrix products
 * (softmax and cross entropy are in softmax.h, graph capture in graph.h). Plain C: everything
 * that calls CUDA lives in kernels/cuda/, and lib/ sees only these calls (built with
 * NB_HAVE_CUDA).
 *
 * Devices are CUDA ordinals. All work on a device runs in order on one stream per device, so a
 * block the allocator hands out again is never touched by earlier work still in flight; reads
 * back to the host synchronise that stream. A call that fails returns its status (NB_ERR_DEVICE,
 * NB_ERR_MEMORY) and leaves a message with CUDA's own words in nbk_cuda_error(), which lib/
 * reports after the op's name. Kernels run asynchronously: a fault inside one surfaces at the
 * next call that synchronises, as an error naming the last op queued (nbk_cuda_note_op). */
#ifndef NB_KERNELS_CUDA_H
#define NB_KERNELS_CUDA_H

#include "../iter.h"
#include "../ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- devices (device.c) */

int nbk_cuda_count(void);                /* usable devices; 0 when CUDA reports none or fails */
const char *nbk_cuda_no_device_reason(void); /* CUDA's reason when the count is 0, else "" */
nb_status nbk_cuda_name(int device, char *buf, size_t size);
nb_status nbk_cuda_mem_info(int device, size_t *free_bytes, size_t *total_bytes);
/* The message of the last failed call on this thread ("cudaMalloc on cuda:0: out of memory"). */
const char *nbk_cuda_error(void);
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

/* ---------------------------------------------------------------- sums (reduce.cu) */

/* One sum: output o (a coordinate over the outer dims) adds the elements at
 * in + o·outer_in_strides + r·red_strides over every coordinate r of the reduced dims, and writes
 * total / divisor at out + o·outer_out_strides. Strides in elements. float32 accumulates in
 * float64 and rounds once; int64 and bool accumulate in int64 (wrapping) and give int64. The
 * order of additions depends on the shapes only, so results are the same on every run. */
typedef struct nbk_cuda_reduce_plan {
    int outer_ndim; /* 0: one output */
    int64_t outer_shape[NB_MAX_DIMS];
    int64_t outer_in_strides[NB_MAX_DIMS];
    int64_t outer_out_strides[NB_MAX_DIMS];
    int red_ndim; /* >= 1 */
    int64_t red_shape[NB_MAX_DIMS];
    int64_t red_strides[NB_MAX_DIMS];
    const void *in; /* device address of element 0 */
    void *out;      /* device address of output 0 */
    double divisor; /* 1 for a sum; the count for a mean (floating dtypes only) */
} nbk_cuda_reduce_plan;

nb_status nbk_cuda_sum(int device, nb_dtype dtype, const nbk_cuda_reduce_plan *plan);

/* ---------------------------------------------------------------- extremes (extreme.cu) */

/* Maxima (take_min false) or minima over a plan (as for sums; divisor unused) in dtype float32,
 * float64, int64 or bool, with the CPU kernels' results bit for bit (kernels/cpu/reduce.h): a
 * NaN is the extreme, the first index wins ties, bool max is "any" and min "all". Every output
 * needs at least one element (the caller refuses empty reductions).
 *  - indices NULL: values only (nb_max, nb_min), of dtype, at out + o·outer_out_strides; a NaN
 *    result is the CPU's (the quiet NaN of C's NAN where the CPU gives it).
 *  - indices given (device address): argmax/argmin, int64, written at the same positions as the
 *    values. index_strides (red_ndim of them, > 0) say how far one step along each reduced dim
 *    moves the reported index; NULL: row-major over the reduced dims. out NULL gives the indices
 *    only (nb_argmax, nb_argmin_dim); otherwise the values too (nb_max_dim: one reduced dim).
 * Of equal extremes whose bits differ (+0 and -0) and of NaNs, the value given is the one the
 * CPU's loops give. The result depends on the values and layout only: the same on every run. */
nb_status nbk_cuda_extreme(int device, bool take_min, nb_dtype dtype, const nbk_cuda_reduce_plan *plan,
                          const int64_t *index_strides, int64_t *indices);

/* ---------------------------------------------------------------- matrix products (gemm.c) */

/* One operand: batch b's element [i, j] is at data + (b·bs + i·rs + j·cs) elements. */
typedef struct nbk_cuda_matrix {
    char *data;
    int64_t rs, cs, bs;
} nbk_cuda_matrix;

typedef struct nbk_cuda_gemm_args {
    nb_dtype dtype;         /* float32 or float64, for all three */
    int64_t batch, n, k, m; /* batch products (n, k) x (k, m) -> (n, m) */
    nbk_cuda_matrix a, b, c; /* c: row-major, rs = m, cs = 1, bs = n·m */
} nbk_cuda_gemm_args;

/* True when cuBLAS can take a (rows, cols) matrix with these strides as it is: unit stride in
 * one dim and a leading dimension at least the other's size (a transposed view is a transpose
 * flag). False for expanded (stride 0), negative or overlapping layouts: copy them first. */
bool nbk_cuda_gemm_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs);
/* C = A·B through cuBLAS on device (the handle is created on first use). k = 0 gives zeros. */
nb_status nbk_cuda_gemm(int device, const nbk_cuda_gemm_args *g);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_H */
