/* test_inplace.c — in-place ops (add_ … copy_): values against PyTorch (golden/ewise), writes
 * through views to the base tensor, and the writes that are refused. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>

static void open_scope(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void close_scope(void) { nb_scope_end(); }
#define IP .init = open_scope, .fini = close_scope

static nb_tensor *in(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "ewise/%s", name);
    return golden(path);
}

static void tolerance(nb_dtype dt, double *rtol, double *atol)
{
    *rtol = dt == NB_FLOAT32 ? 1e-6 : dt == NB_FLOAT64 ? 1e-12 : 0;
    *atol = dt == NB_FLOAT32 ? 1e-7 : dt == NB_FLOAT64 ? 1e-14 : 0;
}

/* t (the in-place result) against golden/ewise/NAME.npy. */
static void expect_golden(const nb_tensor *t, const char *name)
{
    cr_assert(t != NULL, "%s: result is NULL: %s", name, nb_last_error());
    nb_tensor *want = in(name);
    double rtol, atol;
    tolerance(nb_dtype_of(want), &rtol, &atol);
    assert_close(t, want, rtol, atol);
}

static void expect_values(const nb_tensor *t, const double *want, int64_t n)
{
    assert_values(t, want, n, 0, 0);
}

static const char *const float_tags[] = {"f32", "f64"};

/* ---------------------------------------------------------------- values */

Test(inplace, binary_float, IP)
{
    static const struct {
        const char *name;
        nb_tensor *(*fn)(nb_tensor *, const nb_tensor *);
    } ops[] = {{"add", nb_add_}, {"sub", nb_sub_}, {"mul", nb_mul_}, {"div", nb_div_}};
    for (int k = 0; k < 2; k++) {
        char xn[16], yn[16], want[32];
        snprintf(xn, sizeof xn, "x_%s", float_tags[k]);
        snprintf(yn, sizeof yn, "y_%s", float_tags[k]);
        nb_tensor *y = in(yn);
        for (size_t i = 0; i < 4; i++) {
            nb_tensor *t = in(xn);
            cr_assert_eq(ops[i].fn(t, y), t, "%s_ returns its target", ops[i].name);
            snprintf(want, sizeof want, "%s_%s", ops[i].name, float_tags[k]);
            expect_golden(t, want);
        }
    }
}

Test(inplace, scalar_and_scaled_float, IP)
{
    for (int k = 0; k < 2; k++) {
        const char *dt = float_tags[k];
        char xn[16], yn[16], want[32];
        snprintf(xn, sizeof xn, "x_%s", dt);
        snprintf(yn, sizeof yn, "y_%s", dt);
        nb_tensor *y = in(yn), *t;
        t = in(xn);
        cr_assert_eq(nb_add_scalar_(t, 1.5), t);
        snprintf(want, sizeof want, "add_scalar_%s", dt);
        expect_golden(t, want);
        t = in(xn);
        cr_assert_eq(nb_mul_scalar_(t, -2.5), t);
        snprintf(want, sizeof want, "mul_scalar_%s", dt);
        expect_golden(t, want);
        t = in(xn);
        cr_assert_eq(nb_add_scaled_(t, y, -0.3), t); /* t += -0.3 y */
        snprintf(want, sizeof want, "add_scaled_%s", dt);
        expect_golden(t, want);
        t = in(xn);
        cr_assert_eq(nb_sub_scaled_(t, y, 0.01), t); /* t -= 0.01 y */
        snprintf(want, sizeof want, "sub_scaled_%s", dt);
        expect_golden(t, want);
        t = in(xn);
        cr_assert_eq(nb_masked_fill_(t, in("m_b8"), -7.5), t);
        snprintf(want, sizeof want, "masked_fill_%s", dt);
        expect_golden(t, want);
    }
}

Test(inplace, int64_values, IP)
{
    nb_tensor *y = in("y_i64"), *t;
    t = in("x_i64");
    expect_golden(nb_add_(t, y), "add_i64");
    t = in("x_i64");
    expect_golden(nb_sub_(t, y), "sub_i64");
    t = in("x_i64");
    expect_golden(nb_mul_(t, y), "mul_i64");
    t = in("x_i64");
    expect_golden(nb_add_scalar_(t, 3), "add_scalar_i64");
    t = in("x_i64");
    expect_golden(nb_mul_scalar_(t, 2), "mul_scalar_i64");
    t = in("x_i64");
    expect_golden(nb_masked_fill_(t, in("m_b8"), 9), "masked_fill_i64");
    t = in("x_i64");
    expect_golden(nb_masked_fill_(t, in("m_b8"), 0.5), "masked_fillf_i64"); /* the value truncates */
    t = in("b2_b8");
    expect_golden(nb_masked_fill_(t, in("m_b8"), 1), "masked_fill_b8");
}

Test(inplace, sgd_step_exact, IP)
{
    /* w -= lr * g with values whose products and differences are exact in float32 */
    static const float w0[] = {1, 2, 3, 4, -0.5f, 0};
    static const float g0[] = {0.5f, -1, 2, 8, 0.25f, -4};
    for (int k = 0; k < 2; k++) {
        nb_dtype dt = k ? NB_FLOAT64 : NB_FLOAT32;
        nb_tensor *w = nb_to_dtype(nb_from_array(w0, NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), dt);
        nb_tensor *g = nb_to_dtype(nb_from_array(g0, NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32)), dt);
        cr_assert_eq(nb_sub_scaled_(w, g, 0.25), w);
        expect_values(w, (const double[]){0.875, 2.25, 2.5, 2, -0.5625, 1}, 6);
        cr_assert_eq(nb_add_scaled_(w, g, 0.25), w); /* back where it started */
        expect_values(w, (const double[]){1, 2, 3, 4, -0.5, 0}, 6);
        nb_tensor *gb = nb_from_array((const double[]){2, -4, 8}, NB_SHAPE(3), NB_OPTS(NB_FLOAT64));
        nb_tensor *gbd = nb_to_dtype(gb, dt);
        nb_sub_scaled_(w, gbd, 0.5); /* broadcast over the rows */
        expect_values(w, (const double[]){0, 4, -1, 3, 1.5, -4}, 6);
    }
    nb_tensor *wi = nb_from_array((const int64_t[]){10, 20}, NB_SHAPE(2), NB_OPTS(NB_INT64));
    nb_tensor *gi = nb_from_array((const int64_t[]){1, -3}, NB_SHAPE(2), NB_OPTS(NB_INT64));
    nb_sub_scaled_(wi, gi, 2);
    expect_values(wi, (const double[]){8, 26}, 2);
}

Test(inplace, seed_masked_fill_relu_grad, IP)
{
    /* grad_h[h < 0] = 0, as in the seed's manual backward */
    nb_tensor *h = in("x_f32"), *grad_h = nb_clone(in("y_f32"));
    cr_assert_eq(nb_masked_fill_(grad_h, nb_lt_scalar(h, 0), 0), grad_h);
    float hv[12], gv[12], out[12];
    nb_copy_to_array(h, hv, sizeof hv);
    nb_copy_to_array(in("y_f32"), gv, sizeof gv);
    nb_copy_to_array(grad_h, out, sizeof out);
    for (int i = 0; i < 12; i++) cr_assert_eq(out[i], hv[i] < 0 ? 0.0f : gv[i], "element %d", i);
    assert_ok();
}

Test(inplace, fill_zero, IP)
{
    nb_tensor *t = nb_empty(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT64));
    cr_assert_eq(nb_fill_(t, -1.25), t);
    expect_values(t, (const double[]){-1.25, -1.25, -1.25, -1.25, -1.25, -1.25}, 6);
    cr_assert_eq(nb_zero_(t), t);
    expect_values(t, (const double[]){0, 0, 0, 0, 0, 0}, 6);
    nb_tensor *ti = nb_empty(NB_SHAPE(3), NB_OPTS(NB_INT64));
    nb_fill_(ti, 2.7); /* converted as PyTorch does: truncated */
    expect_values(ti, (const double[]){2, 2, 2}, 3);
    nb_tensor *tb = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_BOOL));
    nb_fill_(tb, 0.5);
    expect_values(tb, (const double[]){1, 1}, 2);
    nb_tensor *t0 = nb_empty(0, NULL, NB_OPTS(NB_FLOAT32)); /* 0-d */
    nb_fill_(t0, 3);
    cr_assert_eq(nb_item(t0), 3.0);
    assert_ok();
}

/* ---------------------------------------------------------------- copy_ */

Test(inplace, copy_broadcast_and_convert, IP)
{
    nb_tensor *t = nb_zeros(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *r = nb_from_array((const double[]){1.5, -2, 3, 0.25}, NB_SHAPE(4), NB_OPTS(NB_FLOAT64));
    cr_assert_eq(nb_copy_(t, r), t); /* (4,) float64 into (3, 4) float32 */
    cr_assert_eq(nb_dtype_of(t), NB_FLOAT32);
    expect_values(t, (const double[]){1.5, -2, 3, 0.25, 1.5, -2, 3, 0.25, 1.5, -2, 3, 0.25}, 12);
    nb_tensor *ti = nb_zeros(NB_SHAPE(2, 4), NB_OPTS(NB_INT64));
    nb_tensor *c = nb_from_array((const float[]){-1.7f, 2.9f}, NB_SHAPE(2, 1), NB_OPTS(NB_FLOAT32));
    nb_copy_(ti, c); /* (2, 1) into (2, 4), truncating toward zero */
    expect_values(ti, (const double[]){-1, -1, -1, -1, 2, 2, 2, 2}, 8);
    nb_tensor *tb = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_BOOL));
    nb_copy_(tb, nb_from_array((const int64_t[]){0, 7, -1}, NB_SHAPE(3), NB_OPTS(NB_INT64)));
    expect_values(tb, (const double[]){0, 1, 1}, 3);
    nb_tensor *s = nb_full(0, NULL, 9, NB_OPTS(NB_INT64)); /* 0-d source */
    nb_copy_(t, s);
    expect_values(t, (const double[]){9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}, 12);
    assert_ok();
}

Test(inplace, copy_into_view_writes_base, IP)
{
    nb_tensor *base = nb_zeros(NB_SHAPE(2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *tv = nb_t(base); /* (3, 2) */
    nb_copy_(tv, nb_from_array((const float[]){1, 2, 3, 4, 5, 6}, NB_SHAPE(3, 2), NB_OPTS(NB_FLOAT32)));
    expect_values(base, (const double[]){1, 3, 5, 2, 4, 6}, 6);
    assert_ok();
}

/* ---------------------------------------------------------------- views write through */

Test(inplace, noncontiguous_views_write_through, IP)
{
    nb_tensor *base = nb_reshape(nb_arange(0, 12, 1, NB_OPTS(NB_FLOAT32)), NB_SHAPE(3, 4));
    nb_tensor *cols = nb_narrow(base, 1, 1, 2); /* base[:, 1:3] */
    nb_add_scalar_(cols, 100);
    expect_values(base, (const double[]){0, 101, 102, 3, 4, 105, 106, 7, 8, 109, 110, 11}, 12);
    nb_tensor *tv = nb_t(base); /* (4, 3), strides (1, 4) */
    nb_mul_(tv, nb_from_array((const float[]){1, -1, 2}, NB_SHAPE(3), NB_OPTS(NB_FLOAT32)));
    /* tv[i, j] *= s[j]: base row j scaled by s[j] */
    expect_values(base, (const double[]){0, 101, 102, 3, -4, -105, -106, -7, 16, 218, 220, 22}, 12);
    nb_tensor *col = nb_select(base, 1, 3); /* base[:, 3], stride 4 */
    nb_fill_(col, -1);
    nb_tensor *row = nb_select(base, 0, 0);
    nb_zero_(row);
    expect_values(base, (const double[]){0, 0, 0, 0, -4, -105, -106, -1, 16, 218, 220, -1}, 12);
    nb_tensor *mask = nb_gt_scalar(tv, 100); /* (4, 3) mask on the transposed view */
    nb_masked_fill_(tv, mask, 5);
    expect_values(base, (const double[]){0, 0, 0, 0, -4, -105, -106, -1, 16, 5, 5, -1}, 12);
    nb_sub_scaled_(nb_narrow(base, 0, 1, 2), nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)), 2);
    expect_values(base, (const double[]){0, 0, 0, 0, -6, -107, -108, -3, 14, 3, 3, -3}, 12);
    assert_ok();
}

/* ---------------------------------------------------------------- refusals */

Test(inplace, expanded_target_refused, IP)
{
    nb_tensor *r = nb_zeros(NB_SHAPE(1, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *e = nb_expand(r, NB_SHAPE(3, 4));
    nb_tensor *x = nb_ones(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_add_(e, x));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_add_", "expanded", "[3, 4]"));
    cr_assert_null(nb_fill_(e, 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_fill_", "expanded"));
    cr_assert_null(nb_copy_(e, x));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_copy_", "expanded"));
    cr_assert_null(nb_mul_scalar_(e, 2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_mul_scalar_", "expanded"));
    cr_assert_null(nb_masked_fill_(e, nb_ones(NB_SHAPE(3, 4), NB_OPTS(NB_BOOL)), 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_masked_fill_", "expanded"));
    expect_values(r, (const double[]){0, 0, 0, 0}, 4); /* untouched */
    /* an expanded dim of size 1 shares nothing: writing is fine */
    nb_tensor *e1 = nb_expand(r, NB_SHAPE(1, 1, 4));
    cr_assert_eq(nb_add_scalar_(e1, 1), e1);
    expect_values(r, (const double[]){1, 1, 1, 1}, 4);
}

Test(inplace, wider_dtype_refused, IP)
{
    nb_tensor *ti = nb_from_array((const int64_t[]){1, 2, 3}, NB_SHAPE(3), NB_OPTS(NB_INT64));
    cr_assert_null(nb_mul_scalar_(ti, 0.5));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_mul_scalar_", "float32", "int64"));
    cr_assert_null(nb_add_scalar_(ti, 0.25));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_add_scalar_", "int64"));
    cr_assert_null(nb_add_(ti, nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_add_", "float32", "int64"));
    cr_assert_null(nb_div_(ti, ti)); /* int64 / int64 is float32 */
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_div_", "float32", "int64"));
    cr_assert_null(nb_sub_scaled_(ti, ti, 0.1));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_sub_scaled_", "int64"));
    expect_values(ti, (const double[]){1, 2, 3}, 3); /* untouched */
    nb_tensor *tb = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_BOOL));
    cr_assert_null(nb_add_(tb, ti));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_add_", "int64", "bool"));
    /* a narrower source is fine: int64 into float32 */
    nb_tensor *tf = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_add_(tf, ti), tf);
    expect_values(tf, (const double[]){1, 2, 3}, 3);
}

Test(inplace, shape_refused, IP)
{
    nb_tensor *t = nb_zeros(NB_SHAPE(3, 1), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_ones(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_add_(t, b)); /* the result would be (3, 4) */
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_add_", "[3, 4]", "[3, 1]"));
    nb_tensor *c = nb_ones(NB_SHAPE(5), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_mul_(b, c));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_mul_", "[3, 4]", "[5]"));
    cr_assert_null(nb_copy_(nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_copy_", "[3]", "[2]"));
    cr_assert_null(nb_copy_(nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32)), nb_ones(NB_SHAPE(1, 3), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_copy_", "[1, 3]", "[3]"));
    nb_tensor *m = nb_ones(NB_SHAPE(2, 3, 1), NB_OPTS(NB_BOOL));
    cr_assert_null(nb_masked_fill_(t, m, 0)); /* the mask would grow the target */
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_masked_fill_", "[3, 1]"));
    /* shapes with the same element count but not the target's */
    nb_tensor *e = nb_zeros(NB_SHAPE(1, 0), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_add_(e, nb_zeros(NB_SHAPE(5, 1), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_add_", "[5, 0]", "[1, 0]"));
    cr_assert_null(nb_copy_(e, nb_zeros(NB_SHAPE(5, 1), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_copy_", "[5, 1]", "[1, 0]"));
}

Test(inplace, null_inputs, IP)
{
    nb_tensor *t = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_add_(NULL, t));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_add_", "NULL"));
    cr_assert_null(nb_add_(t, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_add_", "NULL"));
    cr_assert_null(nb_sub_scaled_(t, NULL, 0.1));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_sub_scaled_"));
    cr_assert_null(nb_masked_fill_(t, NULL, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_masked_fill_"));
    cr_assert_null(nb_fill_(NULL, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_fill_"));
    cr_assert_null(nb_zero_(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_zero_"));
    cr_assert_null(nb_copy_(t, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_copy_", "source"));
    cr_assert_null(nb_mul_scalar_(NULL, 2));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_mul_scalar_"));
}

Test(inplace, source_sharing_the_target_memory, IP)
{
    /* every element is computed from the values before the op, as if the source were copied */
    nb_tensor *x = nb_from_array((const float[]){1, 2, 3, 4}, NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    nb_add_(x, nb_t(x)); /* x += x.T */
    expect_values(x, (const double[]){2, 5, 5, 8}, 4);
    nb_tensor *y = nb_reshape(nb_arange(1, 7, 1, NB_OPTS(NB_FLOAT64)), NB_SHAPE(3, 2));
    nb_sub_(y, nb_select(y, 0, 0)); /* y -= y[0], broadcast over the rows */
    expect_values(y, (const double[]){0, 0, 2, 2, 4, 4}, 6);
    nb_tensor *z = nb_from_array((const float[]){1, 2, 3, 4}, NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    nb_copy_(z, nb_t(z)); /* transpose in place */
    expect_values(z, (const double[]){1, 3, 2, 4}, 4);
    nb_tensor *v = nb_arange(0, 6, 1, NB_OPTS(NB_INT64));
    nb_add_scaled_(nb_narrow(v, 0, 1, 5), nb_narrow(v, 0, 0, 5), 10); /* v[1:] += 10 v[:-1] */
    expect_values(v, (const double[]){0, 1, 12, 23, 34, 45}, 6);
    nb_tensor *c = nb_from_array((const float[]){1, 2, 3, 4}, NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    nb_mul_(nb_select(c, 1, 0), nb_select(c, 1, 1)); /* c[:, 0] *= c[:, 1]: disjoint elements */
    expect_values(c, (const double[]){2, 2, 12, 4}, 4);
    nb_mul_(c, c); /* the same view: fine elementwise */
    expect_values(c, (const double[]){4, 4, 144, 16}, 4);
    nb_tensor *m = nb_from_array((const bool[]){true, false, false, true}, NB_SHAPE(2, 2), NB_OPTS(NB_BOOL));
    nb_masked_fill_(m, nb_t(m), false);
    expect_values(m, (const double[]){0, 0, 0, 0}, 4);
}
