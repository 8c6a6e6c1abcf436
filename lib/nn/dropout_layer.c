/* dropout_layer.c — the Dropout layer: a probability and a mode, its forward one nb_dropout. */
#include "../error.h"
#include "layers.h"

#include <stdlib.h>

nb_dropout_layer *nb_dropout_layer_new(double p)
{
    const char *op = "nb_dropout_layer_new";
    if (!(p >= 0 && p <= 1))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a dropout probability between 0 and 1, got %g", op, p);
    nb_dropout_layer *l = calloc(1, sizeof *l);
    if (!l) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    l->p = p;
    l->training = true;
    return l;
}

void nb_dropout_layer_free(nb_dropout_layer *l) { free(l); }

nb_tensor *nb_dropout_layer_forward(const nb_dropout_layer *l, const nb_tensor *x)
{
    if (nb__is_null("nb_dropout_layer_forward", "layer", l)) return NULL;
    return nb_dropout(x, l->p, l->training);
}

nb_status nb_dropout_layer_params(nb_dropout_layer *l, nb_params *p)
{
    const char *op = "nb_dropout_layer_params";
    if (nb__is_null(op, "layer", l) || nb__is_null(op, "params", p)) return nb_last_status();
    return nb__params_add_mode(op, p, &l->training);
}
