/* split.c — ops that cut a tensor into pieces or stack tensors along a new dim: nb_split,
 * nb_split_sizes and nb_chunk (views, each recorded as NarrowBackward) and nb_stack (unsqueezed
 * views concatenated: CatBackward). */
#include "error.h"
#include "ewise.h"
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pieces of t along d of the n sizes, as narrowed views into out (cap of them); the count,
 * or -1 with an error (no piece is kept). With out NULL and cap 0, only the count. */
static int pieces(const char *op, const nb_tensor *t, int d, int n, const int64_t *sizes, int cap, nb_tensor **out)
{
    if (!out && cap == 0) return n;
    if (nb__is_null(op, "out", out)) return -1;
    if (cap < n)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %d pieces do not fit in out's %d places", op, n, cap), -1;
    int64_t start = 0;
    for (int k = 0; k < n; k++) {
        out[k] = nb_narrow(t, d, start, sizes[k]);
        if (!out[k]) {
            for (int j = 0; j < k; j++) {
                nb_release(out[j]);
                out[j] = NULL;
            }
            return -1;
        }
        start += sizes[k];
    }
    return n;
}

/* dim of t, which needs at least one dim; -1 with an error otherwise */
static int split_dim(const char *op, const nb_tensor *t, int dim)
{
    if (t->ndim == 0) return nb__fail(NB_ERR_ARGUMENT, "%s: cannot split a 0-d tensor", op), -1;
    return nb__wrap_dim(op, dim, t->ndim);
}

/* The sizes of pieces of split_size (the last may be smaller) along a dim of size; their count.
 * sizes has room for every piece when split_size > 0 (or size is 0). */
static int64_t count_of(int64_t size, int64_t split_size)
{
    return size == 0 ? 1 : (size + split_size - 1) / split_size;
}

static int split_even(const char *op, const nb_tensor *t, int d, int64_t split_size, int cap, nb_tensor **out)
{
    const int64_t size = t->shape[d], count = count_of(size, split_size);
    if (count > (int64_t)1 << 20)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %lld pieces are too many to return (split_size %lld of size %lld)", op,
                        (long long)count, (long long)split_size, (long long)size),
               -1;
    if (!out && cap == 0) return (int)count;
    int64_t stack[64] = {0};
    int64_t *sizes = count <= 64 ? stack : malloc((size_t)count * sizeof(int64_t)); /* (count,) */
    if (!sizes) return nb__fail(NB_ERR_MEMORY, "%s: out of memory for %lld sizes", op, (long long)count), -1;
    for (int64_t k = 0; k < count; k++) sizes[k] = size - k * split_size < split_size ? size - k * split_size : split_size;
    const int n = pieces(op, t, d, (int)count, sizes, cap, out);
    if (sizes != stack) free(sizes);
    return n;
}

int nb_split(const nb_tensor *t, int64_t split_size, int dim, int cap, nb_tensor **out)
{
    const char *op = "nb_split";
    if (nb__is_null(op, "input", t)) return -1;
    const int d = split_dim(op, t, dim);
    if (d < 0) return -1;
    if (split_size < 0 || (split_size == 0 && t->shape[d] > 0))
        return nb__fail(NB_ERR_ARGUMENT, "%s: split_size %lld is invalid for dim %d of size %lld (expected at least 1)",
                        op, (long long)split_size, d, (long long)t->shape[d]),
               -1;
    return split_even(op, t, d, split_size, cap, out);
}

int nb_split_sizes(const nb_tensor *t, int n, const int64_t *sizes, int dim, int cap, nb_tensor **out)
{
    const char *op = "nb_split_sizes";
    if (nb__is_null(op, "input", t)) return -1;
    const int d = split_dim(op, t, dim);
    if (d < 0) return -1;
    if (n < 1) return nb__fail(NB_ERR_ARGUMENT, "%s: expected at least one size, got %d", op, n), -1;
    if (nb__is_null(op, "sizes", sizes)) return -1;
    int64_t sum = 0;
    bool valid = true;
    for (int k = 0; k < n && valid; k++) valid = sizes[k] >= 0 && !__builtin_add_overflow(sum, sizes[k], &sum);
    if (!valid || sum != t->shape[d]) {
        char list[160];
        size_t used = 0;
        for (int k = 0; k < n && used < sizeof list; k++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%lld", k ? ", " : "", (long long)sizes[k]);
        return nb__fail(NB_ERR_ARGUMENT,
                        "%s: sizes [%s] must be at least 0 and add up to %lld, the size of dim %d", op, list,
                        (long long)t->shape[d], d),
               -1;
    }
    return pieces(op, t, d, n, sizes, cap, out);
}

int nb_chunk(const nb_tensor *t, int chunks, int dim, int cap, nb_tensor **out)
{
    const char *op = "nb_chunk";
    if (nb__is_null(op, "input", t)) return -1;
    const int d = split_dim(op, t, dim);
    if (d < 0) return -1;
    if (chunks < 1) return nb__fail(NB_ERR_ARGUMENT, "%s: expected at least 1 chunk, got %d", op, chunks), -1;
    const int64_t size = t->shape[d];
    if (size == 0) { /* as PyTorch: chunks empty pieces */
        if (!out && cap == 0) return chunks;
        int64_t *zeros = calloc((size_t)chunks, sizeof(int64_t)); /* (chunks,) */
        if (!zeros) return nb__fail(NB_ERR_MEMORY, "%s: out of memory for %d sizes", op, chunks), -1;
        const int n = pieces(op, t, d, chunks, zeros, cap, out);
        free(zeros);
        return n;
    }
    return split_even(op, t, d, (size + chunks - 1) / chunks, cap, out);
}

nb_tensor *nb_stack(int n, nb_tensor *const *tensors, int dim)
{
    const char *op = "nb_stack";
    if (n <= 0) return nb__fail(NB_ERR_ARGUMENT, "%s: expected at least one tensor, got %d", op, n);
    if (nb__is_null(op, "tensors", tensors)) return NULL;
    for (int k = 0; k < n; k++)
        if (!tensors[k]) return nb__fail(NB_ERR_NULL, "%s: tensor %d is NULL", op, k);
    const nb_tensor *first = tensors[0];
    for (int k = 1; k < n; k++) {
        const nb_tensor *t = tensors[k];
        if (t->ndim == first->ndim && memcmp(t->shape, first->shape, (size_t)t->ndim * sizeof(int64_t)) == 0) continue;
        char a[160], b[160];
        return nb__fail(NB_ERR_SHAPE, "%s: tensor %d has shape %s but tensor 0 has %s; expected equal shapes", op, k,
                        nb__shape_string(t->ndim, t->shape, b, sizeof b),
                        nb__shape_string(first->ndim, first->shape, a, sizeof a));
    }
    if (!nb__check_devices(op, n, (const nb_tensor *const *)tensors)) return NULL;
    if (first->ndim >= NB_MAX_DIMS)
        return nb__fail(NB_ERR_SHAPE, "%s: stacking %d-d tensors gives %d dims; a tensor has at most %d", op, first->ndim,
                        first->ndim + 1, NB_MAX_DIMS);
    const int d = nb__wrap_dim(op, dim, first->ndim + 1);
    if (d < 0) return NULL;
    nb_tensor *stack[16];
    nb_tensor **parts = n <= 16 ? stack : malloc((size_t)n * sizeof(nb_tensor *)); /* (n,) */
    if (!parts) return nb__fail(NB_ERR_MEMORY, "%s: out of memory for %d tensors", op, n);
    nb__tracking_pause();
    int made = 0;
    for (; made < n; made++)
        if (!(parts[made] = nb_unsqueeze(tensors[made], d))) break;
    nb_tensor *out = made == n ? nb_cat(n, parts, d) : NULL;
    for (int k = 0; k < made; k++) nb_release(parts[k]);
    nb__tracking_resume();
    if (parts != stack) free(parts);
    if (out) nb__scope_register(out);
    return out;
}
