/* norm_typed.h — the typed CPU kernels of layer and RMS normalisation (forward, the input's
 * gradient, and the weight's and bias's gradients) for one floating dtype, written once as plain C
 * over the element type T. norm.c includes it once per dtype (it is not a header of its own: no
 * include guard), with these defined:
 *   T      the element type: float or double
 *   SFX    the name suffix (f32, f64): TYPED(norm_rows) names norm_rows_f32
 * and TYPED and the constants LANES, STRIP and SIMD_CLONES explained in norm.c. T and SFX are
 * undefined at the end. */
#if !defined(T) || !defined(SFX) || !defined(TYPED)
#error "norm_typed.h is included by norm.c after it defines T, SFX and TYPED"
#endif

/* sum(x - shift) (power 1) or sum((x - shift)^2) (power 2) over a row of n, in double, with
 * LANES independent partial sums so the additions vectorise */
static inline double TYPED(row_moment)(const T *restrict x, int64_t n, double shift, int power)
{
    double lane[LANES] = {0};
    int64_t j = 0;
    if (power == 1)
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) lane[l] += (double)x[j + l] - shift;
    else
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const double d = (double)x[j + l] - shift;
                lane[l] += d * d;
            }
    double s = 0;
    for (int l = 0; l < LANES; l++) s += lane[l];
    for (; j < n; j++) {
        const double d = (double)x[j] - shift;
        s += power == 1 ? d : d * d;
    }
    return s;
}

/* Forward of rows [begin, end): each row's mean and rstd into stats, and y. */
SIMD_CLONES static void TYPED(norm_rows)(const nbk_norm_args *a, T *restrict y, double *stats, int64_t begin,
                                         int64_t end)
{
    const int64_t cols = a->cols;
    const T *w = (const T *)a->weight, *b = (const T *)a->bias;
    for (int64_t i = begin; i < end; i++) {
        const T *restrict x = (const T *)a->x + i * cols; /* (cols,) */
        T *restrict yr = y + i * cols;                    /* (cols,) */
        const double mean = a->rms ? 0.0 : TYPED(row_moment)(x, cols, 0.0, 1) / (double)cols;
        const double rstd = 1.0 / sqrt(TYPED(row_moment)(x, cols, mean, 2) / (double)cols + a->eps);
        stats[i] = mean;
        stats[a->rows + i] = rstd;
        /* x - mean in T as (x - hi) - lo, mean = hi + lo: each step is rounded relative to its
         * result, so xhat keeps T's precision however far the values are from zero */
        const T hi = (T)mean, lo = (T)(mean - (double)hi), r = (T)rstd;
        if (w && b)
            for (int64_t j = 0; j < cols; j++) yr[j] = ((x[j] - hi) - lo) * r * w[j] + b[j];
        else if (w)
            for (int64_t j = 0; j < cols; j++) yr[j] = ((x[j] - hi) - lo) * r * w[j];
        else if (b)
            for (int64_t j = 0; j < cols; j++) yr[j] = ((x[j] - hi) - lo) * r + b[j];
        else
            for (int64_t j = 0; j < cols; j++) yr[j] = ((x[j] - hi) - lo) * r;
    }
}

/* The input's gradient for rows [begin, end): with wg = g * w and xhat = (x - mean) * rstd,
 * gx = rstd * (wg - mean(wg) - xhat * mean(wg * xhat)) (RMS norm: without mean(wg)). */
SIMD_CLONES static void TYPED(norm_grad_rows)(const nbk_norm_args *a, const double *stats, const T *g,
                                              T *restrict gx, int64_t begin, int64_t end)
{
    const int64_t cols = a->cols;
    const T *w = (const T *)a->weight;
    for (int64_t i = begin; i < end; i++) {
        const T *restrict x = (const T *)a->x + i * cols, *restrict gr = g + i * cols; /* (cols,) */
        T *restrict out = gx + i * cols;                                               /* (cols,) */
        const double mean = stats[i], rstd = stats[a->rows + i];
        double s1[LANES] = {0}, s2[LANES] = {0}; /* partial sums of wg and wg * xhat */
        int64_t j = 0;
        for (; j + LANES <= cols; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const double wg = (double)gr[j + l] * (w ? (double)w[j + l] : 1.0);
                s1[l] += wg;
                s2[l] += wg * (((double)x[j + l] - mean) * rstd);
            }
        double sum1 = 0, sum2 = 0;
        for (int l = 0; l < LANES; l++) sum1 += s1[l], sum2 += s2[l];
        for (; j < cols; j++) {
            const double wg = (double)gr[j] * (w ? (double)w[j] : 1.0);
            sum1 += wg;
            sum2 += wg * (((double)x[j] - mean) * rstd);
        }
        const double m1 = a->rms ? 0.0 : sum1 / (double)cols, m2 = sum2 / (double)cols;
        for (int64_t k = 0; k < cols; k++) {
            const double wg = (double)gr[k] * (w ? (double)w[k] : 1.0);
            const double xhat = ((double)x[k] - mean) * rstd;
            out[k] = (T)(rstd * (wg - m1 - xhat * m2));
        }
    }
}

/* The weight's (sum over rows of g * xhat) and bias's (sum of g) gradients for columns
 * [c0, c0 + width), width <= STRIP, adding the rows in order. */
SIMD_CLONES static void TYPED(norm_grad_strip)(const nbk_norm_args *a, const double *stats, const T *g,
                                               T *gw, T *gb, int64_t c0, int64_t width)
{
    const int64_t cols = a->cols;
    double sw[STRIP], sb[STRIP]; /* (width,) */
    for (int64_t j = 0; j < width; j++) sw[j] = 0, sb[j] = 0;
    for (int64_t i = 0; i < a->rows; i++) {
        const T *restrict x = (const T *)a->x + i * cols + c0, *restrict gr = g + i * cols + c0;
        const double mean = stats[i], rstd = stats[a->rows + i];
        for (int64_t j = 0; j < width; j++) {
            sw[j] += (double)gr[j] * (((double)x[j] - mean) * rstd);
            sb[j] += (double)gr[j];
        }
    }
    if (gw)
        for (int64_t j = 0; j < width; j++) gw[c0 + j] = (T)sw[j];
    if (gb)
        for (int64_t j = 0; j < width; j++) gb[c0 + j] = (T)sb[j];
}

#undef T
#undef SFX
