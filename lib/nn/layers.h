/* layers.h — what the layers share: their train/eval flag under a parameter list's switch
 * (lib/nn/params.c), and PyTorch's initialisation of their parameters (lib/nn/init.c). */
#ifndef NB_NN_LAYERS_H
#define NB_NN_LAYERS_H

#include "nabla.h"

/* Puts a layer's training flag under p's train/eval switch (once), and sets it to p's mode. */
nb_status nb__params_add_mode(const char *op, nb_params *p, bool *training);

/* A leaf of shape (ndim, shape) drawn uniformly from [-bound, bound) by nabla's generator,
 * requiring grad, owned by its layer: PyTorch's kaiming_uniform_(a = sqrt(5)) on a weight reduces
 * to bound = 1/sqrt(fan_in), and its bias uses the same bound (lib/nn/init.c). */
nb_tensor *nb__uniform_parameter(int ndim, const int64_t *shape, double bound, nb_options opts);

/* Adds a child module of the given type under name to parent, holding the n tensors (NULL ones
 * skipped) as parameters and the nbuf after them as buffers, under the given names, and the
 * training flag when not NULL (lib/nn/module_layers.c). */
nb_status nb__register_layer(const char *op, nb_module *parent, const char *name, const char *type, int n,
                             const char *const *names, nb_tensor *const *tensors, int nbuf, bool *training);

#endif /* NB_NN_LAYERS_H */
