/* iter.h — building elementwise iterations and broadcast shapes from tensors. */
#ifndef NB_ITER_H
#define NB_ITER_H

#include "../kernels/iter.h"
#include "tensor.h"

/* Broadcasts the shapes of n tensors (NumPy rules) into out_shape; false and an error naming op
 * and the shapes when they do not broadcast. */
bool nb__broadcast_shapes(const char *op, int n, const nb_tensor *const *ts, int *out_ndim,
                          int64_t *out_shape);
/* An iteration writing out and reading the n inputs, each broadcast to out's shape (which the
 * caller has checked). Dims are coalesced where every operand allows. */
void nb__iter_build(nb_iter *it, nb_tensor *out, int n, const nb_tensor *const *inputs);

#endif /* NB_ITER_H */
