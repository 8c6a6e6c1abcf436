/* rows.c — the CPU's products, scans and sorts along rows (kernels/rows.h): threads take ranges
 * of rows, each row done by one thread with the functions of kernels/rows_row.h (the same as
 * the GPU's), so results do not depend on the thread count. Sorts are stable merge sorts of
 * each row's indices. */
#include "rows.h"

#include "../error.h"
#include "../rows_row.h"
#include "threads.h"

#include <omp.h>
#include <stdlib.h>

static int threads_for_rows(int64_t rows, int64_t n, int nthreads)
{
    return nbk_cpu_threads_for((double)rows * (double)n, NBK_CPU_UNIT_REDUCE, rows, nthreads);
}

static void rows_range(nbk_rows_op op, const nbk_rows_args *a, int64_t begin, int64_t end)
{
    for (int64_t r = begin; r < end; r++) {
        switch (op) {
        case NBK_ROWS_PROD: nbk_rows_prod(a, r); break;
        case NBK_ROWS_PROD_OTHERS: nbk_rows_prod_others(a, r); break;
        case NBK_ROWS_CUMSUM: nbk_rows_cumsum(a, r); break;
        case NBK_ROWS_LOGSUMEXP: nbk_cpu_row_logsumexp(a, r); break;
        case NBK_ROWS_VAR: nbk_cpu_row_var(a, r); break;
        }
    }
}

void nbk_cpu_rows(nbk_rows_op op, const nbk_rows_args *a, int nthreads)
{
    const int nt = threads_for_rows(a->rows, a->n, nthreads);
    if (nt <= 1) {
        rows_range(op, a, 0, a->rows);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) rows_range(op, a, a->rows * t / nt, a->rows * (t + 1) / nt);
}

/* Sorts idx (n,) of the row by nbk_sort_before, bottom-up merges through tmp (n,). */
static void sort_row(const nbk_sort_args *a, const void *row, int64_t *idx, int64_t *tmp)
{
    const int64_t n = a->n;
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    int64_t *src = idx, *dst = tmp;
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi) /* the right run's element goes first only when strictly before */
                dst[o++] = nbk_sort_before(a, row, src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid) dst[o++] = src[i++];
            while (j < hi) dst[o++] = src[j++];
        }
        int64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != idx)
        for (int64_t i = 0; i < n; i++) idx[i] = src[i];
}

static bool sort_range(const nbk_sort_args *a, int64_t begin, int64_t end)
{
    if (begin >= end) return true;
    int64_t *scratch = malloc(2 * (size_t)(a->n > 0 ? a->n : 1) * sizeof *scratch);
    if (!scratch) return false;
    const int64_t esize = nbk_rows_esize(a->dtype);
    for (int64_t r = begin; r < end; r++) {
        const char *row = (const char *)a->in + r * a->n * esize;
        sort_row(a, row, scratch, scratch + a->n);
        for (int64_t i = 0; i < a->k; i++) nbk_sort_place(a, r, scratch[i], i);
    }
    free(scratch);
    return true;
}

nb_status nbk_cpu_sort(const nbk_sort_args *a, int nthreads)
{
    const int nt = threads_for_rows(a->rows, a->n, nthreads);
    bool ok = true;
    if (nt <= 1) {
        ok = sort_range(a, 0, a->rows);
    } else {
#pragma omp parallel for num_threads(nt) schedule(static) reduction(&& : ok)
        for (int t = 0; t < nt; t++) ok = sort_range(a, a->rows * t / nt, a->rows * (t + 1) / nt) && ok;
    }
    if (!ok)
        return nbk_fail(NB_ERR_MEMORY, "out of memory for the sort's scratch space (%lld elements)",
                        (long long)(2 * a->n));
    return NB_OK;
}
