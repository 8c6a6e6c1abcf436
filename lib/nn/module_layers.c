/* module_layers.c — nabla's layers as children of a module (nb_module, lib/nn/module.c), with
 * PyTorch's type names and tensor names, so a model's parameters read "fc1.weight" as in a
 * state_dict: Linear, Conv2d, BatchNorm2d and Dropout here; Embedding and LayerNorm in their
 * own files. */
#include "../error.h"
#include "layers.h"

nb_status nb__register_layer(const char *op, nb_module *parent, const char *name, const char *type, int n,
                             const char *const *names, nb_tensor *const *tensors, int nbuf, bool *training)
{
    if (nb__is_null(op, "module", parent) || nb__is_null(op, "name", name)) return NB_ERR_NULL;
    nb_module *child = nb_module_new(type);
    if (!child) return nb_last_status();
    nb_status st = NB_OK;
    for (int i = 0; i < n + nbuf && st == NB_OK; i++)
        if (tensors[i])
            st = i < n ? nb_module_add_parameter(child, names[i], tensors[i])
                       : nb_module_add_buffer(child, names[i], tensors[i]);
    if (st == NB_OK && training) st = nb_module_add_training_flag(child, training);
    if (st != NB_OK) {
        nb_module_free(child);
        return st;
    }
    return nb_module_add_child(parent, name, child); /* frees child when refused */
}

nb_status nb_linear_register(const nb_linear *l, nb_module *parent, const char *name)
{
    const char *op = "nb_linear_register";
    if (nb__is_null(op, "layer", l)) return NB_ERR_NULL;
    return nb__register_layer(op, parent, name, "Linear", 2, (const char *const[]){"weight", "bias"},
                              (nb_tensor *const[]){l->weight, l->bias}, 0, NULL);
}

nb_status nb_conv2d_layer_register(const nb_conv2d_layer *l, nb_module *parent, const char *name)
{
    const char *op = "nb_conv2d_layer_register";
    if (nb__is_null(op, "layer", l)) return NB_ERR_NULL;
    return nb__register_layer(op, parent, name, "Conv2d", 2, (const char *const[]){"weight", "bias"},
                              (nb_tensor *const[]){l->weight, l->bias}, 0, NULL);
}

nb_status nb_batch_norm2d_register(nb_batch_norm2d *l, nb_module *parent, const char *name)
{
    const char *op = "nb_batch_norm2d_register";
    if (nb__is_null(op, "layer", l)) return NB_ERR_NULL;
    return nb__register_layer(op, parent, name, "BatchNorm2d", 2,
                              (const char *const[]){"weight", "bias", "running_mean", "running_var"},
                              (nb_tensor *const[]){l->weight, l->bias, l->running_mean, l->running_var}, 2,
                              &l->training);
}

nb_status nb_dropout_layer_register(nb_dropout_layer *l, nb_module *parent, const char *name)
{
    const char *op = "nb_dropout_layer_register";
    if (nb__is_null(op, "layer", l)) return NB_ERR_NULL;
    return nb__register_layer(op, parent, name, "Dropout", 0, NULL, NULL, 0, &l->training);
}
