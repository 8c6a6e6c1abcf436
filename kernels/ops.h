/* ops.h — the elementwise op ids that index every backend's kernel tables.
 * Operand order in each row comment: output first, then inputs; c0, c1 are nb_scalars a, b. */
#ifndef NB_KERNELS_OPS_H
#define NB_KERNELS_OPS_H

typedef enum nb_ew_op {
    NB_EW_FILL, /* nullary: (out) = c0 */
    /* unary: (out, x) */
    NB_EW_NEG,        /* -x */
    NB_EW_ABS,        /* |x| */
    NB_EW_EXP,
    NB_EW_LOG,
    NB_EW_SQRT,
    NB_EW_SIGMOID,    /* 1 / (1 + e^-x) */
    NB_EW_TANH,
    NB_EW_GELU,       /* x Phi(x); c0 != 0: the tanh approximation */
    NB_EW_SILU,       /* x sigmoid(x) */
    NB_EW_LEAKY_RELU, /* x > 0 ? x : c0 x, NaN kept */
    NB_EW_SOFTPLUS,   /* c0 x > c1 ? x : log1p(e^(c0 x)) / c0 (beta c0, threshold c1) */
    NB_EW_ERF,
    NB_EW_SIN,
    NB_EW_COS,
    NB_EW_LOG1P,
    NB_EW_EXPM1,
    NB_EW_RSQRT,      /* 1 / sqrt(x) */
    NB_EW_RECIPROCAL, /* 1 / x */
    NB_EW_FLOOR,      /* int64: x */
    NB_EW_CEIL,
    NB_EW_ROUND,      /* half to even */
    NB_EW_SIGN,       /* -1, 0 or 1 (0 for NaN); bool: x */
    NB_EW_LOGICAL_NOT, /* x == 0, bool out */
    NB_EW_RELU,       /* max(x, 0), NaN kept */
    NB_EW_CLAMP,      /* min(max(x, c0), c1), NaN kept */
    NB_EW_ADD_SCALAR, /* x + c0 */
    NB_EW_MUL_SCALAR, /* x * c0 */
    NB_EW_DIV_SCALAR, /* x / c0 */
    NB_EW_RSUB_SCALAR, /* c0 - x */
    NB_EW_POW_SCALAR, /* x ^ c0 */
    NB_EW_SQUARE,     /* x * x (pow with exponent 2) */
    NB_EW_LT_SCALAR,  /* x < c0, bool out */
    NB_EW_LE_SCALAR,
    NB_EW_GT_SCALAR,
    NB_EW_GE_SCALAR,
    NB_EW_EQ_SCALAR,
    NB_EW_NE_SCALAR,
    /* binary: (out, a, b) */
    NB_EW_ADD,
    NB_EW_SUB,
    NB_EW_MUL,
    NB_EW_DIV,
    NB_EW_POW,
    NB_EW_MAXIMUM, /* a NaN if either is (the first), else the larger; equal: a */
    NB_EW_MINIMUM, /* a NaN if either is (the first), else the smaller; equal: a */
    NB_EW_AXPY, /* a + c0 * b (the fused scaled add) */
    NB_EW_LT,   /* a < b, bool out */
    NB_EW_LE,
    NB_EW_GT,
    NB_EW_GE,
    NB_EW_EQ,
    NB_EW_NE,
    NB_EW_MASKED_FILL,    /* (out, a, mask): mask ? c0 : a */
    NB_EW_CLAMP_BACKWARD, /* (out, grad, x): c0 <= x <= c1 ? grad : 0 */
    NB_EW_LOGICAL_AND,    /* a != 0 && b != 0, bool out */
    NB_EW_LOGICAL_OR,     /* a != 0 || b != 0, bool out */
    NB_EW_LERP_SCALAR,    /* (out, start, end): start + c0 (end - start), PyTorch's two-sided form */
    NB_EW_GELU_BACKWARD,  /* (out, grad, x): grad gelu'(x); c0 as gelu's */
    NB_EW_SILU_BACKWARD,  /* (out, grad, x): grad silu'(x) */
    NB_EW_LEAKY_RELU_BACKWARD, /* (out, grad, x): x > 0 ? grad : c0 grad */
    NB_EW_SOFTPLUS_BACKWARD,   /* (out, grad, x): grad sigmoid(c0 x), grad where c0 x > c1 */
    /* ternary: (out, cond, a, b) */
    NB_EW_WHERE, /* cond ? a : b */
    NB_EW_LERP,  /* (out, start, end, weight): start + weight (end - start), two-sided */
    NB_EW_COUNT
} nb_ew_op;

#endif /* NB_KERNELS_OPS_H */
