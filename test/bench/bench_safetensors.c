/* bench_safetensors.c — saving and loading a 1 GiB safetensors file (16 float32 tensors of
 * 64 MiB) against copying the same file with read/write in this process, as cp does.
 *
 *   save         nb_save_safetensors: header, data written from the tensors, fsync, rename
 *   cp           read the saved file in 8 MiB chunks and write them over the copy the last
 *                repeat left (O_TRUNC, as cp over an existing file), fsync: what a save that
 *                replaces a file must at least do (move the bytes once, make them durable, free the
 *                old file's blocks)
 *   load         nb_load_safetensors reading every tensor into fresh memory
 *   read         read the whole file into a buffer (the least a copying load does)
 *   mmap load    nb_load_safetensors with .mmap: tensors are views of the mapping (nothing read yet)
 *   mmap + sum   a mapped load then nb_sum over every tensor (the pages are read on first touch)
 * Best of REPEATS after one warm-up; the file stays in the page cache, so these are memory and
 * file-system copies, not disk reads. NB_BENCH_MB sets the file size in MiB (default 1024). Last:
 * the ratios save/cp, load/read and mmap load/load. */
#include <nabla.h>
#include "bench.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { TENSORS = 16, REPEATS = 3, CHUNK = 8 << 20 };

static double best(double a, double b) { return a < b ? a : b; }

/* cp: src to dst through a CHUNK buffer, then fsync; seconds */
static double copy_file(const char *src, const char *dst)
{
    static char buf[CHUNK];
    double t0 = now_s();
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) return NAN;
    ssize_t got;
    while ((got = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)got) != got) return NAN;
    fsync(out);
    close(in);
    close(out);
    return now_s() - t0;
}

/* read: the whole file into buf (size bytes, touched before, as nabla's block cache hands a load
 * memory it has used before); seconds */
static double read_file(const char *path, char *buf, size_t size)
{
    double t0 = now_s();
    int fd = open(path, O_RDONLY);
    size_t at = 0;
    ssize_t got;
    while (fd >= 0 && at < size && (got = read(fd, buf + at, size - at > CHUNK ? CHUNK : size - at)) > 0) at += (size_t)got;
    close(fd);
    double t = now_s() - t0;
    return at == size ? t : NAN;
}

static double load(const char *path, bool map, bool sum)
{
    nb_safetensors_options o = {.mmap = map};
    double t0 = now_s();
    nb_tensor_dict *d = nb_load_safetensors(path, &o);
    if (!d) {
        fprintf(stderr, "load failed: %s\n", nb_last_error());
        exit(1);
    }
    for (int i = 0; sum && i < nb_tensor_dict_count(d); i++) nb_release(nb_sum(nb_tensor_dict_at(d, i)));
    double t = now_s() - t0;
    nb_tensor_dict_free(d);
    return t;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    const char *mb_env = getenv("NB_BENCH_MB");
    const int64_t mib = mb_env ? atoll(mb_env) : 1024;
    const int64_t per = mib * (1 << 20) / TENSORS / (int64_t)sizeof(float); /* floats per tensor */
    char dir[] = "/tmp/nabla_bench_st_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[128], copy[128];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    snprintf(copy, sizeof copy, "%s/copy.safetensors", dir);

    nb_tensor *ts[TENSORS];
    char names_buf[TENSORS][32];
    const char *names[TENSORS];
    for (int i = 0; i < TENSORS; i++) {
        ts[i] = nb_rand(NB_SHAPE(per), NB_OPTS(NB_FLOAT32)); /* (per,) */
        snprintf(names_buf[i], sizeof names_buf[i], "layer.%d.weight", i);
        names[i] = names_buf[i];
    }
    double t_save = INFINITY, t_cp = INFINITY, t_load = INFINITY, t_read = INFINITY, t_map = INFINITY,
           t_map_sum = INFINITY, t_load_sum = INFINITY;
    size_t size = (size_t)(TENSORS * per) * sizeof(float);
    char *buf = malloc(size + 4096); /* (size + header,) */
    memset(buf, 0, size + 4096);
    for (int rep = 0; rep <= REPEATS; rep++) { /* rep 0 warms up */
        double t0 = now_s();
        if (nb_save_safetensors(path, TENSORS, names, ts, NULL) != NB_OK) {
            fprintf(stderr, "save failed: %s\n", nb_last_error());
            return 1;
        }
        double s = now_s() - t0, c = copy_file(path, copy); /* over the last repeat's copy */
        double l = load(path, false, false), r = read_file(path, buf, size), m = load(path, true, false);
        double ms = load(path, true, true), ls = load(path, false, true);
        if (rep == 0) continue;
        t_save = best(t_save, s), t_cp = best(t_cp, c), t_load = best(t_load, l), t_read = best(t_read, r);
        t_map = best(t_map, m), t_map_sum = best(t_map_sum, ms), t_load_sum = best(t_load_sum, ls);
    }
    unlink(path);
    unlink(copy);
    rmdir(dir);
    free(buf);
    for (int i = 0; i < TENSORS; i++) nb_release(ts[i]);
    const double gb = (double)size / 1e9;
    printf("file: %lld MiB in %d float32 tensors\n", (long long)mib, TENSORS);
    printf("save         %8.1f ms  %6.2f GB/s\n", t_save * 1e3, gb / t_save);
    printf("cp           %8.1f ms  %6.2f GB/s\n", t_cp * 1e3, gb / t_cp);
    printf("load         %8.1f ms  %6.2f GB/s\n", t_load * 1e3, gb / t_load);
    printf("read         %8.1f ms  %6.2f GB/s\n", t_read * 1e3, gb / t_read);
    printf("mmap load    %8.3f ms\n", t_map * 1e3);
    printf("mmap + sum   %8.1f ms   (load + sum: %.1f ms)\n", t_map_sum * 1e3, t_load_sum * 1e3);
    printf("ratios: save/cp %.2f, load/read %.2f, mmap load/load %.4f\n", t_save / t_cp, t_load / t_read,
           t_map / t_load);
    return 0;
}
