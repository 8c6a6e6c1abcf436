/* reduce_loops.c — the typed loops of the CPU reductions: reduce_typed.h, written once over an
 * element type, included here once per input dtype (float32, float64, int64, bool), and the
 * [op][dtype] tables through which the driver (reduce.c) finds a plan's row, many-rows and
 * column loops. */
#include "reduce_loops.h"

#include <string.h>

/* Row loops keep LANES partial results, updated LANES elements at a time: the inner loop over
 * the lanes is what the compiler vectorises. Sums keep fewer, in float64, to stay in registers. */
#define LANES 32
#define SUM_LANES 16
/* argmax/argmin scan a row in chunks of this many elements, looking for the first position of
 * a chunk's extreme only when it beats the best so far (one pass; the chunk is still in cache). */
#define ARG_CHUNK 1024

/* The typed file's helpers are inlined into its loops, where op and max/min are constants. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))
/* TYPED(name) is name_SFX, so each dtype's functions get their own names (sum_row_f32). */
#include "typed.h" /* TYPED(name): name_SFX */

#define T float
#define SFX f32
#define IS_FLOAT 1
#define BITS uint32_t
#define SUM_ACC double
#define COL_VECTOR 1
#define COL_ROW int32_t
#define COL_ROW_MAX INT32_MAX
#include "reduce_typed.h"

#define T double
#define SFX f64
#define IS_FLOAT 1
#define BITS uint64_t
#define SUM_ACC double
#define COL_VECTOR 0
#define COL_ROW int64_t
#define COL_ROW_MAX INT64_MAX
#include "reduce_typed.h"

#define T int64_t
#define SFX i64
#define IS_FLOAT 0
#define BITS uint64_t
#define SUM_ACC uint64_t
#define COL_VECTOR 0
#define COL_ROW int64_t
#define COL_ROW_MAX INT64_MAX
#include "reduce_typed.h"

#define T bool
#define SFX b8
#define IS_FLOAT 0
#define BITS uint8_t
#define SUM_ACC uint64_t
#define COL_VECTOR 0
#define COL_ROW int64_t
#define COL_ROW_MAX INT64_MAX
#include "reduce_typed.h"

/* ---------------------------------------------------------------- the tables */

#define PER_DTYPE(name) {name##_f32, name##_f64, name##_i64, name##_b8}
#define PER_OP(kind)                                                                               \
    {PER_DTYPE(sum_##kind), PER_DTYPE(max_##kind), PER_DTYPE(min_##kind),                          \
     PER_DTYPE(argmax_##kind), PER_DTYPE(argmin_##kind)}

/* [op][dtype], in the order of nbk_reduce_op and nb_dtype */
static const nbk_cpu_reduce_row_fn row_fns[][NB_DTYPE_COUNT] = PER_OP(row);
static const nbk_cpu_reduce_rows_fn rows_fns[][NB_DTYPE_COUNT] = PER_OP(rows);
static const nbk_cpu_reduce_cols_fn col_fns[][NB_DTYPE_COUNT] = PER_OP(cols);

void nbk_cpu_reduce_kernel_for(nbk_reduce_op op, nb_dtype dtype, nbk_cpu_reduce_kernel *k)
{
    k->op = op;
    k->dtype = dtype;
    k->esize = dtype == NB_BOOL ? 1 : dtype == NB_FLOAT16 || dtype == NB_BFLOAT16 ? 2 : dtype == NB_FLOAT32 ? 4 : 8;
    k->is_float = dtype == NB_FLOAT32 || dtype == NB_FLOAT64;
    k->row = row_fns[op][dtype];
    k->rows = rows_fns[op][dtype];
    k->cols = col_fns[op][dtype];
}

void nbk_cpu_reduce_store(const nbk_cpu_reduce_kernel *k, const nbk_reduce_plan *p,
                          int64_t out_off, const nbk_cpu_reduce_acc *acc)
{
    switch (k->dtype) {
    case NB_FLOAT32: store_f32(k->op, p, out_off, acc); return;
    case NB_FLOAT64: store_f64(k->op, p, out_off, acc); return;
    case NB_INT64: store_i64(k->op, p, out_off, acc); return;
    case NB_BOOL: store_b8(k->op, p, out_off, acc); return;
    case NB_FLOAT16: case NB_BFLOAT16: return; /* no half kernels: lib computes them in float32 */
    }
}
