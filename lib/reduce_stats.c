/* reduce_stats.c — reductions built from the others over a list of dims: nb_var and nb_std (two
 * passes: the mean, then the sum of squared deviations from it, which stays accurate where one
 * pass of sums of squares cancels), nb_logsumexp (the maximum taken out first, so nothing
 * overflows) and nb_norm (p = 1, 2 or infinity). Each step is a recorded op of its own, so their
 * gradients, and every device, come from those ops. The arguments are checked here, so errors
 * name these functions. */
#include "dtype.h"
#include "error.h"
#include "reduce.h"
#include "tensor.h"

#include <math.h>
#include <stdio.h>

/* The common checks: t, a floating dtype (unless ints are allowed), and the list of dims. */
static bool check(const char *name, const nb_tensor *t, bool ints_ok, int n, const int *dims, uint32_t *mask)
{
    if (nb__is_null(name, "tensor", t)) return false;
    if (!ints_ok && !nb__is_floating(t->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating dtype (float32 or float64), got %s", name,
                        nb_dtype_name(t->dtype)),
               false;
    return nb__reduce_dims_mask(name, t, n, dims, mask);
}

/* The dims of mask as a list, and how many elements each output folds. */
static int mask_dims(const nb_tensor *t, uint32_t mask, int *dims, int64_t *count)
{
    int n = 0;
    *count = 1;
    const int range = t->ndim > 0 ? t->ndim : 1;
    for (int i = 0; i < range; i++) {
        if (!(mask & (1u << i))) continue;
        dims[n++] = i;
        if (t->ndim > 0) *count *= t->shape[i];
    }
    return n;
}

/* The result of composed steps: made while the scope was paused, handed to it now. */
static nb_tensor *finish(nb_tensor *r)
{
    nb__tracking_resume();
    if (r) nb__scope_register(r);
    return r;
}

static nb_tensor *variance(const char *name, const nb_tensor *t, int n, const int *dims, double correction,
                           bool keepdim, bool take_sqrt)
{
    uint32_t mask;
    if (!check(name, t, false, n, dims, &mask)) return NULL;
    int list[NB_MAX_DIMS];
    int64_t count;
    const int nl = mask_dims(t, mask, list, &count);
    const double divisor = fmax(0.0, (double)count - correction);
    nb__tracking_pause();
    nb_tensor *mean = nb_mean_dims(t, nl, list, true);
    nb_tensor *dev = nb_sub(t, mean);
    nb_tensor *sq = nb_pow_scalar(dev, 2.0);
    nb_tensor *ss = nb_sum_dims(sq, nl, list, keepdim);
    nb_tensor *var = nb_div_scalar(ss, divisor);
    nb_tensor *r = take_sqrt ? nb_sqrt(var) : nb_retain(var);
    nb_release(mean), nb_release(dev), nb_release(sq), nb_release(ss), nb_release(var);
    return finish(r);
}

nb_tensor *nb_var(const nb_tensor *t, int n, const int *dims, double correction, bool keepdim)
{
    return variance("nb_var", t, n, dims, correction, keepdim, false);
}

nb_tensor *nb_std(const nb_tensor *t, int n, const int *dims, double correction, bool keepdim)
{
    return variance("nb_std", t, n, dims, correction, keepdim, true);
}

nb_tensor *nb_logsumexp(const nb_tensor *t, int n, const int *dims, bool keepdim)
{
    const char *name = "nb_logsumexp";
    uint32_t mask;
    if (!check(name, t, true, n, dims, &mask)) return NULL;
    int list[NB_MAX_DIMS];
    int64_t count;
    const int nl = mask_dims(t, mask, list, &count);
    int64_t shape[NB_MAX_DIMS];
    const int nd = nb__reduced_shape(t, mask, keepdim, shape);
    nb__tracking_pause();
    /* integers give float32, as in PyTorch */
    nb_tensor *x = nb__is_floating(t->dtype) ? nb_retain((nb_tensor *)t) : nb_to_dtype(t, NB_FLOAT32);
    nb_tensor *shift = NULL; /* (keepdim) the maximum, without history; 0 where infinite or empty */
    if (count > 0) {
        nb_tensor *xd = nb_detach(x);
        nb_tensor *m = nb_amax(xd, nl, list, true);
        nb_tensor *am = nb_abs(m);
        nb_tensor *inf = nb_eq_scalar(am, INFINITY);
        shift = nb_masked_fill(m, inf, 0.0);
        nb_release(xd), nb_release(m), nb_release(am), nb_release(inf);
    } else {
        shift = x ? nb_zeros(0, NULL, NB_OPTS(x->dtype, .device = x->storage->device)) : NULL;
    }
    nb_tensor *centred = nb_sub(x, shift);
    nb_tensor *e = nb_exp(centred);
    nb_tensor *s = nb_sum_dims(e, nl, list, true);
    nb_tensor *l = nb_log(s);
    nb_tensor *lse = nb_add(l, shift);
    nb_tensor *r = lse ? nb_reshape(lse, nd, shape) : NULL;
    nb_release(x), nb_release(shift), nb_release(centred), nb_release(e), nb_release(s), nb_release(l),
        nb_release(lse);
    return finish(r);
}

nb_tensor *nb_norm(const nb_tensor *t, double p, int n, const int *dims, bool keepdim)
{
    const char *name = "nb_norm";
    uint32_t mask;
    if (!check(name, t, false, n, dims, &mask)) return NULL;
    if (!(p == 1.0 || p == 2.0 || p == INFINITY))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected p = 1, 2 or INFINITY, got %g", name, p);
    int list[NB_MAX_DIMS];
    int64_t count;
    const int nl = mask_dims(t, mask, list, &count);
    nb__tracking_pause();
    nb_tensor *r = NULL;
    if (p == 2.0) {
        nb_tensor *sq = nb_pow_scalar(t, 2.0);
        nb_tensor *ss = nb_sum_dims(sq, nl, list, keepdim);
        r = nb_sqrt(ss);
        nb_release(sq), nb_release(ss);
    } else {
        nb_tensor *a = nb_abs(t);
        /* an empty infinity norm is 0, as the empty sum is (PyTorch's answer) */
        r = p == 1.0 || count == 0 ? nb_sum_dims(a, nl, list, keepdim) : nb_amax(a, nl, list, keepdim);
        nb_release(a);
    }
    return finish(r);
}
