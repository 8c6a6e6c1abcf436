/* gemm.c — the CPU matrix product through BLIS's typed API (bli_sgemm_ex, bli_dgemm_ex), given
 * each operand's own strides so that transposed and strided views are multiplied in place, with a
 * per-call thread count (an rntm_t) so BLIS never changes the process-wide OpenMP settings that
 * nabla's own loops use.
 *
 * Threads. A product of F flops gets one thread per NB_GEMM_FLOPS_PER_THREAD flops (at least one,
 * at most nabla's thread count): below 32 MFLOP, about 0.3 ms of single-thread work here, it runs
 * on the calling thread (the seed loop's products); the Fashion-MNIST step's 51 MFLOP products
 * get two threads, 1.9x faster on a quiet machine. Measured on the build machine (2 cores, AMD Zen 4, BLIS 0.9.0 zen3
 * kernels, float32), 200 interleaved calls each while other jobs shared the cores (load ~5):
 *     (n x k x m)          MFLOP   1 thread median / mean   2 threads median / mean
 *     64 x 1000 x 100       12.8      124 / 149 us             67 / 183 us
 *     128 x 1000 x 200      51        499 / 571                258 / 534
 *     256 x 512 x 256       67        596 / 642                303 / 323
 *     512 x 512 x 512      268       2640 / 2786              1387 / 1529
 * BLIS's threads meet at spinning barriers several times per call, and a partner descheduled by
 * another job stalls the call for a scheduler time slice: small products gain 1.8x on a quiet
 * machine but lose on average on a busy one. The seed loop (its 64 x 1000 x 100 products) ran at
 * 446 us per step on one thread and 1600-2800 us on two under that load (225 us on two when the
 * machine was quiet), so products this small stay on one thread, as the seed loop's do.
 * A batch of small products splits the batch across threads instead, one BLIS call per thread. */
#include "gemm.h"

#include "blis_setup.h"

#include <blis.h>

#define NB_GEMM_FLOPS_PER_THREAD 16e6

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
    double want = flops / NB_GEMM_FLOPS_PER_THREAD;
    if (want < 1) return 1;
    return want < max_threads ? (int)want : max_threads;
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
static void zero_result(const nbk_cpu_gemm_args *g)
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
static void gemm_one(const nbk_cpu_gemm_args *g, int64_t p, int nthreads)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(nthreads, &rntm);
    const nbk_cpu_matrix *a = &g->a, *b = &g->b, *c = &g->c;
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

void nbk_cpu_gemm(const nbk_cpu_gemm_args *g, int max_threads)
{
    if (g->batch == 0 || g->n == 0 || g->m == 0) return;
    if (g->k == 0) {
        zero_result(g);
        return;
    }
    nbk_blis_init();
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
