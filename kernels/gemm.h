/* gemm.h — the arguments of a matrix product, read by every device's gemm (kernels/cpu/gemm.c
 * through BLIS, kernels/cuda/gemm.c through cuBLAS). lib/linalg.c fills them from tensors. */
#ifndef NB_KERNELS_GEMM_H
#define NB_KERNELS_GEMM_H

#include "nabla.h"

/* One operand: batch b's element [i, j] is at data + (b·bs + i·rs + j·cs) elements. Any strides
 * are accepted (0 on an expanded dim, negative, overlapping): a device copies an operand whose
 * layout its library cannot take into a dense buffer of its own first. */
typedef struct nbk_matrix {
    char *data;
    int64_t rs, cs, bs;
} nbk_matrix;

typedef struct nbk_gemm_args {
    nb_dtype dtype;         /* float32 or float64 (float16, bfloat16: gemm_half), for all three */
    int64_t batch, n, k, m; /* batch products (n, k) x (k, m) -> (n, m) */
    nbk_matrix a, b;        /* (batch, n, k) and (batch, k, m) */
    nbk_matrix c;           /* (batch, n, m), dense and row-major: rs = m, cs = 1, bs = n·m */
    bool tf32;              /* float32 only: the device may round the operands to TF32 (CUDA's
                             * tensor cores; nb_set_float32_matmul_precision); the CPU ignores it */
} nbk_gemm_args;

#endif /* NB_KERNELS_GEMM_H */
