/* iter.c — broadcasting and the construction of elementwise iterations. */
#include "iter.h"

#include "error.h"

#include <stdio.h>
#include <string.h>

bool nb__broadcast_shapes(const char *op, int n, const nb_tensor *const *ts, int *out_ndim,
                          int64_t *out_shape)
{
    int nd = 0;
    for (int k = 0; k < n; k++)
        if (ts[k]->ndim > nd) nd = ts[k]->ndim;
    for (int i = 0; i < nd; i++) {
        int64_t size = 1;
        for (int k = 0; k < n; k++) {
            int j = i - (nd - ts[k]->ndim);
            if (j < 0) continue;
            int64_t s = ts[k]->shape[j];
            if (s == 1 || s == size) continue;
            if (size != 1) {
                char msg[512];
                int used = snprintf(msg, sizeof msg, "%s: shapes", op);
                for (int m = 0; m < n && used < (int)sizeof msg; m++) {
                    char buf[128];
                    used += snprintf(msg + used, sizeof msg - (size_t)used, "%s %s", m ? "," : "",
                                     nb__shape_string(ts[m]->ndim, ts[m]->shape, buf, sizeof buf));
                }
                nb__fail(NB_ERR_SHAPE, "%s cannot be broadcast together (size %lld vs %lld at dim %d)",
                         msg, (long long)size, (long long)s, i);
                return false;
            }
            size = s;
        }
        out_shape[i] = size;
    }
    *out_ndim = nd;
    return true;
}

void nb__iter_build(nb_iter *it, nb_tensor *out, int n, const nb_tensor *const *inputs)
{
    const int nd = out->ndim;
    it->noperands = n + 1;
    it->numel = nb__numel_of(nd, out->shape);
    /* strides (bytes) of each operand aligned to out's dims; 0 where it is broadcast */
    int64_t strides[NB_ITER_MAX_OPERANDS][NB_MAX_DIMS];
    for (int k = 0; k <= n; k++) {
        const nb_tensor *t = k == 0 ? out : inputs[k - 1];
        int64_t elem = (int64_t)nb_dtype_size(t->dtype);
        it->data[k] = nb__ptr(t);
        for (int i = 0; i < nd; i++) {
            int j = i - (nd - t->ndim);
            strides[k][i] = (j < 0 || t->shape[j] == 1) ? 0 : t->strides[j] * elem;
        }
    }
    /* coalesce from the innermost dim outwards, dropping size-1 dims */
    int64_t shape[NB_MAX_DIMS];
    int64_t cs[NB_ITER_MAX_OPERANDS][NB_MAX_DIMS];
    int m = 0; /* coalesced dims, innermost first */
    for (int i = nd - 1; i >= 0; i--) {
        if (out->shape[i] == 1) continue;
        bool merge = m > 0;
        for (int k = 0; k <= n && merge; k++)
            merge = strides[k][i] == cs[k][m - 1] * shape[m - 1];
        if (merge) {
            shape[m - 1] *= out->shape[i];
            continue;
        }
        shape[m] = out->shape[i];
        for (int k = 0; k <= n; k++) cs[k][m] = strides[k][i];
        m++;
    }
    if (m == 0) { /* a single element */
        shape[0] = 1;
        for (int k = 0; k <= n; k++) cs[k][0] = 0;
        m = 1;
    }
    it->ndim = m;
    for (int d = 0; d < m; d++) { /* back to outermost-first order */
        it->shape[d] = shape[m - 1 - d];
        for (int k = 0; k <= n; k++) it->strides[k][d] = cs[k][m - 1 - d];
    }
}
