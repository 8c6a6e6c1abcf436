/* device.h — the interface every device implements: one table of operations per device type, in
 * the spirit of ggml's backend interface. lib/ reaches kernels only through these tables
 * (lib/device.c finds a tensor's), with the argument structs of kernels/ (iter.h, gemm.h,
 * reduce.h, rows.h, softmax.h) that every device reads; a device knows nothing of tensors, autograd or
 * scopes.
 *
 * Conventions:
 *  - Every kernel entry takes an nbk_call first: the device's index and the public op that
 *    queues the work. A device that runs work asynchronously remembers the last op it queued,
 *    so that a fault found later can name it.
 *  - An entry returns NB_OK or a status with a message in nbk_error() (kernels/error.h), which
 *    lib/ reports after the op's name. Bad input is checked by lib/ before a call; what only the
 *    data can show (a label out of range) is checked by the kernel.
 *  - Addresses are the device's own; sizes are in elements unless a name says bytes.
 *  - Entries a device does not have are NULL (the CPU captures no graphs). Adding an op adds an
 *    entry here, one function per device, and its row in each device's table (see README,
 *    "Adding an op"). */
#ifndef NB_KERNELS_DEVICE_H
#define NB_KERNELS_DEVICE_H

#include "attention.h"
#include "conv.h"
#include "batch_norm.h"
#include "error.h"
#include "gemm.h"
#include "index.h"
#include "iter.h"
#include "norm.h"
#include "ops.h"
#include "optim.h"
#include "pool.h"
#include "random.h"
#include "reduce.h"
#include "rows.h"
#include "softmax.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Who asks: device index (a CUDA ordinal; 0 on the CPU) and the op queuing the work, a string
 * that lives for the whole process ("nb_mm"). */
typedef struct nbk_call {
    int device;
    const char *op;
} nbk_call;

/* Memory from a device's allocator: data for the bytes asked for, and, in the same block where
 * the device's memory is the host's, header bytes of host memory for the caller's record of it. */
typedef struct nbk_block {
    void *header;    /* host memory of the header size asked for, aligned for any type */
    void *data;      /* the device address of the data (NULL for 0 bytes on a GPU) */
    void *handle;    /* the allocator's own record, for free */
    size_t capacity; /* bytes of the host block (the CPU), for free */
} nbk_block;

typedef struct nbk_graph nbk_graph; /* a captured, replayable sequence of a device's work */

typedef struct nbk_device {
    const char *name; /* "cpu", "cuda" */

    /* ---- devices of this type */
    int (*count)(void);                     /* usable devices; 0 when none (the CPU: 1) */
    const char *(*unavailable_reason)(void); /* why count is 0 ("" otherwise) */
    nb_status (*device_name)(int device, char *buf, size_t size);
    nb_status (*memory)(int device, size_t *free_bytes, size_t *total_bytes);
    /* One line for nb_config_string: "BLIS 0.9.0, kernels zen3 ...", "cuda: 1 device (...)". */
    void (*describe)(char *buf, size_t size);
    /* Threads the device's own loops may use (the CPU); n < 1: all cores. NULL elsewhere. */
    void (*set_threads)(int n);
    int (*threads)(void);

    /* ---- memory */
    nb_status (*alloc)(nbk_call c, size_t header_bytes, size_t bytes, nbk_block *out);
    void (*free)(int device, const nbk_block *b);
    nb_status (*upload)(nbk_call c, void *dst, const void *host_src, size_t bytes);
    nb_status (*download)(nbk_call c, void *host_dst, const void *src, size_t bytes); /* waits */
    nb_status (*copy_between)(nbk_call c, int src_device, void *dst, const void *src, size_t bytes);
    nb_status (*synchronize)(nbk_call c); /* waits for the device's queued work */
    /* waits for all work on the device, queued by nabla or anyone else (another library's
     * streams: memory exchanged through DLPack) */
    nb_status (*synchronize_all)(nbk_call c);
    nb_status (*allocator_stats)(int device, nb_cuda_stats *out);
    void (*empty_cache)(void);

    /* ---- kernels */
    bool (*has_ewise)(nb_ew_op op, nb_dtype dtype);
    /* op over it (kernels/iter.h: byte strides, the device's addresses) in compute dtype */
    nb_status (*ewise)(nbk_call c, nb_ew_op op, nb_dtype dtype, const nb_iter *it, const nb_scalars *s);
    /* it's input (operand 1, dtype from) converted into its output (dtype to) */
    nb_status (*cast)(nbk_call c, nb_dtype from, nb_dtype to, const nb_iter *it);
    /* out (n,) of dtype = start + i·step, computed in double and converted as cast converts */
    nb_status (*arange)(nbk_call c, nb_dtype dtype, double start, double step, int64_t n, void *out);
    nb_status (*gemm)(nbk_call c, const nbk_gemm_args *g);
    /* float16 or bfloat16 operands and result (g->dtype), accumulated in float32; NULL where the
     * device has no half product (lib/ then multiplies in float32 and rounds once) */
    nb_status (*gemm_half)(nbk_call c, const nbk_gemm_args *g);
    nb_status (*reduce)(nbk_call c, nbk_reduce_op op, nb_dtype dtype, const nbk_reduce_plan *p);
    /* products, scans and sorts along rows (kernels/rows.h) */
    nb_status (*rows)(nbk_call c, nbk_rows_op op, const nbk_rows_args *a);
    nb_status (*sort)(nbk_call c, const nbk_sort_args *a);
    nb_status (*softmax)(nbk_call c, const nbk_softmax_shape *s, bool take_log, const void *in, void *out);
    nb_status (*softmax_backward)(nbk_call c, const nbk_softmax_shape *s, bool take_log, const void *y,
                                  const void *g, void *gi);
    nb_status (*xent_forward)(nbk_call c, const nbk_xent_args *a, void *loss);
    nb_status (*xent_backward)(nbk_call c, const nbk_xent_args *a, const void *g, void *grad);
    /* layer and RMS norm (kernels/norm.h): y (rows, cols) of a's dtype and stats (2, rows) */
    nb_status (*norm_forward)(nbk_call c, const nbk_norm_args *a, void *y, double *stats);
    /* from the forward's stats and g (rows, cols): gx (rows, cols), gw and gb (cols,), each NULL
     * when not wanted; all of a's dtype, contiguous */
    nb_status (*norm_backward)(nbk_call c, const nbk_norm_args *a, const double *stats, const void *g,
                               void *gx, void *gw, void *gb);
    /* batch norm (kernels/batch_norm.h): y (n, c, s) of a's dtype and stats (2, c); when
     * training, the running statistics given are updated in place */
    nb_status (*batch_norm_forward)(nbk_call c, const nbk_batch_norm_args *a, void *y, double *stats);
    /* from the forward's stats and g (n, c, s): gx (n, c, s), gw and gb (c,), each NULL when not
     * wanted; all of a's dtype, contiguous */
    nb_status (*batch_norm_backward)(nbk_call c, const nbk_batch_norm_args *a, const double *stats, const void *g,
                                     void *gx, void *gw, void *gb);
    /* a draw from the generator (kernels/random.h); on a device that keeps its own offset
     * counter, the draw reads it and advances it by a->advance after */
    nb_status (*random)(nbk_call c, const nbk_random_args *a);
    /* sets the generator's state the device keeps in its memory (queued; NULL on the CPU,
     * which takes a->seed and a->offset) */
    nb_status (*rng_set_state)(nbk_call c, uint64_t seed, uint64_t offset);
    /* other = self at index along dim; self at index = other (+= other · alpha when add): index.h */
    nb_status (*index_gather)(nbk_call c, const nbk_index_args *a);
    nb_status (*index_scatter)(nbk_call c, const nbk_index_args *a, bool add);
    /* convolution's columns (kernels/conv.h): a->cols from a->image, and a->image from a->cols */
    nb_status (*im2col)(nbk_call c, const nbk_conv_args *a);
    nb_status (*col2im)(nbk_call c, const nbk_conv_args *a);
    /* the whole 2-D convolution (kernels/conv.h) where the device has it, NULL where lib/ composes
     * it of im2col and gemm: y (n, o, oh, ow); and from gy (n, o, oh, ow) gx, gw and gb, each NULL
     * when not wanted; float32 or float64 */
    nb_status (*conv2d_forward)(nbk_call c, const nbk_conv2d_args *a, void *y);
    nb_status (*conv2d_backward)(nbk_call c, const nbk_conv2d_args *a, const void *gy, void *gx, void *gw, void *gb);
    /* whether im2col and col2im take float16 and bfloat16 columns (col2im summing in float32);
     * where not, lib/ runs a half convolution in float32 and rounds its result once */
    bool half_columns;
    /* 2-D pooling (kernels/pool.h): y (planes, out_h, out_w) from x (planes, in_h, in_w), with
     * int64 indices of y's shape for max pooling (NULL otherwise) */
    nb_status (*pool_forward)(nbk_call c, const nbk_pool_args *a, const void *x, void *y, int64_t *indices);
    /* gx (planes, in_h, in_w) from g (planes, out_h, out_w) and max pooling's indices */
    nb_status (*pool_backward)(nbk_call c, const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx);
    /* scaled dot-product attention (kernels/attention.h): out (batch, l, ev) and lse (batch, l) */
    nb_status (*attention_forward)(nbk_call c, const nbk_attention_args *a, void *out, void *lse);
    /* gq, gk, gv (dense, of q's, k's and v's shapes) from the forward's out and lse and g (batch, l, ev) */
    nb_status (*attention_backward)(nbk_call c, const nbk_attention_args *a, const void *out, const void *lse,
                                    const void *g, void *gq, void *gk, void *gv);
    /* whether the attention entries take float16 and bfloat16 q, k, v, out and gradients (lse
     * float32, arithmetic in float32); where not, lib/ runs half attention in float32 */
    bool half_attention;
    /* optimizers (kernels/optim.h): an Adam/AdamW step over a list of parameters (each step
     * count advanced first); a gradient norm's accumulator *acc (a double in the device's
     * memory) combined with a list's terms, with scratch of NBK_NORM_SCRATCH doubles there; and
     * the list scaled by the clip coefficient of the norm *acc gives */
    nb_status (*adam_step)(nbk_call c, const nbk_adam_args *a);
    /* the fused SGD step of one float16 or bfloat16 parameter (kernels/optim.h) */
    nb_status (*sgd_step)(nbk_call c, const nbk_sgd_args *a);
    nb_status (*grad_norm)(nbk_call c, const nbk_grad_list *l, double norm_type, double *acc, double *scratch);
    nb_status (*grad_scale)(nbk_call c, const nbk_grad_list *l, const double *acc, double norm_type, double max_norm);
    /* the gradient scaler (kernels/optim.h): a list's non-finite check and unscale in one pass,
     * and the update of the scale and growth tracker */
    nb_status (*grad_unscale)(nbk_call c, const nbk_unscale_args *a);
    nb_status (*scaler_update)(nbk_call c, const nbk_scaler_update_args *a);

    /* ---- step capture (NULL where the device has none) */
    nb_status (*capture_begin)(nbk_call c);
    bool (*capturing)(int device); /* any thread may ask */
    /* Ends the capture; *out is the graph, or NULL with the error when the capture failed. */
    nb_status (*capture_end)(nbk_call c, nbk_graph **out);
    nb_status (*graph_launch)(nbk_call c, nbk_graph *g);
    void (*graph_destroy)(nbk_graph *g); /* NULL does nothing */

    /* ---- tests: queues a kernel that faults, so that fault reports can be checked */
    nb_status (*debug_trap)(nbk_call c);
} nbk_device;

/* The tables, one per device type (kernels/cpu/device.c, kernels/cuda/device_table.c). */
extern const nbk_device nbk_cpu_device;
extern const nbk_device nbk_cuda_device;

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_DEVICE_H */
