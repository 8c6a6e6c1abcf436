/* test_samples.c — runs the built samples as a user would (from $NB_SAMPLES_DIR) and checks
 * their results against PyTorch's golden runs (golden/gen_mlp.py), their command line and their
 * error paths. */
#include "sample_runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tolerances against PyTorch. float32 training drifts with the order of each product's sums, which
 * depends on BLIS's kernel set (chosen per CPU): measured with the skx, haswell and zen3 kernels,
 * the final weights stay within 3e-6 of PyTorch's, while the loss differs by up to 5e-4 around
 * step 190 (loss ~3, 1.6e-4 relative) and by ~3% at step 500, where it sits on float32's noise
 * floor (~3e-5; float64 reaches 3e-7). So the weights are checked tightly, the losses to 1e-4
 * relative while they are large and 1e-3 absolute once they are small, and the last loss to 10%. */
#define RTOL 1e-4
#define WEIGHT_ATOL 1e-5
#define LOSS_ATOL 1e-3
#define FINAL_LOSS_RTOL 0.1

/* ---------------------------------------------------------------- against PyTorch */

Test(samples, mlp_manual_matches_pytorch, .init = nb_test_setup)
{
    char *out = make_tmpdir();
    run_result r = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out, NULL});
    assert_exit(&r, 0);
    cr_assert_str_empty(r.err, "unexpected stderr:\n%s", r.err);
    for (int step = 100; step <= 500; step += 100) {
        char line[64];
        snprintf(line, sizeof line, "step %d: loss ", step);
        assert_contains(r.out, line, "stdout");
    }
    assert_contains(r.out, "final loss: ", "stdout");

    nb_tensor *losses = load_output(out, "losses.npy"), *want_losses = golden("mlp/expected/losses");
    nb_tensor *w1 = load_output(out, "w1.npy"), *want_w1 = golden("mlp/expected/w1");
    nb_tensor *w2 = load_output(out, "w2.npy"), *want_w2 = golden("mlp/expected/w2");
    assert_close(losses, want_losses, RTOL, LOSS_ATOL);
    assert_close(w1, want_w1, RTOL, WEIGHT_ATOL);
    assert_close(w2, want_w2, RTOL, WEIGHT_ATOL);

    /* the printed final loss is PyTorch's last loss, and losses.npy's to at least 6 digits */
    nb_tensor *last = nb_select(want_losses, 0, 499);
    double want = nb_item(last);
    cr_assert(fabs(final_loss(&r) - want) <= FINAL_LOSS_RTOL * fabs(want), "final loss %.9g, expected %.9g",
              final_loss(&r), want);
    nb_tensor *mine = nb_select(losses, 0, 499);
    cr_assert(fabs(final_loss(&r) - nb_item(mine)) <= 1e-6 * fabs(nb_item(mine)),
              "printed final loss %.9g, losses.npy ends with %.9g", final_loss(&r), nb_item(mine));
    assert_ok();

    nb_release(mine);
    nb_release(last);
    nb_release(losses);
    nb_release(want_losses);
    nb_release(w1);
    nb_release(want_w1);
    nb_release(w2);
    nb_release(want_w2);
    free_result(&r);
    remove_tree(out);
}

/* ---------------------------------------------------------------- --iters and --lr */

Test(samples, iters_sets_the_number_of_steps, .init = nb_test_setup)
{
    char *out = make_tmpdir();
    run_result r = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out, "--iters", "7", NULL});
    assert_exit(&r, 0);
    cr_assert(strstr(r.out, "step 100:") == NULL, "no loss line expected before step 100:\n%s", r.out);
    nb_tensor *losses = load_output(out, "losses.npy"); /* (7,) */
    nb_tensor *all = golden("mlp/expected/losses");     /* (500,) */
    nb_tensor *first7 = nb_narrow(all, 0, 0, 7);
    assert_close(losses, first7, RTOL, 0);
    nb_tensor *last = nb_select(losses, 0, 6);
    cr_assert(fabs(final_loss(&r) - nb_item(last)) <= 1e-6 * nb_item(last));
    assert_ok();
    nb_release(last);
    nb_release(first7);
    nb_release(all);
    nb_release(losses);
    free_result(&r);
    remove_tree(out);
}

Test(samples, zero_learning_rate_keeps_the_weights, .init = nb_test_setup)
{
    char *out = make_tmpdir();
    run_result r = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out, "--iters", "3", "--lr", "0", NULL});
    assert_exit(&r, 0);
    nb_tensor *w1 = load_output(out, "w1.npy"), *w2 = load_output(out, "w2.npy");
    nb_tensor *w1_in = golden("mlp/inputs/w1"), *w2_in = golden("mlp/inputs/w2");
    assert_close(w1, w1_in, 0, 0);
    assert_close(w2, w2_in, 0, 0);
    nb_tensor *losses = load_output(out, "losses.npy"); /* (3,): the first loss, three times */
    nb_tensor *all = golden("mlp/expected/losses");
    nb_tensor *first = nb_narrow(all, 0, 0, 1);
    nb_tensor *want = nb_expand(first, NB_SHAPE(3));
    assert_close(losses, want, RTOL, 0);
    assert_ok();
    nb_release(want);
    nb_release(first);
    nb_release(all);
    nb_release(losses);
    nb_release(w1);
    nb_release(w2);
    nb_release(w1_in);
    nb_release(w2_in);
    free_result(&r);
    remove_tree(out);
}

Test(samples, learning_rate_scales_the_step, .init = nb_test_setup)
{
    /* one step with lr and one with 2 lr: the second moves the weights twice as far */
    char *out1 = make_tmpdir(), *out2 = make_tmpdir();
    run_result r1 = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out1, "--iters", "1", "--lr", "1e-6", NULL});
    run_result r2 = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out2, "--iters=1", "--lr=2e-6", NULL});
    assert_exit(&r1, 0);
    assert_exit(&r2, 0);
    const char *names[2] = {"w1.npy", "w2.npy"};
    const char *inputs[2] = {"mlp/inputs/w1", "mlp/inputs/w2"};
    for (int k = 0; k < 2; k++) {
        nb_tensor *w0 = golden(inputs[k]);
        nb_tensor *a = load_output(out1, names[k]), *b = load_output(out2, names[k]);
        nb_tensor *step1 = nb_sub(a, w0), *step2 = nb_sub(b, w0);
        nb_tensor *twice = nb_mul_scalar(step1, 2.0);
        nb_tensor *size1 = nb_abs(step1);
        nb_tensor *biggest = nb_max(size1);
        cr_assert(nb_item(biggest) > 1e-3, "%s: the weights barely moved (%g)", names[k], nb_item(biggest));
        assert_close(step2, twice, 1e-3, 1e-5);
        assert_ok();
        nb_release(biggest);
        nb_release(size1);
        nb_release(twice);
        nb_release(step1);
        nb_release(step2);
        nb_release(a);
        nb_release(b);
        nb_release(w0);
    }
    free_result(&r1);
    free_result(&r2);
    remove_tree(out1);
    remove_tree(out2);
}

/* ---------------------------------------------------------------- without --data, devices */

Test(samples, draws_its_data_when_none_is_given, .init = nb_test_setup)
{
    char *out1 = make_tmpdir(), *out2 = make_tmpdir();
    run_result r1 = run_sample("mlp_manual", (const char *[]){"--iters", "2", "--out", out1, NULL});
    run_result r2 = run_sample("mlp_manual", (const char *[]){"--iters", "2", "--out", out2, "--device", "cpu", NULL});
    assert_exit(&r1, 0);
    assert_exit(&r2, 0);
    nb_tensor *w1 = load_output(out1, "w1.npy"), *w2 = load_output(out1, "w2.npy");
    cr_assert(nb_ndim(w1) == 2 && nb_size(w1, 0) == 1000 && nb_size(w1, 1) == 100);
    cr_assert(nb_ndim(w2) == 2 && nb_size(w2, 0) == 100 && nb_size(w2, 1) == 10);
    /* seeded: a second run draws the same data and trains the same way */
    nb_tensor *losses1 = load_output(out1, "losses.npy"), *losses2 = load_output(out2, "losses.npy");
    assert_close(losses2, losses1, 0, 0);
    nb_tensor *first = nb_select(losses1, 0, 0), *second = nb_select(losses1, 0, 1);
    /* random x, w1, w2 of unit variance give losses in the millions that gradient descent lowers */
    cr_assert(nb_item(first) > 1e5 && nb_item(second) < nb_item(first), "losses %g then %g",
              nb_item(first), nb_item(second));
    assert_ok();
    nb_release(first);
    nb_release(second);
    nb_release(losses1);
    nb_release(losses2);
    nb_release(w1);
    nb_release(w2);
    free_result(&r1);
    free_result(&r2);
    remove_tree(out1);
    remove_tree(out2);
}

Test(samples, cuda_device_runs_or_fails_clearly, .init = nb_test_setup)
{
    char *out = make_tmpdir();
    run_result r = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out, "--iters", "5", "--device", "cuda", NULL});
    if (r.status == 0) { /* nabla has CUDA and a device: the same numbers as PyTorch */
        nb_tensor *losses = load_output(out, "losses.npy"), *all = golden("mlp/expected/losses");
        nb_tensor *first5 = nb_narrow(all, 0, 0, 5);
        assert_close(losses, first5, RTOL, 0);
        nb_release(first5);
        nb_release(all);
        nb_release(losses);
    } else {
        assert_exit(&r, 1);
        assert_contains(r.err, "mlp_manual: nb_to", "stderr");
        assert_contains(r.err, "cuda:0", "stderr");
        cr_assert(strstr(r.err, "usage") == NULL, "a device error is not a usage error:\n%s", r.err);
    }
    free_result(&r);
    remove_tree(out);
}

/* ---------------------------------------------------------------- errors */

Test(samples, missing_data_is_named, .init = nb_test_setup)
{
    run_result r = run_sample("mlp_manual", (const char *[]){"--data", "/nonexistent/nabla-data", NULL});
    assert_exit(&r, 1);
    assert_contains(r.err, "mlp_manual: cannot load /nonexistent/nabla-data/x.npy", "stderr");
    cr_assert_str_empty(r.out);
    free_result(&r);

    /* only w2.npy missing */
    char *dir = make_tmpdir();
    write_data(dir, (int64_t[]){4, 5}, (int64_t[]){4, 3}, (int64_t[]){5, 2}, (int64_t[]){2, 3}, NB_FLOAT32);
    char *w2 = path_in(dir, "w2.npy");
    cr_assert_eq(remove(w2), 0);
    run_result r2 = run_sample("mlp_manual", (const char *[]){"--data", dir, NULL});
    assert_exit(&r2, 1);
    assert_contains(r2.err, w2, "stderr");
    free(w2);
    free_result(&r2);
    remove_tree(dir);
}

Test(samples, small_consistent_data_runs, .init = nb_test_setup)
{
    /* any consistent sizes work, not only the seed's */
    char *dir = make_tmpdir(), *out = make_tmpdir();
    write_data(dir, (int64_t[]){4, 5}, (int64_t[]){4, 3}, (int64_t[]){5, 2}, (int64_t[]){2, 3}, NB_FLOAT32);
    run_result r = run_sample("mlp_manual", (const char *[]){"--data", dir, "--out", out, "--iters", "1", NULL});
    assert_exit(&r, 0);
    /* all ones: h = 5, y_pred = 10, loss = 4 * 3 * (10 - 1)^2 = 972 */
    cr_assert(fabs(final_loss(&r) - 972.0) < 1e-3, "final loss %g, expected 972", final_loss(&r));
    free_result(&r);
    remove_tree(dir);
    remove_tree(out);
}

Test(samples, inconsistent_shapes_are_named, .init = nb_test_setup)
{
    char *dir = make_tmpdir();
    /* w1 has 6 rows but x has 5 columns */
    write_data(dir, (int64_t[]){4, 5}, (int64_t[]){4, 3}, (int64_t[]){6, 2}, (int64_t[]){2, 3}, NB_FLOAT32);
    run_result r = run_sample("mlp_manual", (const char *[]){"--data", dir, NULL});
    assert_exit(&r, 1);
    assert_contains(r.err, "inconsistent shapes", "stderr");
    assert_contains(r.err, "w1.npy is [6, 2]", "stderr");
    assert_contains(r.err, "x.npy is [4, 5]", "stderr");
    assert_contains(r.err, "D_in differs (6 vs 5)", "stderr");
    free_result(&r);

    /* y has 3 rows but x has 4 */
    write_data(dir, (int64_t[]){4, 5}, (int64_t[]){3, 3}, (int64_t[]){5, 2}, (int64_t[]){2, 3}, NB_FLOAT32);
    r = run_sample("mlp_manual", (const char *[]){"--data", dir, NULL});
    assert_exit(&r, 1);
    assert_contains(r.err, "y.npy is [3, 3]", "stderr");
    assert_contains(r.err, "N differs (3 vs 4)", "stderr");
    free_result(&r);

    /* w2 gives 4 outputs but y has 3 */
    write_data(dir, (int64_t[]){4, 5}, (int64_t[]){4, 3}, (int64_t[]){5, 2}, (int64_t[]){2, 4}, NB_FLOAT32);
    r = run_sample("mlp_manual", (const char *[]){"--data", dir, NULL});
    assert_exit(&r, 1);
    assert_contains(r.err, "w2.npy is [2, 4]", "stderr");
    assert_contains(r.err, "D_out differs (4 vs 3)", "stderr");
    free_result(&r);

    /* float64 x */
    write_data(dir, (int64_t[]){4, 5}, (int64_t[]){4, 3}, (int64_t[]){5, 2}, (int64_t[]){2, 3}, NB_FLOAT64);
    r = run_sample("mlp_manual", (const char *[]){"--data", dir, NULL});
    assert_exit(&r, 1);
    assert_contains(r.err, "x.npy holds a float64 tensor of shape [4, 5]", "stderr");
    assert_contains(r.err, "expected a float32 matrix", "stderr");
    free_result(&r);
    remove_tree(dir);
}

Test(samples, unwritable_output_is_named, .init = nb_test_setup)
{
    char *dir = make_tmpdir();
    char *file = path_in(dir, "file");
    FILE *f = fopen(file, "w");
    fclose(f);
    char *below_file = path_in(file, "out"); /* a folder inside a regular file cannot exist */
    run_result r = run_sample("mlp_manual", (const char *[]){"--iters", "1", "--out", below_file, NULL});
    assert_exit(&r, 1);
    assert_contains(r.err, below_file, "stderr");
    free_result(&r);
    free(below_file);
    free(file);
    remove_tree(dir);
}

Test(samples, bad_arguments_print_usage, .init = nb_test_setup)
{
    const char *cases[][3] = {
        {"--iters", "0", "--iters"},   {"--iters", "ten", "--iters"}, {"--lr", "fast", "--lr"},
        {"--lr", "nan", "--lr"},       {"--device", "tpu", "--device"}, {"--bogus", NULL, "--bogus"},
        {"--data", NULL, "--data"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r = run_sample("mlp_manual", (const char *[]){cases[i][0], cases[i][1], NULL});
        assert_exit(&r, 2);
        assert_contains(r.err, "usage: mlp_manual", "stderr");
        assert_contains(r.err, cases[i][2], "stderr");
        cr_assert_str_empty(r.out);
        free_result(&r);
    }
    run_result help = run_sample("mlp_manual", (const char *[]){"--help", NULL});
    assert_exit(&help, 0);
    assert_contains(help.out, "usage: mlp_manual", "stdout");
    free_result(&help);
}

/* ---------------------------------------------------------------- --dtype */

/* mlp_manual on the golden inputs in dtype: every loss finite, the last below 1e-3 of the first
 * (float32 ends near 3e-5 of a first loss of 2.9e7; float16, with its static gradient scale,
 * near 260 and bfloat16, whose weights hold 8 bits, near 1.1e4), the weights written as float32 */
static void check_trains_in(const char *dtype)
{
    char *out = make_tmpdir();
    run_result r = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out, "--dtype",
                                                             dtype, NULL});
    assert_exit(&r, 0);
    cr_assert_str_empty(r.err, "unexpected stderr:\n%s", r.err);
    nb_tensor *losses = load_output(out, "losses.npy"); /* (500,) */
    const float *l = nb_data(losses);
    for (int i = 0; i < 500; i++) cr_assert(isfinite(l[i]), "%s: loss %d is %g", dtype, i + 1, l[i]);
    cr_assert(l[499] < 1e-3 * l[0], "%s: the loss went from %g to %g", dtype, l[0], l[499]);
    nb_tensor *w1 = load_output(out, "w1.npy");
    cr_assert_eq(nb_dtype_of(w1), NB_FLOAT32);
    nb_release(w1);
    nb_release(losses);
    free_result(&r);
    remove_tree(out);
    assert_ok();
}

Test(samples, mlp_manual_trains_in_float16, .init = nb_test_setup) { check_trains_in("float16"); }
Test(samples, mlp_manual_trains_in_bfloat16, .init = nb_test_setup) { check_trains_in("bfloat16"); }

Test(samples, mlp_manual_dtype_float32_is_the_default_and_bad_names_are_refused, .init = nb_test_setup)
{
    char *out1 = make_tmpdir(), *out2 = make_tmpdir();
    run_result r1 = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out1, "--iters",
                                                              "3", NULL});
    run_result r2 = run_sample("mlp_manual", (const char *[]){"--data", "golden/mlp/inputs", "--out", out2, "--iters",
                                                              "3", "--dtype=float32", NULL});
    assert_exit(&r1, 0);
    assert_exit(&r2, 0);
    nb_tensor *a = load_output(out1, "losses.npy"), *b = load_output(out2, "losses.npy");
    assert_close(a, b, 0, 0);
    nb_release(a), nb_release(b);
    run_result r3 = run_sample("mlp_manual", (const char *[]){"--iters", "3", "--dtype", "float64", NULL});
    assert_exit(&r3, 0);
    run_result bad = run_sample("mlp_manual", (const char *[]){"--dtype", "int64", NULL});
    assert_exit(&bad, 2);
    assert_contains(bad.err, "mlp_manual: unknown --dtype 'int64'", "stderr");
    run_result none = run_sample("mlp_manual", (const char *[]){"--dtype", NULL});
    assert_exit(&none, 2);
    assert_contains(none.err, "--dtype needs a value", "stderr");
    free_result(&r1), free_result(&r2), free_result(&r3), free_result(&bad), free_result(&none);
    remove_tree(out1), remove_tree(out2);
    assert_ok();
}
