/* test_samples_cuda.c — the samples on a CUDA device: mlp_manual and mlp_autograd, eager and
 * with --replay (one step captured into a CUDA graph, the rest replayed), and tf_gradients, each
 * against the same sample on the CPU, to relative 1e-4 (the weights and gradients; the losses
 * also to 1e-3 absolute once they reach float32's noise floor, where the order of a product's
 * additions alone moves them). The command-line checks of --replay run everywhere; the rest skip
 * without a device. */
#include "cuda_checks.h"
#include "sample_runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 1e-4
#define LOSS_ATOL 1e-3

/* Runs prog on golden/mlp/inputs on the CPU and with extra (NULL-terminated, at most 3), and
 * compares the outputs named in names. */
static void check_against_cpu(const char *prog, const char *data, const char *const *extra, int nnames,
                              const char *const *names)
{
    char *cpu = make_tmpdir(), *gpu = make_tmpdir();
    run_result c = run_sample(prog, (const char *[]){"--data", data, "--out", cpu, NULL});
    const char *args[8] = {"--data", data, "--out", gpu};
    int n = 4;
    for (int k = 0; extra[k] && n < 7; k++) args[n++] = extra[k];
    args[n] = NULL;
    run_result g = run_sample(prog, args);
    assert_exit(&c, 0);
    assert_exit(&g, 0);
    cr_assert_str_empty(g.err, "unexpected stderr:\n%s", g.err);
    for (int k = 0; k < nnames; k++) {
        nb_tensor *got = load_output(gpu, names[k]), *want = load_output(cpu, names[k]);
        bool is_loss = strstr(names[k], "loss") != NULL;
        assert_close(got, want, RTOL, is_loss ? LOSS_ATOL : 1e-6);
        nb_release(got);
        nb_release(want);
    }
    free_result(&c);
    free_result(&g);
    remove_tree(cpu);
    remove_tree(gpu);
}

static const char *const mlp_outputs[3] = {"w1.npy", "w2.npy", "losses.npy"};

/* ---------------------------------------------------------------- everywhere */

Test(samples, replay_needs_a_cuda_device, .init = nb_test_setup)
{
    const char *progs[2] = {"mlp_manual", "mlp_autograd"};
    for (int k = 0; k < 2; k++) {
        run_result r = run_sample(progs[k], (const char *[]){"--replay", "--iters", "3", NULL});
        assert_exit(&r, 2);
        assert_contains(r.err, "--replay needs --device cuda", "stderr");
        free_result(&r);
    }
    run_result h = run_sample("mlp_manual", (const char *[]){"--help", NULL});
    assert_exit(&h, 0);
    assert_contains(h.out, "--replay", "the help");
    free_result(&h);
}

Test(samples, tf_gradients_has_no_replay, .init = nb_test_setup)
{
    run_result r = run_sample("tf_gradients", (const char *[]){"--replay", "--device", "cuda", NULL});
    assert_exit(&r, 2);
    assert_contains(r.err, "unknown argument '--replay'", "stderr");
    free_result(&r);
}

/* ---------------------------------------------------------------- on a device */

Test(samples, mlp_manual_on_cuda_matches_the_cpu, .init = cuda_test_setup)
{
    check_against_cpu("mlp_manual", "golden/mlp/inputs", (const char *[]){"--device", "cuda", NULL}, 3, mlp_outputs);
}

Test(samples, mlp_manual_replayed_on_cuda_matches_the_cpu, .init = cuda_test_setup)
{
    check_against_cpu("mlp_manual", "golden/mlp/inputs", (const char *[]){"--device", "cuda", "--replay", NULL}, 3,
                      mlp_outputs);
}

Test(samples, mlp_autograd_on_cuda_matches_the_cpu, .init = cuda_test_setup)
{
    check_against_cpu("mlp_autograd", "golden/mlp/inputs", (const char *[]){"--device", "cuda", NULL}, 3, mlp_outputs);
}

Test(samples, mlp_autograd_replayed_on_cuda_matches_the_cpu, .init = cuda_test_setup)
{
    check_against_cpu("mlp_autograd", "golden/mlp/inputs", (const char *[]){"--device", "cuda", "--replay", NULL}, 3,
                      mlp_outputs);
}

Test(samples, tf_gradients_on_cuda_matches_the_cpu, .init = cuda_test_setup)
{
    const char *names[3] = {"loss.npy", "grad_w1.npy", "grad_w2.npy"};
    check_against_cpu("tf_gradients", "golden/tf/inputs", (const char *[]){"--device", "cuda", NULL}, 3, names);
}
