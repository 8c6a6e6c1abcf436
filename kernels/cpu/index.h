/* index.h — the CPU index kernels (index.c) behind the CPU table: kernels/index.h says what they
 * compute. */
#ifndef NB_KERNELS_CPU_INDEX_H
#define NB_KERNELS_CPU_INDEX_H

#include "../index.h"

/* The first index outside [0, a->bound), in the order of the index's elements: true, with its
 * position (its offset from index[0]) and value; false when every index is in range. */
bool nbk_cpu_index_find_bad(const nbk_index_args *a, int64_t *position, int64_t *value);
/* The gather of a on up to max_threads threads, checking each index as it reads it: false at the
 * first one out of range, with its position and value (the output is then partly written). */
bool nbk_cpu_index_gather(const nbk_index_args *a, int max_threads, int64_t *position, int64_t *value);
/* The scatter of a on up to max_threads threads; the indices must be in range (find_bad first). */
void nbk_cpu_index_scatter(const nbk_index_args *a, bool add, int max_threads);

#endif /* NB_KERNELS_CPU_INDEX_H */
