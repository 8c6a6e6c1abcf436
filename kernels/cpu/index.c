/* index.c — the CPU index kernels (kernels/index.h): the check of every index, then gathers row
 * by row and scatters line by line, split across threads by threads.h's rule. The loops of each
 * dtype are index_typed.h's. */
#include "index.h"

#include "threads.h"

#include <stdbool.h>
#include <stdint.h>

/* TYPED(name) is name_SFX, so each dtype's loops get their own names (gather_rows_f32). */
#define TYPED_PASTE(name, sfx) name##_##sfx
#define TYPED_NAME(name, sfx) TYPED_PASTE(name, sfx)
#define TYPED(name) TYPED_NAME(name, SFX)

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

typedef void (*gather_fn)(const nbk_index_args *a, int64_t begin, int64_t end);
typedef void (*scatter_fn)(const nbk_index_args *a, bool add, int inner, int64_t chunk, int64_t begin, int64_t end);

static const gather_fn gathers[NB_DTYPE_COUNT] = {gather_rows_f32, gather_rows_f64, gather_rows_i64, gather_rows_b8};
static const scatter_fn scatters[NB_DTYPE_COUNT] = {scatter_items_f32, scatter_items_f64, scatter_items_i64,
                                                    scatter_items_b8};

bool nbk_cpu_index_find_bad(const nbk_index_args *a, int64_t *position, int64_t *value)
{
    /* only the dims the index varies along: a broadcast index is read once per element */
    int64_t shape[NB_MAX_DIMS], numel = 1;
    for (int d = 0; d < a->ndim; d++) {
        shape[d] = a->index_strides[d] != 0 ? a->shape[d] : 1;
        numel *= shape[d];
    }
    for (int64_t i = 0; i < numel; i++) {
        int64_t rest = i, off = 0;
        for (int d = a->ndim - 1; d >= 0; d--) {
            off += rest % shape[d] * a->index_strides[d];
            rest /= shape[d];
        }
        const int64_t v = a->index[off];
        if (v < 0 || v >= a->bound) {
            *position = off;
            *value = v;
            return true;
        }
    }
    return false;
}

void nbk_cpu_index_gather(const nbk_index_args *a, int max_threads)
{
    int64_t numel = 1;
    for (int d = 0; d < a->ndim; d++) numel *= a->shape[d];
    if (numel == 0) return;
    const int64_t rows = numel / a->shape[a->ndim - 1];
    const int nt = nbk_cpu_threads_for((double)numel, NBK_CPU_UNIT_EWISE, rows, max_threads);
    const gather_fn run = gathers[a->dtype];
    if (nt <= 1) {
        run(a, 0, rows);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) run(a, rows * t / nt, rows * (t + 1) / nt);
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
