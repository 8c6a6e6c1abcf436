/* device_table.c — the CUDA backend's table of operations (kernels/device.h): each entry runs the
 * backend's own call (cuda.h, softmax.h, graph.h) on the device of the nbk_call, and once the
 * work is queued notes the op as the last one queued there, so that a kernel fault found by a
 * later call names the op whose work was in flight (device.c). */
#include "../device.h"
#include "cuda.h"
#include "graph.h"
#include "norm.h"
#include "conv.h"
#include "batch_norm.h"
#include "index_kernels.h"
#include "optim.h"
#include "pool.h"
#include "attention.h"
#include "softmax.h"

#include <stdio.h>
#include <stdlib.h>

/* st, after noting c.op as queued on its device when the work went in */
static nb_status queued(nbk_call c, nb_status st)
{
    if (st == NB_OK) nbk_cuda_note_op(c.device, c.op);
    return st;
}

/* ---------------------------------------------------------------- devices */

static void describe(char *buf, size_t size)
{
    const int n = nbk_cuda_count();
    if (n == 0) {
        snprintf(buf, size, "cuda: built, no device (%s)", nbk_cuda_no_device_reason());
        return;
    }
    size_t used = (size_t)snprintf(buf, size, "cuda: %d device%s (", n, n == 1 ? "" : "s");
    for (int i = 0; i < n && used < size; i++) {
        char name[256];
        if (nbk_cuda_name(i, name, sizeof name) != NB_OK) snprintf(name, sizeof name, "cuda:%d, unnamed: %s", i, nbk_error());
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", name);
    }
    if (used < size) snprintf(buf + used, size - used, ")");
}

/* ---------------------------------------------------------------- memory */

/* The header is host memory of its own; the data comes from the caching allocator. */
static nb_status alloc(nbk_call c, size_t header_bytes, size_t bytes, nbk_block *out)
{
    void *header = malloc(header_bytes > 0 ? header_bytes : 1);
    if (!header) return nbk_fail(NB_ERR_MEMORY, "out of host memory for a record of cuda:%d memory", c.device);
    void *data = NULL, *handle = NULL;
    nb_status st = nbk_cuda_malloc(c.device, bytes, &data, &handle);
    if (st != NB_OK) {
        free(header);
        return st;
    }
    *out = (nbk_block){.header = header, .data = data, .handle = handle, .capacity = 0};
    return NB_OK;
}

static void release(int device, const nbk_block *b)
{
    nbk_cuda_free(device, b->handle);
    free(b->header);
}

static nb_status upload(nbk_call c, void *dst, const void *host_src, size_t bytes)
{
    return queued(c, nbk_cuda_to_device(c.device, dst, host_src, bytes));
}

static nb_status download(nbk_call c, void *host_dst, const void *src, size_t bytes)
{
    return nbk_cuda_to_host(c.device, host_dst, src, bytes); /* waits: nothing stays queued */
}

static nb_status copy_between(nbk_call c, int src_device, void *dst, const void *src, size_t bytes)
{
    return queued(c, nbk_cuda_device_to_device(c.device, dst, src_device, src, bytes));
}

static nb_status synchronize(nbk_call c) { return nbk_cuda_synchronize(c.device); }

static nb_status synchronize_all(nbk_call c) { return nbk_cuda_synchronize_all(c.device); }

static nb_status allocator_stats(int device, nb_cuda_stats *out)
{
    nbk_cuda_stats_of(device, out);
    return NB_OK;
}

/* ---------------------------------------------------------------- kernels */

static nb_status ewise(nbk_call c, nb_ew_op op, nb_dtype dtype, const nb_iter *it, const nb_scalars *s)
{
    return queued(c, nbk_cuda_ewise(c.device, op, dtype, it, s));
}

static nb_status cast(nbk_call c, nb_dtype from, nb_dtype to, const nb_iter *it)
{
    return queued(c, nbk_cuda_cast(c.device, from, to, it));
}

static nb_status arange(nbk_call c, nb_dtype dtype, double start, double step, int64_t n, void *out)
{
    return queued(c, nbk_cuda_arange(c.device, dtype, start, step, n, out));
}

static nb_status gemm(nbk_call c, const nbk_gemm_args *g) { return queued(c, nbk_cuda_gemm(c.device, g)); }

static nb_status gemm_half(nbk_call c, const nbk_gemm_args *g) { return queued(c, nbk_cuda_gemm_half(c.device, g)); }

static nb_status reduce(nbk_call c, nbk_reduce_op op, nb_dtype dtype, const nbk_reduce_plan *p)
{
    if (op == NBK_REDUCE_SUM) return queued(c, nbk_cuda_sum(c.device, dtype, p));
    const bool take_min = op == NBK_REDUCE_MIN || op == NBK_REDUCE_ARGMIN;
    return queued(c, nbk_cuda_extreme(c.device, take_min, dtype, p));
}

static nb_status rows(nbk_call c, nbk_rows_op op, const nbk_rows_args *a)
{
    return queued(c, nbk_cuda_rows(c.device, op, a));
}

static nb_status sort(nbk_call c, const nbk_sort_args *a) { return queued(c, nbk_cuda_sort(c.device, a)); }

static nb_status softmax(nbk_call c, const nbk_softmax_shape *s, bool take_log, const void *in, void *out)
{
    return queued(c, nbk_cuda_softmax(c.device, s, take_log, in, out));
}

static nb_status softmax_backward(nbk_call c, const nbk_softmax_shape *s, bool take_log, const void *y,
                                  const void *g, void *gi)
{
    return queued(c, nbk_cuda_softmax_backward(c.device, s, take_log, y, g, gi));
}

static nb_status xent_forward(nbk_call c, const nbk_xent_args *a, void *loss)
{
    if (nbk_xent_has_options(a)) return queued(c, nbk_cuda_xent_options_forward(c.device, a, loss));
    return queued(c, nbk_cuda_xent_forward(c.device, a, loss));
}

static nb_status xent_backward(nbk_call c, const nbk_xent_args *a, const void *g, void *grad)
{
    if (nbk_xent_has_options(a)) return queued(c, nbk_cuda_xent_options_backward(c.device, a, g, grad));
    return queued(c, nbk_cuda_xent_backward(c.device, a, g, grad));
}

static nb_status norm_forward(nbk_call c, const nbk_norm_args *a, void *y, double *stats)
{
    return queued(c, nbk_cuda_norm_forward(c.device, a, y, stats));
}

static nb_status norm_backward(nbk_call c, const nbk_norm_args *a, const double *stats, const void *g, void *gx,
                               void *gw, void *gb)
{
    return queued(c, nbk_cuda_norm_backward(c.device, a, stats, g, gx, gw, gb));
}

static nb_status batch_norm_forward(nbk_call c, const nbk_batch_norm_args *a, void *y, double *stats)
{
    return queued(c, nbk_cuda_batch_norm_forward(c.device, a, y, stats));
}

static nb_status batch_norm_backward(nbk_call c, const nbk_batch_norm_args *a, const double *stats, const void *g,
                                     void *gx, void *gw, void *gb)
{
    return queued(c, nbk_cuda_batch_norm_backward(c.device, a, stats, g, gx, gw, gb));
}

static nb_status random_draw(nbk_call c, const nbk_random_args *a) { return queued(c, nbk_cuda_random(c.device, a)); }

static nb_status rng_set_state(nbk_call c, uint64_t seed, uint64_t offset)
{
    return queued(c, nbk_cuda_rng_set_state(c.device, seed, offset));
}

static nb_status index_gather(nbk_call c, const nbk_index_args *a)
{
    return queued(c, nbk_cuda_index_gather(c.device, c.op, a));
}

static nb_status index_scatter(nbk_call c, const nbk_index_args *a, bool add)
{
    return queued(c, nbk_cuda_index_scatter(c.device, c.op, a, add));
}

static nb_status im2col(nbk_call c, const nbk_conv_args *a) { return queued(c, nbk_cuda_im2col(c.device, a)); }

static nb_status col2im(nbk_call c, const nbk_conv_args *a) { return queued(c, nbk_cuda_col2im(c.device, a)); }
static nb_status pool_forward(nbk_call c, const nbk_pool_args *a, const void *x, void *y, int64_t *indices)
{
    return queued(c, nbk_cuda_pool_forward(c.device, a, x, y, indices));
}

static nb_status pool_backward(nbk_call c, const nbk_pool_args *a, const void *g, const int64_t *indices, void *gx)
{
    return queued(c, nbk_cuda_pool_backward(c.device, a, g, indices, gx));
}

static nb_status attention_forward(nbk_call c, const nbk_attention_args *a, void *out, void *lse)
{
    return queued(c, nbk_cuda_attention_forward(c.device, a, out, lse));
}

static nb_status attention_backward(nbk_call c, const nbk_attention_args *a, const void *out, const void *lse,
                                    const void *g, void *gq, void *gk, void *gv)
{
    return queued(c, nbk_cuda_attention_backward(c.device, a, out, lse, g, gq, gk, gv));
}

static nb_status adam_step(nbk_call c, const nbk_adam_args *a) { return queued(c, nbk_cuda_adam_step(c.device, a)); }

static nb_status sgd_step(nbk_call c, const nbk_sgd_args *a) { return queued(c, nbk_cuda_sgd_step(c.device, a)); }

static nb_status grad_norm(nbk_call c, const nbk_grad_list *l, double norm_type, double *acc, double *scratch)
{
    return queued(c, nbk_cuda_grad_norm(c.device, l, norm_type, acc, scratch));
}

static nb_status grad_scale(nbk_call c, const nbk_grad_list *l, const double *acc, double norm_type, double max_norm)
{
    return queued(c, nbk_cuda_grad_scale(c.device, l, acc, norm_type, max_norm));
}

static nb_status grad_unscale(nbk_call c, const nbk_unscale_args *a)
{
    return queued(c, nbk_cuda_grad_unscale(c.device, a));
}

static nb_status scaler_update(nbk_call c, const nbk_scaler_update_args *a)
{
    return queued(c, nbk_cuda_scaler_update(c.device, a));
}

/* ---------------------------------------------------------------- capture */

static nb_status capture_begin(nbk_call c) { return nbk_cuda_capture_begin(c.device); }

static nb_status capture_end(nbk_call c, nbk_graph **out) { return nbk_cuda_capture_end(c.device, out); }

static nb_status graph_launch(nbk_call c, nbk_graph *g) { return queued(c, nbk_cuda_graph_launch(g)); }

static nb_status debug_trap(nbk_call c) { return queued(c, nbk_cuda_debug_trap(c.device)); }

const nbk_device nbk_cuda_device = {
    .name = "cuda",
    .count = nbk_cuda_count,
    .unavailable_reason = nbk_cuda_no_device_reason,
    .device_name = nbk_cuda_name,
    .memory = nbk_cuda_mem_info,
    .describe = describe,
    .alloc = alloc,
    .free = release,
    .upload = upload,
    .download = download,
    .copy_between = copy_between,
    .synchronize = synchronize,
    .synchronize_all = synchronize_all,
    .allocator_stats = allocator_stats,
    .empty_cache = nbk_cuda_release_cache,
    .has_ewise = nbk_cuda_has_ewise,
    .ewise = ewise,
    .cast = cast,
    .arange = arange,
    .gemm = gemm,
    .gemm_half = gemm_half,
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
    .rng_set_state = rng_set_state,
    .index_gather = index_gather,
    .index_scatter = index_scatter,
    .im2col = im2col,
    .col2im = col2im,
    .conv2d_forward = NULL, /* lib/nn/conv.c composes im2col and the strided-batched product */
    .conv2d_backward = NULL,
    .half_columns = true,
    .pool_forward = pool_forward,
    .pool_backward = pool_backward,
    .attention_forward = attention_forward,
    .attention_backward = attention_backward,
    .half_attention = true,
    .adam_step = adam_step,
    .sgd_step = sgd_step,
    .grad_norm = grad_norm,
    .grad_scale = grad_scale,
    .grad_unscale = grad_unscale,
    .scaler_update = scaler_update,
    .capture_begin = capture_begin,
    .capturing = nbk_cuda_capturing,
    .capture_end = capture_end,
    .graph_launch = graph_launch,
    .graph_destroy = nbk_cuda_graph_destroy,
    .debug_trap = debug_trap,
};
