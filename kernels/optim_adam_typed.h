/* optim_adam_typed.h — one element of an Adam/AdamW step in type T, for both devices: included
 * once per dtype by kernels/cpu/optim.c and kernels/cuda/optim.cu, with T (float or double) and
 * SFX (f32, f64, f16 or bf16) defined, after kernels/optim.h. A half dtype also defines S, the
 * stored type (uint16_t bits), and NBK_LOAD / NBK_STORE, its conversions to and from T (float,
 * rounding to nearest even), so each element is computed in float32 and p, m and v are rounded
 * once each; without S the elements are stored as T. It defines nbk_adam_scalars_SFX (the step's
 * scalars converted to T, from the rate and step count read where it runs),
 * nbk_adam_scalars_of_SFX and nbk_adam_element_SFX.
 *
 * The arithmetic is that of the unfused rule, op for op, each result rounded to T:
 *   AdamW: p = p * (1 - lr * wd)                 Adam: g = grad + wd * p
 *   m = m * beta1;  m = m + (1 - beta1) * g
 *   v = v * beta2;  v = v + (1 - beta2) * (g * g)
 *   p = p + (-step_size) * (m / ((sqrt(v) / bias_correction2_sqrt) + eps)) */

#define NBK_CAT_(a, b) a##_##b
#define NBK_CAT(a, b) NBK_CAT_(a, b)
#define NBK_SCALARS NBK_CAT(nbk_adam_scalars, SFX)

#ifndef S
#define S T
#define NBK_LOAD(x) (x)
#define NBK_STORE(x) (x)
#define NBK_ADAM_STORED_AS_T
#endif

typedef struct NBK_SCALARS {
    T decay;   /* AdamW: 1 - lr * weight_decay */
    T wd;      /* Adam: weight_decay */
    T beta1, one_minus_beta1, beta2, one_minus_beta2;
    T bias_correction2_sqrt, eps, neg_step_size;
    bool decoupled, has_wd;
} NBK_SCALARS;

static inline NBK_OPTIM_HD NBK_SCALARS NBK_CAT(nbk_adam_scalars_of, SFX)(const nbk_adam_args *a, double t)
{
    const double lr = *a->lr; /* on the device: the rate of this run, not of a capture */
    const nbk_adam_coef c = nbk_adam_coef_at(lr, a->beta1, a->beta2, t);
    NBK_SCALARS s;
    s.decay = (T)(1 - lr * a->weight_decay);
    s.wd = (T)a->weight_decay;
    s.beta1 = (T)a->beta1;
    s.one_minus_beta1 = (T)(1 - a->beta1);
    s.beta2 = (T)a->beta2;
    s.one_minus_beta2 = (T)(1 - a->beta2);
    s.bias_correction2_sqrt = (T)c.bias_correction2_sqrt;
    s.eps = (T)a->eps;
    s.neg_step_size = (T)-c.step_size;
    s.decoupled = a->decoupled;
    s.has_wd = a->weight_decay != 0;
    return s;
}

/* Element i of one tensor. */
static inline NBK_OPTIM_HD void NBK_CAT(nbk_adam_element, SFX)(S *p, const S *grad, S *m, S *v, int64_t i,
                                                               const NBK_SCALARS *s)
{
    T pi = NBK_LOAD(p[i]), g = NBK_LOAD(grad[i]);
    if (s->has_wd) {
        if (s->decoupled) pi = pi * s->decay;
        else g = g + s->wd * pi;
    }
    T mi = NBK_LOAD(m[i]) * s->beta1;
    mi = mi + s->one_minus_beta1 * g;
    const T gg = g * g;
    T vi = NBK_LOAD(v[i]) * s->beta2;
    vi = vi + s->one_minus_beta2 * gg;
    T d = (T)sqrt(vi); /* sqrt of a float is exact-rounded whether taken in float or double */
    d = d / s->bias_correction2_sqrt;
    d = d + s->eps;
    d = mi / d;
    p[i] = NBK_STORE(pi + s->neg_step_size * d);
    m[i] = NBK_STORE(mi);
    v[i] = NBK_STORE(vi);
}

#ifdef NBK_ADAM_STORED_AS_T
#undef S
#undef NBK_LOAD
#undef NBK_STORE
#undef NBK_ADAM_STORED_AS_T
#endif
#undef NBK_SCALARS
#undef NBK_CAT
#undef NBK_CAT_
