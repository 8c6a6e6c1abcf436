/* exp_f32.h — a float32 exp written as plain arithmetic that the compiler vectorises, shared by
 * the CPU kernels that take many exps (softmax.c, rows_stats.c). */
#ifndef NB_KERNELS_CPU_EXP_F32_H
#define NB_KERNELS_CPU_EXP_F32_H

#include <stdint.h>
#include <string.h>

static inline float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t bits_of_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* e^x = 2^k e^r with k = round(x / ln 2) and |r| <= ln 2 / 2; e^r by Cephes' expf polynomial
 * (within 1.5 ulp of the exact value; tested against the C library). 2^k is applied as two
 * power-of-two factors, so results reach the subnormals; below -104 the result is 0, above
 * ln(FLT_MAX) inf, and NaN stays NaN. Straight-line arithmetic, integer bit operations and
 * masks only (no float selects, which the compiler would turn into branches), so loops over it
 * vectorise; every operation is defined for any input. */
static inline float exp_f32(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float t = x * 1.44269504088896341f + magic;
    float k = t - magic;
    int32_t ki = (int32_t)(bits_of_f32(t) - bits_of_f32(magic)); /* k as an integer */
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;         /* x - k ln 2, ln 2 in two parts */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t k1 = ki >> 1, k2 = ki - k1;
    float y = p * f32_from_bits((uint32_t)(k1 + 127) << 23) * f32_from_bits((uint32_t)(k2 + 127) << 23);
    uint32_t under = -(uint32_t)(x < -104.0f), over = -(uint32_t)(x > 88.72283935546875f);
    return f32_from_bits((bits_of_f32(y) & ~(under | over)) | (0x7f800000u & over));
}

#endif /* NB_KERNELS_CPU_EXP_F32_H */
