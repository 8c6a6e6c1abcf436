/* make_corpus.c — writes the seed corpora of the fuzz targets (test/fuzz/corpus/<target>/).
 *
 *   ninja -C build-fuzz test/fuzz/make_corpus && build-fuzz/test/fuzz/make_corpus test/fuzz/corpus
 *
 * (build-fuzz is the directory test/fuzz/run.sh configures.) The .npy files and checkpoints are
 * written by nabla itself (nb_save_npy, nb_params_save, nb_save_safetensors); nabla writes no IDX files, so those are
 * written here byte by byte after the format, and gzipped through zlib (mtime 0, so reruns write
 * the same bytes). Each corpus holds small valid files of every dtype, including 0-d and empty
 * shapes, and a few cut short at telling places; idx_gzip_large/ holds one seed too slow to
 * fuzz, only replayed. Existing files in these directories are removed first, so the corpora
 * are exactly what this program writes. */
#include "nabla.h"
#include "train_state_objects.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static const char *root;

static void die(const char *what, const char *path)
{
    fprintf(stderr, "make_corpus: %s %s: %s\n", what, path, nb_last_status() ? nb_last_error() : strerror(errno));
    exit(1);
}

static const char *path_of(const char *dir, const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s/%s", root, dir, name);
    return buf;
}

/* Creates root/dir, or empties it of regular files. */
static void fresh_dir(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", root, dir);
    if (mkdir(p, 0777) != 0 && errno != EEXIST) die("cannot create", p);
    DIR *d = opendir(p);
    if (!d) die("cannot open", p);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        const char *f = path_of(dir, e->d_name);
        struct stat st;
        if (lstat(f, &st) == 0 && S_ISREG(st.st_mode) && remove(f) != 0) die("cannot remove", f);
    }
    closedir(d);
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) die("cannot write", path);
}

static unsigned char *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot read", path);
    unsigned char *buf = NULL;
    size_t cap = 0;
    *n = 0;
    for (;;) {
        if (*n == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 4096))) die("out of memory reading", path);
        size_t got = fread(buf + *n, 1, cap - *n, f);
        if (got == 0) break;
        *n += got;
    }
    fclose(f);
    return buf;
}

/* Writes the first keep bytes of dir/from as dir/to; a negative keep counts from the end. */
static void truncated(const char *dir, const char *from, const char *to, long keep)
{
    size_t n;
    unsigned char *b = read_whole(path_of(dir, from), &n);
    if (keep < 0) keep += (long)n;
    if (keep < 0 || (size_t)keep > n) die("cannot cut", to);
    write_bytes(path_of(dir, to), b, (size_t)keep);
    free(b);
}

/* A tensor of dtype and shape with varied values (negative, fractional, true and false). */
static nb_tensor *sample(nb_dtype dtype, int ndim, const int64_t *shape)
{
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= shape[i];
    double *v = malloc(sizeof(double) * (size_t)(numel ? numel : 1)); /* (numel,) */
    for (int64_t i = 0; i < numel; i++) v[i] = dtype == NB_BOOL ? (double)(i % 3 == 0) : (double)i * 1.25 - 3.0;
    nb_tensor *f = nb_from_array(v, ndim, shape, NB_OPTS(NB_FLOAT64));
    nb_tensor *t = nb_to_dtype(f, dtype);
    nb_release(f);
    free(v);
    if (!t) die("cannot make a sample for", nb_dtype_name(dtype));
    return t;
}

static const char *short_name(nb_dtype dtype)
{
    switch (dtype) {
    case NB_FLOAT32: return "f32";
    case NB_FLOAT64: return "f64";
    case NB_INT64: return "i64";
    default: return "bool";
    }
}

/* ---------------------------------------------------------------- .npy (nb_save_npy) */

static void npy_one(nb_dtype dtype, int ndim, const int64_t *shape, const char *shape_name)
{
    char name[128];
    snprintf(name, sizeof name, "%s_%s.npy", short_name(dtype), shape_name);
    nb_tensor *t = sample(dtype, ndim, shape);
    if (nb_save_npy(t, path_of("npy", name)) != NB_OK) die("nb_save_npy", name);
    nb_release(t);
}

static void npy_corpus(void)
{
    fresh_dir("npy");
    static const nb_dtype dtypes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    for (size_t i = 0; i < 4; i++) {
        npy_one(dtypes[i], NB_SHAPE(0), "0");        /* empty */
        npy_one(dtypes[i], 0, NULL, "scalar");       /* 0-d */
        npy_one(dtypes[i], NB_SHAPE(5), "5");
        npy_one(dtypes[i], NB_SHAPE(2, 3), "2x3");
    }
    npy_one(NB_FLOAT32, NB_SHAPE(2, 0, 3), "2x0x3");
    npy_one(NB_INT64, NB_SHAPE(3, 1, 2), "3x1x2");
    npy_one(NB_FLOAT64, NB_SHAPE(1, 1, 1, 1, 1, 1, 1, 2), "8d");
    /* f32_2x3.npy: a 10-byte preamble, the header (118 bytes), then 24 bytes of data */
    truncated("npy", "f32_2x3.npy", "cut_in_magic.npy", 4);
    truncated("npy", "f32_2x3.npy", "cut_in_header_length.npy", 9);
    truncated("npy", "f32_2x3.npy", "cut_in_header.npy", 40);
    truncated("npy", "f32_2x3.npy", "cut_in_data.npy", -14);
}

/* ---------------------------------------------------------------- IDX (by hand) and .gz */

/* An IDX file of type code (elem bytes per element) and dims; the values are -3, -2, ... in the
 * type's big-endian encoding. Returns its size; buf holds it. */
static size_t idx_bytes(unsigned char *buf, unsigned char code, int ndim, const uint32_t *dims)
{
    size_t n = 0;
    buf[n++] = 0, buf[n++] = 0, buf[n++] = code, buf[n++] = (unsigned char)ndim;
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        for (int b = 3; b >= 0; b--) buf[n++] = (unsigned char)(dims[i] >> (8 * b));
        numel *= dims[i];
    }
    for (uint64_t i = 0; i < numel; i++) {
        double v = (double)i - 3.0;
        uint64_t bits;
        int size;
        switch (code) {
        case 0x08: bits = (uint8_t)(i * 37); size = 1; break;
        case 0x09: bits = (uint8_t)(int8_t)v; size = 1; break;
        case 0x0B: bits = (uint16_t)(int16_t)(v * 1000); size = 2; break;
        case 0x0C: bits = (uint32_t)(int32_t)(v * 100000); size = 4; break;
        case 0x0D: {
            float f = (float)(v * 0.75);
            uint32_t u;
            memcpy(&u, &f, 4);
            bits = u;
            size = 4;
            break;
        }
        default: {
            double d = v * 0.375;
            memcpy(&bits, &d, 8);
            size = 8;
        }
        }
        for (int b = size - 1; b >= 0; b--) buf[n++] = (unsigned char)(bits >> (8 * b));
    }
    return n;
}

static void gzip_file(const char *path, const unsigned char *bytes, size_t n)
{
    gzFile gz = gzopen(path, "wb9");
    if (!gz || (n && gzwrite(gz, bytes, (unsigned)n) != (int)n) || gzclose(gz) != Z_OK) die("cannot gzip", path);
}

typedef struct idx_seed {
    const char *name;
    unsigned char code;
    int ndim;
    uint32_t dims[8];
} idx_seed;

static void idx_corpora(void)
{
    fresh_dir("idx_raw");
    fresh_dir("idx_gzip");
    static const idx_seed seeds[] = {
        {"ubyte_images_3x2x2", 0x08, 3, {3, 2, 2}},
        {"ubyte_labels_6", 0x08, 1, {6}},
        {"sbyte_4", 0x09, 1, {4}},
        {"short_2x3", 0x0B, 2, {2, 3}},
        {"int_2x2", 0x0C, 2, {2, 2}},
        {"float_3", 0x0D, 1, {3}},
        {"double_2x1x2", 0x0E, 3, {2, 1, 2}},
        {"ubyte_empty_0", 0x08, 1, {0}},
        {"float_empty_2x0", 0x0D, 2, {2, 0}},
        {"ubyte_8d", 0x08, 8, {1, 1, 1, 1, 1, 1, 2, 2}},
    };
    unsigned char buf[1024];
    char name[128];
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        size_t n = idx_bytes(buf, seeds[i].code, seeds[i].ndim, seeds[i].dims);
        snprintf(name, sizeof name, "%s.idx", seeds[i].name);
        write_bytes(path_of("idx_raw", name), buf, n);
        snprintf(name, sizeof name, "%s.idx.gz", seeds[i].name);
        gzip_file(path_of("idx_gzip", name), buf, n);
    }
    /* short_2x3.idx: 4-byte magic, 8 bytes of dims, 12 bytes of data */
    truncated("idx_raw", "short_2x3.idx", "cut_in_magic.idx", 3);
    truncated("idx_raw", "short_2x3.idx", "cut_in_dims.idx", 9);
    truncated("idx_raw", "short_2x3.idx", "cut_in_data.idx", 19);
    /* the gzip member of short_2x3 (a 10-byte header, deflate data, then CRC-32 and length) cut
     * inside the deflate data and inside the trailer; and a whole member followed by junk */
    size_t gz_n;
    unsigned char *gz = read_whole(path_of("idx_gzip", "short_2x3.idx.gz"), &gz_n);
    write_bytes(path_of("idx_gzip", "cut_in_deflate.idx.gz"), gz, 14);
    write_bytes(path_of("idx_gzip", "cut_in_trailer.idx.gz"), gz, gz_n - 3);
    unsigned char junk[1024];
    memcpy(junk, gz, gz_n);
    memcpy(junk + gz_n, "junk", 4);
    write_bytes(path_of("idx_gzip", "trailing_junk.idx.gz"), junk, gz_n + 4);
    free(gz);
    /* 2 MiB of zero bytes that gzip to about 2 KiB: more data than the loader's first buffer
     * (guessed from the compressed size), so loading it grows the buffer. Loading it takes a few
     * milliseconds, which would slow fuzzing down a hundredfold: it goes into idx_gzip_large/,
     * which run.sh and meson test replay but the fuzzer does not mutate. */
    size_t zeros_n = 4 + 8 + ((size_t)2048 << 10);
    unsigned char *zeros = calloc(zeros_n, 1);
    if (!zeros) die("out of memory for", "ubyte_zeros_2048x1024.idx.gz");
    memcpy(zeros, (const unsigned char[]){0, 0, 0x08, 2, 0, 0, 0x08, 0, 0, 0, 0x04, 0}, 12);
    fresh_dir("idx_gzip_large");
    gzip_file(path_of("idx_gzip_large", "ubyte_zeros_2048x1024.idx.gz"), zeros, zeros_n);
    free(zeros);
}

/* ---------------------------------------------------------------- checkpoints (nb_params_save) */

static void ckpt_one(const char *name, int n, nb_tensor *const *tensors)
{
    nb_params *p = nb_params_new();
    for (int i = 0; i < n; i++) {
        if (nb_params_add(p, tensors[i]) != NB_OK) die("nb_params_add", name);
        nb_release(tensors[i]);
    }
    if (nb_params_save(p, path_of("checkpoint", name)) != NB_OK) die("nb_params_save", name);
    nb_params_free(p);
}

static void checkpoint_corpus(void)
{
    fresh_dir("checkpoint");
    ckpt_one("empty_list.ckpt", 0, NULL);
    ckpt_one("f32_scalar.ckpt", 1, (nb_tensor *[]){sample(NB_FLOAT32, 0, NULL)});
    ckpt_one("linear_3_to_2.ckpt", 2,
             (nb_tensor *[]){sample(NB_FLOAT32, NB_SHAPE(2, 3)), sample(NB_FLOAT32, NB_SHAPE(2))});
    ckpt_one("every_dtype.ckpt", 4,
             (nb_tensor *[]){sample(NB_FLOAT32, NB_SHAPE(3)), sample(NB_FLOAT64, NB_SHAPE(2, 2)),
                             sample(NB_INT64, NB_SHAPE(1, 3)), sample(NB_BOOL, NB_SHAPE(2, 1, 2))});
    ckpt_one("empty_tensors.ckpt", 3,
             (nb_tensor *[]){sample(NB_FLOAT32, NB_SHAPE(0, 4)), sample(NB_INT64, NB_SHAPE(0)),
                             sample(NB_BOOL, 0, NULL)});
    ckpt_one("f64_8d.ckpt", 1, (nb_tensor *[]){sample(NB_FLOAT64, NB_SHAPE(1, 2, 1, 1, 1, 1, 1, 2))});
    /* linear_3_to_2.ckpt: 12-byte header; record 0 is 2 + 16 + 24 bytes, record 1 is 2 + 8 + 8 */
    truncated("checkpoint", "linear_3_to_2.ckpt", "cut_in_magic.ckpt", 5);
    truncated("checkpoint", "linear_3_to_2.ckpt", "cut_in_count.ckpt", 10);
    truncated("checkpoint", "linear_3_to_2.ckpt", "cut_in_shape.ckpt", 12 + 2 + 11);
    truncated("checkpoint", "linear_3_to_2.ckpt", "cut_in_data.ckpt", 12 + 2 + 16 + 9);
    truncated("checkpoint", "linear_3_to_2.ckpt", "cut_in_checksum.ckpt", 12 + 42 + 18 + 2);
    size_t n;
    unsigned char *b = read_whole(path_of("checkpoint", "linear_3_to_2.ckpt"), &n);
    b[12 + 2 + 16 + 3] ^= 0x40; /* a flipped bit in a value: the checksum no longer matches */
    write_bytes(path_of("checkpoint", "bad_checksum.ckpt"), b, n);
    free(b);
}

/* ---------------------------------------------------------------- safetensors (nb_save_safetensors) */

static void st_one(const char *name, int n, const char *const *names, nb_tensor *const *tensors, const nb_str_map *meta)
{
    if (nb_save_safetensors(path_of("safetensors", name), n, names, tensors, meta) != NB_OK)
        die("nb_save_safetensors", name);
    for (int i = 0; i < n; i++) nb_release(tensors[i]);
}

static void safetensors_corpus(void)
{
    fresh_dir("safetensors");
    st_one("empty.safetensors", 0, NULL, NULL, NULL);
    st_one("f32_scalar.safetensors", 1, (const char *[]){"s"}, (nb_tensor *[]){sample(NB_FLOAT32, 0, NULL)}, NULL);
    const char *keys[] = {"format", "epoch"}, *values[] = {"pt", "3"};
    st_one("linear_3_to_2.safetensors", 2, (const char *[]){"weight", "bias"},
           (nb_tensor *[]){sample(NB_FLOAT32, NB_SHAPE(2, 3)), sample(NB_FLOAT32, NB_SHAPE(2))},
           &(nb_str_map){2, keys, values});
    st_one("every_dtype.safetensors", 4, (const char *[]){"f32", "f64", "i64", "bool"},
           (nb_tensor *[]){sample(NB_FLOAT32, NB_SHAPE(3)), sample(NB_FLOAT64, NB_SHAPE(2, 2)),
                           sample(NB_INT64, NB_SHAPE(1, 3)), sample(NB_BOOL, NB_SHAPE(2, 1, 2))},
           NULL);
    st_one("empty_tensors.safetensors", 3, (const char *[]){"a", "b", "c"},
           (nb_tensor *[]){sample(NB_FLOAT32, NB_SHAPE(0, 4)), sample(NB_INT64, NB_SHAPE(0)), sample(NB_BOOL, 0, NULL)},
           NULL);
    truncated("safetensors", "linear_3_to_2.safetensors", "cut_in_length.safetensors", 5);
    truncated("safetensors", "linear_3_to_2.safetensors", "cut_in_header.safetensors", 40);
    truncated("safetensors", "linear_3_to_2.safetensors", "cut_in_data.safetensors", -3);
}

/* ---------------------------------------------------------------- training state (nb_checkpoint_save) */

/* The run of train_state_objects.h after steps steps, saved as name. */
static void train_state_one(const char *name, int steps)
{
    train_objects o;
    train_objects_new(&o);
    for (int i = 0; i < steps; i++) train_objects_step(&o);
    if (nb_checkpoint_save(path_of("train_state", name), &o.checkpoint) != NB_OK) die("nb_checkpoint_save", name);
    train_objects_free(&o);
}

static void train_state_corpus(void)
{
    fresh_dir("train_state");
    train_state_one("fresh.safetensors", 0);
    train_state_one("mid_epoch.safetensors", 2);
    train_state_one("end_of_epoch.safetensors", 3);
    train_state_one("second_epoch.safetensors", 4);
    truncated("train_state", "mid_epoch.safetensors", "cut_in_header.safetensors", 200);
    truncated("train_state", "mid_epoch.safetensors", "cut_in_data.safetensors", -5);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR (test/fuzz/corpus)\n", argv[0]);
        return 2;
    }
    root = argv[1];
    if (mkdir(root, 0777) != 0 && errno != EEXIST) die("cannot create", root);
    npy_corpus();
    idx_corpora();
    checkpoint_corpus();
    safetensors_corpus();
    train_state_corpus();
    printf("make_corpus: wrote the seed corpora under %s\n", root);
    return 0;
}
