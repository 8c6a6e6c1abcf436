/* spawn_capture.c — runs a benchmark's child program and captures its stdout (spawn_capture.h). */
#include "spawn_capture.h"

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int spawn_capture(char *const argv[], char **out)
{
    char path[] = "/tmp/nabla_bench_XXXXXX";
    int fd = mkstemp(path);
    *out = NULL;
    if (fd < 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = -1, ws;
    if (rc == 0 && waitpid(pid, &ws, 0) == pid) status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    off_t size = lseek(fd, 0, SEEK_END);
    *out = calloc((size_t)(size > 0 ? size : 0) + 1, 1);
    if (*out && size > 0 && pread(fd, *out, (size_t)size, 0) != size) (*out)[0] = '\0';
    close(fd);
    unlink(path);
    return status;
}
