/* batch_norm_typed.h — the typed CPU kernels of batch normalisation (forward, and the gradients
 * of the input, the weight and the bias) for one floating dtype, written once as plain C over the
 * element type T. batch_norm.c includes it once per dtype (it is not a header of its own: no
 * include guard), with these defined:
 *   T      the element type: float or double
 *   SFX    the name suffix (f32, f64): TYPED(bn_channel) names bn_channel_f32
 * and TYPED explained in batch_norm.c. T and SFX are undefined at the end. */
#if !defined(T) || !defined(SFX) || !defined(TYPED)
#error "batch_norm_typed.h is included by batch_norm.c after it defines T, SFX and TYPED"
#endif

/* sum(x - shift) (power 1) or sum((x - shift)^2) (power 2) over channel ch's n * s elements,
 * in double, in a fixed order (batch by batch, each run of s with LANES partial sums) */
static inline double TYPED(bn_moment)(const nbk_batch_norm_args *a, int64_t ch, double shift, int power)
{
    double total = 0;
    for (int64_t i = 0; i < a->n; i++) {
        const T *restrict x = (const T *)a->x + (i * a->c + ch) * a->s; /* (s,) */
        double lane[LANES] = {0};
        int64_t j = 0;
        for (; j + LANES <= a->s; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const double d = (double)x[j + l] - shift;
                lane[l] += power == 1 ? d : d * d;
            }
        double r = 0;
        for (int l = 0; l < LANES; l++) r += lane[l];
        for (; j < a->s; j++) {
            const double d = (double)x[j] - shift;
            r += power == 1 ? d : d * d;
        }
        total += r;
    }
    return total;
}

/* Forward of channel ch: its statistics (and running statistics when training), then y. */
SIMD_CLONES static void TYPED(bn_channel)(const nbk_batch_norm_args *a, T *restrict y, double *stats, int64_t ch)
{
    const T *w = (const T *)a->weight, *b = (const T *)a->bias;
    T *rm = (T *)a->running_mean, *rv = (T *)a->running_var;
    const double count = (double)a->n * (double)a->s;
    double mean, var;
    if (a->training) {
        mean = TYPED(bn_moment)(a, ch, 0.0, 1) / count;
        var = TYPED(bn_moment)(a, ch, mean, 2) / count;
        const double m = a->momentum;
        if (rm) rm[ch] = (T)((1.0 - m) * (double)rm[ch] + m * mean);
        if (rv) rv[ch] = (T)((1.0 - m) * (double)rv[ch] + m * var * count / (count - 1.0));
    } else {
        mean = (double)rm[ch];
        var = (double)rv[ch];
    }
    const double rstd = 1.0 / sqrt(var + a->eps);
    stats[ch] = mean;
    stats[a->c + ch] = rstd;
    /* y = (x - mean) scale + bias with scale = weight rstd, in double */
    const double scale = (w ? (double)w[ch] : 1.0) * rstd, bias = b ? (double)b[ch] : 0.0;
    for (int64_t i = 0; i < a->n; i++) {
        const T *restrict x = (const T *)a->x + (i * a->c + ch) * a->s; /* (s,) */
        T *restrict yr = y + (i * a->c + ch) * a->s;                    /* (s,) */
        for (int64_t j = 0; j < a->s; j++) yr[j] = (T)(((double)x[j] - mean) * scale + bias);
    }
}

/* Backward of channel ch: its sums of g and g xhat, then gx, gw[ch] and gb[ch] (each NULL when
 * not wanted). */
SIMD_CLONES static void TYPED(bn_grad_channel)(const nbk_batch_norm_args *a, const double *stats, const T *g, T *gx, T *gw,
                                   T *gb, int64_t ch)
{
    const T *w = (const T *)a->weight;
    const double mean = stats[ch], rstd = stats[a->c + ch];
    double sg = 0, sgx = 0; /* sum(g), sum(g xhat) */
    for (int64_t i = 0; i < a->n; i++) {
        const T *restrict x = (const T *)a->x + (i * a->c + ch) * a->s, *restrict gr = g + (i * a->c + ch) * a->s;
        double l1[LANES] = {0}, l2[LANES] = {0};
        int64_t j = 0;
        for (; j + LANES <= a->s; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const double gv = (double)gr[j + l];
                l1[l] += gv;
                l2[l] += gv * (((double)x[j + l] - mean) * rstd);
            }
        double r1 = 0, r2 = 0;
        for (int l = 0; l < LANES; l++) {
            r1 += l1[l];
            r2 += l2[l];
        }
        for (; j < a->s; j++) {
            const double gv = (double)gr[j];
            r1 += gv;
            r2 += gv * (((double)x[j] - mean) * rstd);
        }
        sg += r1;
        sgx += r2;
    }
    if (gw) gw[ch] = (T)sgx;
    if (gb) gb[ch] = (T)sg;
    if (!gx) return;
    const double count = (double)a->n * (double)a->s;
    const double k = (w ? (double)w[ch] : 1.0) * rstd;
    const double mg = a->training ? sg / count : 0.0, mgx = a->training ? sgx / count : 0.0;
    for (int64_t i = 0; i < a->n; i++) {
        const T *restrict x = (const T *)a->x + (i * a->c + ch) * a->s, *restrict gr = g + (i * a->c + ch) * a->s;
        T *restrict out = gx + (i * a->c + ch) * a->s; /* (s,) */
        for (int64_t j = 0; j < a->s; j++) {
            const double xhat = ((double)x[j] - mean) * rstd;
            out[j] = (T)(k * ((double)gr[j] - mg - xhat * mgx));
        }
    }
}

#undef T
#undef SFX
