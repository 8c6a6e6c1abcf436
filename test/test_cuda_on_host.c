/* test_cuda_on_host.c — suite cuda: CUDA kernels whose block code also runs on the host, checked
 * here without a GPU against the CPU's kernels on the same arguments. The fused attention forward
 * and backward (kernels/cuda/attention_*.cuh) run item after item through the host executor: partial
 * tiles of rows and keys, causal items of every shape, bool and additive masks (shared and per
 * batch), rows with no key (NaN), no keys at all, dropout, head dims 1 to 128, float32, float64,
 * and float16 and bfloat16 (widened on load, rounded once). Built with CUDA only. */
#include "helpers.h"

#ifdef NB_HAVE_CUDA

#include "../kernels/cpu/attention.h"
#include "../kernels/cuda/attention.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum { NO_MASK, BOOL_SHARED, BOOL_PER_BATCH, ADD_SHARED } mask_kind;

typedef struct host_case {
    const char *name;
    int64_t batch, l, s, e, ev;
    bool causal;
    mask_kind mask;
    double dropout_p;
} host_case;

static const host_case cases[] = {
    {"partial tiles", 3, 70, 131, 5, 7, false, NO_MASK, 0},
    {"causal, square", 2, 150, 150, 32, 32, true, NO_MASK, 0},
    {"causal, fewer rows than keys", 2, 40, 100, 16, 8, true, NO_MASK, 0},
    {"causal, more rows than keys", 2, 100, 37, 16, 8, true, NO_MASK, 0},
    {"bool mask per batch, a row with no key", 2, 33, 65, 8, 8, false, BOOL_PER_BATCH, 0},
    {"bool mask shared", 3, 20, 70, 4, 12, false, BOOL_SHARED, 0},
    {"additive mask shared", 2, 65, 64, 9, 3, false, ADD_SHARED, 0},
    {"dropout", 2, 50, 90, 8, 8, false, NO_MASK, 0.3},
    {"causal with dropout", 1, 70, 70, 8, 8, true, NO_MASK, 0.25},
    {"head dims 128", 1, 65, 70, 128, 128, false, NO_MASK, 0},
    {"head dims 40 and 48", 2, 70, 80, 40, 48, true, NO_MASK, 0},
    {"head dim 1", 2, 10, 300, 1, 1, false, NO_MASK, 0},
    {"no keys", 2, 5, 0, 4, 4, false, NO_MASK, 0},
};

/* (n,) values of dtype from a fixed draw, host memory owned by the scope */
static nb_tensor *values(int64_t n, nb_dtype dtype, double scale)
{
    nb_tensor *t = nb_mul_scalar(nb_randn(NB_SHAPE(n > 0 ? n : 0), NB_OPTS(NB_FLOAT32)), scale);
    return nb_contiguous(nb_to_dtype(t, dtype));
}

/* got and want (any floating dtypes, one size) element by element: |got - want| <= atol + rtol
 * |want|, NaN where want is NaN, infinities equal. */
static void assert_close_msg(const nb_tensor *got, const nb_tensor *want, double rtol, double atol, const char *what)
{
    nb_tensor *g = nb_contiguous(nb_to_dtype(got, NB_FLOAT64)), *w = nb_contiguous(nb_to_dtype(want, NB_FLOAT64));
    cr_assert(g && w && nb_numel(g) == nb_numel(w), "%s: %s", what, nb_last_error());
    const double *gv = nb_data(g), *wv = nb_data(w);
    for (int64_t i = 0; i < nb_numel(w); i++) {
        if (isnan(wv[i]) || isinf(wv[i])) {
            cr_assert(isnan(wv[i]) ? isnan(gv[i]) : gv[i] == wv[i], "%s: element %lld is %g, expected %g", what,
                      (long long)i, gv[i], wv[i]);
            continue;
        }
        cr_assert(fabs(gv[i] - wv[i]) <= atol + rtol * fabs(wv[i]), "%s: element %lld is %.17g, expected %.17g",
                  what, (long long)i, gv[i], wv[i]);
    }
}

/* A kernel's result against the CPU's: as float32 or float64 within rtol and atol; a half one as
 * the CPU's float32 result rounded once, within a unit of the dtype where float32's own last bits
 * decide the rounding. */
static void assert_result(const nb_tensor *got, const nb_tensor *want, nb_dtype dtype, double rtol, double atol,
                          const char *what)
{
    if (dtype == NB_FLOAT16 || dtype == NB_BFLOAT16)
        assert_close_msg(nb_to_dtype(got, NB_FLOAT32), nb_to_dtype(nb_to_dtype(want, dtype), NB_FLOAT32),
                         dtype == NB_FLOAT16 ? 0x1p-10 : 0x1p-7, 1e-5, what);
    else
        assert_close_msg(got, want, rtol, atol, what);
}

/* Runs case c at dtype (inputs of in_dtype, widened to dtype for the CPU) on both kernels and
 * compares out and lse. For half inputs the CPU computes in float32 and its output is rounded. */
static void check_case(const host_case *c, nb_dtype in_dtype)
{
    const bool half = in_dtype == NB_FLOAT16 || in_dtype == NB_BFLOAT16;
    const nb_dtype cpu_dtype = half ? NB_FLOAT32 : in_dtype;
    nb_manual_seed(7);
    nb_tensor *q = values(c->batch * c->l * c->e, in_dtype, 1.5), *k = values(c->batch * c->s * c->e, in_dtype, 1.5);
    nb_tensor *v = values(c->batch * c->s * c->ev, in_dtype, 1);
    nb_tensor *mask = NULL;
    const int64_t mask_n = (c->mask == BOOL_PER_BATCH ? c->batch : 1) * c->l * c->s;
    if (c->mask == ADD_SHARED) mask = values(mask_n, cpu_dtype, 2);
    if (c->mask == BOOL_SHARED || c->mask == BOOL_PER_BATCH) {
        mask = nb_contiguous(nb_gt_scalar(nb_rand(NB_SHAPE(mask_n), NB_OPTS(NB_FLOAT32)), 0.3));
        bool *m = nb_data(mask);
        for (int64_t j = 0; j < c->s; j++) m[3 * c->s + j] = false; /* row 3 of batch 0 attends nothing */
    }
    nbk_attention_args a = {.dtype = in_dtype, .batch = c->batch, .l = c->l, .s = c->s, .e = c->e, .ev = c->ev,
                            .scale = 1.0 / sqrt((double)c->e), .causal = c->causal,
                            .mask = mask ? nb_data(mask) : NULL, .mask_dtype = mask ? nb_dtype_of(mask) : NB_BOOL,
                            .mask_bs = c->mask == BOOL_PER_BATCH ? c->l * c->s : 0, .dropout_p = c->dropout_p,
                            .seed = 1234, .offset = 56};
    nb_tensor *out = nb_zeros(NB_SHAPE(c->batch * c->l * c->ev), NB_OPTS(in_dtype));
    nb_tensor *lse = nb_zeros(NB_SHAPE(c->batch * c->l), NB_OPTS(cpu_dtype)); /* float32 for half inputs */
    a.q = nb_data(q), a.k = nb_data(k), a.v = nb_data(v);
    cr_assert_eq(nbk_cuda_attention_forward_on_host(&a, nb_data(out), nb_data(lse)), NB_OK, "%s", c->name);

    nb_tensor *wq = nb_contiguous(nb_to_dtype(q, cpu_dtype)), *wk = nb_contiguous(nb_to_dtype(k, cpu_dtype));
    nb_tensor *wv = nb_contiguous(nb_to_dtype(v, cpu_dtype));
    nb_tensor *want = nb_zeros(NB_SHAPE(c->batch * c->l * c->ev), NB_OPTS(cpu_dtype));
    nb_tensor *want_lse = nb_zeros(NB_SHAPE(c->batch * c->l), NB_OPTS(cpu_dtype));
    nbk_attention_args w = a;
    w.dtype = cpu_dtype, w.q = nb_data(wq), w.k = nb_data(wk), w.v = nb_data(wv);
    cr_assert_eq(nbk_cpu_attention_forward(&w, nb_data(want), nb_data(want_lse), 1), NB_OK, "%s", c->name);

    char what[160];
    snprintf(what, sizeof what, "%s (%s): lse", c->name, nb_dtype_name(in_dtype));
    const double rtol = cpu_dtype == NB_FLOAT64 ? 1e-12 : 2e-6, atol = cpu_dtype == NB_FLOAT64 ? 1e-13 : 2e-6;
    assert_close_msg(lse, want_lse, rtol, atol, what);
    snprintf(what, sizeof what, "%s (%s): out", c->name, nb_dtype_name(in_dtype));
    assert_result(out, want, in_dtype, rtol, atol, what);

    /* the backward from the CPU's forward (both kernels read the same out and lse) */
    nb_tensor *g = values(c->batch * c->l * c->ev, in_dtype, 1), *wg = nb_contiguous(nb_to_dtype(g, cpu_dtype));
    nb_tensor *out_in = nb_contiguous(nb_to_dtype(want, in_dtype)); /* the forward's output as the kernel keeps it */
    nb_tensor *wout = nb_contiguous(nb_to_dtype(out_in, cpu_dtype));
    nb_tensor *grads[3], *wants[3];
    const int64_t sizes[3] = {c->batch * c->l * c->e, c->batch * c->s * c->e, c->batch * c->s * c->ev};
    for (int i = 0; i < 3; i++) {
        grads[i] = nb_full(NB_SHAPE(sizes[i]), 7, NB_OPTS(in_dtype)); /* every element must be written */
        wants[i] = nb_zeros(NB_SHAPE(sizes[i]), NB_OPTS(cpu_dtype));
    }
    cr_assert_eq(nbk_cuda_attention_backward_on_host(&a, nb_data(out_in), nb_data(want_lse), nb_data(g),
                                                     nb_data(grads[0]), nb_data(grads[1]), nb_data(grads[2])),
                 NB_OK, "%s", c->name);
    cr_assert_eq(nbk_cpu_attention_backward(&w, nb_data(wout), nb_data(want_lse), nb_data(wg), nb_data(wants[0]),
                                            nb_data(wants[1]), nb_data(wants[2]), 1),
                 NB_OK, "%s", c->name);
    static const char *const names[3] = {"dq", "dk", "dv"};
    for (int i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "%s (%s): %s", c->name, nb_dtype_name(in_dtype), names[i]);
        assert_result(grads[i], wants[i], in_dtype, cpu_dtype == NB_FLOAT64 ? 1e-11 : 2e-5,
                      cpu_dtype == NB_FLOAT64 ? 1e-12 : 2e-5, what);
    }
}

Test(cuda, attention_block_code_on_the_host_equals_the_cpu, .init = nb_test_setup)
{
    const nb_dtype dtypes[4] = {NB_FLOAT32, NB_FLOAT64, NB_FLOAT16, NB_BFLOAT16};
    for (int d = 0; d < 4; d++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            nb_scope_begin();
            check_case(&cases[i], dtypes[d]);
            cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
        }
}

#endif /* NB_HAVE_CUDA */
