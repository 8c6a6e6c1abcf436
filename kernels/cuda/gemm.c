/* gemm.c — matrix products through cuBLAS (cublasSgemm/Dgemm, or their strided-batched forms),
 * one handle per device, created on first use and bound to the device's stream. float16 and
 * bfloat16 operands go through cublasGemmEx (or its strided-batched form): half operands, a half
 * result, float32 accumulation (CUBLAS_COMPUTE_32F) on tensor cores; a float32 product whose
 * arguments allow TF32 (nb_set_float32_matmul_precision "high" or "medium") goes through
 * cublasGemmEx with CUBLAS_COMPUTE_32F_FAST_TF32, which rounds the operands to TF32 (10 mantissa
 * bits) on tensor cores and accumulates in float32.
 *
 * cuBLAS is column-major and nabla row-major, so C = A·B is computed as Cᵀ = Bᵀ·Aᵀ: the operands
 * swap places and each is handed over as its transpose. A row-major operand (unit column stride)
 * read column-major already is its transpose (op N, leading dimension = its row stride); a
 * transposed view (unit row stride) is the matrix itself read column-major, so it goes with op T
 * and its column stride. Anything else (an expanded dim of stride 0, overlapping rows) is copied
 * into a dense buffer from the caching allocator first, by the conversion kernel. */
#include "internal.h"

#include <cublas_v2.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_once_t handles_once = PTHREAD_ONCE_INIT;
static cublasHandle_t *handles; /* (nbk_cuda_count(),), NULL until a device's first product */

static void make_handles(void)
{
    int n = nbk_cuda_count();
    if (n > 0) handles = calloc((size_t)n, sizeof *handles);
}

static nb_status blas_check(cublasStatus_t s, int device, const char *what)
{
    if (s == CUBLAS_STATUS_SUCCESS) return NB_OK;
    return nbk_fail(s == CUBLAS_STATUS_ALLOC_FAILED ? NB_ERR_MEMORY : NB_ERR_DEVICE,
                        "%s on cuda:%d: %s (%s)", what, device, cublasGetStatusString(s),
                        cublasGetStatusName(s));
}

/* cuBLAS's view of a (rows, cols) operand X as Xᵀ; false when it has none. */
static bool as_transposed(int64_t rows, int64_t cols, int64_t rs, int64_t cs, cublasOperation_t *op,
                          int64_t *ld)
{
    const int64_t min_ld_rows = cols > 1 ? cols : 1, min_ld_cols = rows > 1 ? rows : 1;
    /* row-major rows: element [i, j] at i·rs + j */
    if ((cs == 1 || cols <= 1) && (rows <= 1 || rs >= min_ld_rows)) {
        *op = CUBLAS_OP_N;
        *ld = rows <= 1 ? min_ld_rows : rs;
        return true;
    }
    /* a transposed view: element [i, j] at i + j·cs */
    if ((rs == 1 || rows <= 1) && (cols <= 1 || cs >= min_ld_cols)) {
        *op = CUBLAS_OP_T;
        *ld = cols <= 1 ? min_ld_cols : cs;
        return true;
    }
    return false;
}

/* Operand x of (batch, rows, cols) copied dense and row-major into memory from the cache (*handle,
 * to free once the product is queued); one matrix for every product when x's batch stride is 0. */
static nb_status stage(int device, const nbk_matrix *x, nb_dtype dtype, int64_t batch, int64_t rows,
                       int64_t cols, nbk_matrix *dense, void **handle)
{
    const int64_t copies = x->bs == 0 ? 1 : batch, esize = (int64_t)nb_dtype_size(dtype);
    void *data = NULL;
    nb_status st = nbk_cuda_malloc(device, (size_t)(copies * rows * cols * esize), &data, handle);
    if (st != NB_OK) return st;
    nb_iter it = {.noperands = 2, .ndim = 3, .numel = copies * rows * cols,
                  .shape = {copies, rows, cols}, .data = {data, x->data}};
    const int64_t dense_strides[3] = {rows * cols, cols, 1}, x_strides[3] = {x->bs, x->rs, x->cs};
    for (int d = 0; d < 3; d++) {
        it.strides[0][d] = dense_strides[d] * esize;
        it.strides[1][d] = x_strides[d] * esize;
    }
    *dense = (nbk_matrix){.data = data, .rs = cols, .cs = 1, .bs = copies == 1 ? 0 : rows * cols};
    return nbk_cuda_cast(device, dtype, dtype, &it);
}

/* cuBLAS's workspace, given explicitly: left to itself, cuBLAS allocates one for each graph
 * captured, which no replay can free (32 MiB is NVIDIA's recommendation for Hopper). */
#define WORKSPACE_BYTES ((size_t)32 << 20)

/* The device's handle, created on first use; called with the device's lock held. Creating it
 * cannot be captured into a graph, so graph.c calls nbk_cuda_blas_ready before capturing. */
static nb_status handle_of(int device, cudaStream_t stream, cublasHandle_t *out)
{
    pthread_once(&handles_once, make_handles);
    if (!handles) return nbk_fail(NB_ERR_MEMORY, "out of host memory for cuBLAS handles");
    if (!handles[device]) {
        nb_status st = nbk_cuda_refuse_in_capture(device, "setting up cuBLAS");
        if (st != NB_OK) return st;
        cublasHandle_t h;
        st = blas_check(cublasCreate(&h), device, "cublasCreate");
        if (st != NB_OK) return st;
        void *workspace = NULL; /* for the life of the process, like the handle */
        st = blas_check(cublasSetStream(h, stream), device, "cublasSetStream");
        if (st == NB_OK) st = nbk_cuda_check(cudaMalloc(&workspace, WORKSPACE_BYTES), device, "cudaMalloc (cuBLAS workspace)");
        if (st == NB_OK) st = blas_check(cublasSetWorkspace(h, workspace, WORKSPACE_BYTES), device, "cublasSetWorkspace");
        if (st != NB_OK) {
            cublasDestroy(h);
            if (workspace) (void)cudaFree(workspace);
            return st;
        }
        handles[device] = h;
    }
    *out = handles[device];
    return NB_OK;
}

nb_status nbk_cuda_blas_ready(int device, cudaStream_t stream)
{
    nbk_cuda_lock(device);
    cublasHandle_t h;
    nb_status st = handle_of(device, stream, &h);
    nbk_cuda_unlock(device);
    return st;
}

/* cublasGemmEx's type of a float32, float16 or bfloat16 operand */
static cudaDataType ex_type(nb_dtype dtype)
{
    return dtype == NB_FLOAT16 ? CUDA_R_16F : dtype == NB_BFLOAT16 ? CUDA_R_16BF : CUDA_R_32F;
}

/* Cᵀ (m, n) = Bᵀ (m, k) · Aᵀ (k, n) through cublasGemmEx: half or float32 operands and result of
 * g's dtype, alpha and beta float32, the accumulation compute (float32, or float32 with TF32
 * inputs). Returns the cuBLAS status. */
static cublasStatus_t product_ex(cublasHandle_t h, const nbk_gemm_args *g, cublasComputeType_t compute,
                                 cublasOperation_t op_a, int64_t ld_a, cublasOperation_t op_b, int64_t ld_b,
                                 int64_t ld_c)
{
    const float one = 1.0f, zero = 0.0f;
    const cudaDataType t = ex_type(g->dtype);
    if (g->batch == 1)
        return cublasGemmEx_64(h, op_b, op_a, g->m, g->n, g->k, &one, g->b.data, t, ld_b, g->a.data, t, ld_a, &zero,
                               g->c.data, t, ld_c, compute, CUBLAS_GEMM_DEFAULT);
    return cublasGemmStridedBatchedEx_64(h, op_b, op_a, g->m, g->n, g->k, &one, g->b.data, t, ld_b, g->b.bs,
                                         g->a.data, t, ld_a, g->a.bs, &zero, g->c.data, t, ld_c, g->c.bs, g->batch,
                                         compute, CUBLAS_GEMM_DEFAULT);
}

/* Cᵀ (m, n) = Bᵀ (m, k) · Aᵀ (k, n), column-major, for operands cuBLAS takes as they are. */
static nb_status product(int device, cudaStream_t stream, const nbk_gemm_args *g, cublasOperation_t op_a,
                         int64_t ld_a, cublasOperation_t op_b, int64_t ld_b, int64_t ld_c)
{
    nbk_cuda_lock(device); /* one thread at a time on the device's handle */
    cublasHandle_t h = NULL;
    nb_status st = handle_of(device, stream, &h);
    if (st == NB_OK) {
        cublasStatus_t s;
        const char *what;
        if (g->dtype == NB_FLOAT16 || g->dtype == NB_BFLOAT16) {
            s = product_ex(h, g, CUBLAS_COMPUTE_32F, op_a, ld_a, op_b, ld_b, ld_c);
            what = "cublasGemmEx";
        } else if (g->dtype == NB_FLOAT32 && g->tf32) {
            s = product_ex(h, g, CUBLAS_COMPUTE_32F_FAST_TF32, op_a, ld_a, op_b, ld_b, ld_c);
            what = "cublasGemmEx (TF32)";
        } else if (g->dtype == NB_FLOAT32) {
            const float one = 1.0f, zero = 0.0f;
            if (g->batch == 1)
                s = cublasSgemm_64(h, op_b, op_a, g->m, g->n, g->k, &one, (const float *)g->b.data, ld_b,
                                   (const float *)g->a.data, ld_a, &zero, (float *)g->c.data, ld_c);
            else
                s = cublasSgemmStridedBatched_64(h, op_b, op_a, g->m, g->n, g->k, &one,
                                                 (const float *)g->b.data, ld_b, g->b.bs,
                                                 (const float *)g->a.data, ld_a, g->a.bs, &zero,
                                                 (float *)g->c.data, ld_c, g->c.bs, g->batch);
            what = "cublasSgemm";
        } else {
            const double one = 1.0, zero = 0.0;
            if (g->batch == 1)
                s = cublasDgemm_64(h, op_b, op_a, g->m, g->n, g->k, &one, (const double *)g->b.data, ld_b,
                                   (const double *)g->a.data, ld_a, &zero, (double *)g->c.data, ld_c);
            else
                s = cublasDgemmStridedBatched_64(h, op_b, op_a, g->m, g->n, g->k, &one,
                                                 (const double *)g->b.data, ld_b, g->b.bs,
                                                 (const double *)g->a.data, ld_a, g->a.bs, &zero,
                                                 (double *)g->c.data, ld_c, g->c.bs, g->batch);
            what = "cublasDgemm";
        }
        st = blas_check(s, device, what);
    }
    nbk_cuda_unlock(device);
    return st;
}

/* Any product of a checked dtype: operands cuBLAS cannot take are staged, then one call. */
static nb_status gemm_any(int device, const nbk_gemm_args *g)
{
    if (g->batch <= 0 || g->n <= 0 || g->m <= 0) return NB_OK; /* an empty result */
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    const size_t esize = nb_dtype_size(g->dtype);
    if (g->k == 0) { /* a sum of nothing: zeros (cuBLAS would leave C alone) */
        return nbk_cuda_check(cudaMemsetAsync(g->c.data, 0, (size_t)(g->batch * g->n * g->m) * esize, stream),
                             device, "cudaMemsetAsync");
    }
    /* operands cuBLAS cannot take are copied dense first */
    nbk_gemm_args dense = *g;
    void *staged[2] = {NULL, NULL};
    cublasOperation_t op_a = CUBLAS_OP_N, op_b = CUBLAS_OP_N, op_c = CUBLAS_OP_N;
    int64_t ld_a = 0, ld_b = 0, ld_c = 0;
    if (!as_transposed(g->n, g->k, g->a.rs, g->a.cs, &op_a, &ld_a)) {
        st = stage(device, &g->a, g->dtype, g->batch, g->n, g->k, &dense.a, &staged[0]);
        if (st == NB_OK) as_transposed(g->n, g->k, dense.a.rs, dense.a.cs, &op_a, &ld_a);
    }
    if (st == NB_OK && !as_transposed(g->k, g->m, g->b.rs, g->b.cs, &op_b, &ld_b)) {
        st = stage(device, &g->b, g->dtype, g->batch, g->k, g->m, &dense.b, &staged[1]);
        if (st == NB_OK) as_transposed(g->k, g->m, dense.b.rs, dense.b.cs, &op_b, &ld_b);
    }
    if (st == NB_OK && (!as_transposed(g->n, g->m, g->c.rs, g->c.cs, &op_c, &ld_c) || op_c != CUBLAS_OP_N))
        st = nbk_fail(NB_ERR_ARGUMENT, "a product's result must be dense and row-major, got strides (%lld, %lld)",
                      (long long)g->c.rs, (long long)g->c.cs);
    if (st == NB_OK) st = product(device, stream, &dense, op_a, ld_a, op_b, ld_b, ld_c);
    /* stream order keeps the copies alive for the product queued above */
    nbk_cuda_free(device, staged[0]);
    nbk_cuda_free(device, staged[1]);
    return st;
}

nb_status nbk_cuda_gemm(int device, const nbk_gemm_args *g)
{
    if (g->dtype != NB_FLOAT32 && g->dtype != NB_FLOAT64)
        return nbk_fail(NB_ERR_DTYPE, "cuBLAS products take float32 or float64, got %s", nb_dtype_name(g->dtype));
    return gemm_any(device, g);
}

nb_status nbk_cuda_gemm_half(int device, const nbk_gemm_args *g)
{
    if (g->dtype != NB_FLOAT16 && g->dtype != NB_BFLOAT16)
        return nbk_fail(NB_ERR_DTYPE, "cuBLAS's half products take float16 or bfloat16, got %s",
                        nb_dtype_name(g->dtype));
    return gemm_any(device, g);
}
