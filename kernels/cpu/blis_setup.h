/* blis_setup.h — BLIS initialisation: kernel-set choice and its description. */
#ifndef NB_KERNELS_BLIS_SETUP_H
#define NB_KERNELS_BLIS_SETUP_H

#include <stddef.h>

/* Chooses BLIS's kernel set (once, before BLIS initialises) and initialises BLIS. */
void nb_blis_init(void);
/* "BLIS 0.9.0, kernels skx (chosen by nabla: ...)" into buf. */
void nb_blis_describe(char *buf, size_t size);

#endif /* NB_KERNELS_BLIS_SETUP_H */
