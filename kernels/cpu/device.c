/* device.c — the CPU's table of operations (kernels/device.h): memory from the host block cache,
 * copies as memcpy, and the CPU kernels (elementwise loops, BLIS products, reductions, softmax and
 * cross entropy), each on the thread count of threads.h's rule. The CPU runs everything at once,
 * so it has nothing to synchronise and no graphs to capture. */
#include "../device.h"
#include "blis_setup.h"
#include "cpu.h"
#include "gemm.h"
#include "host_cache.h"
#include "norm.h"
#include "batch_norm.h"
#include "random.h"
#include "index.h"
#include "conv.h"
#include "optim.h"
#include "pool.h"
#include "attention.h"
#include "reduce.h"
#include "rows.h"
#include "softmax.h"
#include "threads.h"

#include <stdio.h>
#include <string.h>

#define ALIGN 64 /* the header is padded to this, so the data after it stays aligned */

/* ---------------------------------------------------------------- devices */

static int count(void) { return 1; }
static const char *unavailable_reason(void) { return ""; }

static nb_status device_name(int device, char *buf, size_t size)
{
    if (size > 0) snprintf(buf, size, "cpu");
    (void)device;
    return NB_OK;
}

static nb_status memory(int device, size_t *free_bytes, size_t *total_bytes)
{
    (void)device;
    *free_bytes = *total_bytes = 0;
    return nbk_fail(NB_ERR_UNSUPPORTED, "the cpu does not report its memory");
}

static void describe(char *buf, size_t size) { nbk_blis_describe(buf, size); }

/* ---------------------------------------------------------------- memory */

/* The header and the data share one block: the data starts at the first 64-byte boundary after
 * the header. */
static nb_status alloc(nbk_call c, size_t header_bytes, size_t bytes, nbk_block *out)
{
    (void)c;
    const size_t head = (header_bytes + ALIGN - 1) / ALIGN * ALIGN;
    size_t capacity;
    char *block = nbk_host_alloc(head + bytes, &capacity);
    if (!block) return nbk_fail(NB_ERR_MEMORY, "out of memory allocating %zu bytes on the cpu", bytes);
    *out = (nbk_block){.header = block, .data = block + head, .handle = block, .capacity = capacity};
    return NB_OK;
}

static void release(int device, const nbk_block *b)
{
    (void)device;
    nbk_host_free(b->handle, b->capacity);
}

static nb_status copy_bytes(nbk_call c, void *dst, const void *src, size_t bytes)
{
    (void)c;
    if (bytes > 0) memcpy(dst, src, bytes);
    return NB_OK;
}

static nb_status copy_between(nbk_call c, int src_device, void *dst, const void *src, size_t bytes)
{
    (void)src_device;
    return copy_bytes(c, dst, src, bytes);
}

static nb_status synchronize(nbk_call c)
{
    (void)c;
    return NB_OK;
}

static nb_status synchronize_all(nbk_call c) /* the CPU's work is done when its call returns */
{
    (void)c;
    return NB_OK;
}

/* ---------------------------------------------------------------- kernels */

static bool has_ewise(nb_ew_op op, nb_dtype dtype)
{
    return (int)op >= 0 && op < NB_EW_COUNT && (int)dtype >= 0 && dtype < NB_DTYPE_COUNT &&
           nbk_cpu_ew_loops[op][dtype] != NULL;
}

static nb_status ewise(nbk_call c, nb_ew_op op, nb_dtype dtype, const nb_iter *it, const nb_scalars *s)
{
    (void)c;
    if (!has_ewise(op, dtype))
        return nbk_fail(NB_ERR_UNSUPPORTED, "no cpu kernel for dtype %s", nb_dtype_name(dtype));
    nbk_cpu_run(it, nbk_cpu_ew_loops[op][dtype], s, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status cast(nbk_call c, nb_dtype from, nb_dtype to, const nb_iter *it)
{
    (void)c;
    static const nb_scalars none = {0, 0};
    nbk_cpu_run(it, nbk_cpu_cast_loops[from][to], &none, nbk_cpu_max_threads());
    return NB_OK;
}

/* start + i·step in double, converted by the cast loops a chunk at a time */
static nb_status arange(nbk_call c, nb_dtype dtype, double start, double step, int64_t n, void *out)
{
    (void)c;
    enum { CHUNK = 1024 };
    double values[CHUNK]; /* (CHUNK,) */
    const int64_t esize = (int64_t)nb_dtype_size(dtype);
    static const nb_scalars none = {0, 0};
    for (int64_t first = 0; first < n; first += CHUNK) {
        const int64_t len = n - first < CHUNK ? n - first : CHUNK;
        for (int64_t i = 0; i < len; i++) values[i] = start + (double)(first + i) * step;
        char *data[2] = {(char *)out + first * esize, (char *)values};
        const int64_t strides[2] = {esize, (int64_t)sizeof(double)};
        nbk_cpu_cast_loops[NB_FLOAT64][dtype](len, data, strides, &none);
    }
    return NB_OK;
}

static nb_status gemm(nbk_call c, const nbk_gemm_args *g)
{
    (void)c;
    return nbk_cpu_gemm(g, nbk_cpu_max_threads());
}

static nb_status reduce(nbk_call c, nbk_reduce_op op, nb_dtype dtype, const nbk_reduce_plan *p)
{
    (void)c;
    nbk_cpu_reduce(op, dtype, p, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status rows(nbk_call c, nbk_rows_op op, const nbk_rows_args *a)
{
    (void)c;
    nbk_cpu_rows(op, a, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status sort(nbk_call c, const nbk_sort_args *a)
{
    (void)c;
    return nbk_cpu_sort(a, nbk_cpu_max_threads());
}

static nb_status softmax(nbk_call c, const nbk_softmax_shape *s, bool take_log, const void *in, void *out)
{
    (void)c;
    nbk_cpu_softmax(s, take_log, in, out, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status softmax_backward(nbk_call c, const nbk_softmax_shape *s, bool take_log, const void *y,
                                  const void *g, void *gi)
{
    (void)c;
    nbk_cpu_softmax_backward(s, take_log, y, g, gi, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status bad_label(const nbk_xent_args *a, int64_t row)
{
    return nbk_fail(NB_ERR_ARGUMENT, "label %lld in row %lld is out of range for %lld classes (expected 0 to %lld)",
                    (long long)a->labels[row * a->label_stride], (long long)row, (long long)a->classes,
                    (long long)a->classes - 1);
}

static nb_status xent_forward(nbk_call c, const nbk_xent_args *a, void *loss)
{
    (void)c;
    const int64_t bad = nbk_cpu_xent_check_labels(a);
    if (bad >= 0) return bad_label(a, bad);
    if (nbk_xent_has_options(a)) {
        nbk_cpu_xent_ext_forward(a, loss, nbk_cpu_max_threads());
        return NB_OK;
    }
    const double mean = nbk_cpu_xent_forward(a, nbk_cpu_max_threads());
    if (a->dtype == NB_FLOAT32) *(float *)loss = (float)mean;
    else *(double *)loss = mean;
    return NB_OK;
}

static nb_status xent_backward(nbk_call c, const nbk_xent_args *a, const void *g, void *grad)
{
    (void)c;
    const int64_t bad = nbk_cpu_xent_check_labels(a);
    if (bad >= 0) return bad_label(a, bad);
    if (nbk_xent_has_options(a)) {
        nbk_cpu_xent_ext_backward(a, g, grad, nbk_cpu_max_threads());
        return NB_OK;
    }
    const double grad_loss = a->dtype == NB_FLOAT32 ? *(const float *)g : *(const double *)g;
    nbk_cpu_xent_backward(a, grad_loss / (double)a->rows, grad, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status norm_forward(nbk_call c, const nbk_norm_args *a, void *y, double *stats)
{
    (void)c;
    nbk_cpu_norm_forward(a, y, stats, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status norm_backward(nbk_call c, const nbk_norm_args *a, const double *stats, const void *g, void *gx,
                               void *gw, void *gb)
{
    (void)c;
    nbk_cpu_norm_backward(a, stats, g, gx, gw, gb, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status batch_norm_forward(nbk_call c, const nbk_batch_norm_args *a, void *y, double *stats)
{
    (void)c;
    nbk_cpu_batch_norm_forward(a, y, stats, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status batch_norm_backward(nbk_call c, const nbk_batch_norm_args *a, const double *stats, const void *g,
                                     void *gx, void *gw, void *gb)
{
    (void)c;
    nbk_cpu_batch_norm_backward(a, stats, g, gx, gw, gb, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status random_draw(nbk_call c, const nbk_random_args *a)
{
    (void)c;
    return nbk_cpu_random(a, nbk_cpu_max_threads());
}

static nb_status bad_index(const nbk_index_args *a, int64_t position, int64_t value)
{
    return nbk_fail(NB_ERR_ARGUMENT, "index %lld at position %lld is out of range for dim %d of size %lld",
                    (long long)value, (long long)position, a->dim, (long long)a->bound);
}

/* a gather checks each index as it reads it (its output is new: a partial one is dropped) */
static nb_status index_gather(nbk_call c, const nbk_index_args *a)
{
    (void)c;
    int64_t position, value;
    if (!nbk_cpu_index_gather(a, nbk_cpu_max_threads(), &position, &value)) return bad_index(a, position, value);
    return NB_OK;
}

/* a scatter writes in place: every index is checked before anything is written */
static nb_status index_scatter(nbk_call c, const nbk_index_args *a, bool add)
{
    (void)c;
    int64_t position, value;
    if (nbk_cpu_index_find_bad(a, &position, &value)) return bad_index(a, position, value);
    nbk_cpu_index_scatter(a, add, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status im2col(nbk_call c, const nbk_conv_args *a)
{
    (void)c;
    nbk_cpu_im2col(a, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status col2im(nbk_call c, const nbk_conv_args *a)
{
    (void)c;
    nbk_cpu_col2im(a, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status conv2d_forward(nbk_call c, const nbk_conv2d_args *a, void *y)
{
    (void)c;
    return nbk_cpu_conv2d_forward(a, y, nbk_cpu_max_threads());
}

static nb_status conv2d_backward(nbk_call c, const nbk_conv2d_args *a, const void *gy, void *gx, void *gw, void *gb)
{
    (void)c;
    return nbk_cpu_conv2d_backward(a, gy, gx, gw, gb, nbk_cpu_max_threads());
}

static nb_status pool_forward(nbk_call c, const nbk_pool_args *a, const void *x, void *y, int64_t *indices)
{
    (void)c;
    nbk_cpu_pool_forward(a, x, y, indices, nbk_cpu_max_threads());
    return NB_OK;
}

static nb_status pool_backward(nbk_call c, const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx)
{
    (void)c;
    return nbk_cpu_pool_backward(a, g, indices, gx, nbk_cpu_max_threads());
}

static nb_status attention_forward(nbk_call c, const nbk_attention_args *a, void *out, void *lse)
{
    (void)c;
    return nbk_cpu_attention_forward(a, out, lse, nbk_cpu_max_threads());
}

static nb_status attention_backward(nbk_call c, const nbk_attention_args *a, const void *out, const void *lse,
                                    const void *g, void *gq, void *gk, void *gv)
{
    (void)c;
    return nbk_cpu_attention_backward(a, out, lse, g, gq, gk, gv, nbk_cpu_max_threads());
}

static nb_status adam_step(nbk_call c, const nbk_adam_args *a)
{
    (void)c;
    nbk_cpu_adam_step(a);
    return NB_OK;
}

static nb_status sgd_step(nbk_call c, const nbk_sgd_args *a)
{
    (void)c;
    nbk_cpu_sgd_step(a);
    return NB_OK;
}

static nb_status grad_norm(nbk_call c, const nbk_grad_list *l, double norm_type, double *acc, double *scratch)
{
    (void)c, (void)scratch;
    nbk_cpu_grad_norm(l, norm_type, acc);
    return NB_OK;
}

static nb_status grad_scale(nbk_call c, const nbk_grad_list *l, const double *acc, double norm_type, double max_norm)
{
    (void)c;
    nbk_cpu_grad_scale(l, acc, norm_type, max_norm);
    return NB_OK;
}

static nb_status grad_unscale(nbk_call c, const nbk_unscale_args *a)
{
    (void)c;
    nbk_cpu_grad_unscale(a);
    return NB_OK;
}

static nb_status scaler_update(nbk_call c, const nbk_scaler_update_args *a)
{
    (void)c;
    nbk_scaler_update_at(a);
    return NB_OK;
}

const nbk_device nbk_cpu_device = {
    .name = "cpu",
    .count = count,
    .unavailable_reason = unavailable_reason,
    .device_name = device_name,
    .memory = memory,
    .describe = describe,
    .set_threads = nbk_cpu_set_max_threads,
    .threads = nbk_cpu_max_threads,
    .alloc = alloc,
    .free = release,
    .upload = copy_bytes,
    .download = copy_bytes,
    .copy_between = copy_between,
    .synchronize = synchronize,
    .synchronize_all = synchronize_all,
    .has_ewise = has_ewise,
    .ewise = ewise,
    .cast = cast,
    .arange = arange,
    .gemm = gemm,
    .gemm_half = NULL, /* lib/linalg.c converts half operands to float32 for BLIS's sgemm */
    .reduce = reduce,
    .rows = rows,
    .sort = sort,
    .softmax = softmax,
    .softmax_backward = softmax_backward,
    .xent_forward = xent_forward,
    .xent_backward = xent_backward,
    .norm_forward = norm_forward,
    .norm_backward = norm_backward,
    .batch_norm_forward = batch_norm_forward,
    .batch_norm_backward = batch_norm_backward,
    .random = random_draw,
    .index_gather = index_gather,
    .index_scatter = index_scatter,
    .im2col = im2col,
    .col2im = col2im,
    .conv2d_forward = conv2d_forward,
    .conv2d_backward = conv2d_backward,
    .half_columns = false, /* lib/nn/conv.c runs half convolutions in float32: BLIS has no half product */
    .pool_forward = pool_forward,
    .pool_backward = pool_backward,
    .attention_forward = attention_forward,
    .attention_backward = attention_backward,
    .half_attention = false, /* lib/nn/attention.c runs half attention in float32 */
    .adam_step = adam_step,
    .sgd_step = sgd_step,
    .grad_norm = grad_norm,
    .grad_scale = grad_scale,
    .grad_unscale = grad_unscale,
    .scaler_update = scaler_update,
};
