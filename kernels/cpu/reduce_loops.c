/* reduce_loops.c — the typed loops of the CPU reductions, for each op and input dtype:
 *  - row loops: the partial result of one (contiguous or strided) row. Sums and extremes keep
 *    LANES independent partial results so the compiler can vectorise them and additions do not
 *    wait on each other; argmax/argmin find each chunk's extreme that way, then its first
 *    position;
 *  - many-rows loops: a run of outputs that each reduce their own row, with the row loop
 *    inlined (short rows, such as the 10 logits of each of 64 samples, cost little);
 *  - column loops: fold whole contiguous input rows into a strip of per-output accumulators
 *    (column sums of a row-major matrix), reading memory in order;
 *  - store: a partial result written as the output dtype (the mean divides here).
 * The DEFINE_* macros stamp out one function per dtype; ACC is the accumulator type (float64
 * for float32 sums, uint64 for integer sums so overflow wraps without undefined behaviour). */
#include "reduce_loops.h"

#include <math.h>

/* Row loops keep LANES partial results, updated LANES elements at a time: the inner loop over
 * the lanes is what the compiler vectorises. Sums keep fewer, in float64, to stay in registers. */
#define LANES 32
#define SUM_LANES 16
/* argmax/argmin scan a row in chunks of this many elements, looking for the first position of
 * a chunk's extreme only when it beats the best so far (one pass; the chunk is still in cache). */
#define ARG_CHUNK 1024

typedef float f32;
typedef double f64;
typedef int64_t i64;
typedef bool b8;

#define FLOAT_NAN(x) ((x) != (x))
#define NEVER_NAN(x) false
#define GT(a, b) ((a) > (b))
#define LT(a, b) ((a) < (b))
/* x replaces the extreme m: further, or the first NaN (a NaN stays) */
#define TAKES(CMP, ISNAN, x, m) (CMP(x, m) || (ISNAN(x) && !ISNAN(m)))
/* m, w = x, i when x replaces m; written as selects so the compiler need not branch */
#define TAKE_AT(CMP, ISNAN, x, m, w, i)                                                            \
    do {                                                                                           \
        bool take_ = TAKES(CMP, ISNAN, x, m);                                                      \
        (w) = take_ ? (i) : (w);                                                                   \
        (m) = take_ ? (x) : (m);                                                                   \
    } while (0)

/* ---------------------------------------------------------------- row loops */

#define DEFINE_SUM_ROW(T, ACC, FIELD)                                                              \
    static nbk_cpu_reduce_acc sum_row_##T(const char *base, int64_t n, int64_t s, int64_t first,    \
                                         int64_t index_stride)                                     \
    {                                                                                              \
        (void)first, (void)index_stride;                                                           \
        const T *p = (const T *)base;                                                              \
        ACC total = 0;                                                                             \
        int64_t i = 0;                                                                             \
        if (n >= 2 * SUM_LANES) {                                                                  \
            ACC lane[SUM_LANES] = {0};                                                             \
            if (s == 1) {                                                                          \
                for (; i + SUM_LANES <= n; i += SUM_LANES) {                                       \
                    const T *q = p + i;                                                            \
                    for (int j = 0; j < SUM_LANES; j++) lane[j] += (ACC)q[j];                      \
                }                                                                                  \
            } else {                                                                               \
                for (; i + SUM_LANES <= n; i += SUM_LANES) {                                       \
                    const T *q = p + i * s;                                                        \
                    for (int j = 0; j < SUM_LANES; j++) lane[j] += (ACC)q[j * s];                  \
                }                                                                                  \
            }                                                                                      \
            for (int w = SUM_LANES / 2; w > 0; w /= 2) /* pairwise */                              \
                for (int j = 0; j < w; j++) lane[j] += lane[j + w];                                \
            total = lane[0];                                                                       \
        }                                                                                          \
        for (; i < n; i++) total += (ACC)p[i * s];                                                 \
        return (nbk_cpu_reduce_acc){.FIELD = total, .any = true};                                   \
    }

/* The extreme of n >= 1 elements (CMP(x, m): x replaces m) and whether any is NaN. */
#define DEFINE_EXTREME_SCAN(NAME, T, CMP, ISNAN)                                                   \
    static T NAME##_scan_##T(const T *p, int64_t n, int64_t s, bool *has_nan)                      \
    {                                                                                              \
        T m = p[0], nan = 0; /* nan: a NaN once one is seen */                                     \
        int64_t i = 0;                                                                             \
        if (n >= 2 * LANES) {                                                                      \
            T lane[LANES], lane_nan[LANES];                                                        \
            for (int j = 0; j < LANES; j++) lane[j] = p[0], lane_nan[j] = 0;                       \
            for (; i + LANES <= n; i += LANES) {                                                   \
                const T *q = p + i * s;                                                            \
                if (s == 1) {                                                                      \
                    for (int j = 0; j < LANES; j++) {                                              \
                        T x = q[j];                                                                \
                        lane[j] = CMP(x, lane[j]) ? x : lane[j];                                   \
                        lane_nan[j] = ISNAN(x) ? x : lane_nan[j];                                  \
                    }                                                                              \
                } else {                                                                           \
                    for (int j = 0; j < LANES; j++) {                                              \
                        T x = q[j * s];                                                            \
                        lane[j] = CMP(x, lane[j]) ? x : lane[j];                                   \
                        lane_nan[j] = ISNAN(x) ? x : lane_nan[j];                                  \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
            for (int j = 0; j < LANES; j++) {                                                      \
                m = CMP(lane[j], m) ? lane[j] : m;                                                 \
                nan = ISNAN(lane_nan[j]) ? lane_nan[j] : nan;                                      \
            }                                                                                      \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            T x = p[i * s];                                                                        \
            m = CMP(x, m) ? x : m;                                                                 \
            nan = ISNAN(x) ? x : nan;                                                              \
        }                                                                                          \
        *has_nan = ISNAN(nan);                                                                     \
        return m;                                                                                  \
    }

/* max/min values: the extreme, or NaN when there is one */
#define DEFINE_EXTREME_ROW(NAME, T, FIELD, NANV)                                                   \
    static nbk_cpu_reduce_acc NAME##_row_##T(const char *base, int64_t n, int64_t s, int64_t first, \
                                            int64_t index_stride)                                  \
    {                                                                                              \
        (void)first, (void)index_stride;                                                           \
        bool has_nan;                                                                              \
        T m = NAME##_scan_##T((const T *)base, n, s, &has_nan);                                    \
        return (nbk_cpu_reduce_acc){.FIELD = has_nan ? NANV : m, .any = true};                      \
    }

/* argmax/argmin: the first position of the extreme, or of the first NaN */
#define DEFINE_ARG_ROW(NAME, T, FIELD, CMP, ISNAN)                                                 \
    static nbk_cpu_reduce_acc arg##NAME##_row_##T(const char *base, int64_t n, int64_t s,           \
                                                 int64_t first, int64_t index_stride)              \
    {                                                                                              \
        const T *p = (const T *)base;                                                              \
        T best = p[0];                                                                             \
        int64_t where = 0;                                                                         \
        if (n < 2 * LANES) { /* short: one plain pass */                                           \
            for (int64_t i = 1; i < n; i++) {                                                      \
                T x = p[i * s];                                                                    \
                TAKE_AT(CMP, ISNAN, x, best, where, i);                                            \
            }                                                                                      \
            return (nbk_cpu_reduce_acc){                                                            \
                .FIELD = best, .index = first + where * index_stride, .any = true};                \
        }                                                                                          \
        for (int64_t c = 0; c < n; c += ARG_CHUNK) {                                               \
            const T *q = p + c * s;                                                                \
            const int64_t len = n - c < ARG_CHUNK ? n - c : ARG_CHUNK;                             \
            bool has_nan;                                                                          \
            T m = NAME##_scan_##T(q, len, s, &has_nan);                                            \
            int64_t i = 0;                                                                         \
            if (has_nan) {                                                                         \
                while (!ISNAN(q[i * s])) i++;                                                      \
                best = q[i * s], where = c + i;                                                    \
                break; /* nothing beats the first NaN */                                           \
            }                                                                                      \
            if (c > 0 && !CMP(m, best)) continue;                                                  \
            while (q[i * s] != m) i++;                                                             \
            best = m, where = c + i;                                                               \
        }                                                                                          \
        return (nbk_cpu_reduce_acc){                                                                \
            .FIELD = best, .index = first + where * index_stride, .any = true};                    \
    }

/* ---------------------------------------------------------------- store */

/* Writes acc as output out_off of p (the mean divides here). Inlined into the typed loops below,
 * where op and dtype are constants. */
static inline void store(nbk_reduce_op op, nb_dtype dtype, const nbk_reduce_plan *p,
                         int64_t out_off, const nbk_cpu_reduce_acc *acc)
{
    if (op == NBK_REDUCE_ARGMAX || op == NBK_REDUCE_ARGMIN) {
        p->indices[out_off] = acc->index;
        if (!p->values) return;
    }
    if (op == NBK_REDUCE_SUM) {
        switch (dtype) {
        case NB_FLOAT32: ((float *)p->values)[out_off] = (float)(acc->f / p->divisor); return;
        case NB_FLOAT64: ((double *)p->values)[out_off] = acc->f / p->divisor; return;
        case NB_INT64:
        case NB_BOOL: ((int64_t *)p->values)[out_off] = (int64_t)acc->u; return;
        }
        return;
    }
    switch (dtype) {
    case NB_FLOAT32: ((float *)p->values)[out_off] = (float)acc->f; return;
    case NB_FLOAT64: ((double *)p->values)[out_off] = acc->f; return;
    case NB_INT64: ((int64_t *)p->values)[out_off] = acc->i; return;
    case NB_BOOL: ((bool *)p->values)[out_off] = acc->i != 0; return;
    }
}

void nbk_cpu_reduce_store(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p,
                         int64_t out_off, const nbk_cpu_reduce_acc *acc)
{
    store(k->op, k->dtype, p, out_off, acc);
}

/* ---------------------------------------------------------------- many rows */

/* count outputs, each the reduction of its own row of n elements (stride rs); row r starts
 * r·step elements after in and is written at out_off + r·out_step. The row loop is inlined, so
 * short rows cost a few cycles each. */
#define DEFINE_ROWS(NAME, T, OP, DTYPE)                                                            \
    static void NAME##_rows_##T(const char *in, int64_t n, int64_t rs, int64_t count,              \
                                int64_t step, const nbk_reduce_plan *p, int64_t out_off,        \
                                int64_t out_step)                                                  \
    {                                                                                              \
        for (int64_t r = 0; r < count; r++) {                                                      \
            nbk_cpu_reduce_acc acc =                                                                \
                NAME##_row_##T(in + r * step * (int64_t)sizeof(T), n, rs, 0, 1);                   \
            store(OP, DTYPE, p, out_off + r * out_step, &acc);                                     \
        }                                                                                          \
    }

/* ---------------------------------------------------------------- column loops */

/* Rows are folded four at a time, which halves the accumulator traffic. */
#define DEFINE_SUM_COLS(T, ACC, DTYPE)                                                             \
    static void sum_cols_##T(const char *in, int64_t rs, int64_t rows, int64_t width,              \
                             const nbk_reduce_plan *p, int64_t out_off, int64_t os)             \
    {                                                                                              \
        ACC acc[NBK_CPU_REDUCE_STRIP] = {0}; /* (width,) */                                         \
        int64_t k = 0;                                                                             \
        for (; k + 4 <= rows; k += 4) {                                                            \
            const T *r0 = (const T *)in + k * rs, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs;     \
            for (int64_t j = 0; j < width; j++)                                                    \
                acc[j] += ((ACC)r0[j] + (ACC)r1[j]) + ((ACC)r2[j] + (ACC)r3[j]);                   \
        }                                                                                          \
        for (; k < rows; k++) {                                                                    \
            const T *row = (const T *)in + k * rs;                                                 \
            for (int64_t j = 0; j < width; j++) acc[j] += (ACC)row[j];                             \
        }                                                                                          \
        for (int64_t j = 0; j < width; j++) {                                                      \
            nbk_cpu_reduce_acc a = {.f = (double)acc[j], .u = (uint64_t)acc[j], .any = true};       \
            store(NBK_REDUCE_SUM, DTYPE, p, out_off + j * os, &a);                              \
        }                                                                                          \
    }

/* rows >= 1 */
#define DEFINE_EXTREME_COLS(NAME, T, CMP, ISNAN)                                                   \
    static void NAME##_cols_##T(const char *in, int64_t rs, int64_t rows, int64_t width,           \
                                const nbk_reduce_plan *p, int64_t out_off, int64_t os)          \
    {                                                                                              \
        T acc[NBK_CPU_REDUCE_STRIP]; /* (width,) */                                                 \
        const T *row0 = (const T *)in;                                                             \
        for (int64_t j = 0; j < width; j++) acc[j] = row0[j];                                      \
        int64_t k = 1;                                                                             \
        for (; k + 4 <= rows; k += 4) {                                                            \
            const T *r0 = (const T *)in + k * rs, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs;     \
            for (int64_t j = 0; j < width; j++) {                                                  \
                T m = acc[j], x = r0[j];                                                           \
                m = TAKES(CMP, ISNAN, x, m) ? x : m;                                               \
                x = r1[j];                                                                         \
                m = TAKES(CMP, ISNAN, x, m) ? x : m;                                               \
                x = r2[j];                                                                         \
                m = TAKES(CMP, ISNAN, x, m) ? x : m;                                               \
                x = r3[j];                                                                         \
                acc[j] = TAKES(CMP, ISNAN, x, m) ? x : m;                                          \
            }                                                                                      \
        }                                                                                          \
        for (; k < rows; k++) {                                                                    \
            const T *row = (const T *)in + k * rs;                                                 \
            for (int64_t j = 0; j < width; j++) {                                                  \
                T x = row[j];                                                                      \
                acc[j] = TAKES(CMP, ISNAN, x, acc[j]) ? x : acc[j];                                \
            }                                                                                      \
        }                                                                                          \
        T *out = (T *)p->values + out_off;                                                         \
        for (int64_t j = 0; j < width; j++) out[j * os] = acc[j];                                  \
    }

/* rows >= 1; values are written too when the plan asks for them (max_dim, min_dim) */
#define DEFINE_ARG_COLS(NAME, T, CMP, ISNAN)                                                       \
    static void arg##NAME##_cols_##T(const char *in, int64_t rs, int64_t rows, int64_t width,      \
                                     const nbk_reduce_plan *p, int64_t out_off, int64_t os)     \
    {                                                                                              \
        T best[NBK_CPU_REDUCE_STRIP];        /* (width,) */                                         \
        int64_t where[NBK_CPU_REDUCE_STRIP]; /* (width,) */                                         \
        const T *row0 = (const T *)in;                                                             \
        for (int64_t j = 0; j < width; j++) best[j] = row0[j], where[j] = 0;                       \
        int64_t k = 1;                                                                             \
        for (; k + 4 <= rows; k += 4) {                                                            \
            const T *r0 = (const T *)in + k * rs, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs;     \
            for (int64_t j = 0; j < width; j++) {                                                  \
                T m = best[j], x = r0[j];                                                          \
                int64_t w = where[j];                                                              \
                TAKE_AT(CMP, ISNAN, x, m, w, k);                                                   \
                x = r1[j];                                                                         \
                TAKE_AT(CMP, ISNAN, x, m, w, k + 1);                                               \
                x = r2[j];                                                                         \
                TAKE_AT(CMP, ISNAN, x, m, w, k + 2);                                               \
                x = r3[j];                                                                         \
                TAKE_AT(CMP, ISNAN, x, m, w, k + 3);                                               \
                best[j] = m, where[j] = w;                                                         \
            }                                                                                      \
        }                                                                                          \
        for (; k < rows; k++) {                                                                    \
            const T *row = (const T *)in + k * rs;                                                 \
            for (int64_t j = 0; j < width; j++) {                                                  \
                T x = row[j];                                                                      \
                TAKE_AT(CMP, ISNAN, x, best[j], where[j], k);                                      \
            }                                                                                      \
        }                                                                                          \
        for (int64_t j = 0; j < width; j++) p->indices[out_off + j * os] = where[j];               \
        if (!p->values) return;                                                                    \
        T *out = (T *)p->values + out_off;                                                         \
        for (int64_t j = 0; j < width; j++) out[j * os] = best[j];                                 \
    }

/* ---------------------------------------------------------------- the functions, per dtype */

DEFINE_SUM_ROW(f32, double, f)
DEFINE_SUM_ROW(f64, double, f)
DEFINE_SUM_ROW(i64, uint64_t, u)
DEFINE_SUM_ROW(b8, uint64_t, u)

DEFINE_SUM_COLS(f32, double, NB_FLOAT32)
DEFINE_SUM_COLS(f64, double, NB_FLOAT64)
DEFINE_SUM_COLS(i64, uint64_t, NB_INT64)
DEFINE_SUM_COLS(b8, uint64_t, NB_BOOL)

#define DEFINE_EXTREMES(T, DTYPE, ISNAN, FIELD, NANV)                                              \
    DEFINE_EXTREME_SCAN(max, T, GT, ISNAN)                                                         \
    DEFINE_EXTREME_SCAN(min, T, LT, ISNAN)                                                         \
    DEFINE_EXTREME_ROW(max, T, FIELD, NANV)                                                        \
    DEFINE_EXTREME_ROW(min, T, FIELD, NANV)                                                        \
    DEFINE_ARG_ROW(max, T, FIELD, GT, ISNAN)                                                       \
    DEFINE_ARG_ROW(min, T, FIELD, LT, ISNAN)                                                       \
    DEFINE_EXTREME_COLS(max, T, GT, ISNAN)                                                         \
    DEFINE_EXTREME_COLS(min, T, LT, ISNAN)                                                         \
    DEFINE_ARG_COLS(max, T, GT, ISNAN)                                                             \
    DEFINE_ARG_COLS(min, T, LT, ISNAN)                                                             \
    DEFINE_ROWS(sum, T, NBK_REDUCE_SUM, DTYPE)                                                  \
    DEFINE_ROWS(max, T, NBK_REDUCE_MAX, DTYPE)                                                  \
    DEFINE_ROWS(min, T, NBK_REDUCE_MIN, DTYPE)                                                  \
    DEFINE_ROWS(argmax, T, NBK_REDUCE_ARGMAX, DTYPE)                                            \
    DEFINE_ROWS(argmin, T, NBK_REDUCE_ARGMIN, DTYPE)

DEFINE_EXTREMES(f32, NB_FLOAT32, FLOAT_NAN, f, NAN)
DEFINE_EXTREMES(f64, NB_FLOAT64, FLOAT_NAN, f, NAN)
DEFINE_EXTREMES(i64, NB_INT64, NEVER_NAN, i, 0)
DEFINE_EXTREMES(b8, NB_BOOL, NEVER_NAN, i, 0)

#define PER_DTYPE(NAME, KIND)                                                                      \
    {NAME##_##KIND##_f32, NAME##_##KIND##_f64, NAME##_##KIND##_i64, NAME##_##KIND##_b8}
#define PER_OP(KIND)                                                                               \
    {PER_DTYPE(sum, KIND), PER_DTYPE(max, KIND), PER_DTYPE(min, KIND), PER_DTYPE(argmax, KIND),    \
     PER_DTYPE(argmin, KIND)}

/* [op][dtype], in the order of nbk_reduce_op and nb_dtype */
static const nbk_cpu_reduce_row_fn row_fns[][NB_DTYPE_COUNT] = PER_OP(row);
static const nbk_cpu_reduce_rows_fn rows_fns[][NB_DTYPE_COUNT] = PER_OP(rows);
static const nbk_cpu_reduce_cols_fn col_fns[][NB_DTYPE_COUNT] = PER_OP(cols);

void nbk_cpu_reduce_kernel_for(nbk_reduce_op op, nb_dtype dtype, nbk_cpu_reduce_kernel *k)
{
    k->op = op;
    k->dtype = dtype;
    k->esize = dtype == NB_BOOL ? 1 : dtype == NB_FLOAT32 ? 4 : 8;
    k->is_float = dtype == NB_FLOAT32 || dtype == NB_FLOAT64;
    k->row = row_fns[op][dtype];
    k->rows = rows_fns[op][dtype];
    k->cols = col_fns[op][dtype];
}
