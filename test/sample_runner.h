/* sample_runner.h — running the built samples from the tests (see sample_runner.c). */
#ifndef NB_TEST_SAMPLE_RUNNER_H
#define NB_TEST_SAMPLE_RUNNER_H

#include "helpers.h"

typedef struct run_result {
    int status; /* exit status, or 128 + signal */
    char *out;  /* stdout */
    char *err;  /* stderr */
} run_result;

char *read_file(const char *path);
char *make_tmpdir(void);               /* a new directory under /tmp (free with remove_tree) */
void remove_tree(char *dir);           /* removes dir and frees the string */
char *path_in(const char *dir, const char *name); /* "dir/name", malloc'd */
/* Runs the sample prog with args (NULL-terminated), capturing its output. */
run_result run_sample(const char *prog, const char *const *args);
void free_result(run_result *r);
void assert_exit(const run_result *r, int status);
void assert_contains(const char *text, const char *part, const char *what);
nb_tensor *load_output(const char *dir, const char *name);
double final_loss(const run_result *r); /* the value printed after "final loss: " */
/* Runs prog with args (at most 20) three times in dir: uninterrupted with "--save full"; with
 * "--save part --stop-after stop_after"; and resumed with "--save part --load part". The two
 * checkpoints must be byte for byte the same (weights, optimizer state, generator, place), and
 * both runs must print the same value after the last key ("test accuracy: ") on stdout. */
void assert_resumes_bit_for_bit(const char *prog, const char *dir, const char *const *args, const char *stop_after,
                                const char *key);
/* Writes x, y, w1, w2 of the given shapes (ones) into dir, x with dtype x_dtype. */
void write_data(const char *dir, const int64_t x_shape[2], const int64_t y_shape[2],
                const int64_t w1_shape[2], const int64_t w2_shape[2], nb_dtype x_dtype);

#endif /* NB_TEST_SAMPLE_RUNNER_H */
