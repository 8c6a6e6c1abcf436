/* test_views.c — shape ops against PyTorch (golden/views, made by golden/gen_views.py): values
 * and strides of every view, storage sharing, copies where a view is impossible, cat, errors. */
#include "helpers.h"

#include <stdio.h>
#include <string.h>

static void open_scope(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void close_scope(void) { nb_scope_end(); }
#define VW .init = open_scope, .fini = close_scope

static nb_tensor *in(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "views/%s", name);
    return golden(path);
}

/* True when t's first element lies inside base's elements (t is a view of base's storage). */
static bool inside(const nb_tensor *t, const nb_tensor *base)
{
    const char *p = nb_data(t), *b = nb_data(base);
    return p >= b && p < b + nb_numel(base) * (int64_t)nb_dtype_size(nb_dtype_of(base));
}

/* got has golden NAME's values and PyTorch's strides, and is a view of base (no copy). */
static void expect_view(const nb_tensor *got, const char *name, const nb_tensor *base)
{
    cr_assert(got != NULL, "%s: NULL: %s", name, nb_last_error());
    assert_close(got, in(name), 0, 0);
    char sn[96];
    snprintf(sn, sizeof sn, "%s_strides", name);
    nb_tensor *want = in(sn);
    int64_t ws[NB_MAX_DIMS];
    int nd = nb_ndim(got);
    cr_assert_eq(nb_numel(want), nd, "%s: %d dims, PyTorch has %lld", name, nd, (long long)nb_numel(want));
    nb_copy_to_array(want, ws, sizeof ws);
    for (int i = 0; i < nd; i++)
        cr_assert_eq(nb_strides(got)[i], ws[i], "%s: stride %d is %lld, PyTorch has %lld", name, i,
                     (long long)nb_strides(got)[i], (long long)ws[i]);
    if (nb_numel(got) > 0) cr_assert(inside(got, base), "%s: not a view of its input", name);
    assert_ok();
}

/* got has golden NAME's values and lives in its own memory (a copy of base). */
static void expect_copy(const nb_tensor *got, const char *name, const nb_tensor *base)
{
    cr_assert(got != NULL, "%s: NULL: %s", name, nb_last_error());
    assert_close(got, in(name), 0, 0);
    cr_assert(nb_is_contiguous(got), "%s: a copy is contiguous", name);
    cr_assert(!inside(got, base), "%s: expected a copy, got a view", name);
}

/* ---------------------------------------------------------------- the views */

Test(views, permute_transpose_t, VW)
{
    nb_tensor *base = in("base"), *m34 = in("m34");
    expect_view(nb_permute(base, NB_DIMS(2, 0, 1)), "permute_201", base);
    expect_view(nb_permute(base, NB_DIMS(-1, 0, 1)), "permute_m1_0_1", base);
    expect_view(nb_transpose(base, 0, 2), "transpose_02", base);
    expect_view(nb_transpose(base, -1, -2), "transpose_m1m2", base);
    expect_view(nb_t(m34), "t", m34);
    /* t of 1-d and 0-d tensors is the tensor itself */
    nb_tensor *v = nb_arange(0, 3, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *vt = nb_t(v);
    cr_assert_eq(nb_ndim(vt), 1);
    cr_assert_eq(nb_data(vt), nb_data(v));
    nb_tensor *s = nb_full(0, NULL, 2, NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_ndim(nb_t(s)), 0);
    assert_ok();
}

Test(views, narrow_select, VW)
{
    nb_tensor *base = in("base");
    expect_view(nb_narrow(base, 1, 1, 2), "narrow_1_1_2", base);
    expect_view(nb_narrow(base, -1, 2, 2), "narrow_m1_2_2", base);
    expect_view(nb_narrow(base, 2, -3, 2), "narrow_2_m3_2", base);
    expect_view(nb_narrow(base, 0, 0, 0), "narrow_0_0_0", base);
    nb_tensor *end = nb_narrow(base, 1, 3, 0); /* empty, at the end */
    cr_assert(end && nb_size(end, 1) == 0 && nb_numel(end) == 0, "%s", nb_last_error());
    expect_view(nb_select(base, 1, 2), "select_1_2", base);
    expect_view(nb_select(base, -1, -1), "select_m1_m1", base);
    expect_view(nb_select(base, 0, 1), "select_0_1", base);
}

Test(views, squeeze_unsqueeze, VW)
{
    nb_tensor *s = in("sq_in"), *m34 = in("m34"); /* (1, 3, 1, 4), (3, 4) */
    expect_view(nb_squeeze(s), "squeeze", s);
    expect_view(nb_squeeze_dim(s, 0), "squeeze_0", s);
    expect_view(nb_squeeze_dim(s, -2), "squeeze_m2", s);
    expect_view(nb_squeeze_dim(s, 1), "squeeze_1", s);
    expect_view(nb_unsqueeze(m34, 0), "unsqueeze_0", m34);
    expect_view(nb_unsqueeze(m34, 1), "unsqueeze_1", m34);
    expect_view(nb_unsqueeze(m34, -1), "unsqueeze_m1", m34);
    expect_view(nb_unsqueeze(nb_t(m34), 1), "unsqueeze_t_1", m34);
    nb_tensor *one = nb_ones(NB_SHAPE(1, 1), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_ndim(nb_squeeze(one)), 0); /* all size-1 dims go */
    nb_tensor *z = nb_full(0, NULL, 5, NB_OPTS(NB_FLOAT32));
    nb_tensor *zu = nb_unsqueeze(z, 0);
    cr_assert_eq(nb_ndim(zu), 1);
    cr_assert_eq(nb_size(zu, 0), 1);
    cr_assert_eq(nb_ndim(nb_squeeze_dim(z, 0)), 0); /* a 0-d tensor accepts dim 0 */
    assert_ok();
}

Test(views, expand, VW)
{
    nb_tensor *col = in("col"); /* (3, 1) */
    expect_view(nb_expand(col, NB_SHAPE(2, 3, 4)), "expand_col_234", col);
    expect_view(nb_expand(col, NB_SHAPE(2, -1, 4)), "expand_col_m1", col);
    expect_view(nb_expand(col, NB_SHAPE(3, 1)), "expand_col_same", col);
    nb_tensor *s = nb_full(0, NULL, 7, NB_OPTS(NB_INT64));
    nb_tensor *e = nb_expand(s, NB_SHAPE(2, 2));
    assert_values(e, (const double[]){7, 7, 7, 7}, 4, 0, 0);
    cr_assert(nb_strides(e)[0] == 0 && nb_strides(e)[1] == 0);
    assert_ok();
}

Test(views, reshape_view_flatten, VW)
{
    nb_tensor *base = in("base"), *m34 = in("m34");
    expect_view(nb_reshape(base, NB_SHAPE(4, -1)), "reshape_4_m1", base);
    expect_view(nb_view(base, NB_SHAPE(6, 4)), "view_6_4", base);
    expect_view(nb_view(base, NB_SHAPE(-1)), "view_m1", base);
    expect_view(nb_flatten(base), "view_m1", base);
    /* views of a transposed tensor that need no copy, with PyTorch's strides */
    expect_view(nb_view(nb_t(m34), NB_SHAPE(2, 2, 3)), "view_t_2_2_3", m34);
    expect_view(nb_view(nb_t(m34), NB_SHAPE(4, 3, 1)), "view_t_4_3_1", m34);
    expect_view(nb_reshape(nb_t(m34), NB_SHAPE(2, 2, 3)), "view_t_2_2_3", m34);
    nb_tensor *p = nb_permute(base, NB_DIMS(2, 0, 1)); /* (4, 2, 3), strides (1, 12, 4) */
    expect_view(nb_view(p, NB_SHAPE(4, 6)), "view_perm_4_6", base);
    expect_view(nb_reshape(p, NB_SHAPE(4, 6)), "view_perm_4_6", base);
    /* reshape of non-contiguous data copies */
    expect_copy(nb_reshape(nb_permute(base, NB_DIMS(2, 1, 0)), NB_SHAPE(4, 6)), "reshape_perm_4_6", base);
    expect_copy(nb_flatten(p), "flatten_perm", base);
    expect_copy(nb_reshape(nb_narrow(base, 2, 1, 2), NB_SHAPE(2, -1)), "reshape_narrow", base);
    /* 0-d and empty tensors */
    nb_tensor *z = nb_full(0, NULL, 3, NB_OPTS(NB_FLOAT32));
    nb_tensor *z1 = nb_reshape(z, NB_SHAPE(1, 1, 1));
    cr_assert_eq(nb_ndim(z1), 3);
    cr_assert_eq(nb_item(z1), 3.0);
    cr_assert_eq(nb_ndim(nb_reshape(z1, 0, NULL)), 0);
    nb_tensor *f0 = nb_flatten(z);
    cr_assert(nb_ndim(f0) == 1 && nb_size(f0, 0) == 1);
    nb_tensor *e = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *e2 = nb_reshape(e, NB_SHAPE(3, 0, -1));
    cr_assert_null(e2, "-1 with a zero size cannot be inferred");
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_reshape", "[3, 0, -1]", "[0, 3]"));
    e2 = nb_reshape(e, NB_SHAPE(3, 0));
    cr_assert(e2 && nb_size(e2, 0) == 3 && nb_numel(e2) == 0);
    assert_ok();
}

Test(views, reshape_errors, VW)
{
    nb_tensor *base = in("base"); /* (2, 3, 4) */
    cr_assert_null(nb_reshape(base, NB_SHAPE(5, 5)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_reshape", "[5, 5]", "[2, 3, 4]", "24"));
    cr_assert_null(nb_reshape(base, NB_SHAPE(5, -1)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_reshape", "[5, -1]", "[2, 3, 4]"));
    cr_assert_null(nb_view(base, NB_SHAPE(-1, -1)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_view", "-1"));
    cr_assert_null(nb_view(base, NB_SHAPE(-2, 12)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_view", "-2"));
    nb_tensor *p = nb_permute(base, NB_DIMS(2, 1, 0)); /* (4, 3, 2) */
    cr_assert_null(nb_view(p, NB_SHAPE(4, 6)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_view", "[4, 3, 2]", "[4, 6]", "nb_reshape"));
    cr_assert_null(nb_view(nb_t(in("m34")), NB_SHAPE(12)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_view", "[4, 3]", "[12]", "strides"));
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 24};
    cr_assert_null(nb_reshape(base, 9, nine));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_reshape", "9 dims", "8"));
    cr_assert_null(nb_reshape(NULL, NB_SHAPE(3)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_reshape"));
}

/* ---------------------------------------------------------------- storage sharing */

/* t[i, j, k] as a 0-d view */
static nb_tensor *at3(const nb_tensor *t, int64_t i, int64_t j, int64_t k)
{
    return nb_select(nb_select(nb_select(t, 0, i), 0, j), 0, k);
}

Test(views, views_share_storage, VW)
{
    nb_tensor *base = nb_zeros(NB_SHAPE(2, 3, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *p = nb_permute(base, NB_DIMS(2, 0, 1));   /* p[k, i, j] = base[i, j, k] */
    nb_tensor *n = nb_narrow(base, 1, 1, 2);             /* base[:, 1:3, :] */
    nb_tensor *sel = nb_select(base, 2, 3);              /* base[:, :, 3] */
    nb_tensor *v = nb_view(base, NB_SHAPE(6, 4));
    nb_tensor *u = nb_unsqueeze(nb_transpose(base, 0, 1), 0); /* (1, 3, 2, 4) */
    nb_fill_(at3(p, 2, 1, 1), 5);                        /* base[1, 1, 2] */
    nb_fill_(at3(n, 0, 0, 0), 6);                        /* base[0, 1, 0] */
    nb_fill_(nb_select(nb_select(sel, 0, 0), 0, 1), 7);  /* base[0, 1, 3] */
    nb_fill_(nb_select(v, 0, 5), 8);                     /* base[1, 2, :] */
    const float *b = nb_data(base);
    cr_assert_eq(b[1 * 12 + 1 * 4 + 2], 5.0f);
    cr_assert_eq(b[0 * 12 + 1 * 4 + 0], 6.0f);
    cr_assert_eq(b[0 * 12 + 1 * 4 + 3], 7.0f);
    for (int k = 0; k < 4; k++) cr_assert_eq(b[1 * 12 + 2 * 4 + k], 8.0f);
    /* and reading through the views sees the base's writes */
    nb_fill_(nb_narrow(base, 0, 0, 1), -1); /* base[0] = -1 */
    cr_assert_eq(nb_item(at3(nb_select(u, 0, 0), 2, 0, 0)), -1.0); /* base[0, 2, 0] */
    cr_assert_eq(nb_item(at3(p, 2, 1, 1)), 5.0);                   /* base[1, 1, 2] */
    cr_assert_eq(nb_item(nb_select(nb_select(sel, 0, 1), 0, 2)), 8.0); /* base[1, 2, 3] */
    float all[24];
    nb_copy_to_array(base, all, sizeof all);
    int changed = 0;
    for (int i = 0; i < 24; i++) changed += all[i] != 0;
    cr_assert_eq(changed, 12 + 4 + 1, "only the written elements changed"); /* base[0], base[1, 2, :], base[1, 1, 2] */
    assert_ok();
}

Test(views, contiguous_and_clone, VW)
{
    nb_tensor *base = in("base");
    nb_tensor *c = nb_contiguous(base);
    cr_assert_eq(nb_data(c), nb_data(base), "contiguous of a contiguous tensor shares its memory");
    cr_assert_neq(c, base, "but is a new reference");
    nb_tensor *p = nb_permute(base, NB_DIMS(2, 0, 1));
    cr_assert(!nb_is_contiguous(p));
    nb_tensor *pc = nb_contiguous(p);
    expect_copy(pc, "permute_201", base);
    nb_tensor *k = nb_clone(base);
    cr_assert_neq(nb_data(k), nb_data(base), "clone always copies");
    assert_close(k, base, 0, 0);
    nb_fill_(k, 0);
    cr_assert_eq(nb_item(nb_select(nb_select(nb_select(base, 0, 0), 0, 0), 0, 0)), -3.0,
                 "writing the clone leaves the original");
    expect_copy(nb_clone(p), "permute_201", base);
    /* a narrowed view that is contiguous in memory: no copy */
    nb_tensor *rows = nb_narrow(base, 0, 1, 1);
    cr_assert(nb_is_contiguous(rows));
    cr_assert_eq(nb_data(nb_contiguous(rows)), nb_data(rows));
    /* size-1 dims with any stride still count as contiguous */
    nb_tensor *tcol = nb_t(nb_narrow(in("m34"), 0, 1, 1)); /* (4, 1), strides (1, 4) */
    cr_assert(nb_is_contiguous(tcol));
    cr_assert_eq(nb_data(nb_contiguous(tcol)), nb_data(tcol));
    assert_ok();
}

/* ---------------------------------------------------------------- cat */

Test(views, cat, VW)
{
    nb_tensor *a = in("cat_a"), *b = in("cat_b"), *c = in("cat_c");
    assert_close(nb_cat(2, (nb_tensor *[]){a, b}, 0), in("cat_ab_0"), 0, 0);
    assert_close(nb_cat(2, (nb_tensor *[]){a, c}, 1), in("cat_ac_1"), 0, 0);
    assert_close(nb_cat(3, (nb_tensor *[]){a, c, a}, -1), in("cat_aca_m1"), 0, 0);
    assert_close(nb_cat(2, (nb_tensor *[]){a, in("cat_d64")}, 1), in("cat_a_d64_1"), 0, 0); /* float64 */
    assert_close(nb_cat(2, (nb_tensor *[]){in("cat_i64"), a}, 1), in("cat_i64_a_1"), 0, 0); /* float32 */
    nb_tensor *base = in("base");
    assert_close(nb_cat(2, (nb_tensor *[]){base, nb_narrow(base, 1, 0, 1)}, 1), in("cat_base_1"), 0, 0);
    nb_tensor *mt = nb_t(in("m34"));
    assert_close(nb_cat(2, (nb_tensor *[]){mt, mt}, 0), in("cat_t_0"), 0, 0);
    nb_tensor *one = nb_cat(1, (nb_tensor *[]){a}, 0);
    assert_close(one, a, 0, 0);
    cr_assert_neq(nb_data(one), nb_data(a), "cat makes a new tensor");
}

Test(views, cat_errors, VW)
{
    nb_tensor *a = in("cat_a"), *c = in("cat_c"); /* (2, 3), (2, 2) */
    cr_assert_null(nb_cat(2, (nb_tensor *[]){a, c}, 0));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_cat", "[2, 2]", "[2, 3]", "dim 0"));
    nb_tensor *v = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_cat(2, (nb_tensor *[]){a, v}, 0));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_cat", "[3]", "[2, 3]"));
    cr_assert_null(nb_cat(2, (nb_tensor *[]){a, a}, 2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_cat", "dim 2", "2-d"));
    cr_assert_null(nb_cat(0, (nb_tensor *[]){a}, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_cat", "at least one"));
    cr_assert_null(nb_cat(2, (nb_tensor *[]){a, NULL}, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_cat", "1"));
    nb_tensor *s = nb_full(0, NULL, 1, NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_cat(2, (nb_tensor *[]){s, s}, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_cat", "0-d"));
}

/* ---------------------------------------------------------------- errors */

Test(views, permute_transpose_errors, VW)
{
    nb_tensor *base = in("base"); /* (2, 3, 4) */
    cr_assert_null(nb_permute(base, NB_DIMS(0, 1)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_permute", "2 dims", "3-d"));
    cr_assert_null(nb_permute(base, NB_DIMS(0, 1, 1)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_permute", "dim 1", "twice"));
    cr_assert_null(nb_permute(base, NB_DIMS(2, 1, -1)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_permute", "dim 2", "twice"));
    cr_assert_null(nb_permute(base, NB_DIMS(0, 1, 3)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_permute", "dim 3", "out of range", "3-d"));
    cr_assert_null(nb_transpose(base, 0, -4));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_transpose", "dim -4", "3-d"));
    cr_assert_null(nb_t(base));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_t", "2 dims", "3"));
    cr_assert_null(nb_permute(NULL, NB_DIMS(0)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_permute"));
    cr_assert_null(nb_transpose(NULL, 0, 1));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_transpose"));
}

Test(views, narrow_select_errors, VW)
{
    nb_tensor *base = in("base"); /* (2, 3, 4) */
    cr_assert_null(nb_narrow(base, 1, 2, 2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_narrow", "start 2", "length 2", "size 3"));
    cr_assert_null(nb_narrow(base, 1, 4, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_narrow", "start 4"));
    cr_assert_null(nb_narrow(base, 1, -4, 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_narrow", "start -4", "size 3"));
    cr_assert_null(nb_narrow(base, 1, 0, -1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_narrow", "length -1"));
    cr_assert_null(nb_narrow(base, 3, 0, 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_narrow", "dim 3", "3-d"));
    cr_assert_null(nb_select(base, 2, 4));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_select", "index 4", "size 4"));
    cr_assert_null(nb_select(base, 0, -3));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_select", "index -3", "size 2"));
    nb_tensor *s = nb_full(0, NULL, 1, NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_select(s, 0, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_select", "0-d"));
    cr_assert_null(nb_narrow(s, 0, 0, 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_narrow", "0-d"));
    cr_assert_null(nb_narrow(NULL, 0, 0, 1));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_narrow"));
    cr_assert_null(nb_select(NULL, 0, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_select"));
}

Test(views, squeeze_unsqueeze_expand_errors, VW)
{
    nb_tensor *m = in("m34"); /* (3, 4) */
    cr_assert_null(nb_squeeze_dim(m, 2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_squeeze_dim", "dim 2"));
    cr_assert_null(nb_unsqueeze(m, 3));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_unsqueeze", "dim 3"));
    cr_assert_null(nb_unsqueeze(m, -4));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_unsqueeze", "dim -4"));
    nb_tensor *col = in("col"); /* (3, 1) */
    cr_assert_null(nb_expand(col, NB_SHAPE(4, 4)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_expand", "[3, 1]", "[4, 4]"));
    cr_assert_null(nb_expand(col, NB_SHAPE(4)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_expand", "[3, 1]", "1 dims"));
    cr_assert_null(nb_expand(col, NB_SHAPE(-1, 3, 4))); /* -1 only for existing dims */
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_expand", "[-1, 3, 4]"));
    cr_assert_null(nb_expand(col, NB_SHAPE(3, -2)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_expand", "[3, -2]"));
    cr_assert_null(nb_squeeze(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_squeeze"));
    cr_assert_null(nb_unsqueeze(NULL, 0));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_unsqueeze"));
    cr_assert_null(nb_expand(NULL, NB_SHAPE(2)));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_expand"));
}

Test(views, max_dims, VW)
{
    int64_t eight[NB_MAX_DIMS] = {1, 2, 1, 1, 3, 1, 1, 1};
    nb_tensor *t = nb_zeros(NB_MAX_DIMS, eight, NB_OPTS(NB_FLOAT32));
    cr_assert_not_null(t, "%s", nb_last_error());
    cr_assert_eq(nb_ndim(t), NB_MAX_DIMS);
    cr_assert_null(nb_unsqueeze(t, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_unsqueeze", "8"));
    int64_t nine[NB_MAX_DIMS + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    cr_assert_null(nb_zeros(NB_MAX_DIMS + 1, nine, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_zeros", "9 dims", "0 to 8"));
    cr_assert_null(nb_expand(t, NB_MAX_DIMS + 1, nine));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_expand", "9 dims"));
    int perm[NB_MAX_DIMS] = {7, 6, 5, 4, 3, 2, 1, 0};
    nb_tensor *p = nb_permute(t, NB_MAX_DIMS, perm);
    cr_assert(p && nb_size(p, 3) == 3 && nb_size(p, 6) == 2);
    nb_tensor *sq = nb_squeeze(p);
    cr_assert(sq && nb_ndim(sq) == 2 && nb_size(sq, 0) == 3);
    nb_tensor *sum = nb_add(t, nb_ones(NB_SHAPE(2, 1, 1, 3, 1, 1, 1), NB_OPTS(NB_FLOAT32)));
    cr_assert(sum && nb_ndim(sum) == NB_MAX_DIMS && nb_numel(sum) == 6);
    assert_ok();
}
