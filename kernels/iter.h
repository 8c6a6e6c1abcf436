/* iter.h — an elementwise iteration: one output and up to three inputs over a common
 * (broadcast) shape, each with its own byte strides. lib/iter.c builds it; every device's
 * elementwise kernels run it. Dims are coalesced so contiguous operands become one long row. */
#ifndef NB_KERNELS_ITER_H
#define NB_KERNELS_ITER_H

#include "nabla.h"

#define NB_ITER_MAX_OPERANDS 4 /* the output and up to three inputs */

/* Scalar arguments of an op (clamp's bounds, pow's exponent, add_scalar's addend). */
typedef struct nb_scalars {
    double a, b;
} nb_scalars;

typedef struct nb_iter {
    int noperands; /* operand 0 is the output */
    int ndim;      /* >= 1 after coalescing; dim ndim-1 is the innermost */
    int64_t numel;
    int64_t shape[NB_MAX_DIMS];
    int64_t strides[NB_ITER_MAX_OPERANDS][NB_MAX_DIMS]; /* bytes; 0 on broadcast dims */
    char *data[NB_ITER_MAX_OPERANDS];                   /* address of each operand's element 0 */
} nb_iter;

/* One strided row of an elementwise op: data[0] is the output, data[1..] the inputs, strides in
 * bytes. A CPU kernel is a table of these, one per op and dtype. */
typedef void (*nbk_cpu_loop)(int64_t n, char **data, const int64_t *strides, const nb_scalars *s);

#endif /* NB_KERNELS_ITER_H */
