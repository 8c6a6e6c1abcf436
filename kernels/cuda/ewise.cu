/* ewise.cu — every elementwise op of kernels/ops.h on the GPU, for exactly the dtypes the CPU
 * table (kernels/cpu/ewise_loops.c) takes, with the CPU's element rules: int64 arithmetic wraps
 * (computed in uint64), scalars convert to the compute dtype once (int64 saturating), float32
 * compares with a float32 scalar and the other dtypes compare in double, NaN passes through relu
 * and clamp. One functor (EwOp) holds the per-element switch; launch.cuh runs it over the
 * broadcasting, strided iteration. */
#include "launch.cuh"

#include <array>
#include <math.h>
#include <type_traits>
#include <utility>

namespace nb_cuda {
namespace {

/* ---------------------------------------------------------------- what each op takes */

constexpr int arity(int op)
{
    switch (op) {
    case NB_EW_FILL: return 0;
    case NB_EW_ADD: case NB_EW_SUB: case NB_EW_MUL: case NB_EW_DIV: case NB_EW_POW:
    case NB_EW_MAXIMUM: case NB_EW_MINIMUM: case NB_EW_AXPY: case NB_EW_LT: case NB_EW_LE: case NB_EW_GT: case NB_EW_GE: case NB_EW_EQ:
    case NB_EW_NE: case NB_EW_MASKED_FILL: case NB_EW_CLAMP_BACKWARD:
    case NB_EW_LOGICAL_AND: case NB_EW_LOGICAL_OR: case NB_EW_LERP_SCALAR: case NB_EW_GELU_BACKWARD:
    case NB_EW_SILU_BACKWARD: case NB_EW_LEAKY_RELU_BACKWARD: case NB_EW_SOFTPLUS_BACKWARD:
        return 2;
    case NB_EW_WHERE: case NB_EW_LERP: return 3;
    default: return 1;
    }
}

/* The ops with a bool output: comparisons and the logical ops. */
constexpr bool compares(int op)
{
    switch (op) {
    case NB_EW_LT_SCALAR: case NB_EW_LE_SCALAR: case NB_EW_GT_SCALAR: case NB_EW_GE_SCALAR:
    case NB_EW_EQ_SCALAR: case NB_EW_NE_SCALAR: case NB_EW_LT: case NB_EW_LE: case NB_EW_GT:
    case NB_EW_GE: case NB_EW_EQ: case NB_EW_NE:
    case NB_EW_LOGICAL_NOT: case NB_EW_LOGICAL_AND: case NB_EW_LOGICAL_OR:
        return true;
    default: return false;
    }
}

enum Coverage { ALL, NUMERIC, FLOATS };

/* The dtypes of the CPU table's row for op. */
constexpr Coverage coverage(int op)
{
    switch (op) {
    case NB_EW_FILL: case NB_EW_MASKED_FILL: case NB_EW_WHERE: case NB_EW_MAXIMUM: case NB_EW_MINIMUM:
    case NB_EW_ADD: case NB_EW_MUL: case NB_EW_AXPY: case NB_EW_SIGN:
        return ALL;
    case NB_EW_EXP: case NB_EW_LOG: case NB_EW_SQRT: case NB_EW_SIGMOID: case NB_EW_TANH:
    case NB_EW_DIV_SCALAR: case NB_EW_DIV: case NB_EW_CLAMP_BACKWARD:
    case NB_EW_GELU: case NB_EW_SILU: case NB_EW_LEAKY_RELU: case NB_EW_SOFTPLUS: case NB_EW_ERF:
    case NB_EW_SIN: case NB_EW_COS: case NB_EW_LOG1P: case NB_EW_EXPM1: case NB_EW_RSQRT:
    case NB_EW_RECIPROCAL: case NB_EW_LERP: case NB_EW_LERP_SCALAR: case NB_EW_GELU_BACKWARD:
    case NB_EW_SILU_BACKWARD: case NB_EW_LEAKY_RELU_BACKWARD: case NB_EW_SOFTPLUS_BACKWARD:
        return FLOATS;
    default: return compares(op) ? ALL : NUMERIC;
    }
}

constexpr bool supported(int op, int dtype)
{
    return dtype == NB_FLOAT32 || dtype == NB_FLOAT64 ||
           (dtype == NB_INT64 && coverage(op) != FLOATS) || (dtype == NB_BOOL && coverage(op) == ALL);
}

template <int D> struct dtype_of;
template <> struct dtype_of<NB_FLOAT32> { using type = float; };
template <> struct dtype_of<NB_FLOAT64> { using type = double; };
template <> struct dtype_of<NB_INT64> { using type = int64_t; };
template <> struct dtype_of<NB_BOOL> { using type = bool; };

/* ---------------------------------------------------------------- element helpers */

template <class T> constexpr bool is_float = std::is_floating_point<T>::value;

/* A scalar in the compute dtype, as the CPU converts it (int64 saturates, NaN gives 0). */
template <class T> T scalar_as(double v)
{
    if constexpr (std::is_same<T, bool>::value) {
        return v != 0;
    } else if constexpr (std::is_same<T, int64_t>::value) {
        if (v != v) return 0;
        if (v >= 9223372036854775807.0) return INT64_MAX;
        if (v <= -9223372036854775808.0) return INT64_MIN;
        return (int64_t)v;
    } else {
        return (T)v;
    }
}

/* int64 arithmetic wraps like PyTorch's: done in uint64 so overflow is defined */
__host__ __device__ __forceinline__ uint64_t wrap(int64_t x) { return (uint64_t)x; }

__host__ __device__ __forceinline__ int64_t ipow(int64_t base, int64_t e)
{
    if (e < 0) return base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
    uint64_t r = 1, b = (uint64_t)base;
    while (e) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)r;
}

__host__ __device__ __forceinline__ float m_exp(float x) { return expf(x); }
__host__ __device__ __forceinline__ double m_exp(double x) { return exp(x); }
__host__ __device__ __forceinline__ float m_log(float x) { return logf(x); }
__host__ __device__ __forceinline__ double m_log(double x) { return log(x); }
__host__ __device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__host__ __device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }
__host__ __device__ __forceinline__ float m_tanh(float x) { return tanhf(x); }
__host__ __device__ __forceinline__ double m_tanh(double x) { return tanh(x); }
__host__ __device__ __forceinline__ float m_fabs(float x) { return fabsf(x); }
__host__ __device__ __forceinline__ double m_fabs(double x) { return fabs(x); }
__host__ __device__ __forceinline__ float m_pow(float x, float y) { return powf(x, y); }
__host__ __device__ __forceinline__ double m_pow(double x, double y) { return pow(x, y); }
__host__ __device__ __forceinline__ float m_erf(float x) { return erff(x); }
__host__ __device__ __forceinline__ double m_erf(double x) { return erf(x); }
__host__ __device__ __forceinline__ float m_sin(float x) { return sinf(x); }
__host__ __device__ __forceinline__ double m_sin(double x) { return sin(x); }
__host__ __device__ __forceinline__ float m_cos(float x) { return cosf(x); }
__host__ __device__ __forceinline__ double m_cos(double x) { return cos(x); }
__host__ __device__ __forceinline__ float m_log1p(float x) { return log1pf(x); }
__host__ __device__ __forceinline__ double m_log1p(double x) { return log1p(x); }
__host__ __device__ __forceinline__ float m_expm1(float x) { return expm1f(x); }
__host__ __device__ __forceinline__ double m_expm1(double x) { return expm1(x); }
__host__ __device__ __forceinline__ float m_floor(float x) { return floorf(x); }
__host__ __device__ __forceinline__ double m_floor(double x) { return floor(x); }
__host__ __device__ __forceinline__ float m_ceil(float x) { return ceilf(x); }
__host__ __device__ __forceinline__ double m_ceil(double x) { return ceil(x); }
__host__ __device__ __forceinline__ float m_rint(float x) { return rintf(x); } /* halves to even */
__host__ __device__ __forceinline__ double m_rint(double x) { return rint(x); }

/* ---------------------------------------------------------------- activations and lerp */

/* gelu: exact (x Phi(x), through erf) or, when approx, PyTorch's tanh form */
template <class T> __host__ __device__ __forceinline__ T gelu(T x, bool approx)
{
    if (approx) return (T)0.5 * x * ((T)1 + m_tanh((T)0.79788456080286535588 * (x + (T)0.044715 * x * x * x)));
    return (T)0.5 * x * ((T)1 + m_erf(x * (T)0.70710678118654752440));
}

/* d gelu / dx, PyTorch's formulas for both forms */
template <class T> __host__ __device__ __forceinline__ T gelu_derivative(T x, bool approx)
{
    if (approx) {
        const T beta = (T)0.79788456080286535588, kappa = (T)0.044715;
        const T th = m_tanh(beta * (x + kappa * x * x * x));
        return (T)0.5 * ((T)1 + th) + (T)0.5 * x * ((T)1 - th * th) * beta * ((T)1 + (T)3 * kappa * x * x);
    }
    const T cdf = (T)0.5 * ((T)1 + m_erf(x * (T)0.70710678118654752440));
    return cdf + x * m_exp((T)-0.5 * x * x) * (T)0.39894228040143267794;
}

/* PyTorch's lerp: from whichever end is nearer, so a weight of 1 gives end exactly */
template <class T> __host__ __device__ __forceinline__ T lerp(T a, T b, T w)
{
    return w < (T)0.5 ? a + w * (b - a) : b - (b - a) * ((T)1 - w);
}

/* ---------------------------------------------------------------- the op functor */

template <int OP, class T> struct EwOp {
    static constexpr int nin = arity(OP);
    using Out = typename std::conditional<compares(OP), bool, T>::type;
    /* where's condition (input 0) and masked_fill's mask (input 1) are bool */
    using In0 = typename std::conditional<nin < 1, Unused,
                typename std::conditional<OP == NB_EW_WHERE, bool, T>::type>::type;
    using In1 = typename std::conditional<nin < 2, Unused,
                typename std::conditional<OP == NB_EW_MASKED_FILL, bool, T>::type>::type;
    using In2 = typename std::conditional<nin < 3, Unused, T>::type;

    T c0, c1;  /* the scalars in the compute dtype */
    double a;  /* the first scalar as given, for comparisons made in double */

    __host__ __device__ __forceinline__ Out operator()(In0 x, In1 y, In2 z) const
    {
        (void)x, (void)y, (void)z;
        constexpr bool fl = is_float<T>;
        if constexpr (OP == NB_EW_FILL) return c0;
        else if constexpr (OP == NB_EW_NEG) { if constexpr (fl) return -x; else return (T)(0 - wrap(x)); }
        else if constexpr (OP == NB_EW_ABS) { if constexpr (fl) return m_fabs(x); else return x < 0 ? (T)(0 - wrap(x)) : x; }
        else if constexpr (OP == NB_EW_EXP) return m_exp(x);
        else if constexpr (OP == NB_EW_LOG) return m_log(x);
        else if constexpr (OP == NB_EW_SQRT) return m_sqrt(x);
        else if constexpr (OP == NB_EW_SIGMOID) return (T)1 / ((T)1 + m_exp(-x));
        else if constexpr (OP == NB_EW_TANH) return m_tanh(x);
        else if constexpr (OP == NB_EW_RELU) return x < 0 ? (T)0 : x;
        else if constexpr (OP == NB_EW_GELU) return gelu(x, c0 != 0);
        else if constexpr (OP == NB_EW_SILU) return x / ((T)1 + m_exp(-x));
        else if constexpr (OP == NB_EW_LEAKY_RELU) return x > 0 ? x : x * c0;
        else if constexpr (OP == NB_EW_SOFTPLUS) return x * c0 > c1 ? x : m_log1p(m_exp(x * c0)) / c0;
        else if constexpr (OP == NB_EW_ERF) return m_erf(x);
        else if constexpr (OP == NB_EW_SIN) return m_sin(x);
        else if constexpr (OP == NB_EW_COS) return m_cos(x);
        else if constexpr (OP == NB_EW_LOG1P) return m_log1p(x);
        else if constexpr (OP == NB_EW_EXPM1) return m_expm1(x);
        else if constexpr (OP == NB_EW_RSQRT) return (T)1 / m_sqrt(x);
        else if constexpr (OP == NB_EW_RECIPROCAL) return (T)1 / x;
        else if constexpr (OP == NB_EW_FLOOR) { if constexpr (fl) return m_floor(x); else return x; }
        else if constexpr (OP == NB_EW_CEIL) { if constexpr (fl) return m_ceil(x); else return x; }
        else if constexpr (OP == NB_EW_ROUND) { if constexpr (fl) return m_rint(x); else return x; }
        else if constexpr (OP == NB_EW_SIGN) { /* NaN gives 0; bool is its own sign */
            if constexpr (std::is_same<T, bool>::value) return x;
            else return (T)((x > 0) - (x < 0));
        }
        else if constexpr (OP == NB_EW_LOGICAL_NOT) return x == (T)0;
        else if constexpr (OP == NB_EW_CLAMP) { /* every element is c1 when c0 > c1; NaN stays */
            const T lo = x < c0 ? c0 : x;
            return lo > c1 ? c1 : lo;
        }
        else if constexpr (OP == NB_EW_ADD_SCALAR) { if constexpr (fl) return x + c0; else return (T)(wrap(x) + wrap(c0)); }
        else if constexpr (OP == NB_EW_MUL_SCALAR) { if constexpr (fl) return x * c0; else return (T)(wrap(x) * wrap(c0)); }
        else if constexpr (OP == NB_EW_DIV_SCALAR) return x / c0;
        else if constexpr (OP == NB_EW_RSUB_SCALAR) { if constexpr (fl) return c0 - x; else return (T)(wrap(c0) - wrap(x)); }
        else if constexpr (OP == NB_EW_POW_SCALAR) { if constexpr (fl) return m_pow(x, c0); else return ipow(x, c0); }
        else if constexpr (OP == NB_EW_SQUARE) { if constexpr (fl) return x * x; else return (T)(wrap(x) * wrap(x)); }
        else if constexpr (OP >= NB_EW_LT_SCALAR && OP <= NB_EW_NE_SCALAR) {
            if constexpr (std::is_same<T, float>::value) return compare(x, c0);
            else return compare((double)x, a);
        }
        else if constexpr (OP == NB_EW_ADD && std::is_same<T, bool>::value) return x || y; /* bool: or */
        else if constexpr (OP == NB_EW_MUL && std::is_same<T, bool>::value) return x && y; /* bool: and */
        else if constexpr (OP == NB_EW_AXPY && std::is_same<T, bool>::value) return x || (c0 && y);
        else if constexpr (OP == NB_EW_ADD) { if constexpr (fl) return x + y; else return (T)(wrap(x) + wrap(y)); }
        else if constexpr (OP == NB_EW_SUB) { if constexpr (fl) return x - y; else return (T)(wrap(x) - wrap(y)); }
        else if constexpr (OP == NB_EW_MUL) { if constexpr (fl) return x * y; else return (T)(wrap(x) * wrap(y)); }
        else if constexpr (OP == NB_EW_DIV) return x / y;
        else if constexpr (OP == NB_EW_POW) { if constexpr (fl) return m_pow(x, y); else return ipow(x, y); }
        else if constexpr (OP == NB_EW_MAXIMUM) return (x != x) ? x : ((y != y || x < y) ? y : x); /* NaN, then a's on ties */
        else if constexpr (OP == NB_EW_MINIMUM) return (x != x) ? x : ((y != y || y < x) ? y : x);
        else if constexpr (OP == NB_EW_AXPY) { if constexpr (fl) return x + c0 * y; else return (T)(wrap(x) + wrap(c0) * wrap(y)); }
        else if constexpr (OP >= NB_EW_LT && OP <= NB_EW_NE) return compare(x, y);
        else if constexpr (OP == NB_EW_MASKED_FILL) return y ? c0 : x;
        else if constexpr (OP == NB_EW_CLAMP_BACKWARD) return (y >= c0 && y <= c1) ? x : (T)0; /* x grad, y input */
        else if constexpr (OP == NB_EW_LOGICAL_AND) return x != (T)0 && y != (T)0;
        else if constexpr (OP == NB_EW_LOGICAL_OR) return x != (T)0 || y != (T)0;
        else if constexpr (OP == NB_EW_LERP_SCALAR) return lerp(x, y, c0);
        /* the activations' gradients: x is the incoming gradient, y the input */
        else if constexpr (OP == NB_EW_GELU_BACKWARD) return x * gelu_derivative(y, c0 != 0);
        else if constexpr (OP == NB_EW_SILU_BACKWARD) {
            const T sig = (T)1 / ((T)1 + m_exp(-y));
            return x * sig * ((T)1 + y * ((T)1 - sig));
        }
        else if constexpr (OP == NB_EW_LEAKY_RELU_BACKWARD) return y > 0 ? x : x * c0;
        else if constexpr (OP == NB_EW_SOFTPLUS_BACKWARD) {
            const T z = m_exp(y * c0);
            return y * c0 > c1 ? x : x * z / (z + (T)1);
        }
        else if constexpr (OP == NB_EW_WHERE) return x ? y : z;
        else if constexpr (OP == NB_EW_LERP) return lerp(x, y, z);
        else static_assert(OP < 0, "an elementwise op without a CUDA formula");
    }

    template <class U> __host__ __device__ __forceinline__ static bool compare(U l, U r)
    {
        constexpr int base = OP >= NB_EW_LT ? NB_EW_LT : NB_EW_LT_SCALAR;
        constexpr int which = OP - base; /* lt, le, gt, ge, eq, ne in ops.h's order */
        if constexpr (which == 0) return l < r;
        else if constexpr (which == 1) return l <= r;
        else if constexpr (which == 2) return l > r;
        else if constexpr (which == 3) return l >= r;
        else if constexpr (which == 4) return l == r;
        else return l != r;
    }
};

/* The comparison rows must keep ops.h's order for compare() above. */
static_assert(NB_EW_LE_SCALAR == NB_EW_LT_SCALAR + 1 && NB_EW_NE_SCALAR == NB_EW_LT_SCALAR + 5,
              "scalar comparisons out of order");
static_assert(NB_EW_LE == NB_EW_LT + 1 && NB_EW_NE == NB_EW_LT + 5, "comparisons out of order");

/* ---------------------------------------------------------------- the table */

typedef nb_status (*launcher)(int device, const nb_iter *it, const nb_scalars *s);

/* The functor of op in compute dtype T with the scalars s. */
template <int OP, class T> EwOp<OP, T> functor_for(const nb_scalars *s)
{
    EwOp<OP, T> f;
    f.c0 = scalar_as<T>(s->a);
    f.c1 = scalar_as<T>(s->b);
    f.a = s->a;
    return f;
}

template <int OP, class T> nb_status launch(int device, const nb_iter *it, const nb_scalars *s)
{
    return run_elementwise(device, it, functor_for<OP, T>(s), "launching an elementwise kernel");
}

template <int OP, int D> constexpr launcher entry()
{
    if constexpr (supported(OP, D)) return &launch<OP, typename dtype_of<D>::type>;
    else return nullptr;
}

template <int... OPS>
constexpr std::array<std::array<launcher, NB_DTYPE_COUNT>, sizeof...(OPS)>
make_table(std::integer_sequence<int, OPS...>)
{
    /* float16 and bfloat16 have no kernels of their own: lib/ewise.c computes them in float32 */
    return {{{{entry<OPS, NB_FLOAT32>(), entry<OPS, NB_FLOAT64>(), entry<OPS, NB_INT64>(),
               entry<OPS, NB_BOOL>(), nullptr, nullptr}}...}};
}

static_assert(NB_DTYPE_COUNT == 6 && NB_FLOAT32 == 0 && NB_BOOL == 3 && NB_FLOAT16 == 4 && NB_BFLOAT16 == 5,
              "dtype order changed");

const auto table = make_table(std::make_integer_sequence<int, NB_EW_COUNT>{});

} /* namespace */
} /* namespace nb_cuda */

extern "C" bool nbk_cuda_has_ewise(nb_ew_op op, nb_dtype dtype)
{
    return (int)op >= 0 && op < NB_EW_COUNT && (int)dtype >= 0 && dtype < NB_DTYPE_COUNT &&
           nb_cuda::table[op][dtype] != nullptr;
}

extern "C" nb_status nbk_cuda_ewise(int device, nb_ew_op op, nb_dtype dtype, const nb_iter *it,
                                   const nb_scalars *s)
{
    if (!nbk_cuda_has_ewise(op, dtype))
        return nbk_fail(NB_ERR_UNSUPPORTED, "no CUDA kernel for elementwise op %d in %s", (int)op,
                            nb_dtype_name(dtype));
    return nb_cuda::table[op][dtype](device, it, s);
}
