/* attention.c — CPU kernels of scaled dot-product attention (kernels/attention.h), forward and
 * backward, fused: no (l, s) matrix of the whole problem is ever made.
 *
 * The forward runs over blocks of BLOCK_Q query rows of one batch (the threads share the
 * (batch, block) pairs): the block's scores against its keys are one BLIS product, each row's
 * softmax is taken in place (maximum, exp, a sum in double), and one more product gives the
 * block's output rows; the row's log-sum-exp is kept for the backward. The backward recomputes
 * each block's weights from q, k and lse (and dropout's mask from the generator), and runs
 * dv += (p z)^T g, dp = g v^T, ds = p (dp z - rowsum(g out)), dq = scale ds k and
 * dk += scale ds^T q as products. Threads take whole batches in the backward, whose blocks add
 * into dk and dv one after another in order, so the sums do not depend on the thread count.
 *
 * The products read k and v transposed, (e, s) and (ev, s), copied once per batch on each thread:
 * with both operands read by rows BLIS runs its broadcast kernels for small products, where k^T
 * by columns sent it to its slower dot-product kernels (a quarter of the time at T = 1024). The
 * scratch rows are padded (row_stride) so that no two fall a multiple of 4 KiB apart.
 *
 * The typed kernels are in attention_typed.h, included once per floating dtype. */
#include "attention.h"

#include "blis_setup.h"
#include "gemm.h"
#include "math_f32.h"
#include "threads.h"

#include "../error.h"

#include <blis.h>
#include <math.h>
#include <stdlib.h>

/* Query rows per block: the block's scores (BLOCK_Q, s) stay in cache for keys up to a few
 * thousand, and its products are large enough for BLIS to run at speed. */
#define BLOCK_Q 64
/* Independent partial results of a row's maximum and sum. */
#define LANES 8

#include "typed.h" /* TYPED(name): name_SFX */

#define T float
#define SFX f32
#define EXP exp_f32
#define GEMM bli_sgemm_ex
#include "attention_typed.h"

#define T double
#define SFX f64
#define EXP exp
#define GEMM bli_dgemm_ex
#include "attention_typed.h"

/* Threads for work of this many flops over items independent pieces. */
static int threads_for(const nbk_attention_args *a, int64_t items, int max_threads)
{
    const double flops = 2.0 * (double)a->batch * (double)a->l * (double)a->s * (double)(a->e + a->ev);
    return nbk_cpu_threads_for(flops, NBK_CPU_UNIT_GEMM_FLOPS, items, max_threads);
}

/* The distance between rows of the scratch of s keys: s rounded up to 16 elements and 16 more, so
 * rows do not fall a multiple of 4 KiB apart (where their cache lines would share sets). */
static int64_t row_stride(int64_t s)
{
    return (s + 15) / 16 * 16 + 16;
}

/* malloc of n elements of size esize, at least one */
static void *scratch(int64_t n, size_t esize)
{
    return malloc((size_t)(n > 0 ? n : 1) * esize);
}

static nb_status out_of_memory(const nbk_attention_args *a)
{
    return nbk_fail(NB_ERR_MEMORY, "out of memory for the scores of %d query rows against %lld keys", BLOCK_Q,
                    (long long)a->s);
}

nb_status nbk_cpu_attention_forward(const nbk_attention_args *a, void *out, void *lse, int max_threads)
{
    const int64_t blocks = (a->l + BLOCK_Q - 1) / BLOCK_Q, items = a->batch * blocks;
    if (items == 0) return NB_OK;
    nbk_blis_init();
    const size_t esize = nb_dtype_size(a->dtype);
    const int64_t ld = row_stride(a->s);
    const int nt = threads_for(a, items, max_threads);
    bool failed = false;
#pragma omp parallel num_threads(nt)
    {
        void *sc = scratch(BLOCK_Q * ld, esize); /* (BLOCK_Q, ld) scores */
        void *kt = scratch(a->e * ld, esize);    /* (e, ld): the keys of batch kt_b, transposed */
        int64_t kt_b = -1;
        if (!sc || !kt) {
#pragma omp atomic write
            failed = true;
        }
#pragma omp for schedule(static)
        for (int64_t item = 0; item < items; item++) {
            if (!sc || !kt) continue;
            const int64_t b = item / blocks, i0 = (item % blocks) * BLOCK_Q;
            const int64_t rows = a->l - i0 < BLOCK_Q ? a->l - i0 : BLOCK_Q;
            if (a->dtype == NB_FLOAT32) {
                if (b != kt_b) transpose_f32((const float *)a->k + b * a->s * a->e, a->s, a->e, kt, ld);
                forward_block_f32(a, b, i0, rows, kt, sc, ld, out, lse);
            } else {
                if (b != kt_b) transpose_f64((const double *)a->k + b * a->s * a->e, a->s, a->e, kt, ld);
                forward_block_f64(a, b, i0, rows, kt, sc, ld, out, lse);
            }
            kt_b = b;
        }
        free(sc);
        free(kt);
    }
    return failed ? out_of_memory(a) : NB_OK;
}

nb_status nbk_cpu_attention_backward(const nbk_attention_args *a, const void *out, const void *lse, const void *g,
                                     void *gq, void *gk, void *gv, int max_threads)
{
    if (a->batch == 0) return NB_OK;
    nbk_blis_init();
    const size_t esize = nb_dtype_size(a->dtype);
    const int64_t ld = row_stride(a->s);
    const int nt = threads_for(a, a->batch, max_threads);
    bool failed = false;
#pragma omp parallel num_threads(nt)
    {
        /* (BLOCK_Q, ld) weights and their gradient; (e, ld) and (ev, ld) a batch's keys and values
         * transposed */
        void *sc = scratch(BLOCK_Q * ld, esize), *dp = scratch(BLOCK_Q * ld, esize);
        void *kt = scratch(a->e * ld, esize), *vt = scratch(a->ev * ld, esize);
        const bool have = sc && dp && kt && vt;
        if (!have) {
#pragma omp atomic write
            failed = true;
        }
#pragma omp for schedule(static)
        for (int64_t b = 0; b < a->batch; b++) {
            if (!have) continue;
            if (a->dtype == NB_FLOAT32)
                backward_batch_f32(a, b, out, lse, g, gq, gk, gv, sc, dp, kt, vt, ld);
            else
                backward_batch_f64(a, b, out, lse, g, gq, gk, gv, sc, dp, kt, vt, ld);
        }
        free(sc);
        free(dp);
        free(kt);
        free(vt);
    }
    return failed ? out_of_memory(a) : NB_OK;
}
