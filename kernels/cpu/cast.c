/* cast.c — CPU conversion loops between dtypes ([from][to]; the diagonal is a plain copy).
 * Float to int64 saturates and maps NaN to 0, so no conversion is undefined behaviour. float16
 * and bfloat16 convert through float32 (kernels/half.h), as PyTorch's c10::Half and BFloat16 do. */
#include "cpu.h"

#include "../half.h"
#include "cast_half.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef float f32;
typedef double f64;
typedef int64_t i64;
typedef bool b8;
typedef uint16_t f16;  /* bit patterns */
typedef uint16_t bf16;

static inline int64_t sat_i64(double v)
{
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}
#define TO_f32(v) ((float)(v))
#define TO_f64(v) ((double)(v))
#define TO_i64(v) sat_i64((double)(v))
#define TO_b8(v) ((v) != 0)
#define TO_f16(v) nbk_f32_to_f16((float)(v))
#define TO_bf16(v) nbk_f32_to_bf16((float)(v))
/* an element as the value it converts from: a half one as its float32 value */
#define LOAD_f32(v) (v)
#define LOAD_f64(v) (v)
#define LOAD_i64(v) (v)
#define LOAD_b8(v) (v)
#define LOAD_f16(v) nbk_f16_to_f32(v)
#define LOAD_bf16(v) nbk_bf16_to_f32(v)

#define DEFINE_CAST(FROM, TO)                                                                    \
    static void cast_##FROM##_##TO(int64_t n, char **d, const int64_t *st, const nb_scalars *s)  \
    {                                                                                            \
        (void)s;                                                                                 \
        if (st[0] == sizeof(TO) && st[1] == sizeof(FROM)) {                                      \
            TO *restrict out = (TO *)d[0];                                                       \
            const FROM *restrict in = (const FROM *)d[1];                                        \
            for (int64_t i = 0; i < n; i++) out[i] = TO_##TO(LOAD_##FROM(in[i]));                \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++)                                                      \
                *(TO *)(d[0] + i * st[0]) = TO_##TO(LOAD_##FROM(*(const FROM *)(d[1] + i * st[1]))); \
        }                                                                                        \
    }

/* same dtype: memcpy for contiguous rows */
#define DEFINE_COPY(T)                                                                           \
    static void cast_##T##_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)      \
    {                                                                                            \
        (void)s;                                                                                 \
        if (st[0] == sizeof(T) && st[1] == sizeof(T))                                            \
            memcpy(d[0], d[1], (size_t)n * sizeof(T));                                           \
        else if (st[1] == 0)                                                                     \
            for (int64_t i = 0; i < n; i++) *(T *)(d[0] + i * st[0]) = *(const T *)d[1];         \
        else                                                                                     \
            for (int64_t i = 0; i < n; i++) *(T *)(d[0] + i * st[0]) = *(const T *)(d[1] + i * st[1]); \
    }

DEFINE_COPY(f32) DEFINE_CAST(f32, f64) DEFINE_CAST(f32, i64) DEFINE_CAST(f32, b8)
DEFINE_CAST(f64, f32) DEFINE_COPY(f64) DEFINE_CAST(f64, i64) DEFINE_CAST(f64, b8)
DEFINE_CAST(i64, f32) DEFINE_CAST(i64, f64) DEFINE_COPY(i64) DEFINE_CAST(i64, b8)
DEFINE_CAST(b8, f32) DEFINE_CAST(b8, f64) DEFINE_CAST(b8, i64) DEFINE_COPY(b8)
DEFINE_CAST(f64, f16) DEFINE_CAST(i64, f16) DEFINE_CAST(b8, f16)
DEFINE_CAST(f64, bf16) DEFINE_CAST(i64, bf16) DEFINE_CAST(b8, bf16)
DEFINE_CAST(f16, f64) DEFINE_CAST(f16, i64) DEFINE_CAST(f16, b8)
DEFINE_COPY(f16) DEFINE_CAST(f16, bf16)
DEFINE_CAST(bf16, f64) DEFINE_CAST(bf16, i64) DEFINE_CAST(bf16, b8)

/* float32 <-> half: dense rows through cast_half.c's vector loops where the CPU has them */
DEFINE_CAST(f32, f16) DEFINE_CAST(f32, bf16) DEFINE_CAST(f16, f32) DEFINE_CAST(bf16, f32)
#define DEFINE_DENSE_HALF(FROM, TO, CALL)                                                        \
    static void dense_##FROM##_##TO(int64_t n, char **d, const int64_t *st, const nb_scalars *s) \
    {                                                                                            \
        if (st[0] == sizeof(TO) && st[1] == sizeof(FROM)) CALL;                                  \
        else cast_##FROM##_##TO(n, d, st, s);                                                    \
    }
DEFINE_DENSE_HALF(f32, f16, nbk_cpu_f32_to_half(NB_FLOAT16, n, (uint16_t *)d[0], (const float *)d[1]))
DEFINE_DENSE_HALF(f32, bf16, nbk_cpu_f32_to_half(NB_BFLOAT16, n, (uint16_t *)d[0], (const float *)d[1]))
DEFINE_DENSE_HALF(f16, f32, nbk_cpu_half_to_f32(NB_FLOAT16, n, (float *)d[0], (const uint16_t *)d[1]))
DEFINE_DENSE_HALF(bf16, f32, nbk_cpu_half_to_f32(NB_BFLOAT16, n, (float *)d[0], (const uint16_t *)d[1]))
DEFINE_CAST(bf16, f16) DEFINE_COPY(bf16)

#define CAST_ROW(FROM)                                                                           \
    {cast_##FROM##_f32, cast_##FROM##_f64, cast_##FROM##_i64, cast_##FROM##_b8, cast_##FROM##_f16, \
     cast_##FROM##_bf16}

const nbk_cpu_loop nbk_cpu_cast_loops[NB_DTYPE_COUNT][NB_DTYPE_COUNT] = {
    [NB_FLOAT32] = {cast_f32_f32, cast_f32_f64, cast_f32_i64, cast_f32_b8, dense_f32_f16, dense_f32_bf16},
    [NB_FLOAT64] = CAST_ROW(f64),
    [NB_INT64] = CAST_ROW(i64),
    [NB_BOOL] = CAST_ROW(b8),
    [NB_FLOAT16] = {dense_f16_f32, cast_f16_f64, cast_f16_i64, cast_f16_b8, cast_f16_f16, cast_f16_bf16},
    [NB_BFLOAT16] = {dense_bf16_f32, cast_bf16_f64, cast_bf16_i64, cast_bf16_b8, cast_bf16_f16, cast_bf16_bf16},
};
