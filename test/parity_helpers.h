/* parity_helpers.h — the pieces of the CUDA parity harness (test_cuda_parity.c) that are not its
 * table: test inputs in every layout built the same way on any device, and reading the public
 * headers for the list of ops (the comparison is cuda_checks.h's). */
#ifndef NB_TEST_PARITY_HELPERS_H
#define NB_TEST_PARITY_HELPERS_H

#include "cuda_checks.h"

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
/* Appends to names (up to cap, each < 64 chars) every function that path declares as returning
 * `nb_tensor *`; returns the new count (the test fails if the file cannot be read). */
int parity_tensor_functions(const char *path, char (*names)[64], int count, int cap);
/* True when the space-separated list holds word, alone or after a device's prefix ("cpu:word"). */
bool parity_list_has(const char *list, const char *word);

#endif /* NB_TEST_PARITY_HELPERS_H */
