/* sample_runner.c — runs the built samples as a user would (from $NB_SAMPLES_DIR), capturing
 * their output, and reads what they wrote. Shared by the samples suites. */
#include "sample_runner.h"

#include "files.h"

#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *read_file(const char *path)
{
    size_t n;
    return (char *)read_bytes(path, &n);
}

char *make_tmpdir(void)
{
    char dir[64];
    tmpdir_create(dir, sizeof dir, "samples");
    return strdup(dir);
}

void remove_tree(char *dir)
{
    tree_remove(dir);
    free(dir);
}

char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* Runs the sample prog with args (NULL-terminated), capturing its output. */
run_result run_sample(const char *prog, const char *const *args)
{
    const char *dir = getenv("NB_SAMPLES_DIR");
    cr_assert(dir != NULL, "NB_SAMPLES_DIR is not set (run the suite with meson test)");
    char *exe = path_in(dir, prog);
    cr_assert(access(exe, X_OK) == 0, "cannot run %s", exe);

    const char *argv[32] = {exe};
    int argc = 1;
    for (; args[argc - 1]; argc++) argv[argc] = args[argc - 1];
    argv[argc] = NULL;

    char *tmp = make_tmpdir();
    char *out_path = path_in(tmp, "stdout"), *err_path = path_in(tmp, "stderr");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot start %s: %s", exe, strerror(rc));
    int ws;
    cr_assert(waitpid(pid, &ws, 0) == pid);

    run_result r = {WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws), read_file(out_path),
                    read_file(err_path)};
    free(out_path);
    free(err_path);
    free(exe);
    remove_tree(tmp);
    return r;
}

void free_result(run_result *r)
{
    free(r->out);
    free(r->err);
}

void assert_exit(const run_result *r, int status)
{
    cr_assert_eq(r->status, status, "exit status %d, expected %d\nstdout:\n%s\nstderr:\n%s",
                 r->status, status, r->out, r->err);
}

void assert_contains(const char *text, const char *part, const char *what)
{
    cr_assert(strstr(text, part) != NULL, "%s lacks \"%s\":\n%s", what, part, text);
}

nb_tensor *load_output(const char *dir, const char *name)
{
    char *p = path_in(dir, name);
    nb_tensor *t = nb_load_npy(p);
    cr_assert(t != NULL, "cannot load %s: %s", p, nb_last_error());
    free(p);
    return t;
}

/* The value printed after "final loss: ". */
double final_loss(const run_result *r)
{
    const char *p = strstr(r->out, "final loss: ");
    cr_assert(p != NULL, "no final loss in:\n%s", r->out);
    double v;
    cr_assert_eq(sscanf(p + strlen("final loss: "), "%lf", &v), 1, "unreadable final loss:\n%s", r->out);
    return v;
}

/* Writes x, y, w1, w2 of the given shapes (zeros) into dir, x with dtype x_dtype. */
void write_data(const char *dir, const int64_t x_shape[2], const int64_t y_shape[2],
                       const int64_t w1_shape[2], const int64_t w2_shape[2], nb_dtype x_dtype)
{
    const char *names[4] = {"x.npy", "y.npy", "w1.npy", "w2.npy"};
    const int64_t *shapes[4] = {x_shape, y_shape, w1_shape, w2_shape};
    for (int k = 0; k < 4; k++) {
        nb_tensor *t = nb_ones(2, shapes[k], NB_OPTS(k == 0 ? x_dtype : NB_FLOAT32));
        char *p = path_in(dir, names[k]);
        cr_assert_eq(nb_save_npy(t, p), NB_OK, "%s", nb_last_error());
        free(p);
        nb_release(t);
    }
}


/* args followed by extra (both NULL-terminated), in out (room for 32) */
static void join_args(const char **out, const char *const *args, const char *const *extra)
{
    int n = 0;
    for (int i = 0; args[i]; i++) out[n++] = args[i];
    for (int i = 0; extra[i]; i++) out[n++] = extra[i];
    cr_assert_lt(n, 32, "too many arguments");
    out[n] = NULL;
}

/* The text after the last key in text, up to a ',' or the line's end, malloc'd. */
static char *value_text(const char *text, const char *key, const char *prog)
{
    const char *last = NULL;
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) last = p;
    cr_assert(last != NULL, "%s: no \"%s\" in:\n%s", prog, key, text);
    last += strlen(key);
    return strndup(last, strcspn(last, ",\n"));
}

void assert_resumes_bit_for_bit(const char *prog, const char *dir, const char *const *args, const char *stop_after,
                                const char *key)
{
    char *full = path_in(dir, "full.safetensors"), *part = path_in(dir, "part.safetensors");
    const char *argv[32];
    join_args(argv, args, (const char *[]){"--save", full, NULL});
    run_result a = run_sample(prog, argv);
    assert_exit(&a, 0);
    join_args(argv, args, (const char *[]){"--save", part, "--stop-after", stop_after, NULL});
    run_result b1 = run_sample(prog, argv);
    assert_exit(&b1, 0);
    assert_contains(b1.out, "stopped after ", "the interrupted run");
    join_args(argv, args, (const char *[]){"--save", part, "--load", part, NULL});
    run_result b2 = run_sample(prog, argv);
    assert_exit(&b2, 0);

    size_t na, nb;
    unsigned char *ba = read_bytes(full, &na), *bb = read_bytes(part, &nb);
    cr_assert(na == nb && memcmp(ba, bb, na) == 0,
              "%s: the resumed run's checkpoint (%zu bytes) differs from the uninterrupted run's (%zu bytes)", prog, nb,
              na);
    char *la = value_text(a.out, key, prog), *lb = value_text(b2.out, key, prog);
    cr_assert_str_eq(lb, la, "%s: the resumed run ends with %s%s, the uninterrupted one with %s%s", prog, key, lb, key,
                     la);
    free(la), free(lb), free(ba), free(bb);
    free_result(&a), free_result(&b1), free_result(&b2);
    free(full), free(part);
}
