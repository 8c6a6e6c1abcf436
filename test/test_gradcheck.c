/* test_gradcheck.c — the gradcheck table: every differentiable op's backward against float64
 * central differences, with broadcast and non-contiguous inputs. A node kind that nabla records
 * but no row exercises makes the suite fail. */
#include "helpers.h"

#include <string.h>

/* internals the table checks itself against (lib/autograd/names.c) */
int nb__autograd_node_names(const char **names, int cap);
bool nb__autograd_graph_has(const nb_tensor *t, const char *name);

enum { POSITIVE = 1, NONCONTIG = 2, NEEDS_CUDA = 4 }; /* NEEDS_CUDA: skipped without a CUDA device */

typedef struct input_spec {
    int ndim;
    int64_t shape[4];
    int flags;
} input_spec;

typedef struct gc_row {
    const char *node; /* the node kind this row exercises */
    const char *what; /* the expression, for failure messages */
    nb_grad_fn fn;
    int n;
    input_spec in[3];
} gc_row;

#define A in[0]
#define B in[1]
#define FN(name, expr)                                                                           \
    static nb_tensor *name(int n, nb_tensor *const *in, void *ctx)                               \
    {                                                                                            \
        (void)n, (void)ctx;                                                                      \
        return (expr);                                                                           \
    }

FN(f_neg, nb_neg(A))
FN(f_abs, nb_abs(A))
FN(f_exp, nb_exp(A))
FN(f_log, nb_log(A))
FN(f_sqrt, nb_sqrt(A))
FN(f_sigmoid, nb_sigmoid(A))
FN(f_tanh, nb_tanh(A))
FN(f_relu, nb_relu(A))
FN(f_clamp, nb_clamp(A, -0.5, 0.5))
FN(f_clamp_min, nb_clamp_min(A, 0.1))
FN(f_add_scalar, nb_add_scalar(A, 2.0))
FN(f_sub_scalar, nb_sub_scalar(A, 2.0))
FN(f_mul_scalar, nb_mul_scalar(A, -3.0))
FN(f_div_scalar, nb_div_scalar(A, 4.0))
FN(f_rsub_scalar, nb_rsub_scalar(A, 1.0))
FN(f_pow3, nb_pow_scalar(A, 3.0))
FN(f_pow_half, nb_pow_scalar(A, 0.5))
FN(f_square, nb_pow_scalar(A, 2.0))
FN(f_add, nb_add(A, B))
FN(f_sub, nb_sub(A, B))
FN(f_mul, nb_mul(A, B))
FN(f_div, nb_div(A, B))
FN(f_pow, nb_pow(A, B))
FN(f_maximum, nb_maximum(A, B))
FN(f_minimum, nb_minimum(A, B))
FN(f_masked_fill, nb_masked_fill(A, nb_gt_scalar(A, 0.0), 0.0))
FN(f_where, nb_where(nb_gt_scalar(A, 0.0), A, B))
FN(f_reshape, nb_reshape(A, NB_SHAPE(3, 2)))
FN(f_squeeze, nb_squeeze(nb_unsqueeze(A, 1)))
FN(f_permute, nb_permute(A, NB_DIMS(2, 0, 1)))
FN(f_t, nb_t(A))
FN(f_narrow, nb_narrow(A, 1, 1, 2))
FN(f_select, nb_select(A, 0, 1))
FN(f_expand, nb_expand(A, NB_SHAPE(2, 3, 4)))
FN(f_clone, nb_clone(A))
FN(f_contiguous, nb_contiguous(A))
FN(f_cat, nb_cat(2, (nb_tensor *const[]){A, B}, 0))
/* to cuda:0, exp there, and back: the gradient crosses devices twice */
FN(f_to_cuda_and_back, nb_to(nb_exp(nb_to(A, NB_DEVICE_CUDA(0))), NB_DEVICE_CPU))
FN(f_sum, nb_sum(A))
FN(f_sum_dim, nb_sum_dim(A, 1, false))
FN(f_mean, nb_mean(A))
FN(f_mean_dim, nb_mean_dim(A, 0, true))
FN(f_max, nb_max(A))
FN(f_max_dim, nb_max_dim(A, 1, false))
FN(f_min, nb_min(A))
FN(f_min_dim, nb_min_dim(A, -1, true))
FN(f_mm, nb_mm(A, B))
FN(f_matmul, nb_matmul(A, B))
FN(f_matmul_broadcast, nb_matmul(A, B))

/* in-place forms on a non-leaf, recorded through the same nodes */
static nb_tensor *f_axpy(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 1.0);
    return nb_add_scaled_(y, B, 0.5);
}

static nb_tensor *f_copy_(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 2.0);
    return nb_copy_(y, B);
}

static nb_tensor *f_fill_(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 2.0);
    return nb_add(nb_fill_(y, 3.0), B);
}

static nb_tensor *f_mul_(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 1.0);
    return nb_mul_(y, B);
}

FN(f_softmax_d0, nb_softmax(A, 0))
FN(f_softmax_d1, nb_softmax(A, 1))
FN(f_log_softmax_d0, nb_log_softmax(A, 0))
FN(f_log_softmax_d1, nb_log_softmax(A, 1))
FN(f_log_softmax_last, nb_log_softmax(A, -1))

/* int64 labels (not an input: they take no gradient), one per row of the logits */
static nb_tensor *f_cross_entropy(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    const int64_t rows = nb_size(A, 0), classes = nb_size(A, 1);
    int64_t labels[8];
    for (int64_t i = 0; i < rows && i < 8; i++) labels[i] = (i * 3 + 1) % classes;
    return nb_cross_entropy(A, nb_from_array(labels, 1, &rows, NB_OPTS(NB_INT64)));
}

/* indexing: int64 indices (not inputs), with duplicates where the op allows them */
static nb_tensor *ints(int ndim, const int64_t *shape, const int64_t *v)
{
    return nb_from_array(v, ndim, shape, NB_OPTS(NB_INT64));
}
#define IDX_DUP ints(NB_SHAPE(3), (const int64_t[]){2, 0, 2})
FN(f_index_select, nb_index_select(A, 0, IDX_DUP))
FN(f_gather, nb_gather(A, 1, ints(NB_SHAPE(3, 2), (const int64_t[]){3, 3, 0, 1, 2, 0})))
FN(f_scatter, nb_scatter(A, 1, ints(NB_SHAPE(2, 2), (const int64_t[]){3, 1, 0, 2}), B))
FN(f_scatter_add, nb_scatter_add(A, 0, ints(NB_SHAPE(2, 4), (const int64_t[]){1, 1, 0, 2, 1, 2, 0, 2}), B))
FN(f_index_add, nb_index_add(A, 0, IDX_DUP, B, 2.0))
FN(f_embedding, nb_embedding(A, ints(NB_SHAPE(2, 3), (const int64_t[]){4, 1, 4, 0, 3, 4}), 2))
FN(f_embedding_no_pad, nb_embedding(A, ints(NB_SHAPE(4), (const int64_t[]){2, 2, 0, 4}), NB_NO_PADDING))
static nb_tensor *f_scatter_add_(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 1.0);
    return nb_scatter_add_(y, 1, ints(NB_SHAPE(1, 3), (const int64_t[]){0, 0, 2}), B);
}
/* shape ops composed from recorded ops */
FN(f_stack, nb_stack(2, (nb_tensor *const[]){A, B}, 1))
static nb_tensor *f_split(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *p[3];
    if (nb_split(A, 2, 1, 3, p) != 3) return NULL;
    return nb_add(nb_mul(p[0], p[2]), p[1]);
}
FN(f_pad_constant, nb_pad(A, NB_SHAPE(1, 2, -1, 1), NB_PAD_CONSTANT, 0.5))
FN(f_pad_reflect, nb_pad(A, NB_SHAPE(2, 1), NB_PAD_REFLECT, 0))
FN(f_pad_replicate, nb_pad(A, NB_SHAPE(1, 2, 2, 0), NB_PAD_REPLICATE, 0))
FN(f_tril, nb_tril(A, 0))
FN(f_triu, nb_triu(A, 1))
FN(f_repeat, nb_repeat(A, NB_SHAPE(2, 1, 3)))
FN(f_flip, nb_flip(A, NB_DIMS(0, 1)))
FN(f_roll, nb_roll(A, NB_SHAPE(1, -2), NB_DIMS(0, 1)))

#define S1(a) 1, {a}
#define S2(a, b) 2, {a, b}
#define S3(a, b, c) 3, {a, b, c}
#define S4(a, b, c, d) 4, {a, b, c, d}
#define IN(dims, flags) {dims, flags}

static const gc_row rows[] = {
    {"NegBackward", "neg(a)", f_neg, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"AbsBackward", "abs(a)", f_abs, 1, {IN(S2(2, 3), 0)}},
    {"ExpBackward", "exp(a)", f_exp, 1, {IN(S2(3, 2), NONCONTIG)}},
    {"LogBackward", "log(a)", f_log, 1, {IN(S1(5), POSITIVE)}},
    {"SqrtBackward", "sqrt(a)", f_sqrt, 1, {IN(S2(2, 3), POSITIVE | NONCONTIG)}},
    {"SigmoidBackward", "sigmoid(a)", f_sigmoid, 1, {IN(S2(2, 3), 0)}},
    {"TanhBackward", "tanh(a)", f_tanh, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"ReluBackward", "relu(a)", f_relu, 1, {IN(S2(3, 3), 0)}},
    {"ClampBackward", "clamp(a, -0.5, 0.5)", f_clamp, 1, {IN(S2(3, 4), 0)}},
    {"ClampBackward", "clamp_min(a, 0.1)", f_clamp_min, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"AddScalarBackward", "a + 2", f_add_scalar, 1, {IN(S1(4), 0)}},
    {"AddScalarBackward", "a - 2", f_sub_scalar, 1, {IN(S2(2, 2), NONCONTIG)}},
    {"MulScalarBackward", "a * -3", f_mul_scalar, 1, {IN(S1(4), 0)}},
    {"DivScalarBackward", "a / 4", f_div_scalar, 1, {IN(S1(4), 0)}},
    {"RsubScalarBackward", "1 - a", f_rsub_scalar, 1, {IN(S1(4), 0)}},
    {"PowScalarBackward", "a ^ 3", f_pow3, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"PowScalarBackward", "a ^ 0.5", f_pow_half, 1, {IN(S1(4), POSITIVE)}},
    {"SquareBackward", "a ^ 2", f_square, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"AddBackward", "a(3,1) + b(4)", f_add, 2, {IN(S2(3, 1), 0), IN(S1(4), 0)}},
    {"SubBackward", "a(2,3) - b(3)", f_sub, 2, {IN(S2(2, 3), NONCONTIG), IN(S1(3), 0)}},
    {"MulBackward", "a(2,3) * b(2,1)", f_mul, 2, {IN(S2(2, 3), NONCONTIG), IN(S2(2, 1), 0)}},
    {"DivBackward", "a(2,3) / b(3)", f_div, 2, {IN(S2(2, 3), 0), IN(S1(3), POSITIVE)}},
    {"PowBackward", "a(2,3) ^ b(3)", f_pow, 2, {IN(S2(2, 3), POSITIVE), IN(S1(3), 0)}},
    {"MaximumBackward", "maximum(a(2,3), b(3))", f_maximum, 2, {IN(S2(2, 3), NONCONTIG), IN(S1(3), 0)}},
    {"MinimumBackward", "minimum(a(3,1), b(3,4))", f_minimum, 2, {IN(S2(3, 1), 0), IN(S2(3, 4), NONCONTIG)}},
    {"AxpyBackward", "(a * 1) += 0.5 b", f_axpy, 2, {IN(S2(2, 3), 0), IN(S1(3), 0)}},
    {"MulBackward", "(a * 1) *= b", f_mul_, 2, {IN(S2(2, 3), 0), IN(S2(2, 3), NONCONTIG)}},
    {"MaskedFillBackward", "masked_fill(a, a > 0, 0)", f_masked_fill, 1, {IN(S2(3, 3), NONCONTIG)}},
    {"WhereBackward", "where(a > 0, a(2,3), b(3))", f_where, 2, {IN(S2(2, 3), 0), IN(S1(3), 0)}},
    {"ReshapeBackward", "reshape(a(2,3), (3,2))", f_reshape, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"ReshapeBackward", "squeeze(unsqueeze(a, 1))", f_squeeze, 1, {IN(S2(2, 3), 0)}},
    {"PermuteBackward", "permute(a(2,3,4), (2,0,1))", f_permute, 1, {IN(S3(2, 3, 4), 0)}},
    {"PermuteBackward", "t(a)", f_t, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"NarrowBackward", "narrow(a, 1, 1, 2)", f_narrow, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"SelectBackward", "select(a, 0, 1)", f_select, 1, {IN(S2(3, 4), 0)}},
    {"ExpandBackward", "expand(a(3,1), (2,3,4))", f_expand, 1, {IN(S2(3, 1), 0)}},
    {"CloneBackward", "clone(a)", f_clone, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"CloneBackward", "contiguous(a)", f_contiguous, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"CopyBackward", "(a * 2).copy_(b)", f_copy_, 2, {IN(S2(2, 3), 0), IN(S1(3), 0)}},
    {"FillBackward", "(a * 2).fill_(3) + b", f_fill_, 2, {IN(S1(3), 0), IN(S1(3), 0)}},
    {"CatBackward", "cat(a(2,3), b(1,3))", f_cat, 2, {IN(S2(2, 3), NONCONTIG), IN(S2(1, 3), 0)}},
    {"ToBackward", "to(exp(to(a, cuda:0)), cpu)", f_to_cuda_and_back, 1, {IN(S2(2, 3), NONCONTIG | NEEDS_CUDA)}},
    {"SumBackward", "sum(a)", f_sum, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"SumBackward", "sum(a, 1)", f_sum_dim, 1, {IN(S3(2, 3, 2), 0)}},
    {"MeanBackward", "mean(a)", f_mean, 1, {IN(S2(2, 3), 0)}},
    {"MeanBackward", "mean(a, 0, keepdim)", f_mean_dim, 1, {IN(S2(3, 2), NONCONTIG)}},
    {"MaxBackward", "max(a)", f_max, 1, {IN(S2(2, 3), 0)}},
    {"MaxBackward", "max(a, 1)", f_max_dim, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"MinBackward", "min(a)", f_min, 1, {IN(S1(5), 0)}},
    {"MinBackward", "min(a, -1, keepdim)", f_min_dim, 1, {IN(S2(2, 4), 0)}},
    {"MmBackward", "mm(a(3,4), b(4,2))", f_mm, 2, {IN(S2(3, 4), NONCONTIG), IN(S2(4, 2), 0)}},
    {"MmBackward", "mm(a(3,4), b(4,2) transposed)", f_mm, 2, {IN(S2(3, 4), 0), IN(S2(4, 2), NONCONTIG)}},
    {"BmmBackward", "matmul(a(2,3,4), b(2,4,2))", f_matmul, 2, {IN(S3(2, 3, 4), 0), IN(S3(2, 4, 2), 0)}},
    {"BmmBackward", "matmul(a(2,1,3,4), b(3,4,2))", f_matmul_broadcast, 2,
     {IN(S4(2, 1, 3, 4), 0), IN(S3(3, 4, 2), 0)}},
    {"SoftmaxBackward", "softmax(a, 1)", f_softmax_d1, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"SoftmaxBackward", "softmax(a, 0)", f_softmax_d0, 1, {IN(S2(3, 4), 0)}},
    {"SoftmaxBackward", "softmax(a(2,3,4), 1)", f_softmax_d1, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"LogSoftmaxBackward", "log_softmax(a, -1)", f_log_softmax_last, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"LogSoftmaxBackward", "log_softmax(a(2,3,4), 0)", f_log_softmax_d0, 1, {IN(S3(2, 3, 4), NONCONTIG)}},
    {"LogSoftmaxBackward", "log_softmax(a(2,3,4), 1)", f_log_softmax_d1, 1, {IN(S3(2, 3, 4), 0)}},
    {"CrossEntropyBackward", "cross_entropy(a(4,5), labels)", f_cross_entropy, 1, {IN(S2(4, 5), NONCONTIG)}},
    {"CrossEntropyBackward", "cross_entropy(a(3,2), labels)", f_cross_entropy, 1, {IN(S2(3, 2), 0)}},
    {"IndexSelectBackward", "index_select(a(4,3), 0, [2, 0, 2])", f_index_select, 1, {IN(S2(4, 3), NONCONTIG)}},
    {"GatherBackward", "gather(a(3,4), 1, (3,2) with duplicates)", f_gather, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"ScatterBackward", "scatter(a(2,4), 1, (2,2), b(2,3))", f_scatter, 2, {IN(S2(2, 4), 0), IN(S2(2, 3), NONCONTIG)}},
    {"ScatterAddBackward", "scatter_add(a(3,4), 0, (2,4) with duplicates, b(2,4))", f_scatter_add, 2,
     {IN(S2(3, 4), NONCONTIG), IN(S2(2, 4), 0)}},
    {"ScatterAddBackward", "(a * 1).scatter_add_(1, (1,3), b(2,3))", f_scatter_add_, 2, {IN(S2(2, 4), 0), IN(S2(2, 3), 0)}},
    {"IndexAddBackward", "index_add(a(4,3), 0, [2, 0, 2], b(3,3), 2)", f_index_add, 2,
     {IN(S2(4, 3), 0), IN(S2(3, 3), NONCONTIG)}},
    {"EmbeddingBackward", "embedding(a(5,3), (2,3), padding 2: a row no index names)", f_embedding, 1, {IN(S2(5, 3), NONCONTIG)}},
    {"EmbeddingBackward", "embedding(a(5,3), (4,))", f_embedding_no_pad, 1, {IN(S2(5, 3), 0)}},
    {"CatBackward", "stack((a, b), 1)", f_stack, 2, {IN(S2(2, 3), NONCONTIG), IN(S2(2, 3), 0)}},
    {"NarrowBackward", "split(a(2,6), 2, 1): p0 * p2 + p1", f_split, 1, {IN(S2(2, 6), NONCONTIG)}},
    {"CatBackward", "pad(a(3,4), (1, 2, -1, 1), 0.5)", f_pad_constant, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"IndexSelectBackward", "pad(a(2,4), (2, 1), reflect)", f_pad_reflect, 1, {IN(S2(2, 4), NONCONTIG)}},
    {"IndexSelectBackward", "pad(a(2,3,3), (1, 2, 2, 0), replicate)", f_pad_replicate, 1, {IN(S3(2, 3, 3), 0)}},
    {"WhereBackward", "tril(a(3,4))", f_tril, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"WhereBackward", "triu(a(2,3,4), 1)", f_triu, 1, {IN(S3(2, 3, 4), 0)}},
    {"ExpandBackward", "repeat(a(2,3), (2, 1, 3))", f_repeat, 1, {IN(S2(2, 3), NONCONTIG)}},
    {"IndexSelectBackward", "flip(a(3,4), (0, 1))", f_flip, 1, {IN(S2(3, 4), NONCONTIG)}},
    {"CatBackward", "roll(a(3,4), (1, -2), (0, 1))", f_roll, 1, {IN(S2(3, 4), 0)}},
};
#define NROWS ((int)(sizeof rows / sizeof rows[0]))

static nb_tensor *make_input(const input_spec *s)
{
    nb_tensor *t = nb_randn(s->ndim, s->shape, NB_OPTS(NB_FLOAT64));
    if (s->flags & POSITIVE) {
        nb_tensor *p = nb_add_scalar(nb_abs(t), 0.5);
        t = p;
    }
    if (s->flags & NONCONTIG) {
        t = noncontig(t);
        cr_assert(!nb_is_contiguous(t) || s->ndim < 2);
    }
    return nb_requires_grad_(nb_detach(t), true);
}

static void run_row(const gc_row *r)
{
    if ((r->in[0].flags & NEEDS_CUDA) && nb_cuda_device_count() == 0) return;
    nb_scope_begin();
    nb_manual_seed(1234);
    nb_tensor *inputs[3] = {0};
    for (int k = 0; k < r->n; k++) inputs[k] = make_input(&r->in[k]);
    nb_tensor *y = r->fn(r->n, inputs, NULL);
    cr_assert(y != NULL, "%s: %s", r->what, nb_last_error());
    cr_assert(nb__autograd_graph_has(y, r->node), "%s does not record %s (top node %s)", r->what,
              r->node, nb_grad_fn_name(y));
    nb_status st = nb_gradcheck(r->fn, NULL, r->n, inputs);
    cr_assert_eq(st, NB_OK, "%s: %s", r->what, nb_last_error());
    nb_scope_end();
}

Test(gradcheck, every_row_passes, .init = nb_test_setup)
{
    for (int i = 0; i < NROWS; i++) run_row(&rows[i]);
}

Test(gradcheck, every_recorded_node_kind_has_a_row, .init = nb_test_setup)
{
    const char *names[128];
    int count = nb__autograd_node_names(names, 128);
    cr_assert(count > 0 && count <= 128);
    for (int i = 0; i < count; i++) {
        bool covered = false;
        for (int r = 0; r < NROWS && !covered; r++) covered = strcmp(rows[r].node, names[i]) == 0;
        cr_assert(covered, "%s has a backward but no row in the gradcheck table", names[i]);
    }
}

/* 6a, of which the graph records only 2a: backward is wrong by a factor of 3 */
static nb_tensor *f_wrong(int n, nb_tensor *const *in, void *ctx)
{
    (void)n, (void)ctx;
    nb_tensor *y = nb_mul_scalar(A, 2.0);
    nb_no_grad_begin();
    nb_mul_scalar_(y, 3.0);
    nb_no_grad_end();
    return y;
}

Test(gradcheck, a_wrong_gradient_is_reported, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(3), NB_OPTS(NB_FLOAT64)), true);
    nb_tensor *inputs[1] = {x};
    cr_assert_eq(nb_gradcheck(f_wrong, NULL, 1, inputs), NB_ERR_AUTOGRAD);
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_gradcheck", "input 0 element 0", "finite differences"));
    nb_tensor *f32 = nb_requires_grad_(nb_randn(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *f32_inputs[1] = {f32};
    cr_assert_eq(nb_gradcheck(f_neg, NULL, 1, f32_inputs), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_gradcheck", "float64"));
    nb_scope_end();
}
