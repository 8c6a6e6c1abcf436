/* fuzz_common.c — the input as a file (memfd_create) and the refusal contract (fuzz_common.h). */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_SLOTS 2

static int slot_fd[FUZZ_SLOTS] = {-1, -1};
static char slot_path[FUZZ_SLOTS][32];

_Noreturn void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nfuzz: pending status %s, message \"%s\"\n", nb_status_name(nb_last_status()),
            nb_last_error());
    abort();
}

const char *fuzz_file(int slot, const uint8_t *bytes, size_t n)
{
    if (slot < 0 || slot >= FUZZ_SLOTS) fuzz_fail("fuzz_file: no slot %d", slot);
    if (slot_fd[slot] < 0) {
        /* A memfd is a regular file that lives in memory and vanishes with the process: nothing
         * to clean up, no disk writes, and each of libFuzzer's -jobs processes has its own. */
        slot_fd[slot] = memfd_create(slot ? "nabla-fuzz-1" : "nabla-fuzz-0", MFD_CLOEXEC);
        if (slot_fd[slot] < 0) {
            perror("fuzz: memfd_create");
            abort();
        }
        snprintf(slot_path[slot], sizeof slot_path[slot], "/proc/self/fd/%d", slot_fd[slot]);
    }
    int fd = slot_fd[slot];
    if (ftruncate(fd, 0) != 0) {
        perror("fuzz: ftruncate");
        abort();
    }
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fd, bytes + done, n - done, (off_t)done);
        if (w <= 0) {
            perror("fuzz: pwrite");
            abort();
        }
        done += (size_t)w;
    }
    return slot_path[slot];
}

void fuzz_expect_refusal(const char *op, const char *path)
{
    nb_status s = nb_last_status();
    const char *msg = nb_last_error();
    if (s == NB_OK) fuzz_fail("%s(%s) failed without an error status", op, path);
    if (!msg || !*msg) fuzz_fail("%s(%s) failed with %s but an empty message", op, path, nb_status_name(s));
    if (!strstr(msg, path)) fuzz_fail("%s(%s): the message does not name the file", op, path);
    if (!strstr(msg, op)) fuzz_fail("%s(%s): the message does not name the op", op, path);
}

void fuzz_expect_success(const char *op, const char *path)
{
    if (nb_last_status() != NB_OK) fuzz_fail("%s(%s) succeeded but left an error pending", op, path);
}
