/* spawn_capture.h — runs a child program (the PyTorch side of a benchmark) and captures what it
 * prints, for the benchmarks that compare nabla with PyTorch in the same run. */
#ifndef NB_BENCH_SPAWN_CAPTURE_H
#define NB_BENCH_SPAWN_CAPTURE_H

/* Runs argv (argv[0] is the program's path) with stdout into a new temporary file; returns its
 * exit status (128 + the signal when killed, -1 when it cannot start) and, in *out, what it
 * printed (malloc'd, NUL-terminated; NULL when out of memory). */
int spawn_capture(char *const argv[], char **out);

#endif /* NB_BENCH_SPAWN_CAPTURE_H */
