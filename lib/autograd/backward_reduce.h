/* backward_reduce.h — gradients of the reductions and matrix products. */
#ifndef NB_BACKWARD_REDUCE_H
#define NB_BACKWARD_REDUCE_H

#include "backward_shape.h"
#include "record.h"

/* [nb_reduce_op]; max and min save the input (slot 0), the indices (slot 1, along a dim) or the
 * output (slot 2, over everything). */
extern const nb_named_backward nb_reduce_grads[4];
extern const nb_named_backward nb_mm_grad;  /* 2-D; saves a (slot 0) and b (slot 1) */
extern const nb_named_backward nb_bmm_grad; /* batched 3-D */

#endif /* NB_BACKWARD_REDUCE_H */
