/* optim_sgd_typed.h — one element of the fused SGD step of a half parameter (nbk_sgd_args), for
 * both devices: included once per half dtype by kernels/cpu/optim.c and kernels/cuda/optim.cu,
 * after kernels/optim.h, with SFX (f16 or bf16), S (the stored type, uint16_t bits) and
 * NBK_LOAD / NBK_STORE (its conversions to and from float, rounding to nearest even) defined. It
 * defines nbk_sgd_scalars_SFX, nbk_sgd_scalars_of_SFX and nbk_sgd_element_SFX.
 *
 * The arithmetic is float32's unfused rule (lib/optim/sgd.c), op for op, each result a float;
 * only the stored p and buf are rounded, once each:
 *   d = grad + wd * p                                   (when weight_decay != 0)
 *   buf = d (first step), or buf = buf * momentum; buf = buf + (1 - dampening) * d
 *   d = d + momentum * buf (Nesterov), or d = buf       (when momentum != 0)
 *   p = p + (-lr) * d */

#define NBK_CAT_(a, b) a##_##b
#define NBK_CAT(a, b) NBK_CAT_(a, b)
#define NBK_SCALARS NBK_CAT(nbk_sgd_scalars, SFX)

typedef struct NBK_SCALARS {
    float wd, momentum, one_minus_dampening, neg_lr;
    bool has_wd, has_momentum, nesterov, first;
} NBK_SCALARS;

static inline NBK_OPTIM_HD NBK_SCALARS NBK_CAT(nbk_sgd_scalars_of, SFX)(const nbk_sgd_args *a)
{
    NBK_SCALARS s;
    s.wd = (float)a->weight_decay;
    s.momentum = (float)a->momentum;
    s.one_minus_dampening = (float)(1 - a->dampening);
    s.neg_lr = (float)-a->lr;
    s.has_wd = a->weight_decay != 0;
    s.has_momentum = a->momentum != 0;
    s.nesterov = a->nesterov;
    s.first = a->first;
    return s;
}

/* Element i of the parameter p (grad g, momentum buffer buf: NULL without momentum). */
static inline NBK_OPTIM_HD void NBK_CAT(nbk_sgd_element, SFX)(S *p, const S *g, S *buf, int64_t i,
                                                              const NBK_SCALARS *s)
{
    const float pi = NBK_LOAD(p[i]);
    float d = NBK_LOAD(g[i]);
    if (s->has_wd) d = d + s->wd * pi;
    if (s->has_momentum) {
        float b = d;
        if (!s->first) {
            b = NBK_LOAD(buf[i]) * s->momentum;
            b = b + s->one_minus_dampening * d;
        }
        buf[i] = NBK_STORE(b);
        d = s->nesterov ? d + s->momentum * b : b;
    }
    p[i] = NBK_STORE(pi + s->neg_lr * d);
}

#undef NBK_SCALARS
#undef NBK_CAT
#undef NBK_CAT_
