/* file_open.h — opening a file that a loader will read: regular files only, checked before any
 * read could block (a FIFO with no writer would hang a plain open() forever). */
#ifndef NB_FILE_OPEN_H
#define NB_FILE_OPEN_H

#include "nabla.h"

#include <stdint.h>

/* A descriptor of path, open for blocking reads, with *size its size; -1 and an NB_ERR_IO naming
 * op and path when it cannot be opened or is not a regular file ("a FIFO", "a directory", ...;
 * expected says what it should have been: "a NumPy .npy file"). */
int nb__open_regular(const char *op, const char *path, const char *expected, uint64_t *size);

#endif /* NB_FILE_OPEN_H */
