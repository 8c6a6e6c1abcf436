/* backward_shape.h — gradients of views, copies (within and between devices), cat and fill_. */
#ifndef NB_BACKWARD_SHAPE_H
#define NB_BACKWARD_SHAPE_H

#include "../view.h"
#include "node.h"

typedef struct nb_named_backward {
    const char *name;
    nb_backward_fn backward;
} nb_named_backward;

typedef struct nb_shape_grads {
    nb_named_backward view; /* one formula for every view kind; the names below tell them apart */
    const char *reshape, *permute, *narrow, *select, *expand;
    nb_named_backward copy, copy_inplace, fill, cat;
    nb_named_backward to; /* nb_to between devices */
} nb_shape_grads;

extern const nb_shape_grads nb_shape_grads_table;

#endif /* NB_BACKWARD_SHAPE_H */
