/* layers.h — what layers tell parameter lists (lib/nn/params.c) beyond their tensors. */
#ifndef NB_NN_LAYERS_H
#define NB_NN_LAYERS_H

#include "nabla.h"

/* Puts a layer's training flag under p's train/eval switch (once), and sets it to p's mode. */
nb_status nb__params_add_mode(const char *op, nb_params *p, bool *training);

#endif /* NB_NN_LAYERS_H */
