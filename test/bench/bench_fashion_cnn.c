/* bench_fashion_cnn.c — an epoch of samples/fashion_cnn (conv-BN-ReLU-pool twice, 128, dropout,
 * 10; AdamW; batches of 128) against the same network and training in PyTorch, on the same
 * machine and device.
 *
 *   bench_fashion_cnn SAMPLE SCRIPT [DEVICE]   (the fashion_cnn program and fashion_mnist_torch.py,
 *                                               passed by meson; DEVICE cpu (default) or cuda)
 *
 * Both run as child programs, two epochs each, the first counted as the warm-up, and take turns
 * (nabla, PyTorch, nabla, PyTorch) so that a shared machine's changing load falls on both. nabla
 * uses its default threads, PyTorch 2 on the CPU. Each times only its training (batches, steps),
 * not reading the files nor evaluating. Environment: FASHION_DATA, the data set's folder (default
 * Debian's); NB_PYTHON, the Python with torch (default /usr/bin/python3). Prints every epoch and,
 * last, the best nabla epoch over the best PyTorch epoch (goal <= 0.5). Without the data set it
 * exits 77 (skipped); without PyTorch it prints nabla's figures only. */
#include "epoch_times.h"
#include "spawn_capture.h"
#include "../../samples/fashion_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "bench_fashion_cnn"
#define ROUNDS 2
static const double GOAL = 0.5;

/* Runs argv and returns its best epoch after the first, printed under who; -1 on a failure. */
static double best_epoch(const char *who, char *const argv[])
{
    char *out;
    int status = spawn_capture(argv, &out);
    if (status != 0) {
        fprintf(stderr, PROG ": %s exited with status %d:\n%s\n", argv[0], status, out ? out : "");
        free(out);
        return -1;
    }
    double best = epoch_times_best(who, out);
    free(out);
    return best;
}

static bool have_data(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    if (access(path, R_OK) == 0) return true;
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    return access(path, R_OK) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: " PROG " FASHION_CNN fashion_mnist_torch.py [cpu|cuda]\n");
        return 2;
    }
    char *sample = argv[1], *script = argv[2], *device = argc == 4 ? argv[3] : "cpu";
    char *data = getenv("FASHION_DATA") ? getenv("FASHION_DATA") : FASHION_DEFAULT_DIR;
    char *python = getenv("NB_PYTHON") ? getenv("NB_PYTHON") : "/usr/bin/python3";
    if (!have_data(data)) {
        printf(PROG ": no Fashion-MNIST in %s (install %s or set FASHION_DATA): skipped\n", data, FASHION_PACKAGE);
        return 77;
    }
    bool torch = epoch_times_have_torch(python);
    if (!torch) printf("PyTorch: %s cannot import torch: nabla's figures only\n", python);
    printf("fashion_cnn epoch on %s, %d rounds of 2 epochs each (the first a warm-up)\n", device, ROUNDS);

    char *nabla_argv[] = {sample, "--epochs", "2", "--device", device, "--data", data, NULL};
    char *torch_argv[] = {python, script, "--model", "cnn", "--epochs", "2", "--threads", "2",
                          "--device", device, "--data", data, NULL};
    double nabla_best = INFINITY, torch_best = INFINITY;
    for (int round = 0; round < ROUNDS; round++) {
        double s = best_epoch("nabla  ", nabla_argv);
        if (s < 0) return 1;
        nabla_best = fmin(nabla_best, s);
        if (torch) {
            s = best_epoch("PyTorch", torch_argv);
            if (s < 0) return 1;
            torch_best = fmin(torch_best, s);
        }
    }
    if (!torch) {
        printf("nabla epoch, best: %.3f s\n", nabla_best);
        return 0;
    }
    printf("epoch, best of each: nabla %.3f s, PyTorch %.3f s\n", nabla_best, torch_best);
    printf("ratio (nabla epoch / PyTorch epoch, best of each): %.2f  goal <= %.1f\n", nabla_best / torch_best, GOAL);
    return 0;
}
