/* fashion_train.h — the training loop the Fashion-MNIST samples share: shuffled batches from
 * nabla's loader, a forward to logits, cross entropy, backward, an optimizer step, a progress bar,
 * the --log CSV, and after each epoch the test accuracy (no-grad, eval mode, argmax). */
#ifndef NB_SAMPLES_FASHION_TRAIN_H
#define NB_SAMPLES_FASHION_TRAIN_H

#include "fashion_options.h"
#include "loss_log.h"

#include <nabla.h>

/* A model as the loop sees it: a forward from images (B, 784) to logits (B, 10), and the
 * parameter list the optimizer steps, whose train/eval switch the evaluation turns. */
typedef struct fashion_model {
    const void *impl;
    nb_tensor *(*forward)(const void *impl, const nb_tensor *x);
    nb_params *params;
    nb_dtype amp; /* forwards run under autocast to this dtype; NB_FLOAT32: in float32 */
} fashion_model;

typedef struct fashion_trainer {
    const char *prog;
    const fashion_options *opts;
    fashion_model model;
    nb_optimizer *opt;
    nb_grad_scaler *scaler; /* float16's loss scaling (--amp fp16), or NULL */
    nb_loader *loader; /* shuffled batches of the training set, on the CPU */
    loss_log *log;
    nb_params *state;  /* what a checkpoint holds by name: the parameters and buffers */
    int64_t step;      /* steps taken so far, over all epochs (and earlier runs) */
    int64_t run_steps; /* steps taken by this run */
    double epoch_loss_sum; /* the current epoch's losses so far, and their count: a resumed */
    int64_t epoch_steps;   /* epoch prints the same mean as an uninterrupted one */
    bool stopped;      /* --stop-after ended the run (its checkpoint written) */
    bool terminal;     /* stdout is a terminal: draw a progress bar */
} fashion_trainer;

/* Restores the run saved at opts->load_path (nb_checkpoint_load): with training, the whole
 * training state (the optimizer's, the loader's place in its epochs, the generator, the step);
 * without, the parameters and buffers alone. False after a message. */
bool fashion_resume(fashion_trainer *t, bool training);
/* Writes the whole training state to opts->save_path; false after a message. */
bool fashion_save(fashion_trainer *t);

/* The logits of images x (B, 784) on device, under autocast when m->amp asks for it. */
nb_tensor *fashion_forward(const fashion_model *m, const nb_tensor *x);
/* The share of images (N, 784) whose highest logit is their label (N,), in percent, in eval mode
 * (the model's mode is restored after); negative (after a message) on a failure. */
double fashion_evaluate(const char *prog, const fashion_model *m, const nb_tensor *images, const nb_tensor *labels);
/* Trains until opts->epochs (continuing a resumed epoch), printing "epoch E/N: train loss L, test accuracy: A%, T s" after
 * each; with opts->save_every, saves every that many steps; with opts->stop_after, saves and
 * stops after that many steps of this run. False after a message. */
bool fashion_train(fashion_trainer *t, const nb_tensor *test_images, const nb_tensor *test_labels);

#endif /* NB_SAMPLES_FASHION_TRAIN_H */
