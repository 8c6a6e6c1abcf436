/* ewise.c — elementwise ops: the table of dtype rules, the shared broadcasting path, and the
 * public entry points (arithmetic, math, comparisons, where, masked_fill, in-place forms). */
#include "ewise.h"
#include "autocast.h"

#include "autograd/record.h"
#include "dispatch.h"
#include "dtype.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef enum type_rule {
    RULE_SAME,    /* computes and returns the promoted input dtype */
    RULE_FLOAT,   /* int64 and bool inputs compute in float32 (exp, div, ...) */
    RULE_COMPARE, /* computes in the promoted dtype, returns bool */
} type_rule;

typedef struct ew_def {
    type_rule rule;
    int arity;
    int mask_operand;     /* input index that must be bool (where's cond, masked_fill's mask), or -1 */
    bool scalar_promotes; /* a non-integral scalar makes int64 inputs compute in float32 */
} ew_def;

#define UNARY(rule) {rule, 1, -1, false}
#define SCALAR(rule) {rule, 1, -1, true}
#define BINARY(rule) {rule, 2, -1, false}

static const ew_def defs[NB_EW_COUNT] = {
    [NB_EW_FILL] = {RULE_SAME, 0, -1, false},
    [NB_EW_NEG] = UNARY(RULE_SAME),
    [NB_EW_ABS] = UNARY(RULE_SAME),
    [NB_EW_EXP] = UNARY(RULE_FLOAT),
    [NB_EW_LOG] = UNARY(RULE_FLOAT),
    [NB_EW_SQRT] = UNARY(RULE_FLOAT),
    [NB_EW_SIGMOID] = UNARY(RULE_FLOAT),
    [NB_EW_TANH] = UNARY(RULE_FLOAT),
    [NB_EW_GELU] = UNARY(RULE_SAME), /* floating only, as PyTorch's activations */
    [NB_EW_SILU] = UNARY(RULE_SAME),
    [NB_EW_LEAKY_RELU] = UNARY(RULE_SAME),
    [NB_EW_SOFTPLUS] = UNARY(RULE_SAME),
    [NB_EW_ERF] = UNARY(RULE_FLOAT),
    [NB_EW_SIN] = UNARY(RULE_FLOAT),
    [NB_EW_COS] = UNARY(RULE_FLOAT),
    [NB_EW_LOG1P] = UNARY(RULE_FLOAT),
    [NB_EW_EXPM1] = UNARY(RULE_FLOAT),
    [NB_EW_RSQRT] = UNARY(RULE_FLOAT),
    [NB_EW_RECIPROCAL] = UNARY(RULE_FLOAT),
    [NB_EW_FLOOR] = UNARY(RULE_SAME),
    [NB_EW_CEIL] = UNARY(RULE_SAME),
    [NB_EW_ROUND] = UNARY(RULE_SAME),
    [NB_EW_SIGN] = UNARY(RULE_SAME),
    [NB_EW_LOGICAL_NOT] = UNARY(RULE_COMPARE),
    [NB_EW_RELU] = UNARY(RULE_SAME),
    [NB_EW_CLAMP] = SCALAR(RULE_SAME),
    [NB_EW_ADD_SCALAR] = SCALAR(RULE_SAME),
    [NB_EW_MUL_SCALAR] = SCALAR(RULE_SAME),
    [NB_EW_DIV_SCALAR] = SCALAR(RULE_FLOAT),
    [NB_EW_RSUB_SCALAR] = SCALAR(RULE_SAME),
    [NB_EW_POW_SCALAR] = SCALAR(RULE_SAME),
    [NB_EW_SQUARE] = SCALAR(RULE_SAME), /* pow_scalar's: the exponent 2 makes bool int64 */
    [NB_EW_LT_SCALAR] = UNARY(RULE_COMPARE),
    [NB_EW_LE_SCALAR] = UNARY(RULE_COMPARE),
    [NB_EW_GT_SCALAR] = UNARY(RULE_COMPARE),
    [NB_EW_GE_SCALAR] = UNARY(RULE_COMPARE),
    [NB_EW_EQ_SCALAR] = UNARY(RULE_COMPARE),
    [NB_EW_NE_SCALAR] = UNARY(RULE_COMPARE),
    [NB_EW_ADD] = BINARY(RULE_SAME),
    [NB_EW_SUB] = BINARY(RULE_SAME),
    [NB_EW_MUL] = BINARY(RULE_SAME),
    [NB_EW_DIV] = BINARY(RULE_FLOAT),
    [NB_EW_POW] = BINARY(RULE_SAME),
    [NB_EW_MAXIMUM] = BINARY(RULE_SAME),
    [NB_EW_MINIMUM] = BINARY(RULE_SAME),
    [NB_EW_AXPY] = {RULE_SAME, 2, -1, true},
    [NB_EW_LT] = BINARY(RULE_COMPARE),
    [NB_EW_LE] = BINARY(RULE_COMPARE),
    [NB_EW_GT] = BINARY(RULE_COMPARE),
    [NB_EW_GE] = BINARY(RULE_COMPARE),
    [NB_EW_EQ] = BINARY(RULE_COMPARE),
    [NB_EW_NE] = BINARY(RULE_COMPARE),
    [NB_EW_MASKED_FILL] = {RULE_SAME, 2, 1, false}, /* keeps a's dtype: the value is converted */
    [NB_EW_CLAMP_BACKWARD] = BINARY(RULE_FLOAT),
    [NB_EW_LOGICAL_AND] = BINARY(RULE_COMPARE),
    [NB_EW_LOGICAL_OR] = BINARY(RULE_COMPARE),
    [NB_EW_LERP_SCALAR] = BINARY(RULE_SAME),
    [NB_EW_GELU_BACKWARD] = BINARY(RULE_FLOAT),
    [NB_EW_SILU_BACKWARD] = BINARY(RULE_FLOAT),
    [NB_EW_LEAKY_RELU_BACKWARD] = BINARY(RULE_FLOAT),
    [NB_EW_SOFTPLUS_BACKWARD] = BINARY(RULE_FLOAT),
    [NB_EW_WHERE] = {RULE_SAME, 3, 0, false},
    [NB_EW_LERP] = {RULE_SAME, 3, -1, false},
};

bool nb__check_devices(const char *op, int n, const nb_tensor *const *ts)
{
    for (int k = 1; k < n; k++) {
        if (nb__same_device(ts[0]->storage->device, ts[k]->storage->device)) continue;
        char d0[32], dk[32];
        nb__fail(NB_ERR_DEVICE, "%s: expected all tensors on one device, got %s and %s", op,
                 nb__device_string(ts[0]->storage->device, d0, sizeof d0),
                 nb__device_string(ts[k]->storage->device, dk, sizeof dk));
        return false;
    }
    return true;
}

bool nb__check_writable(const char *op, const nb_tensor *t)
{
    if (nb__has_overlap(t)) {
        char shape[128], strides[128];
        nb__fail(NB_ERR_ARGUMENT,
                 "%s: cannot write in place to an expanded tensor of shape %s (strides %s): "
                 "several of its elements share memory; clone it first",
                 op, nb__shape_string(t->ndim, t->shape, shape, sizeof shape),
                 nb__shape_string(t->ndim, t->strides, strides, sizeof strides));
        return false;
    }
    return nb__autograd_check_inplace(op, t);
}

static bool integral(double v) { return v == floor(v) && fabs(v) < 9.2e18; }

/* PyTorch's result type (c10's result_type): the dims-carrying inputs promote among themselves,
 * and so do the 0-d ones; a 0-d input's dtype counts only when it is of a higher category
 * (bool < integer < floating) than the others', so a float32 tensor plus a float64 0-d tensor
 * stays float32 and a bool tensor plus an int64 0-d tensor is int64. -1: no input of that kind. */
static int combine_categories(int higher, int lower)
{
    if (higher >= 0 && nb__is_float_kind((nb_dtype)higher)) return higher;
    if (higher == NB_BOOL || (lower >= 0 && nb__is_float_kind((nb_dtype)lower)))
        return higher < 0 ? lower : lower < 0 ? higher : (int)nb__promote((nb_dtype)higher, (nb_dtype)lower);
    return higher >= 0 ? higher : lower;
}

static bool is_sub(nb_ew_op op) { return op == NB_EW_SUB || op == NB_EW_RSUB_SCALAR; }

/* PyTorch refuses subtraction with a bool operand (and negation of one), naming the way out. */
static bool refuse_bool_sub(const char *name, int n, const nb_tensor *const *in)
{
    int bools = 0;
    for (int k = 0; k < n; k++) bools += in[k]->dtype == NB_BOOL;
    if (bools == 0) return false;
    if (bools == 2 && n == 2)
        nb__fail(NB_ERR_DTYPE, "%s: subtracting two bool tensors is not supported; for a logical xor use nb_ne",
                 name);
    else if (n == 2)
        nb__fail(NB_ERR_DTYPE,
                 "%s: subtraction with a bool tensor is not supported (got %s and %s); to invert a mask use "
                 "nb_logical_not",
                 name, nb_dtype_name(in[0]->dtype), nb_dtype_name(in[1]->dtype));
    else
        nb__fail(NB_ERR_DTYPE,
                 "%s: subtraction with a bool tensor is not supported; to invert a mask use nb_logical_not", name);
    return true;
}

/* The dtype the kernels run in: float16 and bfloat16 compute in float32, their inputs converted
 * and the result rounded once to the half dtype (native half kernels are a later speed-up). */
static nb_dtype kernel_dtype(nb_dtype dt) { return nb__is_half(dt) ? NB_FLOAT32 : dt; }

/* The dtype op computes in (its result's, a half dtype included), or an error. */
static bool compute_dtype(const char *name, nb_ew_op op, int n, const nb_tensor *const *in,
                          nb_scalars s, nb_dtype *out)
{
    const ew_def *def = &defs[op];
    int dims = -1, zero = -1; /* the promoted dtypes of the inputs with dims and of the 0-d ones */
    for (int k = 0; k < n; k++) {
        if (k == def->mask_operand) {
            if (in[k]->dtype != NB_BOOL)
                return nb__fail(NB_ERR_DTYPE, "%s: the %s must be bool, got %s", name,
                                op == NB_EW_WHERE ? "condition" : "mask", nb_dtype_name(in[k]->dtype)),
                       false;
            continue;
        }
        int *acc = in[k]->ndim > 0 ? &dims : &zero;
        *acc = *acc < 0 ? (int)in[k]->dtype : (int)nb__promote((nb_dtype)*acc, in[k]->dtype);
    }
    nb_dtype dt = (nb_dtype)combine_categories(dims, zero); /* fill (no input) keeps bool's 0 */
    if (dims < 0 && zero < 0) dt = NB_BOOL;
    if (is_sub(op) && refuse_bool_sub(name, n, in)) return false;
    if (op == NB_EW_NEG && dt == NB_BOOL)
        return nb__fail(NB_ERR_DTYPE, "%s: negating a bool tensor is not supported; to invert a mask use nb_logical_not",
                        name),
               false;
    if (def->rule == RULE_FLOAT && !nb__is_float_kind(dt)) dt = NB_FLOAT32;
    /* a scalar is a number of its own category: a fractional one makes integers compute in
     * float32, an integral one makes bool compute in int64 (clamp's infinite open bounds take no
     * part; axpy's alpha is a multiplier, not an operand, as in PyTorch) */
    bool a_part = !(op == NB_EW_CLAMP && isinf(s.a)), b_part = op == NB_EW_CLAMP && !isinf(s.b);
    if (def->scalar_promotes && !nb__is_float_kind(dt)) {
        if ((a_part && !integral(s.a)) || (b_part && !integral(s.b)))
            dt = NB_FLOAT32;
        else if (dt == NB_BOOL && op != NB_EW_AXPY && (a_part || b_part))
            dt = NB_INT64;
    }
    if (!nb__has_ewise_kernel(op, kernel_dtype(dt), in[0]->storage->device)) {
        char dev[32];
        return nb__fail(NB_ERR_DTYPE, "%s: dtype %s is not supported on %s", name, nb_dtype_name(dt),
                        nb__device_string(in[0]->storage->device, dev, sizeof dev)),
               false;
    }
    *out = dt;
    return true;
}

nb_tensor *nb__convert(const char *name, const nb_tensor *t, nb_dtype dtype)
{
    nb_tensor *out = nb__alloc(name, t->ndim, t->shape, dtype, t->storage->device);
    if (!out) return NULL;
    nb_iter it;
    nb__iter_build(&it, out, 1, &t);
    if (nb__run_cast(name, t->dtype, dtype, &it, t->storage->device) != NB_OK) {
        nb_release(out);
        return NULL;
    }
    return out;
}

/* Inputs converted to dtype where they differ (masks stay bool); conv[k] holds what to release. */
static bool convert_inputs(const char *name, nb_ew_op op, int n, const nb_tensor *const *in,
                           nb_dtype dt, const nb_tensor **use, nb_tensor **conv)
{
    for (int k = 0; k < n; k++) {
        conv[k] = NULL;
        use[k] = in[k];
        if (k == defs[op].mask_operand || in[k]->dtype == dt) continue;
        conv[k] = nb__convert(name, in[k], dt);
        if (!conv[k]) return false;
        use[k] = conv[k];
    }
    return true;
}

/* Inputs (after the target, use[0]) that share the target's memory in another layout are copied
 * first, so no element is read after the op has overwritten it (x += x.T, y -= y[0]). */
static bool copy_aliased_inputs(const char *name, const nb_tensor *target, int n, const nb_tensor **use,
                                nb_tensor **conv)
{
    for (int k = 1; k < n; k++) {
        const nb_tensor *u = use[k];
        if (conv[k] || u->storage != target->storage) continue;
        if (u->offset == target->offset && u->ndim == target->ndim &&
            memcmp(u->shape, target->shape, (size_t)u->ndim * sizeof(int64_t)) == 0 &&
            memcmp(u->strides, target->strides, (size_t)u->ndim * sizeof(int64_t)) == 0)
            continue; /* the target's own view: each element is read before it is written */
        conv[k] = nb__convert(name, u, u->dtype);
        if (!conv[k]) return false;
        use[k] = conv[k];
    }
    return true;
}

static void release_all(int n, nb_tensor **ts)
{
    for (int k = 0; k < n; k++) nb_release(ts[k]);
}

/* The device types whose autocast runs op in float32: PyTorch's CUDA list (exp, log, log1p, expm1,
 * reciprocal, rsqrt, pow, softplus); its CPU list names none of the elementwise ops. */
static unsigned autocast_fp32_devices(nb_ew_op op)
{
    switch (op) {
    case NB_EW_EXP: case NB_EW_LOG: case NB_EW_LOG1P: case NB_EW_EXPM1: case NB_EW_RECIPROCAL: case NB_EW_RSQRT:
    case NB_EW_POW: case NB_EW_POW_SCALAR: case NB_EW_SQUARE: case NB_EW_SOFTPLUS:
        return NB__AUTOCAST_CUDA;
    default:
        return 0;
    }
}

nb_tensor *nb__ewise(const char *name, nb_ew_op op, int n, const nb_tensor *const *in, nb_scalars s)
{
    for (int k = 0; k < n; k++)
        if (!in[k]) return nb__fail(NB_ERR_NULL, "%s: input %d is NULL", name, k + 1);
    nb__autocast ac;
    if (nb__autocast_fp32(&ac, autocast_fp32_devices(op), n, in))
        return nb__autocast_done(&ac, nb__ewise(name, op, n, (const nb_tensor *const *)ac.t, s));
    if (!nb__check_devices(name, n, in)) return NULL;
    nb_dtype dt;
    if (!compute_dtype(name, op, n, in, s, &dt)) return NULL;
    int nd;
    int64_t shape[NB_MAX_DIMS];
    if (!nb__broadcast_shapes(name, n, in, &nd, shape)) return NULL;

    const nb_tensor *use[NB_ITER_MAX_OPERANDS];
    nb_tensor *conv[NB_ITER_MAX_OPERANDS] = {0};
    nb_tensor *out = NULL;
    const nb_dtype kdt = kernel_dtype(dt), out_dt = defs[op].rule == RULE_COMPARE ? NB_BOOL : dt;
    if (!convert_inputs(name, op, n, in, kdt, use, conv)) goto done;
    out = nb__alloc(name, nd, shape, out_dt == dt ? kdt : out_dt, in[0]->storage->device);
    if (!out) goto done;
    nb_iter it;
    nb__iter_build(&it, out, n, use);
    if (nb__run_ewise(name, op, kdt, &it, &s, out->storage->device) != NB_OK) {
        nb_release(out);
        out = NULL;
        goto done;
    }
    if (out->dtype != out_dt) { /* a half result, computed in float32: rounded once */
        nb_tensor *wide = out;
        out = nb__convert(name, wide, out_dt);
        nb_release(wide);
        if (!out) goto done;
    }
    if (!nb__autograd_record_ewise(name, op, out, n, in, s)) {
        nb_release(out);
        out = NULL;
    }
done:
    release_all(n, conv);
    return out;
}

/* An in-place op that autograd must see: computed out of place from a copy of the target's old
 * values (which the backward may need), written back, and the target takes the result's history. */
static nb_tensor *inplace_recorded(const char *name, nb_ew_op op, nb_tensor *target, int n,
                                   const nb_tensor *const *others, nb_scalars s)
{
    if (target->is_view)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "%s: in-place ops on a view cannot be recorded for autograd; apply the op out "
                        "of place or on a clone",
                        name);
    nb__tracking_pause();
    nb_tensor *old = nb_clone(target);
    const nb_tensor *in[NB_ITER_MAX_OPERANDS] = {old};
    for (int k = 0; k < n; k++) in[k + 1] = others[k];
    nb_tensor *out = old ? nb__ewise(name, op, n + 1, in, s) : NULL;
    nb_release(old);
    nb__tracking_resume();
    if (!out) return NULL;
    nb_iter it;
    const nb_tensor *src = out;
    nb__iter_build(&it, target, 1, &src);
    nb_tensor *result = NULL;
    if (nb__run_cast(name, out->dtype, target->dtype, &it, target->storage->device) == NB_OK) {
        nb__bump_version(target);
        nb__autograd_take_history(target, out);
        result = target;
    }
    nb_release(out);
    return result;
}

/* An in-place op on a float16 or bfloat16 target: run in place on a float32 copy of it, whose
 * values are then rounded back into the target once. */
static nb_tensor *inplace_half(const char *name, nb_ew_op op, nb_tensor *target, int n,
                               const nb_tensor *const *others, nb_scalars s)
{
    nb_tensor *wide = nb__convert(name, target, NB_FLOAT32);
    nb_tensor *result = NULL;
    if (wide && nb__ewise_(name, op, wide, n, others, s)) {
        nb_iter it;
        const nb_tensor *src = wide;
        nb__iter_build(&it, target, 1, &src);
        if (nb__run_cast(name, NB_FLOAT32, target->dtype, &it, target->storage->device) == NB_OK) {
            nb__bump_version(target);
            if (nb__autograd_record_ewise_(name, op, target, n, others, s)) result = target;
        }
    }
    nb_release(wide);
    return result;
}

nb_tensor *nb__ewise_(const char *name, nb_ew_op op, nb_tensor *target, int n,
                      const nb_tensor *const *others, nb_scalars s)
{
    if (!target) return nb__fail(NB_ERR_NULL, "%s: the target tensor is NULL", name);
    const nb_tensor *in[NB_ITER_MAX_OPERANDS] = {target};
    for (int k = 0; k < n; k++) {
        if (!others[k]) return nb__fail(NB_ERR_NULL, "%s: input %d is NULL", name, k + 2);
        in[k + 1] = others[k];
    }
    const int nin = defs[op].arity; /* fill reads no input; the others read the target first */
    if (!nb__check_devices(name, n + 1, in)) return NULL;
    nb_dtype dt;
    if (!compute_dtype(name, op, n + 1, in, s, &dt)) return NULL;
    /* like PyTorch: a float result may be written into a narrower float target (computed in
     * the target's dtype), but never a float into an integer target */
    if (dt != target->dtype && op != NB_EW_FILL) {
        if (!(nb__is_float_kind(dt) && nb__is_float_kind(target->dtype)))
            return nb__fail(NB_ERR_DTYPE, "%s: the result dtype %s cannot be written into a %s tensor",
                            name, nb_dtype_name(dt), nb_dtype_name(target->dtype));
        dt = target->dtype;
    }
    int nd;
    int64_t shape[NB_MAX_DIMS];
    if (!nb__broadcast_shapes(name, n + 1, in, &nd, shape)) return NULL;
    if (nd != target->ndim || memcmp(shape, target->shape, (size_t)nd * sizeof(int64_t)) != 0) {
        char ts[128], os[128];
        return nb__fail(NB_ERR_SHAPE, "%s: the result shape %s does not match the target's shape %s",
                        name, nb__shape_string(nd, shape, os, sizeof os),
                        nb__shape_string(target->ndim, target->shape, ts, sizeof ts));
    }
    if (!nb__check_writable(name, target)) return NULL;
    if (op != NB_EW_FILL && nb__needs_graph(n + 1, in)) return inplace_recorded(name, op, target, n, others, s);
    if (nb__is_half(dt)) return inplace_half(name, op, target, n, others, s);

    const nb_tensor *use[NB_ITER_MAX_OPERANDS];
    nb_tensor *conv[NB_ITER_MAX_OPERANDS] = {0};
    nb_tensor *result = NULL;
    if (!convert_inputs(name, op, nin, in, dt, use, conv)) goto done;
    if (!copy_aliased_inputs(name, target, nin, use, conv)) goto done;
    nb_iter it;
    nb__iter_build(&it, target, nin, use);
    if (nb__run_ewise(name, op, dt, &it, &s, target->storage->device) != NB_OK) goto done;
    nb__bump_version(target);
    if (nb__autograd_record_ewise_(name, op, target, n, others, s)) result = target;
done:
    release_all(nin, conv);
    return result;
}

/* ---------------------------------------------------------------- public entry points */

static nb_tensor *unary(const char *name, nb_ew_op op, const nb_tensor *a, double c0, double c1)
{
    const nb_tensor *in[1] = {a};
    return nb__ewise(name, op, 1, in, (nb_scalars){c0, c1});
}

static nb_tensor *binary(const char *name, nb_ew_op op, const nb_tensor *a, const nb_tensor *b)
{
    const nb_tensor *in[2] = {a, b};
    return nb__ewise(name, op, 2, in, (nb_scalars){0, 0});
}

nb_tensor *nb_add(const nb_tensor *a, const nb_tensor *b) { return binary("nb_add", NB_EW_ADD, a, b); }
nb_tensor *nb_sub(const nb_tensor *a, const nb_tensor *b) { return binary("nb_sub", NB_EW_SUB, a, b); }
nb_tensor *nb_mul(const nb_tensor *a, const nb_tensor *b) { return binary("nb_mul", NB_EW_MUL, a, b); }
nb_tensor *nb_div(const nb_tensor *a, const nb_tensor *b) { return binary("nb_div", NB_EW_DIV, a, b); }
nb_tensor *nb_pow(const nb_tensor *a, const nb_tensor *e) { return binary("nb_pow", NB_EW_POW, a, e); }
nb_tensor *nb_maximum(const nb_tensor *a, const nb_tensor *b) { return binary("nb_maximum", NB_EW_MAXIMUM, a, b); }
nb_tensor *nb_minimum(const nb_tensor *a, const nb_tensor *b) { return binary("nb_minimum", NB_EW_MINIMUM, a, b); }
nb_tensor *nb_lt(const nb_tensor *a, const nb_tensor *b) { return binary("nb_lt", NB_EW_LT, a, b); }
nb_tensor *nb_le(const nb_tensor *a, const nb_tensor *b) { return binary("nb_le", NB_EW_LE, a, b); }
nb_tensor *nb_gt(const nb_tensor *a, const nb_tensor *b) { return binary("nb_gt", NB_EW_GT, a, b); }
nb_tensor *nb_ge(const nb_tensor *a, const nb_tensor *b) { return binary("nb_ge", NB_EW_GE, a, b); }
nb_tensor *nb_eq(const nb_tensor *a, const nb_tensor *b) { return binary("nb_eq", NB_EW_EQ, a, b); }
nb_tensor *nb_ne(const nb_tensor *a, const nb_tensor *b) { return binary("nb_ne", NB_EW_NE, a, b); }

nb_tensor *nb_add_scalar(const nb_tensor *a, double s) { return unary("nb_add_scalar", NB_EW_ADD_SCALAR, a, s, 0); }
nb_tensor *nb_sub_scalar(const nb_tensor *a, double s)
{
    if (a && refuse_bool_sub("nb_sub_scalar", 1, &a)) return NULL;
    return unary("nb_sub_scalar", NB_EW_ADD_SCALAR, a, -s, 0);
}
nb_tensor *nb_rsub_scalar(const nb_tensor *a, double s) { return unary("nb_rsub_scalar", NB_EW_RSUB_SCALAR, a, s, 0); }
nb_tensor *nb_mul_scalar(const nb_tensor *a, double s) { return unary("nb_mul_scalar", NB_EW_MUL_SCALAR, a, s, 0); }
nb_tensor *nb_div_scalar(const nb_tensor *a, double s) { return unary("nb_div_scalar", NB_EW_DIV_SCALAR, a, s, 0); }
nb_tensor *nb_lt_scalar(const nb_tensor *a, double s) { return unary("nb_lt_scalar", NB_EW_LT_SCALAR, a, s, 0); }
nb_tensor *nb_le_scalar(const nb_tensor *a, double s) { return unary("nb_le_scalar", NB_EW_LE_SCALAR, a, s, 0); }
nb_tensor *nb_gt_scalar(const nb_tensor *a, double s) { return unary("nb_gt_scalar", NB_EW_GT_SCALAR, a, s, 0); }
nb_tensor *nb_ge_scalar(const nb_tensor *a, double s) { return unary("nb_ge_scalar", NB_EW_GE_SCALAR, a, s, 0); }
nb_tensor *nb_eq_scalar(const nb_tensor *a, double s) { return unary("nb_eq_scalar", NB_EW_EQ_SCALAR, a, s, 0); }
nb_tensor *nb_ne_scalar(const nb_tensor *a, double s) { return unary("nb_ne_scalar", NB_EW_NE_SCALAR, a, s, 0); }

nb_tensor *nb_pow_scalar(const nb_tensor *a, double e)
{
    if (a && a->dtype == NB_INT64 && e < 0 && integral(e))
        return nb__fail(NB_ERR_ARGUMENT, "nb_pow_scalar: integers to negative integer powers are not allowed (exponent %g)", e);
    if (e == 2.0) return unary("nb_pow_scalar", NB_EW_SQUARE, a, 0, 0);
    return unary("nb_pow_scalar", NB_EW_POW_SCALAR, a, e, 0);
}

nb_tensor *nb_neg(const nb_tensor *a) { return unary("nb_neg", NB_EW_NEG, a, 0, 0); }
nb_tensor *nb_abs(const nb_tensor *a) { return unary("nb_abs", NB_EW_ABS, a, 0, 0); }
nb_tensor *nb_exp(const nb_tensor *a) { return unary("nb_exp", NB_EW_EXP, a, 0, 0); }
nb_tensor *nb_log(const nb_tensor *a) { return unary("nb_log", NB_EW_LOG, a, 0, 0); }
nb_tensor *nb_sqrt(const nb_tensor *a) { return unary("nb_sqrt", NB_EW_SQRT, a, 0, 0); }
nb_tensor *nb_sigmoid(const nb_tensor *a) { return unary("nb_sigmoid", NB_EW_SIGMOID, a, 0, 0); }
nb_tensor *nb_tanh(const nb_tensor *a) { return unary("nb_tanh", NB_EW_TANH, a, 0, 0); }
nb_tensor *nb_relu(const nb_tensor *a) { return unary("nb_relu", NB_EW_RELU, a, 0, 0); }

nb_tensor *nb_clamp(const nb_tensor *a, double min, double max)
{
    if (isnan(min) || isnan(max))
        return nb__fail(NB_ERR_ARGUMENT, "nb_clamp: bounds must not be NaN (min %g, max %g)", min, max);
    return unary("nb_clamp", NB_EW_CLAMP, a, min, max);
}
nb_tensor *nb_clamp_min(const nb_tensor *a, double min)
{
    if (isnan(min)) return nb__fail(NB_ERR_ARGUMENT, "nb_clamp_min: the bound must not be NaN");
    return unary("nb_clamp_min", NB_EW_CLAMP, a, min, INFINITY);
}
nb_tensor *nb_clamp_max(const nb_tensor *a, double max)
{
    if (isnan(max)) return nb__fail(NB_ERR_ARGUMENT, "nb_clamp_max: the bound must not be NaN");
    return unary("nb_clamp_max", NB_EW_CLAMP, a, -INFINITY, max);
}

nb_tensor *nb_where(const nb_tensor *cond, const nb_tensor *a, const nb_tensor *b)
{
    const nb_tensor *in[3] = {cond, a, b};
    return nb__ewise("nb_where", NB_EW_WHERE, 3, in, (nb_scalars){0, 0});
}

nb_tensor *nb_masked_fill(const nb_tensor *a, const nb_tensor *mask, double value)
{
    const nb_tensor *in[2] = {a, mask};
    return nb__ewise("nb_masked_fill", NB_EW_MASKED_FILL, 2, in, (nb_scalars){value, 0});
}

/* ---------------------------------------------------------------- in place */

static nb_tensor *inplace(const char *name, nb_ew_op op, nb_tensor *t, const nb_tensor *b, double c0)
{
    const nb_tensor *others[1] = {b};
    return nb__ewise_(name, op, t, b ? 1 : 0, others, (nb_scalars){c0, 0});
}

static nb_tensor *inplace_binary(const char *name, nb_ew_op op, nb_tensor *t, const nb_tensor *b)
{
    if (!b) return nb__fail(NB_ERR_NULL, "%s: input 2 is NULL", name);
    return inplace(name, op, t, b, 0);
}

nb_tensor *nb_add_(nb_tensor *t, const nb_tensor *b) { return inplace_binary("nb_add_", NB_EW_ADD, t, b); }
nb_tensor *nb_sub_(nb_tensor *t, const nb_tensor *b) { return inplace_binary("nb_sub_", NB_EW_SUB, t, b); }
nb_tensor *nb_mul_(nb_tensor *t, const nb_tensor *b) { return inplace_binary("nb_mul_", NB_EW_MUL, t, b); }
nb_tensor *nb_div_(nb_tensor *t, const nb_tensor *b) { return inplace_binary("nb_div_", NB_EW_DIV, t, b); }
nb_tensor *nb_add_scalar_(nb_tensor *t, double s) { return inplace("nb_add_scalar_", NB_EW_ADD_SCALAR, t, NULL, s); }
nb_tensor *nb_mul_scalar_(nb_tensor *t, double s) { return inplace("nb_mul_scalar_", NB_EW_MUL_SCALAR, t, NULL, s); }

nb_tensor *nb_add_scaled_(nb_tensor *t, const nb_tensor *b, double alpha)
{
    if (!b) return nb__fail(NB_ERR_NULL, "nb_add_scaled_: input 2 is NULL");
    return inplace("nb_add_scaled_", NB_EW_AXPY, t, b, alpha);
}

nb_tensor *nb_sub_scaled_(nb_tensor *t, const nb_tensor *b, double alpha)
{
    if (!b) return nb__fail(NB_ERR_NULL, "nb_sub_scaled_: input 2 is NULL");
    const nb_tensor *both[2] = {t, b};
    if (t && refuse_bool_sub("nb_sub_scaled_", 2, both)) return NULL;
    return inplace("nb_sub_scaled_", NB_EW_AXPY, t, b, -alpha);
}

nb_tensor *nb_masked_fill_(nb_tensor *t, const nb_tensor *mask, double value)
{
    if (!mask) return nb__fail(NB_ERR_NULL, "nb_masked_fill_: the mask is NULL");
    return inplace("nb_masked_fill_", NB_EW_MASKED_FILL, t, mask, value);
}

nb_tensor *nb_fill_(nb_tensor *t, double value) { return inplace("nb_fill_", NB_EW_FILL, t, NULL, value); }
nb_tensor *nb_zero_(nb_tensor *t) { return inplace("nb_zero_", NB_EW_FILL, t, NULL, 0); }
