/* random.h — the CPU's draws from nabla's generator (kernels/random.h: Philox4x32-10 and the
 * value of every element), split across threads by threads.h's rule. */
#ifndef NB_KERNELS_CPU_RANDOM_H
#define NB_KERNELS_CPU_RANDOM_H

#include "../random.h"

/* Runs the draw a (a->offset is its first counter). A multinomial row that is not a
 * distribution is an NB_ERR_ARGUMENT naming the row, with nothing drawn. */
nb_status nbk_cpu_random(const nbk_random_args *a, int max_threads);

#endif /* NB_KERNELS_CPU_RANDOM_H */
