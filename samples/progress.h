/* progress.h — a training epoch's progress on stdout: on a terminal a bar with the running loss,
 * redrawn in place (\r) at most ten times a second; otherwise plain lines, one every tenth of
 * the epoch, so logs and pipes stay readable. */
#ifndef NB_SAMPLES_PROGRESS_H
#define NB_SAMPLES_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct progress {
    int epoch, epochs;       /* this epoch (from 1) and how many there are */
    int64_t steps;           /* steps in the epoch */
    bool terminal;           /* stdout is a terminal: draw the bar */
    double last_draw;        /* when the bar was last drawn (seconds, monotonic) */
    int64_t next_line_step;  /* without a terminal: the step that prints the next line */
    bool drawn;              /* something is on the bar's line, to be cleared at the end */
} progress;

/* Seconds on a monotonic clock, for timing epochs. */
double progress_now(void);

/* Starts an epoch of `steps` steps; terminal decides between the bar and plain lines. */
void progress_begin(progress *p, int epoch, int epochs, int64_t steps, bool terminal);
/* Reports that `step` steps (from 1) are done, with the mean loss so far. */
void progress_update(progress *p, int64_t step, double running_loss);
/* Clears the bar (on a terminal) so the epoch's summary line can take its place. */
void progress_end(progress *p);

#endif /* NB_SAMPLES_PROGRESS_H */
