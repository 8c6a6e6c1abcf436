/* gpt_model.h — a GPT (decoder-only transformer) written with nabla's layers and ops, structured
 * as nanoGPT's: token and learned position embeddings, pre-LayerNorm blocks
 * (x + attn(ln1(x)), x + mlp(ln2(x))) with causal self-attention (one fused qkv Linear and an
 * output projection) and a GELU MLP of 4x width, a final LayerNorm, and a head tied to the token
 * embedding. Parameters are named as in a state_dict (nb_module):
 *
 *   wte.weight  wpe.weight
 *   blocks.N.ln1.{weight,bias}  blocks.N.attn.qkv.{weight,bias}  blocks.N.attn.proj.{weight,bias}
 *   blocks.N.ln2.{weight,bias}  blocks.N.mlp.fc.{weight,bias}    blocks.N.mlp.proj.{weight,bias}
 *   ln_f.{weight,bias}          (head.weight is wte.weight, listed once)
 *
 * Used by samples/gpt.c and by the test that compares its training with PyTorch's
 * (test/test_gpt.c, test/golden/gen_gpt.py). */
#ifndef NB_SAMPLES_GPT_MODEL_H
#define NB_SAMPLES_GPT_MODEL_H

#include <nabla.h>

typedef struct gpt_config {
    int64_t vocab;   /* tokens */
    int64_t context; /* the longest sequence (positions) */
    int64_t width;   /* embedding width; a multiple of heads */
    int64_t layers;  /* blocks */
    int64_t heads;   /* attention heads */
    double dropout;  /* after the embeddings, the attention weights and each residual branch */
    nb_dtype dtype;  /* float32 or float64 */
    nb_device device;
} gpt_config;

typedef struct gpt_block {
    nb_layer_norm_layer *ln1, *ln2;
    nb_linear *qkv;       /* width -> 3 width: queries, keys, values */
    nb_linear *attn_proj; /* width -> width */
    nb_linear *fc;        /* width -> 4 width */
    nb_linear *mlp_proj;  /* 4 width -> width */
    nb_dropout_layer *attn_drop, *resid_drop;
} gpt_block;

typedef struct gpt_model {
    gpt_config cfg;
    nb_embedding_layer *wte; /* (vocab, width), also the head */
    nb_embedding_layer *wpe; /* (context, width) */
    nb_dropout_layer *drop;
    gpt_block *blocks;       /* (layers,) */
    nb_layer_norm_layer *ln_f;
    nb_module *root;         /* the names and the train/eval switch */
    nb_params *params;       /* named_parameters(): what the optimizer steps, what a checkpoint holds */
} gpt_model;

/* Makes the model and draws its weights as nanoGPT does, from nabla's generator: every Linear and
 * Embedding weight normal(0, 0.02), the residual projections' (attn.proj, mlp.proj) normal(0,
 * 0.02 / sqrt(2 layers)), biases 0, LayerNorms 1 and 0. NULL after a message on stderr. */
gpt_model *gpt_model_new(const char *prog, gpt_config cfg);
void gpt_model_free(gpt_model *m);

/* Causal self-attention of q, k, v (B, H, T, D): softmax(q k^T / sqrt(D) + causal mask) v with
 * dropout p on the weights when training -> (B, H, T, D), by nabla's fused
 * nb_scaled_dot_product_attention. */
nb_tensor *gpt_attention(const nb_tensor *q, const nb_tensor *k, const nb_tensor *v, double p, bool training);
/* The same without dropout, composed of nb_matmul, nb_masked_fill and nb_softmax: the reference
 * the tests hold the fused op to. */
nb_tensor *gpt_attention_composed(const nb_tensor *q, const nb_tensor *k, const nb_tensor *v);
/* int64 tokens (B, T), T <= context -> logits (B, T, vocab). */
nb_tensor *gpt_forward(const gpt_model *m, const nb_tensor *tokens);
/* Mean cross entropy of the next tokens: tokens and targets int64 (B, T). */
nb_tensor *gpt_loss(const gpt_model *m, const nb_tensor *tokens, const nb_tensor *targets);

#endif /* NB_SAMPLES_GPT_MODEL_H */
