/* test_gpt.c — the GPT of samples/gpt_model.c against the same model in PyTorch
 * (test/golden/gen_gpt.py): its parameter names, and the losses of the first 20 AdamW steps from
 * PyTorch's initial weights (loaded by name) on PyTorch's batches, in float32 (relative 1e-3) and
 * float64 (relative 1e-9). */
#include "helpers.h"

#include "../samples/gpt_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define STEPS 20

static const gpt_config small = {.vocab = 13, .context = 8, .width = 16, .layers = 2, .heads = 2, .dropout = 0.0};

/* Copies golden/gpt/NAME.npy into each parameter, by its name. */
static void load_weights(gpt_model *m)
{
    nb_no_grad_begin();
    for (int i = 0; i < nb_params_count(m->params); i++) {
        char name[320];
        snprintf(name, sizeof name, "gpt/%s", nb_params_name(m->params, i));
        nb_scope_begin();
        cr_assert_not_null(nb_copy_(nb_params_get(m->params, i), golden(name)), "%s: %s", name, nb_last_error());
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
    nb_no_grad_end();
}

Test(gpt, parameter_names_are_the_reference_models, .init = nb_test_setup)
{
    gpt_config cfg = small;
    cfg.dtype = NB_FLOAT32;
    gpt_model *m = gpt_model_new("test_gpt", cfg);
    cr_assert_not_null(m);
    FILE *f = fopen("golden/gpt/names.txt", "r");
    cr_assert_not_null(f);
    char line[320];
    int i = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        cr_assert_lt(i, nb_params_count(m->params));
        cr_assert_str_eq(nb_params_name(m->params, i), line, "parameter %d", i);
        i++;
    }
    fclose(f);
    cr_assert_eq(i, nb_params_count(m->params));
    /* the head is the token embedding, listed once; the causal mask is the attention's option,
     * not a buffer */
    cr_assert_eq(nb_params_find(m->params, "head.weight"), -1);
    nb_params *buffers = nb_module_named_buffers(m->root);
    cr_assert_eq(nb_params_count(buffers), 0);
    nb_params_free(buffers);
    gpt_model_free(m);
}

Test(gpt, initialisation_is_nanogpts, .init = nb_test_setup)
{
    nb_manual_seed(1);
    gpt_config cfg = {.vocab = 50, .context = 64, .width = 64, .layers = 4, .heads = 4, .dtype = NB_FLOAT64};
    gpt_model *m = gpt_model_new("test_gpt", cfg);
    cr_assert_not_null(m);
    nb_scope_begin();
    const struct {
        const char *name;
        double mean, sd;
    } rows[] = {
        {"wte.weight", 0, 0.02},           {"wpe.weight", 0, 0.02},
        {"blocks.0.attn.qkv.weight", 0, 0.02}, {"blocks.3.mlp.fc.weight", 0, 0.02},
        {"blocks.1.attn.proj.weight", 0, 0.02 / sqrt(8.0)}, {"blocks.2.mlp.proj.weight", 0, 0.02 / sqrt(8.0)},
        {"blocks.0.attn.qkv.bias", 0, 0},  {"blocks.0.ln1.weight", 1, 0}, {"ln_f.bias", 0, 0},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        nb_tensor *t = nb_params_get(m->params, nb_params_find(m->params, rows[r].name));
        cr_assert_not_null(t, "%s", rows[r].name);
        double mean = nb_item(nb_mean(t)), sd = nb_item(nb_std(t, 0, NULL, 0, false));
        cr_assert(fabs(mean - rows[r].mean) < 0.1 * (rows[r].sd + 1e-3) + 1e-12 &&
                      fabs(sd - rows[r].sd) < 0.1 * rows[r].sd + 1e-12,
                  "%s: mean %g, sd %g; expected %g and %g", rows[r].name, mean, sd, rows[r].mean, rows[r].sd);
    }
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    gpt_model_free(m);
}

/* The 20 steps of gen_gpt.py in dtype against its losses. */
static void train_like_pytorch(nb_dtype dtype, const char *losses_name, double rtol)
{
    gpt_config cfg = small;
    cfg.dtype = dtype;
    gpt_model *m = gpt_model_new("test_gpt", cfg);
    cr_assert_not_null(m);
    load_weights(m);
    nb_optimizer *opt = nb_adamw_new(m->params, (nb_adam_options){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.95,
                                                                  .eps = 1e-8, .weight_decay = 0.1});
    cr_assert_not_null(opt, "%s", nb_last_error());
    nb_scope_begin();
    nb_tensor *tokens = golden("gpt/tokens");   /* (STEPS, B, T + 1) */
    nb_tensor *want = golden(losses_name);      /* (STEPS,) float64 */
    double got[STEPS];
    for (int s = 0; s < STEPS; s++) {
        nb_scope_begin();
        nb_tensor *rows = nb_select(tokens, 0, s); /* (B, T + 1) */
        nb_tensor *x = nb_narrow(rows, 1, 0, cfg.context), *y = nb_narrow(rows, 1, 1, cfg.context);
        nb_tensor *loss = gpt_loss(m, x, y);
        cr_assert_not_null(loss, "step %d: %s", s, nb_last_error());
        cr_assert_eq(nb_dtype_of(loss), dtype);
        got[s] = nb_item(loss);
        nb_optimizer_zero_grad(opt);
        cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_optimizer_step(opt), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
    assert_values(want, got, STEPS, rtol, 0); /* |pytorch - nabla| <= rtol |nabla| */
    cr_assert_lt(got[STEPS - 1], got[0] - 0.1, "the loss should fall: %g to %g", got[0], got[STEPS - 1]);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    nb_optimizer_free(opt);
    gpt_model_free(m);
}

Test(gpt, twenty_adamw_steps_float32_match_pytorch, .init = nb_test_setup)
{
    train_like_pytorch(NB_FLOAT32, "gpt/losses_f32", 1e-3);
}

Test(gpt, twenty_adamw_steps_float64_match_pytorch, .init = nb_test_setup)
{
    train_like_pytorch(NB_FLOAT64, "gpt/losses_f64", 1e-9);
}

Test(gpt, attention_masks_the_future, .init = nb_test_setup)
{
    /* with equal keys every visible position has the same weight: row t averages v[0..t] */
    nb_scope_begin();
    const nb_options o = NB_OPTS(NB_FLOAT64);
    nb_tensor *q = nb_randn(NB_SHAPE(1, 1, 4, 2), o);
    nb_tensor *k = nb_ones(NB_SHAPE(1, 1, 4, 2), o);
    nb_tensor *v = nb_reshape(nb_arange(0, 8, 1, o), NB_SHAPE(1, 1, 4, 2));
    nb_tensor *y = gpt_attention(q, k, v, 0.0, false);
    cr_assert_not_null(y, "%s", nb_last_error());
    assert_values(y, (const double[]){0, 1, 1, 2, 2, 3, 3, 4}, 8, 1e-12, 1e-12);
    assert_values(gpt_attention_composed(q, k, v), (const double[]){0, 1, 1, 2, 2, 3, 3, 4}, 8, 1e-12, 1e-12);
    /* the fused op against its composition, values and gradients, at the sample's shape */
    nb_tensor *qs[2], *ks[2], *vs[2], *grads[2][3];
    for (int i = 0; i < 2; i++) {
        nb_manual_seed(4);
        qs[i] = nb_requires_grad_(nb_randn(NB_SHAPE(2, 4, 16, 8), o), true);
        ks[i] = nb_requires_grad_(nb_randn(NB_SHAPE(2, 4, 16, 8), o), true);
        vs[i] = nb_requires_grad_(nb_randn(NB_SHAPE(2, 4, 16, 8), o), true);
        nb_tensor *out = i == 0 ? gpt_attention(qs[i], ks[i], vs[i], 0.0, true) : gpt_attention_composed(qs[i], ks[i], vs[i]);
        nb_tensor *loss = nb_sum(nb_mul(out, out));
        cr_assert_eq(nb_grad_of(1, &loss, NULL, 3, (nb_tensor *const[]){qs[i], ks[i], vs[i]}, grads[i], false), NB_OK,
                     "%s", nb_last_error());
        if (i == 1) assert_close(out, gpt_attention(qs[0], ks[0], vs[0], 0.0, false), 1e-12, 1e-12);
    }
    for (int g = 0; g < 3; g++) assert_close(grads[0][g], grads[1][g], 1e-10, 1e-12);
    cr_assert_eq(nb_scope_end(), NB_OK);
}
