/* optimizer.h — the optimizer object that SGD, Adam and AdamW share: the parameter list, the
 * learning rate, per-parameter state, and a small table of the functions that differ. */
#ifndef NB_OPTIM_OPTIMIZER_H
#define NB_OPTIM_OPTIMIZER_H

#include "../../kernels/ops.h"
#include "../tensor.h"

/* What an optimizer keeps for one parameter. Tensors are created on the parameter's first step
 * (with its shape, dtype and device), owned here and tracked by no scope. */
typedef struct nb_optim_state {
    nb_tensor *slots[2]; /* SGD: the momentum buffer; Adam: exp_avg (m), exp_avg_sq (v) */
    int64_t step;        /* steps this parameter has taken (Adam's bias corrections) */
} nb_optim_state;

typedef struct nb_optimizer_vtable {
    const char *name; /* "SGD", "Adam", "AdamW", for messages */
    /* Updates param in place from grad (same shape, dtype and device, checked by the caller);
     * runs in no-grad mode with scope tracking paused. False (with an error) on failure. */
    bool (*step_param)(nb_optimizer *opt, nb_tensor *param, const nb_tensor *grad, nb_optim_state *state);
} nb_optimizer_vtable;

/* The shared part. SGD and Adam allocate a larger struct with this as its first member, so
 * freeing the nb_optimizer frees everything. */
struct nb_optimizer {
    const nb_optimizer_vtable *vt;
    nb_params *params; /* borrowed: must outlive the optimizer */
    double lr;
    nb_optim_state *state; /* (nstate,) indexed like params; grows as params does */
    int nstate;
};

/* Allocates an optimizer of size bytes (>= sizeof(nb_optimizer)) with its shared fields set,
 * after checking params (non-NULL; every tensor a floating-point leaf) and lr (>= 0). op names
 * the constructor in messages. NULL (and an error) on failure. */
nb_optimizer *nb__optimizer_new(const char *op, size_t size, const nb_optimizer_vtable *vt, nb_params *params,
                                double lr);
/* An error naming op and option unless value is a number >= 0 (and < 1 when below_one). */
bool nb__optim_check_option(const char *op, const char *option, double value, bool below_one);

/* out = op(inputs) elementwise, written into out, which every input matches in shape, dtype and
 * device (the caller's promise); inputs may be out itself. n is the op's arity (0 for fill). */
bool nb__optim_apply(nb_ew_op op, nb_tensor *out, int n, const nb_tensor *a, const nb_tensor *b, double c0);
/* A new uninitialised tensor shaped like t (contiguous, same dtype and device), in no scope. */
nb_tensor *nb__optim_like(const nb_tensor *t);

#endif /* NB_OPTIM_OPTIMIZER_H */
