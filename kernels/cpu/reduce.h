/* reduce.h — the CPU reduction kernels (sum, max, min, argmax, argmin) and the plan that
 * describes one reduction to them: which elements fold into each output, with strides.
 * lib/reduce.c builds plans from tensors; these kernels know nothing of tensors' autograd
 * fields or of scopes.
 *
 * Accumulation: float32 sums accumulate in float64 and are rounded once at the end (so 10M ones
 * sum to exactly 10000000); int64 and bool sums accumulate in int64 (wrapping on overflow, like
 * PyTorch). max/min propagate NaN; argmax/argmin give the first index of the extreme value, a
 * NaN counting as both the largest and the smallest value.
 *
 * Determinism: results depend on the input's values and layout only, never on the thread
 * count. Each output folds its elements in fixed blocks of NB_CPU_REDUCE_BLOCK elements whose
 * partial results are combined in order; threads only decide which thread computes which block
 * or which output. */
#ifndef NB_KERNELS_CPU_REDUCE_H
#define NB_KERNELS_CPU_REDUCE_H

#include "nabla.h"

/* Elements per fixed block of a long reduction (the unit of thread work and of combining). */
#define NB_CPU_REDUCE_BLOCK ((int64_t)1 << 15)

typedef enum nbk_cpu_reduce_op {
    NB_CPU_REDUCE_SUM,    /* values: float32 -> float32, float64 -> float64, int64/bool -> int64 */
    NB_CPU_REDUCE_MAX,    /* values of the input's dtype; bool max is logical or */
    NB_CPU_REDUCE_MIN,    /* values of the input's dtype; bool min is logical and */
    NB_CPU_REDUCE_ARGMAX, /* int64 indices, and optionally the values at them */
    NB_CPU_REDUCE_ARGMIN,
} nbk_cpu_reduce_op;

/* One reduction. Output position o (a coordinate over the outer dims) folds the elements at
 * in + o·outer_in_strides + r·red_strides for every coordinate r over the reduced dims. Strides
 * are in elements (0 on expanded dims). Outputs are written at o·outer_out_strides. */
typedef struct nbk_cpu_reduce_plan {
    int outer_ndim; /* 0 for a whole-tensor reduction (one output) */
    int64_t outer_shape[NB_MAX_DIMS];
    int64_t outer_in_strides[NB_MAX_DIMS];
    int64_t outer_out_strides[NB_MAX_DIMS];
    int red_ndim; /* >= 1 */
    int64_t red_shape[NB_MAX_DIMS];
    int64_t red_strides[NB_MAX_DIMS];
    /* argmax/argmin: how far one step along each reduced dim moves the index they report (the
     * row-major position in the tensor or along the dim), so the dims may come in memory order */
    int64_t red_index_strides[NB_MAX_DIMS];
    const void *in;   /* element 0 of the input */
    void *values;     /* outputs of the result dtype above; may be NULL for argmax/argmin */
    int64_t *indices; /* argmax/argmin: where the extreme is (see red_index_strides); else NULL */
    double divisor;   /* float sums are divided by it before rounding (the mean); 1 for a sum */
} nbk_cpu_reduce_plan;

/* Runs plan for op on input dtype with up to nthreads threads. max/min/argmax/argmin need at
 * least one reduced element (the caller refuses empty reductions); an empty sum gives 0. */
void nbk_cpu_reduce(nbk_cpu_reduce_op op, nb_dtype dtype, const nbk_cpu_reduce_plan *plan,
                   int nthreads);

#endif /* NB_KERNELS_CPU_REDUCE_H */
