/* optimizer.h — the optimizer object that SGD, Adam and AdamW share: parameter groups (each with
 * its own list, learning rate and weight decay, as torch.optim's param_groups), per-parameter
 * state, and a small table of the functions that differ. */
#ifndef NB_OPTIM_OPTIMIZER_H
#define NB_OPTIM_OPTIMIZER_H

#include "../../kernels/ops.h"
#include "../tensor.h"

/* What an optimizer keeps for one parameter. Tensors are created on the parameter's first step
 * (with its shape, dtype and device), owned here and tracked by no scope. */
typedef struct nb_optim_state {
    nb_tensor *slots[2]; /* SGD: the momentum buffer; Adam: exp_avg (m), exp_avg_sq (v) */
    nb_tensor *step;     /* Adam: a 0-d float64 on the parameter's device, its step count (so
                          * that a replayed step advances it); NULL for SGD */
} nb_optim_state;

/* One parameter group: torch.optim's param_groups entry. */
typedef struct nb_optim_group {
    nb_params *params;     /* borrowed: must outlive the optimizer */
    double lr;             /* the current rate */
    double base_lr;        /* the rate at construction (torch's initial_lr), for schedules */
    double weight_decay;
    nb_optim_state *state; /* (nstate,) indexed like params; grows as params does */
    int nstate;
    /* Adam: lr as a 0-d float64 on each device the group's parameters have state on (made with
     * the state, rewritten by every change of lr), which the fused kernel reads, so a replayed
     * step uses the rate set before the replay; empty for SGD */
    nb_tensor **lr_on; /* (nlr,) */
    int nlr;
} nb_optim_group;

typedef struct nb_optimizer_vtable {
    const char *name; /* "SGD", "Adam", "AdamW", for messages */
    /* Updates every parameter of group g that has a grad (grads checked by the caller, state
     * grown to the list's length); runs in no-grad mode with scope tracking paused. False (with
     * an error) on failure. */
    bool (*step_group)(nb_optimizer *opt, nb_optim_group *g);
    /* Before any group steps (NULL: nothing to do): makes the state group g's parameters with a
     * grad lack, so that a refusal (during a capture) comes before any parameter changes. */
    bool (*prepare_group)(nb_optimizer *opt, nb_optim_group *g);
    /* For checkpoints (lib/optim/optimizer_state.c): the names of the state's slots, as PyTorch's
     * state_dict names them (NULL past the last), whether each parameter counts its steps, and
     * the optimizer-wide options as text ("beta1=0.9 ..."), which a restore must match. */
    const char *slot_names[2];
    bool counts_steps;
    void (*describe)(const nb_optimizer *opt, char *buf, size_t size);
    /* Whether step_group honours opt->found_inf on the device (the fused Adam kernels); the
     * gradient scaler decides the others' skips on the host. */
    bool skips_on_device;
} nb_optimizer_vtable;

/* The shared part. SGD and Adam allocate a larger struct with this as its first member, so
 * freeing the nb_optimizer frees everything. */
struct nb_optimizer {
    const nb_optimizer_vtable *vt;
    nb_optim_group *groups; /* (ngroups,) */
    int ngroups;
    int64_t schedule_step; /* the step of the last nb_optimizer_schedule_step (0 before any) */
    /* during a step of the gradient scaler: its found-inf flag (a 0-d float32 on the parameters'
     * device), where a nonzero value makes the step change nothing; NULL otherwise */
    const nb_tensor *found_inf;
};

/* Allocates an optimizer of size bytes (>= sizeof(nb_optimizer)) with its groups set from
 * groups (n >= 1), after checking them: non-NULL lists of floating-point leaves, no tensor in two
 * groups, rates and decays >= 0, where a group's lr or weight_decay < 0 or NaN stands for lr or
 * weight_decay. op names the constructor in messages. NULL (and an error) on failure. */
nb_optimizer *nb__optimizer_new(const char *op, size_t size, const nb_optimizer_vtable *vt, int n,
                                const nb_param_group *groups, double lr, double weight_decay);
/* Makes room in g for the state of n parameters (its list may have grown); false (and an error)
 * when out of memory. */
bool nb__optim_grow_state(nb_optim_group *g, int n);
/* nb_optimizer_step, changing nothing where found_inf (a 0-d float32 on the parameters' device)
 * holds a nonzero value when the step runs; for an optimizer whose vtable skips_on_device. */
nb_status nb__optimizer_step_unless(nb_optimizer *opt, const nb_tensor *found_inf);
/* An error naming op and option unless value is a number >= 0 (and < 1 when below_one). */
bool nb__optim_check_option(const char *op, const char *option, double value, bool below_one);

/* Group g's rate on device (a 0-d float64 holding g->lr), made on first use, or NULL (and an
 * error). */
nb_tensor *nb__optim_group_lr(nb_optim_group *g, nb_device device);
/* False, with an error naming op, while this thread captures a graph (a rate set then would not
 * reach the replays). */
bool nb__optim_lr_settable(const char *op);
/* Sets group g's rate to lr (checked by the caller) on the host and on every device it lives
 * on. False (and an error naming op) when a device write fails. */
bool nb__optim_write_lr(const char *op, nb_optim_group *g, double lr);

/* out = op(inputs) elementwise, written into out, which every input matches in shape, dtype and
 * device (the caller's promise); inputs may be out itself. n is the op's arity (0 for fill). */
bool nb__optim_apply(nb_ew_op op, nb_tensor *out, int n, const nb_tensor *a, const nb_tensor *b, double c0);
/* The same, for the op name (errors name it). */
bool nb__optim_apply_as(const char *name, nb_ew_op op, nb_tensor *out, int n, const nb_tensor *a, const nb_tensor *b,
                        double c0);
/* A new uninitialised tensor shaped like t (contiguous, same dtype and device), in no scope. */
nb_tensor *nb__optim_like(const nb_tensor *t);

#endif /* NB_OPTIM_OPTIMIZER_H */
