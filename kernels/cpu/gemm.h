/* gemm.h — the CPU matrix product: batches of C = A·B through BLIS's typed API, each operand
 * with its own row, column and batch strides, so transposed and strided views need no copy. */
#ifndef NB_KERNELS_CPU_GEMM_H
#define NB_KERNELS_CPU_GEMM_H

#include "../gemm.h"

/* Makes the strides of a (rows, cols) matrix acceptable to BLIS where they can be: the stride of
 * a size-1 dim means nothing and is replaced. False when BLIS cannot take the matrix as it is
 * (a zero stride on an expanded dim, a negative stride, rows that overlap). */
bool nbk_cpu_gemm_layout(int64_t rows, int64_t cols, int64_t *rs, int64_t *cs);

/* Threads for products of this many flops (2·n·k·m each, batch of them), up to max_threads:
 * the rule of kernels/cpu/threads.h. */
int nbk_cpu_gemm_threads(int64_t batch, int64_t n, int64_t k, int64_t m, int max_threads);

/* Runs the products on up to max_threads threads (nbk_cpu_gemm_threads decides how many): a
 * large product splits across threads inside BLIS; many small ones split the batch. An operand
 * BLIS cannot take as it is is copied into a dense buffer first. k = 0 gives zeros. NB_OK, or
 * NB_ERR_MEMORY when that buffer cannot be had. */
nb_status nbk_cpu_gemm(const nbk_gemm_args *g, int max_threads);

/* An operand of nbk_cpu_product: a row-major matrix of row stride rs, read as itself or
 * transposed. */
typedef struct nbk_operand {
    const void *data;
    int64_t rs;
    bool transposed;
} nbk_operand;

/* c (m, n) = a (m, k) b (k, n) + beta c, float32 or float64, c row-major of row stride rsc, on
 * nthreads BLIS threads (BLIS initialised by the caller: nbk_blis_init): for kernels that run
 * their own products on their own scratch (conv2d.c, winograd.c). */
void nbk_cpu_product(nb_dtype dtype, int64_t m, int64_t n, int64_t k, nbk_operand a, nbk_operand b, double beta,
                     void *c, int64_t rsc, int nthreads);

#endif /* NB_KERNELS_CPU_GEMM_H */
