/* half.c — float16 and bfloat16 through float32. An op given a half tensor converts it to float32
 * (nb__widen), runs its float32 kernels and rounds the result once to the half dtype
 * (nb__narrow); both conversions are recorded, so autograd runs through them and a half input's
 * gradient comes back in its own dtype. Elementwise ops do the same inside lib/ewise.c. Native
 * half kernels (and cuBLAS's half GEMMs with tensor cores) are a later speed-up: this path costs
 * two conversions per op, but its values are those of the float32 op rounded once. */
#include "half.h"

#include "dtype.h"

bool nb__any_half(int n, const nb_tensor *const *ts)
{
    for (int k = 0; k < n; k++)
        if (ts[k] && nb__is_half(ts[k]->dtype)) return true;
    return false;
}

nb_tensor *nb__widen(const nb_tensor *t)
{
    if (!t) return NULL;
    if (nb__is_half(t->dtype)) return nb_to_dtype(t, NB_FLOAT32);
    return nb_retain((nb_tensor *)t);
}

nb_tensor *nb__narrow(nb_tensor *r, nb_dtype dtype)
{
    if (!r || !nb__is_half(dtype) || r->dtype != NB_FLOAT32) return r;
    nb_tensor *out = nb_to_dtype(r, dtype);
    nb_release(r);
    return out;
}

nb_tensor *nb__via_float32(int n, const nb_tensor *const *in, nb_dtype out_dtype, nb__float32_fn f, const void *ctx,
                           bool *taken)
{
    *taken = nb__any_half(n, in);
    if (!*taken) return NULL;
    nb_tensor *w[8] = {0}; /* (n,) */
    bool ok = n <= 8;
    for (int k = 0; k < n && ok; k++)
        if (in[k]) ok = (w[k] = nb__widen(in[k])) != NULL;
    nb_tensor *r = ok ? f(w, ctx) : NULL;
    for (int k = 0; k < n && k < 8; k++) nb_release(w[k]);
    return nb__narrow(r, out_dtype);
}
