/* ewise_loops.c — the CPU row loops of every elementwise op, for each dtype it takes.
 *
 * Each op is a function-like macro OP(T, x, c0, c1) (or OP(T, a, b, c0) for binary ops) giving
 * one element; the DEFINE_* macros wrap it in a row loop with a contiguous fast path (restrict
 * pointers, which the compiler vectorises) beside the general strided loop. Scalars arrive as
 * doubles and are converted to the element type once per row, as PyTorch converts them. */
#include "cpu.h"
#include "ewise_f32.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <tgmath.h>

/* ---- scalar conversion: saturating for int64 (so infinite clamp bounds are safe) */
static inline int64_t to_i64(double v)
{
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}
#define CVT_f32(v) ((float)(v))
#define CVT_f64(v) ((double)(v))
#define CVT_i64(v) to_i64(v)
#define CVT_b8(v) ((v) != 0)

typedef float f32;
typedef double f64;
typedef int64_t i64;
typedef bool b8;

static inline int64_t ipow(int64_t base, int64_t e)
{
    if (e < 0) return base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
    uint64_t r = 1, b = (uint64_t)base; /* unsigned: wraps like PyTorch instead of UB */
    while (e) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)r;
}

/* ---- element ops */
#define OP_FILL(T, x, c0, c1) (c0)
#define OP_NEG(T, x, c0, c1) (-(x))
/* int64 arithmetic wraps around as PyTorch's does: computed in uint64, so overflow is not UB */
#define WRAP(x) ((uint64_t)(x))
#define OP_INEG(T, x, c0, c1) ((T)(0 - WRAP(x)))
#define OP_IABS(T, x, c0, c1) ((x) < 0 ? (T)(0 - WRAP(x)) : (x))
#define OP_IADD_SCALAR(T, x, c0, c1) ((T)(WRAP(x) + WRAP(c0)))
#define OP_IMUL_SCALAR(T, x, c0, c1) ((T)(WRAP(x) * WRAP(c0)))
#define OP_IRSUB_SCALAR(T, x, c0, c1) ((T)(WRAP(c0) - WRAP(x)))
#define OP_ISQUARE(T, x, c0, c1) ((T)(WRAP(x) * WRAP(x)))
#define OP_IADD(T, a, b, c0) ((T)(WRAP(a) + WRAP(b)))
#define OP_ISUB(T, a, b, c0) ((T)(WRAP(a) - WRAP(b)))
#define OP_IMUL(T, a, b, c0) ((T)(WRAP(a) * WRAP(b)))
#define OP_IAXPY(T, a, b, c0) ((T)(WRAP(a) + WRAP(c0) * WRAP(b)))
#define OP_FABS(T, x, c0, c1) fabs(x)
#define OP_EXP(T, x, c0, c1) exp(x)
#define OP_LOG(T, x, c0, c1) log(x)
#define OP_SQRT(T, x, c0, c1) sqrt(x)
#define OP_SIGMOID(T, x, c0, c1) ((T)1 / ((T)1 + exp(-(x))))
#define OP_TANH(T, x, c0, c1) tanh(x)
#define OP_RELU(T, x, c0, c1) ((x) < 0 ? (T)0 : (x))
/* activations, as PyTorch writes them (gelu's two forms have loops of their own below) */
#define OP_SILU(T, x, c0, c1) ((x) / ((T)1 + exp(-(x))))
#define OP_LEAKY_RELU(T, x, c0, c1) ((x) > 0 ? (x) : (x) * (c0))
#define OP_SOFTPLUS(T, x, c0, c1) ((x) * (c0) > (c1) ? (x) : log1p(exp((x) * (c0))) / (c0))
#define OP_ERF(T, x, c0, c1) erf(x)
#define OP_SIN(T, x, c0, c1) sin(x)
#define OP_COS(T, x, c0, c1) cos(x)
#define OP_LOG1P(T, x, c0, c1) log1p(x)
#define OP_EXPM1(T, x, c0, c1) expm1(x)
#define OP_RSQRT(T, x, c0, c1) ((T)1 / sqrt(x))
#define OP_RECIPROCAL(T, x, c0, c1) ((T)1 / (x))
#define OP_FLOOR(T, x, c0, c1) floor(x)
#define OP_CEIL(T, x, c0, c1) ceil(x)
#define OP_ROUND(T, x, c0, c1) rint(x) /* the default rounding mode: half to even */
#define OP_IDENTITY(T, x, c0, c1) (x)
#define OP_SIGN(T, x, c0, c1) ((T)(((x) > 0) - ((x) < 0))) /* NaN gives 0, as PyTorch */
#define OP_BSIGN(T, x, c0, c1) (x)
/* min(max(x, c0), c1) as PyTorch: every element is c1 when c0 > c1; NaN stays NaN */
#define OP_CLAMP_LO(x, c0) ((x) < (c0) ? (c0) : (x))
#define OP_CLAMP(T, x, c0, c1) (OP_CLAMP_LO(x, c0) > (c1) ? (c1) : OP_CLAMP_LO(x, c0))
#define OP_ADD_SCALAR(T, x, c0, c1) ((x) + (c0))
#define OP_MUL_SCALAR(T, x, c0, c1) ((x) * (c0))
#define OP_DIV_SCALAR(T, x, c0, c1) ((x) / (c0))
#define OP_RSUB_SCALAR(T, x, c0, c1) ((c0) - (x))
#define OP_FPOW_SCALAR(T, x, c0, c1) pow(x, c0)
#define OP_IPOW_SCALAR(T, x, c0, c1) ipow(x, c0)
#define OP_SQUARE(T, x, c0, c1) ((x) * (x))

#define OP_ADD(T, a, b, c0) ((a) + (b))
#define OP_SUB(T, a, b, c0) ((a) - (b))
#define OP_MUL(T, a, b, c0) ((a) * (b))
#define OP_DIV(T, a, b, c0) ((a) / (b))
#define OP_FPOW(T, a, b, c0) pow(a, b)
#define OP_IPOW(T, a, b, c0) ipow(a, b)
#define OP_AXPY(T, a, b, c0) ((a) + (c0) * (b))
/* NaN wins (a's first), then the larger (smaller); of equal values, a (an integer is never NaN) */
#define OP_MAXIMUM(T, a, b, c0) ((a) != (a) ? (a) : ((b) != (b) || (a) < (b)) ? (b) : (a))
#define OP_MINIMUM(T, a, b, c0) ((a) != (a) ? (a) : ((b) != (b) || (b) < (a)) ? (b) : (a))
#define OP_MASKED_FILL(T, a, mask, c0) ((mask) ? (c0) : (a))
/* bool arithmetic as PyTorch's: + is or, * is and, a + alpha b is a or (alpha and b) */
#define OP_BADD(T, a, b, c0) ((a) || (b))
#define OP_BMUL(T, a, b, c0) ((a) && (b))
#define OP_BAXPY(T, a, b, c0) ((a) || ((c0) && (b)))
/* PyTorch's lerp: from whichever end is nearer, so weight 1 gives end exactly */
#define OP_LERP3(T, a, b, w) ((w) < (T)0.5 ? (a) + (w) * ((b) - (a)) : (b) - ((b) - (a)) * ((T)1 - (w)))
#define OP_LERP_SCALAR(T, a, b, c0) OP_LERP3(T, a, b, c0)
/* gradients of the activations: a is the incoming gradient, b the input */
#define OP_SILU_BACKWARD(T, g, x, c0) ((g) * ((T)1 / ((T)1 + exp(-(x)))) * ((T)1 + (x) * ((T)1 - (T)1 / ((T)1 + exp(-(x))))))
#define OP_LEAKY_RELU_BACKWARD(T, g, x, c0) ((x) > 0 ? (g) : (g) * (c0))

#define CMP_LT(a, b) ((a) < (b))
#define CMP_LE(a, b) ((a) <= (b))
#define CMP_GT(a, b) ((a) > (b))
#define CMP_GE(a, b) ((a) >= (b))
#define CMP_EQ(a, b) ((a) == (b))
#define CMP_NE(a, b) ((a) != (b))
#define CMP_LAND(a, b) ((a) != 0 && (b) != 0)
#define CMP_LOR(a, b) ((a) != 0 || (b) != 0)

/* ---- row loop shapes */
#define AT(T, base, i, stride) (*(T *)((base) + (i) * (stride)))

/* out = OP(T, x, c0, c1); also used with no input (fill) since x is then never read */
#define DEFINE_UNARY(name, T, OP)                                                                \
    static void name##_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)          \
    {                                                                                            \
        const T c0 = CVT_##T(s->a), c1 = CVT_##T(s->b);                                          \
        (void)c0, (void)c1;                                                                      \
        if (st[0] == sizeof(T) && st[1] == sizeof(T)) {                                          \
            T *restrict out = (T *)d[0];                                                         \
            const T *restrict in = (const T *)d[1];                                              \
            for (int64_t i = 0; i < n; i++) out[i] = OP(T, in[i], c0, c1);                       \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) AT(T, d[0], i, st[0]) = OP(T, AT(T, d[1], i, st[1]), c0, c1); \
        }                                                                                        \
    }

#define DEFINE_FILL(T)                                                                           \
    static void fill_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)            \
    {                                                                                            \
        const T v = CVT_##T(s->a);                                                               \
        if (st[0] == sizeof(T)) {                                                                \
            T *restrict out = (T *)d[0];                                                         \
            for (int64_t i = 0; i < n; i++) out[i] = v;                                          \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) AT(T, d[0], i, st[0]) = v;                           \
        }                                                                                        \
    }

/* out = OP(T, a, b, c0), with fast paths for contiguous operands and a broadcast scalar b */
#define DEFINE_BINARY(name, T, OP)                                                               \
    static void name##_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)          \
    {                                                                                            \
        const T c0 = CVT_##T(s->a);                                                              \
        (void)c0;                                                                                \
        if (st[0] == sizeof(T) && st[1] == sizeof(T) && st[2] == sizeof(T)) {                    \
            T *restrict out = (T *)d[0];                                                         \
            const T *restrict a = (const T *)d[1], *restrict b = (const T *)d[2];                \
            for (int64_t i = 0; i < n; i++) out[i] = OP(T, a[i], b[i], c0);                      \
        } else if (st[0] == sizeof(T) && st[1] == sizeof(T) && st[2] == 0) {                     \
            T *restrict out = (T *)d[0];                                                         \
            const T *restrict a = (const T *)d[1];                                               \
            const T b = *(const T *)d[2];                                                        \
            for (int64_t i = 0; i < n; i++) out[i] = OP(T, a[i], b, c0);                         \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++)                                                      \
                AT(T, d[0], i, st[0]) = OP(T, AT(T, d[1], i, st[1]), AT(T, d[2], i, st[2]), c0); \
        }                                                                                        \
    }

/* bool out = CMP(x, c0): int64 and bool compare in double, so x < 2.5 means what it says */
#define DEFINE_CMP_SCALAR(name, T, CMP)                                                          \
    static void name##_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)          \
    {                                                                                            \
        if (sizeof(T) == 4) { /* float32 compares with the scalar rounded to float32 */          \
            const T c0 = (T)s->a;                                                                \
            for (int64_t i = 0; i < n; i++) AT(bool, d[0], i, st[0]) = CMP(AT(T, d[1], i, st[1]), c0); \
        } else {                                                                                 \
            const double c0 = s->a;                                                              \
            for (int64_t i = 0; i < n; i++)                                                      \
                AT(bool, d[0], i, st[0]) = CMP((double)AT(T, d[1], i, st[1]), c0);               \
        }                                                                                        \
    }

/* bool out = CMP(a, b) */
#define DEFINE_CMP(name, T, CMP)                                                                 \
    static void name##_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)          \
    {                                                                                            \
        (void)s;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                          \
            AT(bool, d[0], i, st[0]) = CMP(AT(T, d[1], i, st[1]), AT(T, d[2], i, st[2]));        \
    }

/* bool out = (x == 0) */
#define DEFINE_LOGICAL_NOT(T)                                                                    \
    static void logical_not_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)     \
    {                                                                                            \
        (void)s;                                                                                 \
        for (int64_t i = 0; i < n; i++) AT(bool, d[0], i, st[0]) = AT(T, d[1], i, st[1]) == 0;   \
    }

/* out = mask ? c0 : a */
#define DEFINE_MASKED_FILL(T)                                                                    \
    static void masked_fill_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)     \
    {                                                                                            \
        const T v = CVT_##T(s->a);                                                               \
        if (st[0] == sizeof(T) && st[1] == sizeof(T) && st[2] == 1) {                            \
            T *restrict out = (T *)d[0];                                                         \
            const T *restrict a = (const T *)d[1];                                               \
            const bool *restrict m = (const bool *)d[2];                                         \
            for (int64_t i = 0; i < n; i++) out[i] = m[i] ? v : a[i];                            \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++)                                                      \
                AT(T, d[0], i, st[0]) = AT(bool, d[2], i, st[2]) ? v : AT(T, d[1], i, st[1]);    \
        }                                                                                        \
    }

/* out = c0 <= x <= c1 ? grad : 0 (d[1] grad, d[2] x) */
#define DEFINE_CLAMP_BACKWARD(T)                                                                 \
    static void clamp_backward_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)  \
    {                                                                                            \
        const T lo = CVT_##T(s->a), hi = CVT_##T(s->b);                                          \
        if (st[0] == sizeof(T) && st[1] == sizeof(T) && st[2] == sizeof(T)) {                    \
            T *restrict out = (T *)d[0];                                                         \
            const T *restrict g = (const T *)d[1], *restrict x = (const T *)d[2];                \
            for (int64_t i = 0; i < n; i++) { /* both loaded, then a select: vectorised */       \
                const T xv = x[i], gv = g[i];                                                    \
                out[i] = (xv >= lo) & (xv <= hi) ? gv : (T)0;                                    \
            }                                                                                    \
            return;                                                                              \
        }                                                                                        \
        for (int64_t i = 0; i < n; i++) {                                                        \
            T x = AT(T, d[2], i, st[2]);                                                         \
            AT(T, d[0], i, st[0]) = (x >= lo && x <= hi) ? AT(T, d[1], i, st[1]) : (T)0;         \
        }                                                                                        \
    }

/* out = cond ? a : b (d[1] cond, d[2] a, d[3] b) */
#define DEFINE_WHERE(T)                                                                          \
    static void where_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)           \
    {                                                                                            \
        (void)s;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                          \
            AT(T, d[0], i, st[0]) = AT(bool, d[1], i, st[1]) ? AT(T, d[2], i, st[2]) : AT(T, d[3], i, st[3]); \
    }

/* gelu, exact (c0 == 0: x Phi(x) through erf) or the tanh approximation (c0 != 0) */
#define GELU_ERF(T, x) ((T)0.5 * (x) * ((T)1 + erf((x) * (T)0.70710678118654752440)))
#define GELU_TANH(T, x) \
    ((T)0.5 * (x) * ((T)1 + tanh((T)0.79788456080286535588 * ((x) + (T)0.044715 * (x) * (x) * (x)))))
#define DEFINE_GELU(T)                                                                           \
    static void gelu_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)            \
    {                                                                                            \
        const bool approx = s->a != 0;                                                           \
        if (st[0] == sizeof(T) && st[1] == sizeof(T)) {                                          \
            T *restrict out = (T *)d[0];                                                         \
            const T *restrict in = (const T *)d[1];                                              \
            if (approx)                                                                          \
                for (int64_t i = 0; i < n; i++) out[i] = GELU_TANH(T, in[i]);                    \
            else                                                                                 \
                for (int64_t i = 0; i < n; i++) out[i] = GELU_ERF(T, in[i]);                     \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) {                                                    \
                const T x = AT(T, d[1], i, st[1]);                                               \
                AT(T, d[0], i, st[0]) = approx ? GELU_TANH(T, x) : GELU_ERF(T, x);               \
            }                                                                                    \
        }                                                                                        \
    }

/* d gelu / dx times the gradient (d[1] grad, d[2] x), PyTorch's formulas for both forms */
#define DEFINE_GELU_BACKWARD(T)                                                                  \
    static void gelu_backward_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)   \
    {                                                                                            \
        const bool approx = s->a != 0;                                                           \
        for (int64_t i = 0; i < n; i++) {                                                        \
            const T g = AT(T, d[1], i, st[1]), x = AT(T, d[2], i, st[2]);                        \
            T dy;                                                                                \
            if (approx) {                                                                        \
                const T beta = (T)0.79788456080286535588, kappa = (T)0.044715;                   \
                const T th = tanh(beta * (x + kappa * x * x * x));                               \
                dy = (T)0.5 * ((T)1 + th) +                                                      \
                     (T)0.5 * x * ((T)1 - th * th) * beta * ((T)1 + (T)3 * kappa * x * x);       \
            } else {                                                                             \
                const T cdf = (T)0.5 * ((T)1 + erf(x * (T)0.70710678118654752440));              \
                const T pdf = exp((T)-0.5 * x * x) * (T)0.39894228040143267794;                  \
                dy = cdf + x * pdf;                                                              \
            }                                                                                    \
            AT(T, d[0], i, st[0]) = g * dy;                                                      \
        }                                                                                        \
    }

/* d softplus / dx times the gradient: sigmoid(beta x), or 1 past the threshold */
#define DEFINE_SOFTPLUS_BACKWARD(T)                                                              \
    static void softplus_backward_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s) \
    {                                                                                            \
        const T beta = (T)s->a, threshold = (T)s->b;                                             \
        for (int64_t i = 0; i < n; i++) {                                                        \
            const T g = AT(T, d[1], i, st[1]), x = AT(T, d[2], i, st[2]);                        \
            const T z = exp(x * beta);                                                           \
            AT(T, d[0], i, st[0]) = x * beta > threshold ? g : g * z / (z + (T)1);               \
        }                                                                                        \
    }

/* out = lerp(start, end, weight) (d[1] start, d[2] end, d[3] weight) */
#define DEFINE_LERP(T)                                                                           \
    static void lerp_##T(int64_t n, char **d, const int64_t *st, const nb_scalars *s)            \
    {                                                                                            \
        (void)s;                                                                                 \
        if (st[0] == sizeof(T) && st[1] == sizeof(T) && st[2] == sizeof(T) && st[3] == sizeof(T)) { \
            T *restrict out = (T *)d[0];                                                         \
            const T *restrict a = (const T *)d[1], *restrict b = (const T *)d[2];                \
            const T *restrict w = (const T *)d[3];                                               \
            for (int64_t i = 0; i < n; i++) out[i] = OP_LERP3(T, a[i], b[i], w[i]);              \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++)                                                      \
                AT(T, d[0], i, st[0]) =                                                          \
                    OP_LERP3(T, AT(T, d[1], i, st[1]), AT(T, d[2], i, st[2]), AT(T, d[3], i, st[3])); \
        }                                                                                        \
    }

/* ---- instances */
#define FOR_FLOATS(DEF, name, OP) DEF(name, f32, OP) DEF(name, f64, OP)
#define FOR_NUMERIC(DEF, name, OP) DEF(name, f32, OP) DEF(name, f64, OP) DEF(name, i64, OP)
#define FOR_ALL(DEF, name, OP) DEF(name, f32, OP) DEF(name, f64, OP) DEF(name, i64, OP) DEF(name, b8, OP)

DEFINE_FILL(f32) DEFINE_FILL(f64) DEFINE_FILL(i64) DEFINE_FILL(b8)
FOR_FLOATS(DEFINE_UNARY, neg, OP_NEG)
DEFINE_UNARY(neg, i64, OP_INEG)
FOR_FLOATS(DEFINE_UNARY, abs, OP_FABS)
DEFINE_UNARY(abs, i64, OP_IABS)
FOR_FLOATS(DEFINE_UNARY, exp, OP_EXP)
FOR_FLOATS(DEFINE_UNARY, log, OP_LOG)
FOR_FLOATS(DEFINE_UNARY, sqrt, OP_SQRT)
FOR_FLOATS(DEFINE_UNARY, sigmoid, OP_SIGMOID)
FOR_FLOATS(DEFINE_UNARY, tanh, OP_TANH)
FOR_NUMERIC(DEFINE_UNARY, relu, OP_RELU)
DEFINE_GELU(f64)
DEFINE_UNARY(silu, f64, OP_SILU)
FOR_FLOATS(DEFINE_UNARY, leaky_relu, OP_LEAKY_RELU)
DEFINE_UNARY(softplus, f64, OP_SOFTPLUS)
DEFINE_UNARY(erf, f64, OP_ERF)
DEFINE_UNARY(sin, f64, OP_SIN)
DEFINE_UNARY(cos, f64, OP_COS)
FOR_FLOATS(DEFINE_UNARY, log1p, OP_LOG1P)
FOR_FLOATS(DEFINE_UNARY, expm1, OP_EXPM1)
FOR_FLOATS(DEFINE_UNARY, rsqrt, OP_RSQRT)
FOR_FLOATS(DEFINE_UNARY, reciprocal, OP_RECIPROCAL)
FOR_FLOATS(DEFINE_UNARY, floor, OP_FLOOR)
DEFINE_UNARY(floor, i64, OP_IDENTITY)
FOR_FLOATS(DEFINE_UNARY, ceil, OP_CEIL)
DEFINE_UNARY(ceil, i64, OP_IDENTITY)
FOR_FLOATS(DEFINE_UNARY, round, OP_ROUND)
DEFINE_UNARY(round, i64, OP_IDENTITY)
FOR_NUMERIC(DEFINE_UNARY, sign, OP_SIGN)
DEFINE_UNARY(sign, b8, OP_BSIGN)
DEFINE_LOGICAL_NOT(f32) DEFINE_LOGICAL_NOT(f64) DEFINE_LOGICAL_NOT(i64) DEFINE_LOGICAL_NOT(b8)
FOR_NUMERIC(DEFINE_UNARY, clamp, OP_CLAMP)
FOR_FLOATS(DEFINE_UNARY, add_scalar, OP_ADD_SCALAR)
DEFINE_UNARY(add_scalar, i64, OP_IADD_SCALAR)
FOR_FLOATS(DEFINE_UNARY, mul_scalar, OP_MUL_SCALAR)
DEFINE_UNARY(mul_scalar, i64, OP_IMUL_SCALAR)
FOR_FLOATS(DEFINE_UNARY, div_scalar, OP_DIV_SCALAR)
FOR_FLOATS(DEFINE_UNARY, rsub_scalar, OP_RSUB_SCALAR)
DEFINE_UNARY(rsub_scalar, i64, OP_IRSUB_SCALAR)
FOR_FLOATS(DEFINE_UNARY, pow_scalar, OP_FPOW_SCALAR)
DEFINE_UNARY(pow_scalar, i64, OP_IPOW_SCALAR)
FOR_FLOATS(DEFINE_UNARY, square, OP_SQUARE)
DEFINE_UNARY(square, i64, OP_ISQUARE)
FOR_ALL(DEFINE_CMP_SCALAR, lt_scalar, CMP_LT)
FOR_ALL(DEFINE_CMP_SCALAR, le_scalar, CMP_LE)
FOR_ALL(DEFINE_CMP_SCALAR, gt_scalar, CMP_GT)
FOR_ALL(DEFINE_CMP_SCALAR, ge_scalar, CMP_GE)
FOR_ALL(DEFINE_CMP_SCALAR, eq_scalar, CMP_EQ)
FOR_ALL(DEFINE_CMP_SCALAR, ne_scalar, CMP_NE)
FOR_FLOATS(DEFINE_BINARY, add, OP_ADD)
DEFINE_BINARY(add, i64, OP_IADD)
DEFINE_BINARY(add, b8, OP_BADD)
FOR_FLOATS(DEFINE_BINARY, sub, OP_SUB)
DEFINE_BINARY(sub, i64, OP_ISUB)
FOR_FLOATS(DEFINE_BINARY, mul, OP_MUL)
DEFINE_BINARY(mul, i64, OP_IMUL)
DEFINE_BINARY(mul, b8, OP_BMUL)
FOR_FLOATS(DEFINE_BINARY, div, OP_DIV)
FOR_FLOATS(DEFINE_BINARY, pow, OP_FPOW)
DEFINE_BINARY(pow, i64, OP_IPOW)
FOR_ALL(DEFINE_BINARY, maximum, OP_MAXIMUM)
FOR_ALL(DEFINE_BINARY, minimum, OP_MINIMUM)
FOR_FLOATS(DEFINE_BINARY, axpy, OP_AXPY)
DEFINE_BINARY(axpy, i64, OP_IAXPY)
DEFINE_BINARY(axpy, b8, OP_BAXPY)
FOR_ALL(DEFINE_CMP, logical_and, CMP_LAND)
FOR_ALL(DEFINE_CMP, logical_or, CMP_LOR)
FOR_FLOATS(DEFINE_BINARY, lerp_scalar, OP_LERP_SCALAR)
FOR_FLOATS(DEFINE_BINARY, silu_backward, OP_SILU_BACKWARD)
FOR_FLOATS(DEFINE_BINARY, leaky_relu_backward, OP_LEAKY_RELU_BACKWARD)
DEFINE_GELU_BACKWARD(f64)
DEFINE_SOFTPLUS_BACKWARD(f32) DEFINE_SOFTPLUS_BACKWARD(f64)
DEFINE_LERP(f32) DEFINE_LERP(f64)
FOR_ALL(DEFINE_CMP, lt, CMP_LT)
FOR_ALL(DEFINE_CMP, le, CMP_LE)
FOR_ALL(DEFINE_CMP, gt, CMP_GT)
FOR_ALL(DEFINE_CMP, ge, CMP_GE)
FOR_ALL(DEFINE_CMP, eq, CMP_EQ)
FOR_ALL(DEFINE_CMP, ne, CMP_NE)
DEFINE_MASKED_FILL(f32) DEFINE_MASKED_FILL(f64) DEFINE_MASKED_FILL(i64) DEFINE_MASKED_FILL(b8)
DEFINE_CLAMP_BACKWARD(f32) DEFINE_CLAMP_BACKWARD(f64)
DEFINE_WHERE(f32) DEFINE_WHERE(f64) DEFINE_WHERE(i64) DEFINE_WHERE(b8)

/* ---- the table: [op][dtype], dtype order float32, float64, int64, bool */
#define ROW_FLOATS(name) {[NB_FLOAT32] = name##_f32, [NB_FLOAT64] = name##_f64}
#define ROW_NUMERIC(name) {[NB_FLOAT32] = name##_f32, [NB_FLOAT64] = name##_f64, [NB_INT64] = name##_i64}
#define ROW_ALL(name) {name##_f32, name##_f64, name##_i64, name##_b8}

const nbk_cpu_loop nbk_cpu_ew_loops[NB_EW_COUNT][NB_DTYPE_COUNT] = {
    [NB_EW_FILL] = ROW_ALL(fill),
    [NB_EW_NEG] = ROW_NUMERIC(neg),
    [NB_EW_ABS] = ROW_NUMERIC(abs),
    [NB_EW_EXP] = ROW_FLOATS(exp),
    [NB_EW_LOG] = ROW_FLOATS(log),
    [NB_EW_SQRT] = ROW_FLOATS(sqrt),
    [NB_EW_SIGMOID] = ROW_FLOATS(sigmoid),
    [NB_EW_TANH] = ROW_FLOATS(tanh),
    [NB_EW_RELU] = ROW_NUMERIC(relu),
    [NB_EW_GELU] = {[NB_FLOAT32] = nbk_cpu_gelu_f32, [NB_FLOAT64] = gelu_f64},
    [NB_EW_SILU] = {[NB_FLOAT32] = nbk_cpu_silu_f32, [NB_FLOAT64] = silu_f64},
    [NB_EW_LEAKY_RELU] = ROW_FLOATS(leaky_relu),
    [NB_EW_SOFTPLUS] = {[NB_FLOAT32] = nbk_cpu_softplus_f32, [NB_FLOAT64] = softplus_f64},
    [NB_EW_ERF] = {[NB_FLOAT32] = nbk_cpu_erf_f32, [NB_FLOAT64] = erf_f64},
    [NB_EW_SIN] = {[NB_FLOAT32] = nbk_cpu_sin_f32, [NB_FLOAT64] = sin_f64},
    [NB_EW_COS] = {[NB_FLOAT32] = nbk_cpu_cos_f32, [NB_FLOAT64] = cos_f64},
    [NB_EW_LOG1P] = ROW_FLOATS(log1p),
    [NB_EW_EXPM1] = ROW_FLOATS(expm1),
    [NB_EW_RSQRT] = ROW_FLOATS(rsqrt),
    [NB_EW_RECIPROCAL] = ROW_FLOATS(reciprocal),
    [NB_EW_FLOOR] = ROW_NUMERIC(floor),
    [NB_EW_CEIL] = ROW_NUMERIC(ceil),
    [NB_EW_ROUND] = ROW_NUMERIC(round),
    [NB_EW_SIGN] = ROW_ALL(sign),
    [NB_EW_LOGICAL_NOT] = ROW_ALL(logical_not),
    [NB_EW_CLAMP] = ROW_NUMERIC(clamp),
    [NB_EW_ADD_SCALAR] = ROW_NUMERIC(add_scalar),
    [NB_EW_MUL_SCALAR] = ROW_NUMERIC(mul_scalar),
    [NB_EW_DIV_SCALAR] = ROW_FLOATS(div_scalar),
    [NB_EW_RSUB_SCALAR] = ROW_NUMERIC(rsub_scalar),
    [NB_EW_POW_SCALAR] = ROW_NUMERIC(pow_scalar),
    [NB_EW_SQUARE] = ROW_NUMERIC(square),
    [NB_EW_LT_SCALAR] = ROW_ALL(lt_scalar),
    [NB_EW_LE_SCALAR] = ROW_ALL(le_scalar),
    [NB_EW_GT_SCALAR] = ROW_ALL(gt_scalar),
    [NB_EW_GE_SCALAR] = ROW_ALL(ge_scalar),
    [NB_EW_EQ_SCALAR] = ROW_ALL(eq_scalar),
    [NB_EW_NE_SCALAR] = ROW_ALL(ne_scalar),
    [NB_EW_ADD] = ROW_ALL(add),
    [NB_EW_SUB] = ROW_NUMERIC(sub),
    [NB_EW_MUL] = ROW_ALL(mul),
    [NB_EW_DIV] = ROW_FLOATS(div),
    [NB_EW_POW] = ROW_NUMERIC(pow),
    [NB_EW_MAXIMUM] = ROW_ALL(maximum),
    [NB_EW_MINIMUM] = ROW_ALL(minimum),
    [NB_EW_AXPY] = ROW_ALL(axpy),
    [NB_EW_LT] = ROW_ALL(lt),
    [NB_EW_LE] = ROW_ALL(le),
    [NB_EW_GT] = ROW_ALL(gt),
    [NB_EW_GE] = ROW_ALL(ge),
    [NB_EW_EQ] = ROW_ALL(eq),
    [NB_EW_NE] = ROW_ALL(ne),
    [NB_EW_MASKED_FILL] = ROW_ALL(masked_fill),
    [NB_EW_CLAMP_BACKWARD] = ROW_FLOATS(clamp_backward),
    [NB_EW_LOGICAL_AND] = ROW_ALL(logical_and),
    [NB_EW_LOGICAL_OR] = ROW_ALL(logical_or),
    [NB_EW_LERP_SCALAR] = ROW_FLOATS(lerp_scalar),
    [NB_EW_GELU_BACKWARD] = {[NB_FLOAT32] = nbk_cpu_gelu_backward_f32, [NB_FLOAT64] = gelu_backward_f64},
    [NB_EW_SILU_BACKWARD] = ROW_FLOATS(silu_backward),
    [NB_EW_LEAKY_RELU_BACKWARD] = ROW_FLOATS(leaky_relu_backward),
    [NB_EW_SOFTPLUS_BACKWARD] = ROW_FLOATS(softplus_backward),
    [NB_EW_WHERE] = ROW_ALL(where),
    [NB_EW_LERP] = ROW_FLOATS(lerp),
};
