/* optim.c — the CPU's multi-tensor optimizer kernels (kernels/optim.h): a fused Adam/AdamW step,
 * one pass over each parameter's four arrays, the fused SGD step of a half parameter, and the
 * gradient norm and scale of clipping, one pass over the list each. Half elements are computed in
 * float32 and rounded once (kernels/half.h). Single-threaded: an optimizer's tensors are stepped one after another,
 * in order, so the results do not depend on the thread count. */
#include "optim.h"

#include <string.h>

#define T float
#define SFX f32
#include "../optim_adam_typed.h"
#undef T
#undef SFX
#define T double
#define SFX f64
#include "../optim_adam_typed.h"
#undef T
#undef SFX

#define T float
#define S uint16_t
#define NBK_STORE nbk_f32_to_f16
#define NBK_LOAD nbk_f16_to_f32
#define SFX f16
#include "../optim_adam_typed.h"
#include "../optim_sgd_typed.h"
#undef SFX
#undef NBK_LOAD
#undef NBK_STORE
#define NBK_LOAD nbk_bf16_to_f32
#define NBK_STORE nbk_f32_to_bf16
#define SFX bf16
#include "../optim_adam_typed.h"
#include "../optim_sgd_typed.h"
#undef SFX
#undef NBK_LOAD
#undef NBK_STORE
#undef S
#undef T

void nbk_cpu_adam_step(const nbk_adam_args *a)
{
    if (a->found_inf && *a->found_inf != 0) return; /* the scaler found a non-finite gradient */
    for (int k = 0; k < a->n; k++) {
        const nbk_adam_tensor *t = &a->t[k];
        const double step = *t->step + 1;
        *t->step = step;
        if (a->dtype == NB_FLOAT32) {
            const nbk_adam_scalars_f32 s = nbk_adam_scalars_of_f32(a, step);
            float *p = t->param, *m = t->exp_avg, *v = t->exp_avg_sq; /* (numel,) each */
            const float *g = t->grad;
            for (int64_t i = 0; i < t->numel; i++) nbk_adam_element_f32(p, g, m, v, i, &s);
        } else if (a->dtype == NB_FLOAT16) {
            const nbk_adam_scalars_f16 s = nbk_adam_scalars_of_f16(a, step);
            uint16_t *p = t->param, *m = t->exp_avg, *v = t->exp_avg_sq; /* (numel,) each */
            const uint16_t *g = t->grad;
            for (int64_t i = 0; i < t->numel; i++) nbk_adam_element_f16(p, g, m, v, i, &s);
        } else if (a->dtype == NB_BFLOAT16) {
            const nbk_adam_scalars_bf16 s = nbk_adam_scalars_of_bf16(a, step);
            uint16_t *p = t->param, *m = t->exp_avg, *v = t->exp_avg_sq; /* (numel,) each */
            const uint16_t *g = t->grad;
            for (int64_t i = 0; i < t->numel; i++) nbk_adam_element_bf16(p, g, m, v, i, &s);
        } else {
            const nbk_adam_scalars_f64 s = nbk_adam_scalars_of_f64(a, step);
            double *p = t->param, *m = t->exp_avg, *v = t->exp_avg_sq; /* (numel,) each */
            const double *g = t->grad;
            for (int64_t i = 0; i < t->numel; i++) nbk_adam_element_f64(p, g, m, v, i, &s);
        }
    }
}

void nbk_cpu_sgd_step(const nbk_sgd_args *a)
{
    uint16_t *p = a->param, *buf = a->momentum_buffer; /* (numel,) each */
    const uint16_t *g = a->grad;                        /* (numel,) */
    if (a->dtype == NB_FLOAT16) {
        const nbk_sgd_scalars_f16 s = nbk_sgd_scalars_of_f16(a);
        for (int64_t i = 0; i < a->numel; i++) nbk_sgd_element_f16(p, g, buf, i, &s);
    } else {
        const nbk_sgd_scalars_bf16 s = nbk_sgd_scalars_of_bf16(a);
        for (int64_t i = 0; i < a->numel; i++) nbk_sgd_element_bf16(p, g, buf, i, &s);
    }
}

/* An element of each dtype as a double (a half one exactly, through float32). */
#define AS_DOUBLE(v) ((double)(v))
#define F16_AS_DOUBLE(v) ((double)nbk_f16_to_f32(v))
#define BF16_AS_DOUBLE(v) ((double)nbk_bf16_to_f32(v))

/* acc combined with the terms of n values of x (elements read by LOAD as doubles): a sum, or a
 * max */
#define NORM_PASS(LOAD, x, n, p, acc)                                                             \
    do {                                                                                          \
        if (isinf(p)) {                                                                           \
            for (int64_t i = 0; i < (n); i++) acc = nbk_nan_max(acc, fabs(LOAD((x)[i])));          \
        } else if ((p) == 2) {                                                                    \
            for (int64_t i = 0; i < (n); i++) acc += LOAD((x)[i]) * LOAD((x)[i]);                  \
        } else {                                                                                  \
            for (int64_t i = 0; i < (n); i++) acc += nbk_norm_term(LOAD((x)[i]), p);               \
        }                                                                                         \
    } while (0)

void nbk_cpu_grad_norm(const nbk_grad_list *l, double norm_type, double *acc)
{
    double a = *acc;
    for (int k = 0; k < l->n; k++) {
        if (l->dtype == NB_FLOAT32) {
            const float *g = l->grad[k]; /* (numel,) */
            NORM_PASS(AS_DOUBLE, g, l->numel[k], norm_type, a);
        } else if (l->dtype == NB_FLOAT16) {
            const uint16_t *g = l->grad[k]; /* (numel,) */
            NORM_PASS(F16_AS_DOUBLE, g, l->numel[k], norm_type, a);
        } else if (l->dtype == NB_BFLOAT16) {
            const uint16_t *g = l->grad[k]; /* (numel,) */
            NORM_PASS(BF16_AS_DOUBLE, g, l->numel[k], norm_type, a);
        } else {
            const double *g = l->grad[k]; /* (numel,) */
            NORM_PASS(AS_DOUBLE, g, l->numel[k], norm_type, a);
        }
    }
    *acc = a;
}

void nbk_cpu_grad_scale(const nbk_grad_list *l, const double *acc, double norm_type, double max_norm)
{
    const double coef = nbk_clip_coef(nbk_grad_norm_of(*acc, norm_type), max_norm);
    if (coef == 1) return; /* torch multiplies by 1.0: nothing changes */
    for (int k = 0; k < l->n; k++) {
        if (l->dtype == NB_FLOAT32) {
            float *g = l->grad[k]; /* (numel,) */
            const float c = (float)coef;
            for (int64_t i = 0; i < l->numel[k]; i++) g[i] *= c;
        } else if (l->dtype == NB_FLOAT16) {
            uint16_t *g = l->grad[k]; /* (numel,) */
            const float c = (float)coef;
            for (int64_t i = 0; i < l->numel[k]; i++) g[i] = nbk_f32_to_f16(nbk_f16_to_f32(g[i]) * c);
        } else if (l->dtype == NB_BFLOAT16) {
            uint16_t *g = l->grad[k]; /* (numel,) */
            const float c = (float)coef;
            for (int64_t i = 0; i < l->numel[k]; i++) g[i] = nbk_f32_to_bf16(nbk_bf16_to_f32(g[i]) * c);
        } else {
            double *g = l->grad[k]; /* (numel,) */
            for (int64_t i = 0; i < l->numel[k]; i++) g[i] *= coef;
        }
    }
}

/* Whether float f (double d) is Inf or NaN: its exponent bits all set. Integer tests, so the
 * loops below vectorise (a floating-point isfinite in them does not). */
static inline uint32_t not_finite_f32(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return (~b & 0x7F800000u) == 0;
}

static inline uint32_t not_finite_bf16(uint16_t b) { return (~b & 0x7F80u) == 0; }

static inline uint64_t not_finite_f64(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return (~b & 0x7FF0000000000000u) == 0;
}

void nbk_cpu_grad_unscale(const nbk_unscale_args *a)
{
    const float inv = nbk_inv_scale(*a->scale);
    bool found = false;
    for (int k = 0; k < a->l.n; k++) {
        const int64_t n = a->l.numel[k];
        if (a->l.dtype == NB_FLOAT32) {
            float *g = a->l.grad[k]; /* (n,) */
            uint32_t bad = 0;
            if (inv == 1.0f) { /* torch leaves the values as they are: only the check */
                for (int64_t i = 0; i < n; i++) bad |= not_finite_f32(g[i]);
            } else {
                for (int64_t i = 0; i < n; i++) {
                    bad |= not_finite_f32(g[i]);
                    g[i] = nbk_unscale_f32(g[i], inv);
                }
            }
            found |= bad != 0;
        } else if (a->l.dtype == NB_BFLOAT16) {
            uint16_t *g = a->l.grad[k]; /* (n,) */
            uint32_t bad = 0;
            for (int64_t i = 0; i < n; i++) {
                bad |= not_finite_bf16(g[i]);
                g[i] = nbk_unscale_bf16(g[i], inv);
            }
            found |= bad != 0;
        } else {
            double *g = a->l.grad[k]; /* (n,) */
            uint64_t bad = 0;
            if (inv == 1.0f) {
                for (int64_t i = 0; i < n; i++) bad |= not_finite_f64(g[i]);
            } else {
                for (int64_t i = 0; i < n; i++) {
                    bad |= not_finite_f64(g[i]);
                    g[i] = nbk_unscale_f64(g[i], inv);
                }
            }
            found |= bad != 0;
        }
    }
    if (found) *a->found_inf = 1.0f;
}
