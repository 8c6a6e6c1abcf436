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

#endif /* NB_NN_LAYERS_H */
