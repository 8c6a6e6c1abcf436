/* softmax_typed.h — the typed CPU kernels of softmax, log_softmax and cross entropy (forward and
 * backward) for one floating dtype, written once as plain C over the element type T: the row
 * helpers, the softmax rows and strips, and the cross-entropy rows. softmax.c includes it once
 * per dtype (it is not a header of its own: no include guard), with these defined:
 *   T      the element type: float or double
 *   SFX    the name suffix (f32, f64): TYPED(softmax_rows) names softmax_rows_f32
 *   EXP    T's exp: exp_f32 (in softmax.c) or the C library's exp
 * and TYPED, group_rows() and the constants STRIP, LANES, GROUP_ROWS, GROUP_ELEMENTS and
 * SIMD_CLONES, all explained in softmax.c. T, SFX and EXP are undefined at the end. */
#if !defined(T) || !defined(SFX) || !defined(EXP) || !defined(TYPED)
#error "softmax_typed.h is included by softmax.c after it defines T, SFX, EXP and TYPED"
#endif

/* ---------------------------------------------------------------- row helpers */

#include "row_helpers_typed.h" /* row_max, row_sum */

/* the sum of a (n,) * b (n,) in double */
static inline double TYPED(row_dot)(const T *restrict a, const T *restrict b, int64_t n)
{
    if (n < 2 * LANES) {
        double s = 0;
        for (int64_t j = 0; j < n; j++) s += (double)a[j] * b[j];
        return s;
    }
    double lane[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) lane[l] += (double)a[j + l] * b[j + l];
    double s = 0;
    for (int l = 0; l < LANES; l++) s += lane[l];
    for (; j < n; j++) s += (double)a[j] * b[j];
    return s;
}

static inline void TYPED(exp_inplace)(T *restrict x, int64_t n)
{
    for (int64_t j = 0; j < n; j++) x[j] = EXP(x[j]);
}

/* ---------------------------------------------------------------- softmax */

/* ROWS: the softmax of rows (<= GROUP_ROWS) contiguous rows x (rows, n) into y (rows, n).
 * STRIP: w neighbouring columns of an (n, inner) block starting at x: the softmax of each
 * column, whose elements are inner apart.
 * The backward forms take y (the forward's output) and g (its gradient) and write gi. */
SIMD_CLONES static void TYPED(softmax_rows)(const T *restrict x, T *restrict y, int64_t rows,
                                            int64_t n, bool take_log)
{
    T m[GROUP_ROWS]; /* (rows,) row maxima */
    for (int64_t r = 0; r < rows; r++) {
        const T *xr = x + r * n;
        T *yr = y + r * n;
        m[r] = TYPED(row_max)(xr, n);
        for (int64_t j = 0; j < n; j++) yr[j] = xr[j] - m[r];
    }
    TYPED(exp_inplace)(y, rows * n); /* y is scratch for log_softmax */
    for (int64_t r = 0; r < rows; r++) {
        const T *xr = x + r * n;
        T *yr = y + r * n;
        const double sum = TYPED(row_sum)(yr, n);
        if (take_log) {
            const double shift = (double)m[r] + log(sum);
            for (int64_t j = 0; j < n; j++) yr[j] = (T)((double)xr[j] - shift);
        } else {
            const T inv = (T)(1.0 / sum);
            for (int64_t j = 0; j < n; j++) yr[j] *= inv;
        }
    }
}

SIMD_CLONES static void TYPED(softmax_strip)(const T *restrict x, T *restrict y, int64_t n,
                                             int64_t inner, int64_t w, bool take_log)
{
    T m[STRIP];      /* (w,) running maxima */
    double s[STRIP]; /* (w,) sums of exps, then each column's shift */
    for (int64_t j = 0; j < w; j++) m[j] = -INFINITY, s[j] = 0;
    for (int64_t i = 0; i < n; i++) {
        const T *xi = x + i * inner;
        for (int64_t j = 0; j < w; j++) m[j] = xi[j] > m[j] ? xi[j] : m[j];
    }
    for (int64_t i = 0; i < n; i++) {
        const T *xi = x + i * inner;
        T *yi = y + i * inner;
        for (int64_t j = 0; j < w; j++) yi[j] = EXP(xi[j] - m[j]);
        for (int64_t j = 0; j < w; j++) s[j] += yi[j];
    }
    if (take_log) {
        for (int64_t j = 0; j < w; j++) s[j] = (double)m[j] + log(s[j]);
        for (int64_t i = 0; i < n; i++) {
            const T *xi = x + i * inner;
            T *yi = y + i * inner;
            for (int64_t j = 0; j < w; j++) yi[j] = (T)((double)xi[j] - s[j]);
        }
    } else {
        T inv[STRIP]; /* (w,) */
        for (int64_t j = 0; j < w; j++) inv[j] = (T)(1.0 / s[j]);
        for (int64_t i = 0; i < n; i++) {
            T *yi = y + i * inner;
            for (int64_t j = 0; j < w; j++) yi[j] *= inv[j];
        }
    }
}

SIMD_CLONES static void TYPED(softmax_backward_rows)(const T *restrict y, const T *restrict g,
                                                     T *restrict gi, int64_t rows, int64_t n,
                                                     bool take_log)
{
    if (take_log) { /* g - exp(y) sum(g) */
        for (int64_t j = 0; j < rows * n; j++) gi[j] = y[j];
        TYPED(exp_inplace)(gi, rows * n);
        for (int64_t r = 0; r < rows; r++) {
            const T *gr = g + r * n;
            T *out = gi + r * n;
            const T sum = (T)TYPED(row_sum)(gr, n);
            for (int64_t j = 0; j < n; j++) out[j] = gr[j] - out[j] * sum;
        }
    } else { /* y (g - sum(g y)) */
        for (int64_t r = 0; r < rows; r++) {
            const T *yr = y + r * n, *gr = g + r * n;
            T *out = gi + r * n;
            const T dot = (T)TYPED(row_dot)(gr, yr, n);
            for (int64_t j = 0; j < n; j++) out[j] = yr[j] * (gr[j] - dot);
        }
    }
}

SIMD_CLONES static void TYPED(softmax_backward_strip)(const T *restrict y, const T *restrict g,
                                                      T *restrict gi, int64_t n, int64_t inner,
                                                      int64_t w, bool take_log)
{
    double s[STRIP]; /* (w,) the sums above, per column */
    T sum[STRIP];    /* (w,) the same in T */
    for (int64_t j = 0; j < w; j++) s[j] = 0;
    for (int64_t i = 0; i < n; i++) {
        const T *yi = y + i * inner, *gr = g + i * inner;
        if (take_log)
            for (int64_t j = 0; j < w; j++) s[j] += gr[j];
        else
            for (int64_t j = 0; j < w; j++) s[j] += (double)gr[j] * yi[j];
    }
    for (int64_t j = 0; j < w; j++) sum[j] = (T)s[j];
    for (int64_t i = 0; i < n; i++) {
        const T *yi = y + i * inner, *gr = g + i * inner;
        T *out = gi + i * inner;
        if (take_log)
            for (int64_t j = 0; j < w; j++) out[j] = gr[j] - EXP(yi[j]) * sum[j];
        else
            for (int64_t j = 0; j < w; j++) out[j] = yi[j] * (gr[j] - sum[j]);
    }
}

/* ---------------------------------------------------------------- cross entropy */

/* Rows [begin, end) of the logits, in groups: each row's maximum, and its shifted logits
 * x - max written to buf (rows of classes, contiguous), whose exps are then taken in place. */
SIMD_CLONES static void TYPED(shifted_exps)(const nbk_xent_args *a, int64_t begin,
                                            int64_t rows, T *m, T *restrict buf)
{
    const int64_t classes = a->classes, cs = a->col_stride;
    for (int64_t r = 0; r < rows; r++) {
        const T *x = (const T *)a->logits + (begin + r) * a->row_stride;
        T *br = buf + r * classes;
        if (cs == 1) {
            m[r] = TYPED(row_max)(x, classes);
            for (int64_t j = 0; j < classes; j++) br[j] = x[j] - m[r];
        } else {
            T mr = -INFINITY;
            for (int64_t j = 0; j < classes; j++) mr = x[j * cs] > mr ? x[j * cs] : mr;
            for (int64_t j = 0; j < classes; j++) br[j] = x[j * cs] - mr;
            m[r] = mr;
        }
    }
    TYPED(exp_inplace)(buf, rows * classes);
}

/* A row too long for a group's buffer: its maximum and sum of exp(x - max), one pass each. */
SIMD_CLONES static T TYPED(long_row_max_sum)(const T *x, int64_t classes, int64_t cs,
                                             double *sum)
{
    T m = cs == 1 ? TYPED(row_max)(x, classes) : -INFINITY;
    for (int64_t j = 0; j < classes && cs != 1; j++) m = x[j * cs] > m ? x[j * cs] : m;
    double lane[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= classes; j += LANES)
        for (int l = 0; l < LANES; l++) lane[l] += EXP(x[(j + l) * cs] - m);
    double s = 0;
    for (int l = 0; l < LANES; l++) s += lane[l];
    for (; j < classes; j++) s += EXP(x[j * cs] - m);
    *sum = s;
    return m;
}

/* the summed losses of rows [begin, end): logsumexp(x) - x[label] */
static double TYPED(xent_rows)(const nbk_xent_args *a, int64_t begin, int64_t end)
{
    const int64_t classes = a->classes, cs = a->col_stride;
    double total = 0;
    if (classes > GROUP_ELEMENTS) {
        for (int64_t i = begin; i < end; i++) {
            const T *x = (const T *)a->logits + i * a->row_stride;
            double sum;
            const T m = TYPED(long_row_max_sum)(x, classes, cs, &sum);
            total += log(sum) + (double)m - (double)x[a->labels[i * a->label_stride] * cs];
        }
        return total;
    }
    T buf[GROUP_ELEMENTS]; /* (rows, classes) exps of a group */
    T m[GROUP_ROWS];       /* (rows,) */
    const int64_t group = group_rows(classes);
    for (int64_t i0 = begin; i0 < end; i0 += group) {
        const int64_t rows = end - i0 < group ? end - i0 : group;
        TYPED(shifted_exps)(a, i0, rows, m, buf);
        for (int64_t r = 0; r < rows; r++) {
            const T *x = (const T *)a->logits + (i0 + r) * a->row_stride;
            const int64_t label = a->labels[(i0 + r) * a->label_stride];
            total += log(TYPED(row_sum)(buf + r * classes, classes)) + (double)m[r] -
                     (double)x[label * cs];
        }
    }
    return total;
}

/* grad rows [begin, end) (contiguous, classes apart): (softmax - one_hot) * scale */
static void TYPED(xent_grad_rows)(const nbk_xent_args *a, double scale, T *grad,
                                  int64_t begin, int64_t end)
{
    const int64_t classes = a->classes;
    const int64_t group = group_rows(classes);
    T m[GROUP_ROWS]; /* (rows,) */
    for (int64_t i0 = begin; i0 < end; i0 += group) {
        const int64_t rows = end - i0 < group ? end - i0 : group;
        TYPED(shifted_exps)(a, i0, rows, m, grad + i0 * classes);
        for (int64_t r = 0; r < rows; r++) {
            T *restrict gr = grad + (i0 + r) * classes;
            const T k = (T)(scale / TYPED(row_sum)(gr, classes));
            for (int64_t j = 0; j < classes; j++) gr[j] *= k;
            const int64_t label = a->labels[(i0 + r) * a->label_stride]; /* checked */
            if (label < 0 || label >= classes) continue;
            /* p - 1 = -(the other classes' probabilities): no cancellation near p = 1 */
            gr[label] = (T)-(TYPED(row_sum)(gr, label) +
                             TYPED(row_sum)(gr + label + 1, classes - label - 1));
        }
    }
}


/* ---------------------------------------------------------------- cross entropy with options
 *
 * The options of kernels/softmax.h (class weights, ignored labels, label smoothing,
 * log-probabilities, reductions) take these plainer row loops: a row at a time, its maximum, its
 * log-sum-exp and the sums the options need, each in double. */

/* log(sum_j exp(x_j)) of a row of classes elements cs apart, the maximum taken out first */
static double TYPED(ext_lse)(const T *x, int64_t classes, int64_t cs)
{
    T m = -INFINITY;
    for (int64_t j = 0; j < classes; j++) m = x[j * cs] > m ? x[j * cs] : m;
    double s = 0;
    for (int64_t j = 0; j < classes; j++) s += EXP(x[j * cs] - m);
    return (double)m + log(s);
}

static inline double TYPED(ext_weight)(const nbk_xent_args *a, int64_t c)
{
    return a->class_weight ? (double)((const T *)a->class_weight)[c] : 1.0;
}

/* The sum over rows [begin, end) of their losses L_i (each also written to each (rows,) when
 * not NULL) and of their labels' weights (ignored rows: 0); W is the sum of the class weights. */
static double TYPED(xent_ext_rows)(const nbk_xent_args *a, double W, int64_t begin, int64_t end, T *each,
                                   double *weight_sum)
{
    const int64_t classes = a->classes, cs = a->col_stride;
    const double e = a->smoothing;
    double total = 0, wsum = 0;
    for (int64_t i = begin; i < end; i++) {
        const T *x = (const T *)a->logits + i * a->row_stride; /* (classes,) cs apart */
        const int64_t label = a->labels[i * a->label_stride];
        double loss = 0;
        if (!nbk_xent_ignored(a, label)) {
            const double wy = TYPED(ext_weight)(a, label);
            wsum += wy;
            if (a->log_probs) {
                loss = -wy * (double)x[label * cs];
            } else {
                const double lse = TYPED(ext_lse)(x, classes, cs);
                loss = (1 - e) * wy * (lse - (double)x[label * cs]);
                if (e != 0) {
                    double dot = 0;
                    for (int64_t j = 0; j < classes; j++) dot += TYPED(ext_weight)(a, j) * (double)x[j * cs];
                    loss += e / (double)classes * (W * lse - dot);
                }
            }
        }
        if (each) each[i] = (T)loss;
        total += loss;
    }
    *weight_sum = wsum;
    return total;
}

/* grad rows [begin, end) (contiguous, classes apart) of the losses times s (or times g_rows[i],
 * one per row, when not NULL): s (A p_j - (e / classes) w_j) but for the label's element,
 * whose A p_y - B is written as (e W / classes) p_y - B (sum of the other p_c), free of
 * cancellation near p_y = 1; A = (1 - e) w_y + e W / classes, B = (1 - e) w_y. */
static void TYPED(xent_ext_grad_rows)(const nbk_xent_args *a, double W, double s, const T *g_rows, T *grad,
                                      int64_t begin, int64_t end)
{
    const int64_t classes = a->classes, cs = a->col_stride;
    const double e = a->smoothing, ec = e / (double)classes;
    for (int64_t i = begin; i < end; i++) {
        const T *x = (const T *)a->logits + i * a->row_stride; /* (classes,) cs apart */
        T *gr = grad + i * classes;                            /* (classes,) */
        const int64_t label = a->labels[i * a->label_stride];
        if (nbk_xent_ignored(a, label) || label < 0 || label >= classes) {
            for (int64_t j = 0; j < classes; j++) gr[j] = 0;
            continue;
        }
        const double si = g_rows ? (double)g_rows[i] : s, wy = TYPED(ext_weight)(a, label);
        if (a->log_probs) {
            for (int64_t j = 0; j < classes; j++) gr[j] = 0;
            gr[label] = (T)(-si * wy);
            continue;
        }
        const double lse = TYPED(ext_lse)(x, classes, cs);
        const double A = (1 - e) * wy + ec * W, B = (1 - e) * wy;
        double others = 0, py = 0;
        for (int64_t j = 0; j < classes; j++) {
            const double p = (double)EXP((T)((double)x[j * cs] - lse));
            if (j == label) py = p;
            else others += p;
            gr[j] = (T)(si * (A * p - ec * TYPED(ext_weight)(a, j)));
        }
        gr[label] = (T)(si * (ec * W * py - B * others - ec * wy));
    }
}

#undef T
#undef SFX
#undef EXP
