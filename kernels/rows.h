/* rows.h — products, scans and sorts along one dim, as every device runs them. lib/ moves the
 * dim last and makes the input contiguous, so each op sees (rows, n): rows independent rows of
 * n contiguous elements. lib/reduce_scan.c builds the arguments; kernels/cpu/rows.c and
 * kernels/cuda/rows.cu run them.
 *
 * The rules, the same on every device:
 *  - Products and cumulative sums: float32 and float64 accumulate in float64, each output
 *    rounded once; int64 and bool accumulate in int64 (wrapping on overflow, as PyTorch's do)
 *    and give int64. Each row is folded in order from its first element, so a result is the
 *    same on every run, for every thread count and on every device. An empty product is 1.
 *  - Log-sum-exp: the row's maximum m is taken out (0 in its place where it is infinite):
 *    log(sum(exp(x - m))) + m, the sum in float64; a NaN anywhere gives NaN; an empty row -inf.
 *    Variance: two passes in float64, the mean and then the sum of squared deviations from it,
 *    divided by max(0, n - correction). These are fixed per row too, but exp may differ between
 *    devices in the last bits (the CPU's float32 exp is its own, vectorised).
 *  - Sorts order a row by value, ascending or descending, stably: of equal values the one with
 *    the lower index comes first in either direction. NaN counts as larger than every number
 *    (last ascending, first descending), and all NaNs are equal. +0 and -0 are equal. Top-k is
 *    the first k of the row sorted descending (largest) or ascending (smallest). */
#ifndef NB_KERNELS_ROWS_H
#define NB_KERNELS_ROWS_H

#include "nabla.h"

typedef enum nbk_rows_op {
    NBK_ROWS_PROD,        /* out (rows,): the product of each row */
    NBK_ROWS_PROD_OTHERS, /* out (rows, n): each element's row product without it (floats only) */
    NBK_ROWS_CUMSUM,      /* out (rows, n): the running sum along each row */
    NBK_ROWS_LOGSUMEXP,   /* out (rows,): log(sum(exp(row))), floats only */
    NBK_ROWS_VAR,         /* out (rows,): the row's variance with the correction, floats only */
} nbk_rows_op;

typedef struct nbk_rows_args {
    nb_dtype dtype; /* the input's */
    int64_t rows, n;
    const void *in; /* (rows, n) contiguous */
    void *out;      /* of the dtype the rules give (float: the input's; else int64) */
    double correction; /* NBK_ROWS_VAR: the divisor is max(0, n - correction) */
} nbk_rows_args;

typedef struct nbk_sort_args {
    nb_dtype dtype;
    int64_t rows, n;
    int64_t k;       /* outputs per row: n for a sort, k <= n for top-k */
    bool descending; /* top-k's largest */
    const void *in;  /* (rows, n) contiguous */
    void *values;    /* (rows, k) of the input's dtype, or NULL (argsort) */
    int64_t *indices; /* (rows, k): where along the row each output came from */
} nbk_sort_args;

#endif /* NB_KERNELS_ROWS_H */
