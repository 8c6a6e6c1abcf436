/* gemm.c — the CPU matrix product through BLIS's typed API (bli_sgemm_ex, bli_dgemm_ex), given
 * each operand's own strides so that transposed and strided views are multiplied in place, with a
 * per-call thread count (an rntm_t) so BLIS never changes the process-wide OpenMP settings that
 * nabla's own loops use. An operand BLIS cannot take (an expanded dim of stride 0, a negative
 * stride, overlapping rows) is copied into a dense buffer first.
 *
 * Threads follow kernels/cpu/threads.h's rule, in flops. Measured on the build machine (2 cores,
 * AMD Zen 4, BLIS 0.9.0 zen3 kernels, float32), 200 interleaved calls each while other jobs
 * shared the cores (load ~5):
 *     (n x k x m)          MFLOP   1 thread median / mean   2 threads median / mean
 *     64 x 1000 x 100       12.8      124 / 149 us             67 / 183 us
 *     128 x 1000 x 200      51        499 / 571                258 / 534
 *     256 x 512 x 256       67        596 / 642                303 / 323
 *     512 x 512 x 512      268       2640 / 2786              1387 / 1529
 * BLIS's threads meet at spinning barriers several times per call, and a partner descheduled by
 * another job stalls the call for a scheduler time slice: small products gain 1.8x on a quiet
 * machine but lose on average on a busy one. The seed loop (its 64 x 1000 x 100 products) ran at
 * 446 us per step on one thread and 1600-2800 us on two under that load (225 us on two when the
 * machine was quiet), so products this small stay on one thread, as the rule's unit gives.
 * A batch of small products splits the batch across threads instead, one BLIS call per thread. */
#include "gemm.h"

#include "blis_setup.h"
#include "host_cache.h"
#include "threads.h"

#include "../error.h"

#include <blis.h>
#include <string.h>

bool nbk_cpu_gemm_layout(int64_t rows, int64_t cols, int64_t *rs, int64_t *cs)
{
    if (rows <= 0 || cols <= 0) { /* empty: never handed to BLIS */
        *rs = cols > 1 ? cols : 1;
        *cs = 1;
        return true;
    }
    if (rows == 1 && cols == 1) {
        *rs = *cs = 1;
        return true;
    }
    if (rows == 1) *rs = cols * *cs; /* a single row: row-major with its column stride */
    if (cols == 1) *cs = rows * *rs; /* a single column: column-major with its row stride */
    int64_t r = *rs, c = *cs;
    if (r <= 0 || c <= 0) return false;
    /* BLIS 0.9's bli_check_matrix_strides, which aborts the process on failure */
    if (r == 1 && c == 1) return false;
    if (r == 1) return c >= rows;
    if (c == 1) return r >= cols;
    if (r == c) return false;
    if (r < c) return c / r >= rows; /* column-major tilt: cs >= rows * rs */
    return r / c >= cols;            /* row-major tilt: rs >= cols * cs */
}

static int threads_for(double flops, int max_threads)
{
    return nbk_cpu_threads_for(flops, NBK_CPU_UNIT_GEMM_FLOPS, 0, max_threads);
}

int nbk_cpu_gemm_threads(int64_t batch, int64_t n, int64_t k, int64_t m, int max_threads)
{
    double one = 2.0 * (double)n * (double)k * (double)m;
    int per_product = threads_for(one, max_threads);
    if (per_product > 1 || batch <= 1) return per_product;
    int across = threads_for(one * (double)batch, max_threads);
    return across < batch ? across : (int)batch;
}

/* Zeroes c's matrices (the product when k is 0). */
static void zero_result(const nbk_gemm_args *g)
{
    size_t elem = nb_dtype_size(g->dtype);
    for (int64_t p = 0; p < g->batch; p++)
        for (int64_t i = 0; i < g->n; i++)
            for (int64_t j = 0; j < g->m; j++) {
                char *e = g->c.data + (p * g->c.bs + i * g->c.rs + j * g->c.cs) * (int64_t)elem;
                if (g->dtype == NB_FLOAT32)
                    *(float *)e = 0;
                else
                    *(double *)e = 0;
            }
}

/* Product p of the batch on nthreads BLIS threads. */
static void gemm_one(const nbk_gemm_args *g, int64_t p, int nthreads)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(nthreads, &rntm);
    const nbk_matrix *a = &g->a, *b = &g->b, *c = &g->c;
    if (g->dtype == NB_FLOAT32) {
        float one = 1, zero = 0;
        float *pa = (float *)a->data + p * a->bs, *pb = (float *)b->data + p * b->bs;
        float *pc = (float *)c->data + p * c->bs;
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, g->n, g->m, g->k, &one, pa, a->rs, a->cs,
                     pb, b->rs, b->cs, &zero, pc, c->rs, c->cs, NULL, &rntm);
    } else {
        double one = 1, zero = 0;
        double *pa = (double *)a->data + p * a->bs, *pb = (double *)b->data + p * b->bs;
        double *pc = (double *)c->data + p * c->bs;
        bli_dgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, g->n, g->m, g->k, &one, pa, a->rs, a->cs,
                     pb, b->rs, b->cs, &zero, pc, c->rs, c->cs, NULL, &rntm);
    }
}

/* A dense copy of operand x of (batch, rows, cols), row-major, in *block (from the host cache):
 * what BLIS is given when it cannot take x's own strides. When x's batch stride is 0, one matrix
 * serves every product. */
static bool stage(const nbk_matrix *x, nb_dtype dtype, int64_t batch, int64_t rows, int64_t cols,
                  nbk_matrix *dense, void **block, size_t *capacity)
{
    const size_t esize = nb_dtype_size(dtype);
    const int64_t copies = x->bs == 0 ? 1 : batch;
    *block = nbk_host_alloc((size_t)(copies * rows * cols) * esize, capacity);
    if (!*block) return false;
    char *out = *block; /* (copies, rows, cols) */
    for (int64_t p = 0; p < copies; p++)
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++) {
                const char *e = x->data + (p * x->bs + i * x->rs + j * x->cs) * (int64_t)esize;
                memcpy(out + ((p * rows + i) * cols + j) * (int64_t)esize, e, esize);
            }
    *dense = (nbk_matrix){.data = out, .rs = cols, .cs = 1, .bs = copies == 1 ? 0 : rows * cols};
    return nbk_cpu_gemm_layout(rows, cols, &dense->rs, &dense->cs); /* a dense matrix always fits */
}

/* The products of g, every operand in a layout BLIS takes. */
static void run_products(const nbk_gemm_args *g, int max_threads)
{
    int nt = nbk_cpu_gemm_threads(g->batch, g->n, g->k, g->m, max_threads);
    double one = 2.0 * (double)g->n * (double)g->k * (double)g->m;
    if (g->batch == 1 || threads_for(one, max_threads) > 1 || nt == 1) {
        for (int64_t p = 0; p < g->batch; p++) gemm_one(g, p, nt);
        return;
    }
    /* many small products: the batch splits across threads, each product on one */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < g->batch; p++) gemm_one(g, p, 1);
}

nb_status nbk_cpu_gemm(const nbk_gemm_args *args, int max_threads)
{
    if (args->batch == 0 || args->n == 0 || args->m == 0) return NB_OK;
    if (args->k == 0) {
        zero_result(args);
        return NB_OK;
    }
    nbk_blis_init();
    nbk_gemm_args g = *args;
    void *blocks[2] = {NULL, NULL};
    size_t capacities[2] = {0, 0};
    (void)nbk_cpu_gemm_layout(g.n, g.m, &g.c.rs, &g.c.cs); /* dense, so it fits: this only normalises */
    bool ok = true;
    if (!nbk_cpu_gemm_layout(g.n, g.k, &g.a.rs, &g.a.cs))
        ok = stage(&args->a, g.dtype, g.batch, g.n, g.k, &g.a, &blocks[0], &capacities[0]);
    if (ok && !nbk_cpu_gemm_layout(g.k, g.m, &g.b.rs, &g.b.cs))
        ok = stage(&args->b, g.dtype, g.batch, g.k, g.m, &g.b, &blocks[1], &capacities[1]);
    if (ok) run_products(&g, max_threads);
    for (int i = 0; i < 2; i++)
        if (blocks[i]) nbk_host_free(blocks[i], capacities[i]);
    if (ok) return NB_OK;
    return nbk_fail(NB_ERR_MEMORY, "out of memory copying an operand of a (%lld, %lld) x (%lld, %lld) product",
                    (long long)g.n, (long long)g.k, (long long)g.k, (long long)g.m);
}

void nbk_cpu_product(nb_dtype dtype, int64_t m, int64_t n, int64_t k, nbk_operand a, nbk_operand b, double beta,
                     void *c, int64_t rsc, int nthreads)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(nthreads, &rntm);
    const trans_t ta = a.transposed ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
    const trans_t tb = b.transposed ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
    /* the strides of each matrix as stored, made acceptable to BLIS where a dim is 1 (a dense
     * matrix always is) */
    int64_t ars = a.rs, acs = 1, brs = b.rs, bcs = 1, crs = rsc, ccs = 1;
    (void)nbk_cpu_gemm_layout(a.transposed ? k : m, a.transposed ? m : k, &ars, &acs);
    (void)nbk_cpu_gemm_layout(b.transposed ? n : k, b.transposed ? k : n, &brs, &bcs);
    (void)nbk_cpu_gemm_layout(m, n, &crs, &ccs);
    if (dtype == NB_FLOAT32) {
        float one = 1, fbeta = (float)beta;
        bli_sgemm_ex(ta, tb, m, n, k, &one, (float *)a.data, ars, acs, (float *)b.data, brs, bcs, &fbeta, c, crs, ccs,
                     NULL, &rntm);
    } else {
        double one = 1;
        bli_dgemm_ex(ta, tb, m, n, k, &one, (double *)a.data, ars, acs, (double *)b.data, brs, bcs, &beta, c, crs,
                     ccs, NULL, &rntm);
    }
}
