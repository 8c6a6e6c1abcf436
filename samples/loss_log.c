/* loss_log.c — the training samples' --log CSV (loss_log.h). */
#include "loss_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool log_open(loss_log *log, const char *prog, const char *path)
{
    *log = (loss_log){.prog = prog};
    if (!path) return true;
    log->path = strdup(path);
    log->tmp_path = malloc(strlen(path) + 5);
    if (!log->path || !log->tmp_path) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return false;
    }
    sprintf(log->tmp_path, "%s.tmp", path);
    log->f = fopen(log->tmp_path, "w");
    if (!log->f) {
        fprintf(stderr, "%s: cannot write the loss log %s: %s\n", prog, log->tmp_path, strerror(errno));
        return false;
    }
    fprintf(log->f, "step,loss\n");
    return true;
}

void log_step(loss_log *log, int64_t step, double loss)
{
    if (log->f) fprintf(log->f, "%lld,%.7g\n", (long long)step, loss);
}

bool log_close(loss_log *log, bool keep)
{
    bool ok = true;
    if (log->f) {
        ok = !ferror(log->f);
        ok = fclose(log->f) == 0 && ok;
        if (!ok) fprintf(stderr, "%s: cannot write the loss log %s\n", log->prog, log->tmp_path);
        if (ok && keep && rename(log->tmp_path, log->path) != 0) {
            fprintf(stderr, "%s: cannot rename %s to %s: %s\n", log->prog, log->tmp_path, log->path,
                    strerror(errno));
            ok = false;
        }
        if (!ok || !keep) remove(log->tmp_path);
    }
    free(log->path);
    free(log->tmp_path);
    *log = (loss_log){.prog = log->prog};
    return ok;
}
