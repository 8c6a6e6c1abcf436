/* embedding_layer.c — the Embedding layer: a (num_embeddings, embedding_dim) table drawn from
 * N(0, 1) as PyTorch's nn.Embedding does (its padding row zero), its forward one nb_embedding. */
#include "../dtype.h"
#include "../error.h"
#include "../tensor.h"
#include "../half.h"
#include "layers.h"

#include <stdlib.h>

nb_embedding_layer *nb_embedding_layer_new(int64_t num_embeddings, int64_t embedding_dim, int64_t padding_idx,
                                           nb_options opts)
{
    const char *op = "nb_embedding_layer_new";
    if (num_embeddings <= 0 || embedding_dim <= 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: num_embeddings and embedding_dim must be positive, got %lld and %lld",
                        op, (long long)num_embeddings, (long long)embedding_dim);
    if (padding_idx != NB_NO_PADDING) {
        if (padding_idx < -num_embeddings || padding_idx >= num_embeddings)
            return nb__fail(NB_ERR_ARGUMENT, "%s: padding_idx %lld is out of range for %lld embeddings", op,
                            (long long)padding_idx, (long long)num_embeddings);
        if (padding_idx < 0) padding_idx += num_embeddings;
    }
    if (!nb__is_float_kind(opts.dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64 (or float16 or bfloat16) parameters, got %s", op,
                        nb_dtype_name(opts.dtype));
    const int64_t shape[2] = {num_embeddings, embedding_dim};
    int64_t numel;
    if (!nb__checked_numel(op, 2, shape, &numel)) return NULL;
    nb_embedding_layer *l = calloc(1, sizeof *l);
    if (!l) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    l->num_embeddings = num_embeddings;
    l->embedding_dim = embedding_dim;
    l->padding_idx = padding_idx;
    opts.requires_grad = false;
    nb__tracking_pause(); /* the layer owns its weight: no open scope may release it */
    const nb_dtype dtype = opts.dtype;
    if (nb__is_half(dtype)) opts.dtype = NB_FLOAT32; /* drawn in float32 (the draws' dtypes), rounded once */
    nb_tensor *w = nb__narrow(nb_randn(2, shape, opts), dtype); /* (num_embeddings, embedding_dim) */
    bool ok = w != NULL;
    if (ok && padding_idx != NB_NO_PADDING) {
        nb_tensor *row = nb_select(w, 0, padding_idx); /* (embedding_dim,) */
        ok = row && nb_zero_(row);
        nb_release(row);
    }
    nb__tracking_resume();
    if (!ok) {
        nb_release(w);
        free(l);
        return NULL;
    }
    l->weight = nb_requires_grad_(w, true);
    return l;
}

void nb_embedding_layer_free(nb_embedding_layer *l)
{
    if (!l) return;
    nb_release(l->weight);
    free(l);
}

nb_tensor *nb_embedding_layer_forward(const nb_embedding_layer *l, const nb_tensor *indices)
{
    if (nb__is_null("nb_embedding_layer_forward", "layer", l)) return NULL;
    return nb_embedding(l->weight, indices, l->padding_idx);
}

nb_status nb_embedding_layer_params(const nb_embedding_layer *l, nb_params *p)
{
    const char *op = "nb_embedding_layer_params";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "params", p)) return nb_last_status();
    return nb_params_add(p, l->weight);
}

nb_status nb_embedding_layer_register(const nb_embedding_layer *l, nb_module *parent, const char *name)
{
    const char *op = "nb_embedding_layer_register";
    if (nb__is_null(op, "layer", l)) return NB_ERR_NULL;
    return nb__register_layer(op, parent, name, "Embedding", 1, (const char *const[]){"weight"},
                              (nb_tensor *const[]){l->weight}, 0, NULL);
}
