/* reduce.h — what the reduction entry points share (lib/reduce.c, lib/reduce_dims.c): merging
 * dims for a plan, and reading a list of dims. */
#ifndef NB_LIB_REDUCE_H
#define NB_LIB_REDUCE_H

#include "tensor.h"

/* Merges neighbouring dims (kept in order, outermost first) where every given stride list (in;
 * out and idx when not NULL) allows one dim to stand for the two. Returns the new count. */
int nb__reduce_coalesce(int n, int64_t *shape, int64_t *in, int64_t *out, int64_t *idx);

/* Reads the list (n, dims) against t's dims into a bit mask of the dims it names (each wrapped;
 * n == 0 names every dim, as PyTorch's dim=[] does). False with an error naming op for a dim
 * out of range, a dim named twice or a NULL list. A 0-d tensor accepts 0 and -1. */
bool nb__reduce_dims_mask(const char *op, const nb_tensor *t, int n, const int *dims, uint32_t *mask);

/* The shape of a reduction over mask: t's shape with those dims set to 1 (keepdim) or dropped. */
int nb__reduced_shape(const nb_tensor *t, uint32_t mask, bool keepdim, int64_t *shape);

/* For each element of t, the product of the other elements along dim d (d < 0: of every other
 * element), shaped like t, without history: prod's gradient factor (lib/reduce_scan.c). */
nb_tensor *nb__prod_others(const nb_tensor *t, int d);

#endif /* NB_LIB_REDUCE_H */
