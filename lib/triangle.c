/* triangle.c — nb_tril and nb_triu: the lower or upper triangle of the last two dims (batched
 * over the others), the rest zero, as where(col - row <= k, t, 0) (WhereBackward) with the mask
 * built on t's device from two aranges. */
#include "error.h"
#include "tensor.h"

static nb_tensor *triangle(const char *op, const nb_tensor *t, int64_t diagonal, bool lower)
{
    if (nb__is_null(op, "input", t)) return NULL;
    if (t->ndim < 2) {
        char ts[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected a tensor of at least 2 dims, got shape %s", op,
                        nb__shape_string(t->ndim, t->shape, ts, sizeof ts));
    }
    const int64_t rows = t->shape[t->ndim - 2], cols = t->shape[t->ndim - 1];
    const nb_options ints = NB_OPTS(NB_INT64, .device = t->storage->device);
    nb__tracking_pause();
    nb_tensor *r = nb_arange(0, (double)rows, 1, ints), *c = nb_arange(0, (double)cols, 1, ints);
    const int64_t column[2] = {rows, 1};
    nb_tensor *rc = r ? nb_reshape(r, 2, column) : NULL; /* (rows, 1) */
    nb_tensor *diff = rc && c ? nb_sub(c, rc) : NULL;    /* (rows, cols): col - row */
    nb_tensor *mask = diff ? (lower ? nb_le_scalar(diff, (double)diagonal) : nb_ge_scalar(diff, (double)diagonal)) : NULL;
    nb_tensor *zero = mask ? nb_zeros(0, NULL, NB_OPTS(t->dtype, .device = t->storage->device)) : NULL;
    nb_tensor *out = zero ? nb_where(mask, t, zero) : NULL;
    nb_release(r);
    nb_release(c);
    nb_release(rc);
    nb_release(diff);
    nb_release(mask);
    nb_release(zero);
    nb__tracking_resume();
    if (out) nb__scope_register(out);
    return out;
}

nb_tensor *nb_tril(const nb_tensor *t, int64_t diagonal) { return triangle("nb_tril", t, diagonal, true); }
nb_tensor *nb_triu(const nb_tensor *t, int64_t diagonal) { return triangle("nb_triu", t, diagonal, false); }
