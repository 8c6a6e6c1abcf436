/* reduce.c — reductions: sum, mean, max, min, argmax and argmin, over the whole tensor or along
 * one dim. Checks the arguments (dtype rules are PyTorch's), describes the reduction to the
 * device as a plan over the input's own strides (kernels/reduce.h, whose rules every device
 * follows; no contiguous copy is made), allocates the outputs and records the op for autograd. */
#include "autograd/record.h"
#include "device.h"
#include "dtype.h"
#include "half.h"
#include "error.h"
#include "reduce.h"
#include "autocast.h"
#include "tensor.h"

#include <stdio.h>
#include <string.h>

typedef enum reduce_kind { SUM, MEAN, MAX, MIN, ARGMAX, ARGMIN } reduce_kind;

/* ---------------------------------------------------------------- plans */

/* Merges neighbouring dims (kept in order, outermost first) where both stride lists (in, and out
 * when not NULL) allow one dim to stand for the two. Returns the new count of dims. */
static int coalesce(int n, int64_t *shape, int64_t *in, int64_t *out)
{
    int m = 0; /* dims kept so far; dim m-1 is the innermost of them */
    for (int i = 0; i < n; i++) {
        bool merge =
            m > 0 && in[m - 1] == in[i] * shape[i] && (!out || out[m - 1] == out[i] * shape[i]);
        if (merge) { /* dim m-1 steps over exactly the whole of dim i: one dim */
            shape[m - 1] *= shape[i];
            in[m - 1] = in[i];
            if (out) out[m - 1] = out[i];
            continue;
        }
        shape[m] = shape[i];
        in[m] = in[i];
        if (out) out[m] = out[i];
        m++;
    }
    return m;
}

/* Whole-tensor plan, visiting the elements in memory order: dims sorted by decreasing stride
 * (expanded dims outermost), so a transposed contiguous tensor is read as one contiguous row.
 * argmax/argmin get each dim's step in the row-major index they report. max/min skip expanded
 * dims (drop_expanded): a repeated value cannot change an extreme. */
static void plan_whole(const nb_tensor *t, bool drop_expanded, nbk_reduce_plan *p)
{
    int64_t index_strides[NB_MAX_DIMS]; /* row-major steps of t's dims */
    nb__contiguous_strides(t->ndim, t->shape, index_strides);
    int64_t shape[NB_MAX_DIMS], strides[NB_MAX_DIMS], steps[NB_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] == 1 || (drop_expanded && t->strides[i] == 0)) continue;
        /* insertion sort, stable: stride 0 counts as the largest */
        int j = n++;
        while (j > 0 && (uint64_t)strides[j - 1] - 1 < (uint64_t)t->strides[i] - 1) {
            shape[j] = shape[j - 1];
            strides[j] = strides[j - 1];
            steps[j] = steps[j - 1];
            j--;
        }
        shape[j] = t->shape[i];
        strides[j] = t->strides[i];
        steps[j] = index_strides[i];
    }
    n = coalesce(n, shape, strides, steps);
    if (n == 0) { /* a single element */
        shape[0] = 1;
        strides[0] = 0;
        steps[0] = 1;
        n = 1;
    }
    p->outer_ndim = 0;
    p->red_ndim = n;
    for (int i = 0; i < n; i++) {
        p->red_shape[i] = shape[i];
        p->red_strides[i] = strides[i];
        p->red_index_strides[i] = steps[i];
    }
}

/* Plan along dim d (already wrapped): every other dim is an outer dim, written to a contiguous
 * output. */
static void plan_dim(const nb_tensor *t, int d, nbk_reduce_plan *p)
{
    p->red_ndim = 1;
    p->red_shape[0] = t->ndim > 0 ? t->shape[d] : 1;
    p->red_strides[0] = t->ndim > 0 ? t->strides[d] : 0;
    p->red_index_strides[0] = 1;
    int64_t shape[NB_MAX_DIMS], in[NB_MAX_DIMS], out[NB_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (i == d || t->shape[i] == 1) continue;
        shape[n] = t->shape[i];
        in[n] = t->strides[i];
        n++;
    }
    int64_t step = 1; /* the output is contiguous over the kept dims */
    for (int i = n - 1; i >= 0; i--) {
        out[i] = step;
        step *= shape[i];
    }
    n = coalesce(n, shape, in, out);
    p->outer_ndim = n;
    for (int i = 0; i < n; i++) {
        p->outer_shape[i] = shape[i];
        p->outer_in_strides[i] = in[i];
        p->outer_out_strides[i] = out[i];
    }
}

/* ---------------------------------------------------------------- checks */

static nb_dtype result_dtype(reduce_kind kind, nb_dtype in)
{
    switch (kind) {
    case SUM: return nb__is_floating(in) ? in : NB_INT64;
    case ARGMAX:
    case ARGMIN: return NB_INT64;
    default: return in;
    }
}

static bool check_input(const char *name, reduce_kind kind, const nb_tensor *t)
{
    if (nb__is_null(name, "tensor", t)) return false;
    if (kind == MEAN && !nb__is_floating(t->dtype)) {
        nb__fail(NB_ERR_DTYPE, "%s: expected a floating dtype (float32, float64, float16 or bfloat16), got %s", name,
                 nb_dtype_name(t->dtype));
        return false;
    }
    return true;
}

static bool has_identity(reduce_kind kind) { return kind == SUM || kind == MEAN; }

/* ---------------------------------------------------------------- the shared path */

static nbk_reduce_op kernel_op(reduce_kind kind, bool with_indices)
{
    switch (kind) {
    case SUM:
    case MEAN: return NBK_REDUCE_SUM;
    case MAX: return with_indices ? NBK_REDUCE_ARGMAX : NBK_REDUCE_MAX;
    case MIN: return with_indices ? NBK_REDUCE_ARGMIN : NBK_REDUCE_MIN;
    case ARGMAX: return NBK_REDUCE_ARGMAX;
    case ARGMIN: return NBK_REDUCE_ARGMIN;
    }
    return NBK_REDUCE_SUM;
}

static nb_reduce_op grad_op(reduce_kind kind)
{
    switch (kind) {
    case MEAN: return NB_REDUCE_MEAN;
    case MAX: return NB_REDUCE_MAX;
    case MIN: return NB_REDUCE_MIN;
    default: return NB_REDUCE_SUM;
    }
}

/* Allocates the outputs of shape (ndim, shape), runs the plan and records autograd. dim < 0:
 * the whole tensor. */
static nb_tensor *run(const char *name, reduce_kind kind, const nb_tensor *t, nbk_reduce_plan *p,
                      int ndim, const int64_t *shape, int dim, bool keepdim)
{
    const bool is_arg = kind == ARGMAX || kind == ARGMIN;
    /* max_dim/min_dim also find where each value came from: autograd routes the gradient there */
    const bool with_indices = dim >= 0 && (kind == MAX || kind == MIN);
    nb_tensor *out = nb__alloc(name, ndim, shape, result_dtype(kind, t->dtype), t->storage->device);
    if (!out) return NULL;
    nb_tensor *indices = NULL;
    if (with_indices) {
        indices = nb__untrack(nb__alloc(name, ndim, shape, NB_INT64, t->storage->device));
        if (!indices) {
            nb_release(out);
            return NULL;
        }
    }
    p->in = nb__ptr(t);
    p->values = is_arg ? NULL : nb__ptr(out);
    p->indices = is_arg ? (int64_t *)nb__ptr(out) : (indices ? (int64_t *)nb__ptr(indices) : NULL);
    p->divisor = 1.0;
    if (kind == MEAN)
        p->divisor = (double)(dim >= 0 ? p->red_shape[0] : nb__numel_of(t->ndim, t->shape));
    const nb_device dev = t->storage->device;
    if (nb__numel_of(ndim, shape) > 0) { /* no outputs: nothing to run */
        const nbk_device *table = nb__device_table(dev.type); /* the allocation found it */
        nb_status st = table->reduce(nb__call(name, dev), kernel_op(kind, with_indices), t->dtype, p);
        if (nb__kernel_status(name, st) != NB_OK) {
            nb_release(out);
            nb_release(indices);
            return NULL;
        }
    }

    if (!is_arg &&
        !nb__autograd_record_reduce(name, grad_op(kind), out, t, dim, keepdim, indices)) {
        nb_release(out);
        out = NULL;
    }
    nb_release(indices);
    return out;
}

static nb_tensor *reduce_all(const char *name, reduce_kind kind, const nb_tensor *t)
{
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? reduce_all(name, kind, w) : NULL;
        nb_release(w);
        return kind == ARGMAX || kind == ARGMIN ? r : nb__narrow(r, t->dtype);
    }
    if (!check_input(name, kind, t)) return NULL;
    if (!has_identity(kind) && nb__numel_of(t->ndim, t->shape) == 0) {
        char s[160];
        return nb__fail(NB_ERR_ARGUMENT,
                        "%s: cannot reduce an empty tensor: the operation has no identity "
                        "(the input has shape %s)",
                        name, nb__shape_string(t->ndim, t->shape, s, sizeof s));
    }
    nbk_reduce_plan plan;
    plan_whole(t, kind == MAX || kind == MIN, &plan);
    const int64_t no_dims[1] = {0}; /* the shape of a 0-d result */
    return run(name, kind, t, &plan, 0, no_dims, -1, false);
}

static nb_tensor *reduce_dim(const char *name, reduce_kind kind, const nb_tensor *t, int dim,
                             bool keepdim)
{
    if (t && nb__is_half(t->dtype)) { /* in float32, rounded once (lib/half.c) */
        nb_tensor *w = nb__widen(t);
        nb_tensor *r = w ? reduce_dim(name, kind, w, dim, keepdim) : NULL;
        nb_release(w);
        return kind == ARGMAX || kind == ARGMIN ? r : nb__narrow(r, t->dtype);
    }
    if (!check_input(name, kind, t)) return NULL;
    int d = nb__wrap_dim(name, dim, t->ndim);
    if (d < 0) return NULL;
    if (!has_identity(kind) && t->ndim > 0 && t->shape[d] == 0) {
        char s[160];
        return nb__fail(NB_ERR_ARGUMENT,
                        "%s: cannot reduce over dim %d of size 0: the operation has no identity "
                        "(the input has shape %s)",
                        name, d, nb__shape_string(t->ndim, t->shape, s, sizeof s));
    }
    int64_t shape[NB_MAX_DIMS]; /* t's shape with dim d set to 1 (keepdim) or dropped */
    int ndim = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (i != d)
            shape[ndim++] = t->shape[i];
        else if (keepdim)
            shape[ndim++] = 1;
    }
    nbk_reduce_plan plan;
    plan_dim(t, d, &plan);
    return run(name, kind, t, &plan, ndim, shape, d, keepdim);
}

/* ---------------------------------------------------------------- public entry points */

nb_tensor *nb_sum(const nb_tensor *t)
{
    nb__autocast ac; /* float32 under CUDA's autocast */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_CUDA, 1, &t)) return nb__autocast_done(&ac, nb_sum(ac.t[0]));
    return reduce_all("nb_sum", SUM, t);
}
nb_tensor *nb_mean(const nb_tensor *t) { return reduce_all("nb_mean", MEAN, t); }
nb_tensor *nb_max(const nb_tensor *t) { return reduce_all("nb_max", MAX, t); }
nb_tensor *nb_min(const nb_tensor *t) { return reduce_all("nb_min", MIN, t); }
nb_tensor *nb_argmax(const nb_tensor *t) { return reduce_all("nb_argmax", ARGMAX, t); }
nb_tensor *nb_argmin(const nb_tensor *t) { return reduce_all("nb_argmin", ARGMIN, t); }

nb_tensor *nb_sum_dim(const nb_tensor *t, int dim, bool keepdim)
{
    nb__autocast ac; /* float32 under CUDA's autocast */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_CUDA, 1, &t))
        return nb__autocast_done(&ac, nb_sum_dim(ac.t[0], dim, keepdim));
    return reduce_dim("nb_sum_dim", SUM, t, dim, keepdim);
}
nb_tensor *nb_mean_dim(const nb_tensor *t, int dim, bool keepdim)
{
    return reduce_dim("nb_mean_dim", MEAN, t, dim, keepdim);
}
nb_tensor *nb_max_dim(const nb_tensor *t, int dim, bool keepdim)
{
    return reduce_dim("nb_max_dim", MAX, t, dim, keepdim);
}
nb_tensor *nb_min_dim(const nb_tensor *t, int dim, bool keepdim)
{
    return reduce_dim("nb_min_dim", MIN, t, dim, keepdim);
}
nb_tensor *nb_argmax_dim(const nb_tensor *t, int dim, bool keepdim)
{
    return reduce_dim("nb_argmax_dim", ARGMAX, t, dim, keepdim);
}
nb_tensor *nb_argmin_dim(const nb_tensor *t, int dim, bool keepdim)
{
    return reduce_dim("nb_argmin_dim", ARGMIN, t, dim, keepdim);
}

/* ---------------------------------------------------------------- shared with reduce_dims.c */

int nb__reduce_coalesce(int n, int64_t *shape, int64_t *in, int64_t *out, int64_t *idx)
{
    if (!idx) return coalesce(n, shape, in, out);
    /* idx must merge too: fold it in as a second "out" list, one pass each way */
    int64_t s2[NB_MAX_DIMS], i2[NB_MAX_DIMS], o2[NB_MAX_DIMS];
    for (int i = 0; i < n; i++) s2[i] = shape[i], i2[i] = in[i], o2[i] = idx[i];
    int m = 0;
    for (int i = 0; i < n; i++) {
        bool merge = m > 0 && i2[m - 1] == in[i] * shape[i] && o2[m - 1] == idx[i] * shape[i] &&
                     (!out || out[m - 1] == out[i] * shape[i]);
        if (merge) {
            s2[m - 1] *= shape[i];
            i2[m - 1] = in[i];
            o2[m - 1] = idx[i];
            if (out) out[m - 1] = out[i];
            continue;
        }
        s2[m] = shape[i];
        i2[m] = in[i];
        o2[m] = idx[i];
        if (out) out[m] = out[i];
        m++;
    }
    for (int i = 0; i < m; i++) shape[i] = s2[i], in[i] = i2[i], idx[i] = o2[i];
    return m;
}
