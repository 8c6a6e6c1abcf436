/* test_samples_autograd.c — the autograd samples: mlp_autograd reproduces mlp_manual (its
 * gradients are the hand-written ones), and tf_gradients matches PyTorch's torch.autograd.grad
 * (golden/gen_tf.py). */
#include "sample_runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(samples, mlp_autograd_equals_mlp_manual, .init = nb_test_setup)
{
    char *manual = make_tmpdir(), *autograd = make_tmpdir();
    run_result m = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", manual, NULL});
    run_result a = run_sample("mlp_autograd", (const char *[]){"--data", "golden/mlp/inputs", "--out", autograd, NULL});
    assert_exit(&m, 0);
    assert_exit(&a, 0);
    cr_assert_str_empty(a.err, "unexpected stderr:\n%s", a.err);
    assert_contains(a.out, "step 500: loss ", "stdout");
    const char *names[3] = {"w1.npy", "w2.npy", "losses.npy"};
    for (int k = 0; k < 3; k++) {
        nb_tensor *got = load_output(autograd, names[k]), *want = load_output(manual, names[k]);
        assert_close(got, want, 1e-5, 0);
        nb_release(got);
        nb_release(want);
    }
    cr_assert(fabs(final_loss(&a) - final_loss(&m)) <= 1e-5 * fabs(final_loss(&m)));
    free_result(&m);
    free_result(&a);
    remove_tree(manual);
    remove_tree(autograd);
}

Test(samples, mlp_autograd_checks_its_arguments, .init = nb_test_setup)
{
    run_result r = run_sample("mlp_autograd", (const char *[]){"--iters", "zero", NULL});
    assert_exit(&r, 2);
    assert_contains(r.err, "usage: mlp_autograd", "stderr");
    free_result(&r);
    run_result missing = run_sample("mlp_autograd", (const char *[]){"--data", "/nonexistent", NULL});
    assert_exit(&missing, 1);
    assert_contains(missing.err, "/nonexistent/x.npy", "stderr");
    free_result(&missing);
}

Test(samples, tf_gradients_matches_pytorch, .init = nb_test_setup)
{
    char *out = make_tmpdir();
    run_result r = run_sample("tf_gradients", (const char *[]){"--data", "golden/tf/inputs", "--out", out, NULL});
    assert_exit(&r, 0);
    cr_assert_str_empty(r.err, "unexpected stderr:\n%s", r.err);
    assert_contains(r.out, "loss: ", "stdout");
    const char *names[3] = {"loss", "grad_w1", "grad_w2"};
    for (int k = 0; k < 3; k++) {
        char file[64], want_name[64];
        snprintf(file, sizeof file, "%s.npy", names[k]);
        snprintf(want_name, sizeof want_name, "tf/expected/%s", names[k]);
        nb_tensor *got = load_output(out, file), *want = golden(want_name);
        assert_close(got, want, 1e-5, 1e-4);
        nb_release(got);
        nb_release(want);
    }
    free_result(&r);
    remove_tree(out);
}

Test(samples, tf_gradients_draws_the_seed_sizes, .init = nb_test_setup)
{
    char *out = make_tmpdir();
    run_result r = run_sample("tf_gradients", (const char *[]){"--out", out, NULL});
    assert_exit(&r, 0);
    nb_tensor *g1 = load_output(out, "grad_w1.npy"), *g2 = load_output(out, "grad_w2.npy");
    char s1[64], s2[64];
    cr_assert_str_eq(nb_shape_string(g1, s1, sizeof s1), "[1000, 100]");
    cr_assert_str_eq(nb_shape_string(g2, s2, sizeof s2), "[100, 1000]");
    nb_release(g1);
    nb_release(g2);
    free_result(&r);
    remove_tree(out);
}

Test(samples, tf_gradients_names_inconsistent_data, .init = nb_test_setup)
{
    char *dir = make_tmpdir();
    write_data(dir, (const int64_t[]){4, 6}, (const int64_t[]){4, 6}, (const int64_t[]){6, 3},
               (const int64_t[]){5, 6}, NB_FLOAT32);
    run_result r = run_sample("tf_gradients", (const char *[]){"--data", dir, NULL});
    assert_exit(&r, 1);
    assert_contains(r.err, "w2.npy", "stderr");
    free_result(&r);
    remove_tree(dir);
}
