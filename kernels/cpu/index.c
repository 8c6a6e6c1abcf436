/* index.c — the CPU index kernels (kernels/index.h): the check of every index, then gathers row
 * by row and scatters line by line, split across threads by threads.h's rule. The loops of each
 * dtype are index_typed.h's. */
#include "index.h"

#include "threads.h"

#include "../half.h"

#define NB_MAX_THREADS_INDEX 256 /* the most threads one gather splits across */
#define PREFETCH_ROWS 8          /* a 2-D gather of whole rows fetches the row this far ahead */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* TYPED(name) is name_SFX, so each dtype's loops get their own names (gather_rows_f32). */
#include "typed.h" /* TYPED(name): name_SFX */

#define T float
#define SFX f32
#define ADD(x, y) ((x) + (y))
#define SCALE(x, alpha) ((x) * (alpha))
#include "index_typed.h"
#undef T
#undef SFX

#define T double
#define SFX f64
#include "index_typed.h"
#undef T
#undef SFX

#define T int64_t
#define SFX i64
#include "index_typed.h"
#undef T
#undef SFX
#undef ADD
#undef SCALE

#define T bool
#define SFX b8
#define ADD(x, y) ((x) || (y))
#define SCALE(x, alpha) ((x) && (alpha))
#include "index_typed.h"
#undef T
#undef SFX
#undef ADD
#undef SCALE

/* float16 and bfloat16: bit patterns moved as they are; adding and scaling in float32, rounded once */
#define T uint16_t
#define SFX f16
#define ADD(x, y) nbk_f32_to_f16(nbk_f16_to_f32(x) + nbk_f16_to_f32(y))
#define SCALE(x, alpha) nbk_f32_to_f16(nbk_f16_to_f32(x) * nbk_f16_to_f32(alpha))
#define ALPHA(v) nbk_f32_to_f16((float)(v))
#include "index_typed.h"
#undef T
#undef SFX
#undef ADD
#undef SCALE
#undef ALPHA

#define T uint16_t
#define SFX bf16
#define ADD(x, y) nbk_f32_to_bf16(nbk_bf16_to_f32(x) + nbk_bf16_to_f32(y))
#define SCALE(x, alpha) nbk_f32_to_bf16(nbk_bf16_to_f32(x) * nbk_bf16_to_f32(alpha))
#define ALPHA(v) nbk_f32_to_bf16((float)(v))
#include "index_typed.h"
#undef T
#undef SFX
#undef ADD
#undef SCALE
#undef ALPHA

typedef int64_t (*gather_fn)(const nbk_index_args *a, int64_t begin, int64_t end, int64_t *value);
typedef void (*scatter_fn)(const nbk_index_args *a, bool add, int inner, int64_t chunk, int64_t begin, int64_t end);

static const gather_fn gathers[NB_DTYPE_COUNT] = {gather_rows_f32, gather_rows_f64, gather_rows_i64, gather_rows_b8,
                                                  gather_rows_f16, gather_rows_bf16};
static const scatter_fn scatters[NB_DTYPE_COUNT] = {scatter_items_f32, scatter_items_f64, scatter_items_i64,
                                                    scatter_items_b8, scatter_items_f16, scatter_items_bf16};

bool nbk_cpu_index_find_bad(const nbk_index_args *a, int64_t *position, int64_t *value)
{
    /* only the dims the index varies along (a broadcast index is read once per element), walked
     * in order with a counter per dim */
    int nd = 0;
    int64_t shape[NB_MAX_DIMS], strides[NB_MAX_DIMS], coord[NB_MAX_DIMS] = {0};
    for (int d = 0; d < a->ndim; d++)
        if (a->index_strides[d] != 0 && a->shape[d] != 1) {
            shape[nd] = a->shape[d];
            strides[nd++] = a->index_strides[d];
        }
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] == 0) return false;
    const uint64_t bound = (uint64_t)a->bound;
    const int64_t inner = nd > 0 ? shape[nd - 1] : 1, step = nd > 0 ? strides[nd - 1] : 0;
    int64_t off = 0;
    for (;;) {
        for (int64_t k = 0; k < inner; k++) {
            const int64_t v = a->index[off + k * step];
            if ((uint64_t)v >= bound) {
                *position = off + k * step;
                *value = v;
                return true;
            }
        }
        int d = nd - 2; /* the next row: carry into the outer dims */
        for (; d >= 0; d--) {
            off += strides[d];
            if (++coord[d] < shape[d]) break;
            off -= coord[d] * strides[d];
            coord[d] = 0;
        }
        if (d < 0) return false;
    }
}

bool nbk_cpu_index_gather(const nbk_index_args *a, int max_threads, int64_t *position, int64_t *value)
{
    int64_t numel = 1;
    for (int d = 0; d < a->ndim; d++) numel *= a->shape[d];
    if (numel == 0) return true;
    const int64_t rows = numel / a->shape[a->ndim - 1];
    const int nt = nbk_cpu_threads_for((double)numel, NBK_CPU_UNIT_EWISE, rows, max_threads);
    const gather_fn run = gathers[a->dtype];
    if (nt <= 1) {
        *position = run(a, 0, rows, value);
        return *position < 0;
    }
    int64_t bad[NB_MAX_THREADS_INDEX], values[NB_MAX_THREADS_INDEX];
    const int teams = nt < NB_MAX_THREADS_INDEX ? nt : NB_MAX_THREADS_INDEX;
#pragma omp parallel for num_threads(teams) schedule(static)
    for (int t = 0; t < teams; t++) bad[t] = run(a, rows * t / teams, rows * (t + 1) / teams, &values[t]);
    for (int t = 0; t < teams; t++) /* the first in row order: the lowest team's */
        if (bad[t] >= 0) {
            *position = bad[t];
            *value = values[t];
            return false;
        }
    return true;
}

void nbk_cpu_index_scatter(const nbk_index_args *a, bool add, int max_threads)
{
    int64_t numel = 1;
    for (int d = 0; d < a->ndim; d++) numel *= a->shape[d];
    if (numel == 0) return;
    int inner = -1; /* the last dim that is not dim */
    for (int d = a->ndim - 1; d >= 0 && inner < 0; d--)
        if (d != a->dim) inner = d;
    const int64_t inner_n = inner >= 0 ? a->shape[inner] : 1;
    const int64_t outer = numel / a->shape[a->dim] / inner_n;
    int nt = nbk_cpu_threads_for((double)numel, NBK_CPU_UNIT_EWISE, outer * inner_n, max_threads);
    /* few outer lines: the inner dim is cut into a chunk per thread */
    const int64_t pieces = outer >= nt ? 1 : nt;
    const int64_t chunk = (inner_n + pieces - 1) / pieces;
    const int64_t items = outer * ((inner_n + chunk - 1) / chunk);
    const scatter_fn run = scatters[a->dtype];
    if (nt <= 1 || items < 2) {
        run(a, add, inner, chunk, 0, items);
        return;
    }
    if (nt > items) nt = (int)items;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) run(a, add, inner, chunk, items * t / nt, items * (t + 1) / nt);
}
