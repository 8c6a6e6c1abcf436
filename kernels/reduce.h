/* reduce.h — reductions as every device runs them: the plan that describes one (which elements
 * fold into each output, with strides) and the rules its results follow. lib/reduce.c builds
 * plans from tensors; kernels/cpu/reduce.c and kernels/cuda/{reduce,extreme}.cu run them.
 *
 * The rules, the same on every device:
 *  - Sums: float32 and float64 accumulate in float64 and are rounded once at the end (a mean
 *    divides first), so 10M float32 ones sum to exactly 10000000. int64 and bool accumulate in
 *    int64, wrapping on overflow as PyTorch's do. An empty sum is 0. The order of additions is
 *    fixed by the plan's shapes and strides (each device has its own fixed order), so a result
 *    is the same on every run and for every thread count; devices may differ in the last bits.
 *  - Extremes (max, min, argmax, argmin): NaN is further than every number, for max and for
 *    min. The elements that tie for the extreme are those equal to it under ==, so +0 and -0
 *    tie, and all NaNs tie. Of tied elements the first wins: the lowest index, counted
 *    row-major over the reduced dims as argmax reports it (PyTorch's "first occurrence"). The
 *    value written is that element itself, bit for bit: max of [-0., +0.] is -0. (index 0), and
 *    a NaN result keeps the first NaN's sign and payload. So max is always the value at argmax,
 *    and every device gives the same bits. Bool max is "any", min is "all". An extreme needs at
 *    least one element per output (lib/ refuses empty ones before a kernel runs). */
#ifndef NB_KERNELS_REDUCE_H
#define NB_KERNELS_REDUCE_H

#include "nabla.h"

typedef enum nbk_reduce_op {
    NBK_REDUCE_SUM,    /* values: float32 -> float32, float64 -> float64, int64/bool -> int64 */
    NBK_REDUCE_MAX,    /* values of the input's dtype */
    NBK_REDUCE_MIN,
    NBK_REDUCE_ARGMAX, /* int64 indices, and the values at them when values is not NULL */
    NBK_REDUCE_ARGMIN,
} nbk_reduce_op;

/* One reduction. Output position o (a coordinate over the outer dims) folds the elements at
 * in + o·outer_in_strides + r·red_strides for every coordinate r over the reduced dims. Strides
 * are in elements (0 on expanded dims); outputs are written at o·outer_out_strides. Any mix is
 * a plan: several reduced dims with outer dims too is a reduction over a list of dims
 * (nb_sum_dims, nb_amax). */
typedef struct nbk_reduce_plan {
    int outer_ndim; /* 0 for a whole-tensor reduction (one output) */
    int64_t outer_shape[NB_MAX_DIMS];
    int64_t outer_in_strides[NB_MAX_DIMS];
    int64_t outer_out_strides[NB_MAX_DIMS];
    int red_ndim; /* >= 1 */
    int64_t red_shape[NB_MAX_DIMS];
    int64_t red_strides[NB_MAX_DIMS];
    /* how far one step along each reduced dim moves the index of the tie rule and of argmax
     * (the row-major position in the tensor or along the dim, > 0), so the reduced dims may come
     * in memory order */
    int64_t red_index_strides[NB_MAX_DIMS];
    const void *in;   /* element 0 of the input */
    void *values;     /* outputs of the result dtype above; NULL for argmax/argmin's indices only */
    int64_t *indices; /* argmax/argmin: where the extreme is; NULL for the other ops */
    double divisor;   /* float sums are divided by it before rounding (a mean); 1 for a sum */
} nbk_reduce_plan;

static inline int64_t nbk_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

#endif /* NB_KERNELS_REDUCE_H */
