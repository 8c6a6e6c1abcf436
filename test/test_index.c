/* test_index.c — indexing and shape ops against PyTorch (golden/indexing, made by
 * golden/gen_indexing.py): index_select, gather, scatter, scatter_add, index_add (out of place
 * and in place), embedding and its gradient, one_hot, stack, split and chunk, pad, tril and
 * triu, repeat, flip and roll; every dtype, transposed inputs and indices, empty cases; each bad
 * argument's error, and indices out of range (named with their position, nothing written). */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void open_scope(void)
{
    nb_test_setup();
    nb_scope_begin();
}
static void close_scope(void) { cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error()); }
#define IX .init = open_scope, .fini = close_scope

static const char *const tags[4] = {"f32", "f64", "i64", "b8"};

static nb_tensor *in(const char *fmt, const char *tag)
{
    char name[128], path[160];
    snprintf(name, sizeof name, fmt, tag);
    snprintf(path, sizeof path, "indexing/%s", name);
    return golden(path);
}

/* got against the golden file named by fmt and tag: exact but for float rounding of sums */
static void expect(const nb_tensor *got, const char *fmt, const char *tag)
{
    char name[128];
    snprintf(name, sizeof name, fmt, tag);
    cr_assert(got != NULL, "%s: %s", name, nb_last_error());
    const nb_tensor *want = in(fmt, tag);
    const double rtol = nb_dtype_of(want) == NB_FLOAT32 ? 1e-6 : nb_dtype_of(want) == NB_FLOAT64 ? 1e-12 : 0;
    assert_close(got, want, rtol, rtol * 1e-2);
}

static nb_tensor *idx(const char *name) { return in("idx_%s", name); }

/* ---------------------------------------------------------------- values */

Test(index, index_select_every_dtype, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *x = in("x_%s", tags[k]);
        expect(nb_index_select(x, 0, idx("isel0")), "index_select_d0_%s", tags[k]);
        expect(nb_index_select(x, -1, idx("isel1")), "index_select_d1_%s", tags[k]);
        expect(nb_index_select(nb_t(x), 0, idx("isel1")), "index_select_t_%s", tags[k]);
        expect(nb_index_select(x, 1, idx("empty")), "index_select_empty_%s", tags[k]);
        expect(nb_index_select(x, 1, idx("scalar")), "index_select_scalar_%s", tags[k]);
    }
    /* a 0-d input takes a one-element index and stays 0-d */
    nb_tensor *s = nb_full(0, NULL, 5, NB_OPTS(NB_FLOAT32));
    nb_tensor *r = nb_index_select(s, 0, nb_zeros(NB_SHAPE(1), NB_OPTS(NB_INT64)));
    cr_assert(r && nb_ndim(r) == 0 && nb_item(r) == 5, "%s", nb_last_error());
}

Test(index, gather_every_dtype, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *x = in("x_%s", tags[k]);
        expect(nb_gather(x, 1, idx("gat1")), "gather_d1_%s", tags[k]);
        expect(nb_gather(x, 0, idx("gat0")), "gather_d0_%s", tags[k]);
        expect(nb_gather(x, -1, noncontig(idx("gat_t"))), "gather_t_%s", tags[k]);
        nb_tensor *it = nb_narrow(nb_t(idx("gat0")), 0, 0, 3); /* (3, 2), strided */
        expect(nb_gather(nb_t(x), 0, it), "gather_xt_%s", tags[k]);
    }
    nb_tensor *e = nb_gather(in("x_%s", "f32"), 1, nb_zeros(NB_SHAPE(4, 0), NB_OPTS(NB_INT64)));
    cr_assert(e && nb_numel(e) == 0 && nb_size(e, 0) == 4, "%s", nb_last_error());
}

Test(index, scatter_and_scatter_add_every_dtype, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *x = in("x_%s", tags[k]), *s = in("s_%s", tags[k]);
        expect(nb_scatter(x, 1, idx("sc1"), s), "scatter_d1_%s", tags[k]);
        expect(nb_scatter_add(x, 0, idx("sa0"), s), "scatter_add_d0_%s", tags[k]);
        expect(nb_scatter_add(x, 1, idx("gat1"), noncontig(s)), "scatter_add_d1_%s", tags[k]);
        /* in place: the target itself changes and is returned */
        nb_tensor *y = nb_clone(x);
        cr_assert_eq(nb_scatter_(y, 1, idx("sc1"), s), y, "%s", nb_last_error());
        expect(y, "scatter_d1_%s", tags[k]);
        nb_tensor *z = noncontig(x); /* a strided target */
        cr_assert_eq(nb_scatter_add_(z, 0, idx("sa0"), s), z, "%s", nb_last_error());
        expect(z, "scatter_add_d0_%s", tags[k]);
        /* unchanged input */
        expect(x, "x_%s", tags[k]);
    }
}

Test(index, index_add_every_dtype, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *x = in("x_%s", tags[k]), *s = in("s_%s", tags[k]);
        const double alpha = k == 3 ? 1 : 2;
        nb_tensor *s0 = nb_narrow(s, 0, 0, 3), *s1 = nb_narrow(s, 1, 0, 3);
        expect(nb_index_add(x, 0, idx("iadd"), s0, alpha), "index_add_d0_%s", tags[k]);
        expect(nb_index_add(x, 1, idx("iadd"), s1, alpha), "index_add_d1_%s", tags[k]);
        nb_tensor *y = noncontig(x);
        cr_assert_eq(nb_index_add_(y, 1, idx("iadd"), s1, alpha), y, "%s", nb_last_error());
        expect(y, "index_add_d1_%s", tags[k]);
    }
}

Test(index, embedding_values_and_gradients, IX)
{
    static const struct { int64_t pad; const char *tag; } pads[] = {{NB_NO_PADDING, "none"}, {2, "2"}, {-1, "m1"}};
    for (int k = 0; k < 2; k++) {
        for (int p = 0; p < 3; p++) {
            nb_tensor *w = nb_requires_grad_(nb_clone(in("emb_weight_%s", tags[k])), true);
            nb_tensor *out = nb_embedding(w, in("emb_ids_%s", tags[k]), pads[p].pad);
            char name[64];
            snprintf(name, sizeof name, "emb_out_%s_%%s", pads[p].tag);
            expect(out, name, tags[k]);
            cr_assert_str_eq(nb_grad_fn_name(out), "EmbeddingBackward");
            cr_assert_eq(nb_backward(nb_sum(nb_mul(out, in("emb_w_%s", tags[k])))), NB_OK, "%s", nb_last_error());
            snprintf(name, sizeof name, "emb_grad_%s_%%s", pads[p].tag);
            expect(nb_grad(w), name, tags[k]);
            nb_release(w);
        }
    }
    /* a transposed weight and strided indices give the same rows */
    nb_tensor *w = in("emb_weight_%s", "f32");
    nb_tensor *wt = nb_t(nb_contiguous(nb_t(w)));
    expect(nb_embedding(wt, noncontig(in("emb_ids_%s", "f32")), NB_NO_PADDING), "emb_out_none_%s", "f32");
    /* empty indices: (0, dim); 0-d indices: (dim,) */
    nb_tensor *e = nb_embedding(w, nb_zeros(NB_SHAPE(0), NB_OPTS(NB_INT64)), NB_NO_PADDING);
    cr_assert(e && nb_ndim(e) == 2 && nb_size(e, 0) == 0 && nb_size(e, 1) == 3, "%s", nb_last_error());
    nb_tensor *one = nb_embedding(w, nb_full(0, NULL, 4, NB_OPTS(NB_INT64)), NB_NO_PADDING);
    cr_assert(one != NULL, "%s", nb_last_error());
    assert_close(one, nb_select(w, 0, 4), 0, 0);
}

Test(index, one_hot, IX)
{
    nb_tensor *oh = golden("indexing/oh_idx");
    expect(nb_one_hot(oh, 5), "one_hot_5%s", "");
    expect(nb_one_hot(oh, -1), "one_hot_infer%s", "");
    expect(nb_one_hot(nb_t(oh), 4), "one_hot_t%s", "");
    expect(nb_one_hot(nb_full(0, NULL, 2, NB_OPTS(NB_INT64)), 4), "one_hot_scalar%s", "");
    nb_tensor *e = nb_one_hot(nb_zeros(NB_SHAPE(0), NB_OPTS(NB_INT64)), 3);
    cr_assert(e && nb_ndim(e) == 2 && nb_size(e, 0) == 0 && nb_size(e, 1) == 3, "%s", nb_last_error());
}

Test(index, stack_every_dtype, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *x = in("x_%s", tags[k]), *s = in("s_%s", tags[k]);
        expect(nb_stack(2, (nb_tensor *const[]){x, s}, 0), "stack_d0_%s", tags[k]);
        expect(nb_stack(3, (nb_tensor *const[]){x, noncontig(s), x}, 1), "stack_d1_%s", tags[k]);
        expect(nb_stack(2, (nb_tensor *const[]){nb_t(x), nb_t(s)}, -1), "stack_last_%s", tags[k]);
    }
}

Test(index, tril_triu_every_dtype, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *x = in("x_%s", tags[k]), *c = in("c_%s", tags[k]);
        expect(nb_tril(x, 0), "tril_%s", tags[k]);
        expect(nb_tril(c, -1), "tril_m1_%s", tags[k]);
        expect(nb_triu(x, 0), "triu_%s", tags[k]);
        expect(nb_triu(c, 2), "triu_2_%s", tags[k]);
        expect(nb_triu(nb_t(x), -1), "triu_t_%s", tags[k]);
    }
}

Test(index, repeat_flip_roll_every_dtype, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *x = in("x_%s", tags[k]), *c = in("c_%s", tags[k]);
        nb_tensor *corner = nb_narrow(nb_narrow(x, 0, 0, 2), 1, 0, 3);
        expect(nb_repeat(corner, NB_SHAPE(2, 1, 2)), "repeat_%s", tags[k]);
        expect(nb_repeat(nb_select(x, 0, 0), NB_SHAPE(2, 2)), "repeat_1d_%s", tags[k]);
        expect(nb_repeat(x, NB_SHAPE(0, 2)), "repeat_zero_%s", tags[k]);
        expect(nb_flip(c, NB_DIMS(0, 2)), "flip_%s", tags[k]);
        expect(nb_flip(nb_t(x), NB_DIMS(-1)), "flip_last_%s", tags[k]);
        const int64_t three = 3;
        expect(nb_roll(x, 1, &three, 0, NULL), "roll_flat_%s", tags[k]);
        expect(nb_roll(c, NB_SHAPE(1, -2), NB_DIMS(0, 2)), "roll_dims_%s", tags[k]);
        expect(nb_roll(x, NB_SHAPE(2, 7), NB_DIMS(1, 1)), "roll_twice_%s", tags[k]);
    }
    /* always copies */
    nb_tensor *x = in("x_%s", "f32");
    nb_tensor *same = nb_repeat(x, NB_SHAPE(1, 1));
    cr_assert(same && nb_data(same) != nb_data(x));
    nb_tensor *none = nb_flip(x, 0, NULL);
    cr_assert(none && nb_data(none) != nb_data(x));
}

Test(index, pad, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *c = in("c_%s", tags[k]);
        expect(nb_pad(c, NB_SHAPE(1, 2), NB_PAD_CONSTANT, k == 3 ? 1 : 1.5), "pad_const_%s", tags[k]);
        expect(nb_pad(c, NB_SHAPE(1, 1, 2, 0), NB_PAD_CONSTANT, k == 3 ? 0 : -2), "pad_const2_%s", tags[k]);
        expect(nb_pad(c, NB_SHAPE(-1, 2, 0, -1), NB_PAD_CONSTANT, 0), "pad_crop_%s", tags[k]);
    }
    for (int k = 0; k < 2; k++) {
        nb_tensor *c = in("c_%s", tags[k]);
        expect(nb_pad(c, NB_SHAPE(2, 1), NB_PAD_REFLECT, 0), "pad_reflect_%s", tags[k]);
        expect(nb_pad(c, NB_SHAPE(1, 3, 2, 1), NB_PAD_REFLECT, 0), "pad_reflect2_%s", tags[k]);
        expect(nb_pad(c, NB_SHAPE(2, 1, 0, 3), NB_PAD_REPLICATE, 0), "pad_replicate_%s", tags[k]);
        expect(nb_pad(nb_transpose(c, 1, 2), NB_SHAPE(3, 0), NB_PAD_REPLICATE, 0), "pad_replicate_t_%s", tags[k]);
    }
}

/* the sizes of the pieces, against torch's for dims of size 0 to 7 cut by 1 to 5 */
static void check_pieces(bool chunk)
{
    nb_tensor *want = golden(chunk ? "indexing/chunk_sizes" : "indexing/split_sizes"); /* (8, 5, 8) */
    const int64_t *w = nb_data(want);
    for (int n = 0; n < 8; n++) {
        nb_tensor *t = nb_arange(0, n, 1, NB_OPTS(NB_FLOAT32));
        for (int m = 1; m <= 5; m++) {
            nb_tensor *out[8];
            const int count = chunk ? nb_chunk(t, m, 0, 8, out) : nb_split(t, m, -1, 8, out);
            cr_assert_geq(count, 1, "%s", nb_last_error());
            cr_assert_eq(count, chunk ? nb_chunk(t, m, 0, 0, NULL) : nb_split(t, m, 0, 0, NULL));
            int64_t start = 0;
            for (int i = 0; i < 8; i++) {
                const int64_t size = w[(n * 5 + (m - 1)) * 8 + i];
                cr_assert_eq(i < count, size >= 0, "size %d by %d: piece %d", n, m, i);
                if (i >= count) continue;
                cr_assert_eq(nb_size(out[i], 0), size, "size %d by %d: piece %d", n, m, i);
                if (size > 0) cr_assert_eq((float *)nb_data(out[i]) - (float *)nb_data(t), start, "a view of t");
                start += size;
                nb_release(out[i]);
            }
        }
        nb_release(t);
    }
}

Test(index, split_and_chunk_sizes_match_torch, IX)
{
    check_pieces(false);
    check_pieces(true);
}

Test(index, split_pieces_are_views_recorded_for_autograd, IX)
{
    nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(4, 6), NB_OPTS(NB_FLOAT64)), true);
    nb_tensor *p[3];
    cr_assert_eq(nb_split_sizes(x, NB_SHAPE(1, 3, 2), 1, 3, p), 3, "%s", nb_last_error());
    cr_assert_str_eq(nb_grad_fn_name(p[1]), "NarrowBackward");
    cr_assert_eq(nb_size(p[1], 1), 3);
    /* d/dx sum(2 p0) + sum(p2 * p2): 2 in column 0, 2 x in columns 4 and 5, 0 elsewhere */
    nb_tensor *loss = nb_add(nb_sum(nb_mul_scalar(p[0], 2)), nb_sum(nb_mul(p[2], p[2])));
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    const double *g = nb_data(nb_grad(x)), *v = nb_data(x);
    for (int i = 0; i < 24; i++) {
        const int col = i % 6;
        const double want = col == 0 ? 2 : col >= 4 ? 2 * v[i] : 0;
        cr_assert_float_eq(g[i], want, 1e-12, "element %d", i);
    }
    nb_tensor *c[4];
    cr_assert_eq(nb_chunk(x, 4, 1, 4, c), 3, "6 by 4: pieces of 2"); /* as torch: 3 pieces */
    cr_assert_eq(nb_split(x, 4, 0, 1, c), 1);
    cr_assert_eq(nb_size(c[0], 0), 4);
}

/* expanded (stride 0) inputs and sources read as the values they show */
Test(index, expanded_inputs_and_sources, IX)
{
    for (int k = 0; k < 4; k++) {
        nb_tensor *row = nb_narrow(in("x_%s", tags[k]), 0, 0, 1); /* (1, 5) */
        nb_tensor *wide = nb_expand(row, NB_SHAPE(4, 5));
        assert_close(nb_index_select(wide, 0, idx("isel0")), nb_expand(row, NB_SHAPE(3, 5)), 0, 0);
        assert_close(nb_gather(wide, 0, idx("gat0")), nb_expand(row, NB_SHAPE(2, 5)), 0, 0);
        /* a source broadcast from one row scatters the same as its dense copy */
        nb_tensor *x = in("x_%s", tags[k]);
        assert_close(nb_scatter_add(x, 0, idx("sa0"), wide), nb_scatter_add(x, 0, idx("sa0"), nb_contiguous(wide)), 0, 0);
        assert_close(nb_index_add(x, 1, idx("iadd"), nb_expand(nb_narrow(row, 1, 0, 3), NB_SHAPE(4, 3)), 1),
                     nb_index_add(x, 1, idx("iadd"), nb_contiguous(nb_expand(nb_narrow(row, 1, 0, 3), NB_SHAPE(4, 3))), 1),
                     0, 0);
        /* an expanded index: every row takes the same picks */
        nb_tensor *picks = nb_expand(nb_narrow(idx("gat1"), 0, 0, 1), NB_SHAPE(4, 3));
        assert_close(nb_gather(x, 1, picks), nb_gather(x, 1, nb_contiguous(picks)), 0, 0);
    }
}

/* ---------------------------------------------------------------- determinism */

/* many float32 additions into one element: in the order of the index, every run */
Test(index, scatter_add_of_duplicates_adds_in_index_order, IX)
{
    enum { N = 4096 };
    nb_manual_seed(5);
    nb_tensor *src = nb_mul_scalar(nb_randn(NB_SHAPE(N), NB_OPTS(NB_FLOAT32)), 1000);
    nb_tensor *index = nb_zeros(NB_SHAPE(N), NB_OPTS(NB_INT64));
    nb_tensor *a = nb_scatter_add(nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), 0, index, src);
    const float *s = nb_data(src);
    float want = 0;
    for (int i = 0; i < N; i++) want += s[i];
    cr_assert(a != NULL, "%s", nb_last_error());
    cr_assert_eq(((float *)nb_data(a))[0], want, "sequential float32 sum");
    /* the embedding gradient likewise: 2-thread sized, row 3 gets every row of g */
    nb_set_num_threads(2);
    nb_tensor *w = nb_requires_grad_(nb_zeros(NB_SHAPE(5, 256), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *ids = nb_full(NB_SHAPE(N), 3, NB_OPTS(NB_INT64));
    nb_tensor *g = nb_randn(NB_SHAPE(N, 256), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_backward_ex(nb_embedding(w, ids, NB_NO_PADDING), g, false), NB_OK, "%s", nb_last_error());
    const float *gv = nb_data(g), *gw = nb_data(nb_grad(w));
    for (int j = 0; j < 256; j += 17) {
        float sum = 0;
        for (int i = 0; i < N; i++) sum += gv[(int64_t)i * 256 + j];
        cr_assert_eq(gw[3 * 256 + j], sum, "column %d", j);
        cr_assert_eq(gw[2 * 256 + j], 0);
    }
    nb_set_num_threads(0);
}

/* ---------------------------------------------------------------- indices out of range */

static nb_tensor *ints(int n, const int64_t *v) { return nb_from_array(v, 1, (int64_t[]){n}, NB_OPTS(NB_INT64)); }

Test(index, indices_out_of_range_are_named_and_nothing_is_written, IX)
{
    nb_tensor *x = nb_arange(0, 20, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *m = nb_reshape(x, NB_SHAPE(4, 5));
    nb_tensor *bad = ints(3, (const int64_t[]){1, 4, 2});
    cr_assert_null(nb_index_select(m, 0, bad));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_index_select", "index 4 at position 1", "dim 0 of size 4"));
    cr_assert_null(nb_index_select(m, 1, ints(2, (const int64_t[]){0, -1})));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_index_select", "index -1 at position 1", "size 5"));

    nb_tensor *g = nb_reshape(ints(4, (const int64_t[]){0, 1, 2, 9}), NB_SHAPE(2, 2));
    cr_assert_null(nb_gather(m, 1, g));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_gather", "index 9 at position 3", "dim 1 of size 5"));
    cr_assert_null(nb_scatter(m, 1, g, m));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_scatter", "index 9 at position 3"));
    nb_tensor *y = nb_clone(m);
    cr_assert_null(nb_scatter_add_(y, 1, g, m));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_scatter_add_", "index 9 at position 3"));
    cr_assert_null(nb_scatter_(y, 1, g, m));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_scatter_", "index 9 at position 3"));
    cr_assert_null(nb_index_add_(y, 0, bad, nb_narrow(m, 0, 0, 3), 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_index_add_", "index 4 at position 1", "size 4"));
    assert_close(y, m, 0, 0); /* nothing was written */
    cr_assert_null(nb_embedding(m, ints(3, (const int64_t[]){0, 3, 7}), NB_NO_PADDING));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_embedding", "index 7 at position 2", "size 4"));
    cr_assert_null(nb_one_hot(ints(3, (const int64_t[]){0, 3, 1}), 3));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_one_hot", "index 3 at position 1", "size 3"));
    cr_assert_null(nb_one_hot(ints(2, (const int64_t[]){0, -2}), -1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_one_hot", "non-negative", "-2"));
}

/* ---------------------------------------------------------------- other bad arguments */

Test(index, bad_arguments_are_refused_with_their_reason, IX)
{
    nb_tensor *m = nb_zeros(NB_SHAPE(4, 5), NB_OPTS(NB_FLOAT32));
    nb_tensor *i2 = nb_zeros(NB_SHAPE(2, 2), NB_OPTS(NB_INT64));
    nb_tensor *i1 = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_INT64));
    cr_assert_null(nb_index_select(m, 0, nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_index_select", "int64 index", "float32"));
    cr_assert_null(nb_index_select(m, 2, i1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_index_select", "2"));
    cr_assert_null(nb_index_select(m, 0, i2));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_index_select", "1-D", "[2, 2]"));
    cr_assert_null(nb_index_select(m, 0, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_index_select", "index"));
    cr_assert_null(nb_gather(m, 0, i1));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_gather", "index has 1 dims", "[4, 5]"));
    cr_assert_null(nb_gather(m, 0, nb_zeros(NB_SHAPE(2, 6), NB_OPTS(NB_INT64))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_gather", "[2, 6]", "dim 1", "at most 5"));
    cr_assert_null(nb_scatter(m, 0, i2, nb_zeros(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT64))));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_scatter", "float32", "float64"));
    cr_assert_null(nb_scatter_add(m, 0, i2, nb_zeros(NB_SHAPE(2, 1), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_scatter_add", "source", "[2, 1]"));
    cr_assert_null(nb_scatter_(nb_expand(nb_zeros(NB_SHAPE(1, 5), NB_OPTS(NB_FLOAT32)), NB_SHAPE(4, 5)), 0, i2,
                               nb_zeros(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32))));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_scatter_", "expanded"));
    cr_assert_null(nb_index_add(m, 0, i1, nb_zeros(NB_SHAPE(3, 5), NB_OPTS(NB_FLOAT32)), 1));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_index_add", "[3, 5]", "2 indices along dim 0", "[2, 5]") );
    nb_tensor *leaf = nb_requires_grad_(nb_zeros(NB_SHAPE(4, 5), NB_OPTS(NB_FLOAT32)), true);
    cr_assert_null(nb_index_add_(leaf, 0, i1, nb_zeros(NB_SHAPE(2, 5), NB_OPTS(NB_FLOAT32)), 1));
    assert_error(NB_ERR_AUTOGRAD, ERR_PARTS("nb_index_add_", "leaf"));

    cr_assert_null(nb_embedding(nb_zeros(NB_SHAPE(4), NB_OPTS(NB_FLOAT32)), i1, NB_NO_PADDING));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_embedding", "2-D weight", "[4]"));
    cr_assert_null(nb_embedding(m, i1, 4));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_embedding", "padding_idx 4", "4 embeddings", "-4 to 3"));
    cr_assert_null(nb_one_hot(nb_zeros(NB_SHAPE(0), NB_OPTS(NB_INT64)), -1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_one_hot", "empty"));
    cr_assert_null(nb_one_hot(i1, -3));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_one_hot", "-3"));
    cr_assert_null(nb_one_hot(m, 3));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_one_hot", "int64", "float32"));

    cr_assert_null(nb_stack(2, (nb_tensor *const[]){m, i2}, 0));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_stack", "tensor 1", "[2, 2]", "[4, 5]"));
    cr_assert_null(nb_stack(2, (nb_tensor *const[]){m, m}, 3));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_stack", "3"));
    cr_assert_null(nb_stack(0, NULL, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_stack", "at least one"));
    nb_tensor *out[2];
    cr_assert_eq(nb_split(m, 2, 1, 2, out), -1);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_split", "3 pieces", "2 places"));
    cr_assert_eq(nb_split(m, 0, 1, 2, out), -1);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_split", "split_size 0", "size 5"));
    cr_assert_eq(nb_split_sizes(m, NB_SHAPE(2, 2), 1, 2, out), -1);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_split_sizes", "[2, 2]", "add up to 5"));
    cr_assert_eq(nb_chunk(m, 0, 0, 2, out), -1);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_chunk", "at least 1 chunk", "0"));
    cr_assert_eq(nb_split(nb_zeros(0, NULL, NB_OPTS(NB_FLOAT32)), 1, 0, 2, out), -1);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_split", "0-d"));

    cr_assert_null(nb_pad(m, NB_SHAPE(1), NB_PAD_CONSTANT, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_pad", "even"));
    cr_assert_null(nb_pad(m, NB_SHAPE(1, 1, 1, 1, 1, 1), NB_PAD_CONSTANT, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_pad", "3 dims", "2"));
    cr_assert_null(nb_pad(m, NB_SHAPE(-3, -3), NB_PAD_CONSTANT, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_pad", "(-3, -3)", "size 5"));
    cr_assert_null(nb_pad(m, NB_SHAPE(5, 1), NB_PAD_REFLECT, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_pad", "reflect", "(5, 1)", "size 5"));
    cr_assert_null(nb_pad(nb_zeros(NB_SHAPE(5), NB_OPTS(NB_FLOAT32)), NB_SHAPE(1, 1), NB_PAD_REPLICATE, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_pad", "replicate", "[5]"));
    cr_assert_null(nb_pad(m, NB_SHAPE(1, 1), (nb_pad_mode)7, 0));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_pad", "mode 7"));

    cr_assert_null(nb_tril(i1, 0));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_tril", "at least 2 dims", "[2]"));
    cr_assert_null(nb_triu(nb_zeros(0, NULL, NB_OPTS(NB_FLOAT32)), 0));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_triu", "[]"));
    cr_assert_null(nb_repeat(m, NB_SHAPE(2)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_repeat", "1 repeats", "2-d"));
    cr_assert_null(nb_repeat(m, NB_SHAPE(2, -1)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_repeat", "-1", "dim 1"));
    cr_assert_null(nb_repeat(m, NB_SHAPE(INT64_MAX / 2, 2)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_repeat"));
    cr_assert_null(nb_flip(m, NB_DIMS(0, -2)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_flip", "dim 0", "more than once"));
    cr_assert_null(nb_roll(m, NB_SHAPE(1, 2), NB_DIMS(0)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_roll", "2 shifts and 1 dims"));
    cr_assert_null(nb_roll(m, NB_SHAPE(1, 2), 0, NULL));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_roll", "2 shifts", "no dims"));
}

/* ---------------------------------------------------------------- on a GPU */

#define GPU NB_DEVICE_CUDA(0)

static nb_tensor *on_gpu(nb_tensor *t) { return nb_to(t, GPU); }

/* A bad index on a GPU is found by the device and reported at the next synchronisation, naming
 * the op; the device goes on working. */
Test(index, cuda_bad_indices_are_reported_at_the_next_synchronisation, IX)
{
    if (nb_cuda_device_count() == 0) cr_skip_test("no CUDA device: %s", nb_cuda_available_reason());
    nb_tensor *m = on_gpu(nb_reshape(nb_arange(0, 20, 1, NB_OPTS(NB_FLOAT32)), NB_SHAPE(4, 5)));
    nb_tensor *g = on_gpu(nb_reshape(ints(4, (const int64_t[]){0, 1, 2, 9}), NB_SHAPE(2, 2)));
    nb_tensor *out = nb_gather(m, 1, g);
    cr_assert_not_null(out, "%s", nb_last_error());
    assert_ok();
    float v[4];
    cr_assert_eq(nb_copy_to_array(out, v, sizeof v), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_gather", "cuda:0", "index 9 at position 3", "size 5"));
    cr_assert_eq(nb_copy_to_array(out, v, sizeof v), NB_OK, "%s", nb_last_error());
    cr_assert(v[0] == 0 && v[1] == 1 && v[2] == 7 && v[3] != v[3], "the bad element is NaN");

    nb_tensor *y = nb_clone(m);
    cr_assert_eq(nb_scatter_add_(y, 1, g, m), y, "%s", nb_last_error());
    nb_item(nb_sum(y)); /* a synchronisation */
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_scatter_add_", "index 9 at position 3"));
    nb_tensor *e = nb_embedding(m, on_gpu(ints(3, (const int64_t[]){0, 3, -7})), NB_NO_PADDING);
    cr_assert_not_null(e, "%s", nb_last_error());
    nb_item(nb_sum(e));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_embedding", "index -7 at position 2", "size 4"));
    nb_tensor *oh = nb_one_hot(on_gpu(ints(2, (const int64_t[]){1, 3})), 3);
    cr_assert_not_null(oh, "%s", nb_last_error());
    nb_item(nb_sum(oh));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_one_hot", "index 3 at position 1", "size 3"));
    /* and then good indices work */
    nb_tensor *ok = nb_index_select(m, 0, on_gpu(ints(2, (const int64_t[]){3, 0})));
    cr_assert_eq(nb_item(nb_sum(ok)), 15 + 16 + 17 + 18 + 19 + 0 + 1 + 2 + 3 + 4, "%s", nb_last_error());
}
