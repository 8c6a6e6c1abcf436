/* run.c — runs an elementwise iteration on the CPU: row by row over the coalesced shape, split
 * into contiguous ranges of elements across threads when it is large enough to pay for them. */
#include "cpu.h"
#include "threads.h"

#include <omp.h>

/* Runs elements [begin, end) of it in row order. */
static void run_range(const nb_iter *it, nbk_cpu_loop loop, const nb_scalars *s, int64_t begin,
                      int64_t end)
{
    const int nd = it->ndim, inner = nd - 1, nops = it->noperands;
    int64_t coord[NB_MAX_DIMS];
    int64_t rest = begin;
    for (int d = nd - 1; d >= 0; d--) {
        coord[d] = rest % it->shape[d];
        rest /= it->shape[d];
    }
    char *ptr[NB_ITER_MAX_OPERANDS];
    int64_t inner_strides[NB_ITER_MAX_OPERANDS];
    for (int k = 0; k < nops; k++) {
        ptr[k] = it->data[k];
        for (int d = 0; d < nd; d++) ptr[k] += coord[d] * it->strides[k][d];
        inner_strides[k] = it->strides[k][inner];
    }
    int64_t pos = begin;
    while (pos < end) {
        int64_t n = it->shape[inner] - coord[inner];
        if (n > end - pos) n = end - pos;
        loop(n, ptr, inner_strides, s);
        pos += n;
        if (pos >= end) break;
        /* step to the start of the next row, carrying into outer dims */
        for (int k = 0; k < nops; k++) ptr[k] -= coord[inner] * it->strides[k][inner];
        coord[inner] = 0;
        for (int d = inner - 1; d >= 0; d--) {
            coord[d]++;
            for (int k = 0; k < nops; k++) ptr[k] += it->strides[k][d];
            if (coord[d] < it->shape[d]) break;
            for (int k = 0; k < nops; k++) ptr[k] -= coord[d] * it->strides[k][d];
            coord[d] = 0;
        }
    }
}

void nbk_cpu_run(const nb_iter *it, nbk_cpu_loop loop, const nb_scalars *s, int nthreads)
{
    if (it->numel == 0) return;
    const int nt = nbk_cpu_threads_for((double)it->numel, NBK_CPU_UNIT_EWISE, 0, nthreads);
    if (nt <= 1) {
        run_range(it, loop, s, 0, it->numel);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
        int64_t begin = it->numel * t / nt, end = it->numel * (t + 1) / nt;
        run_range(it, loop, s, begin, end);
    }
}
