/* atomic_file.c — temporary file, fsync, rename: saved files are whole or untouched.
 *
 * A writer holds an advisory lock (flock) on its temporary file from creation to rename, so a
 * temporary file nobody holds a lock on was left by a save that died (kill -9, a crash, a power
 * cut): each save to a path removes such leftovers of earlier saves to the same path. A file
 * another process is still writing stays locked and is left alone. */
#include "atomic_file.h"

#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The permissions a new file gets from open(..., 0666): 0666 less the umask (read without changing
 * it, so other threads are not disturbed); an existing file keeps its own. */
static mode_t new_file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
    mode_t mask = 022;
    FILE *status = fopen("/proc/self/status", "r");
    if (status) {
        char line[256];
        unsigned m;
        while (fgets(line, sizeof line, status))
            if (sscanf(line, "Umask: %o", &m) == 1) {
                mask = (mode_t)m;
                break;
            }
        fclose(status);
    }
    return 0666 & ~mask;
}

#define TMP_SUFFIX ".tmp.XXXXXX" /* after the path; mkostemp fills the Xs */

/* The directory holding path ("." for a bare name) into dir, and the name's start in path. */
static const char *split_path(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, size, ".");
    else if (slash == path) snprintf(dir, size, "/");
    else snprintf(dir, size, "%.*s", (int)(slash - path), path);
    return slash ? slash + 1 : path;
}

/* Makes the rename durable: fsync of the directory holding path (best effort). */
static void sync_parent_dir(const char *path)
{
    char dir[4096];
    split_path(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* True when name is base + ".tmp." + six characters: a temporary file of a save to base. */
static bool is_temporary_of(const char *name, const char *base)
{
    const size_t blen = strlen(base), slen = sizeof TMP_SUFFIX - 1;
    return strlen(name) == blen + slen && strncmp(name, base, blen) == 0 &&
           strncmp(name + blen, ".tmp.", 5) == 0;
}

/* Removes the temporary files of earlier saves to path that no process holds a lock on (their
 * writer died), keeping own (this save's). Best effort: what cannot be checked is left. */
static void remove_stale_temporaries(const char *path, const char *own)
{
    char dir[4096];
    const char *base = split_path(path, dir, sizeof dir);
    const char *own_name = strrchr(own, '/') ? strrchr(own, '/') + 1 : own;
    DIR *d = opendir(dir);
    if (!d) return;
    int dfd = dirfd(d);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_temporary_of(e->d_name, base) || strcmp(e->d_name, own_name) == 0) continue;
        int fd = openat(dfd, e->d_name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat held, named;
        /* unlocked, a regular file, and still the file of that name: its writer is gone */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &held) == 0 && S_ISREG(held.st_mode) &&
            fstatat(dfd, e->d_name, &named, AT_SYMLINK_NOFOLLOW) == 0 && named.st_ino == held.st_ino &&
            named.st_dev == held.st_dev)
            unlinkat(dfd, e->d_name, 0);
        close(fd); /* drops the lock */
    }
    closedir(d);
}

/* A new temporary file for path, locked, in af->tmp; its descriptor, or -1 (errno set). A file
 * removed by another save's clean-up between its creation and its lock is made again. */
static int create_locked_temporary(nb_atomic_file *af)
{
    const size_t plen = strlen(af->path);
    for (int attempt = 0; attempt < 8; attempt++) {
        memcpy(af->tmp + plen, TMP_SUFFIX, sizeof TMP_SUFFIX);
        int fd = mkostemp(af->tmp, O_CLOEXEC);
        if (fd < 0) return -1;
        struct stat st;
        if (flock(fd, LOCK_EX) == 0 && fstat(fd, &st) == 0 && st.st_nlink > 0) return fd;
        int err = errno;
        close(fd);
        unlink(af->tmp);
        errno = err ? err : EAGAIN;
    }
    return -1;
}

nb_status nb__atomic_open(nb_atomic_file *af, const char *op, const char *path)
{
    *af = (nb_atomic_file){.op = op, .path = path};
    size_t plen = strlen(path);
    af->tmp = malloc(plen + sizeof TMP_SUFFIX);
    if (!af->tmp) return nb__fail_status(NB_ERR_MEMORY, "%s: %s: out of memory", op, path);
    memcpy(af->tmp, path, plen);
    mode_t mode = new_file_mode(path);
    int fd = create_locked_temporary(af);
    const char *step = "create a temporary file next to it";
    if (fd >= 0) {
        remove_stale_temporaries(path, af->tmp);
        step = "set the permissions of the temporary file";
        if (fchmod(fd, mode) == 0) {
            step = "open the temporary file";
            af->f = fdopen(fd, "wb");
        }
    }
    if (af->f) return NB_OK;
    int err = errno;
    if (fd >= 0) {
        close(fd);
        unlink(af->tmp);
    }
    free(af->tmp);
    af->tmp = NULL;
    return nb__fail_status(NB_ERR_IO, "%s: %s: cannot %s: %s", op, path, step, strerror(err));
}

nb_status nb__atomic_close(nb_atomic_file *af, bool keep)
{
    if (!af->f) return NB_ERR_IO;
    const char *step = "write";
    int err = 0;
    bool ok = keep && !ferror(af->f);
    if (keep && !ok) err = EIO;
    if (ok && fflush(af->f) != 0) ok = false, step = "flush", err = errno;
    if (ok && fsync(fileno(af->f)) != 0) ok = false, step = "sync", err = errno;
    if (fclose(af->f) != 0 && ok) ok = false, step = "close", err = errno;
    af->f = NULL;
    if (ok && rename(af->tmp, af->path) != 0) ok = false, step = "rename the temporary file over it", err = errno;
    if (!ok) unlink(af->tmp);
    free(af->tmp);
    af->tmp = NULL;
    if (!keep) return NB_OK;
    if (!ok) return nb__fail_status(NB_ERR_IO, "%s: %s: cannot %s: %s", af->op, af->path, step, strerror(err));
    sync_parent_dir(af->path);
    return NB_OK;
}
