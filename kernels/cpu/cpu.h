/* cpu.h — the CPU backend's entry points, called by lib/ through the op tables. */
#ifndef NB_KERNELS_CPU_H
#define NB_KERNELS_CPU_H

#include "../iter.h"
#include "../ops.h"

/* Runs loop over it, splitting large iterations across up to nthreads threads. */
void nbk_cpu_run(const nb_iter *it, nbk_cpu_loop loop, const nb_scalars *s, int nthreads);

/* Row loops per elementwise op and compute dtype; NULL where the op does not take that dtype. */
extern const nbk_cpu_loop nbk_cpu_ew_loops[NB_EW_COUNT][NB_DTYPE_COUNT];
/* Conversion loops [from][to]; [d][d] is a plain copy. */
extern const nbk_cpu_loop nbk_cpu_cast_loops[NB_DTYPE_COUNT][NB_DTYPE_COUNT];

#endif /* NB_KERNELS_CPU_H */
