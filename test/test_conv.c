/* test_conv.c — nb_conv2d, nb_conv1d and nb_conv_transpose2d (suite conv): outputs and the
 * gradients of the input, weight and bias against PyTorch's (golden/conv, made by
 * golden/gen_conv.py) in both dtypes over strides, paddings (explicit, valid, same with an even
 * kernel), dilations, groups (depthwise included), 1x1 kernels, odd sizes, empty and unbatched
 * inputs, with and without bias, contiguous and not, both by the CPU's whole convolution (by
 * columns, or by Winograd's transforms for 3x3 windows of 16 channels or more) and composed of
 * columns and a product (CUDA's way); the two against each other over batches that split into
 * chunks, tiles and Winograd's units, gradients that do not depend on the thread count; and
 * every error. */
#include "helpers.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct dtype_case {
    const char *tag; /* golden file suffix */
    nb_dtype dtype;
    double rtol, atol;
} dtype_case;

static const dtype_case cases[2] = {
    {"f32", NB_FLOAT32, 1e-4, 1e-5},
    {"f64", NB_FLOAT64, 1e-10, 1e-12},
};

/* the cases of gen_conv.py */
static const char *const names[] = {
    "c2_basic", "c2_stride_pad", "c2_dilation", "c2_groups",  "c2_depthwise",  "c2_same_even",
    "c2_valid", "c2_1x1",        "c2_1x1_stride", "c2_empty", "c2_unbatched", "c1_basic",
    "c1_same",  "t2_basic",      "t2_stride",   "t2_groups_dilation", "t2_depthwise",
    "c2_winograd", "c2_winograd_pad2", "c2_winograd_pad3",
};

/* golden/conv/NAME_KEY[_TAG].npy */
static nb_tensor *gold(const char *name, const char *key, const char *tag)
{
    char path[128];
    if (tag) snprintf(path, sizeof path, "conv/%s_%s_%s", name, key, tag);
    else snprintf(path, sizeof path, "conv/%s_%s", name, key);
    return golden(path);
}

static nb_tensor *leaf(nb_tensor *t) { return nb_requires_grad_(nb_detach(t), true); }

/* lib/nn/conv.c: the CPU composes convolutions of im2col and a product, as CUDA does */
void nb__conv_compose_on_cpu(bool on);
bool nb__autograd_graph_has(const nb_tensor *t, const char *name);

/* The case's op on (x, w, b) with its options (opts: gen_conv.py's row). */
static nb_tensor *run_case(const int64_t *opts, nb_tensor *x, nb_tensor *w, nb_tensor *b)
{
    switch (opts[0]) {
    case 0: {
        nb_conv2d_options o = {.stride = {opts[1], opts[2]},
                               .padding = {opts[3], opts[4]},
                               .dilation = {opts[5], opts[6]},
                               .groups = opts[7],
                               .padding_rule = (nb_conv_padding)opts[8]};
        return nb_conv2d(x, w, b, &o);
    }
    case 1: {
        nb_conv1d_options o = {.stride = opts[2], .padding = opts[4], .dilation = opts[6], .groups = opts[7],
                               .padding_rule = (nb_conv_padding)opts[8]};
        return nb_conv1d(x, w, b, &o);
    }
    default: {
        nb_conv_transpose2d_options o = {.stride = {opts[1], opts[2]},
                                         .padding = {opts[3], opts[4]},
                                         .dilation = {opts[5], opts[6]},
                                         .groups = opts[7],
                                         .output_padding = {opts[9], opts[10]}};
        return nb_conv_transpose2d(x, w, b, &o);
    }
    }
}

static void check_case(const dtype_case *c, const char *name, bool strided)
{
    nb_scope_begin();
    nb_tensor *opt_t = gold(name, "opts", NULL);
    int64_t opts[12];
    memcpy(opts, nb_data(opt_t), sizeof opts);
    const bool has_bias = opts[11] != 0;
    nb_tensor *x = gold(name, "x", c->tag), *w = gold(name, "w", c->tag);
    if (strided && nb_numel(x) > 0) {
        x = noncontig(x);
        w = noncontig(w);
        cr_assert(!nb_is_contiguous(x) || !nb_is_contiguous(w), "%s", name);
    }
    nb_tensor *in[3] = {leaf(x), leaf(w), has_bias ? leaf(gold(name, "b", c->tag)) : NULL};
    nb_tensor *y = run_case(opts, in[0], in[1], in[2]);
    cr_assert(y != NULL, "%s %s: %s", name, c->tag, nb_last_error());
    assert_close(y, gold(name, "y", c->tag), c->rtol, c->atol);
    nb_tensor *grads[3] = {0};
    nb_tensor *g = gold(name, "gy", c->tag);
    const int n = has_bias ? 3 : 2;
    cr_assert_eq(nb_grad_of(1, &y, &g, n, in, grads, false), NB_OK, "%s: %s", name, nb_last_error());
    const char *keys[3] = {"gx", "gw", "gb"};
    for (int i = 0; i < n; i++) assert_close(grads[i], gold(name, keys[i], c->tag), c->rtol, c->atol);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(conv, matches_pytorch_forward_and_gradients, .init = nb_test_setup)
{
    for (int composed = 0; composed < 2; composed++) {
        nb__conv_compose_on_cpu(composed);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            for (int k = 0; k < 2; k++)
                for (int strided = 0; strided < 2; strided++) check_case(&cases[k], names[i], strided);
    }
    nb__conv_compose_on_cpu(false);
}

Test(conv, records_the_whole_and_the_column_nodes, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_requires_grad_(nb_ones(NB_SHAPE(1, 2, 5, 5), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *w = nb_ones(NB_SHAPE(3, 2, 3, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *y = nb_conv2d(x, w, NULL, NULL);
    cr_assert(y != NULL, "%s", nb_last_error());
    cr_assert_eq(nb_ndim(y), 4);
    cr_assert_eq(nb_shape(y)[2], 3);
    cr_assert_str_eq(nb_grad_fn_name(y), "ConvolutionBackward");
    nb__conv_compose_on_cpu(true);
    nb_tensor *yc = nb_conv2d(x, w, NULL, NULL);
    nb__conv_compose_on_cpu(false);
    cr_assert(yc != NULL && nb__autograd_graph_has(yc, "Im2colBackward"), "%s", nb_last_error());
    assert_close(yc, y, 0, 0);
    nb_tensor *wt = nb_ones(NB_SHAPE(2, 3, 3, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *z = nb_conv_transpose2d(x, wt, NULL, NULL);
    cr_assert(z != NULL, "%s", nb_last_error());
    cr_assert_str_eq(nb_grad_fn_name(z), "Col2imBackward");
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(conv, same_padding_keeps_the_size_and_defaults_match_null_options, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_randn(NB_SHAPE(2, 3, 9, 8), NB_OPTS(NB_FLOAT64));
    nb_tensor *w = nb_randn(NB_SHAPE(4, 3, 4, 3), NB_OPTS(NB_FLOAT64));
    nb_conv2d_options o = NB_CONV2D_DEFAULTS;
    o.padding_rule = NB_CONV_PADDING_SAME;
    o.dilation[0] = 3;
    nb_tensor *y = nb_conv2d(x, w, NULL, &o);
    cr_assert(y != NULL, "%s", nb_last_error());
    cr_assert(nb_shape(y)[2] == 9 && nb_shape(y)[3] == 8);
    nb_conv2d_options d = NB_CONV2D_DEFAULTS;
    assert_close(nb_conv2d(x, w, NULL, NULL), nb_conv2d(x, w, NULL, &d), 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- the whole convolution */

/* One layer: x (n, c, h, w), the weight (o, c / groups, kh, kw), bias or not, and options. */
typedef struct layer_case {
    const char *what;
    int64_t n, c, h, w, o, kh, kw;
    nb_conv2d_options opts;
    bool bias;
} layer_case;

static const layer_case layers[] = {
    {"37 images (chunks of 2 and 3), 3x3 same", 37, 3, 9, 7, 5, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1, 0}, true},
    {"one image, stride 2, dilation (2,1)", 1, 4, 11, 10, 6, 3, 2, {{2, 2}, {2, 0}, {2, 1}, 1, 0}, true},
    {"20 images, groups 3, no bias", 20, 6, 8, 8, 9, 3, 3, {{1, 2}, {1, 1}, {1, 1}, 3, 0}, false},
    {"17 images, 1x1 (x is its own columns)", 17, 5, 6, 5, 4, 1, 1, {{1, 1}, {0, 0}, {1, 1}, 1, 0}, true},
    {"9 images, 1x1 stride 2", 9, 3, 7, 7, 2, 1, 1, {{2, 2}, {0, 0}, {1, 1}, 1, 0}, true},
    {"5 images of 1 MB of columns each (tiles of one)", 5, 32, 64, 64, 4, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1, 0}, true},
    {"depthwise, 19 images", 19, 4, 5, 6, 4, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 4, 0}, true},
    {"windows wider than the image's padding", 3, 2, 4, 3, 3, 5, 5, {{1, 1}, {2, 2}, {1, 1}, 1, 0}, false},
    /* 3x3, stride 1, 16 channels or more: Winograd's F(2x2, 3x3) */
    {"Winograd: 21 images of 16 -> 24 channels, 7x5", 21, 16, 7, 5, 24, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1, 0}, true},
    {"Winograd: one image, padding (0, 2)", 1, 16, 6, 9, 16, 3, 3, {{1, 1}, {0, 2}, {1, 1}, 1, 0}, false},
    {"Winograd: padding 3 (the input's gradient by columns)", 2, 16, 4, 4, 16, 3, 3, {{1, 1}, {3, 3}, {1, 1}, 1, 0},
     true},
    {"Winograd: 40x33, 32 -> 32", 2, 32, 40, 33, 32, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1, 0}, true},
    /* Winograd's units are 4 MB of transformed tiles (2 KB a tile at 16 -> 16): an image of 2250
     * tiles takes two units of rows; images of 1024 tiles go two to a unit, 20 units in 16 chunks */
    {"Winograd: rows of one image per unit (2 images of 100x90)", 2, 16, 100, 90, 16, 3, 3,
     {{1, 1}, {1, 1}, {1, 1}, 1, 0}, true},
    {"Winograd: 40 images of 64x64, chunks of two units", 40, 16, 64, 64, 16, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1, 0},
     true},
    {"Winograd: 1x1 output", 4, 16, 3, 3, 16, 3, 3, {{1, 1}, {0, 0}, {1, 1}, 1, 0}, true},
    {"Winograd: one image of one pixel (a unit of one tile)", 1, 16, 1, 1, 16, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1, 0},
     true},
    {"1x1 kernel, one channel, one pixel (matrices of one column)", 1, 1, 1, 1, 3, 1, 1, {{1, 1}, {0, 0}, {1, 1}, 1, 0},
     true},
};

/* y and the gradients (x, weight, bias) of a layer case for gy, by the whole op or composed;
 * wants: which of x and the weight take gradients (the bias always, where there is one). */
static void run_layer(const layer_case *l, nb_dtype dt, bool composed, bool want_x, bool want_w, nb_tensor **out)
{
    nb_manual_seed(41);
    nb_tensor *x = nb_randn(NB_SHAPE(l->n, l->c, l->h, l->w), NB_OPTS(dt));
    nb_tensor *w = nb_randn(NB_SHAPE(l->o, l->c / l->opts.groups, l->kh, l->kw), NB_OPTS(dt));
    nb_tensor *b = l->bias ? nb_randn(NB_SHAPE(l->o), NB_OPTS(dt)) : NULL;
    nb_tensor *in[3] = {want_x ? leaf(x) : x, want_w ? leaf(w) : w, b ? leaf(b) : NULL};
    nb__conv_compose_on_cpu(composed);
    nb_tensor *y = nb_conv2d(in[0], in[1], in[2], &l->opts);
    nb__conv_compose_on_cpu(false);
    cr_assert(y != NULL, "%s: %s", l->what, nb_last_error());
    nb_tensor *gy = nb_randn(nb_ndim(y), nb_shape(y), NB_OPTS(dt));
    nb_tensor *wrt[3], *grads[3] = {NULL};
    int n = 0;
    for (int i = 0; i < 3; i++)
        if (in[i] && nb_requires_grad(in[i])) wrt[n++] = in[i];
    cr_assert_eq(nb_grad_of(1, &y, &gy, n, wrt, grads, false), NB_OK, "%s: %s", l->what, nb_last_error());
    out[0] = y;
    for (int i = 0, k = 0; i < 3; i++) out[1 + i] = in[i] && nb_requires_grad(in[i]) ? grads[k++] : NULL;
}

Test(conv, whole_matches_composed_over_chunks_tiles_and_groups, .init = nb_test_setup)
{
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        for (int k = 0; k < 2; k++)
            for (int wants = 1; wants < 4; wants++) { /* x, the weight, or both */
                nb_scope_begin();
                nb_tensor *whole[4], *composed[4];
                const bool want_x = wants & 1, want_w = wants & 2;
                run_layer(&layers[i], cases[k].dtype, false, want_x, want_w, whole);
                run_layer(&layers[i], cases[k].dtype, true, want_x, want_w, composed);
                for (int j = 0; j < 4; j++) {
                    cr_assert_eq(whole[j] == NULL, composed[j] == NULL, "%s: output %d", layers[i].what, j);
                    /* Winograd's transforms round at the scale of the sums' terms, not of each
                     * result: the absolute tolerance follows the largest result */
                    if (whole[j])
                        assert_close(whole[j], composed[j], cases[k].rtol,
                                     cases[k].atol * fmax(1.0, nb_item(nb_max(nb_abs(composed[j])))));
                }
                cr_assert_eq(nb_scope_end(), NB_OK);
            }
}

/* A random layer case: small sizes, any stride, padding, dilation and groups, a third of them 3x3
 * of stride 1 with 16 channels or more (Winograd's), valid for the window to fit. */
static layer_case random_layer(uint64_t *state)
{
    uint64_t *s = state;
#define DRAW(lo, hi)                                                                                          \
    ((int64_t)((*s = *s * 6364136223846793005ull + 1442695040888963407ull) >> 33) % ((hi) - (lo) + 1) + (lo))
    layer_case l = {.what = "a random layer", .bias = DRAW(0, 1) == 1};
    const bool winograd = DRAW(0, 2) == 0;
    l.opts.groups = winograd ? 1 : DRAW(1, 3);
    l.n = DRAW(1, 20);
    l.c = winograd ? DRAW(16, 20) : l.opts.groups * DRAW(1, 4);
    l.o = winograd ? DRAW(16, 20) : l.opts.groups * DRAW(1, 4);
    l.kh = winograd ? 3 : DRAW(1, 4), l.kw = winograd ? 3 : DRAW(1, 4);
    for (int d = 0; d < 2; d++) {
        l.opts.stride[d] = winograd ? 1 : DRAW(1, 3);
        l.opts.dilation[d] = winograd ? 1 : DRAW(1, 2);
        l.opts.padding[d] = DRAW(0, 3);
    }
    /* the input at least as large as the dilated window, less the padding */
    const int64_t eh = l.opts.dilation[0] * (l.kh - 1) + 1, ew = l.opts.dilation[1] * (l.kw - 1) + 1;
    l.h = DRAW(1, 9), l.w = DRAW(1, 9);
    if (l.h + 2 * l.opts.padding[0] < eh) l.h = eh;
    if (l.w + 2 * l.opts.padding[1] < ew) l.w = ew;
#undef DRAW
    static char what[200]; /* the case, for failure messages */
    snprintf(what, sizeof what,
             "x (%lld, %lld, %lld, %lld), weight (%lld, %lld, %lld, %lld), stride (%lld, %lld), padding (%lld, %lld), "
             "dilation (%lld, %lld), groups %lld, %s bias",
             (long long)l.n, (long long)l.c, (long long)l.h, (long long)l.w, (long long)l.o,
             (long long)(l.c / l.opts.groups), (long long)l.kh, (long long)l.kw, (long long)l.opts.stride[0],
             (long long)l.opts.stride[1], (long long)l.opts.padding[0], (long long)l.opts.padding[1],
             (long long)l.opts.dilation[0], (long long)l.opts.dilation[1], (long long)l.opts.groups,
             l.bias ? "with" : "no");
    l.what = what;
    return l;
}

Test(conv, whole_matches_composed_on_random_layers, .init = nb_test_setup)
{
    uint64_t state = 20261205;
    for (int i = 0; i < 150; i++) {
        const layer_case l = random_layer(&state);
        nb_scope_begin();
        nb_tensor *whole[4], *composed[4];
        run_layer(&l, NB_FLOAT64, false, true, true, whole);
        run_layer(&l, NB_FLOAT64, true, true, true, composed);
        for (int j = 0; j < 4; j++) {
            cr_assert_eq(whole[j] == NULL, composed[j] == NULL, "case %d, %s: output %d", i, l.what, j);
            if (!whole[j]) continue;
            cr_assert_eq(nb_numel(whole[j]), nb_numel(composed[j]), "case %d, %s: output %d", i, l.what, j);
            const double scale = fmax(1.0, nb_item(nb_max(nb_abs(composed[j]))));
            const double diff = nb_numel(whole[j]) ? nb_item(nb_max(nb_abs(nb_sub(whole[j], composed[j])))) : 0;
            cr_assert(diff <= 1e-12 * scale, "case %d, %s: output %d differs by %g (the largest is %g)", i, l.what, j,
                      diff, scale);
        }
        cr_assert_eq(nb_scope_end(), NB_OK, "case %d, %s: %s", i, l.what, nb_last_error());
    }
}

Test(conv, gradients_do_not_depend_on_the_thread_count, .init = nb_test_setup)
{
    const int threads = nb_get_num_threads();
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        nb_scope_begin();
        nb_tensor *one[4], *two[4];
        nb_set_num_threads(1);
        run_layer(&layers[i], NB_FLOAT32, false, true, true, one);
        nb_set_num_threads(2);
        run_layer(&layers[i], NB_FLOAT32, false, true, true, two);
        for (int j = 0; j < 4; j++)
            if (one[j]) assert_close(two[j], one[j], 0, 0);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
    nb_set_num_threads(threads);
}

Test(conv, backward_refuses_an_input_modified_in_place, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = nb_requires_grad_(nb_randn(NB_SHAPE(2, 2, 5, 5), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *h = nb_mul_scalar(x, 2.0);
    nb_tensor *w = nb_requires_grad_(nb_randn(NB_SHAPE(3, 2, 3, 3), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *y = nb_conv2d(h, w, NULL, NULL);
    cr_assert(y != NULL, "%s", nb_last_error());
    nb_add_scalar_(h, 1.0); /* the saved input changes */
    cr_assert_eq(nb_backward(nb_sum(y)), NB_ERR_AUTOGRAD);
    cr_assert(strstr(nb_last_error(), "ConvolutionBackward") != NULL, "%s", nb_last_error());
    nb_clear_error();
    cr_assert_eq(nb_scope_end(), NB_OK);
}

/* ---------------------------------------------------------------- errors */

static nb_tensor *t32(int ndim, const int64_t *shape) { return nb_ones(ndim, shape, NB_OPTS(NB_FLOAT32)); }

Test(conv, rejects_bad_tensors, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = t32(NB_SHAPE(2, 4, 5, 5)), *w = t32(NB_SHAPE(6, 4, 3, 3)), *b = t32(NB_SHAPE(6));

    cr_assert_null(nb_conv2d(t32(NB_SHAPE(4, 5)), w, b, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "4-D", "[4, 5]", "2-D"));
    cr_assert_null(nb_conv2d(x, t32(NB_SHAPE(6, 4, 3)), b, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "4-D weight", "[6, 4, 3]"));
    cr_assert_null(nb_conv2d(x, w, t32(NB_SHAPE(6, 1)), NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "1-D bias", "[6, 1]"));
    cr_assert_null(nb_conv2d(x, w, t32(NB_SHAPE(5)), NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "bias of 6", "[5]"));
    cr_assert_null(nb_conv2d(x, t32(NB_SHAPE(6, 3, 3, 3)), b, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "4 channels", "[2, 4, 5, 5]", "[6, 3, 3, 3]"));
    nb_conv2d_options g = NB_CONV2D_DEFAULTS;
    g.groups = 3; /* 4 channels do not divide into 3 groups */
    cr_assert_null(nb_conv2d(x, t32(NB_SHAPE(6, 1, 3, 3)), b, &g));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "3 groups", "[2, 4, 5, 5]", "[6, 1, 3, 3]"));
    g.groups = 4; /* 6 outputs do not divide into 4 groups */
    cr_assert_null(nb_conv2d(x, t32(NB_SHAPE(6, 1, 3, 3)), b, &g));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "6 outputs", "4 groups"));
    cr_assert_null(nb_conv2d(x, t32(NB_SHAPE(6, 4, 6, 3)), b, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "kernel [6, 3]", "larger than the padded input [5, 5]"));
    nb_conv2d_options dil = NB_CONV2D_DEFAULTS;
    dil.dilation[1] = 3; /* a 3-wide kernel dilated by 3 reaches 7 > 5 + 2·0 */
    cr_assert_null(nb_conv2d(x, w, b, &dil));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "dilated to 7", "spatial dim 1"));

    nb_tensor *x64 = nb_ones(NB_SHAPE(2, 4, 5, 5), NB_OPTS(NB_FLOAT64));
    cr_assert_null(nb_conv2d(x64, w, NULL, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_conv2d", "weight", "float64", "float32"));
    cr_assert_null(nb_conv2d(x, w, nb_ones(NB_SHAPE(6), NB_OPTS(NB_FLOAT64)), NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_conv2d", "bias", "float32", "float64"));
    cr_assert_null(nb_conv2d(nb_ones(NB_SHAPE(2, 4, 5, 5), NB_OPTS(NB_INT64)), w, NULL, NULL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_conv2d", "float32 or float64", "int64"));
    cr_assert_null(nb_conv2d(NULL, w, NULL, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_conv2d", "input is NULL"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(conv, rejects_bad_options, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = t32(NB_SHAPE(2, 4, 5, 5)), *w = t32(NB_SHAPE(6, 4, 3, 3));
    nb_conv2d_options o = NB_CONV2D_DEFAULTS;
    o.stride[1] = 0;
    cr_assert_null(nb_conv2d(x, w, NULL, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d", "positive stride", "0"));
    o = NB_CONV2D_DEFAULTS;
    o.dilation[0] = -1;
    cr_assert_null(nb_conv2d(x, w, NULL, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d", "positive dilation", "-1"));
    o = NB_CONV2D_DEFAULTS;
    o.padding[0] = -2;
    cr_assert_null(nb_conv2d(x, w, NULL, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d", "non-negative padding", "-2"));
    o = NB_CONV2D_DEFAULTS;
    o.groups = 0;
    cr_assert_null(nb_conv2d(x, w, NULL, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d", "positive number of groups", "0"));
    o = NB_CONV2D_DEFAULTS;
    o.padding_rule = NB_CONV_PADDING_SAME;
    o.stride[0] = 2;
    cr_assert_null(nb_conv2d(x, w, NULL, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d", "padding same", "strided", "stride 2, 1"));
    o = NB_CONV2D_DEFAULTS;
    o.padding_rule = (nb_conv_padding)7;
    cr_assert_null(nb_conv2d(x, w, NULL, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv2d", "padding rule", "7"));

    nb_conv1d_options o1 = NB_CONV1D_DEFAULTS;
    o1.stride = 0;
    cr_assert_null(nb_conv1d(t32(NB_SHAPE(2, 4, 5)), t32(NB_SHAPE(6, 4, 3)), NULL, &o1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv1d", "positive stride"));
    cr_assert_null(nb_conv1d(t32(NB_SHAPE(2, 4, 5, 1)), t32(NB_SHAPE(6, 4, 3)), NULL, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv1d", "3-D (batched) or 2-D", "[2, 4, 5, 1]"));
    cr_assert_null(nb_conv1d(t32(NB_SHAPE(2, 4, 2)), t32(NB_SHAPE(6, 4, 3)), NULL, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv1d", "larger than the padded input"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(conv, transpose_rejects_bad_arguments, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = t32(NB_SHAPE(2, 4, 5, 5));
    cr_assert_null(nb_conv_transpose2d(x, t32(NB_SHAPE(3, 2, 3, 3)), NULL, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv_transpose2d", "4 channels", "[2, 4, 5, 5]", "[3, 2, 3, 3]"));
    nb_conv_transpose2d_options o = NB_CONV_TRANSPOSE2D_DEFAULTS;
    o.groups = 3;
    cr_assert_null(nb_conv_transpose2d(x, t32(NB_SHAPE(4, 2, 3, 3)), NULL, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv_transpose2d", "3 groups"));
    o = NB_CONV_TRANSPOSE2D_DEFAULTS;
    o.output_padding[0] = 1; /* not below stride 1 or dilation 1 */
    cr_assert_null(nb_conv_transpose2d(x, t32(NB_SHAPE(4, 2, 3, 3)), NULL, &o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_conv_transpose2d", "output_padding smaller", "output_padding 1"));
    o = NB_CONV_TRANSPOSE2D_DEFAULTS;
    o.padding[1] = 4; /* (5 - 1) - 8 + 2 + 1 < 1 */
    cr_assert_null(nb_conv_transpose2d(x, t32(NB_SHAPE(4, 2, 3, 3)), NULL, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv_transpose2d", "size -1 in spatial dim 1"));
    cr_assert_null(nb_conv_transpose2d(x, t32(NB_SHAPE(4, 2, 3, 3)), t32(NB_SHAPE(3)), NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv_transpose2d", "bias of 2", "[3]"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(conv, rejects_empty_kernels_and_options_that_overflow, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x = t32(NB_SHAPE(2, 4, 5, 5)), *w = t32(NB_SHAPE(6, 4, 3, 3));
    cr_assert_null(nb_conv2d(x, t32(NB_SHAPE(6, 4, 0, 3)), NULL, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "kernel of positive sizes", "[6, 4, 0, 3]"));
    cr_assert_null(nb_conv_transpose2d(x, t32(NB_SHAPE(4, 2, 3, 0)), NULL, NULL));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv_transpose2d", "kernel of positive sizes"));
    nb_conv2d_options o = NB_CONV2D_DEFAULTS;
    o.dilation[1] = INT64_MAX;
    cr_assert_null(nb_conv2d(x, w, NULL, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "overflow", "spatial dim 1"));
    o = NB_CONV2D_DEFAULTS;
    o.padding[0] = INT64_MAX / 2;
    cr_assert_null(nb_conv2d(x, w, NULL, &o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv2d", "overflow", "spatial dim 0"));
    nb_conv_transpose2d_options t = NB_CONV_TRANSPOSE2D_DEFAULTS;
    t.stride[0] = INT64_MAX / 2;
    cr_assert_null(nb_conv_transpose2d(x, t32(NB_SHAPE(4, 2, 3, 3)), NULL, &t));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_conv_transpose2d", "overflow", "spatial dim 0"));
    cr_assert_eq(nb_scope_end(), NB_OK);
}
