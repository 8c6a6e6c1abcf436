/* index.h — the index layer of lib/ (index.c): one call runs an index kernel (kernels/index.h)
 * over tensors, for the ops that read or write through an index (index.c, nn/embedding.c). */
#ifndef NB_INDEX_H
#define NB_INDEX_H

#include "tensor.h"

/* Runs the gather (other written) or scatter (self written; add: += other · alpha) of
 * kernels/index.h over the iteration of ndim dims and shape (0-d runs as one element), indexed
 * along dim. index is int64 (its element 0 and index_strides, in elements, laid out so that an
 * element's offset is its position in the caller's index); other is read or written at
 * other_strides (NULL: its own). Indices are checked by the device; an error names op. */
nb_status nb__index_run(const char *op, bool gather, bool add, double alpha, const nb_tensor *self, int dim,
                        int ndim, const int64_t *shape, const nb_tensor *index, const int64_t *index_strides,
                        const nb_tensor *other, const int64_t *other_strides);
/* A check that index is an int64 tensor on t's device; false and an error naming op otherwise. */
bool nb__check_index(const char *op, const nb_tensor *t, const nb_tensor *index);
/* Out of place, into a fresh copy of self (no history): self with src scattered (added, times
 * alpha) at index along dim; index and src checked by the caller. */
nb_tensor *nb__scatter_copy(const char *op, const nb_tensor *self, int dim, const nb_tensor *index,
                            const nb_tensor *src, bool add, double alpha, bool index_add);

#endif /* NB_INDEX_H */
