/* test_samples_gpt.c — runs the gpt sample as a user would: a short training of a small model on
 * a text file must lower the loss, log every step, print its progress, validation loss and a
 * sample of the text's characters, write a checkpoint that loads back; Debian's fortunes (when
 * installed) are read as one text; bad command lines and data fail clearly. */
#include "sample_runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FORTUNES "/usr/share/games/fortunes"

/* A text to learn: a few lines repeated (a vocabulary of lowercase letters, space, '.' and '\n'). */
static char *write_text(const char *dir)
{
    char *path = path_in(dir, "text.txt");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 300; i++)
        fprintf(f, "the cat sat on the mat.\na dog ate the bone.\nthe end of the tale is near.\n");
    fclose(f);
    return path;
}

/* Small-model options after the given ones (NULL-terminated lists joined). */
#define SMALL "--layers", "1", "--width", "32", "--heads", "2", "--context", "16", "--batch", "8"

/* The value after the last occurrence of key in text. */
static double value_after(const char *text, const char *key)
{
    const char *last = NULL;
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) last = p;
    cr_assert(last != NULL, "no \"%s\" in:\n%s", key, text);
    double v;
    cr_assert_eq(sscanf(last + strlen(key), "%lf", &v), 1, "unreadable \"%s\" in:\n%s", key, text);
    return v;
}

Test(samples, gpt_trains_logs_samples_and_checkpoints, .init = nb_test_setup)
{
    char *dir = make_tmpdir();
    char *text = write_text(dir), *log_path = path_in(dir, "log.csv"), *ckpt = path_in(dir, "gpt.ckpt");
    run_result r = run_sample("gpt", (const char *[]){"--data", text, SMALL, "--steps", "30", "--lr", "3e-3",
                                                      "--eval-every", "10", "--eval-batches", "2",
                                                      "--sample-chars", "40", "--prompt", "the ", "--top-k", "5",
                                                      "--log", log_path, "--save", ckpt, NULL});
    assert_exit(&r, 0);
    assert_contains(r.out, "characters, a vocabulary of 19;", "the data line");
    assert_contains(r.out, "model: 1 layers, 2 heads, width 32, context 16: ", "the model line");
    assert_contains(r.out, "step 10/30: loss ", "the progress");
    assert_contains(r.out, "step 30/30: loss ", "the progress");
    assert_contains(r.out, " tokens/s, ", "the progress");
    assert_contains(r.out, " ms/step", "the progress");
    assert_contains(r.out, "step 20: train loss ", "the estimates");
    assert_contains(r.out, ": 16 parameters and AdamW's state", "the checkpoint line");
    assert_contains(r.out, "val loss (first 136 windows): ", "the deterministic validation loss");
    double val = value_after(r.out, "validation loss: ");
    cr_assert(val > 0 && val < log(19.0) - 0.5, "the validation loss %g should be well under ln 19", val);
    /* the sample: the prompt, then 40 characters of the text's vocabulary */
    const char *sample = strstr(r.out, "sample:\nthe ");
    cr_assert_not_null(sample, "no sample after the prompt in:\n%s", r.out);
    sample += strlen("sample:\nthe ");
    size_t n = strspn(sample, "abcdefghijklmnopqrstuvwxyz .\n");
    cr_assert_geq(n, 40, "the sample holds characters not in the text:\n%s", sample);

    /* the log: a header, 30 rows, the validation loss at steps 10 and 20 only, the loss falling */
    char *csv = read_file(log_path);
    cr_assert(strncmp(csv, "step,train_loss,val_loss\n", 25) == 0, "%.100s", csv);
    double loss[31];
    int rows = 0, vals = 0;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        long long step;
        double tr, v;
        int used = 0;
        int k = sscanf(line, "%lld,%lf,%n", &step, &tr, &used);
        cr_assert(k == 2 && used > 0 && step == rows + 1 && isfinite(tr), "row %d: %.60s", rows + 1, line);
        if (line[used] != '\n') { /* a validation loss */
            cr_assert_eq(sscanf(line + used, "%lf", &v), 1, "row %d: %.60s", rows + 1, line);
            cr_assert(isfinite(v));
            vals++;
            cr_assert(step == 10 || step == 20, "a validation loss at step %lld", step);
        }
        loss[++rows] = tr;
        if (rows == 30) break;
    }
    cr_assert_eq(rows, 30);
    cr_assert_eq(vals, 2);
    double first = (loss[1] + loss[2] + loss[3]) / 3, last = (loss[28] + loss[29] + loss[30]) / 3;
    cr_assert_lt(last, first - 0.5, "the loss should fall: %g at first, %g at the end", first, last);
    free(csv);

    /* the checkpoint loads into the same model: evaluating it alone gives a trained model's loss */
    run_result e = run_sample("gpt", (const char *[]){"--data", text, SMALL, "--steps", "0", "--load", ckpt,
                                                      "--eval-batches", "2", "--sample-chars", "5", NULL});
    assert_exit(&e, 0);
    double reloaded = value_after(e.out, "validation loss: ");
    cr_assert(fabs(reloaded - val) < 0.3, "validation loss %g after loading, %g when saved", reloaded, val);
    /* a different model refuses it */
    run_result bad = run_sample("gpt", (const char *[]){"--data", text, "--layers", "2", "--width", "32",
                                                        "--heads", "2", "--context", "16", "--steps", "0",
                                                        "--load", ckpt, NULL});
    assert_exit(&bad, 1);
    assert_contains(bad.err, "nb_checkpoint_load", "the refused checkpoint");
    free_result(&r);
    free_result(&e);
    free_result(&bad);
    free(text);
    free(log_path);
    free(ckpt);
    remove_tree(dir);
}

/* 12 steps, stopped after 5 and resumed: the same checkpoint bytes (weights, AdamW's moments and
 * steps, the schedule, the generator that draws batches and dropout) as 12 steps in one run. */
Test(samples, gpt_resumes_bit_for_bit, .init = nb_test_setup)
{
    char *dir = make_tmpdir(), *text = write_text(dir);
    assert_resumes_bit_for_bit("gpt", dir,
                               (const char *[]){"--data", text, SMALL, "--steps", "12", "--dropout", "0.1",
                                                "--warmup", "3", "--eval-every", "4", "--eval-batches", "1",
                                                "--sample-chars", "8", NULL},
                               "5", "validation loss: ");
    /* float16 with loss scaling: the scaler's scale and growth tracker resume too */
    assert_resumes_bit_for_bit("gpt", dir,
                               (const char *[]){"--data", text, SMALL, "--steps", "8", "--amp", "fp16",
                                                "--eval-every", "4", "--eval-batches", "1", "--sample-chars", "8",
                                                NULL},
                               "3", "validation loss: ");
    run_result r = run_sample("gpt", (const char *[]){"--data", text, "--stop-after", "3", NULL});
    assert_exit(&r, 2);
    assert_contains(r.err, "--stop-after writes the checkpoint named by --save", "stderr");
    free_result(&r);
    free(text);
    remove_tree(dir);
}

/* --amp: bfloat16 autocast, and float16 with loss scaling, train the model as float32 does (the
 * losses within 0.05 after 30 steps); a bad value is refused. */
Test(samples, gpt_trains_under_mixed_precision, .init = nb_test_setup)
{
    char *dir = make_tmpdir(), *text = write_text(dir);
    double val[3];
    const char *amp[3] = {NULL, "bf16", "fp16"};
    for (int k = 0; k < 3; k++) {
        const char *args[32] = {"--data", text, SMALL, "--steps", "30", "--lr", "3e-3", "--eval-every", "100",
                                "--eval-batches", "2", "--sample-chars", "5", NULL};
        if (amp[k]) {
            int n = 0;
            while (args[n]) n++;
            args[n] = "--amp", args[n + 1] = amp[k], args[n + 2] = NULL;
        }
        run_result r = run_sample("gpt", args);
        assert_exit(&r, 0);
        if (amp[k]) assert_contains(r.out, k == 1 ? "autocast to bfloat16" : "autocast to float16 with loss scaling",
                                    "the precision line");
        val[k] = value_after(r.out, "validation loss: ");
        free_result(&r);
    }
    cr_assert(fabs(val[1] - val[0]) < 0.05 && fabs(val[2] - val[0]) < 0.05,
              "validation losses: float32 %g, bf16 %g, fp16 %g", val[0], val[1], val[2]);
    run_result bad = run_sample("gpt", (const char *[]){"--data", text, "--amp", "fp8", NULL});
    assert_exit(&bad, 2);
    assert_contains(bad.err, "--amp: expected bf16 or fp16, got \"fp8\"", "stderr");
    free_result(&bad);
    free(text);
    remove_tree(dir);
}

Test(samples, gpt_reads_the_fortunes_as_one_text, .init = nb_test_setup)
{
    if (access(FORTUNES, R_OK) != 0) cr_skip_test("%s is missing: install the Debian package fortunes", FORTUNES);
    run_result r = run_sample("gpt", (const char *[]){SMALL, "--steps", "2", "--eval-batches", "1",
                                                      "--sample-chars", "10", NULL});
    assert_exit(&r, 0);
    assert_contains(r.out, "text: " FORTUNES ": ", "the data line");
    assert_contains(r.out, "step 2/2: loss ", "the progress");
    assert_contains(r.out, "validation loss: ", "the end");
    free_result(&r);
}

/* The text of the line that starts with key (up to its newline), copied; fails when there is none. */
static char *line_of(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    cr_assert(p != NULL, "no \"%s\" in:\n%s", key, text);
    size_t n = strcspn(p, "\n");
    char *line = malloc(n + 1);
    cr_assert_not_null(line);
    memcpy(line, p, n);
    line[n] = '\0';
    return line;
}

Test(samples, gpt_validation_windows_are_deterministic, .init = nb_test_setup)
{
    char *dir = make_tmpdir();
    char *text = write_text(dir);
    /* the same weights (seed 0) evaluated after estimates of different sizes, which draw different
     * random batches: the windows' loss is the same to the last digit; 20 windows are batches of
     * 8, 8 and 4 */
    run_result a = run_sample("gpt", (const char *[]){"--data", text, SMALL, "--steps", "0", "--eval-batches", "1",
                                                      "--eval-windows", "20", "--sample-chars", "0", NULL});
    run_result b = run_sample("gpt", (const char *[]){"--data", text, SMALL, "--steps", "0", "--eval-batches", "3",
                                                      "--eval-windows", "20", "--sample-chars", "0", NULL});
    assert_exit(&a, 0);
    assert_exit(&b, 0);
    char *la = line_of(a.out, "val loss (first 20 windows): "), *lb = line_of(b.out, "val loss (first 20 windows): ");
    cr_assert_str_eq(la, lb);
    double v = value_after(a.out, "val loss (first 20 windows): ");
    cr_assert(fabs(v - log(19.0)) < 0.5, "an untrained model's loss %g should be near ln 19", v);
    /* the validation part (2190 characters) holds 136 windows of 16 and a next character */
    run_result all = run_sample("gpt", (const char *[]){"--data", text, SMALL, "--steps", "0", "--eval-windows",
                                                        "100000", "--sample-chars", "0", NULL});
    assert_exit(&all, 0);
    assert_contains(all.out, "val loss (first 136 windows): ", "every window");
    run_result none = run_sample("gpt", (const char *[]){"--data", text, SMALL, "--steps", "0", "--eval-windows",
                                                         "0", "--sample-chars", "0", NULL});
    assert_exit(&none, 0);
    cr_assert(strstr(none.out, "val loss (first") == NULL, "--eval-windows 0 evaluates no windows:\n%s", none.out);
    free(la);
    free(lb);
    free_result(&a);
    free_result(&b);
    free_result(&all);
    free_result(&none);
    free(text);
    remove_tree(dir);
}

Test(samples, gpt_refuses_bad_arguments_and_data, .init = nb_test_setup)
{
    char *dir = make_tmpdir();
    char *text = write_text(dir);
    const struct {
        const char *args[8];
        int status;
        const char *message;
    } cases[] = {
        {{"--width", "30", "--heads", "4", NULL}, 2, "--width 30 is not divisible by --heads 4"},
        {{"--steps", "-1", NULL}, 2, "--steps expects an integer of at least 0, got \"-1\""},
        {{"--eval-windows", "-2", NULL}, 2, "--eval-windows expects an integer of at least 0, got \"-2\""},
        {{"--dropout", "1", NULL}, 2, "--dropout expects a number in [0, 1)"},
        {{"--replay", NULL}, 2, "--replay captures CUDA work: it needs --device cuda"},
        {{"--device", "tpu", NULL}, 2, "--device expects cpu, cuda or cuda:N, got \"tpu\""},
        {{"--frobnicate", "1", NULL}, 2, "unknown option --frobnicate"},
        {{"--data", "/nonexistent/text", NULL}, 1, "cannot read /nonexistent/text"},
        {{"--data", text, "--prompt", "Zebra", NULL}, 1, "U+005A is not in the text's vocabulary"},
        {{"--data", text, "--context", "100000", NULL}, 1, "is not longer than the context (100000)"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        run_result r = run_sample("gpt", cases[c].args);
        assert_exit(&r, cases[c].status);
        assert_contains(r.err, cases[c].message, "stderr");
        free_result(&r);
    }
    run_result h = run_sample("gpt", (const char *[]){"--help", NULL});
    assert_exit(&h, 0);
    assert_contains(h.out, "--top-k N", "the usage");
    free_result(&h);
    free(text);
    remove_tree(dir);
}
