/* random.c — the CPU's draws (kernels/random.h): every element's value is the pure function of
 * (seed, offset, index) that random.h defines, so a draw splits across threads into ranges of
 * elements (or rows of a multinomial) with no state shared between them. */
#include "random.h"

#include "../error.h"
#include "threads.h"

#include <math.h>
#include <omp.h>

/* Stores v as element i of out (dtype). */
static inline void store(const nbk_random_args *a, int64_t i, double v)
{
    switch (a->dtype) {
    case NB_FLOAT32: ((float *)a->out)[i] = (float)v; break;
    case NB_FLOAT64: ((double *)a->out)[i] = v; break;
    case NB_INT64: ((int64_t *)a->out)[i] = (int64_t)v; break;
    default: ((bool *)a->out)[i] = v != 0; break;
    }
}

/* Elements [begin, end) of the draw a into its output (n,), one Philox output at a time: the
 * elements that share it (kernels/random.h) are made from the one call. */
static void draw_range(const nbk_random_args *a, int64_t begin, int64_t end)
{
    if (a->kind == NBK_RANDOM_MULTINOMIAL) { /* begin and end count rows */
        for (int64_t r = begin; r < end; r++) {
            const char *row = (const char *)a->probs + r * a->categories * (int64_t)nb_dtype_size(a->probs_dtype);
            nbk_multinomial_row(a->seed, a->offset, r, row, a->probs_dtype, a->categories, a->samples,
                                a->replacement, (int64_t *)a->out + r * a->samples);
        }
        return;
    }
    const bool f32_uniform = a->kind == NBK_RANDOM_UNIFORM && a->dtype == NB_FLOAT32;
    const int64_t per = f32_uniform ? 4 : 2; /* elements per output */
    for (int64_t c = begin / per; c * per < end; c++) {
        const nbk_philox_out x = nbk_philox_at(a->seed, a->offset + (uint64_t)c);
        const int64_t first = c * per < begin ? begin : c * per, last = c * per + per < end ? c * per + per : end;
        if (f32_uniform) {
            for (int64_t i = first; i < last; i++)
                ((float *)a->out)[i] = nbk_uniform_f32_from(nbk_uniform24(x.x[i & 3]), a->a, a->b);
            continue;
        }
        double z[2] = {0, 0};
        if (a->kind == NBK_RANDOM_NORMAL) {
            const double r = sqrt(-2.0 * log(1.0 - nbk_uniform53(x.x[0], x.x[1])));
            const double theta = 6.283185307179586 * nbk_uniform53(x.x[2], x.x[3]);
            z[0] = r * cos(theta);
            z[1] = r * sin(theta);
        }
        for (int64_t i = first; i < last; i++) {
            const int j = (int)(i & 1) * 2;
            const uint64_t bits = ((uint64_t)x.x[j] << 32) | x.x[j + 1];
            const double u = (double)(bits >> 11) * (1.0 / 9007199254740992.0);
            switch (a->kind) {
            case NBK_RANDOM_UNIFORM: ((double *)a->out)[i] = nbk_uniform_f64_from(u, a->a, a->b); break;
            case NBK_RANDOM_NORMAL: store(a, i, NBK_MUL_ADD(a->a, a->b, z[i & 1])); break;
            case NBK_RANDOM_RANDINT: {
                const int64_t v = (int64_t)((uint64_t)a->low + bits % a->range);
                if (a->dtype == NB_INT64) ((int64_t *)a->out)[i] = v;
                else store(a, i, (double)v);
                break;
            }
            default: { /* bernoulli */
                const double p = a->probs ? nbk_prob(a->probs, a->probs_dtype, i) : a->a;
                store(a, i, u < p ? a->b : 0.0);
                break;
            }
            }
        }
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
