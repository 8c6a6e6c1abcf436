/* gemm.h — the CPU matrix product: batches of C = A·B through BLIS's typed API, each operand
 * with its own row, column and batch strides, so transposed and strided views need no copy.
 * lib/linalg.c checks shapes and dtypes and builds the arguments; this knows nothing of
 * tensors' autograd fields or of scopes. */
#ifndef NB_KERNELS_CPU_GEMM_H
#define NB_KERNELS_CPU_GEMM_H

#include "nabla.h"

/* One operand: batch b's element [i, j] is at data + (b * bs + i * rs + j * cs) elements.
 * rs and cs must satisfy nbk_cpu_gemm_layout; bs may be 0 (one matrix for every batch). */
typedef struct nbk_cpu_matrix {
    char *data;
    int64_t rs, cs, bs;
} nbk_cpu_matrix;

typedef struct nbk_cpu_gemm_args {
    nb_dtype dtype;         /* float32 or float64, for all three */
    int64_t batch, n, k, m; /* batch products (n, k) x (k, m) -> (n, m) */
    nbk_cpu_matrix a, b, c;  /* c's matrices must not overlap each other or a, b */
} nbk_cpu_gemm_args;

/* Makes the strides of a (rows, cols) matrix acceptable to BLIS where they can be: the stride of
 * a size-1 dim means nothing and is replaced. False when BLIS cannot take the matrix as it is
 * (a zero stride on an expanded dim, a negative stride, rows that overlap): copy it first. */
bool nbk_cpu_gemm_layout(int64_t rows, int64_t cols, int64_t *rs, int64_t *cs);

/* Threads for products of this many flops (2·n·k·m each, batch of them): one for small ones,
 * up to max_threads for large ones (see gemm.c for the measurements behind the threshold). */
int nbk_cpu_gemm_threads(int64_t batch, int64_t n, int64_t k, int64_t m, int max_threads);

/* Runs the products on up to max_threads threads (nbk_cpu_gemm_threads decides how many):
 * a large product splits across threads inside BLIS; many small ones split the batch. k = 0
 * gives zeros. */
void nbk_cpu_gemm(const nbk_cpu_gemm_args *g, int max_threads);

#endif /* NB_KERNELS_CPU_GEMM_H */
