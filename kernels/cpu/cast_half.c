/* cast_half.c — the dense float32 <-> float16 / bfloat16 conversion loops with x86 vector
 * instructions (F16C's vcvtps2ph and vcvtph2ps, AVX2 for bfloat16), chosen at run time where the
 * CPU has them, kernels/half.h's scalar functions elsewhere.
 * Bit for bit the scalar results: vcvtps2ph rounds to nearest even (the immediate's rounding)
 * with subnormals and overflow to Inf as IEEE says, but keeps a NaN's payload where PyTorch writes
 * 0x7E00, so a block of 8 holding a NaN is converted by the scalar function; vcvtph2ps is exact
 * and makes NaNs quiet with their payload, as nbk_f16_to_f32 does. bfloat16 is integer work. */
#include "cast_half.h"

#include "../half.h"

#include <stdbool.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_X86_SIMD 1
#endif

#ifdef HAVE_X86_SIMD

__attribute__((target("avx2,f16c"))) static void f32_to_f16_f16c(int64_t n, uint16_t *out, const float *in)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(in + i);
        const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
        if (_mm256_testz_ps(nan, nan)) {
            _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
        } else {
            for (int64_t k = i; k < i + 8; k++) out[k] = nbk_f32_to_f16(in[k]);
        }
    }
    for (; i < n; i++) out[i] = nbk_f32_to_f16(in[i]);
}

__attribute__((target("avx2,f16c"))) static void f16_to_f32_f16c(int64_t n, float *out, const uint16_t *in)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(in + i))));
    for (; i < n; i++) out[i] = nbk_f16_to_f32(in[i]);
}

/* bits + 0x7FFF + (bit 16) >> 16, NaN -> 0x7FC0, 8 at a time, packed to 16 bits */
__attribute__((target("avx2"))) static void f32_to_bf16_avx2(int64_t n, uint16_t *out, const float *in)
{
    const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7FFF), qnan = _mm256_set1_epi32(0x7FC0);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i r[2];
        for (int h = 0; h < 2; h++) {
            const __m256 v = _mm256_loadu_ps(in + i + 8 * h);
            const __m256i x = _mm256_castps_si256(v);
            const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
            const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, bias), odd), 16);
            const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
            r[h] = _mm256_blendv_epi8(rounded, qnan, nan);
        }
        /* packus works within 128-bit lanes: put the halves back in order */
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xD8);
        _mm256_storeu_si256((__m256i *)(out + i), packed);
    }
    for (; i < n; i++) out[i] = nbk_f32_to_bf16(in[i]);
}

__attribute__((target("avx2"))) static void bf16_to_f32_avx2(int64_t n, float *out, const uint16_t *in)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i x = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(in + i)));
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_slli_epi32(x, 16));
    }
    for (; i < n; i++) out[i] = nbk_bf16_to_f32(in[i]);
}

/* F16C from cpuid (leaf 1, ecx): clang's __builtin_cpu_supports does not know "f16c". Asked once
 * and remembered: cpuid is slow (under a hypervisor it traps, microseconds a call), and every
 * conversion asks. */
static bool have_f16c(void)
{
    static int known = -1; /* -1: not asked yet; a race only asks twice */
    int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (k < 0) {
        unsigned eax, ebx, ecx, edx;
        k = __builtin_cpu_supports("avx2") && __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
        __atomic_store_n(&known, k, __ATOMIC_RELAXED);
    }
    return k;
}
static bool have_avx2(void) { return __builtin_cpu_supports("avx2"); }

#endif /* HAVE_X86_SIMD */

/* The vector loops where the CPU has them: false, having done nothing, elsewhere. */
static bool vector_f32_to_half(nb_dtype to, int64_t n, uint16_t *out, const float *in)
{
#ifdef HAVE_X86_SIMD
    if (to == NB_FLOAT16 && have_f16c()) return f32_to_f16_f16c(n, out, in), true;
    if (to == NB_BFLOAT16 && have_avx2()) return f32_to_bf16_avx2(n, out, in), true;
#else
    (void)to, (void)n, (void)out, (void)in;
#endif
    return false;
}

static bool vector_half_to_f32(nb_dtype from, int64_t n, float *out, const uint16_t *in)
{
#ifdef HAVE_X86_SIMD
    if (from == NB_FLOAT16 && have_f16c()) return f16_to_f32_f16c(n, out, in), true;
    if (from == NB_BFLOAT16 && have_avx2()) return bf16_to_f32_avx2(n, out, in), true;
#else
    (void)from, (void)n, (void)out, (void)in;
#endif
    return false;
}

void nbk_cpu_f32_to_half(nb_dtype to, int64_t n, uint16_t *out, const float *in)
{
    if (vector_f32_to_half(to, n, out, in)) return;
    if (to == NB_FLOAT16)
        for (int64_t i = 0; i < n; i++) out[i] = nbk_f32_to_f16(in[i]);
    else
        for (int64_t i = 0; i < n; i++) out[i] = nbk_f32_to_bf16(in[i]);
}

void nbk_cpu_half_to_f32(nb_dtype from, int64_t n, float *out, const uint16_t *in)
{
    if (vector_half_to_f32(from, n, out, in)) return;
    if (from == NB_FLOAT16)
        for (int64_t i = 0; i < n; i++) out[i] = nbk_f16_to_f32(in[i]);
    else
        for (int64_t i = 0; i < n; i++) out[i] = nbk_bf16_to_f32(in[i]);
}
