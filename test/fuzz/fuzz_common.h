/* fuzz_common.h — what the libFuzzer targets share: the fuzz input as a file a loader can open,
 * and the contract every loader keeps when it refuses a file.
 *
 * The contract (include/nabla.h, DESIGN.md): a loader returns a tensor (or NB_OK), or it fails
 * with a nonzero nb_last_status() and a message that names the op and the file. Anything else is
 * a bug, and the target abort()s so that libFuzzer reports it with the input that caused it. */
#ifndef NB_FUZZ_COMMON_H
#define NB_FUZZ_COMMON_H

#include "nabla.h"

#include <stddef.h>
#include <stdint.h>

/* Writes bytes (n of them) into this process's own in-memory file (memfd_create) and returns a
 * path that opens it, "/proc/self/fd/N". The next call replaces the contents; slot 0 and 1 are
 * two separate files (a target that loads a patched copy next to the input uses slot 1). */
const char *fuzz_file(int slot, const uint8_t *bytes, size_t n);

/* Prints "fuzz: <what>" with the pending error (if any) to stderr and aborts. */
_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* After a refused load: aborts unless nb_last_status() is an error and nb_last_error() names
 * op and path. */
void fuzz_expect_refusal(const char *op, const char *path);

/* After a successful load: aborts if an error is pending all the same. */
void fuzz_expect_success(const char *op, const char *path);

#endif /* NB_FUZZ_COMMON_H */
