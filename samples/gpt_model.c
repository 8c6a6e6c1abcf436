/* gpt_model.c — the GPT of gpt_model.h: building it (layers registered into a module tree for
 * their names), nanoGPT's initialisation, and the forward pass from nabla's recorded ops. */
#include "gpt_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Fills a layer's weight with normal(0, std) (no history: an initialisation). */
static bool init_normal(nb_tensor *w, double std)
{
    nb_no_grad_begin();
    bool ok = nb_normal_(w, 0.0, std) != NULL;
    nb_no_grad_end();
    return ok;
}

static bool init_zero(nb_tensor *b)
{
    nb_no_grad_begin();
    bool ok = nb_zero_(b) != NULL;
    nb_no_grad_end();
    return ok;
}

/* A Linear layer as nanoGPT initialises it: weight normal(0, std), bias 0. */
static nb_linear *linear(int64_t in, int64_t out, double std, nb_options o)
{
    nb_linear *l = nb_linear_new(in, out, true, o);
    if (l && (!init_normal(l->weight, std) || !init_zero(l->bias))) {
        nb_linear_free(l);
        return NULL;
    }
    return l;
}

/* Block i's layers, registered under blocks.i of the tree (blocks is the ModuleList). */
static bool block_new(gpt_block *b, const gpt_config *c, nb_options o, nb_module *blocks, int i)
{
    const double std = 0.02, proj_std = 0.02 / sqrt(2.0 * (double)c->layers); /* nanoGPT's c_proj */
    const int64_t w = c->width;
    b->ln1 = nb_layer_norm_layer_new(1, &w, 1e-5, true, o);
    b->qkv = linear(w, 3 * w, std, o);
    b->attn_proj = linear(w, w, proj_std, o);
    b->ln2 = nb_layer_norm_layer_new(1, &w, 1e-5, true, o);
    b->fc = linear(w, 4 * w, std, o);
    b->mlp_proj = linear(4 * w, w, proj_std, o);
    b->attn_drop = nb_dropout_layer_new(c->dropout);
    b->resid_drop = nb_dropout_layer_new(c->dropout);
    if (nb_last_status() != NB_OK) return false;

    nb_module *block = nb_module_new("Block");
    nb_module *attn = nb_module_new("CausalSelfAttention");
    nb_module *mlp = nb_module_new("MLP");
    char name[24];
    snprintf(name, sizeof name, "%d", i);
    nb_linear_register(b->qkv, attn, "qkv");
    nb_linear_register(b->attn_proj, attn, "proj");
    nb_dropout_layer_register(b->attn_drop, attn, "attn_drop");
    nb_linear_register(b->fc, mlp, "fc");
    nb_linear_register(b->mlp_proj, mlp, "proj");
    nb_layer_norm_layer_register(b->ln1, block, "ln1");
    nb_module_add_child(block, "attn", attn);
    nb_layer_norm_layer_register(b->ln2, block, "ln2");
    nb_module_add_child(block, "mlp", mlp);
    nb_dropout_layer_register(b->resid_drop, block, "resid_drop");
    nb_module_add_child(blocks, name, block);
    return nb_last_status() == NB_OK;
}

static void block_free(gpt_block *b)
{
    nb_layer_norm_layer_free(b->ln1);
    nb_layer_norm_layer_free(b->ln2);
    nb_linear_free(b->qkv);
    nb_linear_free(b->attn_proj);
    nb_linear_free(b->fc);
    nb_linear_free(b->mlp_proj);
    nb_dropout_layer_free(b->attn_drop);
    nb_dropout_layer_free(b->resid_drop);
}

gpt_model *gpt_model_new(const char *prog, gpt_config cfg)
{
    if (cfg.vocab < 1 || cfg.context < 1 || cfg.width < 1 || cfg.layers < 1 || cfg.heads < 1 ||
        cfg.width % cfg.heads != 0) {
        fprintf(stderr, "%s: a GPT needs positive sizes and a width divisible by the heads (vocab %lld, context "
                "%lld, width %lld, layers %lld, heads %lld)\n", prog, (long long)cfg.vocab, (long long)cfg.context,
                (long long)cfg.width, (long long)cfg.layers, (long long)cfg.heads);
        return NULL;
    }
    gpt_model *m = calloc(1, sizeof *m);
    gpt_block *blocks = calloc((size_t)cfg.layers, sizeof *blocks);
    if (!m || !blocks) {
        fprintf(stderr, "%s: out of memory\n", prog);
        free(m);
        free(blocks);
        return NULL;
    }
    m->cfg = cfg;
    m->blocks = blocks;
    const nb_options o = NB_OPTS(cfg.dtype, .device = cfg.device);
    nb_clear_error();
    nb_scope_begin();
    m->root = nb_module_new("GPT");
    m->wte = nb_embedding_layer_new(cfg.vocab, cfg.width, NB_NO_PADDING, o);
    m->wpe = nb_embedding_layer_new(cfg.context, cfg.width, NB_NO_PADDING, o);
    m->drop = nb_dropout_layer_new(cfg.dropout);
    if (m->wte && m->wpe && init_normal(m->wte->weight, 0.02) && init_normal(m->wpe->weight, 0.02)) {
        nb_embedding_layer_register(m->wte, m->root, "wte");
        nb_embedding_layer_register(m->wpe, m->root, "wpe");
        nb_dropout_layer_register(m->drop, m->root, "drop");
    }
    nb_module *list = nb_module_new("ModuleList");
    bool ok = nb_last_status() == NB_OK;
    for (int64_t i = 0; i < cfg.layers && ok; i++) ok = block_new(&blocks[i], &cfg, o, list, (int)i);
    nb_module_add_child(m->root, "blocks", list); /* frees the list if refused */
    m->ln_f = nb_layer_norm_layer_new(1, &cfg.width, 1e-5, true, o);
    nb_layer_norm_layer_register(m->ln_f, m->root, "ln_f");
    /* the head is the token embedding: registered under its name, listed once (as wte) */
    if (m->wte) {
        nb_linear head = {.weight = m->wte->weight, .in_features = cfg.width, .out_features = cfg.vocab};
        nb_linear_register(&head, m->root, "head");
    }
    m->params = nb_last_status() == NB_OK ? nb_module_named_parameters(m->root) : NULL;
    nb_scope_end();
    if (!m->params) {
        fprintf(stderr, "%s: cannot make the model: %s\n", prog, nb_last_error());
        gpt_model_free(m);
        return NULL;
    }
    return m;
}

void gpt_model_free(gpt_model *m)
{
    if (!m) return;
    nb_params_free(m->params);
    nb_module_free(m->root);
    nb_embedding_layer_free(m->wte);
    nb_embedding_layer_free(m->wpe);
    nb_dropout_layer_free(m->drop);
    for (int64_t i = 0; m->blocks && i < m->cfg.layers; i++) block_free(&m->blocks[i]);
    free(m->blocks);
    nb_layer_norm_layer_free(m->ln_f);
    free(m);
}

/* ---------------------------------------------------------------- forward */

nb_tensor *gpt_attention(const nb_tensor *q, const nb_tensor *k, const nb_tensor *v, double p, bool training)
{
    const nb_sdpa_options causal = {.is_causal = true, .dropout_p = training ? p : 0.0};
    return nb_scaled_dot_product_attention(q, k, v, &causal); /* (B, H, T, D) */
}

nb_tensor *gpt_attention_composed(const nb_tensor *q, const nb_tensor *k, const nb_tensor *v)
{
    const int64_t T = nb_size(q, -2);
    const double scale = 1.0 / sqrt((double)nb_size(q, -1));
    nb_tensor *future = nb_triu(nb_ones(NB_SHAPE(T, T), NB_OPTS(NB_BOOL, .device = nb_device_of(q))), 1); /* (T, T) */
    nb_tensor *scores = nb_mul_scalar(nb_matmul(q, nb_transpose(k, -2, -1)), scale); /* (B, H, T, T) */
    nb_tensor *weights = nb_softmax(nb_masked_fill(scores, future, -INFINITY), -1);  /* no look ahead */
    return nb_matmul(weights, v);                                                      /* (B, H, T, D) */
}

/* x + attn(ln1(x)) without the residual: (B, T, C) -> (B, T, C) */
static nb_tensor *attention_branch(const gpt_model *m, const gpt_block *b, const nb_tensor *x)
{
    const int64_t B = nb_size(x, 0), T = nb_size(x, 1), C = m->cfg.width, H = m->cfg.heads, D = C / H;
    nb_tensor *qkv = nb_linear_forward(b->qkv, x); /* (B, T, 3C) */
    nb_tensor *parts[3] = {NULL, NULL, NULL};      /* q, k, v: (B, T, C) views */
    if (nb_split(qkv, C, 2, 3, parts) != 3) return NULL;
    nb_tensor *heads[3]; /* (B, H, T, D) */
    for (int i = 0; i < 3; i++) heads[i] = nb_transpose(nb_reshape(parts[i], NB_SHAPE(B, T, H, D)), 1, 2);
    nb_tensor *y = gpt_attention(heads[0], heads[1], heads[2], b->attn_drop->p,
                                 b->attn_drop->training); /* (B, H, T, D) */
    nb_tensor *merged = nb_reshape(nb_transpose(y, 1, 2), NB_SHAPE(B, T, C)); /* (B, T, C) */
    return nb_dropout_layer_forward(b->resid_drop, nb_linear_forward(b->attn_proj, merged));
}

/* mlp(ln2(x)) : (B, T, C) -> (B, T, C) */
static nb_tensor *mlp_branch(const gpt_block *b, const nb_tensor *x)
{
    nb_tensor *h = nb_gelu(nb_linear_forward(b->fc, x), false); /* (B, T, 4C) */
    return nb_dropout_layer_forward(b->resid_drop, nb_linear_forward(b->mlp_proj, h));
}

nb_tensor *gpt_forward(const gpt_model *m, const nb_tensor *tokens)
{
    if (!tokens) return NULL;
    const int64_t T = nb_size(tokens, 1);
    if (nb_ndim(tokens) != 2 || T < 1 || T > m->cfg.context) {
        fprintf(stderr, "gpt_forward: expected tokens (B, T) with 1 <= T <= %lld\n", (long long)m->cfg.context);
        return NULL;
    }
    nb_tensor *pos = nb_arange(0, (double)T, 1, NB_OPTS(NB_INT64, .device = m->cfg.device)); /* (T,) */
    nb_tensor *x = nb_add(nb_embedding_layer_forward(m->wte, tokens),
                          nb_embedding_layer_forward(m->wpe, pos)); /* (B, T, C) */
    x = nb_dropout_layer_forward(m->drop, x);
    for (int64_t i = 0; i < m->cfg.layers; i++) {
        const gpt_block *b = &m->blocks[i];
        x = nb_add(x, attention_branch(m, b, nb_layer_norm_layer_forward(b->ln1, x)));
        x = nb_add(x, mlp_branch(b, nb_layer_norm_layer_forward(b->ln2, x)));
    }
    x = nb_layer_norm_layer_forward(m->ln_f, x);
    return nb_matmul(x, nb_t(m->wte->weight)); /* (B, T, vocab): the tied head */
}

nb_tensor *gpt_loss(const gpt_model *m, const nb_tensor *tokens, const nb_tensor *targets)
{
    nb_tensor *logits = gpt_forward(m, tokens); /* (B, T, V) */
    nb_tensor *flat = nb_reshape(logits, NB_SHAPE(-1, m->cfg.vocab)); /* (B T, V) */
    return nb_cross_entropy(flat, nb_reshape(targets, NB_SHAPE(-1)));
}
