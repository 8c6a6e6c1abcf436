/* random.c — the CPU's draws (kernels/random.h): every element's value is the pure function of
 * (seed, offset, index) that random.h defines, so a draw splits across threads into ranges of
 * elements (or rows of a multinomial) with no state shared between them. */
#include "random.h"

#include "../error.h"
#include "threads.h"

#include <omp.h>

/* Elements [begin, end) of the draw a into its output. */
static void draw_range(const nbk_random_args *a, int64_t begin, int64_t end)
{
    switch (a->kind) {
    case NBK_RANDOM_UNIFORM:
        if (a->dtype == NB_FLOAT32) {
            float *out = (float *)a->out; /* (n,) */
            for (int64_t i = begin; i < end; i++) out[i] = nbk_uniform_f32_at(a->seed, a->offset, i, a->a, a->b);
        } else {
            double *out = (double *)a->out; /* (n,) */
            for (int64_t i = begin; i < end; i++) out[i] = nbk_uniform_f64_at(a->seed, a->offset, i, a->a, a->b);
        }
        break;
    case NBK_RANDOM_NORMAL:
        for (int64_t i = begin; i < end; i++) {
            const double v = NBK_MUL_ADD(a->a, a->b, nbk_normal_at(a->seed, a->offset, i));
            if (a->dtype == NB_FLOAT32) ((float *)a->out)[i] = (float)v;
            else ((double *)a->out)[i] = v;
        }
        break;
    case NBK_RANDOM_RANDINT:
        for (int64_t i = begin; i < end; i++) {
            const int64_t v = nbk_randint_at(a->seed, a->offset, i, a->low, a->range);
            switch (a->dtype) {
            case NB_FLOAT32: ((float *)a->out)[i] = (float)v; break;
            case NB_FLOAT64: ((double *)a->out)[i] = (double)v; break;
            case NB_INT64: ((int64_t *)a->out)[i] = v; break;
            default: ((bool *)a->out)[i] = v != 0; break;
            }
        }
        break;
    case NBK_RANDOM_BERNOULLI:
        for (int64_t i = begin; i < end; i++) {
            const double p = a->probs ? nbk_prob(a->probs, a->probs_dtype, i) : a->a;
            const double v = nbk_bernoulli_at(a->seed, a->offset, i, p) ? a->b : 0.0;
            switch (a->dtype) {
            case NB_FLOAT32: ((float *)a->out)[i] = (float)v; break;
            case NB_FLOAT64: ((double *)a->out)[i] = v; break;
            case NB_INT64: ((int64_t *)a->out)[i] = (int64_t)v; break;
            default: ((bool *)a->out)[i] = v != 0; break;
            }
        }
        break;
    case NBK_RANDOM_MULTINOMIAL: /* begin and end count rows */
        for (int64_t r = begin; r < end; r++) {
            const char *row = (const char *)a->probs + r * a->categories * (int64_t)nb_dtype_size(a->probs_dtype);
            nbk_multinomial_row(a->seed, a->offset, r, row, a->probs_dtype, a->categories, a->samples,
                                a->replacement, (int64_t *)a->out + r * a->samples);
        }
        break;
    }
}

static const char *const multinomial_problem[] = {
    "", "probabilities must be finite and not negative", "the probabilities sum to 0",
    "fewer nonzero probabilities than samples without replacement",
};

nb_status nbk_cpu_random(const nbk_random_args *a, int max_threads)
{
    int64_t items = a->n;
    if (a->kind == NBK_RANDOM_MULTINOMIAL) {
        items = a->rows;
        const int64_t row_bytes = a->categories * (int64_t)nb_dtype_size(a->probs_dtype);
        for (int64_t r = 0; r < a->rows; r++) {
            const int bad = nbk_multinomial_check((const char *)a->probs + r * row_bytes, a->probs_dtype,
                                                  a->categories, a->samples, a->replacement);
            if (bad)
                return nbk_fail(NB_ERR_ARGUMENT, "invalid distribution in row %lld: %s", (long long)r,
                                multinomial_problem[bad]);
        }
    }
    if (items == 0) return NB_OK;
    /* a Philox output costs about what a softmax element does */
    const double work = a->kind == NBK_RANDOM_MULTINOMIAL ? (double)a->rows * (double)a->categories * (double)a->samples
                                                          : (double)items;
    const int nt = nbk_cpu_threads_for(work, NBK_CPU_UNIT_SOFTMAX, items, max_threads);
    if (nt <= 1) {
        draw_range(a, 0, items);
        return NB_OK;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) draw_range(a, items * t / nt, items * (t + 1) / nt);
    return NB_OK;
}
