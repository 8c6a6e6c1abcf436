/* train_state.h — what a training-state checkpoint (lib/checkpoint.c) reads from and restores
 * into the objects it saves besides tensors: an optimizer's state (lib/optim/optimizer_state.c)
 * and a loader's place in its epochs (lib/data/loader.c). */
#ifndef NB_TRAIN_STATE_H
#define NB_TRAIN_STATE_H

#include "nabla.h"

#include <stddef.h>

/* The shortest decimal text (at most 24 bytes) that reads back (strtod) as v exactly, into buf;
 * returns buf. */
#define NB_EXACT_DOUBLE_LEN 32
const char *nb__exact_double(double v, char buf[NB_EXACT_DOUBLE_LEN]);

/* ---------------------------------------------------------------- a loader's place */

typedef struct nb__loader_place {
    int64_t rows, batch_size, num_batches; /* its geometry, which a restore must match */
    int64_t epoch;                         /* epochs started so far */
    int64_t position;                      /* batches handed out in the current epoch */
    bool started;                          /* an epoch was started */
    const nb_tensor *order;                /* (rows,) int64, the epoch's order; NULL in order */
} nb__loader_place;

/* l's place now (order borrowed from l). */
void nb__loader_snapshot(const nb_loader *l, nb__loader_place *place);
/* An error naming op unless place fits l (its geometry, a possible place, an order that is a
 * permutation of l's rows). */
bool nb__loader_check_place(const char *op, const nb_loader *l, const nb__loader_place *place);
/* Puts l at place (the order copied, checked to be a permutation): a started epoch continues
 * from place->position. False (and an error naming op) when place does not fit l; l is then
 * unchanged. */
bool nb__loader_restore(const char *op, nb_loader *l, const nb__loader_place *place);

/* ---------------------------------------------------------------- an optimizer's state */

typedef struct nb__optim_group_place {
    double lr, base_lr, weight_decay;
    int count; /* parameters in the group */
} nb__optim_group_place;

/* "SGD", "Adam" or "AdamW" */
const char *nb__optim_kind(const nb_optimizer *opt);
/* The optimizer-wide options as text, which a restore must match. */
void nb__optim_describe(const nb_optimizer *opt, char *buf, size_t size);
/* Group k's rates and size. */
nb__optim_group_place nb__optim_group_place_of(const nb_optimizer *opt, int k);

/* Called for each state tensor of each parameter (in group order): slot is PyTorch's name for it
 * ("momentum_buffer", "exp_avg", "exp_avg_sq", "step"). False stops the walk. */
typedef bool (*nb__optim_visit)(void *ctx, const nb_tensor *param, const char *slot, nb_tensor *value);
bool nb__optim_state_visit(const nb_optimizer *opt, nb__optim_visit visit, void *ctx);

/* The saved value of param's slot, or NULL when the file has none (no error). */
typedef const nb_tensor *(*nb__optim_lookup)(void *ctx, const nb_tensor *param, const char *slot);
/* Checks that the saved state fits opt (the group count and sizes; for each parameter, every
 * slot or none, shaped and typed like it; a 0-d step with them when the optimizer counts steps)
 * and only then restores it: the state's values (copied into opt's own tensors, made where a
 * parameter had none, released where the file has none), each group's rates and decay, and the
 * schedule's step. False (and an error naming op) on a mismatch, with opt unchanged. */
bool nb__optim_restore(const char *op, nb_optimizer *opt, int ngroups, const nb__optim_group_place *groups,
                       int64_t schedule_step, nb__optim_lookup lookup, void *ctx);

/* ---------------------------------------------------------------- a gradient scaler's state */

/* s's scale (0-d float32) and growth tracker (0-d int64), borrowed; both NULL before its first
 * nb_grad_scaler_scale. */
void nb__grad_scaler_state(const nb_grad_scaler *s, nb_tensor **scale, nb_tensor **growth_tracker);
/* An error naming op unless scale and growth_tracker could be a scaler's state (both or neither). */
bool nb__grad_scaler_check(const char *op, const nb_tensor *scale, const nb_tensor *growth_tracker);
/* s takes the saved values (made on device if it has no scale yet; none: as a new scaler). */
bool nb__grad_scaler_restore(const char *op, nb_grad_scaler *s, const nb_tensor *scale,
                             const nb_tensor *growth_tracker, nb_device device);

#endif /* NB_TRAIN_STATE_H */
