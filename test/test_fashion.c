/* test_fashion.c — runs the Fashion-MNIST samples as a user would. fashion_mnist must train a
 * classifier to at least 85% test accuracy in its default 3 epochs, log every step's loss, write
 * a checkpoint that evaluates to the same accuracy, and fail clearly on a missing data set, bad
 * files, a bad command line or a device that is not there; fashion_cnn the same on a short run.
 * Tests that need the data set (Debian's package dataset-fashion-mnist) are skipped without it. */
#include "sample_runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA_DIR "/usr/share/datasets/fashion-mnist"
#define STEPS_PER_EPOCH 469 /* ceil(60000 / 128): 468 full batches and one of 96 */

/* The default run, checked under the sanitizers too: there (a debug build; BLIS is not
 * instrumented) its three epochs take about 30 s on two cores, against 3 s in a release build,
 * well inside meson's 600 s for the suite. The tests set no Criterion .timeout of their own:
 * Criterion 2.4 leaks a timer when tests with different timeouts run in parallel, which
 * LeakSanitizer reports against the whole suite. */
#define TRAIN_EPOCHS 3
#define MIN_ACCURACY 85.0

static const char *const data_files[4] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
};

static void skip_without_data(void)
{
    for (int k = 0; k < 4; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", DATA_DIR, data_files[k]);
        if (access(path, R_OK) != 0)
            cr_skip_test("%s is missing: install the Debian package dataset-fashion-mnist", path);
    }
}

/* The values printed after each "test accuracy: " in out, in order; returns how many (at most max). */
static int accuracies(const char *out, double *values, int max)
{
    int n = 0;
    const char *key = "test accuracy: ";
    for (const char *p = strstr(out, key); p && n < max; p = strstr(p + 1, key)) {
        cr_assert_eq(sscanf(p + strlen(key), "%lf%%", &values[n]), 1, "unreadable accuracy in:\n%s", out);
        n++;
    }
    return n;
}

/* The text after the last "test accuracy: " up to its '%', e.g. "86.14". */
static void last_accuracy_text(const char *out, char *buf, size_t size)
{
    const char *key = "test accuracy: ", *last = NULL;
    for (const char *p = strstr(out, key); p; p = strstr(p + 1, key)) last = p;
    cr_assert(last != NULL, "no accuracy in:\n%s", out);
    last += strlen(key);
    size_t len = strcspn(last, "%");
    cr_assert(len > 0 && len < size, "unreadable accuracy in:\n%s", out);
    memcpy(buf, last, len);
    buf[len] = '\0';
}

/* Reads the CSV "step,loss" at path: checks its header, that steps count 1, 2, ... and that every
 * loss is finite; returns the losses (malloc'd) and their count in *n. */
static double *read_loss_log(const char *path, int64_t *n)
{
    char *text = read_file(path);
    const char *header = "step,loss\n";
    cr_assert(strncmp(text, header, strlen(header)) == 0, "%s does not start with \"step,loss\":\n%.200s", path, text);
    size_t cap = 4096;
    double *losses = malloc(cap * sizeof(double));
    *n = 0;
    for (char *line = text + strlen(header); *line; ) {
        long long step;
        double loss;
        int used = 0;
        cr_assert_eq(sscanf(line, "%lld,%lf%n", &step, &loss, &used), 2, "%s: unreadable row %lld: %.60s", path,
                     (long long)*n + 1, line);
        cr_assert_eq(step, *n + 1, "%s: row %lld has step %lld", path, (long long)*n + 1, step);
        cr_assert(isfinite(loss) && loss > 0, "%s: step %lld has loss %g", path, step, loss);
        if ((size_t)*n == cap) losses = realloc(losses, (cap *= 2) * sizeof(double));
        losses[(*n)++] = loss;
        line += used;
        cr_assert_eq(*line, '\n', "%s: row %lld does not end after its loss", path, step);
        line++;
    }
    free(text);
    return losses;
}

static double mean_of(const double *v, int64_t first, int64_t count)
{
    double sum = 0;
    for (int64_t i = first; i < first + count; i++) sum += v[i];
    return sum / (double)count;
}

/* ---------------------------------------------------------------- training */

Test(samples, fashion_mnist_trains_to_85_percent, .init = nb_test_setup)
{
    skip_without_data();
    char *dir = make_tmpdir();
    char *log = path_in(dir, "loss.csv"), *log_tmp = path_in(dir, "loss.csv.tmp");
    char *ckpt = path_in(dir, "model.ckpt");
    char epochs[16];
    snprintf(epochs, sizeof epochs, "%d", TRAIN_EPOCHS);

    run_result r = run_sample("fashion_mnist",
                              (const char *[]){"--epochs", epochs, "--log", log, "--save", ckpt, NULL});
    assert_exit(&r, 0);
    assert_contains(r.out, "nabla ", "stdout"); /* nb_config_string() comes first */
    char line[64];
    snprintf(line, sizeof line, "epoch %d/%d: train loss ", TRAIN_EPOCHS, TRAIN_EPOCHS);
    assert_contains(r.out, line, "stdout");

    /* one accuracy per epoch, the last one at least MIN_ACCURACY */
    double acc[8];
    int n_acc = accuracies(r.out, acc, 8);
    cr_assert_eq(n_acc, TRAIN_EPOCHS, "%d accuracies printed, expected %d:\n%s", n_acc, TRAIN_EPOCHS, r.out);
    for (int e = 0; e < n_acc; e++)
        cr_assert(acc[e] > 10.0 && acc[e] <= 100.0, "epoch %d: accuracy %g%%", e + 1, acc[e]);
    cr_assert(acc[n_acc - 1] >= MIN_ACCURACY, "test accuracy %.2f%% after %d epochs, expected at least %.0f%%:\n%s",
              acc[n_acc - 1], TRAIN_EPOCHS, MIN_ACCURACY, r.out);

    /* the log: one finite loss per step, falling on average (every tenth below the first) */
    cr_assert(access(log_tmp, F_OK) != 0, "%s was left behind", log_tmp);
    int64_t n;
    double *losses = read_loss_log(log, &n);
    cr_assert_eq(n, (int64_t)TRAIN_EPOCHS * STEPS_PER_EPOCH, "%s has %lld rows, expected %d", log, (long long)n,
                 TRAIN_EPOCHS * STEPS_PER_EPOCH);
    int64_t tenth = n / 10;
    double first = mean_of(losses, 0, tenth);
    cr_assert(losses[0] > 1.8 && losses[0] < 3.0, "the first step's loss is %g; an untrained network's is about "
              "ln 10 = 2.3", losses[0]);
    for (int k = 1; k < 10; k++) {
        double later = mean_of(losses, k * tenth, tenth);
        cr_assert(later < first, "tenth %d of the log has mean loss %g, not below the first tenth's %g", k + 1, later,
                  first);
    }
    double last = mean_of(losses, n - tenth, tenth);
    cr_assert(last < 0.7 * first, "the last tenth's mean loss %g is not well below the first's %g", last, first);
    free(losses);

    /* the checkpoint evaluates to the same accuracy */
    char trained[32];
    last_accuracy_text(r.out, trained, sizeof trained);
    run_result eval = run_sample("fashion_mnist", (const char *[]){"--load", ckpt, "--epochs", "0", NULL});
    assert_exit(&eval, 0);
    char loaded[32];
    last_accuracy_text(eval.out, loaded, sizeof loaded);
    cr_assert_str_eq(loaded, trained, "the checkpoint evaluates to %s%%, training ended at %s%%:\n%s", loaded, trained,
                     eval.out);
    cr_assert_eq(accuracies(eval.out, acc, 8), 1, "one evaluation expected:\n%s", eval.out);

    /* a checkpoint of another model is refused, naming the shapes */
    run_result other = run_sample("fashion_mnist",
                                  (const char *[]){"--load", ckpt, "--hidden", "100", "--epochs", "0", NULL});
    assert_exit(&other, 1);
    assert_contains(other.err, "fashion_mnist: cannot load the checkpoint", "stderr");
    assert_contains(other.err, "[256, 784]", "stderr");
    assert_contains(other.err, "[100, 784]", "stderr");

    free_result(&other);
    free_result(&eval);
    free_result(&r);
    free(ckpt);
    free(log_tmp);
    free(log);
    remove_tree(dir);
}

Test(samples, fashion_mnist_options_shape_the_run, .init = nb_test_setup)
{
    skip_without_data();
    /* a bigger batch and a 32-unit hidden layer for one epoch: ceil(60000 / 1000) = 60 steps */
    char *dir = make_tmpdir(), *log = path_in(dir, "loss.csv");
    run_result r = run_sample("fashion_mnist", (const char *[]){"--epochs", "1", "--batch", "1000", "--hidden", "32",
                                                               "--lr", "0.1", "--threads", "1", "--log", log, NULL});
    assert_exit(&r, 0);
    assert_contains(r.out, "model 784-32-10", "stdout");
    assert_contains(r.out, "batch 1000, 1 epoch, ", "stdout");
    assert_contains(r.out, "threads 1", "stdout");
    assert_contains(r.out, "epoch 1/1: train loss ", "stdout");
    /* without a terminal: plain progress lines, no carriage returns */
    assert_contains(r.out, "epoch 1/1: step 6/60 (10%), loss ", "stdout");
    cr_assert(strchr(r.out, '\r') == NULL, "a progress bar was drawn into a file:\n%s", r.out);
    double acc;
    cr_assert_eq(accuracies(r.out, &acc, 1), 1);
    cr_assert(acc >= 70.0, "accuracy %.2f%% after one epoch of 60 steps", acc);
    int64_t n;
    free(read_loss_log(log, &n));
    cr_assert_eq(n, 60, "%lld rows, expected 60", (long long)n);
    free_result(&r);
    free(log);
    remove_tree(dir);
}

Test(samples, fashion_mnist_cuda_runs_or_fails_clearly, .init = nb_test_setup)
{
    skip_without_data();
    run_result r = run_sample("fashion_mnist", (const char *[]){"--device", "cuda", "--epochs", "1", NULL});
    if (r.status == 0) { /* nabla has CUDA and a device */
        double acc;
        cr_assert_eq(accuracies(r.out, &acc, 1), 1, "one accuracy expected:\n%s", r.out);
        cr_assert(acc >= 80.0, "accuracy %.2f%% after one epoch on cuda:0", acc);
    } else {
        assert_exit(&r, 1);
        assert_contains(r.err, "fashion_mnist: ", "stderr");
        assert_contains(r.err, "cuda:0", "stderr");
        cr_assert(strstr(r.err, "usage") == NULL, "a device error is not a usage error:\n%s", r.err);
    }
    free_result(&r);
}

/* ---------------------------------------------------------------- errors */

Test(samples, fashion_mnist_missing_data_names_the_package, .init = nb_test_setup)
{
    run_result r = run_sample("fashion_mnist", (const char *[]){"--data", "/nonexistent/fashion", NULL});
    assert_exit(&r, 1);
    assert_contains(r.err, "/nonexistent/fashion/train-images-idx3-ubyte.gz", "stderr");
    assert_contains(r.err, "/nonexistent/fashion/t10k-labels-idx1-ubyte.gz", "stderr");
    assert_contains(r.err, "there is no such folder", "stderr");
    assert_contains(r.err, "install the Debian package dataset-fashion-mnist "
                           "(apt-get install dataset-fashion-mnist) or pass --data DIR", "stderr");
    cr_assert(strstr(r.err, "usage") == NULL, "a missing data set is not a usage error:\n%s", r.err);
    free_result(&r);

    /* three of the four files present: the fourth is named as missing */
    char *dir = make_tmpdir();
    for (int k = 0; k < 3; k++) {
        char *p = path_in(dir, data_files[k]);
        FILE *f = fopen(p, "wb");
        cr_assert(f != NULL);
        fclose(f);
        free(p);
    }
    r = run_sample("fashion_mnist", (const char *[]){"--data", dir, NULL});
    assert_exit(&r, 1);
    char *missing = path_in(dir, "t10k-labels-idx1-ubyte.gz");
    char want[1024];
    snprintf(want, sizeof want, "%s (or %.*s): missing", missing, (int)strlen(missing) - 3, missing);
    assert_contains(r.err, want, "stderr");
    cr_assert(strstr(r.err, "train-images-idx3-ubyte): missing") == NULL, "a present file is called missing:\n%s",
              r.err);
    free(missing);
    free_result(&r);
    remove_tree(dir);
}

Test(samples, fashion_mnist_bad_files_are_named, .init = nb_test_setup)
{
    /* all four files there, but the training images are not an IDX file */
    char *dir = make_tmpdir();
    for (int k = 0; k < 4; k++) {
        char *p = path_in(dir, data_files[k]);
        FILE *f = fopen(p, "wb");
        cr_assert(f != NULL);
        fputs("not an IDX file", f);
        fclose(f);
        free(p);
    }
    run_result r = run_sample("fashion_mnist", (const char *[]){"--data", dir, NULL});
    assert_exit(&r, 1);
    char *bad = path_in(dir, data_files[0]);
    assert_contains(r.err, "fashion_mnist: nb_load_idx: ", "stderr");
    assert_contains(r.err, bad, "stderr");
    free(bad);
    free_result(&r);
    remove_tree(dir);
}

Test(samples, fashion_mnist_bad_flags_print_usage, .init = nb_test_setup)
{
    const char *const cases[][3] = {
        {"--bogus", NULL, "unknown argument '--bogus'"},
        {"--epochs", "-1", "bad value '-1' for --epochs"},
        {"--lr", "0", "bad value '0' for --lr"},
        {"--momentum", "1", "bad value '1' for --momentum"},
        {"--batch", "12x", "bad value '12x' for --batch"},
        {"--hidden", "0", "bad value '0' for --hidden"},
        {"--device", "tpu", "bad value 'tpu' for --device"},
        {"--seed", NULL, "--seed needs a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r = run_sample("fashion_mnist", (const char *[]){cases[i][0], cases[i][1], NULL});
        assert_exit(&r, 2);
        assert_contains(r.err, cases[i][2], "stderr");
        assert_contains(r.err, "usage: fashion_mnist", "stderr");
        cr_assert_str_empty(r.out, "nothing is printed on stdout for a bad command line:\n%s", r.out);
        free_result(&r);
    }
    run_result help = run_sample("fashion_mnist", (const char *[]){"--help", NULL});
    assert_exit(&help, 0);
    assert_contains(help.out, "usage: fashion_mnist", "stdout");
    assert_contains(help.out, "--epochs N", "stdout");
    free_result(&help);
}

/* ---------------------------------------------------------------- fashion_cnn */

/* A short run of the convolutional sample (2048 training images, 16 steps an epoch, 1000 test
 * images): its loss falls, the accuracy is printed each epoch, and its checkpoint (parameters
 * and batch norm's running statistics, which eval mode uses) evaluates to the same accuracy. The
 * full 5-epoch run (91.44% over seeds 0-4) is README's, not the suite's: it takes minutes. */
Test(samples, fashion_cnn_trains_and_its_checkpoint_evaluates_the_same, .init = nb_test_setup)
{
    skip_without_data();
    char *dir = make_tmpdir(), *log = path_in(dir, "loss.csv"), *ckpt = path_in(dir, "cnn.ckpt");
    run_result r = run_sample("fashion_cnn", (const char *[]){"--train-size", "2048", "--test-size", "1000",
                                                             "--epochs", "2", "--log", log, "--save", ckpt, NULL});
    assert_exit(&r, 0);
    assert_contains(r.out, "Fashion-MNIST from " DATA_DIR ": 2048 training and 1000 test images", "stdout");
    assert_contains(r.out, "model conv32-bn-pool-conv64-bn-pool-128-10, AdamW lr 0.001 weight decay 0.01, batch 128",
                    "stdout");
    assert_contains(r.out, "epoch 2/2: train loss ", "stdout");
    double acc[2];
    cr_assert_eq(accuracies(r.out, acc, 2), 2, "two accuracies expected:\n%s", r.out);
    cr_assert(acc[1] >= 65.0, "accuracy %.2f%% after two epochs of 2048 images", acc[1]);
    int64_t n;
    double *losses = read_loss_log(log, &n);
    cr_assert_eq(n, 32, "%lld rows, expected 32 (16 steps an epoch)", (long long)n);
    cr_assert(mean_of(losses, 24, 8) < 0.8 * mean_of(losses, 0, 8), "the loss did not fall: first steps %g, last %g",
              mean_of(losses, 0, 8), mean_of(losses, 24, 8));
    free(losses);

    char trained[32], loaded[32];
    last_accuracy_text(r.out, trained, sizeof trained);
    run_result eval = run_sample("fashion_cnn",
                                 (const char *[]){"--load", ckpt, "--epochs", "0", "--test-size", "1000", NULL});
    assert_exit(&eval, 0);
    last_accuracy_text(eval.out, loaded, sizeof loaded);
    cr_assert_str_eq(loaded, trained, "the checkpoint evaluates to %s%%, training ended at %s%%:\n%s", loaded, trained,
                     eval.out);

    /* the MLP's checkpoint is not the CNN's: refused, naming the shapes */
    run_result other = run_sample("fashion_mnist", (const char *[]){"--load", ckpt, "--epochs", "0", NULL});
    assert_exit(&other, 1);
    assert_contains(other.err, "fashion_mnist: cannot load the checkpoint", "stderr");

    free_result(&other);
    free_result(&eval);
    free_result(&r);
    free(ckpt);
    free(log);
    remove_tree(dir);
}

/* Stopped in the middle of an epoch and resumed, each sample ends with the same checkpoint bytes
 * (weights, batch norm's statistics, the optimizer's state, the loader's order and place, the
 * generator behind shuffling and dropout) and the same last epoch line as one uninterrupted run. */
Test(samples, fashion_samples_resume_bit_for_bit, .init = nb_test_setup)
{
    skip_without_data();
    char *dir = make_tmpdir();
    assert_resumes_bit_for_bit("fashion_mnist", dir,
                               (const char *[]){"--train-size", "1000", "--test-size", "200", "--epochs", "2",
                                                "--batch", "100", "--save-every", "4", NULL},
                               "13", "test accuracy: ");
    assert_resumes_bit_for_bit("fashion_cnn", dir,
                               (const char *[]){"--train-size", "512", "--test-size", "200", "--epochs", "2",
                                                "--batch", "64", NULL},
                               "11", "test accuracy: ");
    run_result r = run_sample("fashion_cnn", (const char *[]){"--save-every", "3", NULL});
    assert_exit(&r, 2);
    assert_contains(r.err, "--save-every writes the checkpoint named by --save", "stderr");
    free_result(&r);
    remove_tree(dir);
}

/* --amp bf16 and fp16 (loss scaling) train the convolutional network as float32 does: one short
 * epoch each, accuracies within 6 points. */
Test(samples, fashion_cnn_trains_under_mixed_precision, .init = nb_test_setup)
{
    skip_without_data();
    double acc[3];
    const char *amp[3] = {NULL, "bf16", "fp16"};
    for (int k = 0; k < 3; k++) {
        const char *args[16] = {"--train-size", "1024", "--test-size", "500", "--epochs", "1", "--batch", "64", NULL};
        if (amp[k]) args[8] = "--amp", args[9] = amp[k], args[10] = NULL;
        run_result r = run_sample("fashion_cnn", args);
        assert_exit(&r, 0);
        if (amp[k]) assert_contains(r.out, k == 1 ? ", amp bf16" : ", amp fp16 (loss scaling)", "the model line");
        cr_assert_eq(accuracies(r.out, &acc[k], 1), 1, "no accuracy in:\n%s", r.out);
        free_result(&r);
    }
    cr_assert(fabs(acc[1] - acc[0]) < 6 && fabs(acc[2] - acc[0]) < 6, "accuracies: float32 %.2f, bf16 %.2f, fp16 %.2f",
              acc[0], acc[1], acc[2]);
}

Test(samples, fashion_cnn_bad_flags_print_usage, .init = nb_test_setup)
{
    const char *const cases[][3] = {
        {"--hidden", "10", "unknown argument '--hidden'"}, /* the MLP's flags are not the CNN's */
        {"--momentum", "0.5", "unknown argument '--momentum'"},
        {"--weight-decay", "2", "bad value '2' for --weight-decay"},
        {"--train-size", "0", "bad value '0' for --train-size"},
        {"--test-size", "10001", "bad value '10001' for --test-size"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r = run_sample("fashion_cnn", (const char *[]){cases[i][0], cases[i][1], NULL});
        assert_exit(&r, 2);
        assert_contains(r.err, cases[i][2], "stderr");
        assert_contains(r.err, "usage: fashion_cnn", "stderr");
        free_result(&r);
    }
    run_result help = run_sample("fashion_cnn", (const char *[]){"--help", NULL});
    assert_exit(&help, 0);
    assert_contains(help.out, "--weight-decay F", "stdout");
    assert_contains(help.out, "--train-size N", "stdout");
    free_result(&help);
}

Test(samples, fashion_cnn_cuda_runs_or_fails_clearly, .init = nb_test_setup)
{
    skip_without_data();
    run_result r = run_sample("fashion_cnn", (const char *[]){"--device", "cuda", "--epochs", "1", "--train-size", "4096",
                                                             "--test-size", "1000", NULL});
    if (r.status == 0) { /* nabla has CUDA and a device */
        double acc;
        cr_assert_eq(accuracies(r.out, &acc, 1), 1, "one accuracy expected:\n%s", r.out);
        cr_assert(acc >= 65.0, "accuracy %.2f%% after one epoch of 4096 images on cuda:0", acc);
    } else {
        assert_exit(&r, 1);
        assert_contains(r.err, "fashion_cnn: ", "stderr");
        assert_contains(r.err, "cuda:0", "stderr");
        cr_assert(strstr(r.err, "usage") == NULL, "a device error is not a usage error:\n%s", r.err);
    }
    free_result(&r);
}
