/* ewise_f32.c — float32 rows of gelu (both forms) and its gradient, silu, erf, sin, cos and softplus over
 * math_f32.h's functions: the contiguous loop vectorises, and is compiled for AVX2 and FMA too (SIMD_CLONES); a strided
 * row takes the same function an element at a time. */
#include "ewise_f32.h"

#include "math_f32.h"

#include <math.h>

#define AT(base, i, stride) (*(float *)((base) + (i) * (stride)))

#define DEFINE_ROW(name, FN)                                                                     \
    SIMD_CLONES static void name(int64_t n, char **d, const int64_t *st)                         \
    {                                                                                            \
        if (st[0] == sizeof(float) && st[1] == sizeof(float)) {                                  \
            float *restrict out = (float *)d[0];                                                 \
            const float *restrict in = (const float *)d[1];                                      \
            for (int64_t i = 0; i < n; i++) out[i] = FN(in[i]);                                  \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) AT(d[0], i, st[0]) = FN(AT(d[1], i, st[1]));         \
        }                                                                                        \
    }

DEFINE_ROW(gelu_row, gelu_f32)
DEFINE_ROW(gelu_tanh_row, gelu_tanh_f32)
DEFINE_ROW(silu_row, silu_f32)
DEFINE_ROW(erf_row, erf_f32)

/* the gradient times a derivative: out = grad * FN(x), d[1] grad, d[2] x */
#define DEFINE_GRAD_ROW(name, FN)                                                                \
    SIMD_CLONES static void name(int64_t n, char **d, const int64_t *st)                         \
    {                                                                                            \
        if (st[0] == sizeof(float) && st[1] == sizeof(float) && st[2] == sizeof(float)) {        \
            float *restrict out = (float *)d[0];                                                 \
            const float *restrict g = (const float *)d[1], *restrict in = (const float *)d[2];   \
            for (int64_t i = 0; i < n; i++) out[i] = g[i] * FN(in[i]);                           \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) AT(d[0], i, st[0]) = AT(d[1], i, st[1]) * FN(AT(d[2], i, st[2])); \
        }                                                                                        \
    }

DEFINE_GRAD_ROW(gelu_grad_row, gelu_grad_f32)
DEFINE_GRAD_ROW(gelu_tanh_grad_row, gelu_tanh_grad_f32)

/* sin and cos: the vectorised loop, then the C library's for the elements beyond its range
 * (a scan that finds none in the usual case) */
#define DEFINE_SINCOS_ROW(name, FN, LIBM)                                                        \
    DEFINE_ROW(name##_fast, FN)                                                                  \
    static void name(int64_t n, char **d, const int64_t *st)                                     \
    {                                                                                            \
        name##_fast(n, d, st);                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                        \
            const float x = AT(d[1], i, st[1]);                                                  \
            if (!(fabsf(x) <= SINCOS_F32_LIMIT) && x == x) AT(d[0], i, st[0]) = LIBM(x);         \
        }                                                                                        \
    }

DEFINE_SINCOS_ROW(sin_row, sin_f32, sinf)
DEFINE_SINCOS_ROW(cos_row, cos_f32, cosf)

void nbk_cpu_sin_f32(int64_t n, char **d, const int64_t *st, const nb_scalars *s)
{
    (void)s;
    sin_row(n, d, st);
}

void nbk_cpu_cos_f32(int64_t n, char **d, const int64_t *st, const nb_scalars *s)
{
    (void)s;
    cos_row(n, d, st);
}

SIMD_CLONES static void softplus_row(int64_t n, char **d, const int64_t *st, float beta, float threshold)
{
    if (st[0] == sizeof(float) && st[1] == sizeof(float)) {
        float *restrict out = (float *)d[0];
        const float *restrict in = (const float *)d[1];
        for (int64_t i = 0; i < n; i++) out[i] = softplus_f32(in[i], beta, threshold);
    } else {
        for (int64_t i = 0; i < n; i++) AT(d[0], i, st[0]) = softplus_f32(AT(d[1], i, st[1]), beta, threshold);
    }
}

void nbk_cpu_softplus_f32(int64_t n, char **d, const int64_t *st, const nb_scalars *s)
{
    softplus_row(n, d, st, (float)s->a, (float)s->b);
}

void nbk_cpu_gelu_f32(int64_t n, char **d, const int64_t *st, const nb_scalars *s)
{
    if (s->a != 0)
        gelu_tanh_row(n, d, st);
    else
        gelu_row(n, d, st);
}

void nbk_cpu_gelu_backward_f32(int64_t n, char **d, const int64_t *st, const nb_scalars *s)
{
    if (s->a != 0)
        gelu_tanh_grad_row(n, d, st);
    else
        gelu_grad_row(n, d, st);
}

void nbk_cpu_silu_f32(int64_t n, char **d, const int64_t *st, const nb_scalars *s)
{
    (void)s;
    silu_row(n, d, st);
}

void nbk_cpu_erf_f32(int64_t n, char **d, const int64_t *st, const nb_scalars *s)
{
    (void)s;
    erf_row(n, d, st);
}
