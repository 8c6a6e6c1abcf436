/* file_open.c — opening files for the loaders (file_open.h). The open itself is non-blocking, so
 * a FIFO or a device is refused after fstat instead of blocking the caller; a regular file then
 * goes back to blocking reads. */
#include "file_open.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t mode)
{
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

int nb__open_regular(const char *op, const char *path, const char *expected, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return nb__fail(NB_ERR_IO, "%s: %s: cannot open the file: %s", op, path, strerror(errno)), -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return nb__fail(NB_ERR_IO, "%s: %s: cannot stat the file: %s", op, path, strerror(err)), -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return nb__fail(NB_ERR_IO, "%s: %s: not a regular file (%s); expected %s", op, path, kind_of(st.st_mode),
                        expected), -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int err = errno;
        close(fd);
        return nb__fail(NB_ERR_IO, "%s: %s: cannot set blocking reads: %s", op, path, strerror(err)), -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}
