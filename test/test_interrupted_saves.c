/* test_interrupted_saves.c — saves killed with SIGKILL part-way (.npy files and checkpoints): the
 * file at the path is always the old one or the new one, whole, and the temporary files the
 * killed saves leave behind are removed by the next save to that path (lib/atomic_file.c).
 *
 * A child process saves two 8 MB tensors (all 1s, all 2s) to one path in turn, forever; the
 * parent kills it at chosen points: as soon as a temporary file appears, once the temporary file
 * holds half the data, once it holds all of it (before the rename), and after a random delay. */
#include "files.h"
#include "helpers.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ELEMENTS (2 << 20) /* 8 MB of float32 per save */

typedef nb_status (*save_fn)(nb_tensor *t, const char *path);
typedef nb_tensor *(*load_fn)(const char *path);

static nb_status save_npy(nb_tensor *t, const char *path) { return nb_save_npy(t, path); }
static nb_tensor *load_npy(const char *path) { return nb_load_npy(path); }

static nb_status save_checkpoint(nb_tensor *t, const char *path)
{
    nb_params *p = nb_params_new();
    nb_status st = nb_params_add(p, t);
    if (st == NB_OK) st = nb_params_save(p, path);
    nb_params_free(p);
    return st;
}

static nb_tensor *load_checkpoint(const char *path)
{
    nb_tensor *t = nb_zeros(NB_SHAPE(ELEMENTS), NB_OPTS(NB_FLOAT32));
    nb_params *p = nb_params_new();
    nb_params_add(p, t);
    nb_status st = nb_params_load(p, path);
    nb_params_free(p);
    if (st == NB_OK) return t;
    nb_release(t);
    return NULL;
}

/* Temporary files of saves to dir/name, and the size of the largest. */
static int temporaries(const char *dir, const char *name, long *largest)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    *largest = 0;
    size_t len = strlen(name);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, name, len) != 0 || strncmp(e->d_name + len, ".tmp.", 5) != 0) continue;
        n++;
        struct stat st;
        if (stat(path_join(dir, e->d_name), &st) == 0 && st.st_size > *largest) *largest = (long)st.st_size;
    }
    closedir(d);
    return n;
}

/* The file holds one of the two tensors, whole: every value 1, or every value 2. */
static void assert_whole(load_fn load, const char *path)
{
    nb_scope_begin();
    nb_tensor *t = load(path);
    cr_assert_not_null(t, "the file at %s is not whole: %s", path, nb_last_error());
    double lo = nb_item(nb_min(t)), hi = nb_item(nb_max(t));
    cr_assert(nb_numel(t) == ELEMENTS && lo == hi && (lo == 1.0 || lo == 2.0),
              "%s holds a mix of the old and the new tensor (%g to %g)", path, lo, hi);
    nb_scope_end();
}

enum kill_point { AT_FIRST_TEMPORARY, AT_HALF_WRITTEN, AT_FULLY_WRITTEN, AFTER_A_DELAY, KILL_POINTS };

/* Forks a child saving ones and twos to path in turn, kills it at the point at, and tells
 * whether a temporary file was left. */
static bool kill_saving_child(save_fn save, nb_tensor *ones, nb_tensor *twos, const char *dir, const char *name,
                              const char *path, enum kill_point at)
{
    const long full = ELEMENTS * 4;
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        for (int k = 0;; k++) save(k % 2 ? ones : twos, path); /* until killed */
    }
    long largest = 0;
    const struct timespec tick = {0, 200000}; /* 0.2 ms */
    const long want = at == AT_HALF_WRITTEN ? full / 2 : at == AT_FULLY_WRITTEN ? full : 1;
    if (at == AFTER_A_DELAY) {
        const struct timespec delay = {0, (rand() % 60) * 1000000L};
        nanosleep(&delay, NULL);
    } else {
        for (int waited = 0; waited < 50000; waited++) { /* at most 10 s */
            int n = temporaries(dir, name, &largest);
            if (n > 0 && largest >= want) break;
            nanosleep(&tick, NULL);
        }
    }
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status), "the saving child ended by itself");
    long ignored;
    return temporaries(dir, name, &ignored) > 0;
}

static void interrupt_saves(save_fn save, load_fn load, const char *tag)
{
    char dir[256];
    tmpdir_create(dir, sizeof dir, tag);
    const char *name = "model.bin";
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    nb_tensor *ones = nb_ones(NB_SHAPE(ELEMENTS), NB_OPTS(NB_FLOAT32));
    nb_tensor *twos = nb_full(NB_SHAPE(ELEMENTS), 2, NB_OPTS(NB_FLOAT32));
    cr_assert_eq(save(ones, path), NB_OK, "%s", nb_last_error());
    int killed_with_a_temporary = 0;
    srand(7);
    /* every point three times, then once more where a temporary file is sure to be left */
    for (int round = 0; round <= 3 * KILL_POINTS; round++) {
        const enum kill_point at = round < 3 * KILL_POINTS ? (enum kill_point)(round % KILL_POINTS) : AT_HALF_WRITTEN;
        if (kill_saving_child(save, ones, twos, dir, name, path, at)) killed_with_a_temporary++;
        assert_whole(load, path);
    }
    /* the next save removes what the killed ones left */
    long ignored;
    cr_assert_gt(temporaries(dir, name, &ignored), 0);
    cr_assert_eq(save(twos, path), NB_OK, "%s", nb_last_error());
    cr_assert_eq(temporaries(dir, name, &ignored), 0, "stale temporary files survived the next save");
    assert_whole(load, path);
    nb_release(ones);
    nb_release(twos);
    tree_remove(dir);
}

Test(io, killed_npy_saves_leave_a_whole_file_and_the_next_save_cleans_up, .init = nb_test_setup, .timeout = 120)
{
    interrupt_saves(save_npy, load_npy, "killed_npy");
}

Test(io, killed_checkpoint_saves_leave_a_whole_file_and_the_next_save_cleans_up, .init = nb_test_setup,
     .timeout = 120)
{
    interrupt_saves(save_checkpoint, load_checkpoint, "killed_ckpt");
}

/* A save in progress elsewhere (its temporary file locked) is not taken for a stale one. */
Test(io, a_locked_temporary_file_is_left_alone, .init = nb_test_setup)
{
    char dir[256];
    tmpdir_create(dir, sizeof dir, "locked_tmp");
    char path[512], tmp[600];
    snprintf(path, sizeof path, "%s/x.npy", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.abcdef", path);
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) { /* a writer holding its lock */
        FILE *f = fopen(tmp, "w");
        if (!f || flock(fileno(f), LOCK_EX) != 0) _exit(1);
        if (write(pipefd[1], "x", 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    char c;
    cr_assert_eq(read(pipefd[0], &c, 1), 1);
    nb_tensor *t = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_save_npy(t, path), NB_OK, "%s", nb_last_error());
    cr_assert_eq(access(tmp, F_OK), 0, "a temporary file another process holds was removed");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert_eq(nb_save_npy(t, path), NB_OK, "%s", nb_last_error()); /* its writer is gone now */
    cr_assert_neq(access(tmp, F_OK), 0, "the stale temporary file survived");
    nb_release(t);
    close(pipefd[0]);
    close(pipefd[1]);
    tree_remove(dir);
}
