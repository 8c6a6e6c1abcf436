/* reduce.c — the CPU reduction driver: splits a plan (kernels/cpu/reduce.h) into outputs, rows
 * and fixed blocks, spreads them over threads, and combines partial results in a fixed order.
 *
 * Three ways through a plan:
 *  - one output (a whole-tensor reduction): its elements are cut into fixed blocks of
 *    NBK_CPU_REDUCE_BLOCK; threads reduce blocks and the partials are combined in block order;
 *  - many outputs whose reduced dim is strided while an outer dim is contiguous (column sums of
 *    a row-major matrix): whole input rows are read in order and folded into a strip of
 *    accumulators, one per output; threads take strips;
 *  - otherwise each output reduces its own (possibly strided) row; threads take ranges of outputs;
 *    where several reduced dims remain (a list of dims that do not merge), each output folds its
 *    elements block by block as a whole reduction does, on one thread.
 * The typed loops live in reduce_loops.c (written once over the element type in reduce_typed.h);
 * partial results combine by the rules of kernels/reduce.h (nbk_cpu_reduce_combine). */
#include "reduce.h"

#include "reduce_loops.h"
#include "threads.h"

#include <omp.h>
#include <stdlib.h>

/* Threads for a reduction of this many elements in this many independent pieces. */
static int threads_for(int64_t elements, int64_t items, int nthreads)
{
    return nbk_cpu_threads_for((double)elements, NBK_CPU_UNIT_REDUCE, items, nthreads);
}

/* Folds elements [begin, end) of the output whose first element is at base into acc, one
 * innermost row at a time; elements count row-major over the reduced dims in the plan's order. */
static void fold_range(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p, const char *base,
                       int64_t begin, int64_t end, nbk_cpu_reduce_acc *acc)
{
    if (begin >= end) return;
    const int nd = p->red_ndim, inner = nd - 1;
    const int64_t *shape = p->red_shape, *strides = p->red_strides,
                  *istrides = p->red_index_strides;
    int64_t coord[NB_MAX_DIMS];
    int64_t rest = begin, index = 0; /* index: what argmax reports for the element at ptr */
    const char *ptr = base;
    for (int d = nd - 1; d >= 0; d--) {
        coord[d] = rest % shape[d];
        rest /= shape[d];
        ptr += coord[d] * strides[d] * k->esize;
        index += coord[d] * istrides[d];
    }
    int64_t pos = begin;
    while (pos < end) {
        int64_t n = shape[inner] - coord[inner];
        if (n > end - pos) n = end - pos;
        nbk_cpu_reduce_acc row = k->row(ptr, n, strides[inner], index, istrides[inner]);
        nbk_cpu_reduce_combine(k, acc, &row);
        pos += n;
        if (pos >= end) break;
        /* to the start of the next row, carrying into outer reduced dims */
        ptr -= coord[inner] * strides[inner] * k->esize;
        index -= coord[inner] * istrides[inner];
        coord[inner] = 0;
        for (int d = inner - 1; d >= 0; d--) {
            coord[d]++;
            ptr += strides[d] * k->esize;
            index += istrides[d];
            if (coord[d] < shape[d]) break;
            ptr -= coord[d] * strides[d] * k->esize;
            index -= coord[d] * istrides[d];
            coord[d] = 0;
        }
    }
}

/* The reduction of the count elements of one output, block by block. With nthreads > 1 the
 * blocks are spread over threads; the partials are combined in block order either way, so the
 * result has the same bits for every thread count. */
static nbk_cpu_reduce_acc reduce_output(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p,
                                       const char *base, int64_t count, int nthreads)
{
    nbk_cpu_reduce_acc total = {0};
    if (p->red_ndim == 1 && count <= NBK_CPU_REDUCE_BLOCK) { /* one row, one block */
        if (count > 0) total = k->row(base, count, p->red_strides[0], 0, p->red_index_strides[0]);
        return total;
    }
    const int64_t nblocks = (count + NBK_CPU_REDUCE_BLOCK - 1) / NBK_CPU_REDUCE_BLOCK;
    nbk_cpu_reduce_acc *partial = nthreads > 1 ? malloc((size_t)nblocks * sizeof *partial) : NULL;
    if (partial) {
#pragma omp parallel for num_threads(nthreads) schedule(static)
        for (int64_t b = 0; b < nblocks; b++) {
            int64_t begin = b * NBK_CPU_REDUCE_BLOCK;
            int64_t end = begin + NBK_CPU_REDUCE_BLOCK < count ? begin + NBK_CPU_REDUCE_BLOCK : count;
            partial[b] = (nbk_cpu_reduce_acc){0};
            fold_range(k, p, base, begin, end, &partial[b]);
        }
        for (int64_t b = 0; b < nblocks; b++) nbk_cpu_reduce_combine(k, &total, &partial[b]);
        free(partial);
        return total;
    }
    for (int64_t b = 0; b < nblocks; b++) { /* the same blocks, one after another */
        int64_t begin = b * NBK_CPU_REDUCE_BLOCK;
        int64_t end = begin + NBK_CPU_REDUCE_BLOCK < count ? begin + NBK_CPU_REDUCE_BLOCK : count;
        nbk_cpu_reduce_acc block = {0};
        fold_range(k, p, base, begin, end, &block);
        nbk_cpu_reduce_combine(k, &total, &block);
    }
    return total;
}

/* Outputs [begin, end) (row-major over the outer dims), each reducing its own row of count
 * elements: handed to the typed loop a run along the innermost outer dim at a time. */
static void rows_range(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p, int64_t count,
                       int64_t begin, int64_t end)
{
    const int nd = p->outer_ndim, last = nd - 1;
    const int64_t *shape = p->outer_shape, *in_st = p->outer_in_strides,
                  *out_st = p->outer_out_strides;
    int64_t coord[NB_MAX_DIMS];
    int64_t rest = begin, in_off = 0, out_off = 0;
    for (int d = nd - 1; d >= 0; d--) {
        coord[d] = rest % shape[d];
        rest /= shape[d];
        in_off += coord[d] * in_st[d];
        out_off += coord[d] * out_st[d];
    }
    const char *in = p->in;
    int64_t pos = begin;
    while (pos < end) {
        int64_t run = shape[last] - coord[last];
        if (run > end - pos) run = end - pos;
        k->rows(in + in_off * k->esize, count, p->red_strides[0], run, in_st[last], p, out_off,
                out_st[last]);
        pos += run;
        if (pos >= end) break;
        in_off -= coord[last] * in_st[last]; /* to the next run, carrying into outer dims */
        out_off -= coord[last] * out_st[last];
        coord[last] = 0;
        for (int d = last - 1; d >= 0; d--) {
            coord[d]++;
            in_off += in_st[d];
            out_off += out_st[d];
            if (coord[d] < shape[d]) break;
            in_off -= coord[d] * in_st[d];
            out_off -= coord[d] * out_st[d];
            coord[d] = 0;
        }
    }
}

static void run_rows(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p, int64_t outputs,
                     int64_t count, int nthreads)
{
    int nt = threads_for(outputs * count, outputs, nthreads);
    if (nt <= 1) {
        rows_range(k, p, count, 0, outputs);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) rows_range(k, p, count, outputs * t / nt, outputs * (t + 1) / nt);
}

/* The outer dim that is contiguous in the input when the reduced dim is not, or -1: then whole
 * input rows are read in order and folded into a strip of outputs. */
static int column_dim(const nbk_reduce_plan *p)
{
    if (p->red_ndim != 1 || p->red_strides[0] == 1 || p->red_shape[0] < 2) return -1;
    for (int d = 0; d < p->outer_ndim; d++)
        if (p->outer_in_strides[d] == 1 && p->outer_shape[d] > 1) return d;
    return -1;
}

/* Work item w of the column path: strip (w % strips) of the outer position w / strips, where
 * positions run over the outer dims other than v. */
static void run_column_item(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p, int v,
                            int64_t strips, int64_t w)
{
    int64_t strip = w % strips, rest = w / strips, in_off = 0, out_off = 0;
    for (int d = p->outer_ndim - 1; d >= 0; d--) {
        if (d == v) continue;
        int64_t c = rest % p->outer_shape[d];
        rest /= p->outer_shape[d];
        in_off += c * p->outer_in_strides[d];
        out_off += c * p->outer_out_strides[d];
    }
    const int64_t first = strip * NBK_CPU_REDUCE_STRIP, len = p->outer_shape[v];
    const int64_t width = len - first < NBK_CPU_REDUCE_STRIP ? len - first : NBK_CPU_REDUCE_STRIP;
    const int64_t out_stride = p->outer_out_strides[v];
    k->cols((const char *)p->in + (in_off + first) * k->esize, p->red_strides[0], p->red_shape[0],
            width, p, out_off + first * out_stride, out_stride);
}

static void run_columns(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p, int v,
                        int64_t outputs, int nthreads)
{
    const int64_t strips = (p->outer_shape[v] + NBK_CPU_REDUCE_STRIP - 1) / NBK_CPU_REDUCE_STRIP;
    const int64_t items = outputs / p->outer_shape[v] * strips;
    int nt = threads_for(outputs * p->red_shape[0], items, nthreads);
    if (nt <= 1) {
        for (int64_t w = 0; w < items; w++) run_column_item(k, p, v, strips, w);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t w = 0; w < items; w++) run_column_item(k, p, v, strips, w);
}

/* Outputs [begin, end) of a plan with several reduced dims, each folded on this thread. */
static void outputs_range(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p, int64_t count,
                          int64_t begin, int64_t end)
{
    for (int64_t o = begin; o < end; o++) {
        int64_t rest = o, in_off = 0, out_off = 0;
        for (int d = p->outer_ndim - 1; d >= 0; d--) {
            int64_t c = rest % p->outer_shape[d];
            rest /= p->outer_shape[d];
            in_off += c * p->outer_in_strides[d];
            out_off += c * p->outer_out_strides[d];
        }
        nbk_cpu_reduce_acc acc = reduce_output(k, p, (const char *)p->in + in_off * k->esize, count, 1);
        nbk_cpu_reduce_store(k, p, out_off, &acc);
    }
}

static void run_outputs(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p, int64_t outputs,
                        int64_t count, int nthreads)
{
    int nt = threads_for(outputs * count, outputs, nthreads);
    if (nt <= 1) {
        outputs_range(k, p, count, 0, outputs);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) outputs_range(k, p, count, outputs * t / nt, outputs * (t + 1) / nt);
}

void nbk_cpu_reduce(nbk_reduce_op op, nb_dtype dtype, const nbk_reduce_plan *p, int nthreads)
{
    nbk_cpu_reduce_kernel k;
    nbk_cpu_reduce_kernel_for(op, dtype, &k);
    const int64_t outputs = nbk_numel(p->outer_ndim, p->outer_shape);
    const int64_t count = nbk_numel(p->red_ndim, p->red_shape);
    if (outputs == 0) return;
    if (outputs == 1) {
        int nt =
            threads_for(count, (count + NBK_CPU_REDUCE_BLOCK - 1) / NBK_CPU_REDUCE_BLOCK, nthreads);
        nbk_cpu_reduce_acc acc = reduce_output(&k, p, p->in, count, nt);
        nbk_cpu_reduce_store(&k, p, 0, &acc);
        return;
    }
    if (p->red_ndim > 1) {
        run_outputs(&k, p, outputs, count, nthreads);
        return;
    }
    int v = column_dim(p);
    if (v >= 0)
        run_columns(&k, p, v, outputs, nthreads);
    else
        run_rows(&k, p, outputs, count, nthreads);
}
