/* random.h — nabla's one random number generator, Philox4x32-10, and the arguments of the draws
 * every device makes with it (kernels/cpu/random.c, kernels/cuda/random.cu). The functions here
 * compile for the host and for CUDA devices alike, so both compute the same values.
 *
 * Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011) maps a 128-bit counter and a 64-bit key to 128 random bits: ten rounds, each two
 * 32x32 -> 64-bit products with the multipliers 0xD2511F53 and 0xCD9E8D57, the key bumped by the
 * Weyl constants 0x9E3779B9 and 0xBB67AE85 between rounds.
 *
 * The generator's state is a 64-bit seed and a 64-bit offset. A draw of n values starting at
 * offset o gives its element i a value that is a pure function of (seed, o, i):
 *
 *     x[0..3] = philox(key = (seed low 32 bits, seed high 32 bits),
 *                      counter = (c low 32 bits, c high 32 bits, 0, 0))
 *
 * One output serves several elements, as its 128 bits allow:
 *  - uniform float32: c = o + i / 4, u = (x[i mod 4] >> 8) · 2^-24, in [0, 1) (24 bits: float32
 *    would round more up to 1);
 *  - the others take 64 bits each, two elements per output: c = o + i / 2, and element i reads
 *    the words w = (x[j], x[j + 1]), j = 2 · (i mod 2), as b64 = x[j] · 2^32 + x[j + 1];
 *    u53 = (b64 >> 11) · 2^-53, in [0, 1);
 *  - uniform float64: u53;
 *  - uniform on [a, b): a + (b - a) · u computed in float64, converted, and kept below b;
 *  - normal, in Box-Muller pairs from one output: c = o + i / 2, r = sqrt(-2 ln(1 - u53 of
 *    (x0, x1))), θ = 2π · u53 of (x2, x3); element 2k gets r·cos(θ), element 2k + 1 r·sin(θ);
 *    then mean + std · z in float64, converted (the CPU's and CUDA's logarithm, sine and cosine
 *    may differ in the last bit of a float64; a float32 result is almost always the same);
 *  - randint on [low, low + range): low + (b64 mod range);
 *  - bernoulli: u53 < p gives the value (1, or dropout's scale), otherwise 0;
 *  - multinomial, row r of R rows over K categories, S samples:
 *    with replacement, sample j uses c = o + r·S + j: the first category whose running sum of
 *    probabilities (float64, in order) exceeds u53 · total (the last nonzero one when rounding
 *    leaves none); without replacement, category k uses c = o + r·K + k and gets the key
 *    -ln(1 - u53) / p_k (an exponential race: the S smallest keys, ties to the lower index, in
 *    order, are a sample without replacement; zero probabilities never win).
 * A draw advances the offset by the counters it used (nbk_random_counters): ceil(n / 4) for a
 * float32 uniform, ceil(n / 2) for the other kinds, R·S or R·K for the multinomial.
 *
 * The offset lives where the draw runs: the CPU reads it from the arguments, a CUDA device from
 * its own counter in device memory, which each draw advances on the device after it (so that a
 * captured graph draws new values at every replay). lib/random.c keeps the two in step. */
#ifndef NB_KERNELS_RANDOM_H
#define NB_KERNELS_RANDOM_H

#include "nabla.h"

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define NBK_HD __host__ __device__ __forceinline__
#else
#define NBK_HD static inline
#endif

/* a + b · c rounded twice, never fused into one multiply-add (nvcc fuses by default; the CPU
 * build does not), so that both devices compute the same value */
#ifdef __CUDA_ARCH__
#define NBK_MUL_ADD(a, b, c) __dadd_rn((a), __dmul_rn((b), (c)))
#else
#define NBK_MUL_ADD(a, b, c) ((a) + (b) * (c))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nbk_random_kind {
    NBK_RANDOM_UNIFORM,     /* out = uniform on [a, b) */
    NBK_RANDOM_NORMAL,      /* out = a + b · standard normal */
    NBK_RANDOM_RANDINT,     /* out = low + uniform integer below range */
    NBK_RANDOM_BERNOULLI,   /* out = value with probability p (probs[i], or a), else 0 */
    NBK_RANDOM_MULTINOMIAL, /* out (rows, samples) int64 = categories drawn from probs (rows, categories) */
} nbk_random_kind;

/* One draw into out: n dense elements of dtype on the device. */
typedef struct nbk_random_args {
    nbk_random_kind kind;
    nb_dtype dtype;
    int64_t n;
    void *out;
    uint64_t seed;
    uint64_t offset;  /* the first counter (read by the CPU; a CUDA device reads its own counter) */
    uint64_t advance; /* counters the draw uses: the offset after it is offset + advance */
    double a, b;      /* uniform: [a, b); normal: mean a, std b; bernoulli: p = a (no probs), value b */
    int64_t low;    /* randint: low + a value below range */
    uint64_t range;
    /* bernoulli: p per element (n, dense, probs_dtype) or NULL; multinomial: (rows, categories),
     * dense, probs_dtype, every row checked by the caller or the kernel */
    const void *probs;
    nb_dtype probs_dtype;
    int64_t rows, categories, samples;
    bool replacement;
} nbk_random_args;

/* ---------------------------------------------------------------- Philox4x32-10 */

typedef struct nbk_philox_out {
    uint32_t x[4];
} nbk_philox_out;

NBK_HD nbk_philox_out nbk_philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                        uint32_t k1)
{
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    nbk_philox_out o = {{c0, c1, c2, c3}};
    return o;
}

/* The 128 bits of counter c under seed. */
NBK_HD nbk_philox_out nbk_philox_at(uint64_t seed, uint64_t c)
{
    return nbk_philox4x32_10((uint32_t)c, (uint32_t)(c >> 32), 0, 0, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* ---------------------------------------------------------------- the values */

/* The counters a draw of n elements of kind (into dtype) takes; a multinomial's are its own. */
NBK_HD uint64_t nbk_random_counters(nbk_random_kind kind, nb_dtype dtype, int64_t n)
{
    if (kind == NBK_RANDOM_UNIFORM && dtype == NB_FLOAT32) return (uint64_t)(n / 4 + (n % 4 != 0));
    return (uint64_t)(n / 2 + n % 2);
}

NBK_HD float nbk_uniform24(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

NBK_HD double nbk_uniform53(uint32_t hi, uint32_t lo)
{
    return (double)(((uint64_t)hi << 21) | (lo >> 11)) * (1.0 / 9007199254740992.0);
}

/* Element i's 64 bits in a draw of two elements per output, starting at offset. */
NBK_HD uint64_t nbk_bits64_at(uint64_t seed, uint64_t offset, int64_t i)
{
    const nbk_philox_out x = nbk_philox_at(seed, offset + (uint64_t)i / 2);
    const int j = (int)(i & 1) * 2;
    return ((uint64_t)x.x[j] << 32) | x.x[j + 1];
}

NBK_HD double nbk_u53_at(uint64_t seed, uint64_t offset, int64_t i)
{
    return (double)(nbk_bits64_at(seed, offset, i) >> 11) * (1.0 / 9007199254740992.0);
}

/* The standard normal pair of output k (elements 2k and 2k + 1) of a draw starting at offset. */
NBK_HD void nbk_normal_pair(uint64_t seed, uint64_t offset, int64_t k, double *z0, double *z1)
{
    const nbk_philox_out x = nbk_philox_at(seed, offset + (uint64_t)k);
    const double r = sqrt(-2.0 * log(1.0 - nbk_uniform53(x.x[0], x.x[1])));
    const double theta = 6.283185307179586 * nbk_uniform53(x.x[2], x.x[3]);
    *z0 = r * cos(theta);
    *z1 = r * sin(theta);
}

/* Element i's standard normal value in a draw starting at offset. */
NBK_HD double nbk_normal_at(uint64_t seed, uint64_t offset, int64_t i)
{
    const nbk_philox_out x = nbk_philox_at(seed, offset + (uint64_t)i / 2);
    const double r = sqrt(-2.0 * log(1.0 - nbk_uniform53(x.x[0], x.x[1])));
    const double theta = 6.283185307179586 * nbk_uniform53(x.x[2], x.x[3]);
    return r * ((i & 1) ? sin(theta) : cos(theta));
}

/* A uniform u in [0, 1) moved to [a, b) as a float32 (b, rounded, is never reached). */
NBK_HD float nbk_uniform_f32_from(float u, double a, double b)
{
    if (a == 0.0 && b == 1.0) return u;
    float v = (float)NBK_MUL_ADD(a, b - a, (double)u);
    if (v >= (float)b && b > a) v = nextafterf((float)b, (float)a);
    return v;
}

NBK_HD double nbk_uniform_f64_from(double u, double a, double b)
{
    if (a == 0.0 && b == 1.0) return u;
    double v = NBK_MUL_ADD(a, b - a, u);
    if (v >= b && b > a) v = nextafter(b, a);
    return v;
}

/* Element i's uniform value on [a, b) in a draw starting at offset. */
NBK_HD float nbk_uniform_f32_at(uint64_t seed, uint64_t offset, int64_t i, double a, double b)
{
    return nbk_uniform_f32_from(nbk_uniform24(nbk_philox_at(seed, offset + (uint64_t)i / 4).x[i & 3]), a, b);
}

NBK_HD double nbk_uniform_f64_at(uint64_t seed, uint64_t offset, int64_t i, double a, double b)
{
    return nbk_uniform_f64_from(nbk_u53_at(seed, offset, i), a, b);
}

NBK_HD int64_t nbk_randint_at(uint64_t seed, uint64_t offset, int64_t i, int64_t low, uint64_t range)
{
    return (int64_t)((uint64_t)low + nbk_bits64_at(seed, offset, i) % range);
}

/* True with probability p (never for p <= 0 or NaN, always for p >= 1). */
NBK_HD bool nbk_bernoulli_at(uint64_t seed, uint64_t offset, int64_t i, double p)
{
    return nbk_u53_at(seed, offset, i) < p;
}

/* ---------------------------------------------------------------- multinomial, one row */

/* Probability k of a row of dtype float32 or float64. */
NBK_HD double nbk_prob(const void *row, nb_dtype dtype, int64_t k)
{
    return dtype == NB_FLOAT32 ? (double)((const float *)row)[k] : ((const double *)row)[k];
}

/* Checks a row: 0 when valid for s samples, else 1 (a negative, infinite or NaN probability),
 * 2 (a sum of 0) or 3 (fewer nonzero probabilities than s samples without replacement). */
NBK_HD int nbk_multinomial_check(const void *row, nb_dtype dtype, int64_t k, int64_t s, bool replacement)
{
    double total = 0;
    int64_t nonzero = 0;
    for (int64_t c = 0; c < k; c++) {
        const double p = nbk_prob(row, dtype, c);
        if (!(p >= 0) || isinf(p)) return 1;
        total += p;
        nonzero += p > 0;
    }
    if (!(total > 0)) return 2;
    if (!replacement && nonzero < s) return 3;
    return 0;
}

/* Row r's samples (s of them, int64) from its k probabilities; the row must pass the check. */
NBK_HD void nbk_multinomial_row(uint64_t seed, uint64_t offset, int64_t r, const void *row, nb_dtype dtype,
                                int64_t k, int64_t s, bool replacement, int64_t *out)
{
    if (replacement) {
        double total = 0;
        int64_t last = 0;
        for (int64_t c = 0; c < k; c++) {
            const double p = nbk_prob(row, dtype, c);
            total += p;
            if (p > 0) last = c;
        }
        for (int64_t j = 0; j < s; j++) {
            const nbk_philox_out x = nbk_philox_at(seed, offset + (uint64_t)(r * s + j));
            const double target = nbk_uniform53(x.x[0], x.x[1]) * total;
            double sum = 0;
            int64_t pick = last;
            for (int64_t c = 0; c < k; c++) {
                sum += nbk_prob(row, dtype, c);
                if (sum > target) {
                    pick = c;
                    break;
                }
            }
            out[j] = pick;
        }
        return;
    }
    /* without replacement: the j-th pick is the smallest (key, index) after the (j-1)-th */
    double prev_key = -1.0;
    int64_t prev_index = -1;
    for (int64_t j = 0; j < s; j++) {
        double best_key = INFINITY;
        int64_t best = -1;
        for (int64_t c = 0; c < k; c++) {
            const double p = nbk_prob(row, dtype, c);
            if (!(p > 0)) continue;
            const nbk_philox_out x = nbk_philox_at(seed, offset + (uint64_t)(r * k + c));
            const double key = -log(1.0 - nbk_uniform53(x.x[0], x.x[1])) / p;
            const bool after = key > prev_key || (key == prev_key && c > prev_index);
            if (after && (best < 0 || key < best_key)) {
                best_key = key;
                best = c;
            }
        }
        out[j] = best;
        prev_key = best_key;
        prev_index = best;
    }
}

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_RANDOM_H */
