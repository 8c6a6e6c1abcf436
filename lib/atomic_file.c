/* atomic_file.c — temporary file, fsync, rename: saved files are whole or untouched. */
#include "atomic_file.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

/* Makes the rename durable: fsync of the directory holding path (best effort). */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

nb_status nb__atomic_open(nb_atomic_file *af, const char *op, const char *path)
{
    *af = (nb_atomic_file){.op = op, .path = path};
    size_t plen = strlen(path);
    af->tmp = malloc(plen + sizeof ".tmp.XXXXXX");
    if (!af->tmp) return nb__fail_status(NB_ERR_MEMORY, "%s: %s: out of memory", op, path);
    memcpy(af->tmp, path, plen);
    memcpy(af->tmp + plen, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    mode_t mode = new_file_mode(path);
    int fd = mkostemp(af->tmp, O_CLOEXEC);
    const char *step = "create a temporary file next to it";
    if (fd >= 0) {
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
