/* ewise_math.c — the math, rounding, logical and lerp elementwise ops (torch.erf, torch.round,
 * torch.logical_and, torch.lerp, ...): their public entry points over lib/ewise.c's shared path. */
#include "dtype.h"
#include "error.h"
#include "ewise.h"

static nb_tensor *unary(const char *name, nb_ew_op op, const nb_tensor *a)
{
    const nb_tensor *in[1] = {a};
    return nb__ewise(name, op, 1, in, (nb_scalars){0, 0});
}

nb_tensor *nb_erf(const nb_tensor *a) { return unary("nb_erf", NB_EW_ERF, a); }
nb_tensor *nb_sin(const nb_tensor *a) { return unary("nb_sin", NB_EW_SIN, a); }
nb_tensor *nb_cos(const nb_tensor *a) { return unary("nb_cos", NB_EW_COS, a); }
nb_tensor *nb_log1p(const nb_tensor *a) { return unary("nb_log1p", NB_EW_LOG1P, a); }
nb_tensor *nb_expm1(const nb_tensor *a) { return unary("nb_expm1", NB_EW_EXPM1, a); }
nb_tensor *nb_rsqrt(const nb_tensor *a) { return unary("nb_rsqrt", NB_EW_RSQRT, a); }
nb_tensor *nb_reciprocal(const nb_tensor *a) { return unary("nb_reciprocal", NB_EW_RECIPROCAL, a); }
nb_tensor *nb_floor(const nb_tensor *a) { return unary("nb_floor", NB_EW_FLOOR, a); }
nb_tensor *nb_ceil(const nb_tensor *a) { return unary("nb_ceil", NB_EW_CEIL, a); }
nb_tensor *nb_round(const nb_tensor *a) { return unary("nb_round", NB_EW_ROUND, a); }
nb_tensor *nb_sign(const nb_tensor *a) { return unary("nb_sign", NB_EW_SIGN, a); }
nb_tensor *nb_logical_not(const nb_tensor *a) { return unary("nb_logical_not", NB_EW_LOGICAL_NOT, a); }

nb_tensor *nb_logical_and(const nb_tensor *a, const nb_tensor *b)
{
    const nb_tensor *in[2] = {a, b};
    return nb__ewise("nb_logical_and", NB_EW_LOGICAL_AND, 2, in, (nb_scalars){0, 0});
}

nb_tensor *nb_logical_or(const nb_tensor *a, const nb_tensor *b)
{
    const nb_tensor *in[2] = {a, b};
    return nb__ewise("nb_logical_or", NB_EW_LOGICAL_OR, 2, in, (nb_scalars){0, 0});
}

/* torch.lerp takes no promotion: start floating, the others of its dtype. */
static bool lerp_dtypes_ok(const char *name, int n, const nb_tensor *const *in)
{
    static const char *const what[3] = {"start", "end", "weight"};
    for (int k = 0; k < n; k++)
        if (!in[k]) return nb__fail(NB_ERR_NULL, "%s: input %d (%s) is NULL", name, k + 1, what[k]), false;
    if (!nb__is_float_kind(in[0]->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: start must be float32 or float64 (or float16, bfloat16), got %s", name,
                        nb_dtype_name(in[0]->dtype)),
               false;
    for (int k = 1; k < n; k++)
        if (in[k]->dtype != in[0]->dtype)
            return nb__fail(NB_ERR_DTYPE, "%s: expected %s of dtype %s like start, got %s", name, what[k],
                            nb_dtype_name(in[0]->dtype), nb_dtype_name(in[k]->dtype)),
                   false;
    return true;
}

nb_tensor *nb_lerp(const nb_tensor *start, const nb_tensor *end, const nb_tensor *weight)
{
    const nb_tensor *in[3] = {start, end, weight};
    if (!lerp_dtypes_ok("nb_lerp", 3, in)) return NULL;
    return nb__ewise("nb_lerp", NB_EW_LERP, 3, in, (nb_scalars){0, 0});
}

nb_tensor *nb_lerp_scalar(const nb_tensor *start, const nb_tensor *end, double weight)
{
    const nb_tensor *in[2] = {start, end};
    if (!lerp_dtypes_ok("nb_lerp_scalar", 2, in)) return NULL;
    return nb__ewise("nb_lerp_scalar", NB_EW_LERP_SCALAR, 2, in, (nb_scalars){weight, 0});
}
