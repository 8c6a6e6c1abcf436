/* train_state_objects.h — the small training run whose checkpoints fuzz_train_state loads and
 * make_corpus writes as its seeds: a named Linear(2, 3), AdamW with two parameter groups, a
 * shuffled loader of 5 rows in batches of 2, and a "step" scalar. */
#ifndef NB_FUZZ_TRAIN_STATE_OBJECTS_H
#define NB_FUZZ_TRAIN_STATE_OBJECTS_H

#include "nabla.h"

typedef struct train_objects {
    nb_tensor *weight, *bias; /* (3, 2), (3,) float32 */
    nb_tensor *rows;          /* (5, 2) float32: the loader's inputs and targets */
    nb_params *state, *decay, *rest;
    nb_optimizer *opt;
    nb_loader *loader;
    double step;
    nb_checkpoint checkpoint; /* all of the above */
} train_objects;

/* Made from fixed values; NULL members mean it failed (the caller aborts). */
void train_objects_new(train_objects *o);
/* Takes one AdamW step on a fixed loss, then hands out the loader's next batch. */
void train_objects_step(train_objects *o);
void train_objects_free(train_objects *o);

#endif /* NB_FUZZ_TRAIN_STATE_OBJECTS_H */
