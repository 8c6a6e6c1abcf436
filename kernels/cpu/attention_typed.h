/* attention_typed.h — the typed CPU kernels of scaled dot-product attention for one floating
 * dtype, written once over the element type T. attention.c includes it once per dtype (no include
 * guard), with these defined:
 *   T      float or double
 *   SFX    the name suffix (f32, f64): TYPED(forward_block) names forward_block_f32
 *   EXP    T's exp: exp_f32 (math_f32.h) or the C library's exp
 *   GEMM   BLIS's typed product: bli_sgemm_ex or bli_dgemm_ex
 * and TYPED, BLOCK_Q, LANES and SIMD_CLONES from attention.c. They are undefined at the end.
 *
 * Work comes in blocks of up to BLOCK_Q query rows of one batch against every key the block may
 * attend (a causal block stops after its last row's index): the scores of the block, (rows, keys),
 * are one product through BLIS, then each row's softmax in place, then one product with V. */
#if !defined(T) || !defined(SFX) || !defined(EXP) || !defined(GEMM) || !defined(TYPED)
#error "attention_typed.h is included by attention.c after it defines T, SFX, EXP, GEMM and TYPED"
#endif

/* C (n, m) = alpha A (n, kk) B (kk, m) + beta C (beta 0 or 1) on one BLIS thread; each operand
 * with its own row and column strides. Empty products write zeros (beta 0) or nothing. */
static void TYPED(gemm)(int64_t n, int64_t m, int64_t kk, T alpha, const T *A, int64_t ars, int64_t acs,
                        const T *B, int64_t brs, int64_t bcs, T beta, T *C, int64_t crs, int64_t ccs)
{
    if (n <= 0 || m <= 0) return;
    if (kk <= 0) {
        if (beta == 0)
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j < m; j++) C[i * crs + j * ccs] = 0;
        return;
    }
    (void)nbk_cpu_gemm_layout(n, kk, &ars, &acs); /* dense operands always fit: this only normalises */
    (void)nbk_cpu_gemm_layout(kk, m, &brs, &bcs);
    (void)nbk_cpu_gemm_layout(n, m, &crs, &ccs);
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &rntm);
    GEMM(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, n, m, kk, &alpha, (T *)A, ars, acs, (T *)B, brs, bcs, &beta, C, crs,
         ccs, NULL, &rntm);
}

#include "row_helpers_typed.h" /* row_max, row_sum */

/* x[j] = EXP(x[j] - shift) for j < n: a loop the compiler vectorises */
SIMD_CLONES static void TYPED(exp_shifted)(T *restrict x, int64_t n, T shift)
{
    for (int64_t j = 0; j < n; j++) x[j] = EXP(x[j] - shift);
}

/* x[j] = EXP(x[j] - shift) for j < n, and the sum of the results in double, added in row_sum's
 * order (LANES partial sums from 2·LANES elements on), in one pass. */
SIMD_CLONES static double TYPED(exp_sum)(T *restrict x, int64_t n, T shift)
{
    double s = 0;
    int64_t j = 0;
    if (n >= 2 * LANES) {
        double lane[LANES] = {0};
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const T y = EXP(x[j + l] - shift);
                x[j + l] = y;
                lane[l] += y;
            }
        for (int l = 0; l < LANES; l++) s += lane[l];
    }
    for (; j < n; j++) {
        const T y = EXP(x[j] - shift);
        x[j] = y;
        s += y;
    }
    return s;
}

/* x[j] *= f for j < n */
SIMD_CLONES static void TYPED(scale_row)(T *restrict x, int64_t n, T f)
{
    for (int64_t j = 0; j < n; j++) x[j] *= f;
}

/* The gradient of the scores from the weights p (n) and the weights' gradient d (n), in place in
 * d: d[j] = p[j] (d[j] - di), for rows without dropout or a bool mask. */
SIMD_CLONES static void TYPED(ds_row)(const T *restrict p, T *restrict d, int64_t n, T di)
{
    for (int64_t j = 0; j < n; j++) d[j] = p[j] * (d[j] - di);
}

/* Adds the explicit mask's rows [i0, i0 + rows) of batch b, keys [0, keys), to sc (rows, keys),
 * rows ld apart: 0 or -inf for a bool mask, the values of a floating one (as nbk_attention_bias). */
static void TYPED(add_mask)(const nbk_attention_args *a, int64_t b, int64_t i0, int64_t rows, int64_t keys, T *sc,
                            int64_t ld)
{
    for (int64_t r = 0; r < rows; r++) {
        const int64_t at = b * a->mask_bs + (i0 + r) * a->s;
        T *restrict x = sc + r * ld;
        if (a->mask_dtype == NB_BOOL) {
            const bool *m = (const bool *)a->mask + at;
            for (int64_t j = 0; j < keys; j++) x[j] += m[j] ? (T)0 : (T)-INFINITY;
        } else if (a->mask_dtype == NB_FLOAT32) {
            const float *m = (const float *)a->mask + at;
            for (int64_t j = 0; j < keys; j++) x[j] += (T)m[j];
        } else {
            const double *m = (const double *)a->mask + at;
            for (int64_t j = 0; j < keys; j++) x[j] += (T)m[j];
        }
    }
}

/* xt (cols, rows), rows ld apart, = x^T for a dense x (rows, cols); 16 rows of x at a time, so
 * each cache line of xt is written whole. */
static void TYPED(transpose)(const T *restrict x, int64_t rows, int64_t cols, T *restrict xt, int64_t ld)
{
    for (int64_t j0 = 0; j0 < rows; j0 += 16) {
        const int64_t j1 = j0 + 16 < rows ? j0 + 16 : rows;
        for (int64_t c = 0; c < cols; c++)
            for (int64_t j = j0; j < j1; j++) xt[c * ld + j] = x[j * cols + c];
    }
}

/* Scores of rows [i0, i0 + rows) of batch b against keys [0, keys): sc (rows, keys), rows ld
 * apart, = scale q k^T plus an explicit mask's bias, from kt (e, keys), rows ld apart: batch b's
 * keys transposed, so that BLIS reads both operands by rows (with k^T read by columns it takes
 * its slower dot-product kernels for small products). Causality is not applied here: each row's
 * keys past its own, nbk_attention_key_end(a, i) and on, are left for the caller to skip. */
static void TYPED(scores)(const nbk_attention_args *a, int64_t b, int64_t i0, int64_t rows, int64_t keys,
                          const T *kt, T *sc, int64_t ld)
{
    const T *q = (const T *)a->q + (b * a->l + i0) * a->e;
    TYPED(gemm)(rows, keys, a->e, (T)a->scale, q, a->e, 1, kt, ld, 1, 0, sc, ld, 1);
    if (a->e == 0) /* scale times an empty sum: NaN for the default scale 1/sqrt(0), as the composition */
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < keys; j++) sc[r * ld + j] = (T)a->scale * (T)0;
    if (a->mask) TYPED(add_mask)(a, b, i0, rows, keys, sc, ld);
}

/* One query block's forward: out rows and lse of [i0, i0 + rows) of batch b, from kt (e, s), batch
 * b's keys transposed, rows ld apart; sc is scratch of (BLOCK_Q, ld). A causal row's softmax runs
 * over its own keys only (the rest of the block's keys get weight 0): only the block's last rows
 * reach its last keys. */
static void TYPED(forward_block)(const nbk_attention_args *a, int64_t b, int64_t i0, int64_t rows, const T *kt,
                                 T *sc, int64_t ld, T *out, T *lse)
{
    const int64_t keys = nbk_attention_key_end(a, i0 + rows - 1);
    TYPED(scores)(a, b, i0, rows, keys, kt, sc, ld);
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i = i0 + r, n = nbk_attention_key_end(a, i); /* the row's keys: [0, n) */
        T *x = sc + r * ld;
        if (a->s == 0) {
            lse[b * a->l + i] = -INFINITY;
            continue;
        }
        const T m = TYPED(row_max)(x, n);
        if (m == -INFINITY) { /* no key allowed: NaN, as softmax over -inf gives */
            for (int64_t j = 0; j < keys; j++) x[j] = NAN;
            lse[b * a->l + i] = NAN;
            continue;
        }
        const double sum = TYPED(exp_sum)(x, n, m);
        lse[b * a->l + i] = (T)((double)m + log(sum));
        TYPED(scale_row)(x, n, (T)(1.0 / sum));
        for (int64_t j = n; j < keys; j++) x[j] = 0;
        if (a->dropout_p > 0)
            for (int64_t j = 0; j < n; j++) x[j] *= (T)nbk_attention_keep(a, b, i, j);
    }
    const T *v = (const T *)a->v + b * a->s * a->ev;
    TYPED(gemm)(rows, a->ev, keys, 1, sc, ld, 1, v, a->ev, 1, 0, out + (b * a->l + i0) * a->ev, a->ev, 1);
}

/* Batch b's backward: gq rows block by block, gk and gv summed over the blocks in order. sc and
 * dp are scratch of (BLOCK_Q, ld) each, kt (e, ld) and vt (ev, ld) for the batch's keys and values
 * transposed. */
static void TYPED(backward_batch)(const nbk_attention_args *a, int64_t b, const T *out, const T *lse, const T *g,
                                  T *gq, T *gk, T *gv, T *sc, T *dp, T *kt, T *vt, int64_t ld)
{
    const int64_t l = a->l, s = a->s, e = a->e, ev = a->ev;
    const T *q = (const T *)a->q + b * l * e, *k = (const T *)a->k + b * s * e, *v = (const T *)a->v + b * s * ev;
    T *gkb = gk + b * s * e, *gvb = gv + b * s * ev;
    /* without dropout or a bool mask, every element of a row's keys keeps its gradient */
    const bool plain = a->dropout_p <= 0 && !(a->mask && a->mask_dtype == NB_BOOL);
    for (int64_t j = 0; j < s * e; j++) gkb[j] = 0;
    for (int64_t j = 0; j < s * ev; j++) gvb[j] = 0;
    TYPED(transpose)(k, s, e, kt, ld);
    TYPED(transpose)(v, s, ev, vt, ld);
    for (int64_t i0 = 0; i0 < l; i0 += BLOCK_Q) {
        const int64_t rows = l - i0 < BLOCK_Q ? l - i0 : BLOCK_Q;
        const int64_t keys = nbk_attention_key_end(a, i0 + rows - 1);
        const T *gb = g + (b * l + i0) * ev, *ob = out + (b * l + i0) * ev;
        TYPED(scores)(a, b, i0, rows, keys, kt, sc, ld);
        /* dp (rows, keys) = g v^T */
        TYPED(gemm)(rows, keys, ev, 1, gb, ev, 1, vt, ld, 1, 0, dp, ld, 1);
        for (int64_t r = 0; r < rows; r++) {
            const int64_t i = i0 + r, n = nbk_attention_key_end(a, i); /* the row's keys: [0, n) */
            T *x = sc + r * ld, *d = dp + r * ld;
            double di = 0;
            for (int64_t c = 0; c < ev; c++) di += (double)gb[r * ev + c] * ob[r * ev + c];
            TYPED(exp_shifted)(x, n, lse[b * l + i]); /* p, NaN for a row with no key */
            if (plain) {
                TYPED(ds_row)(x, d, n, (T)di);
            } else {
                for (int64_t j = 0; j < n; j++) {
                    const T z = a->dropout_p > 0 ? (T)nbk_attention_keep(a, b, i, j) : 1;
                    const T p = x[j];
                    d[j] = nbk_attention_removed(a, b, i, j) ? 0 : p * (d[j] * z - (T)di); /* ds */
                    x[j] = p * z;                                                          /* for gv */
                }
            }
            for (int64_t j = n; j < keys; j++) x[j] = d[j] = 0; /* causally removed: no weight, no gradient */
        }
        /* gv[:keys] += (p z)^T g; gq rows = scale ds k; gk[:keys] += scale ds^T q */
        TYPED(gemm)(keys, ev, rows, 1, sc, 1, ld, gb, ev, 1, 1, gvb, ev, 1);
        TYPED(gemm)(rows, e, keys, (T)a->scale, dp, ld, 1, k, e, 1, 0, gq + (b * l + i0) * e, e, 1);
        TYPED(gemm)(keys, e, rows, (T)a->scale, dp, 1, ld, q + i0 * e, e, 1, 1, gkb, e, 1);
    }
}

#undef T
#undef SFX
#undef EXP
#undef GEMM
