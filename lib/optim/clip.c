/* clip.c — gradient clipping by norm: torch.nn.utils.clip_grad_norm_ (PyTorch 1.13,
 * error_if_nonfinite=False). The norm of order p of every gradient together is
 *
 *   total = (sum over all elements of |g|^p)^(1/p)       (the largest |g| for p infinite)
 *
 * accumulated in float64 on the gradients' device by its grad_norm kernel, one call per
 * NBK_MULTI_MAX gradients of one dtype (kernels/optim.h), in the list's order; then its
 * grad_scale kernel scales every gradient by min(1, max_norm / (total + 1e-6)), reading total
 * on the device. Nothing is read back until nb_clip_grad_norm_ returns the value, so
 * nb_clip_grad_norm_tensor_ can be captured into a CUDA graph. A non-contiguous gradient is
 * measured and scaled through a contiguous copy that is written back. A float16 or bfloat16
 * gradient's terms are taken from its exact values, and it is scaled in float32 and rounded once;
 * the norm returned has the first gradient's dtype (rounded once from float64). */
#include "optimizer.h"

#include "../device.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../graph.h"

#include <math.h>
#include <stdio.h>

#define CLIP_OP "nb_clip_grad_norm_"

/* The gradients of one call, and the contiguous copies standing in for non-contiguous ones. */
typedef struct grad_batch {
    nbk_grad_list list;
    nb_tensor *grad[NBK_MULTI_MAX];
    nb_tensor *copy[NBK_MULTI_MAX]; /* or NULL */
} grad_batch;

/* The list of gradients, in the parameters' order (those with a grad), to be cut into batches. */
typedef struct clip_job {
    const char *op;
    nb_params *params;
    nb_device device;
    double max_norm, norm_type;
    nb_tensor *acc;     /* 0-d float64: the accumulated norm terms */
    nb_tensor *scratch; /* (NBK_NORM_SCRATCH,) float64, or NULL on the CPU */
} clip_job;

/* Runs the batch (the norm, or the scale and the write-back) and empties it. */
static bool run_batch(const clip_job *job, grad_batch *b, bool scale)
{
    bool ok = true;
    if (b->list.n > 0) {
        const nbk_device *dev = nb__device_for(job->op, job->device);
        const nbk_call c = nb__call(job->op, job->device);
        double *acc = (double *)nb__ptr(job->acc);
        ok = dev && nb__kernel_status(job->op, scale ? dev->grad_scale(c, &b->list, acc, job->norm_type, job->max_norm)
                                                     : dev->grad_norm(c, &b->list, job->norm_type, acc,
                                                                      job->scratch ? (double *)nb__ptr(job->scratch)
                                                                                   : NULL)) == NB_OK;
    }
    for (int k = 0; k < b->list.n; k++) {
        if (ok && scale && b->copy[k])
            ok = nb__optim_apply_as(job->op, NB_EW_MUL_SCALAR, b->grad[k], 1, b->copy[k], NULL, 1.0);
        else if (ok && scale)
            nb__bump_version(b->grad[k]);
        nb_release(b->copy[k]);
    }
    b->list.n = 0;
    return ok;
}

/* One pass over the gradients: the norm, or the scale. */
static bool pass(const clip_job *job, bool scale)
{
    grad_batch b;
    b.list.n = 0;
    for (int i = 0; i < nb_params_count(job->params); i++) {
        nb_tensor *g = nb_params_get(job->params, i)->grad;
        if (!g) continue;
        if ((b.list.n == NBK_MULTI_MAX || (b.list.n > 0 && b.list.dtype != g->dtype)) && !run_batch(job, &b, scale))
            return false;
        const int k = b.list.n;
        b.grad[k] = g;
        b.copy[k] = NULL;
        if (!nb__is_contiguous(g)) {
            nb_tensor *c = nb__optim_like(g);
            if (!c || !nb__optim_apply_as(job->op, NB_EW_MUL_SCALAR, c, 1, g, NULL, 1.0)) {
                nb_release(c);
                for (int j = 0; j < k; j++) nb_release(b.copy[j]);
                return false;
            }
            b.copy[k] = c;
        }
        b.list.dtype = g->dtype;
        b.list.grad[k] = nb__ptr(b.copy[k] ? b.copy[k] : g);
        b.list.numel[k] = nb_numel(g);
        b.list.n = k + 1;
    }
    return run_batch(job, &b, scale);
}

/* Checks the arguments and finds the gradients' device and the first gradient's dtype; *any:
 * whether some parameter has a grad. */
static bool check(const char *op, nb_params *params, double max_norm, double norm_type, bool *any, nb_device *device,
                  nb_dtype *dtype)
{
    if (nb__is_null(op, "params", params)) return false;
    if (!(norm_type > 0))
        return nb__fail(NB_ERR_ARGUMENT, "%s: invalid norm_type %g: expected a number > 0 (INFINITY for the max "
                        "norm)", op, norm_type), false;
    if (isnan(max_norm))
        return nb__fail(NB_ERR_ARGUMENT, "%s: invalid max_norm nan: expected a number", op), false;
    *any = false;
    int first = -1;
    for (int i = 0; i < nb_params_count(params); i++) {
        const nb_tensor *g = nb_params_get(params, i)->grad;
        if (!g) continue;
        char a[32], b[32];
        if (!*any) {
            *any = true;
            first = i;
            *device = g->storage->device;
            *dtype = g->dtype;
        } else if (!nb__same_device(*device, g->storage->device)) {
            return nb__fail(NB_ERR_DEVICE, "%s: the grad of parameter %d is on %s but that of parameter %d is on "
                            "%s: the gradients must share one device", op, i,
                            nb__device_string(g->storage->device, a, sizeof a), first,
                            nb__device_string(*device, b, sizeof b)), false;
        }
        if (!nb__is_float_kind(g->dtype))
            return nb__fail(NB_ERR_DTYPE, "%s: the grad of parameter %d is %s; expected float32, float64, float16 or "
                            "bfloat16", op, i, nb_dtype_name(g->dtype)), false;
    }
    return true;
}

/* The norm's 0-d tensor from the accumulated terms (in float64), converted to dtype. */
static nb_tensor *norm_of(nb_tensor *acc, double norm_type, nb_dtype dtype)
{
    nb_tensor *norm = NULL;
    if (norm_type == 2) norm = nb_sqrt(acc);
    else if (norm_type == 1 || isinf(norm_type)) norm = nb_retain(acc);
    else norm = nb_pow_scalar(acc, 1.0 / norm_type);
    nb_tensor *out = nb_to_dtype(norm, dtype);
    nb_release(norm);
    return out;
}

static nb_tensor *clip(const char *op, nb_params *params, double max_norm, double norm_type)
{
    bool any;
    nb_device device = NB_DEVICE_CPU;
    nb_dtype dtype = NB_FLOAT32;
    if (!check(op, params, max_norm, norm_type, &any, &device, &dtype)) return NULL;
    nb_no_grad_begin();
    nb__tracking_pause(); /* the temporaries are the function's own; the result is registered below */
    clip_job job = {op, params, device, max_norm, norm_type, NULL, NULL};
    nb_tensor *out = NULL;
    job.acc = nb__alloc(op, 0, NULL, NB_FLOAT64, device);
    if (job.acc && device.type != NB_CPU)
        job.scratch = nb__alloc(op, 1, (const int64_t[]){NBK_NORM_SCRATCH}, NB_FLOAT64, device);
    if (job.acc && (device.type == NB_CPU || job.scratch) &&
        nb__optim_apply_as(op, NB_EW_FILL, job.acc, 0, NULL, NULL, 0) && (!any || (pass(&job, false) && pass(&job, true))))
        out = norm_of(job.acc, norm_type, dtype);
    nb_release(job.acc);
    nb_release(job.scratch);
    nb__tracking_resume();
    nb_no_grad_end();
    if (out) nb__scope_register(out);
    return out;
}

nb_tensor *nb_clip_grad_norm_tensor_(nb_params *params, double max_norm, double norm_type)
{
    return clip("nb_clip_grad_norm_tensor_", params, max_norm, norm_type);
}

double nb_clip_grad_norm_(nb_params *params, double max_norm, double norm_type)
{
    nb_tensor *norm = clip(CLIP_OP, params, max_norm, norm_type);
    if (!norm) return NAN;
    /* during a capture the value does not exist yet: the work is queued, and reading it back
     * would be refused */
    double v = nb_graph_is_capturing() ? NAN : nb_item(norm);
    nb_release(norm);
    return v;
}
