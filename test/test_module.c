/* test_module.c — named modules (nb_module) and named parameter lists: a nested model's names and
 * their order against PyTorch's named_parameters(), named_buffers() and state_dict() for the same
 * structure (the lists in golden/module/, made by test/golden/gen_module.py), train/eval reaching nested layers,
 * refused names; and the Embedding and LayerNorm layers against PyTorch's. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the model of gen_module.py */

#define WIDTH 8
#define VOCAB 11

typedef struct block {
    nb_layer_norm_layer *ln1, *ln2;
    nb_linear *qkv, *attn_proj, *fc, *proj;
    nb_dropout_layer *drop;
    nb_tensor *mask; /* (4, 4) buffer */
} block;

typedef struct model {
    nb_embedding_layer *wte;
    block blocks[2];
    nb_conv2d_layer *conv;
    nb_batch_norm2d *bn;
    nb_tensor *scale, *steps;
    nb_layer_norm_layer *ln_f;
    nb_module *root;
} model;

static const int64_t width_shape[1] = {WIDTH};

static nb_module *block_module(block *b)
{
    const nb_options o = NB_OPTS(NB_FLOAT32);
    b->ln1 = nb_layer_norm_layer_new(1, width_shape, 1e-5, true, o);
    b->qkv = nb_linear_new(WIDTH, 3 * WIDTH, true, o);
    b->attn_proj = nb_linear_new(WIDTH, WIDTH, true, o);
    b->drop = nb_dropout_layer_new(0.1);
    nb_tensor *ones = nb_ones(NB_SHAPE(4, 4), o);
    b->mask = nb_tril(ones, 0);
    nb_release(ones);
    b->ln2 = nb_layer_norm_layer_new(1, width_shape, 1e-5, true, o);
    b->fc = nb_linear_new(WIDTH, 4 * WIDTH, true, o);
    b->proj = nb_linear_new(4 * WIDTH, WIDTH, true, o);
    nb_module *m = nb_module_new("Block");
    nb_module *attn = nb_module_new("Attention");
    /* PyTorch lists the buffer "mask" after qkv's tensors though it was registered first: a module's
     * own tensors come before its children's */
    cr_assert_eq(nb_linear_register(b->qkv, attn, "qkv"), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_module_add_buffer(attn, "mask", b->mask), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_linear_register(b->attn_proj, attn, "proj"), NB_OK);
    cr_assert_eq(nb_dropout_layer_register(b->drop, attn, "drop"), NB_OK);
    cr_assert_eq(nb_layer_norm_layer_register(b->ln1, m, "ln1"), NB_OK);
    cr_assert_eq(nb_module_add_child(m, "attn", attn), NB_OK);
    cr_assert_eq(nb_layer_norm_layer_register(b->ln2, m, "ln2"), NB_OK);
    cr_assert_eq(nb_linear_register(b->fc, m, "fc"), NB_OK);
    cr_assert_eq(nb_linear_register(b->proj, m, "proj"), NB_OK);
    return m;
}

static void model_new(model *md)
{
    const nb_options o = NB_OPTS(NB_FLOAT32);
    *md = (model){0};
    md->wte = nb_embedding_layer_new(VOCAB, WIDTH, NB_NO_PADDING, o);
    md->conv = nb_conv2d_layer_new(1, 2, 3, 3, NULL, true, o);
    md->bn = nb_batch_norm2d_new(2, o);
    md->scale = nb_requires_grad_(nb_ones(NB_SHAPE(1), o), true);
    md->steps = nb_zeros(NB_SHAPE(1), o);
    md->ln_f = nb_layer_norm_layer_new(1, width_shape, 1e-5, true, o);
    nb_module *root = md->root = nb_module_new("Model");
    cr_assert_not_null(root);
    cr_assert_eq(nb_embedding_layer_register(md->wte, root, "wte"), NB_OK, "%s", nb_last_error());
    nb_module *blocks = nb_module_new("ModuleList");
    for (int i = 0; i < 2; i++) {
        char name[8];
        snprintf(name, sizeof name, "%d", i);
        cr_assert_eq(nb_module_add_child(blocks, name, block_module(&md->blocks[i])), NB_OK, "%s", nb_last_error());
    }
    cr_assert_eq(nb_module_add_child(root, "blocks", blocks), NB_OK);
    cr_assert_eq(nb_conv2d_layer_register(md->conv, root, "conv"), NB_OK);
    cr_assert_eq(nb_batch_norm2d_register(md->bn, root, "bn"), NB_OK);
    cr_assert_eq(nb_module_add_parameter(root, "scale", md->scale), NB_OK);
    cr_assert_eq(nb_module_add_buffer(root, "steps", md->steps), NB_OK);
    cr_assert_eq(nb_layer_norm_layer_register(md->ln_f, root, "ln_f"), NB_OK);
    /* the head is tied to the embedding: its weight is wte's */
    nb_linear head = {.weight = md->wte->weight, .in_features = WIDTH, .out_features = VOCAB};
    cr_assert_eq(nb_linear_register(&head, root, "head"), NB_OK);
    assert_ok();
}

static void model_free(model *md)
{
    nb_module_free(md->root);
    nb_embedding_layer_free(md->wte);
    for (int i = 0; i < 2; i++) {
        block *b = &md->blocks[i];
        nb_layer_norm_layer_free(b->ln1);
        nb_layer_norm_layer_free(b->ln2);
        nb_linear_free(b->qkv);
        nb_linear_free(b->attn_proj);
        nb_linear_free(b->fc);
        nb_linear_free(b->proj);
        nb_dropout_layer_free(b->drop);
        nb_release(b->mask);
    }
    nb_conv2d_layer_free(md->conv);
    nb_batch_norm2d_free(md->bn);
    nb_release(md->scale);
    nb_release(md->steps);
    nb_layer_norm_layer_free(md->ln_f);
}

/* The list's names against golden/module/NAME.txt, one per line, in order. */
static void assert_names(const nb_params *p, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "golden/module/%s.txt", name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char line[512];
    int i = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        cr_assert_lt(i, nb_params_count(p), "%s: nabla's list ends at %d names; PyTorch's goes on with %s", path, i,
                     line);
        cr_assert_str_eq(nb_params_name(p, i), line, "%s: name %d", path, i);
        i++;
    }
    fclose(f);
    cr_assert_eq(i, nb_params_count(p), "%s: PyTorch lists %d names, nabla %d", path, i, nb_params_count(p));
}

Test(module, names_and_order_are_pytorchs, .init = nb_test_setup)
{
    model md;
    model_new(&md);
    nb_params *params = nb_module_named_parameters(md.root);
    nb_params *buffers = nb_module_named_buffers(md.root);
    nb_params *state = nb_module_state(md.root);
    cr_assert(params && buffers && state, "%s", nb_last_error());
    assert_names(params, "named_parameters");
    assert_names(buffers, "named_buffers");
    assert_names(state, "state");
    /* the entries are the layers' own tensors */
    cr_assert_eq(nb_params_get(params, nb_params_find(params, "wte.weight")), md.wte->weight);
    cr_assert_eq(nb_params_get(params, nb_params_find(params, "blocks.1.attn.qkv.bias")), md.blocks[1].qkv->bias);
    cr_assert_eq(nb_params_get(state, nb_params_find(state, "bn.running_var")), md.bn->running_var);
    cr_assert_eq(nb_params_find(params, "head.weight"), -1); /* tied: listed once */
    cr_assert_eq(nb_params_find(params, "bn.running_mean"), -1);
    assert_ok();
    nb_params_free(params);
    nb_params_free(buffers);
    nb_params_free(state);
    model_free(&md);
}

Test(module, lists_outlive_the_model_and_checkpoint_it, .init = nb_test_setup)
{
    model md;
    model_new(&md);
    nb_params *state = nb_module_state(md.root);
    char path[] = "/tmp/nb_module_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(nb_params_save(state, path), NB_OK, "%s", nb_last_error());
    nb_tensor *saved = nb_clone(md.blocks[0].fc->weight);
    nb_fill_(md.blocks[0].fc->weight, 3.0);
    nb_fill_(md.bn->running_var, 7.0);
    cr_assert_eq(nb_params_load(state, path), NB_OK, "%s", nb_last_error());
    assert_close(md.blocks[0].fc->weight, saved, 0, 0);
    assert_values(md.bn->running_var, (const double[]){1, 1}, 2, 0, 0);
    unlink(path);
    nb_release(saved);
    model_free(&md); /* the list still holds its references */
    cr_assert_eq(nb_params_count(state), 37);
    cr_assert_str_eq(nb_params_name(state, 36), "ln_f.bias");
    nb_params_free(state);
}

Test(module, train_and_eval_reach_nested_layers, .init = nb_test_setup)
{
    model md;
    model_new(&md);
    cr_assert(nb_module_training(md.root) && md.blocks[1].drop->training && md.bn->training);
    nb_module_train(md.root, false);
    cr_assert(!nb_module_training(md.root));
    cr_assert(!md.blocks[0].drop->training && !md.blocks[1].drop->training && !md.bn->training);
    cr_assert(!nb_module_training(nb_module_child(md.root, "blocks.1.attn")));
    /* eval: dropout passes x through */
    nb_scope_begin();
    nb_tensor *x = nb_ones(NB_SHAPE(4, 8), NB_OPTS(NB_FLOAT32));
    assert_close(nb_dropout_layer_forward(md.blocks[1].drop, x), x, 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
    /* a subtree switches alone */
    nb_module_train(nb_module_child(md.root, "blocks.0"), true);
    cr_assert(md.blocks[0].drop->training && !md.blocks[1].drop->training && !md.bn->training);
    /* a layer added later joins its parent's mode */
    nb_dropout_layer *late = nb_dropout_layer_new(0.5);
    cr_assert_eq(nb_dropout_layer_register(late, nb_module_child(md.root, "blocks.1"), "late"), NB_OK);
    cr_assert(!late->training);
    nb_module_train(md.root, true);
    cr_assert(late->training && md.blocks[1].drop->training && md.bn->training);
    assert_ok();
    model_free(&md);
    nb_dropout_layer_free(late);
}

Test(module, children_by_path_and_types, .init = nb_test_setup)
{
    model md;
    model_new(&md);
    cr_assert_str_eq(nb_module_type(md.root), "Model");
    cr_assert_str_eq(nb_module_type(nb_module_child(md.root, "blocks")), "ModuleList");
    cr_assert_str_eq(nb_module_type(nb_module_child(md.root, "blocks.0.attn.qkv")), "Linear");
    cr_assert_str_eq(nb_module_type(nb_module_child(md.root, "bn")), "BatchNorm2d");
    cr_assert_str_eq(nb_module_type(nb_module_child(md.root, "wte")), "Embedding");
    nb_params *sub = nb_module_named_parameters(nb_module_child(md.root, "blocks.1.attn"));
    cr_assert_eq(nb_params_count(sub), 4);
    cr_assert_str_eq(nb_params_name(sub, 0), "qkv.weight");
    cr_assert_str_eq(nb_params_name(sub, 3), "proj.bias");
    nb_params_free(sub);
    assert_ok();
    cr_assert_null(nb_module_child(md.root, "blocks.2.attn"));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_child", "ModuleList", "no child \"2\"", "blocks.2.attn"));
    cr_assert_null(nb_module_child(md.root, "scale")); /* a parameter, not a child */
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_child", "no child \"scale\""));
    model_free(&md);
}

Test(module, refuses_repeated_and_malformed_names, .init = nb_test_setup)
{
    nb_module *m = nb_module_new("Net");
    nb_tensor *a = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_module_add_parameter(m, "w", a), NB_OK);
    cr_assert_eq(nb_module_add_buffer(m, "w", b), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_add_buffer", "Net", "already has a parameter named \"w\""));
    cr_assert_eq(nb_module_add_child(m, "w", nb_module_new("Linear")), NB_ERR_ARGUMENT); /* the child is freed */
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_add_child", "already has a parameter named \"w\""));
    cr_assert_eq(nb_module_add_child(m, "sub", nb_module_new("Sub")), NB_OK);
    cr_assert_eq(nb_module_add_parameter(m, "sub", b), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_add_parameter", "already has a child named \"sub\""));
    cr_assert_eq(nb_module_add_parameter(m, "a.b", b), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_add_parameter", "\"a.b\"", "contains '.'"));
    cr_assert_eq(nb_module_add_parameter(m, "", b), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_add_parameter", "1 to 63 bytes", "got 0"));
    cr_assert_eq(nb_module_add_parameter(m, "x", NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_module_add_parameter", "tensor"));
    cr_assert_eq(nb_module_add_parameter(NULL, "x", b), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_module_add_parameter", "module"));
    /* a module has one parent, and is never its own descendant */
    nb_module *sub = nb_module_child(m, "sub");
    cr_assert_eq(nb_module_add_child(nb_module_child(m, "sub"), "again", m), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_add_child", "Net", "its own descendant"));
    cr_assert_eq(nb_module_add_child(m, "twice", sub), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_add_child", "Sub", "already the child of another module"));
    cr_assert_eq(nb_linear_register(NULL, m, "fc"), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_linear_register", "layer"));
    nb_dropout_layer *d = nb_dropout_layer_new(0.2);
    cr_assert_eq(nb_dropout_layer_register(d, m, "w"), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_module_add_child", "\"w\""));
    cr_assert_null(nb_module_new(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_module_new", "type"));
    /* what was refused left the module as it was */
    nb_params *state = nb_module_state(m);
    cr_assert_eq(nb_params_count(state), 1);
    cr_assert_str_eq(nb_params_name(state, 0), "w");
    nb_params_free(state);
    nb_module_free(m);
    nb_module_free(NULL);
    nb_dropout_layer_free(d);
    nb_release(a);
    nb_release(b);
}

Test(module, named_parameter_lists, .init = nb_test_setup)
{
    nb_params *p = nb_params_new();
    nb_tensor *a = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_zeros(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *c = nb_zeros(NB_SHAPE(1), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_params_add_named(p, "fc.weight", a), NB_OK);
    cr_assert_eq(nb_params_add(p, b), NB_OK);
    cr_assert_str_eq(nb_params_name(p, 0), "fc.weight");
    cr_assert_null(nb_params_name(p, 1));
    assert_ok();
    cr_assert_eq(nb_params_find(p, "fc.weight"), 0);
    cr_assert_eq(nb_params_find(p, "fc.bias"), -1);
    cr_assert_eq(nb_params_add_named(p, "fc.weight", c), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_add_named", "\"fc.weight\"", "already parameter 0"));
    cr_assert_eq(nb_params_add_named(p, "other", a), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_add_named", "already parameter 0", "stepped twice"));
    cr_assert_eq(nb_params_add_named(p, "", c), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_add_named", "1 to 255 bytes"));
    cr_assert_eq(nb_params_add_named(p, NULL, c), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_params_add_named", "name"));
    cr_assert_null(nb_params_name(p, 2));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_params_name", "index 2", "2 parameters"));
    cr_assert_eq(nb_params_count(p), 2);
    nb_params_free(p);
    nb_release(a);
    nb_release(b);
    nb_release(c);
}

/* ---------------------------------------------------------------- Embedding */

Test(module, embedding_layer_is_nn_embedding, .init = nb_test_setup)
{
    const char *tags[2] = {"f32", "f64"};
    const nb_dtype dtypes[2] = {NB_FLOAT32, NB_FLOAT64};
    for (int k = 0; k < 2; k++) {
        nb_scope_begin();
        char name[64];
        nb_embedding_layer *l = nb_embedding_layer_new(6, 4, -2, NB_OPTS(dtypes[k]));
        cr_assert_not_null(l, "%s", nb_last_error());
        cr_assert_eq(l->padding_idx, 4);
        cr_assert_eq(nb_dtype_of(l->weight), dtypes[k]);
        assert_values(nb_select(l->weight, 0, 4), (const double[]){0, 0, 0, 0}, 4, 0, 0); /* the padding row */
        snprintf(name, sizeof name, "module/emb_w_%s", tags[k]);
        nb_no_grad_begin();
        nb_copy_(l->weight, golden(name));
        nb_no_grad_end();
        nb_tensor *idx = golden("module/emb_idx");
        for (int nc = 0; nc < 2; nc++) { /* contiguous and strided indices */
            nb_tensor *y = nb_embedding_layer_forward(l, nc ? noncontig(idx) : idx);
            snprintf(name, sizeof name, "module/emb_y_%s", tags[k]);
            assert_close(y, golden(name), 0, 0);
            if (nc) continue;
            cr_assert_eq(nb_backward_ex(y, nb_ones_like(y), false), NB_OK, "%s", nb_last_error());
            snprintf(name, sizeof name, "module/emb_grad_%s", tags[k]);
            assert_close(nb_grad(l->weight), golden(name), 0, 0); /* no gradient at the padding row */
        }
        /* empty indices give (0, 4) */
        nb_tensor *none = nb_embedding_layer_forward(l, nb_zeros(NB_SHAPE(0), NB_OPTS(NB_INT64)));
        cr_assert(none && nb_ndim(none) == 2 && nb_size(none, 0) == 0 && nb_size(none, 1) == 4);
        nb_params *p = nb_params_new();
        cr_assert_eq(nb_embedding_layer_params(l, p), NB_OK);
        cr_assert_eq(nb_params_count(p), 1);
        nb_params_free(p);
        nb_embedding_layer_free(l);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

Test(module, embedding_layer_draws_standard_normal_weights, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_manual_seed(3);
    nb_embedding_layer *l = nb_embedding_layer_new(200, 50, NB_NO_PADDING, NB_OPTS(NB_FLOAT64));
    cr_assert(nb_requires_grad(l->weight) && nb_is_leaf(l->weight));
    double mean = nb_item(nb_mean(l->weight)), sd = nb_item(nb_std(l->weight, 0, NULL, 1, false));
    cr_assert(fabs(mean) < 0.03 && fabs(sd - 1) < 0.03, "mean %g, sd %g", mean, sd);
    nb_embedding_layer_free(l);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(module, embedding_layer_errors, .init = nb_test_setup)
{
    cr_assert_null(nb_embedding_layer_new(0, 4, NB_NO_PADDING, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_embedding_layer_new", "must be positive", "0 and 4"));
    cr_assert_null(nb_embedding_layer_new(5, 4, 5, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_embedding_layer_new", "padding_idx 5", "5 embeddings"));
    cr_assert_null(nb_embedding_layer_new(5, 4, -6, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_embedding_layer_new", "padding_idx -6"));
    cr_assert_null(nb_embedding_layer_new(5, 4, NB_NO_PADDING, NB_OPTS(NB_INT64)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_embedding_layer_new", "float32 or float64", "int64"));
    cr_assert_null(nb_embedding_layer_new(INT64_MAX / 2, 4, NB_NO_PADDING, NB_OPTS(NB_FLOAT32)));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_embedding_layer_new", "too large"));
    cr_assert_null(nb_embedding_layer_forward(NULL, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_embedding_layer_forward", "layer"));
    nb_embedding_layer *l = nb_embedding_layer_new(5, 4, NB_NO_PADDING, NB_OPTS(NB_FLOAT32));
    nb_tensor *bad = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_embedding_layer_forward(l, bad));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_embedding", "int64"));
    nb_release(bad);
    nb_embedding_layer_free(l);
}

/* ---------------------------------------------------------------- LayerNorm */

Test(module, layer_norm_layer_is_nn_layer_norm, .init = nb_test_setup)
{
    const char *tags[2] = {"f32", "f64"};
    const nb_dtype dtypes[2] = {NB_FLOAT32, NB_FLOAT64};
    const double tol[2] = {1e-5, 1e-12};
    for (int k = 0; k < 2; k++) {
        nb_scope_begin();
        char name[64];
        const nb_options o = NB_OPTS(dtypes[k]);
        snprintf(name, sizeof name, "module/ln_x_%s", tags[k]);
        nb_tensor *x = golden(name); /* (2, 3, 5) */
        nb_layer_norm_layer *last = nb_layer_norm_layer_new(1, (const int64_t[]){5}, 1e-5, true, o);
        nb_layer_norm_layer *two = nb_layer_norm_layer_new(2, (const int64_t[]){3, 5}, 1e-3, true, o);
        nb_layer_norm_layer *plain = nb_layer_norm_layer_new(1, (const int64_t[]){5}, 1e-5, false, o);
        cr_assert(last && two && plain, "%s", nb_last_error());
        cr_assert(plain->weight == NULL && plain->bias == NULL);
        cr_assert(nb_requires_grad(two->weight) && nb_ndim(two->bias) == 2);
        for (int nc = 0; nc < 2; nc++) {
            nb_tensor *in = nc ? noncontig(x) : x;
            snprintf(name, sizeof name, "module/ln_last_%s", tags[k]);
            assert_close(nb_layer_norm_layer_forward(last, in), golden(name), tol[k], tol[k]);
            snprintf(name, sizeof name, "module/ln_two_%s", tags[k]);
            assert_close(nb_layer_norm_layer_forward(two, in), golden(name), tol[k], tol[k]);
            snprintf(name, sizeof name, "module/ln_plain_%s", tags[k]);
            assert_close(nb_layer_norm_layer_forward(plain, in), golden(name), tol[k], tol[k]);
        }
        nb_tensor *empty = nb_layer_norm_layer_forward(last, nb_zeros(NB_SHAPE(0, 5), o));
        cr_assert(empty && nb_numel(empty) == 0 && nb_size(empty, 1) == 5, "%s", nb_last_error());
        /* gradients reach the parameters */
        cr_assert_eq(nb_backward(nb_sum(nb_layer_norm_layer_forward(two, x))), NB_OK, "%s", nb_last_error());
        cr_assert_not_null(nb_grad(two->weight));
        assert_close(nb_grad(two->bias), nb_full(NB_SHAPE(3, 5), 2, o), 0, 0); /* summed over the batch of 2 */
        nb_params *p = nb_params_new();
        cr_assert_eq(nb_layer_norm_layer_params(two, p), NB_OK);
        cr_assert_eq(nb_layer_norm_layer_params(plain, p), NB_OK);
        cr_assert_eq(nb_params_count(p), 2);
        nb_params_free(p);
        nb_layer_norm_layer_free(last);
        nb_layer_norm_layer_free(two);
        nb_layer_norm_layer_free(plain);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

Test(module, layer_norm_layer_errors, .init = nb_test_setup)
{
    const nb_options o = NB_OPTS(NB_FLOAT32);
    cr_assert_null(nb_layer_norm_layer_new(0, (const int64_t[]){5}, 1e-5, true, o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_layer_norm_layer_new", "1 to 8 normalised dims", "got 0"));
    cr_assert_null(nb_layer_norm_layer_new(2, (const int64_t[]){5, 0}, 1e-5, true, o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_layer_norm_layer_new", "[5, 0]", "positive sizes"));
    cr_assert_null(nb_layer_norm_layer_new(1, (const int64_t[]){5}, -1, true, o));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_layer_norm_layer_new", "eps", "-1"));
    cr_assert_null(nb_layer_norm_layer_new(1, (const int64_t[]){5}, 1e-5, true, NB_OPTS(NB_BOOL)));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_layer_norm_layer_new", "bool"));
    cr_assert_null(nb_layer_norm_layer_new(1, NULL, 1e-5, true, o));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_layer_norm_layer_new", "normalized_shape"));
    cr_assert_null(nb_layer_norm_layer_new(2, (const int64_t[]){INT64_MAX / 2, 4}, 1e-5, true, o));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_layer_norm_layer_new", "too large"));
    cr_assert_null(nb_layer_norm_layer_forward(NULL, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_layer_norm_layer_forward", "layer"));
    nb_layer_norm_layer *l = nb_layer_norm_layer_new(1, (const int64_t[]){5}, 1e-5, true, o);
    nb_tensor *x = nb_zeros(NB_SHAPE(2, 4), o);
    cr_assert_null(nb_layer_norm_layer_forward(l, x));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_layer_norm", "[2, 4]"));
    nb_release(x);
    nb_layer_norm_layer_free(l);
}
