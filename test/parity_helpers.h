/* parity_helpers.h — the pieces of the CUDA parity harness (test_cuda_parity.c) that are not its
 * table: test inputs in every layout built the same way on any device, the comparison of a
 * device's result with the CPU's, and reading the public headers for the list of ops. */
#ifndef NB_TEST_PARITY_HELPERS_H
#define NB_TEST_PARITY_HELPERS_H

#include "helpers.h"

/* How an input's elements lie in memory; each layout gives the same values on every device. */
typedef enum parity_layout {
    CONTIG,     /* row-major */
    TRANSPOSED, /* the last two dims of a contiguous buffer swapped (2-D and up) */
    EXPANDED,   /* dim 0 broadcast from size 1 (stride 0) */
    NARROWED,   /* the last dim cut from a wider buffer: rows further apart than their length */
    ROTATED,    /* a permute of a contiguous buffer that holds the dims in another order (3-D) */
    STEPPED,    /* every other element of a buffer: no dim has unit stride */
} parity_layout;

/* One input of a case: its shape (as the op sees it) and its layout. */
typedef struct parity_spec {
    int ndim;
    int64_t shape[4];
    parity_layout how;
} parity_spec;

/* The input described by s, with values drawn on the CPU from seed and then moved to device (the
 * layout is applied there, so views and strides are the device's own). kind says what values:
 *   'F' dtype, any sign (int64: truncated 3x; bool: x > 0)
 *   'P' dtype, positive (floats in [0.5, ...); int64 >= 1; bool all true)
 *   'M' a bool mask; 'I' int64 of any sign, whatever dtype is
 *   'L' int64 class labels in [0, C), C being the last size of first (the logits)
 * Temporaries are registered in the open scope: call it inside one. */
nb_tensor *parity_input(const parity_spec *s, char kind, nb_dtype dtype, nb_device device, uint64_t seed,
                        const nb_tensor *first);
/* "(4, 5) transposed, (4, 1) contiguous" for the first n specs. */
char *parity_specs_string(int n, const parity_spec *specs, char *buf, size_t size);
/* "cpu", "cuda:0" */
const char *parity_device_string(nb_device d, char *buf, size_t size);

/* got (computed on device) against want (the same op on the CPU): got lives on device, same shape
 * and dtype; float32 within normalised MSE sum((g-w)^2)/sum(w^2) <= 1e-7, float64 <= 1e-24,
 * non-finite values equal; int64 and bool bit-equal. */
void parity_assert_match(const nb_tensor *got, const nb_tensor *want, nb_device device, const char *what);

/* Appends to names (up to cap, each < 64 chars) every function that path declares as returning
 * `nb_tensor *`; returns the new count (the test fails if the file cannot be read). */
int parity_tensor_functions(const char *path, char (*names)[64], int count, int cap);
/* True when the space-separated list holds word. */
bool parity_list_has(const char *list, const char *word);

/* A fixture: nb_test_setup, then skip without a CUDA device (or in a build without CUDA). */
void parity_cuda_setup(void);

#endif /* NB_TEST_PARITY_HELPERS_H */
