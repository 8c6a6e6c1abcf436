/* step_loop.c — eager or replayed training steps for the seed samples (see step_loop.h).
 *
 * With --replay, step SAMPLE_WARMUP_STEPS + 1 is captured: the capture records the step's work
 * without running it, so that step, like every later one, runs as one replay of the graph. The
 * captured step's loss tensor lives in the graph's memory: each replay rewrites it in place. */
#include "step_loop.h"

#include <stdio.h>

int sample_run_steps(const sample_options *opts, sample_step_fn step, void *ctx, float *losses)
{
    nb_graph *graph = NULL;
    nb_tensor *graph_loss = NULL; /* the captured step's loss, rewritten by every replay */
    int status = 0;
    for (int t = 0; t < opts->iters; t++) {
        if (opts->replay && t == SAMPLE_WARMUP_STEPS) {
            if (nb_graph_capture_begin(opts->device) == NB_OK) {
                graph_loss = step(ctx);
                graph = nb_graph_capture_end(); /* ends the capture even after a failed step */
            }
            if (!graph) {
                fprintf(stderr, "%s: capturing step %d: %s\n", opts->prog, t + 1, nb_last_error());
                status = 1;
                break;
            }
        }
        nb_tensor *loss = graph ? graph_loss : step(ctx);
        if (graph) nb_graph_replay(graph);
        losses[t] = (float)nb_item(loss); /* waits for the step */
        if (!graph) nb_release(loss);
        if (nb_last_status() != NB_OK) {
            fprintf(stderr, "%s: step %d: %s\n", opts->prog, t + 1, nb_last_error());
            status = 1;
            break;
        }
        if ((t + 1) % 100 == 0) printf("step %d: loss %.6g\n", t + 1, losses[t]);
    }
    nb_release(graph_loss);
    nb_graph_release(graph);
    return status;
}
