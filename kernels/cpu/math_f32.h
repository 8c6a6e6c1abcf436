/* math_f32.h — float32 math written as straight-line arithmetic that the compiler vectorises
 * (exp, erf and what is built on them), for the CPU loops of softmax and the elementwise ops, and
 * SIMD_CLONES, which compiles such a loop a second time for AVX2 and FMA. */
#ifndef NB_KERNELS_CPU_MATH_F32_H
#define NB_KERNELS_CPU_MATH_F32_H

#include <stdint.h>
#include <string.h>

/* Loops over these functions are also compiled for x86-64-v3 (AVX2 and FMA), chosen at load
 * time on CPUs that have it: twice the lanes of the baseline SSE2. (Results may then differ
 * from the baseline's in the last bit, as FMA rounds once where mul and add round twice.)
 * Not under ThreadSanitizer: every program of a gcc TSan build crashes at load in libtsan, inside
 * the clones' IFUNC resolver. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && \
    !defined(__SANITIZE_THREAD__)
#define SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SIMD_CLONES
#endif

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


/* a where mask is all ones, b where it is zero: a select written with integer masks */
static inline float select_f32(uint32_t mask, float a, float b)
{
    return f32_from_bits((bits_of_f32(a) & mask) | (bits_of_f32(b) & ~mask));
}

/* The pieces of erf: for |x| <= 1, erf(x) = x P(x^2) (a least-squares fit of erf(x)/x, within
 * 2e-9 relative); beyond, erfc(|x|) = e^(-x^2) Q(v), v = (1/|x| - 0.625) / 0.375, Q a fit of
 * erfc(x) e^(x^2) on [1, 4] (within 4e-8 relative), |x| capped at 16 where erfc is 0 in float32.
 * small is x P(x^2); tail erfc(|x|); big the mask of |x| > 1 (NaN: small, which is NaN). */
typedef struct erf_parts_f32 {
    float small, tail;
    uint32_t big;
} erf_parts_f32;

static inline erf_parts_f32 erf_parts(float x)
{
    const float a = f32_from_bits(bits_of_f32(x) & 0x7fffffffu);
    const float s = x * x;
    float p = 7.882501510e-05f;
    p = p * s - 8.018860340e-04f;
    p = p * s + 5.189313101e-03f;
    p = p * s - 2.685432978e-02f;
    p = p * s + 1.128359750e-01f;
    p = p * s - 3.761262691e-01f;
    p = p * s + 1.128379166e+00f;
    const uint32_t big = -(uint32_t)(a > 1.0f);
    float c = select_f32(big, a, 1.0f);
    c = select_f32(-(uint32_t)(c > 16.0f), 16.0f, c);
    const float v = (1.0f / c - 0.625f) * 2.666666667f;
    float q = 3.816642610e-06f;
    q = q * v - 2.779312116e-06f;
    q = q * v - 2.807825022e-05f;
    q = q * v + 1.242096956e-04f;
    q = q * v - 3.481153428e-04f;
    q = q * v + 4.599362720e-04f;
    q = q * v + 2.308021191e-03f;
    q = q * v - 2.424283488e-02f;
    q = q * v + 1.433564145e-01f;
    q = q * v + 3.059529887e-01f;
    return (erf_parts_f32){x * p, exp_f32(-c * c) * q, big};
}

/* erf(x); +-1 beyond 3.9, NaN stays NaN */
static inline float erf_f32(float x)
{
    const erf_parts_f32 e = erf_parts(x);
    const float large = f32_from_bits(bits_of_f32(1.0f - e.tail) | (bits_of_f32(x) & 0x80000000u));
    return select_f32(e.big, large, e.small);
}

/* x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, with 1 + erf taken as erfc(|z|) for z < -1 (no
 * cancellation: the far negative side keeps its relative accuracy) */
static inline float gelu_f32(float x)
{
    const float z = x * 0.70710678118654752f;
    const erf_parts_f32 e = erf_parts(z);
    const float tail = select_f32(-(uint32_t)(z < 0.0f), e.tail, 2.0f - e.tail);
    return 0.5f * x * select_f32(e.big, tail, 1.0f + e.small);
}

/* d gelu / dx = Phi(x) + x phi(x), Phi taken as in gelu_f32 and phi(x) = e^(-x^2 / 2) / sqrt(2 pi) */
static inline float gelu_grad_f32(float x)
{
    const float z = x * 0.70710678118654752f;
    const erf_parts_f32 e = erf_parts(z);
    const float tail = select_f32(-(uint32_t)(z < 0.0f), e.tail, 2.0f - e.tail);
    const float cdf = 0.5f * select_f32(e.big, tail, 1.0f + e.small);
    return cdf + x * exp_f32(-0.5f * x * x) * 0.39894228040143267794f;
}

/* d gelu_tanh / dx, PyTorch's formula 0.5 (1 + th) + 0.5 x (1 - th^2) beta (1 + 3 kappa x^2) with
 * th = tanh(u): with e = e^(-2|u|), |th| = (1 - e) / (1 + e) and 1 - th^2 = 4 e / (1 + e)^2 (no
 * cancellation where |th| nears 1) */
static inline float gelu_tanh_grad_f32(float x)
{
    const float beta = 0.79788456080286535588f, kappa = 0.044715f;
    const float u = beta * (x + kappa * x * x * x);
    const float e = exp_f32(-2.0f * f32_from_bits(bits_of_f32(u) & 0x7fffffffu));
    const float r = 1.0f / (1.0f + e);
    const float th = f32_from_bits(bits_of_f32((1.0f - e) * r) | (bits_of_f32(u) & 0x80000000u));
    return 0.5f * (1.0f + th) + 0.5f * x * (4.0f * e * r * r) * beta * (1.0f + 3.0f * kappa * x * x);
}

/* PyTorch's tanh form, 0.5 x (1 + tanh(u)), as the equal x / (1 + e^(-2u)) */
static inline float gelu_tanh_f32(float x)
{
    const float u = 0.79788456080286535588f * (x + 0.044715f * x * x * x);
    return x / (1.0f + exp_f32(-2.0f * u));
}

/* x sigmoid(x) */
static inline float silu_f32(float x) { return x / (1.0f + exp_f32(-x)); }

/* sin and cos for |x| <= 8192 (larger and non-finite x are left to the C library by the callers):
 * x = k pi/2 + r with pi/2 in three parts (Cody and Waite), |r| <= pi/4, then Cephes' sinf and
 * cosf polynomials on r and the quadrant k mod 4 choosing between them and the sign. quarter is 0
 * for sin, 1 for cos (cos x = sin(x + pi/2)). */
#define SINCOS_F32_LIMIT 8192.0f

static inline float sincos_f32(float x, uint32_t quarter)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    const float t = x * 0.63661977236758134f + magic;
    const float k = t - magic;
    const uint32_t q = bits_of_f32(t) - bits_of_f32(magic) + quarter;
    const float r = ((x - k * 1.5703125f) - k * 4.837512969970703125e-4f) - k * 7.54978995489188216e-8f;
    const float r2 = r * r;
    const float sin_r = r + r * r2 * ((-1.9515295891e-4f * r2 + 8.3321608736e-3f) * r2 - 1.6666654611e-1f);
    const float cos_r = 1.0f - 0.5f * r2 + r2 * r2 * ((2.443315711809948e-5f * r2 - 1.388731625493765e-3f) * r2 + 4.166664568298827e-2f);
    const float v = select_f32(-(q & 1u), cos_r, sin_r);
    return f32_from_bits(bits_of_f32(v) ^ ((q & 2u) << 30));
}

/* sin keeps the sign of a zero, as the C library's */
static inline float sin_f32(float x) { return select_f32(-(uint32_t)(x == 0.0f), x, sincos_f32(x, 0)); }
static inline float cos_f32(float x) { return sincos_f32(x, 1); }

/* log(x) for x >= 1 (finite): x = m 2^k with m in [sqrt(1/2), sqrt(2)), then k ln 2 + log(m) by
 * Cephes' logf polynomial in m - 1 */
static inline float log_ge1_f32(float x)
{
    const uint32_t b = bits_of_f32(x);
    int32_t k = (int32_t)((b >> 23) & 0xffu) - 127;
    float m = f32_from_bits((b & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    const uint32_t high = -(uint32_t)(m > 1.41421356f);
    m = select_f32(high, 0.5f * m, m);
    k += (int32_t)(high & 1u);
    const float t = m - 1.0f, t2 = t * t;
    float p = 7.0376836292e-2f;
    p = p * t - 1.1514610310e-1f;
    p = p * t + 1.1676998740e-1f;
    p = p * t - 1.2420140846e-1f;
    p = p * t + 1.4249322787e-1f;
    p = p * t - 1.6668057665e-1f;
    p = p * t + 2.0000714765e-1f;
    p = p * t - 2.4999993993e-1f;
    p = p * t + 3.3333331174e-1f;
    const float kf = (float)k;
    return (t + t2 * (t * p - 0.5f) - kf * 2.12194440e-4f) + kf * 0.693359375f;
}

/* log(1 + e) for e >= 0: log(u) e / (u - 1) with u = 1 + e rounded (Goldberg's correction, which
 * keeps small e exact), e itself where u rounds to 1 */
static inline float log1p_pos_f32(float e)
{
    const float u = 1.0f + e;
    const float d = u - 1.0f;
    const uint32_t exact = -(uint32_t)(d == 0.0f);
    const float safe_d = select_f32(exact, 1.0f, d);
    return select_f32(exact, e, log_ge1_f32(u) * (e / safe_d));
}

/* PyTorch's softplus: x where beta x > threshold, else log(1 + e^(beta x)) / beta; past beta x =
 * 30 log(1 + e^(beta x)) / beta is x to float32's precision, and so taken */
static inline float softplus_f32(float x, float beta, float threshold)
{
    const float bx = x * beta;
    const float e = exp_f32(select_f32(-(uint32_t)(bx > 30.0f), 30.0f, bx));
    const float y = select_f32(-(uint32_t)(bx > 30.0f), x, log1p_pos_f32(e) / beta);
    return select_f32(-(uint32_t)(bx > threshold), x, y);
}

#endif /* NB_KERNELS_CPU_MATH_F32_H */
