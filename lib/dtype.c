/* dtype.c — dtype names, sizes and promotion, and the public half conversions. */
#include "dtype.h"

#include "error.h"
#include "../kernels/half.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t nb_dtype_size(nb_dtype dtype)
{
    switch (dtype) {
    case NB_FLOAT32: return 4;
    case NB_FLOAT64: return 8;
    case NB_INT64: return 8;
    case NB_BOOL: return 1;
    case NB_FLOAT16: return 2;
    case NB_BFLOAT16: return 2;
    }
    return 0;
}

const char *nb_dtype_name(nb_dtype dtype)
{
    switch (dtype) {
    case NB_FLOAT32: return "float32";
    case NB_FLOAT64: return "float64";
    case NB_INT64: return "int64";
    case NB_BOOL: return "bool";
    case NB_FLOAT16: return "float16";
    case NB_BFLOAT16: return "bfloat16";
    }
    return "unknown";
}

static int rank(nb_dtype d)
{
    switch (d) {
    case NB_BOOL: return 0;
    case NB_INT64: return 1;
    case NB_FLOAT16: return 2;
    case NB_BFLOAT16: return 2;
    case NB_FLOAT32: return 3;
    case NB_FLOAT64: return 4;
    }
    return 0;
}

nb_dtype nb__promote(nb_dtype a, nb_dtype b)
{
    if (nb__is_half(a) && nb__is_half(b) && a != b) return NB_FLOAT32; /* float16 with bfloat16 */
    return rank(a) >= rank(b) ? a : b;
}

const char *nb__dtype_list(unsigned mask, char *buf, size_t size)
{
    static const nb_dtype order[] = {NB_FLOAT32, NB_FLOAT64, NB_FLOAT16, NB_BFLOAT16, NB_INT64, NB_BOOL};
    const int n = (int)(sizeof order / sizeof order[0]);
    int count = 0, total = 0;
    for (int i = 0; i < n; i++) total += (mask >> order[i]) & 1u;
    buf[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < n && used < size; i++) {
        if (!((mask >> order[i]) & 1u)) continue;
        const char *sep = count == 0 ? "" : (count == total - 1 ? " or " : ", ");
        used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, nb_dtype_name(order[i]));
        count++;
    }
    return buf;
}

uint16_t nb_half_from_float(nb_dtype dtype, float v)
{
    if (dtype == NB_FLOAT16) return nbk_f32_to_f16(v);
    if (dtype == NB_BFLOAT16) return nbk_f32_to_bf16(v);
    nb__fail(NB_ERR_DTYPE, "nb_half_from_float: expected float16 or bfloat16, got %s", nb_dtype_name(dtype));
    return 0;
}

float nb_half_to_float(nb_dtype dtype, uint16_t bits)
{
    if (dtype == NB_FLOAT16) return nbk_f16_to_f32(bits);
    if (dtype == NB_BFLOAT16) return nbk_bf16_to_f32(bits);
    nb__fail(NB_ERR_DTYPE, "nb_half_to_float: expected float16 or bfloat16, got %s", nb_dtype_name(dtype));
    return NAN;
}
