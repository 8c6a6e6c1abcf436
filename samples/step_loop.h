/* step_loop.h — the training loop of the seed samples (mlp_manual, mlp_autograd): run a step
 * function opts->iters times, eagerly or, with --replay, by capturing one step into a CUDA graph
 * and replaying it; record every step's loss and print one every 100 steps. */
#ifndef NB_SAMPLES_STEP_LOOP_H
#define NB_SAMPLES_STEP_LOOP_H

#include "common.h"

/* Steps run eagerly before the capture: the first creates what a step makes only once (cuBLAS's
 * handle, the .grad tensors), which a replay must not repeat. */
#define SAMPLE_WARMUP_STEPS 1

/* One training step in its own scope; returns its loss (kept out of the scope: the caller
 * releases it), or NULL when an op failed (nabla's error says which). */
typedef nb_tensor *(*sample_step_fn)(void *ctx);

/* Runs the steps into losses (iters,). Returns 0, or 1 after printing the failed step and
 * nabla's message on stderr. */
int sample_run_steps(const sample_options *opts, sample_step_fn step, void *ctx, float *losses);

#endif /* NB_SAMPLES_STEP_LOOP_H */
