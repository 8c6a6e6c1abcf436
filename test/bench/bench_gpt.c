/* bench_gpt.c — training throughput of samples/gpt at its default model (context 128, width 128,
 * 4 layers, 4 heads, batch 32) against the same model and training in PyTorch
 * (gpt_torch.py), on the same machine and device, in tokens per second.
 *
 *   bench_gpt GPT SCRIPT [DEVICE]   (the gpt program and gpt_torch.py, passed by meson; DEVICE
 *                                    cpu (default) or cuda)
 *
 * Both run as child programs on fortunes (Debian's package; FORTUNES_DATA overrides the path).
 * nabla's figure is its best 10-step window after the first (the warm-up); PyTorch's is timed
 * after warm-up steps. On the CPU PyTorch runs on 1 and on 2 threads and the better counts; on
 * CUDA both run eagerly and with the step replayed as a CUDA graph (nabla's --replay, PyTorch's
 * torch.cuda.graphs with capturable AdamW). NB_PYTHON names a Python with torch (default
 * /usr/bin/python3). Prints every figure and, last, nabla's tokens/s over PyTorch's eager tokens/s
 * (goal: at least 1.5 on the CPU; on CUDA, nabla replayed at least 3 times PyTorch eager). Without
 * the text it exits 77 (skipped); without PyTorch it prints nabla's figures only. */
#include "spawn_capture.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "bench_gpt"

/* The best tokens/s of the sample's progress lines after the first ("step 20/40: loss 3.88,
 * 10170 tokens/s, 50.3 ms/step"); -1 when there is none. */
static double best_window(const char *out)
{
    double best = -1;
    int seen = 0;
    for (const char *p = strstr(out, "step "); p; p = strstr(p + 1, "step ")) {
        long long step, steps;
        double loss, tokens, ms;
        if (sscanf(p, "step %lld/%lld: loss %lf, %lf tokens/s, %lf ms/step", &step, &steps, &loss, &tokens, &ms) != 5)
            continue;
        if (seen++ > 0 && tokens > best) best = tokens;
    }
    return best;
}

/* Runs argv and returns the throughput read from its output by the rule of nabla (the sample's
 * windows) or PyTorch ("tokens/s: N"), printed under who; -1 on a failure. */
static double throughput(const char *who, char *const argv[], bool nabla)
{
    char *out;
    int status = spawn_capture(argv, &out);
    double tokens = -1;
    if (status == 0 && out) {
        const char *p = strstr(out, "tokens/s: ");
        tokens = nabla ? best_window(out) : p ? atof(p + strlen("tokens/s: ")) : -1;
    }
    if (tokens <= 0) {
        fprintf(stderr, PROG ": %s: %s exited with status %d and no throughput:\n%s\n", who, argv[0], status,
                out ? out : "");
        free(out);
        return -1;
    }
    printf("%-28s %10.0f tokens/s\n", who, tokens);
    fflush(stdout);
    free(out);
    return tokens;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: " PROG " GPT gpt_torch.py [cpu|cuda]\n");
        return 2;
    }
    char *sample = argv[1], *script = argv[2], *device = argc == 4 ? argv[3] : "cpu";
    char *data = getenv("FORTUNES_DATA") ? getenv("FORTUNES_DATA") : "/usr/share/games/fortunes";
    char *python = getenv("NB_PYTHON") ? getenv("NB_PYTHON") : "/usr/bin/python3";
    if (access(data, R_OK) != 0) {
        printf(PROG ": no text at %s (install fortunes or set FORTUNES_DATA): skipped\n", data);
        return 77;
    }
    const bool cuda = strcmp(device, "cuda") == 0;
    char *check[] = {python, "-c", "import torch", NULL};
    char *ignored = NULL;
    const bool torch = access(python, X_OK) == 0 && spawn_capture(check, &ignored) == 0;
    free(ignored);
    printf("gpt training on %s, default model, batch 32 x 128 tokens\n", device);

    char *steps = cuda ? "200" : "30";
    char *eager[] = {sample, "--steps", steps, "--eval-every", "100000", "--sample-chars", "0", "--device", device,
                     "--data", data, NULL};
    char *replay[] = {sample, "--steps", steps, "--eval-every", "100000", "--sample-chars", "0", "--device", device,
                      "--replay", "--data", data, NULL};
    double nabla = throughput("nabla, eager", eager, true);
    double nabla_replay = cuda ? throughput("nabla, --replay", replay, true) : -1;
    if (nabla < 0 || (cuda && nabla_replay < 0)) return 1;
    if (!torch) {
        printf("PyTorch: %s cannot import torch: nabla's figures only\n", python);
        return 0;
    }
    double pt = -1, pt_graphs = -1;
    if (cuda) {
        char *pe[] = {python, script, "--device", "cuda", "--steps", "100", "--warmup", "10", "--data", data, NULL};
        char *pg[] = {python, script, "--device", "cuda", "--steps", "100", "--warmup", "10", "--graphs", "--data",
                      data, NULL};
        pt = throughput("PyTorch, eager", pe, false);
        pt_graphs = throughput("PyTorch, CUDA graphs", pg, false);
    } else {
        for (int threads = 1; threads <= 2; threads++) {
            char t[8], who[32];
            snprintf(t, sizeof t, "%d", threads);
            snprintf(who, sizeof who, "PyTorch, %d thread%s", threads, threads == 1 ? "" : "s");
            char *pc[] = {python, script, "--threads", t, "--steps", "6", "--warmup", "2", "--data", data, NULL};
            pt = fmax(pt, throughput(who, pc, false));
        }
    }
    if (pt <= 0) return 1;
    if (cuda) {
        printf("ratio (nabla eager / PyTorch eager): %.2f; nabla replayed / PyTorch graphs: %.2f\n", nabla / pt,
               pt_graphs > 0 ? nabla_replay / pt_graphs : NAN);
        printf("ratio (nabla replayed / PyTorch eager tokens/s): %.2f  goal >= 3\n", nabla_replay / pt);
    } else {
        printf("ratio (nabla / PyTorch tokens/s, the better of 1 and 2 threads): %.2f  goal >= 1.5\n", nabla / pt);
    }
    return 0;
}
