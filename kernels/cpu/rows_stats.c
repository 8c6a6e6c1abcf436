/* rows_stats.c — the CPU's log-sum-exp and variance of one contiguous row (kernels/rows.h's
 * rules), written for the vectoriser: independent partial maxima and sums in lanes, combined in a
 * fixed order, so a row's result depends on its values alone. float32 rows are summed in float
 * lanes over chunks of CHUNK elements, each chunk's total added in float64 (the float lanes keep
 * the loops at full vector width; a chunk is short enough that its float sum loses nothing the
 * float32 result would keep). float32 takes its exps with exp_f32, float64 with the C library's
 * exp. Like softmax.c's, the float32 loops are also compiled for x86-64-v3 (AVX2, FMA). */
#include "rows.h"

#include "math_f32.h"

#include <math.h>
#include <stdbool.h>

#define LANES 8   /* float64 lanes */
#define FLANES 32 /* float32 lanes: four AVX2 registers, so the additions do not wait on each other */
#define CHUNK 1024


/* Sums in f32 lanes over a chunk (n <= CHUNK): of exp(x - shift); of (x - mean)^2 (and of
 * x - mean, through dev_sum); of x. */
static inline float chunk_exp_sum(const float *x, int64_t n, float shift)
{
    float lane[FLANES] = {0}, s = 0;
    int64_t j = 0;
    for (; j + FLANES <= n; j += FLANES)
        for (int l = 0; l < FLANES; l++) lane[l] += exp_f32(x[j + l] - shift);
    for (int l = 0; l < FLANES; l++) s += lane[l];
    for (; j < n; j++) s += exp_f32(x[j] - shift);
    return s;
}
static inline float chunk_sq_sum(const float *x, int64_t n, float mean, float *dev_sum)
{
    float lane[FLANES] = {0}, dl[FLANES] = {0}, s = 0, d = 0;
    int64_t j = 0;
    for (; j + FLANES <= n; j += FLANES)
        for (int l = 0; l < FLANES; l++) {
            const float v = x[j + l] - mean;
            lane[l] += v * v;
            dl[l] += v;
        }
    for (int l = 0; l < FLANES; l++) s += lane[l], d += dl[l];
    for (; j < n; j++) s += (x[j] - mean) * (x[j] - mean), d += x[j] - mean;
    *dev_sum = d;
    return s;
}
static inline float chunk_sum(const float *x, int64_t n)
{
    float lane[FLANES] = {0}, s = 0;
    int64_t j = 0;
    for (; j + FLANES <= n; j += FLANES)
        for (int l = 0; l < FLANES; l++) lane[l] += x[j + l];
    for (int l = 0; l < FLANES; l++) s += lane[l];
    for (; j < n; j++) s += x[j];
    return s;
}

static inline float max_f32(const float *x, int64_t n, bool *nan)
{
    float lane[FLANES], nanl[FLANES] = {0};
    for (int l = 0; l < FLANES; l++) lane[l] = -INFINITY;
    int64_t j = 0;
    for (; j + FLANES <= n; j += FLANES)
        for (int l = 0; l < FLANES; l++) {
            const float v = x[j + l];
            lane[l] = v > lane[l] ? v : lane[l];
            nanl[l] = v != v ? 1.0f : nanl[l];
        }
    float m = -INFINITY, anynan = 0;
    for (int l = 0; l < FLANES; l++) m = lane[l] > m ? lane[l] : m, anynan += nanl[l];
    for (; j < n; j++) m = x[j] > m ? x[j] : m, anynan += x[j] != x[j];
    *nan = anynan > 0;
    return m;
}

static double max_f64(const double *x, int64_t n, bool *nan)
{
    double m = -INFINITY;
    bool any = false;
    for (int64_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m, any = any || x[j] != x[j];
    *nan = any;
    return m;
}

SIMD_CLONES static void lse_f32(const nbk_rows_args *a, int64_t r)
{
    const int64_t n = a->n;
    const float *x = (const float *)a->in + r * n;
    bool nan;
    const float m = max_f32(x, n, &nan);
    const float shift = isinf(m) ? 0.0f : m;
    double s = 0;
    for (int64_t c = 0; c < n; c += CHUNK) s += chunk_exp_sum(x + c, n - c < CHUNK ? n - c : CHUNK, shift);
    ((float *)a->out)[r] = nan ? NAN : (float)(log(s) + shift);
}

void nbk_cpu_row_logsumexp(const nbk_rows_args *a, int64_t r)
{
    if (a->dtype == NB_FLOAT32) {
        lse_f32(a, r);
        return;
    }
    const int64_t n = a->n;
    const double *x = (const double *)a->in + r * n;
    bool nan;
    double lane[LANES] = {0}, s = 0;
    int64_t j = 0;
    const double m = max_f64(x, n, &nan);
    const double shift = isinf(m) ? 0.0 : m;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) lane[l] += exp(x[j + l] - shift);
    for (int l = 0; l < LANES; l++) s += lane[l];
    for (; j < n; j++) s += exp(x[j] - shift);
    ((double *)a->out)[r] = nan ? NAN : log(s) + shift;
}

SIMD_CLONES static void var_f32(const nbk_rows_args *a, int64_t r, double divisor)
{
    const int64_t n = a->n;
    const float *x = (const float *)a->in + r * n;
    double s = 0, ss = 0;
    for (int64_t c = 0; c < n; c += CHUNK) s += chunk_sum(x + c, n - c < CHUNK ? n - c : CHUNK);
    /* the mean rounded to float32, m; the deviations' own sum corrects for its rounding:
     * sum (x - mean)^2 = sum (x - m)^2 - (sum (x - m))^2 / n */
    const float mean = (float)(s / (double)n);
    double ds = 0;
    for (int64_t c = 0; c < n; c += CHUNK) {
        float d;
        ss += chunk_sq_sum(x + c, n - c < CHUNK ? n - c : CHUNK, mean, &d);
        ds += d;
    }
    ss -= ds * ds / (double)n;
    ((float *)a->out)[r] = (float)(ss / divisor);
}

void nbk_cpu_row_var(const nbk_rows_args *a, int64_t r)
{
    const int64_t n = a->n;
    double lane[LANES] = {0}, s = 0, ss = 0;
    int64_t j = 0;
    const double divisor = (double)n - a->correction > 0 ? (double)n - a->correction : 0.0;
    if (a->dtype == NB_FLOAT32) {
        var_f32(a, r, divisor);
        return;
    } else {
        const double *x = (const double *)a->in + r * n;
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) lane[l] += x[j + l];
        for (int l = 0; l < LANES; l++) s += lane[l], lane[l] = 0;
        for (; j < n; j++) s += x[j];
        const double mean = s / (double)n;
        for (j = 0; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const double d = x[j + l] - mean;
                lane[l] += d * d;
            }
        for (int l = 0; l < LANES; l++) ss += lane[l];
        for (; j < n; j++) ss += (x[j] - mean) * (x[j] - mean);
        ((double *)a->out)[r] = ss / divisor;
    }
}
