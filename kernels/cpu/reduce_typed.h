/* reduce_typed.h — the CPU reduction loops of one input dtype, written once as plain C over the
 * element type T. reduce_loops.c includes it once per dtype, with these defined:
 *   T         the element type: float, double, int64_t or bool
 *   SFX       the name suffix (f32, f64, i64, b8): TYPED(sum_row) names sum_row_f32
 *   IS_FLOAT  1 where NaNs and signed zeros exist (float32, float64), else 0
 *   BITS      an unsigned integer type of T's size: an element's bits, kept unchanged
 *   SUM_ACC   what a sum accumulates in: double for floats, uint64_t (wrapping) for the others
 *   COL_VECTOR 1 where the column argmax loop is written for the vectoriser (float32), else 0
 *   COL_ROW   a row number in that loop: of T's width where it is vectorised (int32_t for
 *             float32), else int64_t; COL_ROW_MAX its largest value
 * and LANES, SUM_LANES, ARG_CHUNK, ALWAYS_INLINE and TYPED. It defines, for each op:
 *  - row loops: the partial result of one (contiguous or strided) row;
 *  - many-rows loops: a run of outputs that each reduce their own row, the row loop inlined
 *    (short rows, such as the 10 logits of each of 64 samples, cost little);
 *  - column loops: whole contiguous input rows folded into a strip of per-output accumulators
 *    (column sums of a row-major matrix), reading memory in order;
 *  - store: a partial result written as the output dtype (a mean divides here).
 *
 * Extremes follow kernels/reduce.h's rule: of the elements that tie for the extreme under ==
 * (a NaN before every number; all NaNs tie), the first wins and is written bit for bit. Only
 * 0 (whose two signs tie) and NaN (whose sign and payload vary) make the choice visible, so a
 * long row is first scanned for the extreme's value in vectorised lanes, and only when that is
 * 0 or NaN does a second scan find the first tie. */

/* ---------------------------------------------------------------- elements */

ALWAYS_INLINE bool TYPED(is_nan)(T x)
{
#if IS_FLOAT
    return x != x;
#else
    (void)x;
    return false;
#endif
}

/* x is further than m: larger for a maximum, smaller for a minimum (false where either is NaN) */
ALWAYS_INLINE bool TYPED(further)(T x, T m, bool take_min) { return take_min ? x < m : x > m; }

/* x, a later element, replaces the extreme m so far: further, or a NaN where m is a number. Of
 * equal values (±0 included) and of NaNs the earlier stays. Written as "neither behind nor tied,
 * unless m is NaN": one comparison decides the common case, and a NaN x, unordered with every
 * value, passes it. */
ALWAYS_INLINE bool TYPED(replaces)(T x, T m, bool take_min)
{
    const bool behind_or_tied = take_min ? x >= m : x <= m; /* false where either is NaN */
    return !behind_or_tied && !TYPED(is_nan)(m);
}

/* The same without branches (& for &&), for loops written for the vectoriser. */
ALWAYS_INLINE bool TYPED(replaces_branchless)(T x, T m, bool take_min)
{
    const bool behind_or_tied = take_min ? x >= m : x <= m;
    return !behind_or_tied & !TYPED(is_nan)(m);
}

/* The partial result that is the element at `at`: its value to compare, its bits to store (read
 * from memory, so a float32 signalling NaN is not quieted), and its index. */
ALWAYS_INLINE nbk_cpu_reduce_acc TYPED(acc_of)(const T *at, int64_t index)
{
    BITS bits;
    memcpy(&bits, at, sizeof bits);
    nbk_cpu_reduce_acc a = {.bits = bits, .index = index, .any = true};
#if IS_FLOAT
    a.f = (double)*at;
#else
    a.i = (int64_t)*at;
#endif
    return a;
}

/* ---------------------------------------------------------------- sums */

/* SUM_LANES partial sums side by side, added pairwise at the end, then the tail in order. */
ALWAYS_INLINE nbk_cpu_reduce_acc TYPED(sum_row_of)(const T *p, int64_t n, int64_t s)
{
    SUM_ACC total = 0;
    int64_t i = 0;
    if (n >= 2 * SUM_LANES) {
        SUM_ACC lane[SUM_LANES] = {0};
        if (s == 1) {
            for (; i + SUM_LANES <= n; i += SUM_LANES) {
                const T *q = p + i;
                for (int j = 0; j < SUM_LANES; j++) lane[j] += (SUM_ACC)q[j];
            }
        } else {
            for (; i + SUM_LANES <= n; i += SUM_LANES) {
                const T *q = p + i * s;
                for (int j = 0; j < SUM_LANES; j++) lane[j] += (SUM_ACC)q[j * s];
            }
        }
        for (int w = SUM_LANES / 2; w > 0; w /= 2) /* pairwise */
            for (int j = 0; j < w; j++) lane[j] += lane[j + w];
        total = lane[0];
    }
    for (; i < n; i++) total += (SUM_ACC)p[i * s];
    nbk_cpu_reduce_acc a = {.any = true};
#if IS_FLOAT
    a.f = total;
#else
    a.u = total;
#endif
    return a;
}

/* Rows are folded four at a time, which halves the accumulator traffic. */
ALWAYS_INLINE void TYPED(sum_cols_of)(const char *in, int64_t rs, int64_t rows, int64_t width,
                                      const nbk_reduce_plan *p, int64_t out_off, int64_t os)
{
    SUM_ACC acc[NBK_CPU_REDUCE_STRIP] = {0}; /* (width,) */
    int64_t k = 0;
    for (; k + 4 <= rows; k += 4) {
        const T *r0 = (const T *)in + k * rs, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs;
        for (int64_t j = 0; j < width; j++)
            acc[j] += ((SUM_ACC)r0[j] + (SUM_ACC)r1[j]) + ((SUM_ACC)r2[j] + (SUM_ACC)r3[j]);
    }
    for (; k < rows; k++) {
        const T *row = (const T *)in + k * rs;
        for (int64_t j = 0; j < width; j++) acc[j] += (SUM_ACC)row[j];
    }
    for (int64_t j = 0; j < width; j++) {
#if IS_FLOAT
        ((T *)p->values)[out_off + j * os] = (T)(acc[j] / p->divisor);
#else
        ((int64_t *)p->values)[out_off + j * os] = (int64_t)acc[j];
#endif
    }
}

/* ---------------------------------------------------------------- extremes of a row */

/* The extreme's value among n >= 1 elements (which of tied ones unspecified) and whether any is
 * NaN (the value is then meaningless). LANES partial extremes, updated LANES elements at a time:
 * the inner loop over the lanes is what the compiler vectorises. */
ALWAYS_INLINE T TYPED(scan_extreme)(const T *p, int64_t n, int64_t s, bool take_min,
                                    bool *has_nan)
{
    T m = p[0], nan = 0; /* nan: a NaN once one is seen */
    int64_t i = 0;
    if (n >= 2 * LANES) {
        T lane[LANES], lane_nan[LANES];
        for (int j = 0; j < LANES; j++) lane[j] = p[0], lane_nan[j] = 0;
        for (; i + LANES <= n; i += LANES) {
            const T *q = p + i * s;
            if (s == 1) {
                for (int j = 0; j < LANES; j++) {
                    T x = q[j];
                    lane[j] = TYPED(further)(x, lane[j], take_min) ? x : lane[j];
                    lane_nan[j] = TYPED(is_nan)(x) ? x : lane_nan[j];
                }
            } else {
                for (int j = 0; j < LANES; j++) {
                    T x = q[j * s];
                    lane[j] = TYPED(further)(x, lane[j], take_min) ? x : lane[j];
                    lane_nan[j] = TYPED(is_nan)(x) ? x : lane_nan[j];
                }
            }
        }
        for (int j = 0; j < LANES; j++) {
            m = TYPED(further)(lane[j], m, take_min) ? lane[j] : m;
            nan = TYPED(is_nan)(lane_nan[j]) ? lane_nan[j] : nan;
        }
    }
    for (; i < n; i++) {
        T x = p[i * s];
        m = TYPED(further)(x, m, take_min) ? x : m;
        nan = TYPED(is_nan)(x) ? x : nan;
    }
    *has_nan = TYPED(is_nan)(nan);
    return m;
}

/* The position of the first element (from p, s apart) that ties with m: equal to it under ==,
 * or (nan) the first NaN. One exists. */
ALWAYS_INLINE int64_t TYPED(first_tie)(const T *p, int64_t s, T m, bool nan)
{
    int64_t i = 0;
    if (nan)
        while (!TYPED(is_nan)(p[i * s])) i++;
    else
        while (p[i * s] != m) i++;
    return i;
}

/* The position of the first extreme of n >= 1 elements in one plain pass (short rows). */
ALWAYS_INLINE int64_t TYPED(first_extreme)(const T *p, int64_t n, int64_t s, bool take_min)
{
    T m = p[0];
    int64_t where = 0;
    for (int64_t i = 1; i < n; i++) {
        T x = p[i * s];
        bool take = TYPED(replaces)(x, m, take_min); /* selects, so the compiler need not branch */
        where = take ? i : where;
        m = take ? x : m;
    }
    return where;
}

/* max/min of a row of n >= 1 elements. Where the extreme is neither 0 nor NaN every tie has the
 * same bits, and the index (there `first`) is not looked for. */
ALWAYS_INLINE nbk_cpu_reduce_acc TYPED(extreme_row_of)(const T *p, int64_t n, int64_t s,
                                                       int64_t first, int64_t index_stride,
                                                       bool take_min)
{
    int64_t where;
    if (n < 2 * LANES) {
        where = TYPED(first_extreme)(p, n, s, take_min);
    } else {
        bool has_nan;
        const T m = TYPED(scan_extreme)(p, n, s, take_min, &has_nan);
        if (!has_nan && (!IS_FLOAT || m != 0)) return TYPED(acc_of)(&m, first);
        where = TYPED(first_tie)(p, s, m, has_nan); /* the second scan: ±0 or NaN */
    }
    return TYPED(acc_of)(p + where * s, first + where * index_stride);
}

/* argmax/argmin of a row of n >= 1 elements: chunks of ARG_CHUNK are scanned in lanes, and the
 * first position of a chunk's extreme is looked for only when it beats the best so far (still
 * in cache); the first NaN ends the search. */
ALWAYS_INLINE nbk_cpu_reduce_acc TYPED(arg_row_of)(const T *p, int64_t n, int64_t s,
                                                   int64_t first, int64_t index_stride,
                                                   bool take_min)
{
    int64_t where = 0;
    if (n < 2 * LANES) {
        where = TYPED(first_extreme)(p, n, s, take_min);
    } else {
        for (int64_t c = 0; c < n; c += ARG_CHUNK) {
            const T *q = p + c * s;
            const int64_t len = n - c < ARG_CHUNK ? n - c : ARG_CHUNK;
            bool has_nan;
            const T m = TYPED(scan_extreme)(q, len, s, take_min, &has_nan);
            if (has_nan) {
                where = c + TYPED(first_tie)(q, s, m, true);
                break; /* nothing beats the first NaN */
            }
            if (c > 0 && !TYPED(further)(m, p[where * s], take_min)) continue; /* ties stay */
            where = c + TYPED(first_tie)(q, s, m, false);
        }
    }
    return TYPED(acc_of)(p + where * s, first + where * index_stride);
}

/* ---------------------------------------------------------------- extremes of columns */

/* max/min of rows >= 1 input rows: each output keeps the first of its tied elements, as rows
 * come in the order of their indices. */
ALWAYS_INLINE void TYPED(extreme_cols_of)(const char *in, int64_t rs, int64_t rows, int64_t width,
                                          const nbk_reduce_plan *p, int64_t out_off, int64_t os,
                                          bool take_min)
{
    T acc[NBK_CPU_REDUCE_STRIP]; /* (width,) */
    const T *row0 = (const T *)in;
    for (int64_t j = 0; j < width; j++) acc[j] = row0[j];
    int64_t k = 1;
    for (; k + 4 <= rows; k += 4) {
        const T *r0 = (const T *)in + k * rs, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs;
        for (int64_t j = 0; j < width; j++) {
            T m = acc[j], x = r0[j];
            m = TYPED(replaces)(x, m, take_min) ? x : m;
            x = r1[j];
            m = TYPED(replaces)(x, m, take_min) ? x : m;
            x = r2[j];
            m = TYPED(replaces)(x, m, take_min) ? x : m;
            x = r3[j];
            acc[j] = TYPED(replaces)(x, m, take_min) ? x : m;
        }
    }
    for (; k < rows; k++) {
        const T *row = (const T *)in + k * rs;
        for (int64_t j = 0; j < width; j++) {
            T x = row[j];
            acc[j] = TYPED(replaces)(x, acc[j], take_min) ? x : acc[j];
        }
    }
    T *out = (T *)p->values + out_off;
    for (int64_t j = 0; j < width; j++) out[j * os] = acc[j];
}

/* One run of rows (at most COL_ROW_MAX) for arg_cols_of: each column's extreme among them and
 * its row within the run, the first of tied elements. */
ALWAYS_INLINE void TYPED(arg_cols_run)(const char *in, int64_t rs, int64_t rows, int64_t width,
                                       T *best, COL_ROW *where, bool take_min)
{
    const T *row0 = (const T *)in;
    for (int64_t j = 0; j < width; j++) best[j] = row0[j], where[j] = 0;
    int64_t k = 1;
    if (COL_VECTOR) {
        /* a row at a time, as selects stored whatever they choose, with row numbers of T's
         * width: the compiler vectorises the loop over the row */
        for (; k < rows; k++) {
            const T *row = (const T *)in + k * rs;
            const COL_ROW kk = (COL_ROW)k;
            for (int64_t j = 0; j < width; j++) {
                const T x = row[j], m = best[j];
                const COL_ROW w = where[j];
                const bool take = TYPED(replaces_branchless)(x, m, take_min);
                where[j] = take ? kk : w;
                best[j] = take ? x : m;
            }
        }
        return;
    }
    /* scalar: four rows at a time, which halves the traffic to best and where; the branches are
     * seldom taken (down a column the extreme changes rarely) */
    for (; k + 4 <= rows; k += 4) {
        const T *r0 = (const T *)in + k * rs, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs;
        for (int64_t j = 0; j < width; j++) {
            T m = best[j];
            COL_ROW w = where[j];
            if (TYPED(replaces)(r0[j], m, take_min)) m = r0[j], w = (COL_ROW)k;
            if (TYPED(replaces)(r1[j], m, take_min)) m = r1[j], w = (COL_ROW)(k + 1);
            if (TYPED(replaces)(r2[j], m, take_min)) m = r2[j], w = (COL_ROW)(k + 2);
            if (TYPED(replaces)(r3[j], m, take_min)) m = r3[j], w = (COL_ROW)(k + 3);
            best[j] = m, where[j] = w;
        }
    }
    for (; k < rows; k++) {
        const T *row = (const T *)in + k * rs;
        for (int64_t j = 0; j < width; j++)
            if (TYPED(replaces)(row[j], best[j], take_min))
                best[j] = row[j], where[j] = (COL_ROW)k;
    }
}

/* argmax/argmin of rows >= 1 input rows, run by run; the outputs' indices hold each one's row
 * until the end. Values are written too when the plan asks for them (max_dim, min_dim). */
ALWAYS_INLINE void TYPED(arg_cols_of)(const char *in, int64_t rs, int64_t rows, int64_t width,
                                      const nbk_reduce_plan *p, int64_t out_off, int64_t os,
                                      bool take_min)
{
    T best[NBK_CPU_REDUCE_STRIP];        /* (width,) */
    COL_ROW where[NBK_CPU_REDUCE_STRIP]; /* (width,) */
    const T *first = (const T *)in;
    int64_t *at = p->indices + out_off; /* (width,) stride os: rows, then indices */
    for (int64_t start = 0; start < rows; start += COL_ROW_MAX) {
        const int64_t n = rows - start < COL_ROW_MAX ? rows - start : COL_ROW_MAX;
        const char *run = in + start * rs * (int64_t)sizeof(T);
        TYPED(arg_cols_run)(run, rs, n, width, best, where, take_min);
        for (int64_t j = 0; j < width; j++) {
            if (start == 0) {
                at[j * os] = where[j];
            } else { /* a later run's extreme replaces the earlier one only by the rule */
                const T earlier = first[at[j * os] * rs + j];
                if (TYPED(replaces)(best[j], earlier, take_min)) at[j * os] = start + where[j];
            }
        }
    }
    const int64_t index_stride = p->red_index_strides[0];
    T *values = p->values ? (T *)p->values + out_off : NULL;
    for (int64_t j = 0; j < width; j++) {
        const int64_t row = at[j * os];
        at[j * os] = row * index_stride;
        if (values) values[j * os] = first[row * rs + j];
    }
}

/* ---------------------------------------------------------------- store */

/* Writes acc as output out_off of p: a sum rounded once (a mean divided first), an extreme as
 * its element's own bits. Inlined where op is a constant. */
ALWAYS_INLINE void TYPED(store_of)(nbk_reduce_op op, const nbk_reduce_plan *p, int64_t out_off,
                                   const nbk_cpu_reduce_acc *acc)
{
    if (op == NBK_REDUCE_ARGMAX || op == NBK_REDUCE_ARGMIN) {
        p->indices[out_off] = acc->index;
        if (!p->values) return;
    }
    if (op == NBK_REDUCE_SUM) {
#if IS_FLOAT
        ((T *)p->values)[out_off] = (T)(acc->f / p->divisor);
#else
        ((int64_t *)p->values)[out_off] = (int64_t)acc->u;
#endif
        return;
    }
    const BITS bits = (BITS)acc->bits;
    memcpy((char *)p->values + out_off * (int64_t)sizeof(T), &bits, sizeof bits);
}

/* ---------------------------------------------------------------- per op */

/* One row's partial result for op (a constant where inlined). */
ALWAYS_INLINE nbk_cpu_reduce_acc TYPED(row_of)(nbk_reduce_op op, const char *row, int64_t n,
                                               int64_t s, int64_t first, int64_t index_stride)
{
    const T *p = (const T *)row;
    switch (op) {
    case NBK_REDUCE_SUM: return TYPED(sum_row_of)(p, n, s);
    case NBK_REDUCE_MAX: return TYPED(extreme_row_of)(p, n, s, first, index_stride, false);
    case NBK_REDUCE_MIN: return TYPED(extreme_row_of)(p, n, s, first, index_stride, true);
    case NBK_REDUCE_ARGMAX: return TYPED(arg_row_of)(p, n, s, first, index_stride, false);
    case NBK_REDUCE_ARGMIN: return TYPED(arg_row_of)(p, n, s, first, index_stride, true);
    }
    return (nbk_cpu_reduce_acc){0};
}

/* count outputs, each the reduction of its own row of n elements (stride rs); row r starts
 * r·step elements after in and is written at out_off + r·out_step. */
ALWAYS_INLINE void TYPED(rows_of)(nbk_reduce_op op, const char *in, int64_t n, int64_t rs,
                                  int64_t count, int64_t step, const nbk_reduce_plan *p,
                                  int64_t out_off, int64_t out_step)
{
    const int64_t index_stride = p->red_index_strides[0];
    for (int64_t r = 0; r < count; r++) {
        const char *row = in + r * step * (int64_t)sizeof(T);
        nbk_cpu_reduce_acc acc = TYPED(row_of)(op, row, n, rs, 0, index_stride);
        TYPED(store_of)(op, p, out_off + r * out_step, &acc);
    }
}

ALWAYS_INLINE void TYPED(cols_of)(nbk_reduce_op op, const char *in, int64_t rs, int64_t rows,
                                  int64_t width, const nbk_reduce_plan *p, int64_t out_off,
                                  int64_t os)
{
    switch (op) {
    case NBK_REDUCE_SUM: TYPED(sum_cols_of)(in, rs, rows, width, p, out_off, os); return;
    case NBK_REDUCE_MAX: TYPED(extreme_cols_of)(in, rs, rows, width, p, out_off, os, false); return;
    case NBK_REDUCE_MIN: TYPED(extreme_cols_of)(in, rs, rows, width, p, out_off, os, true); return;
    case NBK_REDUCE_ARGMAX: TYPED(arg_cols_of)(in, rs, rows, width, p, out_off, os, false); return;
    case NBK_REDUCE_ARGMIN: TYPED(arg_cols_of)(in, rs, rows, width, p, out_off, os, true); return;
    }
}

/* ---------------------------------------------------------------- the table's entries */

static nbk_cpu_reduce_acc TYPED(sum_row)(const char *row, int64_t n, int64_t s, int64_t first,
                                         int64_t index_stride)
{
    return TYPED(row_of)(NBK_REDUCE_SUM, row, n, s, first, index_stride);
}
static nbk_cpu_reduce_acc TYPED(max_row)(const char *row, int64_t n, int64_t s, int64_t first,
                                         int64_t index_stride)
{
    return TYPED(row_of)(NBK_REDUCE_MAX, row, n, s, first, index_stride);
}
static nbk_cpu_reduce_acc TYPED(min_row)(const char *row, int64_t n, int64_t s, int64_t first,
                                         int64_t index_stride)
{
    return TYPED(row_of)(NBK_REDUCE_MIN, row, n, s, first, index_stride);
}
static nbk_cpu_reduce_acc TYPED(argmax_row)(const char *row, int64_t n, int64_t s, int64_t first,
                                            int64_t index_stride)
{
    return TYPED(row_of)(NBK_REDUCE_ARGMAX, row, n, s, first, index_stride);
}
static nbk_cpu_reduce_acc TYPED(argmin_row)(const char *row, int64_t n, int64_t s, int64_t first,
                                            int64_t index_stride)
{
    return TYPED(row_of)(NBK_REDUCE_ARGMIN, row, n, s, first, index_stride);
}

static void TYPED(sum_rows)(const char *in, int64_t n, int64_t rs, int64_t count, int64_t step,
                            const nbk_reduce_plan *p, int64_t out_off, int64_t out_step)
{
    TYPED(rows_of)(NBK_REDUCE_SUM, in, n, rs, count, step, p, out_off, out_step);
}
static void TYPED(max_rows)(const char *in, int64_t n, int64_t rs, int64_t count, int64_t step,
                            const nbk_reduce_plan *p, int64_t out_off, int64_t out_step)
{
    TYPED(rows_of)(NBK_REDUCE_MAX, in, n, rs, count, step, p, out_off, out_step);
}
static void TYPED(min_rows)(const char *in, int64_t n, int64_t rs, int64_t count, int64_t step,
                            const nbk_reduce_plan *p, int64_t out_off, int64_t out_step)
{
    TYPED(rows_of)(NBK_REDUCE_MIN, in, n, rs, count, step, p, out_off, out_step);
}
static void TYPED(argmax_rows)(const char *in, int64_t n, int64_t rs, int64_t count, int64_t step,
                               const nbk_reduce_plan *p, int64_t out_off, int64_t out_step)
{
    TYPED(rows_of)(NBK_REDUCE_ARGMAX, in, n, rs, count, step, p, out_off, out_step);
}
static void TYPED(argmin_rows)(const char *in, int64_t n, int64_t rs, int64_t count, int64_t step,
                               const nbk_reduce_plan *p, int64_t out_off, int64_t out_step)
{
    TYPED(rows_of)(NBK_REDUCE_ARGMIN, in, n, rs, count, step, p, out_off, out_step);
}

static void TYPED(sum_cols)(const char *in, int64_t rs, int64_t rows, int64_t width,
                            const nbk_reduce_plan *p, int64_t out_off, int64_t os)
{
    TYPED(cols_of)(NBK_REDUCE_SUM, in, rs, rows, width, p, out_off, os);
}
static void TYPED(max_cols)(const char *in, int64_t rs, int64_t rows, int64_t width,
                            const nbk_reduce_plan *p, int64_t out_off, int64_t os)
{
    TYPED(cols_of)(NBK_REDUCE_MAX, in, rs, rows, width, p, out_off, os);
}
static void TYPED(min_cols)(const char *in, int64_t rs, int64_t rows, int64_t width,
                            const nbk_reduce_plan *p, int64_t out_off, int64_t os)
{
    TYPED(cols_of)(NBK_REDUCE_MIN, in, rs, rows, width, p, out_off, os);
}
static void TYPED(argmax_cols)(const char *in, int64_t rs, int64_t rows, int64_t width,
                               const nbk_reduce_plan *p, int64_t out_off, int64_t os)
{
    TYPED(cols_of)(NBK_REDUCE_ARGMAX, in, rs, rows, width, p, out_off, os);
}
static void TYPED(argmin_cols)(const char *in, int64_t rs, int64_t rows, int64_t width,
                               const nbk_reduce_plan *p, int64_t out_off, int64_t os)
{
    TYPED(cols_of)(NBK_REDUCE_ARGMIN, in, rs, rows, width, p, out_off, os);
}

static void TYPED(store)(nbk_reduce_op op, const nbk_reduce_plan *p, int64_t out_off,
                         const nbk_cpu_reduce_acc *acc)
{
    TYPED(store_of)(op, p, out_off, acc);
}

#undef T
#undef SFX
#undef IS_FLOAT
#undef BITS
#undef SUM_ACC
#undef COL_VECTOR
#undef COL_ROW
#undef COL_ROW_MAX
