/* backward_ewise.h — the gradient formulas of the elementwise ops, indexed by nb_ew_op. */
#ifndef NB_BACKWARD_EWISE_H
#define NB_BACKWARD_EWISE_H

#include "../../kernels/ops.h"
#include "node.h"

enum { SAVE_IN0 = 1, SAVE_IN1 = 2, SAVE_OUT = 4 };

typedef struct nb_ew_grad {
    const char *name;        /* node name, "MulBackward" */
    nb_backward_fn backward; /* NULL: not differentiable (comparisons) */
    unsigned save;           /* SAVE_* flags: inputs go to slots 0 and 1, the output to slot 2 */
} nb_ew_grad;

extern const nb_ew_grad nb_ew_grads[NB_EW_COUNT];

#endif /* NB_BACKWARD_EWISE_H */
