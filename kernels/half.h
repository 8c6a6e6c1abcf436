/* half.h — conversions between float32 and the two 16-bit floating dtypes, float16 (IEEE 754
 * binary16) and bfloat16 (float32's top half), for C and for CUDA (__host__ __device__ under nvcc).
 * A half value is held as its uint16_t bit pattern.
 *
 * They are PyTorch's (c10::Half and c10::BFloat16), bit for bit:
 *  - float32 -> float16 rounds to nearest even, with float16 subnormals; values from 65520 up
 *    become Inf; NaN becomes the quiet NaN 0x7E00 with its sign;
 *  - float32 -> bfloat16 rounds to nearest even; NaN becomes 0x7FC0 (c10::BFloat16's scalar rule:
 *    PyTorch 1.13's vectorised CPU copy writes 0xFFFF instead, another NaN; its strided and CUDA
 *    copies write 0x7FC0);
 *  - float16 -> float32 is exact; a NaN keeps its sign and payload and is made quiet;
 *  - bfloat16 -> float32 is exact (the bits shifted up; a NaN stays as it is).
 * Every other dtype converts through float32, as PyTorch does (a double is rounded to float32
 * first, then to the half type: twice), and a half value converts to other dtypes from its exact
 * float32 value. Integer arithmetic only, so the results do not depend on the FPU's modes. */
#ifndef NB_KERNELS_HALF_H
#define NB_KERNELS_HALF_H

#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define NBK_HALF_FN static inline __host__ __device__
#else
#define NBK_HALF_FN static inline
#endif

NBK_HALF_FN uint32_t nbk_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

NBK_HALF_FN float nbk_f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* float32 -> float16 bits, rounding to nearest even */
NBK_HALF_FN uint16_t nbk_f32_to_f16(float f)
{
    const uint32_t x = nbk_f32_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return (uint16_t)(sign | 0x7E00u); /* NaN */
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* 65520 and up (Inf too) */
    if (ax >= 0x38800000u) {                                  /* a normal float16: 2^-14 and up */
        const uint32_t r = ax + 0x0FFFu + ((ax >> 13) & 1u); /* round the 13 dropped bits */
        return (uint16_t)(sign | ((r - 0x38000000u) >> 13));  /* rebias the exponent 127 -> 15 */
    }
    if (ax <= 0x33000000u) return (uint16_t)sign; /* up to 2^-25 (a tie, to even): zero */
    /* a subnormal float16: the value in units of 2^-24, rounded to nearest even */
    const uint32_t e = ax >> 23, m = (ax & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - e; /* 14 to 24 */
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++; /* 0x400 is the smallest normal: right */
    return (uint16_t)(sign | q);
}

/* float16 bits -> float32, exact */
NBK_HALF_FN float nbk_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1Fu;
    uint32_t m = h & 0x3FFu;
    if (e == 0x1Fu) /* Inf, or a NaN made quiet with its payload */
        return nbk_f32_from_bits(sign | 0x7F800000u | (m << 13) | (m ? 0x400000u : 0u));
    if (e != 0) return nbk_f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
    if (m == 0) return nbk_f32_from_bits(sign);
    uint32_t exp = 113u; /* a subnormal: normalise m */
    while (!(m & 0x400u)) {
        m <<= 1;
        exp--;
    }
    return nbk_f32_from_bits(sign | (exp << 23) | ((m & 0x3FFu) << 13));
}

/* float32 -> bfloat16 bits, rounding to nearest even */
NBK_HALF_FN uint16_t nbk_f32_to_bf16(float f)
{
    const uint32_t x = nbk_f32_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0u; /* NaN */
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

/* bfloat16 bits -> float32, exact */
NBK_HALF_FN float nbk_bf16_to_f32(uint16_t b) { return nbk_f32_from_bits((uint32_t)b << 16); }

#endif /* NB_KERNELS_HALF_H */
