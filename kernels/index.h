/* index.h — the arguments of the index kernels, read by every device (kernels/cpu/index.c,
 * kernels/cuda/index.cu). lib/index.c fills them from tensors; gather, index_select, embedding,
 * one_hot, pad, flip and the gradients of all of them are these two kernels.
 *
 * An iteration runs over `shape` (the index's shape, at least 1-D). Element i, at coordinates
 * c, pairs the element of `other` at c with the element of `self` at c with c[dim] replaced by
 * the index value index[c]:
 *  - gather:  other[c] = self[c with c[dim] = index[c]];
 *  - scatter: self[c with c[dim] = index[c]] = other[c], or += other[c] · alpha when adding.
 * Strides are in elements. The index is int64 and lies so that an element's offset from
 * index[0] is its position in the caller's index (a contiguous index, or one broadcast with
 * stride 0): errors name that position.
 *
 * Every index is checked against [0, bound). A bad one is an NB_ERR_ARGUMENT naming the index,
 * its position and the bound: on the CPU the first in the index's order, found by a scatter
 * before anything is written (a gather checks as it reads: its output may be partly written,
 * and the caller drops it); on a GPU at the next
 * synchronisation (through the device's fault record), the gathered element then being NaN
 * (0 for int64 and bool) and the scattered one skipped, with no access out of bounds.
 *
 * Determinism: a scatter runs each line (the elements that share every coordinate but dim's) in
 * order along dim on one thread; different lines write different elements of self (they differ
 * in a coordinate self keeps), so duplicate indices are added, or overwritten (the last one
 * wins), in the same order on every device and every run, with no atomics. */
#ifndef NB_KERNELS_INDEX_H
#define NB_KERNELS_INDEX_H

#include "nabla.h"

typedef struct nbk_index_args {
    nb_dtype dtype;                       /* of self and other */
    int ndim;                             /* of the iteration, 1 to NB_MAX_DIMS */
    int dim;                              /* the indexed dim, 0 to ndim - 1 */
    int64_t shape[NB_MAX_DIMS];           /* the iteration's shape; numel > 0 */
    int64_t bound;                        /* self's size along dim: indices lie in [0, bound) */
    void *self;                           /* gather: read; scatter: written */
    int64_t self_strides[NB_MAX_DIMS];    /* self_strides[dim] steps by an index value */
    void *other;                          /* gather: the output; scatter: the source */
    int64_t other_strides[NB_MAX_DIMS];
    const int64_t *index;
    int64_t index_strides[NB_MAX_DIMS];   /* 0 where the index is broadcast */
    double alpha;                         /* a scatter that adds: other · alpha (1: other itself) */
} nbk_index_args;

#endif /* NB_KERNELS_INDEX_H */
