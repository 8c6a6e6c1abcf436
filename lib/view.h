/* view.h — view construction shared by the shape ops and autograd. */
#ifndef NB_VIEW_H
#define NB_VIEW_H

#include "tensor.h"

/* What kind of view a tensor is of its input, so autograd can route the gradient back. */
typedef enum nb_view_kind {
    NB_VIEW_RESHAPE,   /* any view with the input's elements in the same order (reshape, squeeze,
                          unsqueeze, flatten, alias) */
    NB_VIEW_PERMUTE,   /* dims reordered: perm[i] is the input dim of output dim i */
    NB_VIEW_NARROW,    /* dim, start, length */
    NB_VIEW_SELECT,    /* dim, index (dim dropped) */
    NB_VIEW_EXPAND,    /* broadcast to a larger shape */
} nb_view_kind;

typedef struct nb_view_args {
    nb_view_kind kind;
    int dim;
    int64_t start, length;
    int perm[NB_MAX_DIMS];
} nb_view_args;

/* A view of t sharing its storage, recorded for autograd. */
nb_tensor *nb__make_view(const char *name, const nb_tensor *t, int64_t offset, int ndim,
                         const int64_t *shape, const int64_t *strides, const nb_view_args *args);
/* A new header over t's elements with the same shape and strides (a fresh reference for scopes). */
nb_tensor *nb__alias(const char *name, const nb_tensor *t);

#endif /* NB_VIEW_H */
