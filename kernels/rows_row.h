/* rows_row.h — the work of one row (or one element) of the ops of kernels/rows.h, written once
 * in plain C for every device: the CPU's loops (kernels/cpu/rows.c) and the CUDA kernels
 * (kernels/cuda/rows.cu, where each is __host__ __device__) call the same functions, so the
 * devices agree bit for bit and the GPU's per-thread work is the code the CPU suites run. */
#ifndef NB_KERNELS_ROWS_ROW_H
#define NB_KERNELS_ROWS_ROW_H

#include "rows.h"

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define NBK_ROWS_FN __host__ __device__ static inline
#else
#define NBK_ROWS_FN static inline
#endif

/* Element i of a float32 or float64 array, as a double (exact). */
NBK_ROWS_FN double nbk_rows_float(const void *p, nb_dtype dt, int64_t i)
{
    return dt == NB_FLOAT32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}
/* Element i of an int64 or bool array, as an int64. */
NBK_ROWS_FN int64_t nbk_rows_int(const void *p, nb_dtype dt, int64_t i)
{
    return dt == NB_BOOL ? (int64_t)((const bool *)p)[i] : ((const int64_t *)p)[i];
}
NBK_ROWS_FN int64_t nbk_rows_esize(nb_dtype dt)
{
    return dt == NB_BOOL ? 1 : dt == NB_FLOAT16 || dt == NB_BFLOAT16 ? 2 : dt == NB_FLOAT32 ? 4 : 8;
}
NBK_ROWS_FN bool nbk_rows_is_float(nb_dtype dt) { return dt == NB_FLOAT32 || dt == NB_FLOAT64; }
NBK_ROWS_FN void nbk_rows_put_float(void *p, nb_dtype dt, int64_t i, double v)
{
    if (dt == NB_FLOAT32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/* The product of row r, in order from its first element. */
NBK_ROWS_FN void nbk_rows_prod(const nbk_rows_args *a, int64_t r)
{
    const int64_t base = r * a->n;
    if (nbk_rows_is_float(a->dtype)) {
        double acc = 1.0;
        for (int64_t i = 0; i < a->n; i++) acc *= nbk_rows_float(a->in, a->dtype, base + i);
        nbk_rows_put_float(a->out, a->dtype, r, acc);
    } else {
        uint64_t acc = 1; /* wraps as int64 multiplication does in two's complement */
        for (int64_t i = 0; i < a->n; i++) acc *= (uint64_t)nbk_rows_int(a->in, a->dtype, base + i);
        ((int64_t *)a->out)[r] = (int64_t)acc;
    }
}

/* For each element of row r, the product of the others (floats): the row's product divided by
 * it where no element is 0; otherwise 0 everywhere but at a lone zero, which gets the product
 * of the rest. */
NBK_ROWS_FN void nbk_rows_prod_others(const nbk_rows_args *a, int64_t r)
{
    const int64_t base = r * a->n;
    double nonzero = 1.0; /* the product of the nonzero elements */
    int64_t zeros = 0, zero_at = -1;
    for (int64_t i = 0; i < a->n; i++) {
        const double x = nbk_rows_float(a->in, a->dtype, base + i);
        if (x == 0.0) {
            if (zeros++ == 0) zero_at = i;
        } else {
            nonzero *= x;
        }
    }
    for (int64_t i = 0; i < a->n; i++) {
        double v = 0.0;
        if (zeros == 0)
            v = nonzero / nbk_rows_float(a->in, a->dtype, base + i);
        else if (zeros == 1 && i == zero_at)
            v = nonzero;
        nbk_rows_put_float(a->out, a->dtype, base + i, v);
    }
}

/* The running sum along row r. */
NBK_ROWS_FN void nbk_rows_cumsum(const nbk_rows_args *a, int64_t r)
{
    const int64_t base = r * a->n;
    if (nbk_rows_is_float(a->dtype)) {
        double acc = 0.0;
        for (int64_t i = 0; i < a->n; i++) {
            acc += nbk_rows_float(a->in, a->dtype, base + i);
            nbk_rows_put_float(a->out, a->dtype, base + i, acc);
        }
    } else {
        uint64_t acc = 0;
        for (int64_t i = 0; i < a->n; i++) {
            acc += (uint64_t)nbk_rows_int(a->in, a->dtype, base + i);
            ((int64_t *)a->out)[base + i] = (int64_t)acc;
        }
    }
}

/* log(sum(exp(x))) of row r, its maximum taken out first (kernels/rows.h). */
NBK_ROWS_FN void nbk_rows_logsumexp(const nbk_rows_args *a, int64_t r)
{
    const int64_t base = r * a->n;
    double m = -INFINITY;
    bool nan = false;
    for (int64_t i = 0; i < a->n; i++) {
        const double x = nbk_rows_float(a->in, a->dtype, base + i);
        nan = nan || x != x;
        m = x > m ? x : m;
    }
    const double shift = m == INFINITY || m == -INFINITY ? 0.0 : m;
    double s = 0.0;
    for (int64_t i = 0; i < a->n; i++) s += exp(nbk_rows_float(a->in, a->dtype, base + i) - shift);
    nbk_rows_put_float(a->out, a->dtype, r, nan ? NAN : log(s) + shift);
}

/* The variance of row r: the mean, then the squared deviations from it (kernels/rows.h). */
NBK_ROWS_FN void nbk_rows_var(const nbk_rows_args *a, int64_t r)
{
    const int64_t base = r * a->n;
    double s = 0.0;
    for (int64_t i = 0; i < a->n; i++) s += nbk_rows_float(a->in, a->dtype, base + i);
    const double mean = s / (double)a->n;
    double ss = 0.0;
    for (int64_t i = 0; i < a->n; i++) {
        const double d = nbk_rows_float(a->in, a->dtype, base + i) - mean;
        ss += d * d;
    }
    const double divisor = (double)a->n - a->correction;
    nbk_rows_put_float(a->out, a->dtype, r, ss / (divisor > 0.0 ? divisor : 0.0));
}

/* True when element i of the row at `row` sorts before element j (i != j): by value in the
 * sort's direction, NaN largest, equal values by index. */
NBK_ROWS_FN bool nbk_sort_before(const nbk_sort_args *a, const void *row, int64_t i, int64_t j)
{
    int c; /* -1: x_i < x_j, 0: equal, 1: x_i > x_j */
    if (nbk_rows_is_float(a->dtype)) {
        const double x = nbk_rows_float(row, a->dtype, i), y = nbk_rows_float(row, a->dtype, j);
        const bool xn = x != x, yn = y != y;
        if (xn || yn)
            c = xn && yn ? 0 : (xn ? 1 : -1);
        else
            c = x < y ? -1 : (x > y ? 1 : 0);
    } else {
        const int64_t x = nbk_rows_int(row, a->dtype, i), y = nbk_rows_int(row, a->dtype, j);
        c = x < y ? -1 : (x > y ? 1 : 0);
    }
    if (c == 0) return i < j;
    return a->descending ? c > 0 : c < 0;
}

/* Where element i of row r lands in its sorted row: how many elements sort before it. */
NBK_ROWS_FN int64_t nbk_sort_rank(const nbk_sort_args *a, int64_t r, int64_t i)
{
    const char *row = (const char *)a->in + r * a->n * nbk_rows_esize(a->dtype);
    int64_t rank = 0;
    for (int64_t j = 0; j < a->n; j++) rank += j != i && nbk_sort_before(a, row, j, i);
    return rank;
}

/* Writes element i of row r at its rank when the rank is among the first k. */
NBK_ROWS_FN void nbk_sort_place(const nbk_sort_args *a, int64_t r, int64_t i, int64_t rank)
{
    if (rank >= a->k) return;
    const int64_t at = r * a->k + rank, from = r * a->n + i;
    a->indices[at] = i;
    if (!a->values) return;
    switch (a->dtype) {
    case NB_FLOAT32: ((float *)a->values)[at] = ((const float *)a->in)[from]; break;
    case NB_FLOAT64: ((double *)a->values)[at] = ((const double *)a->in)[from]; break;
    case NB_INT64: ((int64_t *)a->values)[at] = ((const int64_t *)a->in)[from]; break;
    case NB_BOOL: ((bool *)a->values)[at] = ((const bool *)a->in)[from]; break;
    case NB_FLOAT16: case NB_BFLOAT16: ((uint16_t *)a->values)[at] = ((const uint16_t *)a->in)[from]; break;
    }
}

#endif /* NB_KERNELS_ROWS_ROW_H */
