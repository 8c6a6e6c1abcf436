/* idx.c — nb_load_idx: IDX files (the MNIST family's format), gzip-compressed or not.
 *
 * The format: a 4-byte magic (two zero bytes, a type byte, the number of dims), then each dim as
 * a big-endian uint32, then the data in row-major order, big-endian. Files are read through
 * zlib's gz* calls, which read uncompressed files transparently.
 *
 * Nothing in the file is trusted: the header is validated before anything is allocated, and the
 * data is read into a buffer that grows only as data arrives (a .gz file's decompressed size is
 * not known up front), so a header that declares more than the file holds costs a buffer of
 * about the size of the file (a few times it for a .gz file), never the size it declares. The data is then converted to the requested dtype in one pass.
 * Every refusal is NB_ERR_IO naming nb_load_idx, the path and what was wrong. */
#include "../error.h"
#include "../file_open.h"
#include "../tensor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_MAX_ELEMENTS ((uint64_t)1 << 43) /* 2^46 bytes (nabla's largest storage) of float64 */
#define IDX_MIN_BUFFER ((uint64_t)1 << 20)   /* the first data buffer, unless the data is smaller */
#define IDX_MAX_READ ((unsigned)1 << 30)     /* bytes per gzread call (it takes an unsigned count) */
#define IDX_TRAILING_COUNT_LIMIT ((uint64_t)1 << 20) /* trailing bytes counted before "at least" */

typedef struct idx_type {
    uint8_t code;     /* the magic's third byte */
    const char *name; /* as the format's description names it */
    size_t size;      /* bytes per element */
    bool floating;
} idx_type;

static const idx_type idx_types[] = {
    {0x08, "ubyte", 1, false}, {0x09, "sbyte", 1, false}, {0x0B, "short", 2, false},
    {0x0C, "int", 4, false},   {0x0D, "float", 4, true},  {0x0E, "double", 8, true},
};

static const idx_type *idx_type_of(uint8_t code)
{
    for (size_t i = 0; i < sizeof idx_types / sizeof idx_types[0]; i++)
        if (idx_types[i].code == code) return &idx_types[i];
    return NULL;
}

/* ---------------------------------------------------------------- reading */

/* zlib's pending error on gz, or NULL when there is none; an end of file that zlib reports as
 * Z_BUF_ERROR (a gzip stream cut short) sets *cut_short instead. */
static const char *gz_problem(gzFile gz, bool *cut_short)
{
    int err = Z_OK;
    const char *msg = gzerror(gz, &err);
    if (cut_short) *cut_short = err == Z_BUF_ERROR;
    if (err == Z_OK || err == Z_BUF_ERROR) return NULL;
    if (err == Z_ERRNO) return strerror(errno);
    return msg;
}

/* Reads up to n bytes into buf; returns how many arrived, or -1 (and an error) on a read or
 * decompression error. */
static int64_t read_some(gzFile gz, const char *path, void *buf, uint64_t n)
{
    uint64_t got = 0;
    while (got < n) {
        uint64_t want = n - got < IDX_MAX_READ ? n - got : IDX_MAX_READ;
        int r = gzread(gz, (char *)buf + got, (unsigned)want);
        if (r < 0) {
            const char *why = gz_problem(gz, NULL);
            return nb__fail(NB_ERR_IO, "nb_load_idx: %s: corrupt gzip stream: %s", path,
                            why ? why : "unknown zlib error"),
                   -1;
        }
        if (r == 0) break;
        got += (uint64_t)r;
    }
    return (int64_t)got;
}

/* Reads the magic and dims; false (and an error) when they are not a valid IDX header. */
static bool read_header(gzFile gz, const char *path, const idx_type **type, int *ndim, int64_t *shape)
{
    unsigned char magic[4];
    int64_t got = read_some(gz, path, magic, sizeof magic);
    if (got < 0) return false;
    bool cut = false;
    gz_problem(gz, &cut);
    if (got == 0 && !cut)
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: the file is empty; expected an IDX file", path), false;
    if (got < 4)
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: truncated header: the file ends after %lld bytes, inside the "
                        "4-byte magic%s", path, (long long)got, cut ? " (the gzip stream ends early)" : ""),
               false;
    if (magic[0] != 0 || magic[1] != 0)
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: bad magic 0x%02x%02x%02x%02x: an IDX file starts with two zero "
                        "bytes, a type byte and the number of dims", path, magic[0], magic[1], magic[2], magic[3]),
               false;
    *type = idx_type_of(magic[2]);
    if (!*type)
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: unknown type byte 0x%02x; expected 0x08 (ubyte), 0x09 (sbyte), "
                        "0x0B (short), 0x0C (int), 0x0D (float) or 0x0E (double)", path, magic[2]),
               false;
    *ndim = magic[3];
    if (*ndim == 0 || *ndim > NB_MAX_DIMS)
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: the header declares %d dims; expected 1 to %d", path, *ndim,
                        NB_MAX_DIMS),
               false;

    unsigned char dims[4 * NB_MAX_DIMS];
    uint64_t dim_bytes = 4 * (uint64_t)*ndim;
    got = read_some(gz, path, dims, dim_bytes);
    if (got < 0) return false;
    if ((uint64_t)got < dim_bytes) {
        gz_problem(gz, &cut);
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: truncated header: %d dims need %llu bytes after the magic, "
                        "found %lld%s", path, *ndim, (unsigned long long)dim_bytes, (long long)got,
                        cut ? " (the gzip stream ends early)" : ""),
               false;
    }
    for (int i = 0; i < *ndim; i++) {
        const unsigned char *p = dims + 4 * i;
        shape[i] = (int64_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    }
    return true;
}

/* Checks the element count of shape before anything is allocated; false (and an error) when it
 * overflows or is beyond any real data set. */
static bool check_size(const char *path, int ndim, const int64_t *shape, uint64_t *numel)
{
    char dims[160];
    uint64_t nonzero = 1; /* the product of the nonzero dims: sane even when another dim is 0 */
    bool empty = false;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0) {
            empty = true;
            continue;
        }
        if (__builtin_mul_overflow(nonzero, (uint64_t)shape[i], &nonzero))
            return nb__fail(NB_ERR_IO, "nb_load_idx: %s: the dims %s overflow: their product does not fit in 64 bits",
                            path, nb__shape_string(ndim, shape, dims, sizeof dims)),
                   false;
    }
    if (nonzero > IDX_MAX_ELEMENTS)
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: the dims %s are absurd: %llu elements, more than the 2^43 "
                        "nabla can hold", path, nb__shape_string(ndim, shape, dims, sizeof dims),
                        (unsigned long long)nonzero),
               false;
    *numel = empty ? 0 : nonzero;
    return true;
}

/* Reads exactly need bytes of data into a new buffer (the caller frees it), growing it as data
 * arrives from hint bytes; then refuses any data after them. NULL (and an error) on failure. */
static unsigned char *read_data(gzFile gz, const char *path, uint64_t need, uint64_t hint, const idx_type *type,
                                int ndim, const int64_t *shape)
{
    char dims[160];
    uint64_t cap = hint > IDX_MIN_BUFFER ? hint : IDX_MIN_BUFFER;
    if (cap > need) cap = need;
    unsigned char *buf = malloc(cap > 0 ? cap : 1);
    if (!buf) return nb__fail(NB_ERR_MEMORY, "nb_load_idx: %s: out of memory reading %llu bytes", path,
                              (unsigned long long)cap);
    uint64_t have = 0;
    while (have < need) {
        if (have == cap) {
            uint64_t grown = cap * 2 < need ? cap * 2 : need;
            unsigned char *bigger = realloc(buf, grown);
            if (!bigger) {
                free(buf);
                return nb__fail(NB_ERR_MEMORY, "nb_load_idx: %s: out of memory reading %llu bytes", path,
                                (unsigned long long)grown);
            }
            buf = bigger;
            cap = grown;
        }
        int64_t got = read_some(gz, path, buf + have, cap - have);
        if (got < 0) {
            free(buf);
            return NULL;
        }
        if (got == 0) {
            bool cut = false;
            gz_problem(gz, &cut);
            free(buf);
            return nb__fail(NB_ERR_IO, "nb_load_idx: %s: truncated: expected %llu bytes of %s data for dims %s, "
                            "found %llu%s", path, (unsigned long long)need, type->name,
                            nb__shape_string(ndim, shape, dims, sizeof dims), (unsigned long long)have,
                            cut ? " (the gzip stream ends early)" : ""),
                   NULL;
        }
        have += (uint64_t)got;
    }

    /* Trailing data means the header does not describe the file; refuse it. Reading past the
     * data also lets zlib check the gzip stream's CRC. */
    unsigned char scratch[1 << 13];
    uint64_t extra = 0;
    for (;;) {
        int64_t got = read_some(gz, path, scratch, sizeof scratch);
        if (got < 0) {
            free(buf);
            return NULL;
        }
        if (got == 0 || extra >= IDX_TRAILING_COUNT_LIMIT) break;
        extra += (uint64_t)got;
    }
    if (extra > 0) {
        free(buf);
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: trailing data: %s%llu bytes after the %llu bytes of %s data that "
                        "dims %s declare", path, extra >= IDX_TRAILING_COUNT_LIMIT ? "at least " : "",
                        (unsigned long long)extra, (unsigned long long)need, type->name,
                        nb__shape_string(ndim, shape, dims, sizeof dims)),
               NULL;
    }
    bool cut = false; /* a gzip stream cut short after the data: its CRC was never checked */
    gz_problem(gz, &cut);
    if (cut) {
        free(buf);
        return nb__fail(NB_ERR_IO, "nb_load_idx: %s: truncated: the gzip stream ends early, after the %llu bytes of "
                        "%s data that dims %s declare but before its end and checksum", path,
                        (unsigned long long)need, type->name, nb__shape_string(ndim, shape, dims, sizeof dims)),
               NULL;
    }
    return buf;
}

/* ---------------------------------------------------------------- conversion */

static inline uint16_t be16(const unsigned char *p) { return (uint16_t)((unsigned)p[0] << 8 | p[1]); }
static inline uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const unsigned char *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static inline float be_float(const unsigned char *p)
{
    uint32_t bits = be32(p);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
static inline double be_double(const unsigned char *p)
{
    uint64_t bits = be64(p);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* src holds n big-endian elements of type; out (n,) of float32. */
static void to_float32(const unsigned char *src, const idx_type *type, uint64_t n, float *out)
{
    switch (type->code) {
    case 0x08: for (uint64_t i = 0; i < n; i++) out[i] = (float)src[i]; break;
    case 0x09: for (uint64_t i = 0; i < n; i++) out[i] = (float)(int8_t)src[i]; break;
    case 0x0B: for (uint64_t i = 0; i < n; i++) out[i] = (float)(int16_t)be16(src + 2 * i); break;
    case 0x0C: for (uint64_t i = 0; i < n; i++) out[i] = (float)(int32_t)be32(src + 4 * i); break;
    case 0x0D: for (uint64_t i = 0; i < n; i++) out[i] = be_float(src + 4 * i); break;
    case 0x0E: for (uint64_t i = 0; i < n; i++) out[i] = (float)be_double(src + 8 * i); break;
    }
}

static void to_float64(const unsigned char *src, const idx_type *type, uint64_t n, double *out)
{
    switch (type->code) {
    case 0x08: for (uint64_t i = 0; i < n; i++) out[i] = (double)src[i]; break;
    case 0x09: for (uint64_t i = 0; i < n; i++) out[i] = (double)(int8_t)src[i]; break;
    case 0x0B: for (uint64_t i = 0; i < n; i++) out[i] = (double)(int16_t)be16(src + 2 * i); break;
    case 0x0C: for (uint64_t i = 0; i < n; i++) out[i] = (double)(int32_t)be32(src + 4 * i); break;
    case 0x0D: for (uint64_t i = 0; i < n; i++) out[i] = (double)be_float(src + 4 * i); break;
    case 0x0E: for (uint64_t i = 0; i < n; i++) out[i] = be_double(src + 8 * i); break;
    }
}

/* Integer types only (floating data is refused before reading). */
static void to_int64(const unsigned char *src, const idx_type *type, uint64_t n, int64_t *out)
{
    switch (type->code) {
    case 0x08: for (uint64_t i = 0; i < n; i++) out[i] = src[i]; break;
    case 0x09: for (uint64_t i = 0; i < n; i++) out[i] = (int8_t)src[i]; break;
    case 0x0B: for (uint64_t i = 0; i < n; i++) out[i] = (int16_t)be16(src + 2 * i); break;
    case 0x0C: for (uint64_t i = 0; i < n; i++) out[i] = (int32_t)be32(src + 4 * i); break;
    }
}

/* ---------------------------------------------------------------- nb_load_idx */

/* Opens path for reading through zlib; NULL (and an error) when it is missing or not a file.
 * *file_size is its size on disk. A FIFO or a device is refused before anything could block. */
static gzFile open_idx(const char *path, uint64_t *file_size)
{
    int fd = nb__open_regular("nb_load_idx", path, "an IDX file", file_size);
    if (fd < 0) return NULL;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return nb__fail(NB_ERR_MEMORY, "nb_load_idx: %s: out of memory opening the file", path);
    }
    gzbuffer(gz, 1 << 17); /* fewer, larger reads than zlib's 8 KiB default */
    return gz;
}

nb_tensor *nb_load_idx(const char *path, nb_dtype dtype)
{
    if (nb__is_null("nb_load_idx", "path", path)) return NULL;
    if (dtype != NB_FLOAT32 && dtype != NB_FLOAT64 && dtype != NB_INT64)
        return nb__fail(NB_ERR_DTYPE, "nb_load_idx: %s: cannot load as %s; expected float32, float64 or int64", path,
                        nb_dtype_size(dtype) ? nb_dtype_name(dtype) : "an unknown dtype");

    uint64_t file_size = 0;
    gzFile gz = open_idx(path, &file_size);
    if (!gz) return NULL;

    const idx_type *type = NULL;
    int ndim = 0;
    int64_t shape[NB_MAX_DIMS];
    uint64_t numel = 0;
    if (!read_header(gz, path, &type, &ndim, shape) || !check_size(path, ndim, shape, &numel)) {
        gzclose(gz);
        return NULL;
    }
    if (dtype == NB_INT64 && type->floating) {
        gzclose(gz);
        return nb__fail(NB_ERR_DTYPE, "nb_load_idx: %s: the file holds %s data, which cannot be loaded as int64 "
                        "without losing values; load it as float32 or float64", path, type->name);
    }

    /* The first buffer: the file's own size when it is not compressed, else a guess at the
     * decompressed size (data sets of images compress about 2 to 5 times). */
    uint64_t header_bytes = 4 + 4 * (uint64_t)ndim;
    uint64_t on_disk = file_size > header_bytes ? file_size - header_bytes : 0;
    uint64_t hint = gzdirect(gz) ? on_disk : (on_disk < UINT64_MAX / 8 ? on_disk * 6 : UINT64_MAX);
    unsigned char *raw = read_data(gz, path, numel * type->size, hint, type, ndim, shape); /* (numel * size,) */
    gzclose(gz);
    if (!raw) return NULL;

    nb_tensor *t = nb__alloc("nb_load_idx", ndim, shape, dtype, NB_DEVICE_CPU);
    if (t) {
        if (dtype == NB_FLOAT32) to_float32(raw, type, numel, (float *)nb__ptr(t));
        else if (dtype == NB_FLOAT64) to_float64(raw, type, numel, (double *)nb__ptr(t));
        else to_int64(raw, type, numel, (int64_t *)nb__ptr(t));
    }
    free(raw);
    return t;
}
