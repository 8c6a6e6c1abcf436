/* rows_stats.c — the CPU's log-sum-exp and variance of one contiguous row (kernels/rows.h's
 * rules), written for the vectoriser: LANES independent partial maxima and float64 sums, then
 * combined in a fixed order, so a row's result does not depend on anything but its values.
 * float32 takes its exps with exp_f32; float64 with the C library's exp. */
#include "rows.h"

#include "exp_f32.h"

#include <math.h>
#include <stdbool.h>

#define LANES 8

static float max_f32(const float *x, int64_t n, bool *nan)
{
    float lane[LANES], nanl[LANES] = {0};
    for (int l = 0; l < LANES; l++) lane[l] = -INFINITY;
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) {
            const float v = x[j + l];
            lane[l] = v > lane[l] ? v : lane[l];
            nanl[l] = v != v ? 1.0f : nanl[l];
        }
    float m = -INFINITY, anynan = 0;
    for (int l = 0; l < LANES; l++) m = lane[l] > m ? lane[l] : m, anynan += nanl[l];
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

void nbk_cpu_row_logsumexp(const nbk_rows_args *a, int64_t r)
{
    const int64_t n = a->n;
    bool nan;
    double lane[LANES] = {0}, s = 0;
    int64_t j = 0;
    if (a->dtype == NB_FLOAT32) {
        const float *x = (const float *)a->in + r * n;
        const float m = max_f32(x, n, &nan);
        const float shift = isinf(m) ? 0.0f : m;
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) lane[l] += exp_f32(x[j + l] - shift);
        for (int l = 0; l < LANES; l++) s += lane[l];
        for (; j < n; j++) s += exp_f32(x[j] - shift);
        ((float *)a->out)[r] = nan ? NAN : (float)(log(s) + shift);
    } else {
        const double *x = (const double *)a->in + r * n;
        const double m = max_f64(x, n, &nan);
        const double shift = isinf(m) ? 0.0 : m;
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) lane[l] += exp(x[j + l] - shift);
        for (int l = 0; l < LANES; l++) s += lane[l];
        for (; j < n; j++) s += exp(x[j] - shift);
        ((double *)a->out)[r] = nan ? NAN : log(s) + shift;
    }
}

void nbk_cpu_row_var(const nbk_rows_args *a, int64_t r)
{
    const int64_t n = a->n;
    double lane[LANES] = {0}, s = 0, ss = 0;
    int64_t j = 0;
    const double divisor = (double)n - a->correction > 0 ? (double)n - a->correction : 0.0;
    if (a->dtype == NB_FLOAT32) {
        const float *x = (const float *)a->in + r * n;
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) lane[l] += x[j + l];
        for (int l = 0; l < LANES; l++) s += lane[l], lane[l] = 0;
        for (; j < n; j++) s += x[j];
        const double mean = s / (double)n;
        for (j = 0; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const double d = (double)x[j + l] - mean;
                lane[l] += d * d;
            }
        for (int l = 0; l < LANES; l++) ss += lane[l];
        for (; j < n; j++) ss += ((double)x[j] - mean) * ((double)x[j] - mean);
        ((float *)a->out)[r] = (float)(ss / divisor);
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
