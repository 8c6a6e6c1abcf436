/* test_loss.c — the losses with a reduction (suite nn): nb_l1_loss, nb_smooth_l1_loss,
 * nb_huber_loss and nb_binary_cross_entropy_with_logits, their values and the gradients of both
 * inputs against PyTorch's (golden/loss, made by golden/gen_loss.py) in both dtypes, broadcast
 * and non-contiguous inputs, empty tensors, and every error. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>

typedef struct dtype_case {
    const char *tag;
    nb_dtype dtype;
    double rtol, atol;
} dtype_case;

static const dtype_case cases[2] = {
    {"f32", NB_FLOAT32, 2e-6, 1e-7},
    {"f64", NB_FLOAT64, 1e-12, 1e-15},
};

static nb_tensor *gold(const char *name, const char *tag)
{
    char path[128];
    snprintf(path, sizeof path, "loss/%s_%s", name, tag);
    return golden(path);
}

typedef nb_tensor *(*loss_fn)(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag);

static nb_tensor *l1(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag) { (void)tag; return nb_l1_loss(a, b, r); }
static nb_tensor *sl1(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag) { (void)tag; return nb_smooth_l1_loss(a, b, r, 1.0); }
static nb_tensor *sl1_b05(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag) { (void)tag; return nb_smooth_l1_loss(a, b, r, 0.5); }
static nb_tensor *sl1_b0(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag) { (void)tag; return nb_smooth_l1_loss(a, b, r, 0.0); }
static nb_tensor *huber(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag) { (void)tag; return nb_huber_loss(a, b, r, 1.5); }
static nb_tensor *huber05(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag) { (void)tag; return nb_huber_loss(a, b, r, 0.5); }
static nb_tensor *bce(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag)
{
    (void)tag;
    return nb_binary_cross_entropy_with_logits(a, b, &(nb_bce_with_logits_options){.reduction = r});
}
static nb_tensor *bce_w(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag)
{
    return nb_binary_cross_entropy_with_logits(a, b, &(nb_bce_with_logits_options){.weight = gold("bw", tag), .reduction = r});
}
static nb_tensor *bce_pw(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag)
{
    return nb_binary_cross_entropy_with_logits(a, b, &(nb_bce_with_logits_options){.pos_weight = gold("pw", tag), .reduction = r});
}
static nb_tensor *bce_wpw(nb_tensor *a, nb_tensor *b, nb_reduction r, const char *tag)
{
    return nb_binary_cross_entropy_with_logits(
        a, b, &(nb_bce_with_logits_options){.weight = gold("bw", tag), .pos_weight = gold("pw", tag), .reduction = r});
}

typedef struct loss_case {
    const char *name; /* golden NAME_y, NAME_g0, NAME_g1 */
    loss_fn fn;
    const char *a, *b;
    nb_reduction reduction;
} loss_case;

static const char *const reductions[3] = {"mean", "sum", "none"};

static void check(const dtype_case *c, const loss_case *l, bool strided)
{
    nb_scope_begin();
    nb_tensor *a = gold(l->a, c->tag), *b = gold(l->b, c->tag);
    if (strided) a = noncontig(a), b = noncontig(b);
    a = nb_requires_grad_(nb_detach(a), true);
    b = nb_requires_grad_(nb_detach(b), true);
    nb_tensor *y = l->fn(a, b, l->reduction, c->tag);
    cr_assert(y != NULL, "%s: %s", l->name, nb_last_error());
    char want[64];
    snprintf(want, sizeof want, "%s_y", l->name);
    assert_close(y, gold(want, c->tag), c->rtol, c->atol);
    nb_tensor *gy = l->reduction == NB_REDUCTION_NONE ? gold("gy", c->tag) : NULL;
    cr_assert_eq(nb_backward_ex(y, gy, false), NB_OK, "%s: %s", l->name, nb_last_error());
    snprintf(want, sizeof want, "%s_g0", l->name);
    assert_close(nb_grad(a), gold(want, c->tag), c->rtol, c->atol);
    snprintf(want, sizeof want, "%s_g1", l->name);
    assert_close(nb_grad(b), gold(want, c->tag), c->rtol, c->atol);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, regression_and_bce_losses_match_pytorch, .init = nb_test_setup)
{
    for (int k = 0; k < 2; k++) {
        for (int strided = 0; strided < 2; strided++) {
            for (int r = 0; r < 3; r++) {
                char n[4][32];
                snprintf(n[0], 32, "l1_%s", reductions[r]);
                snprintf(n[1], 32, "sl1_%s", reductions[r]);
                snprintf(n[2], 32, "huber_%s", reductions[r]);
                snprintf(n[3], 32, "bce_%s", reductions[r]);
                const loss_case each[4] = {
                    {n[0], l1, "p", "t", (nb_reduction)r},
                    {n[1], sl1, "p", "t", (nb_reduction)r},
                    {n[2], huber, "p", "t", (nb_reduction)r},
                    {n[3], bce, "x", "xt", (nb_reduction)r},
                };
                for (int i = 0; i < 4; i++) check(&cases[k], &each[i], strided);
            }
            const loss_case more[] = {
                {"l1_bcast", l1, "p", "tb", NB_REDUCTION_MEAN},
                {"sl1_b05", sl1_b05, "p", "t", NB_REDUCTION_SUM},
                {"sl1_b0", sl1_b0, "p", "t", NB_REDUCTION_MEAN},
                {"huber_bcast", huber05, "p", "tb", NB_REDUCTION_MEAN},
                {"bce_w", bce_w, "x", "xt", NB_REDUCTION_NONE},
                {"bce_pw", bce_pw, "x", "xt", NB_REDUCTION_MEAN},
                {"bce_wpw", bce_wpw, "x", "xt", NB_REDUCTION_SUM},
            };
            for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) check(&cases[k], &more[i], strided);
        }
    }
}

Test(nn, bce_keeps_the_digits_of_a_confident_right_answer, .init = nb_test_setup)
{
    /* x = 30, t = 1: the loss is log1p(e^-30) = 9.36e-14, far below float32's epsilon at 1 */
    nb_scope_begin();
    nb_tensor *x = nb_full(NB_SHAPE(1), 30.0, NB_OPTS(NB_FLOAT32));
    nb_tensor *t = nb_ones(NB_SHAPE(1), NB_OPTS(NB_FLOAT32));
    const double want = log1p(exp(-30.0));
    assert_values(nb_binary_cross_entropy_with_logits(x, t, NULL), &want, 1, 1e-6, 0);
    /* and never overflows: a wrong answer at 1000 costs 1000 */
    nb_tensor *big = nb_full(NB_SHAPE(1), 1000.0, NB_OPTS(NB_FLOAT32));
    const double want_big = 1000.0;
    assert_values(nb_binary_cross_entropy_with_logits(big, nb_zeros(NB_SHAPE(1), NB_OPTS(NB_FLOAT32)), NULL), &want_big,
                  1, 1e-7, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, losses_of_empty_tensors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *e = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    /* mean of nothing is NaN, sum 0, none an empty tensor (PyTorch's) */
    nb_tensor *mean = nb_l1_loss(e, e, NB_REDUCTION_MEAN);
    cr_assert(mean != NULL && isnan(nb_item(mean)), "%s", nb_last_error());
    cr_assert_eq(nb_item(nb_huber_loss(e, e, NB_REDUCTION_SUM, 1.0)), 0.0);
    nb_tensor *none = nb_binary_cross_entropy_with_logits(e, e, &(nb_bce_with_logits_options){.reduction = NB_REDUCTION_NONE});
    cr_assert(none != NULL, "%s", nb_last_error());
    cr_assert_eq(nb_numel(none), 0);
    cr_assert_eq(nb_size(none, 1), 3);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, loss_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *a = nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *i = nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_l1_loss(NULL, a, NB_REDUCTION_MEAN));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_l1_loss", "input"));
    cr_assert_null(nb_l1_loss(a, NULL, NB_REDUCTION_MEAN));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_l1_loss", "target"));
    cr_assert_null(nb_l1_loss(a, i, NB_REDUCTION_MEAN));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_l1_loss", "float32", "int64"));
    cr_assert_null(nb_l1_loss(a, nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), NB_REDUCTION_MEAN));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_l1_loss", "[3, 4]", "[3]"));
    cr_assert_null(nb_l1_loss(a, a, (nb_reduction)7));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_l1_loss", "reduction", "7"));
    cr_assert_null(nb_smooth_l1_loss(a, a, NB_REDUCTION_MEAN, -1.0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_smooth_l1_loss", "beta >= 0", "-1"));
    cr_assert_null(nb_smooth_l1_loss(a, a, NB_REDUCTION_MEAN, NAN));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_smooth_l1_loss", "beta", "nan"));
    cr_assert_null(nb_huber_loss(a, a, NB_REDUCTION_MEAN, 0.0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_huber_loss", "delta > 0", "0"));
    cr_assert_null(nb_huber_loss(a, i, NB_REDUCTION_SUM, 1.0));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_huber_loss", "int64"));

    const char *op = "nb_binary_cross_entropy_with_logits";
    cr_assert_null(nb_binary_cross_entropy_with_logits(NULL, a, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS(op, "input"));
    cr_assert_null(nb_binary_cross_entropy_with_logits(a, nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)), NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "target of the input's shape [3, 4]", "[4]"));
    cr_assert_null(nb_binary_cross_entropy_with_logits(a, i, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "int64"));
    nb_bce_with_logits_options o = {.weight = nb_ones(NB_SHAPE(2, 3, 4), NB_OPTS(NB_FLOAT32))};
    cr_assert_null(nb_binary_cross_entropy_with_logits(a, a, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "weight", "broadcasts to the input's shape [3, 4]", "[2, 3, 4]"));
    o = (nb_bce_with_logits_options){.pos_weight = nb_ones(NB_SHAPE(5), NB_OPTS(NB_FLOAT32))};
    cr_assert_null(nb_binary_cross_entropy_with_logits(a, a, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "[3, 4]", "[5]"));
    o = (nb_bce_with_logits_options){.pos_weight = nb_ones(NB_SHAPE(4), NB_OPTS(NB_BOOL))};
    cr_assert_null(nb_binary_cross_entropy_with_logits(a, a, &o));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "pos_weight", "bool"));
    o = (nb_bce_with_logits_options){.reduction = (nb_reduction)-1};
    cr_assert_null(nb_binary_cross_entropy_with_logits(a, a, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS(op, "reduction", "-1"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- cross entropy and nll with options */

typedef struct xent_case {
    const char *name;   /* golden NAME_y, NAME_g0 */
    bool nll;
    const char *x, *labels, *weight, *gy; /* golden inputs (weight, gy: NULL for none) */
    nb_reduction reduction;
    double smoothing;
    int64_t ignore_index;
} xent_case;

static void check_xent(const dtype_case *c, const xent_case *x, bool strided)
{
    nb_scope_begin();
    nb_tensor *in = gold(x->x, c->tag);
    if (strided) in = noncontig(in);
    in = nb_requires_grad_(nb_detach(in), true);
    nb_tensor *labels = gold(x->labels, "i64");
    if (strided && nb_ndim(labels) > 0) labels = noncontig(labels);
    nb_tensor *w = x->weight ? gold(x->weight, c->tag) : NULL;
    nb_tensor *y;
    if (x->nll) {
        nb_nll_loss_options o = NB_NLL_LOSS_DEFAULTS;
        o.weight = w, o.reduction = x->reduction, o.ignore_index = x->ignore_index;
        y = nb_nll_loss(in, labels, &o);
    } else {
        nb_cross_entropy_options o = NB_CROSS_ENTROPY_DEFAULTS;
        o.weight = w, o.reduction = x->reduction, o.ignore_index = x->ignore_index, o.label_smoothing = x->smoothing;
        y = nb_cross_entropy_ex(in, labels, &o);
    }
    cr_assert(y != NULL, "%s: %s", x->name, nb_last_error());
    cr_assert_str_eq(nb_grad_fn_name(y), x->nll ? "NllLossBackward" : "CrossEntropyBackward");
    char want[64];
    snprintf(want, sizeof want, "%s_y", x->name);
    assert_close(y, gold(want, c->tag), c->rtol, c->atol);
    nb_tensor *gy = x->reduction == NB_REDUCTION_NONE ? gold(x->gy, c->tag) : NULL;
    cr_assert_eq(nb_backward_ex(y, gy, false), NB_OK, "%s: %s", x->name, nb_last_error());
    snprintf(want, sizeof want, "%s_g0", x->name);
    assert_close(nb_grad(in), gold(want, c->tag), c->rtol, c->atol);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, cross_entropy_ex_and_nll_loss_match_pytorch, .init = nb_test_setup)
{
    static const char *const red[3] = {"mean", "sum", "none"};
    for (int k = 0; k < 2; k++) {
        for (int strided = 0; strided < 2; strided++) {
            for (int r = 0; r < 3; r++) {
                char n[7][32];
                const char *fmt[7] = {"ce_%s", "ce_ign_%s", "ce_w_%s", "ce_ls_%s", "ce_sp_%s", "nll_%s", "nll_sp_%s"};
                for (int i = 0; i < 7; i++) snprintf(n[i], 32, fmt[i], red[r]);
                const nb_reduction rr = (nb_reduction)r;
                const xent_case each[7] = {
                    {n[0], false, "ce_x", "lab", NULL, "gy6", rr, 0, -100},
                    {n[1], false, "ce_x", "lab_ign", NULL, "gy6", rr, 0, -100},
                    {n[2], false, "ce_x", "lab_ign", "cw", "gy6", rr, 0, -100},
                    {n[3], false, "ce_x", "lab_ign", "cw", "gy6", rr, 0.1, -100},
                    {n[4], false, "ce_xsp", "lab_sp", "cw4", "gysp", rr, 0.05, -100},
                    {n[5], true, "lp", "lab_ign", "cw", "gy6", rr, 0, -100},
                    {n[6], true, "lpsp", "lab_sp", NULL, "gysp", rr, 0, -100},
                };
                for (int i = 0; i < 7; i++) check_xent(&cases[k], &each[i], strided);
            }
            const xent_case more[3] = {
                {"ce_ls_plain", false, "ce_x", "lab", NULL, NULL, NB_REDUCTION_MEAN, 0.3, -100},
                {"ce_ii2", false, "ce_x", "lab", NULL, NULL, NB_REDUCTION_SUM, 0, 2},
                {"ce_1d", false, "ce_x1", "lab_1d", "cw", NULL, NB_REDUCTION_MEAN, 0, -100},
            };
            for (int i = 0; i < 3; i++) check_xent(&cases[k], &more[i], strided);
        }
    }
}

Test(nn, cross_entropy_ex_defaults_equal_cross_entropy, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = gold("ce_x", "f64"), *labels = gold("lab", "i64");
    assert_close(nb_cross_entropy_ex(x, labels, NULL), nb_cross_entropy(x, labels), 1e-14, 0);
    /* every label ignored: the mean is 0 / 0 (NaN), the sum 0, as PyTorch's */
    nb_tensor *all = nb_full(NB_SHAPE(6), -100, NB_OPTS(NB_INT64));
    cr_assert(isnan(nb_item(nb_cross_entropy_ex(x, all, NULL))));
    nb_cross_entropy_options o = NB_CROSS_ENTROPY_DEFAULTS;
    o.reduction = NB_REDUCTION_SUM;
    cr_assert_eq(nb_item(nb_cross_entropy_ex(x, all, &o)), 0.0);
    /* no rows */
    o.reduction = NB_REDUCTION_NONE;
    nb_tensor *none = nb_cross_entropy_ex(nb_zeros(NB_SHAPE(0, 5), NB_OPTS(NB_FLOAT32)),
                                          nb_zeros(NB_SHAPE(0), NB_OPTS(NB_INT64)), &o);
    cr_assert(none != NULL && nb_numel(none) == 0 && nb_ndim(none) == 1, "%s", nb_last_error());
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(nn, cross_entropy_ex_and_nll_loss_errors, .init = nb_test_setup)
{
    nb_scope_begin();
    const char *op = "nb_cross_entropy_ex";
    nb_tensor *x = nb_zeros(NB_SHAPE(4, 5), NB_OPTS(NB_FLOAT32));
    nb_tensor *labels = nb_from_array((const int64_t[]){0, 4, 5, 1}, NB_SHAPE(4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_cross_entropy_ex(x, labels, NULL));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS(op, "label 5 in row 2", "5 classes"));
    nb_tensor *neg = nb_from_array((const int64_t[]){0, -1, -100, 1}, NB_SHAPE(4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_nll_loss(x, neg, NULL));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_nll_loss", "label -1 in row 1"));
    nb_tensor *good = nb_zeros(NB_SHAPE(4), NB_OPTS(NB_INT64));
    cr_assert_null(nb_cross_entropy_ex(x, nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)), NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "int64", "float32"));
    cr_assert_null(nb_cross_entropy_ex(nb_zeros(NB_SHAPE(4, 5), NB_OPTS(NB_INT64)), good, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "logits", "int64"));
    cr_assert_null(nb_cross_entropy_ex(x, nb_zeros(NB_SHAPE(5), NB_OPTS(NB_INT64)), NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "without dim C", "[4, 5]", "[5]"));
    cr_assert_null(nb_nll_loss(nb_zeros(NB_SHAPE(2, 3, 4), NB_OPTS(NB_FLOAT32)), nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_INT64)),
                               NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_nll_loss", "[2, 3, 4]", "[2, 3]"));
    nb_cross_entropy_options o = NB_CROSS_ENTROPY_DEFAULTS;
    o.label_smoothing = 1.5;
    cr_assert_null(nb_cross_entropy_ex(x, good, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS(op, "label_smoothing", "1.5"));
    o = NB_CROSS_ENTROPY_DEFAULTS;
    o.reduction = (nb_reduction)3;
    cr_assert_null(nb_cross_entropy_ex(x, good, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS(op, "reduction", "3"));
    o = NB_CROSS_ENTROPY_DEFAULTS;
    o.weight = nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_cross_entropy_ex(x, good, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS(op, "weight", "per class (5)", "[4]"));
    o.weight = nb_ones(NB_SHAPE(5), NB_OPTS(NB_FLOAT64));
    cr_assert_null(nb_cross_entropy_ex(x, good, &o));
    assert_error(NB_ERR_DTYPE, ERR_PARTS(op, "weight", "float32", "float64"));
    cr_assert_null(nb_cross_entropy_ex(NULL, good, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS(op, "logits"));
    cr_assert_null(nb_nll_loss(x, NULL, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_nll_loss", "labels"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}
