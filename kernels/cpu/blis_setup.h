/* blis_setup.h — BLIS initialisation: kernel-set choice and its description. */
#ifndef NB_KERNELS_BLIS_SETUP_H
#define NB_KERNELS_BLIS_SETUP_H

#include <stddef.h>

/* Chooses BLIS's kernel set (once, before BLIS initialises) and initialises BLIS. Thread-safe;
 * every nabla path that calls BLIS calls this first. */
void nbk_blis_init(void);
/* "BLIS 0.9.0, kernels zen3 (chosen by BLIS), gemm threads up to 2" into buf (initialises BLIS). */
void nbk_blis_describe(char *buf, size_t size);

#endif /* NB_KERNELS_BLIS_SETUP_H */
