/* loss_log.h — the --log CSV of the training samples ("step,loss", one line per step), written to
 * PATH.tmp and renamed over PATH once complete, so that a run that stops early never leaves half
 * a file under PATH. */
#ifndef NB_SAMPLES_LOSS_LOG_H
#define NB_SAMPLES_LOSS_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct loss_log {
    const char *prog; /* names the program in messages */
    FILE *f;          /* NULL when no log was asked for */
    char *path, *tmp_path;
} loss_log;

/* Starts a log at path (NULL: no log, every call a no-op); false after a message. */
bool log_open(loss_log *log, const char *prog, const char *path);
void log_step(loss_log *log, int64_t step, double loss);
/* Finishes the log: renamed into place when keep, else removed. False when writing failed. */
bool log_close(loss_log *log, bool keep);

#endif /* NB_SAMPLES_LOSS_LOG_H */
