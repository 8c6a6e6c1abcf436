/* reduction.h — what the losses of nabla/nn.h share: checking a reduction argument and applying
 * it to a tensor of per-element losses. */
#ifndef NB_NN_REDUCTION_H
#define NB_NN_REDUCTION_H

#include "nabla.h"

/* True for NB_REDUCTION_MEAN, SUM and NONE; false and an NB_ERR_ARGUMENT naming op otherwise. */
bool nb__check_reduction(const char *op, nb_reduction reduction);
/* mean(loss), sum(loss) (recorded), or loss itself for NB_REDUCTION_NONE; takes the caller's
 * reference to loss (NULL in gives NULL). */
nb_tensor *nb__reduce_loss(nb_tensor *loss, nb_reduction reduction);

#endif /* NB_NN_REDUCTION_H */
