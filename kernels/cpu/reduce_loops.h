/* reduce_loops.h — inside the CPU reductions: the accumulator of a partial result, how two
 * combine (kernels/reduce.h's rules), and the typed loops (reduce_loops.c, reduce_typed.h) that
 * the driver (reduce.c) runs over rows, blocks and strips. */
#ifndef NB_KERNELS_CPU_REDUCE_LOOPS_H
#define NB_KERNELS_CPU_REDUCE_LOOPS_H

#include "reduce.h"

#include <stdbool.h>
#include <stdint.h>

/* Outputs per strip of the column path: its accumulators (16 KiB each at most) stay in L1, and
 * each input row is read 8 KiB (float32) at a time. */
#define NBK_CPU_REDUCE_STRIP 2048

/* A partial result: of one row, one block, or one whole output. An extreme is one element of
 * the input: the one that wins the rule of kernels/reduce.h among those folded in. */
typedef struct nbk_cpu_reduce_acc {
    double f;      /* float32/float64 sums; float extremes' values to compare (exact conversions) */
    uint64_t u;    /* int64 and bool sums, wrapping on overflow */
    int64_t i;     /* int64 and bool extremes' values to compare */
    uint64_t bits; /* extremes: the element's own bits (in the low bytes), which the store writes */
    /* extremes: the element's index, counted over the reduced elements as argmax reports it; for
     * max and min exact only where ties can differ in their bits (at 0 and NaN) */
    int64_t index;
    bool any; /* false until an element has been folded in */
} nbk_cpu_reduce_acc;

/* The partial result of n >= 1 elements at row, stride elements apart. For extremes, first is
 * the index of row[0] and each step along the row adds index_stride (> 0) to it. */
typedef nbk_cpu_reduce_acc (*nbk_cpu_reduce_row_fn)(const char *row, int64_t n, int64_t stride,
                                                  int64_t first, int64_t index_stride);
/* count outputs, each reducing its own row of n elements (stride row_stride); row r starts
 * r·step elements after in and its result goes to out_off + r·out_step of p's outputs. */
typedef void (*nbk_cpu_reduce_rows_fn)(const char *in, int64_t n, int64_t row_stride, int64_t count,
                                      int64_t step, const nbk_reduce_plan *p, int64_t out_off,
                                      int64_t out_step);
/* The column path: rows input rows, row_stride elements apart, each holding width contiguous
 * elements, folded into width outputs written at out_off + j·out_stride of p's outputs. */
typedef void (*nbk_cpu_reduce_cols_fn)(const char *in, int64_t row_stride, int64_t rows,
                                      int64_t width, const nbk_reduce_plan *p, int64_t out_off,
                                      int64_t out_stride);

typedef struct nbk_cpu_reduce_kernel {
    nbk_reduce_op op;
    nb_dtype dtype;
    int64_t esize; /* bytes per input element */
    bool is_float;
    nbk_cpu_reduce_row_fn row;
    nbk_cpu_reduce_rows_fn rows;
    nbk_cpu_reduce_cols_fn cols;
} nbk_cpu_reduce_kernel;

void nbk_cpu_reduce_kernel_for(nbk_reduce_op op, nb_dtype dtype, nbk_cpu_reduce_kernel *k);
/* Writes the output at element out_off of p's values (and indices) from acc. */
void nbk_cpu_reduce_store(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p,
                         int64_t out_off, const nbk_cpu_reduce_acc *acc);

/* True when candidate c replaces the current extreme m (kernels/reduce.h's rule): a NaN beats
 * every number, then the further value wins, and of equal values (+0 and -0 too) or of two NaNs
 * the lower index wins, whatever order partial results come in. */
static inline bool nbk_cpu_reduce_takes(const nbk_cpu_reduce_kernel *k, const nbk_cpu_reduce_acc *c,
                                       const nbk_cpu_reduce_acc *m)
{
    const bool max = k->op == NBK_REDUCE_MAX || k->op == NBK_REDUCE_ARGMAX;
    if (k->is_float) {
        const bool c_nan = c->f != c->f, m_nan = m->f != m->f;
        if (c_nan || m_nan) return c_nan && (!m_nan || c->index < m->index);
        if (c->f == m->f) return c->index < m->index;
        return max ? c->f > m->f : c->f < m->f;
    }
    if (c->i == m->i) return c->index < m->index;
    return max ? c->i > m->i : c->i < m->i;
}

/* Folds the partial result from (of later elements) into into. */
static inline void nbk_cpu_reduce_combine(const nbk_cpu_reduce_kernel *k, nbk_cpu_reduce_acc *into,
                                         const nbk_cpu_reduce_acc *from)
{
    if (!from->any) return;
    if (!into->any) {
        *into = *from;
    } else if (k->op == NBK_REDUCE_SUM) {
        into->f += from->f;
        into->u += from->u;
    } else if (nbk_cpu_reduce_takes(k, from, into)) {
        *into = *from;
    }
}

#endif /* NB_KERNELS_CPU_REDUCE_LOOPS_H */
