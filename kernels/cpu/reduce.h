/* reduce.h — the CPU reduction kernels (sum, max, min, argmax, argmin) over a plan of
 * kernels/reduce.h, with the results its rules describe.
 *
 * Determinism: results depend on the input's values and layout only, never on the thread
 * count. Each output folds its elements in fixed blocks of NBK_CPU_REDUCE_BLOCK elements whose
 * partial results are combined in order; threads only decide which thread computes which block
 * or which output. */
#ifndef NB_KERNELS_CPU_REDUCE_H
#define NB_KERNELS_CPU_REDUCE_H

#include "../reduce.h"

/* Elements per fixed block of a long reduction (the unit of thread work and of combining). */
#define NBK_CPU_REDUCE_BLOCK ((int64_t)1 << 15)

/* Runs plan for op on input dtype with up to nthreads threads. max/min/argmax/argmin need at
 * least one reduced element (the caller refuses empty reductions); an empty sum gives 0. */
void nbk_cpu_reduce(nbk_reduce_op op, nb_dtype dtype, const nbk_reduce_plan *plan, int nthreads);

#endif /* NB_KERNELS_CPU_REDUCE_H */
