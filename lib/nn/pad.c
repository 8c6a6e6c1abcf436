/* pad.c — nb_pad, F.pad on the last dims: constant padding (negative pads crop) as full blocks
 * concatenated around narrowed views (recorded as CatBackward and NarrowBackward), reflect and
 * replicate padding as one index_select per padded dim with the index of the element each
 * output element copies (IndexSelectBackward). */
#include "../error.h"
#include "../tensor.h"

#include <stdlib.h>

static const char *const mode_names[] = {"constant", "reflect", "replicate"};

/* x with a constant block of `left` and `right` elements either side along d (negative: cut) */
static nb_tensor *pad_constant_dim(const nb_tensor *x, int d, int64_t left, int64_t right, double value)
{
    const int64_t size = x->shape[d];
    const int64_t start = left < 0 ? -left : 0, stop = right < 0 ? size + right : size;
    nb_tensor *mid = nb_narrow(x, d, start, stop - start);
    if (!mid || (left <= 0 && right <= 0)) return mid;
    nb_tensor *parts[3];
    int n = 0;
    int64_t shape[NB_MAX_DIMS];
    for (int k = 0; k < x->ndim; k++) shape[k] = x->shape[k];
    const nb_options o = NB_OPTS(x->dtype, .device = x->storage->device);
    if (left > 0) {
        shape[d] = left;
        parts[n++] = nb_full(x->ndim, shape, value, o);
    }
    parts[n++] = mid;
    if (right > 0) {
        shape[d] = right;
        parts[n++] = nb_full(x->ndim, shape, value, o);
    }
    nb_tensor *out = NULL;
    bool ok = true;
    for (int k = 0; k < n; k++) ok = ok && parts[k];
    if (ok) out = nb_cat(n, parts, d);
    for (int k = 0; k < n; k++) nb_release(parts[k]);
    return out;
}

/* x along d through the index of the element each output element copies (reflect, replicate) */
static nb_tensor *pad_index_dim(const nb_tensor *x, int d, int64_t left, int64_t right, nb_pad_mode mode)
{
    const int64_t size = x->shape[d], len = size + left + right;
    int64_t *map = malloc((size_t)(len > 0 ? len : 1) * sizeof(int64_t)); /* (len,) */
    if (!map) return nb__fail(NB_ERR_MEMORY, "nb_pad: out of memory for an index of %lld elements", (long long)len);
    for (int64_t i = 0; i < len; i++) {
        int64_t j = i - left;
        if (mode == NB_PAD_REFLECT) {
            if (j < 0) j = -j;
            if (j >= size) j = 2 * (size - 1) - j;
        } else {
            j = j < 0 ? 0 : j >= size ? size - 1 : j;
        }
        map[i] = j;
    }
    nb_tensor *cpu = nb_from_array(map, 1, &len, NB_OPTS(NB_INT64));
    free(map);
    nb_tensor *idx = cpu ? nb_to(cpu, x->storage->device) : NULL;
    nb_tensor *out = idx ? nb_index_select(x, d, idx) : NULL;
    nb_release(cpu);
    nb_release(idx);
    return out;
}

/* The checks of F.pad: pairs of pads for the last dims; reflect and replicate on the last 1 to 3
 * dims of a batched input, with pads they can fill. */
static bool check_pad(const nb_tensor *t, int n, const int64_t *pads, nb_pad_mode mode)
{
    if ((int)mode < 0 || mode > NB_PAD_REPLICATE)
        return nb__fail(NB_ERR_ARGUMENT, "nb_pad: unknown mode %d (expected NB_PAD_CONSTANT, NB_PAD_REFLECT or NB_PAD_REPLICATE)",
                        (int)mode),
               false;
    if (n < 0 || n % 2 != 0)
        return nb__fail(NB_ERR_ARGUMENT, "nb_pad: expected an even number of pads (a pair per dim), got %d", n), false;
    if (n > 0 && nb__is_null("nb_pad", "pads", pads)) return false;
    if (n / 2 > t->ndim)
        return nb__fail(NB_ERR_ARGUMENT, "nb_pad: %d pads pad %d dims but the input has %d", n, n / 2, t->ndim), false;
    if (mode != NB_PAD_CONSTANT) {
        const int dims = n / 2;
        if (dims < 1 || dims > 3 || (t->ndim != dims + 1 && t->ndim != dims + 2)) {
            char ts[160];
            return nb__fail(NB_ERR_ARGUMENT,
                            "nb_pad: %s padding of %d dims takes a %d-d or %d-d input, got shape %s (1 to 3 dims are "
                            "padded, after 1 or 2 batch dims)",
                            mode_names[mode], dims, dims + 1, dims + 2, nb__shape_string(t->ndim, t->shape, ts, sizeof ts)),
                   false;
        }
    }
    for (int k = 0; k < n / 2; k++) {
        const int d = t->ndim - 1 - k;
        const int64_t size = t->shape[d], left = pads[2 * k], right = pads[2 * k + 1];
        int64_t len;
        if (__builtin_add_overflow(size, left, &len) || __builtin_add_overflow(len, right, &len) || len < 0)
            return nb__fail(NB_ERR_ARGUMENT,
                            "nb_pad: pads (%lld, %lld) leave no valid size for dim %d of size %lld", (long long)left,
                            (long long)right, d, (long long)size),
                   false;
        if (mode == NB_PAD_REFLECT && (left >= size || right >= size || left < 0 || right < 0))
            return nb__fail(NB_ERR_ARGUMENT,
                            "nb_pad: reflect pads (%lld, %lld) must be at least 0 and less than the size %lld of dim %d",
                            (long long)left, (long long)right, (long long)size, d),
                   false;
        if (mode == NB_PAD_REPLICATE && (size == 0 || left < 0 || right < 0))
            return nb__fail(NB_ERR_ARGUMENT,
                            "nb_pad: replicate pads (%lld, %lld) must be at least 0, of a non-empty dim (dim %d has size %lld)",
                            (long long)left, (long long)right, d, (long long)size),
                   false;
    }
    return true;
}

nb_tensor *nb_pad(const nb_tensor *t, int n, const int64_t *pads, nb_pad_mode mode, double value)
{
    if (nb__is_null("nb_pad", "input", t) || !check_pad(t, n, pads, mode)) return NULL;
    int64_t shape[NB_MAX_DIMS], numel; /* the result's, checked before any work */
    for (int k = 0; k < t->ndim; k++) shape[k] = t->shape[k];
    for (int k = 0; k < n / 2; k++) shape[t->ndim - 1 - k] += pads[2 * k] + pads[2 * k + 1];
    if (!nb__checked_numel("nb_pad", t->ndim, shape, &numel)) return NULL;
    nb__tracking_pause();
    nb_tensor *x = nb_retain((nb_tensor *)t);
    for (int k = 0; k < n / 2 && x; k++) {
        const int d = t->ndim - 1 - k;
        const int64_t left = pads[2 * k], right = pads[2 * k + 1];
        if (left == 0 && right == 0) continue;
        nb_tensor *next = mode == NB_PAD_CONSTANT ? pad_constant_dim(x, d, left, right, value)
                                                  : pad_index_dim(x, d, left, right, mode);
        nb_release(x);
        x = next;
    }
    /* only cut, or not padded at all: still a copy, as F.pad gives */
    nb_tensor *out = x && x->storage == t->storage ? nb_clone(x) : x;
    if (out != x) nb_release(x);
    nb__tracking_resume();
    if (out) nb__scope_register(out);
    return out;
}
