/* copy.c — ops that copy or convert values: contiguous, clone, copy_, cat, to_dtype, and to (moves
 * between the CPU and CUDA devices). */
#include "autograd/record.h"
#include "device.h"
#include "dispatch.h"
#include "dtype.h"
#include "error.h"
#include "ewise.h"
#include "graph.h"
#include "iter.h"
#include "view.h"

#include <stdio.h>
#include <string.h>

static nb_tensor *copy_converted(const char *name, const nb_tensor *t, nb_dtype dtype)
{
    nb_tensor *out = nb__convert(name, t, dtype);
    if (out && !nb__autograd_record_copy(name, out, t, false)) {
        nb_release(out);
        return NULL;
    }
    return out;
}

nb_tensor *nb_clone(const nb_tensor *t)
{
    if (nb__is_null("nb_clone", "tensor", t)) return NULL;
    return copy_converted("nb_clone", t, t->dtype);
}

nb_tensor *nb_contiguous(const nb_tensor *t)
{
    if (nb__is_null("nb_contiguous", "tensor", t)) return NULL;
    if (nb__is_contiguous(t)) return nb__alias("nb_contiguous", t);
    return copy_converted("nb_contiguous", t, t->dtype);
}

nb_tensor *nb_to_dtype(const nb_tensor *t, nb_dtype dtype)
{
    if (nb__is_null("nb_to_dtype", "tensor", t)) return NULL;
    if (nb_dtype_size(dtype) == 0) return nb__fail(NB_ERR_DTYPE, "nb_to_dtype: unknown dtype %d", (int)dtype);
    if (dtype == t->dtype) return nb__alias("nb_to_dtype", t);
    return copy_converted("nb_to_dtype", t, dtype);
}

/* Copies the contiguous src's bytes into out (same shape and dtype, another device): through the
 * table of the device that is not the CPU (upload, download), or of the destination between two
 * devices of one type. */
static nb_status copy_bytes(const nb_tensor *src, nb_tensor *out)
{
    const size_t bytes = (size_t)nb__numel_of(src->ndim, src->shape) * nb_dtype_size(src->dtype);
    const nb_device from = src->storage->device, to = out->storage->device;
    nb_status st;
    if (from.type == NB_CPU)
        st = nb__device_table(to.type)->upload(nb__call("nb_to", to), nb__ptr(out), nb__ptr(src), bytes);
    else if (to.type == NB_CPU)
        st = nb__device_table(from.type)->download(nb__call("nb_to", from), nb__ptr(out), nb__ptr(src), bytes);
    else if (from.type == to.type)
        st = nb__device_table(to.type)->copy_between(nb__call("nb_to", to), from.index, nb__ptr(out),
                                                     nb__ptr(src), bytes);
    else
        st = nbk_fail(NB_ERR_UNSUPPORTED, "no copy between these device types");
    if (st == NB_OK) return NB_OK;
    char fs[32], ts[32];
    return nb__fail_status(st, "nb_to: copying from %s to %s: %s", nb__device_string(from, fs, sizeof fs),
                           nb__device_string(to, ts, sizeof ts), nbk_error());
}

nb_tensor *nb_to(const nb_tensor *t, nb_device device)
{
    if (nb__is_null("nb_to", "tensor", t)) return NULL;
    const nb_device from = t->storage->device;
    if (nb__same_device(from, device)) return nb__alias("nb_to", t);
    char fs[32];
    if (!nb__device_exists(device, "nb_to: cannot copy from %s to", nb__device_string(from, fs, sizeof fs)))
        return NULL;
    if (!nb__graph_allows_host_work("nb_to", "a copy between devices")) return NULL;
    /* a strided source is made contiguous on its own device first: then one dense copy (the
     * history is recorded once, from t, below) */
    nb__tracking_pause();
    nb_no_grad_begin();
    nb_tensor *src = nb_contiguous(t);
    nb_no_grad_end();
    nb__tracking_resume();
    if (!src) return NULL;
    nb_tensor *out = nb__alloc("nb_to", t->ndim, t->shape, t->dtype, device);
    if (out && (copy_bytes(src, out) != NB_OK || !nb__autograd_record_to(out, t))) {
        nb_release(out);
        out = NULL;
    }
    nb_release(src);
    return out;
}

nb_tensor *nb_copy_(nb_tensor *t, const nb_tensor *src)
{
    if (nb__is_null("nb_copy_", "target", t) || nb__is_null("nb_copy_", "source", src)) return NULL;
    const nb_tensor *pair[2] = {t, src};
    if (!nb__check_devices("nb_copy_", 2, pair)) return NULL;
    int nd;
    int64_t shape[NB_MAX_DIMS];
    if (!nb__broadcast_shapes("nb_copy_", 2, pair, &nd, shape)) return NULL;
    if (nd != t->ndim || memcmp(shape, t->shape, (size_t)nd * sizeof(int64_t)) != 0) {
        char ts[128], ss[128];
        return nb__fail(NB_ERR_SHAPE, "nb_copy_: the source shape %s does not broadcast to the target's shape %s",
                        nb__shape_string(src->ndim, src->shape, ss, sizeof ss),
                        nb__shape_string(t->ndim, t->shape, ts, sizeof ts));
    }
    if (!nb__check_writable("nb_copy_", t)) return NULL;
    /* a source sharing t's memory in another layout is read from a copy (nb_copy_(x, nb_t(x))) */
    bool aliased = src->storage == t->storage &&
                   !(src->offset == t->offset && src->ndim == t->ndim &&
                     memcmp(src->shape, t->shape, (size_t)t->ndim * sizeof(int64_t)) == 0 &&
                     memcmp(src->strides, t->strides, (size_t)t->ndim * sizeof(int64_t)) == 0);
    nb_tensor *copy = aliased ? nb__convert("nb_copy_", src, src->dtype) : NULL;
    if (aliased && !copy) return NULL;
    const nb_tensor *from = copy ? copy : src;
    nb_iter it;
    nb__iter_build(&it, t, 1, &from);
    nb_status st = nb__run_cast("nb_copy_", src->dtype, t->dtype, &it, t->storage->device);
    nb_release(copy);
    if (st != NB_OK) return NULL;
    nb__bump_version(t);
    return nb__autograd_record_copy("nb_copy_", t, src, true) ? t : NULL;
}

nb_tensor *nb_cat(int n, nb_tensor *const *tensors, int dim)
{
    if (n <= 0) return nb__fail(NB_ERR_ARGUMENT, "nb_cat: expected at least one tensor, got %d", n);
    if (nb__is_null("nb_cat", "tensors", tensors)) return NULL;
    for (int k = 0; k < n; k++)
        if (!tensors[k]) return nb__fail(NB_ERR_NULL, "nb_cat: tensor %d is NULL", k);
    const nb_tensor *first = tensors[0];
    if (first->ndim == 0) return nb__fail(NB_ERR_ARGUMENT, "nb_cat: cannot concatenate 0-d tensors");
    int d = nb__wrap_dim("nb_cat", dim, first->ndim);
    if (d < 0) return NULL;
    nb_dtype dt = first->dtype;
    int64_t shape[NB_MAX_DIMS];
    memcpy(shape, first->shape, sizeof shape);
    shape[d] = 0;
    for (int k = 0; k < n; k++) {
        const nb_tensor *t = tensors[k];
        const nb_tensor *pair[2] = {first, t};
        if (!nb__check_devices("nb_cat", 2, pair)) return NULL;
        bool fits = t->ndim == first->ndim;
        for (int i = 0; fits && i < t->ndim; i++) fits = i == d || t->shape[i] == first->shape[i];
        if (!fits) {
            char a[128], b[128];
            return nb__fail(NB_ERR_SHAPE, "nb_cat: tensor %d has shape %s but tensor 0 has %s; sizes must match except in dim %d",
                            k, nb__shape_string(t->ndim, t->shape, b, sizeof b),
                            nb__shape_string(first->ndim, first->shape, a, sizeof a), d);
        }
        if (__builtin_add_overflow(shape[d], t->shape[d], &shape[d])) {
            char a[128];
            return nb__fail(NB_ERR_SHAPE, "nb_cat: the sizes along dim %d add up past any tensor's (at tensor %d, shape %s)",
                            d, k, nb__shape_string(t->ndim, t->shape, a, sizeof a));
        }
        dt = nb__promote(dt, t->dtype);
    }
    nb_tensor *out = nb__alloc("nb_cat", first->ndim, shape, dt, first->storage->device);
    if (!out) return NULL;
    int64_t start = 0;
    for (int k = 0; k < n; k++) {
        const nb_tensor *t = tensors[k];
        /* a plain strided header over out's slab for tensor k (no autograd record) */
        int64_t slab_shape[NB_MAX_DIMS];
        memcpy(slab_shape, out->shape, sizeof slab_shape);
        slab_shape[d] = t->shape[d];
        nb_tensor slab = *out;
        memcpy(slab.shape, slab_shape, sizeof slab_shape);
        slab.offset = start * out->strides[d];
        nb_iter it;
        nb__iter_build(&it, &slab, 1, &t);
        if (nb__run_cast("nb_cat", t->dtype, dt, &it, out->storage->device) != NB_OK) {
            nb_release(out);
            return NULL;
        }
        start += t->shape[d];
    }
    if (!nb__autograd_record_cat(out, n, tensors, d)) {
        nb_release(out);
        return NULL;
    }
    return out;
}
