/* atomic_file.h — writing a file so that a crash never leaves a half-written one: the data goes
 * to a temporary file beside it, which is synced and renamed over the path only when complete. */
#ifndef NB_ATOMIC_FILE_H
#define NB_ATOMIC_FILE_H

#include "nabla.h"

#include <stdio.h>

typedef struct nb_atomic_file {
    const char *op;   /* for messages: "nb_save_npy" */
    const char *path; /* the file being replaced */
    char *tmp;        /* path + ".tmp.XXXXXX" */
    FILE *f;
} nb_atomic_file;

/* Creates the temporary file (with the permissions path has, or a new file would get); the
 * stream to write is af->f. NB_ERR_IO (naming op, path and the reason) when it cannot. */
nb_status nb__atomic_open(nb_atomic_file *af, const char *op, const char *path);
/* keep: flush, sync, close and rename over path (then sync the directory); a failed write or
 * any of these steps is an NB_ERR_IO naming the step. !keep: close and remove the temporary
 * file, returning NB_OK. The temporary file never survives. */
nb_status nb__atomic_close(nb_atomic_file *af, bool keep);

#endif /* NB_ATOMIC_FILE_H */
