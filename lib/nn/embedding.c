/* embedding.c — nb_embedding (rows of a weight picked by int64 indices, F.embedding) and
 * nb_one_hot (F.one_hot): each one run of the device's index kernels (kernels/index.h), which
 * check every index. The embedding's gradient adds rows back in the order of the indices, with
 * no atomics, so it is the same on every device and run (EmbeddingBackward). */
#include "../autograd/autograd.h"
#include "../error.h"
#include "../ewise.h"
#include "../index.h"
#include "../tensor.h"

#include <string.h>

/* t's n elements as a contiguous (n,) tensor outside the open scope (a view when t is dense) */
static nb_tensor *flat_dense(const nb_tensor *t)
{
    nb__tracking_pause();
    nb_no_grad_begin();
    nb_tensor *c = nb_contiguous(t);
    const int64_t n = nb__numel_of(t->ndim, t->shape);
    nb_tensor *flat = c ? nb_reshape(c, 1, &n) : NULL;
    nb_release(c);
    nb_no_grad_end();
    nb__tracking_resume();
    return flat;
}

/* indices' shape with size appended, checked; false and an error naming op otherwise */
static bool shape_plus(const char *op, const nb_tensor *indices, int64_t size, int64_t *shape)
{
    if (indices->ndim >= NB_MAX_DIMS)
        return nb__fail(NB_ERR_SHAPE, "%s: indices of %d dims give a result of %d dims; a tensor has at most %d", op,
                        indices->ndim, indices->ndim + 1, NB_MAX_DIMS),
               false;
    memcpy(shape, indices->shape, (size_t)indices->ndim * sizeof(int64_t));
    shape[indices->ndim] = size;
    int64_t numel;
    return nb__checked_numel(op, indices->ndim + 1, shape, &numel);
}

nb_tensor *nb_embedding(const nb_tensor *weight, const nb_tensor *indices, int64_t padding_idx)
{
    const char *op = "nb_embedding";
    if (nb__is_null(op, "weight", weight) || !nb__check_index(op, weight, indices)) return NULL;
    if (weight->ndim != 2) {
        char ws[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected a 2-D weight (num_embeddings, embedding_dim), got shape %s", op,
                        nb__shape_string(weight->ndim, weight->shape, ws, sizeof ws));
    }
    const int64_t rows = weight->shape[0], dims = weight->shape[1];
    int64_t pad = -1;
    if (padding_idx != NB_NO_PADDING) {
        if (padding_idx < -rows || padding_idx >= rows)
            return nb__fail(NB_ERR_ARGUMENT,
                            "%s: padding_idx %lld is out of range for %lld embeddings (expected %lld to %lld, or "
                            "NB_NO_PADDING)",
                            op, (long long)padding_idx, (long long)rows, (long long)-rows, (long long)rows - 1);
        pad = padding_idx < 0 ? padding_idx + rows : padding_idx;
    }
    int64_t shape[NB_MAX_DIMS];
    if (!shape_plus(op, indices, dims, shape)) return NULL;
    nb_tensor *idx = flat_dense(indices); /* (N,) */
    nb_tensor *out = idx ? nb__alloc(op, indices->ndim + 1, shape, weight->dtype, weight->storage->device) : NULL;
    if (!out) goto done;
    const int64_t iter[2] = {idx->shape[0], dims}, index_strides[NB_MAX_DIMS] = {1, 0}, out_strides[NB_MAX_DIMS] = {dims, 1};
    if (nb__index_run(op, true, false, 1, weight, 0, 2, iter, idx, index_strides, out, out_strides) != NB_OK) goto fail;
    if (nb__needs_graph(1, &weight)) {
        nb_node *node = nb__node_new(NB_NODE_EMBEDDING, op, 1, &weight);
        if (!node) goto fail;
        nb__set_history(out, node);
        node->args.index.dim = 0;
        node->args.index.alpha = 1;
        node->args.index.padding_idx = pad;
        if (!nb__node_save(node, 0, idx, false)) goto fail;
    }
done:
    nb_release(idx);
    return out;
fail:
    nb_release(out);
    out = NULL;
    goto done;
}

/* The number of classes when num_classes is -1: the largest index plus one (read back from the
 * device), refusing negative indices as PyTorch does. -1 and an error otherwise. */
static int64_t infer_classes(const char *op, const nb_tensor *indices)
{
    if (nb__numel_of(indices->ndim, indices->shape) == 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: cannot infer the number of classes from an empty tensor; give num_classes", op),
               -1;
    nb__tracking_pause();
    nb_tensor *lo = nb_min(indices), *hi = lo ? nb_max(indices) : NULL;
    const double min = lo ? nb_item(lo) : 0, max = hi ? nb_item(hi) : 0;
    nb_release(lo);
    nb_release(hi);
    nb__tracking_resume();
    if (!hi) return -1;
    if (min < 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: class values must be non-negative, got %lld", op, (long long)min), -1;
    return (int64_t)max + 1;
}

nb_tensor *nb_one_hot(const nb_tensor *indices, int64_t num_classes)
{
    const char *op = "nb_one_hot";
    if (nb__is_null(op, "indices", indices)) return NULL;
    if (indices->dtype != NB_INT64)
        return nb__fail(NB_ERR_DTYPE, "%s: expected int64 class values, got %s (convert with nb_to_dtype)", op,
                        nb_dtype_name(indices->dtype));
    if (num_classes < -1)
        return nb__fail(NB_ERR_ARGUMENT, "%s: num_classes %lld is invalid (expected -1 to infer it, or at least 0)", op,
                        (long long)num_classes);
    const int64_t classes = num_classes == -1 ? infer_classes(op, indices) : num_classes;
    int64_t shape[NB_MAX_DIMS];
    if (classes < 0 || !shape_plus(op, indices, classes, shape)) return NULL;
    const int nd = indices->ndim + 1;
    nb__tracking_pause();
    nb_tensor *idx = nb_contiguous(indices);
    nb_tensor *one = idx ? nb_ones(0, NULL, NB_OPTS(NB_INT64, .device = indices->storage->device)) : NULL;
    nb__tracking_resume();
    nb_tensor *out = one ? nb_zeros(nd, shape, NB_OPTS(NB_INT64, .device = indices->storage->device)) : NULL;
    if (out) {
        /* a 1 at (i..., indices[i...]): the iteration is indices' shape with a last dim of 1 */
        int64_t iter[NB_MAX_DIMS], index_strides[NB_MAX_DIMS] = {0};
        const int64_t none[NB_MAX_DIMS] = {0};
        memcpy(iter, indices->shape, (size_t)indices->ndim * sizeof(int64_t));
        memcpy(index_strides, idx->strides, (size_t)indices->ndim * sizeof(int64_t));
        iter[nd - 1] = 1;
        if (nb__index_run(op, false, false, 1, out, nd - 1, nd, iter, idx, index_strides, one, none) != NB_OK) {
            nb_release(out);
            out = NULL;
        }
    }
    nb_release(idx);
    nb_release(one);
    return out;
}
