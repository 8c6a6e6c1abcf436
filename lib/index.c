/* index.c — ops that read or write through an int64 index along one dim, as PyTorch's:
 * index_select, gather, scatter and scatter_add (out of place and in place), index_add. Each is
 * one call of the device's gather or scatter kernel (kernels/index.h), which checks every index
 * and keeps duplicate indices in a fixed order; each records its node for autograd. */
#include "index.h"

#include "autograd/autograd.h"
#include "autograd/record.h"
#include "device.h"
#include "dispatch.h"
#include "error.h"
#include "ewise.h"
#include "iter.h"

#include <string.h>

nb_status nb__index_run(const char *op, bool gather, bool add, double alpha, const nb_tensor *self, int dim,
                        int ndim, const int64_t *shape, const nb_tensor *index, const int64_t *index_strides,
                        const nb_tensor *other, const int64_t *other_strides)
{
    nbk_index_args a = {.dtype = self->dtype, .ndim = ndim, .dim = dim, .alpha = alpha};
    a.self = nb__ptr(self);
    a.other = nb__ptr(other);
    a.index = (const int64_t *)nb__ptr(index);
    a.bound = self->ndim == 0 ? 1 : self->shape[dim];
    if (ndim == 0) { /* one element: every stride is 0 */
        a.ndim = 1;
        a.dim = 0;
        a.shape[0] = 1;
    }
    for (int d = 0; d < ndim; d++) {
        a.shape[d] = shape[d];
        a.self_strides[d] = self->strides[d];
        a.other_strides[d] = other_strides ? other_strides[d] : other->strides[d];
        a.index_strides[d] = index_strides[d];
    }
    if (nb__numel_of(a.ndim, a.shape) == 0) return NB_OK;
    const nb_device dev = self->storage->device;
    const nbk_device *table = nb__device_for(op, dev);
    if (!table) return nb_last_status();
    const nbk_call c = nb__call(op, dev);
    return nb__kernel_status(op, gather ? table->index_gather(c, &a) : table->index_scatter(c, &a, add));
}

bool nb__check_index(const char *op, const nb_tensor *t, const nb_tensor *index)
{
    if (nb__is_null(op, "index", index)) return false;
    const nb_tensor *both[2] = {t, index};
    if (!nb__check_devices(op, 2, both)) return false;
    if (index->dtype != NB_INT64)
        return nb__fail(NB_ERR_DTYPE, "%s: expected an int64 index, got %s (convert with nb_to_dtype)", op,
                        nb_dtype_name(index->dtype)),
               false;
    return true;
}

/* A contiguous copy of t (a new reference when it already is), none of it in the open scope. */
static nb_tensor *dense(const nb_tensor *t)
{
    nb__tracking_pause();
    nb_no_grad_begin();
    nb_tensor *c = nb_contiguous(t);
    nb_no_grad_end();
    nb__tracking_resume();
    return c;
}

/* The strides of a 1-D index of the iteration along dim: 0 everywhere else. */
static void along_dim(int ndim, int dim, int64_t *strides)
{
    for (int d = 0; d < NB_MAX_DIMS; d++) strides[d] = 0;
    if (ndim > 0) strides[dim] = 1;
}

nb_tensor *nb__scatter_copy(const char *op, const nb_tensor *self, int dim, const nb_tensor *index,
                            const nb_tensor *src, bool add, double alpha, bool index_add)
{
    nb_tensor *out = nb__convert(op, self, self->dtype);
    nb_tensor *idx = out ? dense(index) : NULL;
    nb_status st = idx ? NB_OK : nb_last_status();
    if (idx && index_add) {
        int64_t strides[NB_MAX_DIMS];
        along_dim(src->ndim, dim, strides);
        st = nb__index_run(op, false, add, alpha, out, dim, src->ndim, src->shape, idx, strides, src, NULL);
    } else if (idx) {
        st = nb__index_run(op, false, add, alpha, out, dim, idx->ndim, idx->shape, idx, idx->strides, src, NULL);
    }
    nb_release(idx);
    if (st != NB_OK) {
        nb_release(out);
        return NULL;
    }
    return out;
}

/* ---------------------------------------------------------------- checks */

static bool check_same_ndim(const char *op, const char *what, const nb_tensor *t, const nb_tensor *other)
{
    if (other->ndim == t->ndim) return true;
    char ts[160], os[160];
    return nb__fail(NB_ERR_SHAPE, "%s: the %s has %d dims (shape %s) but the input has %d (shape %s); expected the same number",
                    op, what, other->ndim, nb__shape_string(other->ndim, other->shape, os, sizeof os), t->ndim,
                    nb__shape_string(t->ndim, t->shape, ts, sizeof ts)),
           false;
}

/* index no larger than t in every dim but skip (-1: every dim), as gather and scatter require */
static bool check_fits(const char *op, const char *what, const nb_tensor *index, const nb_tensor *t, int skip)
{
    for (int d = 0; d < index->ndim; d++) {
        if (d == skip || index->shape[d] <= t->shape[d]) continue;
        char is[160], ts[160];
        return nb__fail(NB_ERR_SHAPE,
                        "%s: the index of shape %s is larger than the %s of shape %s in dim %d (expected at most %lld)",
                        op, nb__shape_string(index->ndim, index->shape, is, sizeof is), what,
                        nb__shape_string(t->ndim, t->shape, ts, sizeof ts), d, (long long)t->shape[d]),
               false;
    }
    return true;
}

/* dim normalised against t (a 0-d tensor takes dims 0 and -1), or -1 with an error */
static int index_dim(const char *op, const nb_tensor *t, int dim)
{
    return nb__wrap_dim(op, dim, t->ndim > 0 ? t->ndim : 1);
}

static bool check_source(const char *op, const nb_tensor *t, const nb_tensor *src)
{
    if (nb__is_null(op, "source", src)) return false;
    const nb_tensor *both[2] = {t, src};
    if (!nb__check_devices(op, 2, both)) return false;
    if (src->dtype != t->dtype)
        return nb__fail(NB_ERR_DTYPE, "%s: expected the source's dtype to be the input's, %s, got %s", op,
                        nb_dtype_name(t->dtype), nb_dtype_name(src->dtype)),
               false;
    return true;
}

/* ---------------------------------------------------------------- autograd */

/* A node of kind over n inputs made the history of out, keeping dim, alpha and the index. */
static bool record(nb_node_kind kind, const char *op, nb_tensor *out, int n, const nb_tensor *const *in, int dim,
                   double alpha, const nb_tensor *index)
{
    if (!nb__needs_graph(n, in)) return true;
    nb_node *node = nb__node_new(kind, op, n, in);
    if (!node) return false;
    nb__set_history(out, node);
    node->args.index.dim = dim;
    node->args.index.alpha = alpha;
    node->args.index.padding_idx = -1;
    return nb__node_save(node, 0, index, false);
}

/* out's values written into target in place, target taking out's history (in-place ops under
 * autograd run out of place, as lib/ewise.c's do) */
static nb_tensor *take_result(const char *op, nb_tensor *target, nb_tensor *out)
{
    if (!out) return NULL;
    nb_iter it;
    const nb_tensor *src = out;
    nb__iter_build(&it, target, 1, &src);
    nb_tensor *result = NULL;
    if (nb__run_cast(op, out->dtype, target->dtype, &it, target->storage->device) == NB_OK) {
        nb__bump_version(target);
        nb__autograd_take_history(target, out);
        result = target;
    }
    nb_release(out);
    return result;
}

/* ---------------------------------------------------------------- index_select */

nb_tensor *nb_index_select(const nb_tensor *t, int dim, const nb_tensor *index)
{
    const char *op = "nb_index_select";
    if (nb__is_null(op, "input", t) || !nb__check_index(op, t, index)) return NULL;
    const int d = index_dim(op, t, dim);
    if (d < 0) return NULL;
    if (index->ndim > 1) {
        char is[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected a 1-D (or 0-d) index, got shape %s", op,
                        nb__shape_string(index->ndim, index->shape, is, sizeof is));
    }
    const int64_t len = nb__numel_of(index->ndim, index->shape);
    if (t->ndim == 0 && len != 1)
        return nb__fail(NB_ERR_SHAPE, "%s: a 0-d input takes an index of one element, got %lld", op, (long long)len);
    int64_t shape[NB_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    if (t->ndim > 0) shape[d] = len;
    nb_tensor *idx = dense(index);
    nb_tensor *out = idx ? nb__alloc(op, t->ndim, shape, t->dtype, t->storage->device) : NULL;
    int64_t strides[NB_MAX_DIMS];
    along_dim(t->ndim, d, strides);
    if (out && (nb__index_run(op, true, false, 1, t, d, t->ndim, shape, idx, strides, out, NULL) != NB_OK ||
                !record(NB_NODE_INDEX_SELECT, op, out, 1, &t, d, 1, idx))) {
        nb_release(out);
        out = NULL;
    }
    nb_release(idx);
    return out;
}

/* ---------------------------------------------------------------- gather */

nb_tensor *nb_gather(const nb_tensor *t, int dim, const nb_tensor *index)
{
    const char *op = "nb_gather";
    if (nb__is_null(op, "input", t) || !nb__check_index(op, t, index)) return NULL;
    const int d = index_dim(op, t, dim);
    if (d < 0 || !check_same_ndim(op, "index", t, index) || !check_fits(op, "input", index, t, d)) return NULL;
    nb_tensor *idx = dense(index);
    nb_tensor *out = idx ? nb__alloc(op, index->ndim, index->shape, t->dtype, t->storage->device) : NULL;
    if (out && (nb__index_run(op, true, false, 1, t, d, idx->ndim, idx->shape, idx, idx->strides, out, NULL) != NB_OK ||
                !record(NB_NODE_GATHER, op, out, 1, &t, d, 1, idx))) {
        nb_release(out);
        out = NULL;
    }
    nb_release(idx);
    return out;
}

/* ---------------------------------------------------------------- scatter, scatter_add, index_add */

typedef enum scatter_kind { SCATTER, SCATTER_ADD, INDEX_ADD } scatter_kind;

static const nb_node_kind scatter_nodes[] = {
    [SCATTER] = NB_NODE_SCATTER, [SCATTER_ADD] = NB_NODE_SCATTER_ADD, [INDEX_ADD] = NB_NODE_INDEX_ADD};

/* The checks of each kind: the dim (normalised into *d) and the shapes of index and src. */
static bool check_scatter(const char *op, scatter_kind kind, const nb_tensor *t, int dim, const nb_tensor *index,
                          const nb_tensor *src, double alpha, int *d)
{
    if (nb__is_null(op, "input", t) || !nb__check_index(op, t, index) || !check_source(op, t, src)) return false;
    *d = index_dim(op, t, dim);
    if (*d < 0) return false;
    if (kind == INDEX_ADD && ((t->dtype == NB_INT64 && alpha != (double)(int64_t)alpha) ||
                              (t->dtype == NB_BOOL && alpha != 0 && alpha != 1)))
        return nb__fail(NB_ERR_ARGUMENT, "%s: alpha %g does not fit a %s input (expected %s)", op, alpha,
                        nb_dtype_name(t->dtype), t->dtype == NB_BOOL ? "0 or 1" : "an integer"),
               false;
    if (kind != INDEX_ADD)
        return check_same_ndim(op, "index", t, index) && check_same_ndim(op, "source", t, src) &&
               check_fits(op, "input", index, t, *d) && check_fits(op, "source", index, src, -1);
    if (index->ndim > 1) {
        char is[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected a 1-D (or 0-d) index, got shape %s", op,
                        nb__shape_string(index->ndim, index->shape, is, sizeof is)),
               false;
    }
    /* src is t's shape with index's length along dim */
    const int64_t len = nb__numel_of(index->ndim, index->shape);
    bool fits = src->ndim == t->ndim && (t->ndim > 0 || len == 1);
    for (int k = 0; fits && k < t->ndim; k++) fits = src->shape[k] == (k == *d ? len : t->shape[k]);
    if (!fits) {
        char ts[160], ss[160], ws[160];
        int64_t want[NB_MAX_DIMS];
        memcpy(want, t->shape, sizeof want);
        if (t->ndim > 0) want[*d] = len;
        return nb__fail(NB_ERR_SHAPE,
                        "%s: the source of shape %s does not fit the input of shape %s with %lld indices along dim %d "
                        "(expected shape %s)",
                        op, nb__shape_string(src->ndim, src->shape, ss, sizeof ss),
                        nb__shape_string(t->ndim, t->shape, ts, sizeof ts), (long long)len, *d,
                        nb__shape_string(t->ndim, want, ws, sizeof ws)),
               false;
    }
    return true;
}

/* Out of place: a copy of t with src scattered in, recorded. */
static nb_tensor *scatter_out(const char *op, scatter_kind kind, const nb_tensor *t, int d, const nb_tensor *index,
                              const nb_tensor *src, double alpha)
{
    nb_tensor *idx = dense(index);
    nb_tensor *out = idx ? nb__scatter_copy(op, t, d, idx, src, kind != SCATTER, alpha, kind == INDEX_ADD) : NULL;
    const nb_tensor *in[2] = {t, src};
    if (out && !record(scatter_nodes[kind], op, out, 2, in, d, alpha, idx)) {
        nb_release(out);
        out = NULL;
    }
    nb_release(idx);
    return out;
}

static nb_tensor *scatter_public(const char *op, scatter_kind kind, const nb_tensor *t, int dim,
                                 const nb_tensor *index, const nb_tensor *src, double alpha)
{
    int d;
    if (!check_scatter(op, kind, t, dim, index, src, alpha, &d)) return NULL;
    return scatter_out(op, kind, t, d, index, src, alpha);
}

/* In place: under autograd out of place and copied in; otherwise straight into t (a source or
 * index sharing t's memory is read from a copy). */
static nb_tensor *scatter_inplace(const char *op, scatter_kind kind, nb_tensor *t, int dim, const nb_tensor *index,
                                  const nb_tensor *src, double alpha)
{
    int d;
    if (!check_scatter(op, kind, t, dim, index, src, alpha, &d) || !nb__check_writable(op, t)) return NULL;
    const nb_tensor *in[2] = {t, src};
    if (nb__needs_graph(2, in)) {
        if (t->is_view)
            return nb__fail(NB_ERR_AUTOGRAD,
                            "%s: in-place ops on a view cannot be recorded for autograd; apply the op out of place "
                            "or on a clone",
                            op);
        nb__tracking_pause();
        nb_tensor *out = scatter_out(op, kind, t, d, index, src, alpha);
        nb__tracking_resume();
        return take_result(op, t, out);
    }
    nb__tracking_pause();
    nb_tensor *idx = index->storage == t->storage ? nb_clone(index) : nb_contiguous(index);
    nb_tensor *from = src->storage == t->storage ? nb_clone(src) : nb_retain((nb_tensor *)src);
    nb__tracking_resume();
    nb_status st = idx && from ? NB_OK : nb_last_status();
    if (st == NB_OK && kind == INDEX_ADD) {
        int64_t strides[NB_MAX_DIMS];
        along_dim(from->ndim, d, strides);
        st = nb__index_run(op, false, true, alpha, t, d, from->ndim, from->shape, idx, strides, from, NULL);
    } else if (st == NB_OK) {
        st = nb__index_run(op, false, kind != SCATTER, 1, t, d, idx->ndim, idx->shape, idx, idx->strides, from, NULL);
    }
    nb_release(idx);
    nb_release(from);
    if (st != NB_OK) return NULL;
    nb__bump_version(t);
    return t;
}

nb_tensor *nb_scatter(const nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src)
{
    return scatter_public("nb_scatter", SCATTER, t, dim, index, src, 1);
}

nb_tensor *nb_scatter_add(const nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src)
{
    return scatter_public("nb_scatter_add", SCATTER_ADD, t, dim, index, src, 1);
}

nb_tensor *nb_index_add(const nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src, double alpha)
{
    return scatter_public("nb_index_add", INDEX_ADD, t, dim, index, src, alpha);
}

nb_tensor *nb_scatter_(nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src)
{
    return scatter_inplace("nb_scatter_", SCATTER, t, dim, index, src, 1);
}

nb_tensor *nb_scatter_add_(nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src)
{
    return scatter_inplace("nb_scatter_add_", SCATTER_ADD, t, dim, index, src, 1);
}

nb_tensor *nb_index_add_(nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src, double alpha)
{
    return scatter_inplace("nb_index_add_", INDEX_ADD, t, dim, index, src, alpha);
}
