/* test_cuda_parity.c — the parity harness of the CUDA backend: every op, forward and backward, on
 * cuda:0 against the same op on the CPU.
 *
 * The table below has one row per way of calling an op: the public functions it exercises, a
 * function computing the output from the inputs, a family of cases (the shapes and layouts of the
 * inputs: contiguous, broadcast, transposed, narrowed, expanded, ...), the kind of each input (its
 * length is the arity), the dtypes the op takes and the autograd nodes it records.
 *
 * For each row, dtype and case the inputs are drawn on the CPU from a fixed seed and moved with
 * nb_to; the op runs on both devices and the results must match (cuda_assert_match: float32
 * normalised MSE <= 1e-7, float64 <= 1e-24, int64 and bool bit-equal). A dtype the row does not
 * list must be refused by the CPU, and then by the device with the same status. Rows that record
 * nodes also run backward for each floating dtype: the inputs require grad, nb_grad_of gives the
 * gradient of every one of them against the same random output gradient, the gradients must
 * match and live on the device, and each claimed node must be in the graph.
 *
 * Tests that run everywhere: every function the public headers declare as returning nb_tensor *
 * has a row (but for the few listed as not device ops, with the reason); every node kind nabla
 * records is claimed by a row; and every row runs CPU against CPU, proving the table itself sound
 * (its functions succeed on the CPU for the dtypes they list and are refused for the others; the
 * claimed nodes are recorded). Tests whose fixture is cuda_test_setup skip without a device.
 * Besides the table: one SGD (momentum) and one Adam training run on CUDA parameters against the
 * CPU, and float64 nb_gradcheck on CUDA tensors. */
#include "parity_helpers.h"

#include <nabla/dlpack.h>

#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* internals the table checks itself against (lib/autograd/names.c) */
int nb__autograd_node_names(const char **names, int cap);
bool nb__autograd_graph_has(const nb_tensor *t, const char *name);

#define GPU NB_DEVICE_CUDA(0)
#define CPU NB_DEVICE_CPU

/* ================================================================ families of cases */

typedef struct pcase {
    parity_spec in[3];
} pcase;

#define D0() 0, {0}
#define D1(a) 1, {a}
#define D2(a, b) 2, {a, b}
#define D3(a, b, c) 3, {a, b, c}
#define D4(a, b, c, d) 4, {a, b, c, d}

/* one input, any shape (elementwise ops, whole reductions, copies) */
static const pcase any_shape[] = {
    {{{D2(4, 5), CONTIG}}},   {{{D2(4, 5), TRANSPOSED}}}, {{{D2(4, 5), EXPANDED}}},  {{{D2(4, 5), NARROWED}}},
    {{{D3(3, 4, 5), ROTATED}}}, {{{D0(), CONTIG}}},       {{{D1(7), STEPPED}}},      {{{D2(4, 1), CONTIG}}},
    {{{D2(1, 5), NARROWED}}}, {{{D2(64, 1031), CONTIG}}},
};
/* one input of 2 or 3 dims (ops along a dim, views that name dims) */
static const pcase two_or_three_dims[] = {
    {{{D2(4, 5), CONTIG}}},     {{{D2(4, 5), TRANSPOSED}}},   {{{D2(4, 5), EXPANDED}}}, {{{D2(4, 5), NARROWED}}},
    {{{D3(3, 4, 5), ROTATED}}}, {{{D3(2, 3, 4), TRANSPOSED}}}, {{{D2(64, 1031), CONTIG}}},
};
/* one 2-D input */
static const pcase matrix[] = {
    {{{D2(4, 5), CONTIG}}}, {{{D2(4, 5), TRANSPOSED}}}, {{{D2(4, 5), EXPANDED}}}, {{{D2(4, 5), NARROWED}}},
    {{{D2(1, 5), CONTIG}}}, {{{D2(64, 1031), CONTIG}}},
};
/* one input that is not contiguous */
static const pcase strided[] = {
    {{{D2(4, 5), TRANSPOSED}}}, {{{D2(4, 5), EXPANDED}}}, {{{D2(4, 5), NARROWED}}},
    {{{D3(3, 4, 5), ROTATED}}}, {{{D1(7), STEPPED}}},
};
/* two inputs that broadcast together, either way */
static const pcase broadcast2[] = {
    {{{D2(4, 5), CONTIG}, {D2(4, 5), CONTIG}}},       {{{D2(4, 5), TRANSPOSED}, {D2(4, 5), CONTIG}}},
    {{{D2(4, 5), CONTIG}, {D2(4, 5), EXPANDED}}},     {{{D3(3, 4, 5), ROTATED}, {D2(4, 5), NARROWED}}},
    {{{D2(4, 1), CONTIG}, {D2(1, 5), CONTIG}}},       {{{D2(4, 5), CONTIG}, {D0(), CONTIG}}},
    {{{D0(), CONTIG}, {D2(4, 5), TRANSPOSED}}},       {{{D1(7), STEPPED}, {D1(7), CONTIG}}},
    {{{D2(64, 1031), CONTIG}, {D1(1031), STEPPED}}},
};
/* three inputs that broadcast together (where) */
static const pcase broadcast3[] = {
    {{{D2(4, 5), CONTIG}, {D2(4, 5), CONTIG}, {D2(4, 5), CONTIG}}},
    {{{D2(4, 5), TRANSPOSED}, {D2(4, 1), CONTIG}, {D2(1, 5), CONTIG}}},
    {{{D3(3, 4, 5), ROTATED}, {D2(4, 5), NARROWED}, {D0(), CONTIG}}},
    {{{D2(4, 5), EXPANDED}, {D2(4, 5), TRANSPOSED}, {D2(4, 5), NARROWED}}},
    {{{D2(64, 1031), CONTIG}, {D1(1031), STEPPED}, {D2(64, 1), CONTIG}}},
};
/* a target (never expanded: in-place writes refuse overlapping views) and a second input that
 * broadcasts onto its shape (in-place ops, masked_fill, copy_) */
static const pcase onto[] = {
    {{{D2(4, 5), CONTIG}, {D2(4, 1), CONTIG}}},       {{{D2(4, 5), TRANSPOSED}, {D2(4, 5), CONTIG}}},
    {{{D2(4, 5), NARROWED}, {D1(5), STEPPED}}},       {{{D3(3, 4, 5), ROTATED}, {D2(4, 5), TRANSPOSED}}},
    {{{D2(4, 5), CONTIG}, {D0(), CONTIG}}},           {{{D2(64, 1031), CONTIG}, {D1(1031), STEPPED}}},
};
/* (n, k) x (k, m): transposed operands become BLAS flags, others are copied first */
static const pcase matrix_pairs[] = {
    {{{D2(5, 7), CONTIG}, {D2(7, 3), CONTIG}}},       {{{D2(5, 7), TRANSPOSED}, {D2(7, 3), CONTIG}}},
    {{{D2(5, 7), CONTIG}, {D2(7, 3), TRANSPOSED}}},   {{{D2(5, 7), TRANSPOSED}, {D2(7, 3), TRANSPOSED}}},
    {{{D2(5, 7), NARROWED}, {D2(7, 3), CONTIG}}},     {{{D2(5, 7), EXPANDED}, {D2(7, 3), NARROWED}}},
    {{{D2(1, 33), CONTIG}, {D2(33, 17), CONTIG}}},    {{{D2(64, 1031), CONTIG}, {D2(1031, 33), TRANSPOSED}}},
};
/* batched products, batch dims broadcast (one batched product underneath) */
static const pcase batched_pairs[] = {
    {{{D3(3, 4, 5), CONTIG}, {D3(3, 5, 6), CONTIG}}},    {{{D3(3, 4, 5), TRANSPOSED}, {D3(3, 5, 6), TRANSPOSED}}},
    {{{D4(2, 1, 4, 5), CONTIG}, {D3(3, 5, 6), CONTIG}}}, {{{D2(4, 5), CONTIG}, {D3(7, 5, 6), CONTIG}}},
    {{{D1(5), CONTIG}, {D3(3, 5, 6), CONTIG}}},          {{{D3(3, 4, 5), ROTATED}, {D3(3, 5, 6), EXPANDED}}},
};
/* products that are one 2-D product underneath: dot, matrix-vector, folded batch dims */
static const pcase flat_pairs[] = {
    {{{D1(300), CONTIG}, {D1(300), STEPPED}}},        {{{D2(7, 300), NARROWED}, {D1(300), CONTIG}}},
    {{{D1(300), CONTIG}, {D2(300, 7), TRANSPOSED}}},  {{{D3(3, 4, 5), CONTIG}, {D2(5, 6), CONTIG}}},
    {{{D3(3, 4, 5), ROTATED}, {D1(5), CONTIG}}},      {{{D2(5, 7), TRANSPOSED}, {D2(7, 3), CONTIG}}},
};
/* up to three inputs that differ only in dim 0 (cat) */
static const pcase stackable[] = {
    {{{D2(4, 5), TRANSPOSED}, {D2(2, 5), CONTIG}, {D2(3, 5), NARROWED}}},
    {{{D2(3, 5), EXPANDED}, {D2(2, 5), NARROWED}, {D2(1, 5), CONTIG}}},
    {{{D3(3, 4, 5), ROTATED}, {D3(1, 4, 5), CONTIG}, {D3(2, 4, 5), TRANSPOSED}}},
    {{{D1(7), STEPPED}, {D1(3), CONTIG}, {D1(1), CONTIG}}},
};
/* logits (N, C) and labels (N,) */
static const pcase logits_labels[] = {
    {{{D2(4, 5), CONTIG}, {D1(4), CONTIG}}},   {{{D2(4, 5), TRANSPOSED}, {D1(4), STEPPED}}},
    {{{D2(4, 5), EXPANDED}, {D1(4), CONTIG}}}, {{{D2(3, 1031), NARROWED}, {D1(3), CONTIG}}},
    {{{D2(64, 10), CONTIG}, {D1(64), CONTIG}}}, {{{D2(1, 2), CONTIG}, {D1(1), CONTIG}}},
};
/* x (N, in) or (B, N, in), weight (out, in), bias (out,) */
static const pcase linear_inputs[] = {
    {{{D2(4, 5), CONTIG}, {D2(3, 5), CONTIG}, {D1(3), CONTIG}}},
    {{{D2(4, 5), TRANSPOSED}, {D2(3, 5), CONTIG}, {D1(3), STEPPED}}},
    {{{D2(4, 5), NARROWED}, {D2(3, 5), TRANSPOSED}, {D1(3), CONTIG}}},
    {{{D3(2, 4, 5), CONTIG}, {D2(3, 5), NARROWED}, {D1(3), CONTIG}}},
    {{{D2(64, 1031), CONTIG}, {D2(33, 1031), CONTIG}, {D1(33), CONTIG}}},
};
/* two inputs of one shape (losses whose target must match the input) */
static const pcase same_shape2[] = {
    {{{D2(4, 5), CONTIG}, {D2(4, 5), CONTIG}}},     {{{D2(4, 5), TRANSPOSED}, {D2(4, 5), NARROWED}}},
    {{{D3(3, 4, 5), ROTATED}, {D3(3, 4, 5), CONTIG}}}, {{{D1(7), STEPPED}, {D1(7), CONTIG}}},
    {{{D2(4, 5), EXPANDED}, {D2(4, 5), TRANSPOSED}}}, {{{D2(64, 1031), CONTIG}, {D2(64, 1031), CONTIG}}},
};
/* x, and a weight and bias of its last dims (layer and RMS norm) */
static const pcase norm_inputs[] = {
    {{{D2(4, 5), CONTIG}, {D1(5), CONTIG}, {D1(5), CONTIG}}},
    {{{D2(4, 5), TRANSPOSED}, {D1(5), STEPPED}, {D1(5), CONTIG}}},
    {{{D2(4, 5), EXPANDED}, {D1(5), CONTIG}, {D1(5), STEPPED}}},
    {{{D3(3, 4, 5), ROTATED}, {D2(4, 5), TRANSPOSED}, {D2(4, 5), CONTIG}}},
    {{{D2(3, 7), NARROWED}, {D1(7), CONTIG}, {D1(7), CONTIG}}},
    {{{D2(64, 1031), CONTIG}, {D1(1031), CONTIG}, {D1(1031), CONTIG}}},
};
/* x (N, C, ...) with weight and bias (C,): batch norm */
static const pcase batch_norm_inputs[] = {
    {{{D2(6, 5), CONTIG}, {D1(5), CONTIG}, {D1(5), CONTIG}}},
    {{{D2(6, 5), TRANSPOSED}, {D1(5), STEPPED}, {D1(5), CONTIG}}},
    {{{D3(3, 4, 5), ROTATED}, {D1(4), CONTIG}, {D1(4), STEPPED}}},
    {{{D4(2, 3, 4, 5), CONTIG}, {D1(3), CONTIG}, {D1(3), CONTIG}}},
    {{{D4(8, 16, 9, 7), CONTIG}, {D1(16), CONTIG}, {D1(16), CONTIG}}},
};
/* two inputs of one shape in different layouts (scatter's target and source, stack) */
static const pcase same_shape_pairs[] = {
    {{{D2(4, 5), CONTIG}, {D2(4, 5), TRANSPOSED}}},   {{{D2(4, 5), NARROWED}, {D2(4, 5), CONTIG}}},
    {{{D3(3, 4, 5), ROTATED}, {D3(3, 4, 5), CONTIG}}}, {{{D2(4, 5), EXPANDED}, {D2(4, 5), NARROWED}}},
    {{{D2(64, 1031), CONTIG}, {D2(64, 1031), TRANSPOSED}}},
};
/* an image batch (N, C, H, W), a weight (O, C, kH, kW) and a bias (O,) (convolutions) */
static const pcase conv_inputs[] = {
    {{{D4(2, 3, 7, 6), CONTIG}, {D4(4, 3, 3, 3), CONTIG}, {D1(4), CONTIG}}},
    {{{D4(2, 3, 7, 6), TRANSPOSED}, {D4(4, 3, 3, 2), NARROWED}, {D1(4), STEPPED}}},
    {{{D4(2, 3, 7, 6), EXPANDED}, {D4(4, 3, 3, 3), ROTATED}, {D1(4), CONTIG}}},
    {{{D4(8, 16, 14, 14), CONTIG}, {D4(32, 16, 3, 3), CONTIG}, {D1(32), CONTIG}}},
};
/* images (N, C, H, W) or (C, H, W) for pooling */
static const pcase pool_inputs[] = {
    {{{D4(2, 3, 8, 9), CONTIG}}},  {{{D4(2, 3, 8, 9), TRANSPOSED}}}, {{{D4(2, 3, 8, 9), EXPANDED}}},
    {{{D3(3, 7, 6), ROTATED}}},    {{{D4(2, 3, 9, 10), NARROWED}}},  {{{D4(4, 8, 32, 33), CONTIG}}},
};
/* q (N..., L, E), k (N..., S, E), v (N..., S, Ev): attention (batch dims broadcast, head dims up
 * to 128, query and key counts across several tiles) */
static const pcase attention_inputs[] = {
    {{{D3(2, 5, 4), CONTIG}, {D3(2, 6, 4), CONTIG}, {D3(2, 6, 3), CONTIG}}},
    {{{D4(2, 3, 5, 4), TRANSPOSED}, {D4(2, 3, 6, 4), CONTIG}, {D4(2, 3, 6, 4), NARROWED}}},
    {{{D4(2, 3, 5, 4), CONTIG}, {D3(3, 6, 4), EXPANDED}, {D4(1, 3, 6, 2), CONTIG}}},
    {{{D4(2, 4, 70, 32), CONTIG}, {D4(2, 4, 90, 32), CONTIG}, {D4(2, 4, 90, 32), CONTIG}}},
    {{{D4(1, 2, 33, 128), CONTIG}, {D4(1, 2, 40, 128), CONTIG}, {D4(1, 2, 40, 100), CONTIG}}},
};
/* no inputs: creation ops make their tensor on the device themselves */
static const pcase no_inputs[] = {{{{D0(), CONTIG}}}};

typedef enum family {
    ANY_SHAPE, TWO_OR_THREE_DIMS, MATRIX, STRIDED, BROADCAST2, BROADCAST3, ONTO, MATRIX_PAIRS,
    BATCHED_PAIRS, FLAT_PAIRS, STACKABLE, LOGITS_LABELS, LINEAR_INPUTS, NORM_INPUTS, SAME_SHAPE2, NO_INPUTS,
    SAME_SHAPE_PAIRS, CONV_INPUTS, POOL_INPUTS, BATCH_NORM_INPUTS,
    ATTENTION_INPUTS,
} family;

#define FAMILY(cases) {cases, (int)(sizeof cases / sizeof cases[0])}
static const struct {
    const pcase *cases;
    int count;
} families[] = {
    [ANY_SHAPE] = FAMILY(any_shape),         [TWO_OR_THREE_DIMS] = FAMILY(two_or_three_dims),
    [MATRIX] = FAMILY(matrix),               [STRIDED] = FAMILY(strided),
    [BROADCAST2] = FAMILY(broadcast2),       [BROADCAST3] = FAMILY(broadcast3),
    [ONTO] = FAMILY(onto),                   [MATRIX_PAIRS] = FAMILY(matrix_pairs),
    [BATCHED_PAIRS] = FAMILY(batched_pairs), [FLAT_PAIRS] = FAMILY(flat_pairs),
    [STACKABLE] = FAMILY(stackable),         [LOGITS_LABELS] = FAMILY(logits_labels),
    [LINEAR_INPUTS] = FAMILY(linear_inputs), [NO_INPUTS] = FAMILY(no_inputs),
    [NORM_INPUTS] = FAMILY(norm_inputs),     [SAME_SHAPE2] = FAMILY(same_shape2),
    [SAME_SHAPE_PAIRS] = FAMILY(same_shape_pairs),
    [CONV_INPUTS] = FAMILY(conv_inputs),
    [POOL_INPUTS] = FAMILY(pool_inputs),
    [BATCH_NORM_INPUTS] = FAMILY(batch_norm_inputs),
    [ATTENTION_INPUTS] = FAMILY(attention_inputs),
};

/* ================================================================ the functions of the rows */

/* A row's function: the output from the inputs; o carries the dtype and device of the run (for
 * the creation ops). Inputs of kinds 'F' and 'P' may require grad. */
typedef nb_tensor *(*row_fn)(nb_tensor *const *in, nb_options o);

#define A in[0]
#define B in[1]
#define C in[2]
#define FN(name, expr)                                                                           \
    static nb_tensor *name(nb_tensor *const *in, nb_options o)                                   \
    {                                                                                            \
        (void)in, (void)o;                                                                       \
        return (expr);                                                                           \
    }

/* The target of an in-place op: the input itself, or when it is a leaf that requires grad (which
 * cannot be written in place) a recorded copy of it. */
static nb_tensor *writable(nb_tensor *t) { return nb_requires_grad(t) ? nb_mul_scalar(t, 1.0) : t; }

/* t's shape with a leading 1, for nb_view (any layout can be viewed so) */
static nb_tensor *view_with_leading_one(nb_tensor *t)
{
    int64_t shape[NB_MAX_DIMS] = {1};
    for (int i = 0; i < nb_ndim(t); i++) shape[i + 1] = nb_shape(t)[i];
    return nb_view(t, nb_ndim(t) + 1, shape);
}

/* t broadcast to a new leading dim of 2, its size-1 dims to 3, its other dims kept (-1) */
static nb_tensor *expand_everywhere(nb_tensor *t)
{
    int64_t shape[NB_MAX_DIMS] = {2};
    for (int i = 0; i < nb_ndim(t); i++) shape[i + 1] = nb_shape(t)[i] == 1 ? 3 : -1;
    return nb_expand(t, nb_ndim(t) + 1, shape);
}

static nb_tensor *reversed_dims(nb_tensor *t)
{
    int dims[NB_MAX_DIMS];
    for (int i = 0; i < nb_ndim(t); i++) dims[i] = nb_ndim(t) - 1 - i;
    return nb_permute(t, nb_ndim(t), dims);
}

static nb_tensor *the_other_float(nb_tensor *t)
{
    return nb_to_dtype(t, nb_dtype_of(t) == NB_FLOAT32 ? NB_FLOAT64 : NB_FLOAT32);
}

/* twelve values of o's dtype from a C array */
static nb_tensor *from_array(nb_options o)
{
    static const float f32[12] = {0.5f, -1.25f, 3, 0, -0.0f, 7.75f, 1e-3f, -2, 9, 4.5f, -6, 1};
    static const double f64[12] = {0.5, -1.25, 3, 0, -0.0, 7.75, 1e-10, -2, 9, 4.5, -6, 1e10};
    static const int64_t i64[12] = {5, -1, 0, 7, INT64_MAX, INT64_MIN, 3, -8, 2, 1, 0, 4};
    static const bool b[12] = {true, false, false, true, true, true, false, true, false, false, true, false};
    const void *data = o.dtype == NB_FLOAT32 ? (const void *)f32 : o.dtype == NB_FLOAT64 ? (const void *)f64
                     : o.dtype == NB_INT64   ? (const void *)i64 : (const void *)b;
    return nb_from_array(data, NB_SHAPE(3, 4), o);
}

/* rand and randn draw on the device from the seed, which gives the same values on every device */
static nb_tensor *seeded_rand(nb_options o)
{
    nb_manual_seed(77);
    return nb_rand(NB_SHAPE(5, 6), o);
}
static nb_tensor *seeded_randn(nb_options o)
{
    nb_manual_seed(77);
    return nb_randn(NB_SHAPE(5, 6), o);
}

/* nb_linear_forward of a layer whose weight and bias (NULL for none) are inputs 1 and 2 */
static nb_tensor *linear_of_inputs(nb_tensor *const *in, nb_options o)
{
    (void)o;
    nb_linear layer = {.weight = B, .bias = C, .in_features = nb_size(B, 1), .out_features = nb_size(B, 0)};
    return nb_linear_forward(&layer, A);
}

FN(f_empty, nb_fill_(nb_empty(NB_SHAPE(3, 7), o), 2.5)) /* an empty tensor's values are undefined */
FN(f_zeros, nb_zeros(NB_SHAPE(1000), o))
FN(f_ones, nb_ones(NB_SHAPE(4, 6), o))
FN(f_ones_empty, nb_ones(NB_SHAPE(2, 0, 3), o))
FN(f_full, nb_full(NB_SHAPE(3, 7), -2.75, o))
FN(f_arange, nb_arange(-3, 7, 0.5, o))
FN(f_from_array, from_array(o))
FN(f_rand, seeded_rand(o))
FN(f_randn, seeded_randn(o))
FN(f_zeros_like, nb_zeros_like(A))
FN(f_ones_like, nb_ones_like(A))

FN(f_to_other_float, the_other_float(A))
FN(f_to_same, nb_to_dtype(A, nb_dtype_of(A)))
FN(f_to_int64, nb_to_dtype(A, NB_INT64))
FN(f_to_bool, nb_to_dtype(A, NB_BOOL))
FN(f_round_trip, nb_to(nb_to(A, CPU), o.device))

FN(f_reshape, nb_reshape(A, NB_SHAPE(2, -1)))
FN(f_view, view_with_leading_one(A))
FN(f_flatten, nb_flatten(A))
FN(f_t, nb_t(A))
FN(f_transpose, nb_transpose(A, 0, -1))
FN(f_permute, reversed_dims(A))
FN(f_narrow, nb_narrow(A, 1, 1, 2))
FN(f_select, nb_select(A, 1, 2))
FN(f_squeeze, nb_squeeze(A))
FN(f_squeeze_dim, nb_squeeze_dim(nb_unsqueeze(A, 1), 1))
FN(f_unsqueeze, nb_unsqueeze(A, -1))
FN(f_expand, expand_everywhere(A))
FN(f_contiguous, nb_contiguous(A))
FN(f_clone, nb_clone(A))
FN(f_detach, nb_detach(A))
FN(f_cat2, nb_cat(2, (nb_tensor *const[]){A, B}, 0))
FN(f_cat3, nb_cat(3, (nb_tensor *const[]){A, B, C}, 0))
FN(f_cat_last, nb_cat(2, (nb_tensor *const[]){nb_transpose(A, 0, -1), nb_transpose(B, 0, -1)}, -1))

FN(f_neg, nb_neg(A))
FN(f_abs, nb_abs(A))
FN(f_exp, nb_exp(A))
FN(f_log, nb_log(A))
FN(f_sqrt, nb_sqrt(A))
FN(f_relu, nb_relu(A))
FN(f_sigmoid, nb_sigmoid(A))
FN(f_tanh, nb_tanh(A))
FN(f_clamp, nb_clamp(A, -0.5, 0.7))
FN(f_clamp_min, nb_clamp_min(A, 0))
FN(f_clamp_max, nb_clamp_max(A, 1))
FN(f_add_scalar, nb_add_scalar(A, 1.5))
FN(f_sub_scalar, nb_sub_scalar(A, 2))
FN(f_rsub_scalar, nb_rsub_scalar(A, 1.5))
FN(f_mul_scalar, nb_mul_scalar(A, -2.5))
FN(f_div_scalar, nb_div_scalar(A, 4))
FN(f_pow3, nb_pow_scalar(A, 3))
FN(f_pow_half, nb_pow_scalar(A, 0.5))
FN(f_square, nb_pow_scalar(A, 2))
FN(f_lt_scalar, nb_lt_scalar(A, 0.25))
FN(f_le_scalar, nb_le_scalar(A, 1))
FN(f_gt_scalar, nb_gt_scalar(A, -0.25))
FN(f_ge_scalar, nb_ge_scalar(A, 0))
FN(f_eq_scalar, nb_eq_scalar(A, 1))
FN(f_ne_scalar, nb_ne_scalar(A, 0))
FN(f_gelu, nb_gelu(A, false))
FN(f_gelu_tanh, nb_gelu(A, true))
FN(f_silu, nb_silu(A))
FN(f_leaky_relu, nb_leaky_relu(A, 0.1))
FN(f_softplus, nb_softplus(A, 2.0, 1.0))
FN(f_erf, nb_erf(A))
FN(f_sin, nb_sin(A))
FN(f_cos, nb_cos(A))
FN(f_log1p, nb_log1p(A))
FN(f_expm1, nb_expm1(A))
FN(f_rsqrt, nb_rsqrt(A))
FN(f_reciprocal, nb_reciprocal(A))
FN(f_floor, nb_floor(A))
FN(f_ceil, nb_ceil(A))
FN(f_round, nb_round(nb_mul_scalar(A, 2.0))) /* doubled: some elements land on halves */
FN(f_sign, nb_sign(A))
FN(f_logical_not, nb_logical_not(A))

FN(f_add, nb_add(A, B))
FN(f_sub, nb_sub(A, B))
FN(f_mul, nb_mul(A, B))
FN(f_div, nb_div(A, B))
FN(f_pow, nb_pow(A, B))
FN(f_maximum, nb_maximum(A, B))
FN(f_minimum, nb_minimum(A, B))
FN(f_lt, nb_lt(A, B))
FN(f_le, nb_le(A, B))
FN(f_gt, nb_gt(A, B))
FN(f_ge, nb_ge(A, B))
FN(f_eq, nb_eq(A, B))
FN(f_ne, nb_ne(A, B))
FN(f_where, nb_where(A, B, C))
FN(f_logical_and, nb_logical_and(A, B))
FN(f_logical_or, nb_logical_or(A, B))
FN(f_lerp, nb_lerp(A, B, C))
FN(f_lerp_scalar, nb_lerp_scalar(A, B, 0.75))
FN(f_masked_fill, nb_masked_fill(A, B, 2.5))
FN(f_mse, nb_mse_loss(A, B))
FN(f_l1, nb_l1_loss(A, B, NB_REDUCTION_MEAN))
FN(f_l1_none, nb_l1_loss(A, B, NB_REDUCTION_NONE))
FN(f_smooth_l1, nb_smooth_l1_loss(A, B, NB_REDUCTION_SUM, 0.75))
FN(f_huber, nb_huber_loss(A, B, NB_REDUCTION_MEAN, 1.25))
FN(f_bce, nb_binary_cross_entropy_with_logits(A, B, NULL))
/* the target also as the weight and the positives' weight */
FN(f_bce_weighted, nb_binary_cross_entropy_with_logits(
                       A, B, &(nb_bce_with_logits_options){.weight = B, .pos_weight = B, .reduction = NB_REDUCTION_NONE}))

FN(f_add_, nb_add_(writable(A), B))
FN(f_sub_, nb_sub_(writable(A), B))
FN(f_mul_, nb_mul_(writable(A), B))
FN(f_div_, nb_div_(writable(A), B))
FN(f_add_scalar_, nb_add_scalar_(writable(A), 2))
FN(f_mul_scalar_, nb_mul_scalar_(writable(A), -3))
FN(f_add_scaled_, nb_add_scaled_(writable(A), B, 0.75))
FN(f_sub_scaled_, nb_sub_scaled_(writable(A), B, 3))
FN(f_masked_fill_, nb_masked_fill_(writable(A), B, 0))
FN(f_fill_, nb_fill_(writable(A), 2.5))
FN(f_fill_plus, nb_add(nb_fill_(writable(A), 2.5), B)) /* b gives the result a gradient */
FN(f_zero_, nb_zero_(writable(A)))
FN(f_zero_plus, nb_add(nb_zero_(writable(A)), B))
FN(f_copy_, nb_copy_(writable(A), B))

FN(f_sum, nb_sum(A))
FN(f_mean, nb_mean(A))
FN(f_max, nb_max(A))
FN(f_min, nb_min(A))
FN(f_argmax, nb_argmax(A))
FN(f_argmin, nb_argmin(A))
FN(f_sum_dim, nb_sum_dim(A, 1, false))
FN(f_sum_dim_keep, nb_sum_dim(A, -1, true))
FN(f_mean_dim, nb_mean_dim(A, 0, true))
FN(f_max_dim, nb_max_dim(A, 1, false))
FN(f_min_dim, nb_min_dim(A, -1, true))
FN(f_argmax_dim, nb_argmax_dim(A, 0, false))
FN(f_argmin_dim, nb_argmin_dim(A, -1, true))

FN(f_sum_dims, nb_sum_dims(A, NB_DIMS(0, -1), false))
FN(f_sum_dims_all_keep, nb_sum_dims(A, 0, NULL, true))
FN(f_mean_dims, nb_mean_dims(A, NB_DIMS(-1, 0), true))
FN(f_amax, nb_amax(A, NB_DIMS(0, -1), false))
FN(f_amin_all, nb_amin(A, 0, NULL, false))
FN(f_any, nb_any(A, NB_DIMS(-1), false))
FN(f_all_all, nb_all(A, 0, NULL, true))
FN(f_var, nb_var(A, NB_DIMS(0, -1), 1, false))
FN(f_std, nb_std(A, NB_DIMS(-1), 0, true))
FN(f_logsumexp, nb_logsumexp(A, NB_DIMS(-1), false))
FN(f_logsumexp_all, nb_logsumexp(A, 0, NULL, true))
FN(f_norm2, nb_norm(A, 2, NB_DIMS(0, -1), false))
FN(f_norm1, nb_norm(A, 1, NB_DIMS(-1), true))
FN(f_norminf_all, nb_norm(A, INFINITY, 0, NULL, false))
FN(f_prod, nb_prod(A))
FN(f_prod_dim, nb_prod_dim(A, 1, false))
FN(f_cumsum, nb_cumsum(A, 1))
FN(f_cumsum_0, nb_cumsum(A, 0))
FN(f_argsort, nb_argsort(A, 0, false))
FN(f_argsort_desc, nb_argsort(A, -1, true))
static nb_tensor *f_topk_values(nb_tensor *const *in, nb_options o)
{
    (void)o;
    nb_tensor *v = NULL, *i = NULL;
    nb_topk(A, 2, -1, true, true, &v, &i);
    nb_release(i);
    return v;
}
static nb_tensor *f_topk_indices(nb_tensor *const *in, nb_options o)
{
    (void)o;
    nb_tensor *v = NULL, *i = NULL;
    nb_topk(A, 2, 0, false, true, &v, &i);
    nb_release(v);
    return i;
}

FN(f_mm, nb_mm(A, B))
FN(f_matmul, nb_matmul(A, B))

FN(f_softmax_last, nb_softmax(A, -1))
FN(f_softmax_0, nb_softmax(A, 0))
FN(f_log_softmax_last, nb_log_softmax(A, -1))
FN(f_log_softmax_1, nb_log_softmax(A, 1))
FN(f_cross_entropy, nb_cross_entropy(A, B))
/* with options: label 1 ignored, smoothing, and for nll class weights exp(-c) of the logits' dtype */
static nb_tensor *cross_entropy_ex_of(nb_tensor *const *in, nb_reduction r)
{
    nb_cross_entropy_options o = NB_CROSS_ENTROPY_DEFAULTS;
    o.ignore_index = 1, o.reduction = r, o.label_smoothing = 0.1;
    return nb_cross_entropy_ex(A, B, &o);
}
static nb_tensor *nll_loss_of(nb_tensor *const *in, nb_options opt)
{
    (void)opt;
    nb_nll_loss_options o = NB_NLL_LOSS_DEFAULTS;
    o.weight = nb_exp(nb_neg(nb_arange(0, (double)nb_size(A, 1), 1, NB_OPTS(nb_dtype_of(A), .device = nb_device_of(A)))));
    return nb_nll_loss(nb_log_softmax(A, 1), B, &o);
}
FN(f_cross_entropy_ex_mean, cross_entropy_ex_of(in, NB_REDUCTION_MEAN))
FN(f_cross_entropy_ex_none, cross_entropy_ex_of(in, NB_REDUCTION_NONE))
/* normalised over b's shape (b the weight, c the bias), or a's last dim */
FN(f_layer_norm, nb_layer_norm(A, nb_ndim(B), nb_shape(B), B, C, 1e-5))
FN(f_layer_norm_plain, nb_layer_norm(A, 1, nb_shape(A) + nb_ndim(A) - 1, NULL, NULL, 1e-5))
/* the LayerNorm layer whose weight and bias are inputs 1 and 2, over their shape */
static nb_tensor *layer_norm_layer_of(nb_tensor *const *in)
{
    nb_layer_norm_layer layer = {.weight = B, .bias = C, .n = nb_ndim(B), .eps = 1e-5};
    for (int d = 0; d < nb_ndim(B); d++) layer.normalized_shape[d] = nb_size(B, d);
    return nb_layer_norm_layer_forward(&layer, A);
}
FN(f_layer_norm_layer, layer_norm_layer_of(in))
FN(f_conv2d, nb_conv2d(A, B, C,
                       &(nb_conv2d_options){.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}, .groups = 1}))
FN(f_conv2d_same, nb_conv2d(A, B, NULL,
                            &(nb_conv2d_options){.stride = {1, 1}, .dilation = {1, 1}, .groups = 1,
                                                 .padding_rule = NB_CONV_PADDING_SAME}))
/* two input channels in two groups (depthwise): x's first two channels, w's first */
FN(f_conv2d_depthwise, nb_conv2d(nb_narrow(A, 1, 0, 2), nb_narrow(B, 1, 0, 1), C,
                                 &(nb_conv2d_options){.stride = {1, 2}, .dilation = {1, 1}, .groups = 2}))
/* (N, C, W) and (O, C, kW): x's and w's first rows */
FN(f_conv1d, nb_conv1d(nb_select(A, 2, 0), nb_select(B, 2, 0), C,
                       &(nb_conv1d_options){.stride = 2, .padding = 1, .dilation = 1, .groups = 1}))
/* w's first two dims swapped: (C, O, kH, kW) */
FN(f_conv_transpose2d, nb_conv_transpose2d(A, nb_transpose(B, 0, 1), C,
                                           &(nb_conv_transpose2d_options){.stride = {2, 2},
                                                                          .padding = {1, 0},
                                                                          .output_padding = {1, 1},
                                                                          .groups = 1,
                                                                          .dilation = {1, 1}}))
FN(f_rms_norm, nb_rms_norm(A, nb_ndim(B), nb_shape(B), B, NAN))
FN(f_rms_norm_plain, nb_rms_norm(A, 1, nb_shape(A) + nb_ndim(A) - 1, NULL, 1e-6))
/* pooling: overlapping windows with padding, dilation and ceil mode */
static const nb_max_pool2d_options max_pool_opts = {
    .kernel_size = {3, 2}, .stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}, .ceil_mode = true};
FN(f_max_pool2d, nb_max_pool2d(A, &max_pool_opts))
FN(f_max_pool2d_k2, nb_max_pool2d(A, &NB_MAX_POOL2D_OPTIONS(2, 2)))
/* the indices, as values of a's dtype */
static nb_tensor *f_max_pool2d_indices(nb_tensor *const *in, nb_options o)
{
    (void)o;
    nb_tensor *idx = NULL;
    nb_tensor *y = nb_max_pool2d_with_indices(A, &max_pool_opts, &idx);
    return y ? nb_to_dtype(idx, nb_dtype_of(y)) : NULL;
}
FN(f_avg_pool2d, nb_avg_pool2d(A, &(nb_avg_pool2d_options){.kernel_size = {3, 3}, .stride = {2, 2},
                                                            .padding = {1, 1}, .ceil_mode = true}))
FN(f_avg_pool2d_div, nb_avg_pool2d(A, &(nb_avg_pool2d_options){.kernel_size = {2, 3}, .stride = {1, 2},
                                                                .count_include_pad = true, .divisor_override = 4}))
FN(f_adaptive_avg_pool2d, nb_adaptive_avg_pool2d(A, 3, 5))
/* batch norm over a's dim 1 (b the weight, c the bias), running statistics made on a's device
 * from a's channels: means 0.5 (c / C), variances 1 + c / C */
static nb_tensor *running_stat(const nb_tensor *x, double scale, double shift)
{
    const double ch = (double)nb_size(x, 1);
    nb_tensor *r = nb_arange(0, ch, 1, NB_OPTS(nb_dtype_of(x), .device = nb_device_of(x)));
    return nb_add_scalar(nb_mul_scalar(r, scale / ch), shift);
}
static nb_tensor *batch_norm_of(nb_tensor *const *in, bool affine, bool training, int result)
{
    nb_tensor *rm = running_stat(A, 0.5, 0), *rv = running_stat(A, 1, 1);
    nb_tensor *y = nb_batch_norm(A, rm, rv, affine ? B : NULL, affine ? C : NULL, training, 0.1, 1e-5);
    return result == 0 ? y : !y ? NULL : result == 1 ? rm : rv;
}
FN(f_batch_norm_train, batch_norm_of(in, true, true, 0))
FN(f_batch_norm_train_plain, batch_norm_of(in, false, true, 0))
FN(f_batch_norm_eval, batch_norm_of(in, true, false, 0))
FN(f_batch_norm_running_mean, batch_norm_of(in, false, true, 1))
FN(f_batch_norm_running_var, batch_norm_of(in, true, true, 2))
/* the BatchNorm2d layer made on a's device, a seen as (N, C, H, W); the given mode */
static nb_tensor *batch_norm2d_of(nb_tensor *const *in, nb_options o, bool training)
{
    nb_batch_norm2d *l = nb_batch_norm2d_new(nb_size(A, 1), o);
    if (!l) return NULL;
    l->training = training;
    if (!training) nb_fill_(l->running_var, 2.0);
    nb_tensor *x = nb_ndim(A) == 4 ? A : nb_reshape(A, NB_SHAPE(nb_size(A, 0), nb_size(A, 1), -1, 1));
    nb_tensor *y = nb_batch_norm2d_forward(l, x);
    nb_batch_norm2d_free(l);
    return y;
}
FN(f_batch_norm2d_train, batch_norm2d_of(in, o, true))
FN(f_batch_norm2d_eval, batch_norm2d_of(in, o, false))
static nb_tensor *dropout_layer_of(nb_tensor *const *in, bool training)
{
    nb_dropout_layer *l = nb_dropout_layer_new(0.3);
    l->training = training;
    nb_manual_seed(67);
    nb_tensor *y = nb_dropout_layer_forward(l, A);
    nb_dropout_layer_free(l);
    return y;
}
FN(f_dropout_layer_train, dropout_layer_of(in, true))
FN(f_dropout_layer_eval, dropout_layer_of(in, false))
/* the Conv2d layer made on a's device from one seed (the same weights on every device), padding 1 */
static nb_tensor *conv2d_layer_of(nb_tensor *const *in, nb_options o)
{
    nb_manual_seed(71);
    o.requires_grad = false;
    nb_conv2d_layer *l = nb_conv2d_layer_new(nb_size(A, 1), 4, 3, 3,
                                             &(nb_conv2d_options){.stride = {1, 1}, .padding = {1, 1},
                                                                  .dilation = {1, 1}, .groups = 1},
                                             true, o);
    nb_tensor *y = nb_conv2d_layer_forward(l, A);
    nb_conv2d_layer_free(l);
    return y;
}
FN(f_conv2d_layer, conv2d_layer_of(in, o))
FN(f_max_pool2d_layer, nb_max_pool2d_layer_forward(&(nb_max_pool2d_layer){NB_MAX_POOL2D_OPTIONS(2, 2)}, A))

/* clip_grad_norm_tensor_ over two parameters whose grads are a and b (given as the gradients of
 * leaves, so they keep their layouts where backward does): the norm, then both clipped grads,
 * flattened into one tensor */
static nb_tensor *clip_grad_norm_of(nb_tensor *const *in, double max_norm, double norm_type)
{
    nb_params *params = nb_params_new();
    for (int k = 0; k < 2; k++) {
        nb_tensor *leaf = nb_requires_grad_(nb_zeros_like(in[k]), true);
        if (!leaf || nb_backward_ex(leaf, in[k], false) != NB_OK || nb_params_add(params, leaf) != NB_OK) {
            nb_params_free(params);
            return NULL;
        }
    }
    nb_tensor *norm = nb_clip_grad_norm_tensor_(params, max_norm, norm_type);
    nb_tensor *y = norm ? nb_cat(3, (nb_tensor *const[]){nb_reshape(norm, NB_SHAPE(1)),
                                                         nb_flatten(nb_grad(nb_params_get(params, 0))),
                                                         nb_flatten(nb_grad(nb_params_get(params, 1)))}, 0)
                        : NULL;
    nb_params_free(params);
    return y;
}
FN(f_clip_grad_norm_2, clip_grad_norm_of(in, 0.5, 2))
FN(f_clip_grad_norm_inf, clip_grad_norm_of(in, 0.25, INFINITY))
FN(f_clip_grad_norm_3, clip_grad_norm_of(in, 1e6, 3)) /* no clipping */

/* the gradient scaler (scale 8, growth every step) over two parameters whose grads are a and b:
 * the scaled sum of a, both grads after the unscale of an SGD step, and the scale after the
 * update, flattened into one tensor */
static nb_tensor *grad_scaler_of(nb_tensor *const *in)
{
    nb_params *params = nb_params_new();
    for (int k = 0; k < 2; k++) {
        nb_tensor *leaf = nb_requires_grad_(nb_zeros_like(in[k]), true);
        if (!leaf || nb_backward_ex(leaf, in[k], false) != NB_OK || nb_params_add(params, leaf) != NB_OK) {
            nb_params_free(params);
            return NULL;
        }
    }
    nb_optimizer *opt = nb_sgd_new(params, (nb_sgd_options){.lr = 0.5});
    nb_grad_scaler *s = nb_grad_scaler_new((nb_grad_scaler_options){.init_scale = 8, .growth_interval = 1});
    nb_tensor *scaled = nb_grad_scaler_scale(s, nb_sum(in[0]));
    nb_tensor *y = scaled && nb_grad_scaler_step(s, opt) == NB_OK && nb_grad_scaler_update(s) == NB_OK
                       ? nb_cat(4, (nb_tensor *const[]){nb_reshape(scaled, NB_SHAPE(1)),
                                                        nb_flatten(nb_grad(nb_params_get(params, 0))),
                                                        nb_flatten(nb_grad(nb_params_get(params, 1))),
                                                        nb_reshape(nb_to_dtype(nb_grad_scaler_get_scale_tensor(s),
                                                                               nb_dtype_of(scaled)),
                                                                   NB_SHAPE(1))},
                                0)
                       : NULL;
    nb_grad_scaler_free(s);
    nb_optimizer_free(opt);
    nb_params_free(params);
    return y;
}
FN(f_grad_scaler, grad_scaler_of(in))

/* An optimizer (0: SGD with momentum 0.9, Nesterov and weight decay 0.01; 1: Adam, lr 0.01 and
 * weight decay 0.01; 2: AdamW, the same) over two parameters holding a and b, stepped three times
 * with the grads b and a: both parameters after the steps, flattened into one tensor. */
static nb_tensor *optimizer_steps_of(nb_tensor *const *in, int which)
{
    nb_params *params = nb_params_new();
    nb_tensor *leaf[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        nb_no_grad_begin();
        nb_tensor *c = nb_clone(in[k]);
        nb_no_grad_end();
        leaf[k] = c ? nb_requires_grad_(c, true) : NULL;
        if (!leaf[k] || nb_params_add(params, leaf[k]) != NB_OK) {
            nb_params_free(params);
            return NULL;
        }
    }
    nb_optimizer *opt =
        which == 0 ? nb_sgd_new(params, (nb_sgd_options){.lr = 0.1, .momentum = 0.9, .nesterov = true,
                                                         .weight_decay = 0.01})
        : which == 1 ? nb_adam_new(params, (nb_adam_options){.lr = 0.01, .weight_decay = 0.01})
                     : nb_adamw_new(params, (nb_adam_options){.lr = 0.01, .weight_decay = 0.01});
    bool ok = opt != NULL;
    for (int t = 0; t < 3 && ok; t++) {
        nb_optimizer_zero_grad(opt);
        ok = nb_backward_ex(leaf[0], in[1], false) == NB_OK && nb_backward_ex(leaf[1], in[0], false) == NB_OK &&
             nb_optimizer_step(opt) == NB_OK;
    }
    nb_tensor *y = ok ? nb_cat(2, (nb_tensor *const[]){nb_flatten(leaf[0]), nb_flatten(leaf[1])}, 0) : NULL;
    nb_optimizer_free(opt);
    nb_params_free(params);
    return y;
}
FN(f_sgd_steps, optimizer_steps_of(in, 0))
FN(f_adam_steps, optimizer_steps_of(in, 1))
FN(f_adamw_steps, optimizer_steps_of(in, 2))

/* draws reseed first: the same seed must give the same values on every device */
FN(f_randint, (nb_manual_seed(31), nb_randint(-4, 9, NB_SHAPE(5, 6), o)))
FN(f_randn_large, (nb_manual_seed(37), nb_randn(NB_SHAPE(333, 1031), o)))
FN(f_rand_large, (nb_manual_seed(37), nb_rand(NB_SHAPE(333, 1031), o)))
FN(f_bernoulli, (nb_manual_seed(41), nb_bernoulli(nb_sigmoid(A))))
FN(f_bernoulli_scalar, (nb_manual_seed(43), nb_bernoulli_scalar(A, 0.4)))
FN(f_multinomial, (nb_manual_seed(47), nb_multinomial(A, 7, true)))
FN(f_multinomial_norepl, (nb_manual_seed(53), nb_multinomial(A, 3, false)))
FN(f_uniform_, (nb_manual_seed(59), nb_uniform_(writable(A), -1, 2)))
FN(f_uniform_plus, nb_add((nb_manual_seed(59), nb_uniform_(writable(A), -1, 2)), B))
FN(f_normal_, (nb_manual_seed(61), nb_normal_(writable(A), 0.5, 2)))
FN(f_normal_plus, nb_add((nb_manual_seed(61), nb_normal_(writable(A), 0.5, 2)), B))
FN(f_dropout, (nb_manual_seed(67), nb_dropout(A, 0.3, true)))
FN(f_sdpa, nb_scaled_dot_product_attention(A, B, C, NULL))
FN(f_sdpa_causal, nb_scaled_dot_product_attention(A, B, C, &(nb_sdpa_options){.is_causal = true, .scale = 0.3}))
/* masks made on the inputs' device: bool tril(ones(L, S), 1) (every row keeps key 0), and -2 on
 * the lower triangle added */
static nb_tensor *sdpa_mask_of(nb_tensor *const *in, nb_dtype dtype)
{
    const int64_t L = nb_size(A, -2), S = nb_size(B, -2);
    nb_tensor *ones = nb_ones(NB_SHAPE(L, S), NB_OPTS(dtype, .device = nb_device_of(A)));
    return dtype == NB_BOOL ? nb_tril(ones, 1) : nb_mul_scalar(nb_tril(ones, 0), -2.0);
}
FN(f_sdpa_bool_mask, nb_scaled_dot_product_attention(A, B, C, &(nb_sdpa_options){.attn_mask = sdpa_mask_of(in, NB_BOOL)}))
FN(f_sdpa_add_mask,
   nb_scaled_dot_product_attention(A, B, C, &(nb_sdpa_options){.attn_mask = sdpa_mask_of(in, nb_dtype_of(A))}))
FN(f_sdpa_dropout, (nb_manual_seed(73), nb_scaled_dot_product_attention(A, B, C, &(nb_sdpa_options){.dropout_p = 0.25})))
FN(f_dropout_eval, nb_dropout(A, 0.3, false))

/* int64 indices of shape (ndim, shape) on t's device: (i * 5 + 2) mod size for the i-th element
 * (duplicates wherever there are more elements than size) */
static nb_tensor *index_values(const nb_tensor *t, int ndim, const int64_t *shape, int64_t size)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    int64_t *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t)); /* (n,) */
    cr_assert_not_null(v);
    for (int64_t i = 0; i < n; i++) v[i] = size > 0 ? (i * 5 + 2) % size : 0;
    nb_tensor *cpu = nb_from_array(v, ndim, shape, NB_OPTS(NB_INT64));
    free(v);
    return nb_to(cpu, nb_device_of(t));
}
/* indices shaped like t but len along dim, into t's dim */
static nb_tensor *index_like(const nb_tensor *t, int dim, int64_t len)
{
    int64_t shape[NB_MAX_DIMS];
    for (int d = 0; d < nb_ndim(t); d++) shape[d] = d == dim ? len : nb_shape(t)[d];
    return index_values(t, nb_ndim(t), shape, nb_size(t, dim));
}
static nb_tensor *index_1d(const nb_tensor *t, int dim, int64_t len)
{
    return index_values(t, 1, &len, nb_size(t, dim));
}
/* the n pieces concatenated along the last dim in reverse order */
static nb_tensor *cat_reversed(int n, nb_tensor **p)
{
    if (n < 0) return NULL;
    for (int k = 0; k < n / 2; k++) {
        nb_tensor *x = p[k];
        p[k] = p[n - 1 - k], p[n - 1 - k] = x;
    }
    return nb_cat(n, p, -1);
}
static nb_tensor *pieces_reversed(nb_tensor *t)
{
    nb_tensor *p[512];
    return cat_reversed(nb_split(t, 3, -1, 512, p), p);
}
static nb_tensor *chunks_reversed(nb_tensor *t)
{
    nb_tensor *p[3];
    return cat_reversed(nb_chunk(t, 3, -1, 3, p), p);
}
static nb_tensor *repeated(nb_tensor *t)
{
    int64_t r[NB_MAX_DIMS] = {2};
    for (int d = 0; d < nb_ndim(t); d++) r[d + 1] = d == nb_ndim(t) - 1 ? 2 : 1;
    return nb_repeat(t, nb_ndim(t) + 1, r);
}
static nb_tensor *one_hot_of(nb_options o, int64_t classes)
{
    static const int64_t v[6] = {0, 3, 1, 3, 3, 2};
    return nb_one_hot(nb_to(nb_from_array(v, NB_SHAPE(2, 3), NB_OPTS(NB_INT64)), o.device), classes);
}

FN(f_index_select_0, nb_index_select(A, 0, index_1d(A, 0, 7)))
FN(f_index_select_last, nb_index_select(A, -1, index_1d(A, -1, 3)))
FN(f_gather_1, nb_gather(A, 1, index_like(A, 1, 3)))
FN(f_gather_0, nb_gather(A, 0, index_like(A, 0, 5)))
FN(f_scatter, nb_scatter(A, 1, index_like(A, 1, 2), B))
FN(f_scatter_add, nb_scatter_add(A, 0, index_like(A, 0, nb_size(A, 0)), B))
FN(f_scatter_, nb_scatter_(writable(nb_contiguous(A)), -1, index_like(A, -1, 3), B))
FN(f_scatter_add_, nb_scatter_add_(writable(nb_contiguous(A)), 1, index_like(A, 1, 4), B))
FN(f_index_add, nb_index_add(A, 0, index_1d(A, 0, 3), nb_narrow(B, 0, 0, 3), -1.5))
FN(f_index_add_, nb_index_add_(writable(nb_contiguous(A)), -1, index_1d(A, -1, 2), nb_narrow(B, -1, 0, 2), 2))
FN(f_embedding, nb_embedding(A, index_values(A, NB_SHAPE(2, 3), nb_size(A, 0)), NB_NO_PADDING))
FN(f_embedding_pad, nb_embedding(A, index_values(A, NB_SHAPE(9), nb_size(A, 0)), nb_size(A, 0) > 1 ? 1 : 0))
/* the Embedding layer whose weight is input 0, padding row 0 */
static nb_tensor *embedding_layer_of(nb_tensor *const *in)
{
    nb_embedding_layer layer = {.weight = A, .num_embeddings = nb_size(A, 0), .embedding_dim = nb_size(A, 1),
                                .padding_idx = 0};
    return nb_embedding_layer_forward(&layer, index_values(A, NB_SHAPE(2, 3), nb_size(A, 0)));
}
FN(f_embedding_layer, embedding_layer_of(in))
FN(f_one_hot, one_hot_of(o, 5))
FN(f_one_hot_infer, one_hot_of(o, -1))
FN(f_stack, nb_stack(2, (nb_tensor *const[]){A, B}, 1))
FN(f_split, pieces_reversed(A))
FN(f_chunk, chunks_reversed(A))
FN(f_pad_constant, nb_pad(A, NB_SHAPE(1, 2, -1, 1), NB_PAD_CONSTANT, -0.5))
FN(f_pad_reflect, nb_pad(A, NB_SHAPE(2, 1), NB_PAD_REFLECT, 0))
FN(f_pad_replicate, nb_pad(A, NB_SHAPE(1, 2), NB_PAD_REPLICATE, 0))
FN(f_tril, nb_tril(A, 0))
FN(f_triu, nb_triu(A, -1))
FN(f_repeat, repeated(A))
FN(f_flip, nb_flip(A, NB_DIMS(0, -1)))
FN(f_roll, nb_roll(A, NB_SHAPE(1, -2), NB_DIMS(0, -1)))
FN(f_roll_flat, nb_roll(A, NB_SHAPE(3), 0, NULL))

/* external memory: a's own elements (any layout) lent through a DLPack export and wrapped again */
static void release_export(void *data, void *ctx)
{
    (void)data;
    DLManagedTensor *m = ctx;
    m->deleter(m);
}
static nb_tensor *f_from_blob(nb_tensor *const *in, nb_options o)
{
    (void)o;
    DLManagedTensor *m = nb_to_dlpack(A);
    if (!m) return NULL;
    nb_tensor *t = nb_from_blob(m->dl_tensor.data, nb_ndim(A), nb_shape(A), nb_strides(A), nb_dtype_of(A),
                                nb_device_of(A), release_export, m);
    if (!t) m->deleter(m);
    return t;
}
FN(f_dlpack, nb_from_dlpack(nb_to_dlpack(A)))

/* ================================================================ the table */

#define F32 (1u << NB_FLOAT32)
#define F64 (1u << NB_FLOAT64)
#define I64 (1u << NB_INT64)
#define BOOL (1u << NB_BOOL)
#define FLOATS (F32 | F64)
#define NUMBERS (F32 | F64 | I64)
#define ALL (F32 | F64 | I64 | BOOL)

/* a convolution's node: the CPU's whole op, CUDA's columns and product */
#define CONV_NODES "cpu:ConvolutionBackward cuda:Im2colBackward"

enum {
    CROSS_DEVICE = 1, /* its nodes are recorded only when the op moves between devices */
};

typedef struct row {
    const char *what;  /* the expression, for failure messages */
    const char *ops;   /* the public functions it exercises, space-separated */
    row_fn fn;
    family fam;
    const char *in;    /* one kind per input (parity_input): its length is the arity */
    unsigned dtypes;   /* the dtypes the op takes for its 'F' and 'P' inputs */
    const char *nodes; /* the autograd nodes it records, space-separated; NULL: none */
    unsigned flags;
} row;

static const row rows[] = {
    /* creation on the device */
    {"fill_(empty((3, 7)), 2.5)", "nb_empty nb_fill_", f_empty, NO_INPUTS, "", ALL, NULL, 0},
    {"zeros((1000,))", "nb_zeros", f_zeros, NO_INPUTS, "", ALL, NULL, 0},
    {"ones((4, 6))", "nb_ones", f_ones, NO_INPUTS, "", ALL, NULL, 0},
    {"ones((2, 0, 3))", "nb_ones", f_ones_empty, NO_INPUTS, "", ALL, NULL, 0},
    {"full((3, 7), -2.75)", "nb_full", f_full, NO_INPUTS, "", ALL, NULL, 0},
    {"arange(-3, 7, 0.5)", "nb_arange", f_arange, NO_INPUTS, "", ALL, NULL, 0},
    {"from_array(12 values)", "nb_from_array", f_from_array, NO_INPUTS, "", ALL, NULL, 0},
    {"seed 77; rand((5, 6))", "nb_rand", f_rand, NO_INPUTS, "", FLOATS, NULL, 0},
    {"seed 77; randn((5, 6))", "nb_randn", f_randn, NO_INPUTS, "", FLOATS, NULL, 0},
    {"zeros_like(a)", "nb_zeros_like", f_zeros_like, ANY_SHAPE, "F", ALL, NULL, 0},
    {"ones_like(a)", "nb_ones_like", f_ones_like, ANY_SHAPE, "F", ALL, NULL, 0},
    /* conversions and moves */
    {"to_dtype(a, the other float)", "nb_to_dtype", f_to_other_float, ANY_SHAPE, "F", ALL, "CloneBackward", 0},
    {"to_dtype(a, its own dtype)", "nb_to_dtype", f_to_same, ANY_SHAPE, "F", ALL, "ReshapeBackward", 0},
    {"to_dtype(a, int64)", "nb_to_dtype", f_to_int64, ANY_SHAPE, "F", ALL, NULL, 0},
    {"to_dtype(a, bool)", "nb_to_dtype", f_to_bool, ANY_SHAPE, "F", ALL, NULL, 0},
    {"to(to(a, cpu), device)", "nb_to", f_round_trip, ANY_SHAPE, "F", ALL, "ToBackward", CROSS_DEVICE},
    /* views and copies */
    {"reshape(a, (2, -1))", "nb_reshape", f_reshape, TWO_OR_THREE_DIMS, "F", ALL, "ReshapeBackward", 0},
    {"view(a, (1, *a.shape))", "nb_view", f_view, ANY_SHAPE, "F", ALL, "ReshapeBackward", 0},
    {"flatten(a)", "nb_flatten", f_flatten, ANY_SHAPE, "F", ALL, "ReshapeBackward", 0},
    {"t(a)", "nb_t", f_t, MATRIX, "F", ALL, "PermuteBackward", 0},
    {"transpose(a, 0, -1)", "nb_transpose", f_transpose, TWO_OR_THREE_DIMS, "F", ALL, "PermuteBackward", 0},
    {"permute(a, reversed dims)", "nb_permute", f_permute, TWO_OR_THREE_DIMS, "F", ALL, "PermuteBackward", 0},
    {"narrow(a, 1, 1, 2)", "nb_narrow", f_narrow, TWO_OR_THREE_DIMS, "F", ALL, "NarrowBackward", 0},
    {"select(a, 1, 2)", "nb_select", f_select, TWO_OR_THREE_DIMS, "F", ALL, "SelectBackward", 0},
    {"squeeze(a)", "nb_squeeze", f_squeeze, ANY_SHAPE, "F", ALL, "ReshapeBackward", 0},
    {"squeeze_dim(unsqueeze(a, 1), 1)", "nb_squeeze_dim nb_unsqueeze", f_squeeze_dim, TWO_OR_THREE_DIMS, "F", ALL,
     "ReshapeBackward", 0},
    {"unsqueeze(a, -1)", "nb_unsqueeze", f_unsqueeze, ANY_SHAPE, "F", ALL, "ReshapeBackward", 0},
    {"expand(a, (2, size-1 dims to 3))", "nb_expand", f_expand, ANY_SHAPE, "F", ALL, "ExpandBackward", 0},
    {"contiguous(a)", "nb_contiguous", f_contiguous, STRIDED, "F", ALL, "CloneBackward", 0},
    {"clone(a)", "nb_clone", f_clone, ANY_SHAPE, "F", ALL, "CloneBackward", 0},
    {"detach(a)", "nb_detach", f_detach, ANY_SHAPE, "F", ALL, NULL, 0},
    {"cat((a, b), 0)", "nb_cat", f_cat2, STACKABLE, "FF", ALL, "CatBackward", 0},
    {"cat((a, b, c), 0)", "nb_cat", f_cat3, STACKABLE, "FFF", ALL, "CatBackward", 0},
    {"cat((a^T, b^T), -1)", "nb_cat nb_transpose", f_cat_last, STACKABLE, "FF", ALL, "CatBackward", 0},
    /* elementwise, one input */
    {"neg(a)", "nb_neg", f_neg, ANY_SHAPE, "F", NUMBERS, "NegBackward", 0},
    {"abs(a)", "nb_abs", f_abs, ANY_SHAPE, "F", NUMBERS, "AbsBackward", 0},
    {"exp(a)", "nb_exp", f_exp, ANY_SHAPE, "F", ALL, "ExpBackward", 0},
    {"log(a)", "nb_log", f_log, ANY_SHAPE, "P", ALL, "LogBackward", 0},
    {"sqrt(a)", "nb_sqrt", f_sqrt, ANY_SHAPE, "P", ALL, "SqrtBackward", 0},
    {"relu(a)", "nb_relu", f_relu, ANY_SHAPE, "F", NUMBERS, "ReluBackward", 0},
    {"sigmoid(a)", "nb_sigmoid", f_sigmoid, ANY_SHAPE, "F", ALL, "SigmoidBackward", 0},
    {"tanh(a)", "nb_tanh", f_tanh, ANY_SHAPE, "F", ALL, "TanhBackward", 0},
    {"clamp(a, -0.5, 0.7)", "nb_clamp", f_clamp, ANY_SHAPE, "F", ALL, "ClampBackward", 0},
    {"clamp_min(a, 0)", "nb_clamp_min", f_clamp_min, ANY_SHAPE, "F", ALL, "ClampBackward", 0},
    {"clamp_max(a, 1)", "nb_clamp_max", f_clamp_max, ANY_SHAPE, "F", ALL, "ClampBackward", 0},
    {"a + 1.5", "nb_add_scalar", f_add_scalar, ANY_SHAPE, "F", ALL, "AddScalarBackward", 0},
    {"a - 2", "nb_sub_scalar", f_sub_scalar, ANY_SHAPE, "F", NUMBERS, "AddScalarBackward", 0},
    {"1.5 - a", "nb_rsub_scalar", f_rsub_scalar, ANY_SHAPE, "F", NUMBERS, "RsubScalarBackward", 0},
    {"a * -2.5", "nb_mul_scalar", f_mul_scalar, ANY_SHAPE, "F", ALL, "MulScalarBackward", 0},
    {"a / 4", "nb_div_scalar", f_div_scalar, ANY_SHAPE, "F", ALL, "DivScalarBackward", 0},
    {"a ^ 3", "nb_pow_scalar", f_pow3, ANY_SHAPE, "F", ALL, "PowScalarBackward", 0},
    {"a ^ 0.5", "nb_pow_scalar", f_pow_half, ANY_SHAPE, "P", ALL, "PowScalarBackward", 0},
    {"a ^ 2", "nb_pow_scalar", f_square, ANY_SHAPE, "F", ALL, "SquareBackward", 0},
    {"a < 0.25", "nb_lt_scalar", f_lt_scalar, ANY_SHAPE, "F", ALL, NULL, 0},
    {"a <= 1", "nb_le_scalar", f_le_scalar, ANY_SHAPE, "F", ALL, NULL, 0},
    {"a > -0.25", "nb_gt_scalar", f_gt_scalar, ANY_SHAPE, "F", ALL, NULL, 0},
    {"a >= 0", "nb_ge_scalar", f_ge_scalar, ANY_SHAPE, "F", ALL, NULL, 0},
    {"a == 1", "nb_eq_scalar", f_eq_scalar, ANY_SHAPE, "F", ALL, NULL, 0},
    {"a != 0", "nb_ne_scalar", f_ne_scalar, ANY_SHAPE, "F", ALL, NULL, 0},
    {"gelu(a)", "nb_gelu", f_gelu, ANY_SHAPE, "F", FLOATS, "GeluBackward", 0},
    {"gelu(a, tanh)", "nb_gelu", f_gelu_tanh, ANY_SHAPE, "F", FLOATS, "GeluBackward", 0},
    {"silu(a)", "nb_silu", f_silu, ANY_SHAPE, "F", FLOATS, "SiluBackward", 0},
    {"leaky_relu(a, 0.1)", "nb_leaky_relu", f_leaky_relu, ANY_SHAPE, "F", FLOATS, "LeakyReluBackward", 0},
    {"softplus(a, 2, 1)", "nb_softplus", f_softplus, ANY_SHAPE, "F", FLOATS, "SoftplusBackward", 0},
    {"erf(a)", "nb_erf", f_erf, ANY_SHAPE, "F", ALL, "ErfBackward", 0},
    {"sin(a)", "nb_sin", f_sin, ANY_SHAPE, "F", ALL, "SinBackward", 0},
    {"cos(a)", "nb_cos", f_cos, ANY_SHAPE, "F", ALL, "CosBackward", 0},
    {"log1p(a)", "nb_log1p", f_log1p, ANY_SHAPE, "P", ALL, "Log1pBackward", 0},
    {"expm1(a)", "nb_expm1", f_expm1, ANY_SHAPE, "F", ALL, "Expm1Backward", 0},
    {"rsqrt(a)", "nb_rsqrt", f_rsqrt, ANY_SHAPE, "P", ALL, "RsqrtBackward", 0},
    {"reciprocal(a)", "nb_reciprocal", f_reciprocal, ANY_SHAPE, "P", ALL, "ReciprocalBackward", 0},
    {"floor(a)", "nb_floor", f_floor, ANY_SHAPE, "F", NUMBERS, "FloorBackward", 0},
    {"ceil(a)", "nb_ceil", f_ceil, ANY_SHAPE, "F", NUMBERS, "CeilBackward", 0},
    {"round(2 a)", "nb_round", f_round, ANY_SHAPE, "F", ALL, "RoundBackward", 0},
    {"sign(a)", "nb_sign", f_sign, ANY_SHAPE, "F", ALL, "SignBackward", 0},
    {"logical_not(a)", "nb_logical_not", f_logical_not, ANY_SHAPE, "F", ALL, NULL, 0},
    /* elementwise, broadcasting */
    {"a + b", "nb_add", f_add, BROADCAST2, "FF", ALL, "AddBackward", 0},
    {"a + b (b int64: promotion)", "nb_add", f_add, BROADCAST2, "FI", ALL, "AddBackward", 0},
    {"a - b", "nb_sub", f_sub, BROADCAST2, "FF", NUMBERS, "SubBackward", 0},
    {"a * b", "nb_mul", f_mul, BROADCAST2, "FF", ALL, "MulBackward", 0},
    {"a * b (b bool: promotion)", "nb_mul", f_mul, BROADCAST2, "FM", ALL, "MulBackward", 0},
    {"a / b", "nb_div", f_div, BROADCAST2, "FP", ALL, "DivBackward", 0},
    {"a ^ b", "nb_pow", f_pow, BROADCAST2, "PP", NUMBERS, "PowBackward", 0},
    {"maximum(a, b)", "nb_maximum", f_maximum, BROADCAST2, "FF", ALL, "MaximumBackward", 0},
    {"minimum(a, b)", "nb_minimum", f_minimum, BROADCAST2, "FF", ALL, "MinimumBackward", 0},
    {"maximum(a, b) (b int64: promotion)", "nb_maximum", f_maximum, BROADCAST2, "FI", ALL, "MaximumBackward", 0},
    {"a < b", "nb_lt", f_lt, BROADCAST2, "FF", ALL, NULL, 0},
    {"a <= b", "nb_le", f_le, BROADCAST2, "FF", ALL, NULL, 0},
    {"a > b", "nb_gt", f_gt, BROADCAST2, "FF", ALL, NULL, 0},
    {"a >= b", "nb_ge", f_ge, BROADCAST2, "FF", ALL, NULL, 0},
    {"a == b", "nb_eq", f_eq, BROADCAST2, "FF", ALL, NULL, 0},
    {"a != b", "nb_ne", f_ne, BROADCAST2, "FF", ALL, NULL, 0},
    {"where(mask, a, b)", "nb_where", f_where, BROADCAST3, "MFF", ALL, "WhereBackward", 0},
    {"logical_and(a, b)", "nb_logical_and", f_logical_and, BROADCAST2, "FF", ALL, NULL, 0},
    {"logical_or(a, b)", "nb_logical_or", f_logical_or, BROADCAST2, "FF", ALL, NULL, 0},
    {"logical_and(a, b) (b int64)", "nb_logical_and", f_logical_and, BROADCAST2, "FI", ALL, NULL, 0},
    {"logical_or(a, b) (b bool)", "nb_logical_or", f_logical_or, BROADCAST2, "FM", ALL, NULL, 0},
    {"lerp(a, b, w)", "nb_lerp", f_lerp, BROADCAST3, "FFF", FLOATS, "LerpBackward", 0},
    {"lerp(a, b, 0.75)", "nb_lerp_scalar", f_lerp_scalar, BROADCAST2, "FF", FLOATS, "LerpScalarBackward", 0},
    {"masked_fill(a, mask, 2.5)", "nb_masked_fill", f_masked_fill, ONTO, "FM", ALL, "MaskedFillBackward", 0},
    {"mse_loss(a, b)", "nb_mse_loss", f_mse, BROADCAST2, "FF", FLOATS, "SubBackward MeanBackward", 0},
    {"l1_loss(a, b)", "nb_l1_loss", f_l1, BROADCAST2, "FF", FLOATS, "SubBackward AbsBackward MeanBackward", 0},
    {"l1_loss(a, b, none)", "nb_l1_loss", f_l1_none, BROADCAST2, "FF", FLOATS, "AbsBackward", 0},
    {"smooth_l1_loss(a, b, sum, 0.75)", "nb_smooth_l1_loss", f_smooth_l1, BROADCAST2, "FF", FLOATS,
     "WhereBackward SumBackward", 0},
    {"huber_loss(a, b, mean, 1.25)", "nb_huber_loss", f_huber, BROADCAST2, "FF", FLOATS, "WhereBackward MeanBackward",
     0},
    {"bce_with_logits(a, b)", "nb_binary_cross_entropy_with_logits", f_bce, SAME_SHAPE2, "FF", FLOATS,
     "WhereBackward ExpBackward LogBackward MeanBackward", 0},
    {"bce_with_logits(a, b, weight b, pos_weight b, none)", "nb_binary_cross_entropy_with_logits", f_bce_weighted,
     SAME_SHAPE2, "FF", FLOATS, "WhereBackward MulBackward", 0},
    /* in place: the target is input a (a recorded copy of it when it requires grad) */
    {"a += b", "nb_add_", f_add_, ONTO, "FF", ALL, "AddBackward", 0},
    {"a -= b", "nb_sub_", f_sub_, ONTO, "FF", NUMBERS, "SubBackward", 0},
    {"a *= b", "nb_mul_", f_mul_, ONTO, "FF", ALL, "MulBackward", 0},
    {"a /= b", "nb_div_", f_div_, ONTO, "FP", FLOATS, "DivBackward", 0},
    {"a += 2", "nb_add_scalar_", f_add_scalar_, ONTO, "F", NUMBERS, "AddScalarBackward", 0},
    {"a *= -3", "nb_mul_scalar_", f_mul_scalar_, ONTO, "F", NUMBERS, "MulScalarBackward", 0},
    {"a += 0.75 b", "nb_add_scaled_", f_add_scaled_, ONTO, "FF", FLOATS, "AxpyBackward", 0},
    {"a -= 3 b", "nb_sub_scaled_", f_sub_scaled_, ONTO, "FF", NUMBERS, "AxpyBackward", 0},
    {"masked_fill_(a, mask, 0)", "nb_masked_fill_", f_masked_fill_, ONTO, "FM", ALL, "MaskedFillBackward", 0},
    {"fill_(a, 2.5)", "nb_fill_", f_fill_, ONTO, "F", ALL, NULL, 0},
    {"fill_(a, 2.5) + b", "nb_fill_", f_fill_plus, ONTO, "FF", ALL, "FillBackward", 0},
    {"zero_(a)", "nb_zero_", f_zero_, ONTO, "F", ALL, NULL, 0},
    {"zero_(a) + b", "nb_zero_", f_zero_plus, ONTO, "FF", ALL, "FillBackward", 0},
    {"copy_(a, b)", "nb_copy_", f_copy_, ONTO, "FF", ALL, "CopyBackward", 0},
    /* reductions */
    {"sum(a)", "nb_sum", f_sum, ANY_SHAPE, "F", ALL, "SumBackward", 0},
    {"mean(a)", "nb_mean", f_mean, ANY_SHAPE, "F", FLOATS, "MeanBackward", 0},
    {"max(a)", "nb_max", f_max, ANY_SHAPE, "F", ALL, "MaxBackward", 0},
    {"min(a)", "nb_min", f_min, ANY_SHAPE, "F", ALL, "MinBackward", 0},
    {"argmax(a)", "nb_argmax", f_argmax, ANY_SHAPE, "F", ALL, NULL, 0},
    {"argmin(a)", "nb_argmin", f_argmin, ANY_SHAPE, "F", ALL, NULL, 0},
    {"sum_dim(a, 1)", "nb_sum_dim", f_sum_dim, TWO_OR_THREE_DIMS, "F", ALL, "SumBackward", 0},
    {"sum_dim(a, -1, keepdim)", "nb_sum_dim", f_sum_dim_keep, TWO_OR_THREE_DIMS, "F", ALL, "SumBackward", 0},
    {"mean_dim(a, 0, keepdim)", "nb_mean_dim", f_mean_dim, TWO_OR_THREE_DIMS, "F", FLOATS, "MeanBackward", 0},
    {"max_dim(a, 1)", "nb_max_dim", f_max_dim, TWO_OR_THREE_DIMS, "F", ALL, "MaxBackward", 0},
    {"min_dim(a, -1, keepdim)", "nb_min_dim", f_min_dim, TWO_OR_THREE_DIMS, "F", ALL, "MinBackward", 0},
    {"argmax_dim(a, 0) (ties in the expanded case)", "nb_argmax_dim", f_argmax_dim, TWO_OR_THREE_DIMS, "F", ALL,
     NULL, 0},
    {"argmin_dim(a, -1, keepdim)", "nb_argmin_dim", f_argmin_dim, TWO_OR_THREE_DIMS, "F", ALL, NULL, 0},
    {"sum_dims(a, [0, -1])", "nb_sum_dims", f_sum_dims, TWO_OR_THREE_DIMS, "F", ALL, "SumDimsBackward", 0},
    {"sum_dims(a, [], keepdim)", "nb_sum_dims", f_sum_dims_all_keep, ANY_SHAPE, "F", ALL, "SumDimsBackward", 0},
    {"mean_dims(a, [-1, 0], keepdim)", "nb_mean_dims", f_mean_dims, TWO_OR_THREE_DIMS, "F", FLOATS,
     "MeanDimsBackward", 0},
    {"amax(a, [0, -1])", "nb_amax", f_amax, TWO_OR_THREE_DIMS, "F", ALL, "AmaxBackward", 0},
    {"amin(a, [])", "nb_amin", f_amin_all, ANY_SHAPE, "F", ALL, "AminBackward", 0},
    {"any(a, [-1])", "nb_any", f_any, TWO_OR_THREE_DIMS, "F", ALL, NULL, 0},
    {"all(a, [], keepdim)", "nb_all", f_all_all, ANY_SHAPE, "F", ALL, NULL, 0},
    {"var(a, [0, -1])", "nb_var", f_var, TWO_OR_THREE_DIMS, "F", FLOATS, "VarBackward", 0},
    {"std(a, [-1], correction 0, keepdim)", "nb_std", f_std, TWO_OR_THREE_DIMS, "F", FLOATS, "StdBackward", 0},
    {"logsumexp(a, [-1])", "nb_logsumexp", f_logsumexp, TWO_OR_THREE_DIMS, "F", ALL, "LogsumexpBackward", 0},
    {"logsumexp(a, [], keepdim)", "nb_logsumexp", f_logsumexp_all, ANY_SHAPE, "F", ALL, "LogsumexpBackward", 0},
    {"norm(a, 2, [0, -1])", "nb_norm", f_norm2, TWO_OR_THREE_DIMS, "F", FLOATS, "NormBackward", 0},
    {"norm(a, 1, [-1], keepdim)", "nb_norm", f_norm1, TWO_OR_THREE_DIMS, "F", FLOATS, "NormBackward", 0},
    {"norm(a, inf, [])", "nb_norm", f_norminf_all, ANY_SHAPE, "F", FLOATS, "NormBackward", 0},
    {"prod(a)", "nb_prod", f_prod, ANY_SHAPE, "F", ALL, "ProdBackward", 0},
    {"prod_dim(a, 1)", "nb_prod_dim", f_prod_dim, TWO_OR_THREE_DIMS, "F", ALL, "ProdBackward", 0},
    {"cumsum(a, 1)", "nb_cumsum", f_cumsum, TWO_OR_THREE_DIMS, "F", ALL, "CumsumBackward", 0},
    {"cumsum(a, 0)", "nb_cumsum", f_cumsum_0, ANY_SHAPE, "F", ALL, "CumsumBackward", 0},
    {"topk(a, 2, -1) values", "nb_topk", f_topk_values, TWO_OR_THREE_DIMS, "F", NUMBERS, "TopkBackward", 0},
    {"topk(a, 2, 0, smallest) indices", "nb_topk", f_topk_indices, TWO_OR_THREE_DIMS, "F", NUMBERS, NULL, 0},
    {"argsort(a, 0)", "nb_argsort", f_argsort, ANY_SHAPE, "F", ALL, NULL, 0},
    {"argsort(a, -1, descending)", "nb_argsort", f_argsort_desc, TWO_OR_THREE_DIMS, "F", ALL, NULL, 0},
    /* matrix products */
    {"mm(a, b)", "nb_mm", f_mm, MATRIX_PAIRS, "FF", FLOATS, "MmBackward", 0},
    {"matmul(a, b) batched", "nb_matmul", f_matmul, BATCHED_PAIRS, "FF", FLOATS, "BmmBackward", 0},
    {"matmul(a, b) as one 2-D product", "nb_matmul", f_matmul, FLAT_PAIRS, "FF", FLOATS, "MmBackward", 0},
    /* nn */
    {"linear(x; w, b)", "nb_linear_forward", linear_of_inputs, LINEAR_INPUTS, "FFF", FLOATS,
     "MmBackward AddBackward", 0},
    {"linear(x; w, no bias)", "nb_linear_forward", linear_of_inputs, LINEAR_INPUTS, "FF", FLOATS, "MmBackward", 0},
    {"softmax(a, -1)", "nb_softmax", f_softmax_last, TWO_OR_THREE_DIMS, "F", FLOATS, "SoftmaxBackward", 0},
    {"softmax(a, 0)", "nb_softmax", f_softmax_0, TWO_OR_THREE_DIMS, "F", FLOATS, "SoftmaxBackward", 0},
    {"log_softmax(a, -1)", "nb_log_softmax", f_log_softmax_last, TWO_OR_THREE_DIMS, "F", FLOATS,
     "LogSoftmaxBackward", 0},
    {"log_softmax(a, 1)", "nb_log_softmax", f_log_softmax_1, TWO_OR_THREE_DIMS, "F", FLOATS, "LogSoftmaxBackward", 0},
    {"cross_entropy(logits, labels)", "nb_cross_entropy", f_cross_entropy, LOGITS_LABELS, "FL", FLOATS,
     "CrossEntropyBackward", 0},
    {"cross_entropy_ex(logits, labels, ignore 1, smoothing 0.1)", "nb_cross_entropy_ex", f_cross_entropy_ex_mean,
     LOGITS_LABELS, "FL", FLOATS, "CrossEntropyBackward", 0},
    {"cross_entropy_ex(logits, labels, ignore 1, smoothing 0.1, none)", "nb_cross_entropy_ex",
     f_cross_entropy_ex_none, LOGITS_LABELS, "FL", FLOATS, "CrossEntropyBackward", 0},
    {"nll_loss(log_softmax(logits), labels, weight)", "nb_nll_loss nb_log_softmax", nll_loss_of, LOGITS_LABELS, "FL",
     FLOATS, "NllLossBackward LogSoftmaxBackward", 0},
    {"layer_norm(x, w.shape, w, b)", "nb_layer_norm", f_layer_norm, NORM_INPUTS, "FFF", FLOATS, "LayerNormBackward", 0},
    {"layer_norm(x, x.shape[-1:])", "nb_layer_norm", f_layer_norm_plain, NORM_INPUTS, "F", FLOATS,
     "LayerNormBackward", 0},
    {"LayerNorm(w.shape)(x) with weight w, bias b", "nb_layer_norm_layer_forward", f_layer_norm_layer, NORM_INPUTS,
     "FFF", FLOATS, "LayerNormBackward", 0},
    {"batch_norm(x, rm, rv, w, b, training)", "nb_batch_norm", f_batch_norm_train, BATCH_NORM_INPUTS, "FFF", FLOATS,
     "NativeBatchNormBackward", 0},
    {"batch_norm(x, rm, rv, training)", "nb_batch_norm", f_batch_norm_train_plain, BATCH_NORM_INPUTS, "F", FLOATS,
     "NativeBatchNormBackward", 0},
    {"batch_norm(x, rm, rv, w, b, eval)", "nb_batch_norm", f_batch_norm_eval, BATCH_NORM_INPUTS, "FFF", FLOATS,
     "NativeBatchNormBackward", 0},
    {"batch_norm(x, rm, rv, training): rm after", "nb_batch_norm", f_batch_norm_running_mean, BATCH_NORM_INPUTS, "F",
     FLOATS, NULL, 0},
    {"batch_norm(x, rm, rv, w, b, training): rv after", "nb_batch_norm", f_batch_norm_running_var, BATCH_NORM_INPUTS,
     "FFF", FLOATS, NULL, 0},
    {"BatchNorm2d(C)(x as (N, C, H, W)), training", "nb_batch_norm2d_forward", f_batch_norm2d_train,
     BATCH_NORM_INPUTS, "F", FLOATS, "NativeBatchNormBackward", 0},
    {"BatchNorm2d(C)(x as (N, C, H, W)), eval, running_var 2", "nb_batch_norm2d_forward", f_batch_norm2d_eval,
     BATCH_NORM_INPUTS, "F", FLOATS, "NativeBatchNormBackward", 0},
    {"rms_norm(x, w.shape, w)", "nb_rms_norm", f_rms_norm, NORM_INPUTS, "FF", FLOATS, "RmsNormBackward", 0},
    {"rms_norm(x, x.shape[-1:], eps 1e-6)", "nb_rms_norm", f_rms_norm_plain, NORM_INPUTS, "F", FLOATS,
     "RmsNormBackward", 0},
    {"conv2d(x, w, b, stride (2,1), padding 1, dilation (1,2))", "nb_conv2d", f_conv2d, CONV_INPUTS, "FFF", FLOATS,
     CONV_NODES, 0},
    {"conv2d(x, w, padding same)", "nb_conv2d", f_conv2d_same, CONV_INPUTS, "FF", FLOATS, CONV_NODES, 0},
    {"conv2d(x[:, :2], w[:, :1], b, stride (1,2), groups 2)", "nb_conv2d", f_conv2d_depthwise, CONV_INPUTS, "FFF",
     FLOATS, CONV_NODES, 0},
    {"conv1d(x[:, :, 0], w[:, :, 0], b, stride 2, padding 1)", "nb_conv1d", f_conv1d, CONV_INPUTS, "FFF", FLOATS,
     CONV_NODES, 0},
    {"conv_transpose2d(x, w.transpose(0, 1), b, stride 2, padding (1,0), output_padding 1)", "nb_conv_transpose2d",
     f_conv_transpose2d, CONV_INPUTS, "FFF", FLOATS, "Col2imBackward", 0},
    {"max_pool2d(x, (3,2), (2,1), (1,1), (1,2), ceil)", "nb_max_pool2d", f_max_pool2d, POOL_INPUTS, "F", FLOATS,
     "MaxPool2DWithIndicesBackward", 0},
    {"max_pool2d(x, 2)", "nb_max_pool2d", f_max_pool2d_k2, POOL_INPUTS, "F", FLOATS,
     "MaxPool2DWithIndicesBackward", 0},
    {"MaxPool2d(2)(x)", "nb_max_pool2d_layer_forward", f_max_pool2d_layer, POOL_INPUTS, "F", FLOATS,
     "MaxPool2DWithIndicesBackward", 0},
    {"seed 71; Conv2d(C, 4, 3, padding 1)(x)", "nb_conv2d_layer_forward", f_conv2d_layer, CONV_INPUTS, "F", FLOATS,
     CONV_NODES, 0},
    {"max_pool2d(x, (3,2), (2,1), (1,1), (1,2), ceil) indices", "nb_max_pool2d_with_indices", f_max_pool2d_indices,
     POOL_INPUTS, "F", FLOATS, NULL, 0},
    {"avg_pool2d(x, 3, 2, 1, ceil, count_include_pad=False)", "nb_avg_pool2d", f_avg_pool2d, POOL_INPUTS, "F",
     FLOATS, "AvgPool2DBackward", 0},
    {"avg_pool2d(x, (2,3), (1,2), divisor 4)", "nb_avg_pool2d", f_avg_pool2d_div, POOL_INPUTS, "F", FLOATS,
     "AvgPool2DBackward", 0},
    {"adaptive_avg_pool2d(x, (3,5))", "nb_adaptive_avg_pool2d", f_adaptive_avg_pool2d, POOL_INPUTS, "F", FLOATS,
     "AdaptiveAvgPool2DBackward", 0},
    /* random numbers, drawn on the device */
    {"seed 31; randint(-4, 9, (5, 6))", "nb_randint", f_randint, NO_INPUTS, "", ALL, NULL, 0},
    {"seed 37; randn((333, 1031))", "nb_randn", f_randn_large, NO_INPUTS, "", FLOATS, NULL, 0},
    {"seed 37; rand((333, 1031))", "nb_rand", f_rand_large, NO_INPUTS, "", FLOATS, NULL, 0},
    {"seed 41; bernoulli(sigmoid(a))", "nb_bernoulli", f_bernoulli, ANY_SHAPE, "F", ALL, NULL, 0},
    {"seed 43; bernoulli_scalar(a, 0.4)", "nb_bernoulli_scalar", f_bernoulli_scalar, ANY_SHAPE, "F", ALL, NULL, 0},
    {"seed 47; multinomial(a, 7, replacement)", "nb_multinomial", f_multinomial, MATRIX, "P", FLOATS, NULL, 0},
    {"seed 53; multinomial(a, 3, no replacement)", "nb_multinomial", f_multinomial_norepl, MATRIX, "P", FLOATS,
     NULL, 0},
    {"seed 59; uniform_(a, -1, 2)", "nb_uniform_", f_uniform_, ONTO, "F", FLOATS, NULL, 0},
    {"seed 59; uniform_(a, -1, 2) + b", "nb_uniform_", f_uniform_plus, ONTO, "FF", FLOATS, "FillBackward", 0},
    {"seed 61; normal_(a, 0.5, 2)", "nb_normal_", f_normal_, ONTO, "F", FLOATS, NULL, 0},
    {"seed 61; normal_(a, 0.5, 2) + b", "nb_normal_", f_normal_plus, ONTO, "FF", FLOATS, "FillBackward", 0},
    {"seed 67; dropout(a, 0.3, training)", "nb_dropout", f_dropout, ANY_SHAPE, "F", FLOATS, "DropoutBackward", 0},
    {"sdpa(q, k, v)", "nb_scaled_dot_product_attention", f_sdpa, ATTENTION_INPUTS, "FFF", FLOATS,
     "ScaledDotProductAttentionBackward", 0},
    {"sdpa(q, k, v, causal, scale 0.3)", "nb_scaled_dot_product_attention", f_sdpa_causal, ATTENTION_INPUTS, "FFF",
     FLOATS, "ScaledDotProductAttentionBackward", 0},
    {"sdpa(q, k, v, bool mask tril(ones(L, S), 1))", "nb_scaled_dot_product_attention", f_sdpa_bool_mask,
     ATTENTION_INPUTS, "FFF", FLOATS, "ScaledDotProductAttentionBackward", 0},
    {"sdpa(q, k, v, additive mask -2 tril(ones(L, S)))", "nb_scaled_dot_product_attention", f_sdpa_add_mask,
     ATTENTION_INPUTS, "FFF", FLOATS, "ScaledDotProductAttentionBackward", 0},
    {"seed 73; sdpa(q, k, v, dropout 0.25)", "nb_scaled_dot_product_attention", f_sdpa_dropout, ATTENTION_INPUTS,
     "FFF", FLOATS, "ScaledDotProductAttentionBackward", 0},
    {"dropout(a, 0.3, not training)", "nb_dropout", f_dropout_eval, ANY_SHAPE, "F", ALL, "ReshapeBackward", 0},
    {"seed 67; Dropout(0.3)(a), training", "nb_dropout_layer_forward", f_dropout_layer_train, ANY_SHAPE, "F", FLOATS,
     "DropoutBackward", 0},
    {"Dropout(0.3)(a), eval", "nb_dropout_layer_forward", f_dropout_layer_eval, ANY_SHAPE, "F", ALL,
     "ReshapeBackward", 0},
    /* optimizers' helpers */
    {"clip_grad_norm_tensor_(grads a, b; 0.5, 2)", "nb_clip_grad_norm_tensor_", f_clip_grad_norm_2, SAME_SHAPE_PAIRS,
     "FF", FLOATS, NULL, 0},
    {"clip_grad_norm_tensor_(grads a, b; 0.25, inf)", "nb_clip_grad_norm_tensor_", f_clip_grad_norm_inf,
     SAME_SHAPE_PAIRS, "FF", FLOATS, NULL, 0},
    {"clip_grad_norm_tensor_(grads a, b; 1e6, 3)", "nb_clip_grad_norm_tensor_", f_clip_grad_norm_3, STACKABLE, "FF",
     FLOATS, NULL, 0},
    {"grad_scaler: scale(sum(a)), step and update over grads a, b", "nb_grad_scaler_scale", f_grad_scaler,
     SAME_SHAPE_PAIRS, "FF", FLOATS, NULL, 0},
    {"sgd(momentum 0.9, nesterov, decay 0.01): 3 steps of leaves a, b with grads b, a", "nb_sgd_new",
     f_sgd_steps, SAME_SHAPE_PAIRS, "FF", FLOATS, NULL, 0},
    {"adam(0.01, decay 0.01): 3 steps of leaves a, b with grads b, a", "nb_adam_new", f_adam_steps,
     SAME_SHAPE_PAIRS, "FF", FLOATS, NULL, 0},
    {"adamw(0.01, decay 0.01): 3 steps of leaves a, b with grads b, a", "nb_adamw_new",
     f_adamw_steps, SAME_SHAPE_PAIRS, "FF", FLOATS, NULL, 0},
    /* indexing and shape */
    {"index_select(a, 0, 7 indices)", "nb_index_select", f_index_select_0, TWO_OR_THREE_DIMS, "F", ALL,
     "IndexSelectBackward", 0},
    {"index_select(a, -1, 3 indices)", "nb_index_select", f_index_select_last, STRIDED, "F", ALL,
     "IndexSelectBackward", 0},
    {"gather(a, 1, 3 along dim 1)", "nb_gather", f_gather_1, TWO_OR_THREE_DIMS, "F", ALL, "GatherBackward", 0},
    {"gather(a, 0, 5 along dim 0)", "nb_gather", f_gather_0, TWO_OR_THREE_DIMS, "F", ALL, "GatherBackward", 0},
    {"scatter(a, 1, 2 along dim 1, b)", "nb_scatter", f_scatter, SAME_SHAPE_PAIRS, "FF", ALL, "ScatterBackward", 0},
    {"scatter_add(a, 0, all of dim 0, b)", "nb_scatter_add", f_scatter_add, SAME_SHAPE_PAIRS, "FF", ALL,
     "ScatterAddBackward", 0},
    {"scatter_(a, -1, 3 along dim -1, b)", "nb_scatter_", f_scatter_, SAME_SHAPE_PAIRS, "FF", ALL, "ScatterBackward", 0},
    {"scatter_add_(a, 1, 4 along dim 1, b)", "nb_scatter_add_", f_scatter_add_, SAME_SHAPE_PAIRS, "FF", ALL,
     "ScatterAddBackward", 0},
    {"index_add(a, 0, 3 indices, b[:3], -1.5)", "nb_index_add", f_index_add, SAME_SHAPE_PAIRS, "FF", FLOATS,
     "IndexAddBackward", 0},
    {"index_add_(a, -1, 2 indices, b[..., :2], 2)", "nb_index_add_", f_index_add_, SAME_SHAPE_PAIRS, "FF", NUMBERS,
     "IndexAddBackward", 0},
    {"embedding(w, (2, 3) indices)", "nb_embedding", f_embedding, MATRIX, "F", ALL, "EmbeddingBackward", 0},
    {"embedding(w, 9 indices, padding 1)", "nb_embedding", f_embedding_pad, MATRIX, "F", ALL, "EmbeddingBackward", 0},
    {"Embedding(w)((2, 3) indices), padding 0", "nb_embedding_layer_forward", f_embedding_layer, MATRIX, "F", ALL,
     "EmbeddingBackward", 0},
    {"one_hot((2, 3), 5)", "nb_one_hot", f_one_hot, NO_INPUTS, "", ALL, NULL, 0},
    {"one_hot((2, 3), inferred)", "nb_one_hot", f_one_hot_infer, NO_INPUTS, "", ALL, NULL, 0},
    {"stack((a, b), 1)", "nb_stack", f_stack, SAME_SHAPE_PAIRS, "FF", ALL, "CatBackward", 0},
    {"cat(split(a, 3, -1) reversed, -1)", "nb_cat", f_split, TWO_OR_THREE_DIMS, "F", ALL, "NarrowBackward CatBackward", 0},
    {"cat(chunk(a, 3, -1) reversed, -1)", "nb_cat", f_chunk, TWO_OR_THREE_DIMS, "F", ALL, "NarrowBackward CatBackward",
     0},
    {"pad(a, (1, 2, -1, 1), -0.5)", "nb_pad", f_pad_constant, TWO_OR_THREE_DIMS, "F", ALL, "CatBackward", 0},
    {"pad(a, (2, 1), reflect)", "nb_pad", f_pad_reflect, TWO_OR_THREE_DIMS, "F", ALL, "IndexSelectBackward", 0},
    {"pad(a, (1, 2), replicate)", "nb_pad", f_pad_replicate, TWO_OR_THREE_DIMS, "F", ALL, "IndexSelectBackward", 0},
    {"tril(a)", "nb_tril", f_tril, TWO_OR_THREE_DIMS, "F", ALL, "WhereBackward", 0},
    {"triu(a, -1)", "nb_triu", f_triu, TWO_OR_THREE_DIMS, "F", ALL, "WhereBackward", 0},
    {"repeat(a, (2, 1.., 2))", "nb_repeat", f_repeat, ANY_SHAPE, "F", ALL, "ExpandBackward", 0},
    {"flip(a, (0, -1))", "nb_flip", f_flip, TWO_OR_THREE_DIMS, "F", ALL, "IndexSelectBackward", 0},
    {"roll(a, (1, -2), (0, -1))", "nb_roll", f_roll, TWO_OR_THREE_DIMS, "F", ALL, "CatBackward", 0},
    {"roll(a, 3) flattened", "nb_roll", f_roll_flat, ANY_SHAPE, "F", ALL, NULL, 0},
    /* external memory */
    {"from_blob(a's memory, a's strides)", "nb_from_blob nb_to_dlpack", f_from_blob, ANY_SHAPE, "F", ALL, NULL, 0},
    {"from_dlpack(to_dlpack(a))", "nb_from_dlpack nb_to_dlpack", f_dlpack, ANY_SHAPE, "F", ALL, NULL, 0},
};
#define NROWS ((int)(sizeof rows / sizeof rows[0]))

/* Declared functions returning nb_tensor * that are not device ops, and why. */
static const struct {
    const char *name, *why;
} not_device_ops[] = {
    {"nb_retain", "reference counting: touches no values"},
    {"nb_keep", "hands a tensor to the enclosing scope: touches no values"},
    {"nb_requires_grad_", "sets a flag on a leaf"},
    {"nb_grad", "a borrowed accessor of .grad (the rows compare gradients through nb_grad_of)"},
    {"nb_params_get", "a borrowed accessor of a parameter list"},
    {"nb_load_npy", "reads a file into a CPU tensor; takes no device"},
    {"nb_load_idx", "reads a file into a CPU tensor; takes no device"},
    {"nb_randperm", "draws a CPU int64 permutation; takes no device"},
    {"nb_tensor_dict_at", "a borrowed accessor of a loaded dict"},
    {"nb_tensor_dict_get", "a borrowed accessor of a loaded dict"},
    {"nb_grad_scaler_get_scale_tensor", "a borrowed accessor of the scaler's scale (the grad_scaler row reads it)"},
};

/* Public ops that hand their tensors back through pointers (returning a status): rows may name
 * them too, though the header reading only finds functions returning nb_tensor *. */
static const char *const pointer_result_ops[] = {"nb_topk", "nb_to_dlpack", /* nb_to_dlpack: a DLManagedTensor */
                                                 "nb_sgd_new", "nb_adam_new", "nb_adamw_new"}; /* an nb_optimizer */

static const char *const public_headers[] = {"../include/nabla.h", "../include/nabla/cuda.h",
                                             "../include/nabla/data.h", "../include/nabla/nn.h",
                                             "../include/nabla/optim.h", "../include/nabla/safetensors.h",
                                             "../include/nabla/dlpack.h"};

/* ================================================================ running a row */

static const nb_dtype all_dtypes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};

static bool is_floating(nb_dtype dt)
{
    return dt == NB_FLOAT32 || dt == NB_FLOAT64 || dt == NB_FLOAT16 || dt == NB_BFLOAT16;
}

/* Inputs of kinds 'F' and 'P' take gradients when they are floating. */
static bool takes_grad(char kind, nb_dtype dt) { return (kind == 'F' || kind == 'P') && is_floating(dt); }

/* One run of a row: its output, or why it was refused; and the gradients of its inputs. */
typedef struct outcome {
    nb_tensor *y;
    nb_status status;
    char error[512];
    int n_grads;
    nb_tensor *grads[3];
} outcome;

static void describe(char *buf, size_t size, const row *r, const pcase *c, nb_dtype dt, const char *part)
{
    char specs[256];
    parity_specs_string((int)strlen(r->in), c->in, specs, sizeof specs);
    snprintf(buf, size, "%s [%s] (%s; %s) %s", r->what, r->ops, nb_dtype_name(dt), specs, part);
}

/* Runs row r on case c in dtype dt on device; with backward, the inputs require grad and the
 * gradient of each against the seeded output gradient is taken. Everything it makes belongs to
 * the open scope. */
static outcome run_case(const row *r, const pcase *c, nb_dtype dt, nb_device device, bool backward)
{
    outcome out = {0};
    nb_tensor *in[3] = {NULL, NULL, NULL}, *wrt[3];
    const int n = (int)strlen(r->in);
    char what[512], dev[32];
    for (int k = 0; k < n; k++) {
        in[k] = parity_input(&c->in[k], r->in[k], dt, device, 1000 + 17 * (uint64_t)k, in[0]);
        if (backward && takes_grad(r->in[k], dt))
            wrt[out.n_grads++] = in[k] = nb_requires_grad_(nb_detach(in[k]), true); /* a leaf, same layout */
    }
    cr_assert_eq(nb_last_status(), NB_OK, "%s: building the inputs: %s", r->what, nb_last_error());
    out.y = r->fn(in, NB_OPTS(dt, .device = device));
    if (!out.y) {
        out.status = nb_last_status();
        snprintf(out.error, sizeof out.error, "%s", nb_last_error());
        nb_clear_error();
        return out;
    }
    describe(what, sizeof what, r, c, dt, backward ? "backward" : "forward");
    cr_assert_eq(nb_last_status(), NB_OK, "%s: a result and an error: %s", what, nb_last_error());
    if (!backward) return out;

    cuda_device_string(device, dev, sizeof dev);
    const bool moved = device.type != NB_CPU;
    for (const char *p = r->nodes; *p;) { /* every claimed node is in the graph */
        char node[64];
        size_t len = strcspn(p, " ");
        snprintf(node, sizeof node, "%.*s", (int)len, p);
        p += len + (p[len] == ' ');
        if ((r->flags & CROSS_DEVICE) && !moved) continue;
        /* "cpu:Name" and "cuda:Name": a node only that device records (the CPU's whole
         * convolution, CUDA's composed one) */
        char *colon = strchr(node, ':');
        if (colon) {
            *colon = '\0';
            if ((strcmp(node, "cpu") == 0) == moved) continue;
            memmove(node, colon + 1, strlen(colon + 1) + 1);
        }
        cr_assert(nb__autograd_graph_has(out.y, node), "%s: no %s in the graph on %s (its top node is %s)", what,
                  node, dev, nb_grad_fn_name(out.y) ? nb_grad_fn_name(out.y) : "none");
    }
    cr_assert(is_floating(nb_dtype_of(out.y)), "%s: a %s output has no gradient", what,
              nb_dtype_name(nb_dtype_of(out.y)));
    nb_manual_seed(977);
    nb_tensor *g = nb_randn(nb_ndim(out.y), nb_shape(out.y), NB_OPTS(NB_FLOAT64));
    nb_tensor *gy = nb_to(nb_to_dtype(g, nb_dtype_of(out.y)), device);
    nb_status st = nb_grad_of(1, &out.y, &gy, out.n_grads, wrt, out.grads, false);
    cr_assert_eq(st, NB_OK, "%s: nb_grad_of on %s: %s", what, dev, nb_last_error());
    return out;
}

/* Row r on device against the CPU, for every dtype and case: the dtypes the row lists give
 * matching results, the others are refused alike. Then backward, for the floating dtypes it
 * lists when it records nodes: the output and the gradient of every input match. */
static void check_row(const row *r, nb_device device)
{
    const pcase *cases = families[r->fam].cases;
    const int n_cases = families[r->fam].count, n_in = (int)strlen(r->in);
    char what[512], dev[32];
    cuda_device_string(device, dev, sizeof dev);
    for (int d = 0; d < 4; d++) {
        const nb_dtype dt = all_dtypes[d];
        const bool takes = r->dtypes & (1u << dt);
        for (int i = 0; i < n_cases; i++) {
            const pcase *c = &cases[i];
            nb_scope_begin();
            outcome want = run_case(r, c, dt, CPU, false), got = run_case(r, c, dt, device, false);
            describe(what, sizeof what, r, c, dt, "forward");
            if (takes) {
                cr_assert_not_null(want.y, "%s: the cpu refuses it (%s) but the row lists %s", what, want.error,
                                   nb_dtype_name(dt));
                cr_assert_not_null(got.y, "%s: %s refuses it: %s", what, dev, got.error);
                cuda_assert_match(got.y, want.y, device, what);
            } else {
                cr_assert_null(want.y, "%s: the cpu takes %s: add it to the row's dtypes", what, nb_dtype_name(dt));
                cr_assert_null(got.y, "%s: the cpu refuses it (%s) but %s gives a result", what, want.error, dev);
                cr_assert_eq(got.status, want.status, "%s: %s refuses it with %s (%s), the cpu with %s (%s)", what,
                             dev, nb_status_name(got.status), got.error, nb_status_name(want.status), want.error);
            }
            if (takes && r->nodes && is_floating(dt)) {
                outcome gwant = run_case(r, c, dt, CPU, true), ggot = run_case(r, c, dt, device, true);
                describe(what, sizeof what, r, c, dt, "backward");
                cr_assert_not_null(gwant.y, "%s: the cpu refuses it: %s", what, gwant.error);
                cr_assert_not_null(ggot.y, "%s: %s refuses it: %s", what, dev, ggot.error);
                cr_assert_eq(ggot.n_grads, gwant.n_grads);
                cr_assert_gt(gwant.n_grads, 0, "%s: no input takes a gradient", what);
                cuda_assert_match(ggot.y, gwant.y, device, what);
                for (int k = 0, input = 0; k < ggot.n_grads; k++, input++) {
                    while (input < n_in && !takes_grad(r->in[input], dt)) input++;
                    char part[600];
                    snprintf(part, sizeof part, "%s: the gradient of input %d", what, input);
                    cuda_assert_match(ggot.grads[k], gwant.grads[k], device, part);
                }
            }
            cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
        }
    }
}

static struct criterion_test_params every_row(void)
{
    static int index[NROWS];
    for (int i = 0; i < NROWS; i++) index[i] = i;
    return cr_make_param_array(int, index, NROWS);
}

/* ================================================================ everywhere: the table itself */

Test(cuda_parity, every_public_op_has_a_row, .init = nb_test_setup)
{
    static char declared[256][64];
    int n = 0;
    for (size_t h = 0; h < sizeof public_headers / sizeof public_headers[0]; h++)
        n = parity_tensor_functions(public_headers[h], declared, n, 256);
    /* the reading itself: too few names, or none of the known ones, means the parse broke */
    cr_assert_gt(n, 100, "only %d functions returning nb_tensor * found in the headers", n);
    bool has_add = false, has_softmax = false;
    for (int i = 0; i < n; i++) {
        has_add = has_add || strcmp(declared[i], "nb_add") == 0;
        has_softmax = has_softmax || strcmp(declared[i], "nb_softmax") == 0;
    }
    cr_assert(has_add && has_softmax, "nb_add or nb_softmax is missing from the functions read");

    char missing[4096] = "";
    int n_missing = 0;
    for (int i = 0; i < n; i++) {
        bool excluded = false, covered = false;
        for (size_t e = 0; e < sizeof not_device_ops / sizeof not_device_ops[0]; e++)
            excluded = excluded || strcmp(not_device_ops[e].name, declared[i]) == 0;
        for (int r = 0; r < NROWS && !covered; r++) covered = parity_list_has(rows[r].ops, declared[i]);
        cr_assert(!(excluded && covered), "%s is listed as not a device op but has a row", declared[i]);
        if (excluded || covered) continue;
        n_missing++;
        strncat(missing, " ", sizeof missing - strlen(missing) - 1);
        strncat(missing, declared[i], sizeof missing - strlen(missing) - 1);
    }
    cr_assert_eq(n_missing, 0, "%d public ops have no parity row:%s", n_missing, missing);

    /* no stale names: every exclusion and every op a row names is declared */
    for (size_t e = 0; e < sizeof not_device_ops / sizeof not_device_ops[0]; e++) {
        bool found = false;
        for (int i = 0; i < n && !found; i++) found = strcmp(declared[i], not_device_ops[e].name) == 0;
        cr_assert(found, "%s (not a device op: %s) is no longer declared", not_device_ops[e].name,
                  not_device_ops[e].why);
    }
    for (int r = 0; r < NROWS; r++)
        for (const char *p = rows[r].ops; *p;) {
            char op[64];
            size_t len = strcspn(p, " ");
            snprintf(op, sizeof op, "%.*s", (int)len, p);
            p += len + (p[len] == ' ');
            bool found = false;
            for (int i = 0; i < n && !found; i++) found = strcmp(declared[i], op) == 0;
            for (size_t i = 0; i < sizeof pointer_result_ops / sizeof pointer_result_ops[0] && !found; i++)
                found = strcmp(pointer_result_ops[i], op) == 0;
            cr_assert(found, "row \"%s\" names %s, which no public header declares", rows[r].what, op);
        }
}

Test(cuda_parity, every_autograd_node_kind_is_claimed_by_a_row, .init = nb_test_setup)
{
    const char *names[128];
    int count = nb__autograd_node_names(names, 128);
    cr_assert(count > 0 && count <= 128);
    char missing[2048] = "";
    int n_missing = 0;
    for (int i = 0; i < count; i++) {
        bool claimed = false;
        for (int r = 0; r < NROWS && !claimed; r++) claimed = rows[r].nodes && parity_list_has(rows[r].nodes, names[i]);
        if (claimed) continue;
        n_missing++;
        strncat(missing, " ", sizeof missing - strlen(missing) - 1);
        strncat(missing, names[i], sizeof missing - strlen(missing) - 1);
    }
    cr_assert_eq(n_missing, 0, "%d node kinds have no parity row:%s", n_missing, missing);
}

Test(cuda_parity, every_row_is_well_formed, .init = nb_test_setup)
{
    for (int r = 0; r < NROWS; r++) {
        const row *w = &rows[r];
        const int n = (int)strlen(w->in);
        cr_assert(w->what && w->ops && *w->ops && w->fn, "row %d is incomplete", r);
        cr_assert(n <= 3 && (n > 0) == (w->fam != NO_INPUTS), "%s: %d inputs for its family", w->what, n);
        cr_assert(w->dtypes != 0 && (w->dtypes & ~ALL) == 0, "%s: dtypes %#x", w->what, w->dtypes);
        cr_assert(strspn(w->in, "FPMIL") == (size_t)n, "%s: unknown input kind in \"%s\"", w->what, w->in);
        if (w->nodes)
            cr_assert(*w->nodes && (w->dtypes & FLOATS) && strpbrk(w->in, "FP"),
                      "%s: claims nodes without a floating input", w->what);
    }
}

ParameterizedTestParameters(cuda_parity, every_row_runs_cpu_against_cpu) { return every_row(); }

/* The table is sound: each row runs on the CPU for the dtypes it lists (and is refused for the
 * others), records the nodes it claims, and gives the same results twice. */
ParameterizedTest(int *index, cuda_parity, every_row_runs_cpu_against_cpu, .init = nb_test_setup)
{
    check_row(&rows[*index], CPU);
}

/* ================================================================ on the device */

/* Without a device every row would skip alike: then one instance reports the skip. */
ParameterizedTestParameters(cuda_parity, every_row_matches_on_cuda)
{
    static int none[1] = {-1};
    if (nb_cuda_device_count() == 0) return cr_make_param_array(int, none, 1);
    return every_row();
}

ParameterizedTest(int *index, cuda_parity, every_row_matches_on_cuda, .init = cuda_test_setup)
{
    cr_assert_geq(*index, 0, "no row: the device appeared after the test list was made");
    check_row(&rows[*index], GPU);
}

/* ================================================================ float16 and bfloat16 */

/* Rows run again with float16 and bfloat16 inputs ('F' and 'P'; lib/half.c computes them in
 * float32 and rounds once): the conversions, data movement and one or two rows of each op family.
 * Forward and, where the row records nodes, the gradients (in the half dtype). */
static const char *const half_rows[] = {
    "fill_(empty((3, 7)), 2.5)", "full((3, 7), -2.75)", "arange(-3, 7, 0.5)", "zeros_like(a)",
    "to_dtype(a, the other float)", "to_dtype(a, its own dtype)", "to_dtype(a, int64)", "to_dtype(a, bool)",
    "to(to(a, cpu), device)", "contiguous(a)", "cat((a^T, b^T), -1)", "stack((a, b), 1)",
    "index_select(a, -1, 3 indices)", "gather(a, 1, 3 along dim 1)", "scatter_add(a, 0, all of dim 0, b)",
    "index_add(a, 0, 3 indices, b[:3], -1.5)", "where(mask, a, b)", "masked_fill(a, mask, 2.5)",
    "exp(a)", "gelu(a)", "a ^ 0.5", "a + b", "a * b (b bool: promotion)", "a / b", "maximum(a, b)", "a < b",
    "a += b", "a += 0.75 b", "copy_(a, b)", "sum(a)", "mean_dim(a, 0, keepdim)", "amax(a, [0, -1])",
    "var(a, [0, -1])", "logsumexp(a, [-1])", "norm(a, 2, [0, -1])", "argmax(a)", "prod_dim(a, 1)",
    "cumsum(a, 1)", "topk(a, 2, -1) values", "mm(a, b)", "matmul(a, b) batched", "softmax(a, -1)",
    "log_softmax(a, 1)", "cross_entropy(logits, labels)", "nll_loss(log_softmax(logits), labels, weight)",
    "layer_norm(x, w.shape, w, b)", "rms_norm(x, w.shape, w)", "mse_loss(a, b)", "huber_loss(a, b, mean, 1.25)",
    "bce_with_logits(a, b)",
    /* the products on CUDA run cuBLAS's half GEMM (float32 accumulation, one rounding) where the
     * CPU rounds BLIS's float32 product once: within cuda_assert_match's half tolerances
     * (normalised MSE 1e-6 for float16, 3e-5 for bfloat16: a unit in the last place here and there) */
    "matmul(a, b) as one 2-D product",
    /* the convolutions and attention: on CUDA in the half dtype (half columns and GEMMs, which
     * round the product before the bias is added; attention's kernels widen half tiles and round
     * each output once), on the CPU through float32 (autocast casts to them) */
    "conv2d(x, w, b, stride (2,1), padding 1, dilation (1,2))", "conv2d(x[:, :2], w[:, :1], b, stride (1,2), groups 2)",
    "conv1d(x[:, :, 0], w[:, :, 0], b, stride 2, padding 1)",
    "conv_transpose2d(x, w.transpose(0, 1), b, stride 2, padding (1,0), output_padding 1)", "sdpa(q, k, v)",
    "sdpa(q, k, v, bool mask tril(ones(L, S), 1))", "sdpa(q, k, v, additive mask -2 tril(ones(L, S)))",
    /* pooling too (batch norm takes a half input with float32 parameters and statistics: suite amp) */
    "max_pool2d(x, (3,2), (2,1), (1,1), (1,2), ceil)", "max_pool2d(x, (3,2), (2,1), (1,1), (1,2), ceil) indices",
    "avg_pool2d(x, 3, 2, 1, ceil, count_include_pad=False)", "adaptive_avg_pool2d(x, (3,5))",
    /* random draws: float32's counters and values, rounded once on every device */
    "seed 77; rand((5, 6))", "seed 37; randn((333, 1031))", "seed 31; randint(-4, 9, (5, 6))",
    "seed 41; bernoulli(sigmoid(a))", "seed 47; multinomial(a, 7, replacement)", "seed 59; uniform_(a, -1, 2)",
    /* the optimizers step half parameters (fused kernels: float32 per element, rounded once) and
     * clip half gradients */
    "sgd(momentum 0.9, nesterov, decay 0.01): 3 steps of leaves a, b with grads b, a",
    "adam(0.01, decay 0.01): 3 steps of leaves a, b with grads b, a",
    "adamw(0.01, decay 0.01): 3 steps of leaves a, b with grads b, a", "clip_grad_norm_tensor_(grads a, b; 0.5, 2)",
    "clip_grad_norm_tensor_(grads a, b; 0.25, inf)", "clip_grad_norm_tensor_(grads a, b; 1e6, 3)",
};
#define NHALF (int)(sizeof half_rows / sizeof half_rows[0])

static const row *row_named(const char *what)
{
    for (int r = 0; r < NROWS; r++)
        if (strcmp(rows[r].what, what) == 0) return &rows[r];
    cr_assert_fail("no parity row \"%s\"", what);
    return NULL;
}

/* Row r at float16 and bfloat16 on device against the CPU: the same results, and gradients. */
static void check_row_half(const row *r, nb_device device)
{
    const pcase *cases = families[r->fam].cases;
    const int n_cases = families[r->fam].count;
    char what[512], dev[32];
    cuda_device_string(device, dev, sizeof dev);
    static const nb_dtype halves[2] = {NB_FLOAT16, NB_BFLOAT16};
    for (int d = 0; d < 2; d++) {
        const nb_dtype dt = halves[d];
        for (int i = 0; i < n_cases; i++) {
            nb_scope_begin();
            outcome want = run_case(r, &cases[i], dt, CPU, false), got = run_case(r, &cases[i], dt, device, false);
            describe(what, sizeof what, r, &cases[i], dt, "forward");
            cr_assert_not_null(want.y, "%s: the cpu refuses it: %s", what, want.error);
            cr_assert_not_null(got.y, "%s: %s refuses it: %s", what, dev, got.error);
            cuda_assert_match(got.y, want.y, device, what);
            if (r->nodes && is_floating(nb_dtype_of(want.y)) && !(r->flags & CROSS_DEVICE)) {
                outcome gwant = run_case(r, &cases[i], dt, CPU, true), ggot = run_case(r, &cases[i], dt, device, true);
                describe(what, sizeof what, r, &cases[i], dt, "backward");
                cr_assert_eq(ggot.n_grads, gwant.n_grads);
                for (int k = 0; k < ggot.n_grads; k++) {
                    cr_assert_eq(nb_dtype_of(gwant.grads[k]), dt, "%s: a %s gradient", what,
                                 nb_dtype_name(nb_dtype_of(gwant.grads[k])));
                    cuda_assert_match(ggot.grads[k], gwant.grads[k], device, what);
                }
            }
            cr_assert_eq(nb_scope_end(), NB_OK, "%s: %s", what, nb_last_error());
        }
    }
}

static struct criterion_test_params every_half_row(void)
{
    static int index[NHALF];
    for (int i = 0; i < NHALF; i++) index[i] = i;
    return cr_make_param_array(int, index, NHALF);
}

ParameterizedTestParameters(cuda_parity, half_rows_run_cpu_against_cpu) { return every_half_row(); }

ParameterizedTest(int *index, cuda_parity, half_rows_run_cpu_against_cpu, .init = nb_test_setup)
{
    check_row_half(row_named(half_rows[*index]), CPU);
}

ParameterizedTestParameters(cuda_parity, half_rows_match_on_cuda)
{
    static int none[1] = {-1};
    if (nb_cuda_device_count() == 0) return cr_make_param_array(int, none, 1);
    return every_half_row();
}

ParameterizedTest(int *index, cuda_parity, half_rows_match_on_cuda, .init = cuda_test_setup)
{
    cr_assert_geq(*index, 0, "no row: the device appeared after the test list was made");
    check_row_half(row_named(half_rows[*index]), GPU);
}

/* ---------------------------------------------------------------- optimizers */

/* A linear layer made on device from seed 21, trained three steps on an MSE loss by SGD with
 * momentum or by Adam. out: the initial weight, the weight's first gradient, and the weight and
 * bias after the steps (all on device, in the open scope). */
static void train_linear(nb_device device, bool adam, nb_tensor *out[4])
{
    static const parity_spec x_spec = {D2(8, 5), TRANSPOSED}, y_spec = {D2(8, 3), CONTIG};
    nb_tensor *x = parity_input(&x_spec, 'F', NB_FLOAT32, device, 31, NULL);
    nb_tensor *y = parity_input(&y_spec, 'F', NB_FLOAT32, device, 32, NULL);
    nb_manual_seed(21);
    nb_linear *layer = nb_linear_new(5, 3, true, NB_OPTS(NB_FLOAT32, .device = device));
    cr_assert_not_null(layer, "%s", nb_last_error());
    out[0] = nb_clone(nb_detach(layer->weight));
    nb_params *params = nb_params_new();
    cr_assert_eq(nb_linear_params(layer, params), NB_OK, "%s", nb_last_error());
    nb_optimizer *opt = adam ? nb_adam_new(params, (nb_adam_options){.lr = 1e-2, .weight_decay = 1e-2})
                             : nb_sgd_new(params, (nb_sgd_options){.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2});
    cr_assert_not_null(opt, "%s", nb_last_error());
    for (int step = 0; step < 3; step++) {
        nb_scope_begin();
        nb_tensor *loss = nb_mse_loss(nb_linear_forward(layer, x), y);
        cr_assert_eq(nb_backward(loss), NB_OK, "step %d: %s", step, nb_last_error());
        if (step == 0) out[1] = nb_keep(nb_clone(nb_grad(layer->weight)));
        cr_assert_eq(nb_optimizer_step(opt), NB_OK, "step %d: %s", step, nb_last_error());
        nb_optimizer_zero_grad(opt);
        cr_assert_eq(nb_scope_end(), NB_OK, "step %d: %s", step, nb_last_error());
    }
    out[2] = nb_clone(nb_detach(layer->weight));
    out[3] = nb_clone(nb_detach(layer->bias));
    nb_optimizer_free(opt);
    nb_params_free(params);
    nb_linear_free(layer);
}

static void check_training(nb_device device, bool adam)
{
    static const char *const parts[4] = {"the initial weight (seed 21)", "the first gradient of the weight",
                                         "the weight after 3 steps", "the bias after 3 steps"};
    nb_scope_begin();
    nb_tensor *want[4], *got[4];
    train_linear(CPU, adam, want);
    train_linear(device, adam, got);
    for (int k = 0; k < 4; k++) {
        char what[128];
        snprintf(what, sizeof what, "%s: %s", adam ? "Adam" : "SGD with momentum", parts[k]);
        cuda_assert_match(got[k], want[k], device, what);
    }
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda_parity, sgd_with_momentum_steps_match_the_cpu, .init = cuda_test_setup) { check_training(GPU, false); }
Test(cuda_parity, adam_steps_match_the_cpu, .init = cuda_test_setup) { check_training(GPU, true); }

/* ---------------------------------------------------------------- float64 gradcheck */

#define GC_FN(name, expr)                                                                        \
    static nb_tensor *name(int n, nb_tensor *const *in, void *ctx)                               \
    {                                                                                            \
        (void)n, (void)ctx;                                                                      \
        return (expr);                                                                           \
    }

GC_FN(gc_mm, nb_mm(A, B))
GC_FN(gc_mul, nb_mul(A, B))
GC_FN(gc_sum_dim, nb_sum_dim(A, 1, false))
GC_FN(gc_clamp, nb_clamp(A, -0.5, 0.5))
GC_FN(gc_softmax, nb_softmax(A, 1))
GC_FN(gc_gather, nb_gather(A, 1, index_like(A, 1, 3)))
GC_FN(gc_embedding, nb_embedding(A, index_values(A, NB_SHAPE(7), nb_size(A, 0)), NB_NO_PADDING))
GC_FN(gc_conv2d, nb_conv2d(A, B, NULL, &(nb_conv2d_options){.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}, .groups = 1}))
GC_FN(gc_conv_transpose2d, nb_conv_transpose2d(A, B, NULL,
                                               &(nb_conv_transpose2d_options){.stride = {2, 1},
                                                                              .padding = {1, 0},
                                                                              .output_padding = {1, 0},
                                                                              .groups = 2,
                                                                              .dilation = {1, 1}}))
GC_FN(gc_max_pool2d, nb_max_pool2d(A, &max_pool_opts))
GC_FN(gc_avg_pool2d, nb_avg_pool2d(A, &(nb_avg_pool2d_options){.kernel_size = {3, 2}, .stride = {2, 1},
                                                                .padding = {1, 1}, .ceil_mode = true}))
GC_FN(gc_adaptive_avg_pool2d, nb_adaptive_avg_pool2d(A, 3, 4))
GC_FN(gc_batch_norm, nb_batch_norm(A, NULL, NULL, B, NULL, true, 0.1, 1e-5))
GC_FN(gc_sdpa, nb_scaled_dot_product_attention(A, B, B, &(nb_sdpa_options){.is_causal = true}))

static const struct {
    const char *what;
    nb_grad_fn fn;
    int n;
    parity_spec in[2];
} gradcheck_rows[] = {
    {"mm(a(3,4) transposed, b(4,2))", gc_mm, 2, {{D2(3, 4), TRANSPOSED}, {D2(4, 2), CONTIG}}},
    {"mul(a(2,3), b(2,1)) broadcast", gc_mul, 2, {{D2(2, 3), NARROWED}, {D2(2, 1), CONTIG}}},
    {"sum_dim(a(2,3,2), 1)", gc_sum_dim, 1, {{D3(2, 3, 2), ROTATED}}},
    {"clamp(a(3,4), -0.5, 0.5)", gc_clamp, 1, {{D2(3, 4), CONTIG}}},
    {"softmax(a(3,4), 1)", gc_softmax, 1, {{D2(3, 4), TRANSPOSED}}},
    {"gather(a(3,4), 1, 3 along dim 1)", gc_gather, 1, {{D2(3, 4), TRANSPOSED}}},
    {"embedding(a(5,3), 7 indices with duplicates)", gc_embedding, 1, {{D2(5, 3), NARROWED}}},
    {"conv2d(a(2,2,5,6), b(3,2,3,2)), stride (2,1), padding (1,0), dilation (1,2)", gc_conv2d, 2,
     {{D4(2, 2, 5, 6), TRANSPOSED}, {D4(3, 2, 3, 2), CONTIG}}},
    {"conv_transpose2d(a(1,4,3,3), b(4,1,2,3)), stride (2,1), padding (1,0), output_padding (1,0), groups 2",
     gc_conv_transpose2d, 2, {{D4(1, 4, 3, 3), CONTIG}, {D4(4, 1, 2, 3), NARROWED}}},
    {"max_pool2d(a(2,2,5,6), (3,2), (2,1), (1,1), (1,2), ceil)", gc_max_pool2d, 1, {{D4(2, 2, 5, 6), TRANSPOSED}}},
    {"avg_pool2d(a(2,5,6), (3,2), (2,1), (1,1), ceil, count_include_pad=False)", gc_avg_pool2d, 1,
     {{D3(2, 5, 6), ROTATED}}},
    {"adaptive_avg_pool2d(a(1,2,5,7), (3,4))", gc_adaptive_avg_pool2d, 1, {{D4(1, 2, 5, 7), CONTIG}}},
    {"batch_norm(a(4,3) transposed, weight b(3), training)", gc_batch_norm, 2,
     {{D2(4, 3), TRANSPOSED}, {D1(3), CONTIG}}},
    {"sdpa(q a(2,4,3) transposed, k = v = b(2,5,3), causal)", gc_sdpa, 2, {{D3(2, 4, 3), TRANSPOSED}, {D3(2, 5, 3), CONTIG}}},
};

static void gradcheck_on(nb_device device)
{
    char dev[32];
    cuda_device_string(device, dev, sizeof dev);
    for (size_t r = 0; r < sizeof gradcheck_rows / sizeof gradcheck_rows[0]; r++) {
        nb_scope_begin();
        nb_tensor *in[2];
        for (int k = 0; k < gradcheck_rows[r].n; k++)
            in[k] = nb_requires_grad_(
                nb_detach(parity_input(&gradcheck_rows[r].in[k], 'F', NB_FLOAT64, device, 40 + (uint64_t)k, NULL)),
                true);
        nb_status st = nb_gradcheck(gradcheck_rows[r].fn, NULL, gradcheck_rows[r].n, in);
        cr_assert_eq(st, NB_OK, "gradcheck of %s on %s: %s", gradcheck_rows[r].what, dev, nb_last_error());
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

Test(cuda_parity, float64_gradcheck_passes_on_cuda, .init = cuda_test_setup) { gradcheck_on(GPU); }

/* The optimizer and gradcheck checks above, CPU against CPU: they are sound without a device. */
Test(cuda_parity, optimizer_and_gradcheck_checks_run_on_the_cpu, .init = nb_test_setup)
{
    check_training(CPU, false);
    check_training(CPU, true);
    gradcheck_on(CPU);
}
