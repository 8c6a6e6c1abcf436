/* test_hostile_shapes.c — shapes meant to break size arithmetic: products that wrap around int64
 * (through reshape, view, expand, creation, matmul and cat), negative sizes, too many dims. Each
 * must be refused with its status and a message naming the op, and nothing may overflow on the
 * way (the suite also runs under UBSan and ASan, which would report it). */
#include "helpers.h"

#define P62 ((int64_t)1 << 62)
#define P59 ((int64_t)1 << 59)

typedef struct hostile {
    const char *what;
    nb_tensor *(*make)(void);
    nb_status status;
    const char *op; /* the op the message must name */
} hostile;

static nb_tensor *four(void) { return nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)); }
static nb_tensor *one_by_one(void) { return nb_ones(NB_SHAPE(1, 1), NB_OPTS(NB_FLOAT32)); }

static nb_tensor *reshape_wraps_to_4(void) { return nb_reshape(four(), NB_SHAPE(P62 + 1, 4)); }
static nb_tensor *reshape_wraps_to_0(void) { return nb_reshape(four(), NB_SHAPE(P62, 4, 0)); }
static nb_tensor *reshape_infers_from_huge(void) { return nb_reshape(four(), NB_SHAPE(-1, P62)); }
static nb_tensor *view_wraps_to_4(void) { return nb_view(four(), NB_SHAPE(2, P62 + 1, 2)); }
static nb_tensor *reshape_negative(void) { return nb_reshape(four(), NB_SHAPE(-2, -2)); }
static nb_tensor *reshape_nine_dims(void) { return nb_reshape(four(), NB_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 4)); }
static nb_tensor *expand_square(void) { return nb_expand(one_by_one(), NB_SHAPE(P62, P62)); }
static nb_tensor *expand_wraps_to_4(void) { return nb_expand(four(), NB_SHAPE(P62 + 1, 4)); }
static nb_tensor *expand_just_past(void) { return nb_expand(one_by_one(), NB_SHAPE(P59, 2)); }
static nb_tensor *expand_negative(void) { return nb_expand(one_by_one(), NB_SHAPE(-3, 1)); }
static nb_tensor *zeros_empty_but_wide(void) { return nb_zeros(NB_SHAPE(0, P62), NB_OPTS(NB_FLOAT32)); }
static nb_tensor *zeros_square(void) { return nb_zeros(NB_SHAPE(P62, P62), NB_OPTS(NB_FLOAT32)); }
static nb_tensor *zeros_wraps_to_0(void) { return nb_zeros(NB_SHAPE(P62, 4, 4), NB_OPTS(NB_INT64)); }
static nb_tensor *empty_negative(void) { return nb_empty(NB_SHAPE(3, -1), NB_OPTS(NB_FLOAT32)); }
static nb_tensor *ones_nine_dims(void) { return nb_ones(NB_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1), NB_OPTS(NB_BOOL)); }
static nb_tensor *full_wraps(void) { return nb_full(NB_SHAPE(P62 + 1, 4), 1.0, NB_OPTS(NB_FLOAT64)); }
static nb_tensor *randn_wraps(void) { return nb_randn(NB_SHAPE(3, P62, 8), NB_OPTS(NB_FLOAT32)); }
static nb_tensor *rand_huge(void) { return nb_rand(NB_SHAPE(P62), NB_OPTS(NB_FLOAT64)); }
static nb_tensor *from_array_wraps(void)
{
    const float v[4] = {1, 2, 3, 4};
    return nb_from_array(v, NB_SHAPE(P62 + 1, 4), NB_OPTS(NB_FLOAT32));
}
/* broadcast batch dims of (2^30, 1) and (1, 2^30): 2^60 products, past any tensor */
static nb_tensor *matmul_batches_multiply(void)
{
    nb_tensor *m = nb_ones(NB_SHAPE(1, 1, 2, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *a = nb_expand(m, NB_SHAPE((int64_t)1 << 30, 1, 2, 2));
    nb_tensor *b = nb_expand(m, NB_SHAPE(1, (int64_t)1 << 30, 2, 2));
    return nb_matmul(a, b);
}
/* 17 views of 2^59 elements each: their sizes along dim 0 add up past int64 */
static nb_tensor *cat_sizes_add_up(void)
{
    nb_tensor *big = nb_expand(nb_ones(NB_SHAPE(1), NB_OPTS(NB_FLOAT32)), NB_SHAPE(P59));
    nb_tensor *parts[17];
    for (int i = 0; i < 17; i++) parts[i] = big;
    return nb_cat(17, parts, 0);
}

static const hostile table[] = {
    {"reshape (4,) to (2^62 + 1, 4)", reshape_wraps_to_4, NB_ERR_SHAPE, "nb_reshape"},
    {"reshape (4,) to (2^62, 4, 0)", reshape_wraps_to_0, NB_ERR_SHAPE, "nb_reshape"},
    {"reshape (4,) to (-1, 2^62)", reshape_infers_from_huge, NB_ERR_SHAPE, "nb_reshape"},
    {"view (4,) as (2, 2^62 + 1, 2)", view_wraps_to_4, NB_ERR_SHAPE, "nb_view"},
    {"reshape (4,) to (-2, -2)", reshape_negative, NB_ERR_SHAPE, "nb_reshape"},
    {"reshape to 9 dims", reshape_nine_dims, NB_ERR_ARGUMENT, "nb_reshape"},
    {"expand (1, 1) to (2^62, 2^62)", expand_square, NB_ERR_SHAPE, "nb_expand"},
    {"expand (4,) to (2^62 + 1, 4)", expand_wraps_to_4, NB_ERR_SHAPE, "nb_expand"},
    {"expand (1, 1) to (2^59, 2)", expand_just_past, NB_ERR_SHAPE, "nb_expand"},
    {"expand (1, 1) to (-3, 1)", expand_negative, NB_ERR_SHAPE, "nb_expand"},
    {"zeros (0, 2^62)", zeros_empty_but_wide, NB_ERR_SHAPE, "nb_zeros"},
    {"zeros (2^62, 2^62)", zeros_square, NB_ERR_SHAPE, "nb_zeros"},
    {"zeros (2^62, 4, 4) int64", zeros_wraps_to_0, NB_ERR_SHAPE, "nb_zeros"},
    {"empty (3, -1)", empty_negative, NB_ERR_SHAPE, "nb_empty"},
    {"ones with 9 dims", ones_nine_dims, NB_ERR_ARGUMENT, "nb_ones"},
    {"full (2^62 + 1, 4)", full_wraps, NB_ERR_SHAPE, "nb_full"},
    {"randn (3, 2^62, 8)", randn_wraps, NB_ERR_SHAPE, "nb_randn"},
    {"rand (2^62,)", rand_huge, NB_ERR_SHAPE, "nb_rand"},
    {"from_array (2^62 + 1, 4)", from_array_wraps, NB_ERR_SHAPE, "nb_from_array"},
    {"matmul with batch dims (2^30, 1) and (1, 2^30)", matmul_batches_multiply, NB_ERR_SHAPE, "nb_matmul"},
    {"cat of 17 tensors of 2^59", cat_sizes_add_up, NB_ERR_SHAPE, "nb_cat"},
};

Test(views, hostile_shapes_are_refused, .init = nb_test_setup)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        nb_scope_begin();
        nb_tensor *t = table[i].make();
        cr_assert_null(t, "%s was accepted", table[i].what);
        cr_assert_eq(nb_last_status(), table[i].status, "%s: %s, expected %s (%s)", table[i].what,
                     nb_status_name(nb_last_status()), nb_status_name(table[i].status), nb_last_error());
        assert_error(table[i].status, ERR_PARTS(table[i].op));
        nb_scope_end();
    }
}

/* Shapes up to the bound are fine when they hold nothing or share one element. */
Test(views, large_but_sound_shapes_are_accepted, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *e = nb_zeros(NB_SHAPE(0, (int64_t)1 << 40), NB_OPTS(NB_FLOAT64));
    cr_assert_not_null(e, "%s", nb_last_error());
    cr_assert_eq(nb_numel(e), 0);
    nb_tensor *x = nb_expand(nb_ones(NB_SHAPE(1, 1), NB_OPTS(NB_FLOAT32)), NB_SHAPE(P59 / 4, 4));
    cr_assert_not_null(x, "%s", nb_last_error());
    cr_assert_eq(nb_numel(x), P59);
    nb_tensor *r = nb_reshape(x, NB_SHAPE(4, -1)); /* all strides 0: a view, no copy */
    cr_assert_not_null(r, "%s", nb_last_error());
    cr_assert(nb_size(r, 1) == P59 / 4 && nb_strides(r)[0] == 0 && nb_strides(r)[1] == 0);
    cr_assert_null(nb_contiguous(r)); /* a copy of 2^59 elements: more than any memory */
    cr_assert_eq(nb_last_status(), NB_ERR_MEMORY, "%s", nb_last_error());
    nb_clear_error();
    nb_tensor *row = nb_select(x, 0, P59 / 4 - 1); /* the last row: offset arithmetic stays in range */
    cr_assert_not_null(row, "%s", nb_last_error());
    cr_assert_eq(nb_item(nb_sum(row)), 4.0);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}
