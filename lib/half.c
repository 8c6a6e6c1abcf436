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
