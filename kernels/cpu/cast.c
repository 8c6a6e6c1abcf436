/* cast.c — CPU conversion loops between dtypes ([from][to]; the diagonal is a plain copy).
 * Float to int64 saturates and maps NaN to 0, so no conversion is undefined behaviour. */
#include "cpu.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef float f32;
typedef double f64;
typedef int64_t i64;
typedef bool b8;

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

#define DEFINE_CAST(FROM, TO)                                                                    \
    static void cast_##FROM##_##TO(int64_t n, char **d, const int64_t *st, const nb_scalars *s)  \
    {                                                                                            \
        (void)s;                                                                                 \
        if (st[0] == sizeof(TO) && st[1] == sizeof(FROM)) {                                      \
            TO *restrict out = (TO *)d[0];                                                       \
            const FROM *restrict in = (const FROM *)d[1];                                        \
            for (int64_t i = 0; i < n; i++) out[i] = TO_##TO(in[i]);                             \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++)                                                      \
                *(TO *)(d[0] + i * st[0]) = TO_##TO(*(const FROM *)(d[1] + i * st[1]));          \
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

#define CAST_ROW(FROM) {cast_##FROM##_f32, cast_##FROM##_f64, cast_##FROM##_i64, cast_##FROM##_b8}

const nbk_cpu_loop nbk_cpu_cast_loops[NB_DTYPE_COUNT][NB_DTYPE_COUNT] = {
    [NB_FLOAT32] = CAST_ROW(f32),
    [NB_FLOAT64] = CAST_ROW(f64),
    [NB_INT64] = CAST_ROW(i64),
    [NB_BOOL] = CAST_ROW(b8),
};
