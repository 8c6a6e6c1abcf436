/* row_helpers_typed.h — the row helpers that the typed CPU kernels of softmax (softmax_typed.h)
 * and attention (attention_typed.h) share, written once over the element type T: the maximum of
 * a contiguous row and its sum in double, each over LANES independent partial results so the
 * loops vectorise. Included by those typed headers once per dtype (no include guard), with T,
 * TYPED and LANES defined by the including .c file. */
#if !defined(T) || !defined(TYPED) || !defined(LANES)
#error "row_helpers_typed.h is included by a typed kernel header after T, TYPED and LANES are defined"
#endif

/* The maximum of x (n >= 1; NaNs are skipped, they reach the result through their exps). */
static inline T TYPED(row_max)(const T *restrict x, int64_t n)
{
    if (n < 2 * LANES) { /* a short row: no lanes to set up and combine */
        T m = -INFINITY;
        for (int64_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
        return m;
    }
    T lane[LANES];
    for (int l = 0; l < LANES; l++) lane[l] = -INFINITY;
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) lane[l] = x[j + l] > lane[l] ? x[j + l] : lane[l];
    T m = -INFINITY;
    for (int l = 0; l < LANES; l++) m = lane[l] > m ? lane[l] : m;
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    return m;
}

static inline double TYPED(row_sum)(const T *restrict x, int64_t n)
{
    if (n < 2 * LANES) {
        double s = 0;
        for (int64_t j = 0; j < n; j++) s += x[j];
        return s;
    }
    double lane[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) lane[l] += x[j + l];
    double s = 0;
    for (int l = 0; l < LANES; l++) s += lane[l];
    for (; j < n; j++) s += x[j];
    return s;
}
