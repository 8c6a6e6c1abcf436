/* epoch_times.c — the per-epoch lines of the Fashion-MNIST runs (epoch_times.h). */
#include "epoch_times.h"
#include "spawn_capture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double epoch_times_best(const char *who, const char *out)
{
    double best = INFINITY, loss = 0, accuracy = 0;
    printf("%s:", who);
    for (const char *p = out ? strstr(out, "epoch ") : NULL; p; p = strstr(p + 1, "epoch ")) {
        int epoch, epochs;
        double seconds;
        if (sscanf(p, "epoch %d/%d: train loss %lf, test accuracy: %lf%%, %lf s", &epoch, &epochs, &loss, &accuracy,
                   &seconds) != 5)
            continue;
        printf(epoch == 1 ? " warm-up %.3f s; epochs" : " %.3f s", seconds);
        if (epoch > 1 && seconds < best) best = seconds;
    }
    printf("  (loss %.4f, test accuracy %.2f%%)\n", loss, accuracy);
    fflush(stdout);
    if (isfinite(best)) return best;
    fprintf(stderr, "%s: no epoch times after the first in its output:\n%s\n", who, out ? out : "");
    return -1;
}

bool epoch_times_have_torch(const char *python)
{
    char *out;
    char *argv[] = {(char *)python, "-c", "import torch", NULL};
    int status = access(python, X_OK) == 0 ? spawn_capture(argv, &out) : -1;
    if (status >= 0) free(out);
    return status == 0;
}
