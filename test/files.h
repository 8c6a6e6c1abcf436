/* files.h — temporary directories and whole-file reads and writes for the suites that test
 * nabla's file formats. */
#ifndef NB_TEST_FILES_H
#define NB_TEST_FILES_H

#include <stddef.h>

/* Makes /tmp/nabla_TAG_XXXXXX and writes its path into dir (size bytes); fails the test if it cannot. */
void tmpdir_create(char *dir, size_t size, const char *tag);
/* Removes dir and everything below it (best effort). */
void tree_remove(const char *dir);
/* "dir/name" in one of 4 rotating buffers (valid until the fourth call after). */
const char *path_join(const char *dir, const char *name);
/* Entries in dir, "." and ".." excluded. */
int entries_in(const char *dir);
void write_file(const char *path, const void *bytes, size_t n);
/* The whole file, malloc'ed and NUL-terminated; *n its size. */
unsigned char *read_bytes(const char *path, size_t *n);

#endif /* NB_TEST_FILES_H */
