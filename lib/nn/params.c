/* params.c — parameter lists (nb_params) and their checkpoints (nb_params_save, nb_params_load).
 *
 * A parameter list is a growable array of retained tensors: what optimizers step and zero, and
 * what a checkpoint holds. Each entry may carry a name ("blocks.0.attn.qkv.weight", from a module
 * tree: lib/nn/module.c), unique in the list. It also keeps the training flags of the layers added to it that act
 * differently in training and evaluation (batch norm, dropout), so one call switches them all
 * (nb_params_train, PyTorch's model.train() and model.eval()).
 *
 * Checkpoint format, version 1. Every integer is little-endian; nothing is padded or aligned.
 *
 *   offset 0   6 bytes   magic "NBCKPT"
 *   offset 6   u16       format version (1)
 *   offset 8   u32       N, the number of tensors
 *   offset 12  N records, in the list's order, each:
 *                u8      dtype code: 0 float32, 1 float64, 2 int64, 3 bool (one byte, 0 or 1),
 *                        4 float16, 5 bfloat16 (two bytes each, their bit patterns)
 *                u8      ndim, 0 to 8
 *                i64     ndim sizes, each >= 0
 *                ...     numel * element size bytes of values in C (row-major) order
 *   then       u32       CRC-32 (zlib's crc32) of every byte before it
 *
 * Saving writes a temporary file next to path (mkstemp), flushes and fsyncs it, and renames it
 * over path, so a crash leaves either the old checkpoint or the new one, never half of one.
 * Loading trusts nothing in the file: the structure and every size are checked against the real
 * file size before anything is read into a tensor (so a corrupt file never causes a huge
 * allocation), then the checksum, then the count, dtypes and shapes against the list; values are
 * copied in only when all of that passed, so a refused load leaves every parameter unchanged. */
#include "../atomic_file.h"
#include "../error.h"
#include "../ewise.h"
#include "../file_open.h"
#include "../tensor.h"
#include "layers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define NB_PARAM_NAME_MAX 255 /* bytes in a parameter's name */

struct nb_params {
    nb_tensor **items; /* (count,) retained */
    char **names;      /* (count,) owned copies, NULL for an unnamed entry */
    int count, cap;
    bool **modes; /* (nmodes,) the training flags of the layers added, which outlive the list */
    int nmodes, modes_cap;
    bool training; /* the last nb_params_train (true at first, as PyTorch's modules) */
};

/* ---------------------------------------------------------------- the list */

nb_params *nb_params_new(void)
{
    nb_params *p = calloc(1, sizeof *p);
    if (!p) return nb__fail(NB_ERR_MEMORY, "nb_params_new: out of memory");
    p->training = true;
    return p;
}

void nb_params_free(nb_params *p)
{
    if (!p) return;
    for (int i = 0; i < p->count; i++) {
        nb__release_ref(p->items[i]); /* the list's, never a scope's */
        free(p->names[i]);
    }
    free(p->items);
    free(p->names);
    free(p->modes);
    free(p);
}

/* Appends t under name (NULL: unnamed) after checking both are new to the list. */
static nb_status add_entry(const char *op, nb_params *p, const char *name, nb_tensor *t)
{
    if (nb__is_null(op, "params", p) || nb__is_null(op, "tensor", t)) return NB_ERR_NULL;
    for (int i = 0; i < p->count; i++)
        if (p->items[i] == t)
            return nb__fail_status(NB_ERR_ARGUMENT,
                                   "%s: the tensor is already parameter %d of this list; "
                                   "a parameter listed twice would be stepped twice", op, i);
    if (name) {
        size_t len = strlen(name);
        if (len == 0 || len > NB_PARAM_NAME_MAX)
            return nb__fail_status(NB_ERR_ARGUMENT, "%s: a parameter's name must have 1 to %d bytes, got %zu", op,
                                   NB_PARAM_NAME_MAX, len);
        int at = nb_params_find(p, name);
        if (at >= 0)
            return nb__fail_status(NB_ERR_ARGUMENT, "%s: the name \"%s\" is already parameter %d of this list", op,
                                   name, at);
    }
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 8;
        nb_tensor **items = realloc(p->items, (size_t)cap * sizeof *items);
        if (!items) return nb__fail_status(NB_ERR_MEMORY, "%s: out of memory growing the list to %d", op, cap);
        p->items = items;
        char **names = realloc(p->names, (size_t)cap * sizeof *names);
        if (!names) return nb__fail_status(NB_ERR_MEMORY, "%s: out of memory growing the list to %d", op, cap);
        p->names = names;
        p->cap = cap;
    }
    char *copy = NULL;
    if (name && !(copy = strdup(name))) return nb__fail_status(NB_ERR_MEMORY, "%s: out of memory", op);
    p->names[p->count] = copy;
    p->items[p->count++] = nb__retain_ref(t); /* the list's own: a user's release of t is never taken for it */
    return NB_OK;
}

nb_status nb_params_add(nb_params *p, nb_tensor *t) { return add_entry("nb_params_add", p, NULL, t); }

nb_status nb_params_add_named(nb_params *p, const char *name, nb_tensor *t)
{
    if (nb__is_null("nb_params_add_named", "name", name)) return NB_ERR_NULL;
    return add_entry("nb_params_add_named", p, name, t);
}

const char *nb_params_name(const nb_params *p, int i)
{
    if (nb__is_null("nb_params_name", "params", p)) return NULL;
    if (i < 0 || i >= p->count)
        return nb__fail(NB_ERR_ARGUMENT, "nb_params_name: index %d is out of range for a list of %d parameters", i,
                        p->count);
    return p->names[i];
}

int nb_params_find(const nb_params *p, const char *name)
{
    if (!p || !name) return -1;
    for (int i = 0; i < p->count; i++)
        if (p->names[i] && strcmp(p->names[i], name) == 0) return i;
    return -1;
}

int nb_params_count(const nb_params *p)
{
    if (nb__is_null("nb_params_count", "params", p)) return 0;
    return p->count;
}

nb_tensor *nb_params_get(const nb_params *p, int i)
{
    if (nb__is_null("nb_params_get", "params", p)) return NULL;
    if (i < 0 || i >= p->count)
        return nb__fail(NB_ERR_ARGUMENT, "nb_params_get: index %d is out of range for a list of %d parameters", i,
                        p->count);
    return p->items[i];
}

void nb_params_zero_grad(nb_params *p)
{
    if (nb__is_null("nb_params_zero_grad", "params", p)) return;
    for (int i = 0; i < p->count; i++) nb_zero_grad(p->items[i]);
}

nb_status nb__params_add_mode(const char *op, nb_params *p, bool *training)
{
    for (int i = 0; i < p->nmodes; i++)
        if (p->modes[i] == training) return NB_OK; /* the layer is there already */
    if (p->nmodes == p->modes_cap) {
        int cap = p->modes_cap ? p->modes_cap * 2 : 4;
        bool **modes = realloc(p->modes, (size_t)cap * sizeof *modes);
        if (!modes) return nb__fail_status(NB_ERR_MEMORY, "%s: out of memory growing the list's layers to %d", op, cap);
        p->modes = modes;
        p->modes_cap = cap;
    }
    p->modes[p->nmodes++] = training;
    *training = p->training; /* a layer joins in the list's mode */
    return NB_OK;
}

void nb_params_train(nb_params *p, bool training)
{
    if (nb__is_null("nb_params_train", "params", p)) return;
    p->training = training;
    for (int i = 0; i < p->nmodes; i++) *p->modes[i] = training;
}

bool nb_params_training(const nb_params *p)
{
    if (nb__is_null("nb_params_training", "params", p)) return false;
    return p->training;
}

/* ---------------------------------------------------------------- format constants */

#define CKPT_MAGIC "NBCKPT"
#define CKPT_MAGIC_LEN 6
#define CKPT_VERSION 1
#define CKPT_HEADER_LEN 12  /* magic, version, count */
#define CKPT_TRAILER_LEN 4  /* the CRC-32 */
#define CKPT_MAX_DATA ((uint64_t)1 << 46) /* the largest storage nabla allocates (64 TiB) */
#define CKPT_IO_CHUNK ((size_t)1 << 16)

static const nb_dtype ckpt_dtypes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL, NB_FLOAT16,
                                      NB_BFLOAT16}; /* by file code (4, 5: the half dtypes) */
#define CKPT_NDTYPES (int)(sizeof ckpt_dtypes / sizeof ckpt_dtypes[0])

static int code_of(nb_dtype dtype)
{
    for (int c = 0; c < CKPT_NDTYPES; c++)
        if (ckpt_dtypes[c] == dtype) return c;
    return -1;
}

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static void put_u16(unsigned char *b, uint16_t v) { b[0] = (unsigned char)v, b[1] = (unsigned char)(v >> 8); }
static void put_u32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static uint16_t get_u16(const unsigned char *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint32_t get_u32(const unsigned char *b)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | b[i];
    return v;
}
static uint64_t get_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

/* crc32 over any length (zlib's takes an unsigned int length). */
static uLong crc_update(uLong crc, const void *data, size_t n)
{
    const Bytef *b = data;
    while (n > 0) {
        uInt part = n > (size_t)1 << 30 ? (uInt)1 << 30 : (uInt)n;
        crc = crc32(crc, b, part);
        b += part;
        n -= part;
    }
    return crc;
}

/* ---------------------------------------------------------------- saving */

/* A writer that checksums what it writes and remembers the first failure. */
typedef struct ckpt_writer {
    FILE *f;
    uLong crc;
    int err; /* errno of the first failed write, or -1 for a failure without one */
} ckpt_writer;

static void put(ckpt_writer *w, const void *data, size_t n)
{
    if (w->err || n == 0) return;
    if (fwrite(data, 1, n, w->f) != n) {
        w->err = errno ? errno : -1;
        return;
    }
    w->crc = crc_update(w->crc, data, n);
}

/* Writes parameter i's record; false (with an error) when its values cannot be fetched. */
static bool write_record(ckpt_writer *w, const nb_tensor *t)
{
    unsigned char head[2 + 8 * NB_MAX_DIMS];
    head[0] = (unsigned char)code_of(t->dtype);
    head[1] = (unsigned char)t->ndim;
    for (int d = 0; d < t->ndim; d++) put_u64(head + 2 + 8 * d, (uint64_t)t->shape[d]);
    put(w, head, 2 + 8 * (size_t)t->ndim);
    nb_tensor *host = nb_to(t, NB_DEVICE_CPU);
    nb_tensor *c = host ? nb_contiguous(host) : NULL; /* C order, no gaps */
    nb_release(host);
    if (!c) return false;
    put(w, nb__ptr(c), (size_t)nb__numel_of(c->ndim, c->shape) * nb_dtype_size(c->dtype));
    nb_release(c);
    return true;
}

nb_status nb_params_save(const nb_params *p, const char *path)
{
    if (nb__is_null("nb_params_save", "params", p) || nb__is_null("nb_params_save", "path", path))
        return NB_ERR_NULL;
    if (!host_is_little_endian())
        return nb__fail_status(NB_ERR_UNSUPPORTED, "nb_params_save: %s: checkpoints are written on little-endian "
                               "hosts only", path);
    for (int i = 0; i < p->count; i++)
        if (code_of(p->items[i]->dtype) < 0)
            return nb__fail_status(NB_ERR_DTYPE, "nb_params_save: %s: parameter %d has unknown dtype %d", path, i,
                                   (int)p->items[i]->dtype);

    nb_atomic_file af;
    nb_status st = nb__atomic_open(&af, "nb_params_save", path);
    if (st != NB_OK) return st;
    ckpt_writer w = {af.f, crc32(0L, Z_NULL, 0), 0};
    unsigned char head[CKPT_HEADER_LEN];
    memcpy(head, CKPT_MAGIC, CKPT_MAGIC_LEN);
    put_u16(head + 6, CKPT_VERSION);
    put_u32(head + 8, (uint32_t)p->count);
    put(&w, head, sizeof head);
    bool values_ok = true; /* false: a tensor's values could not be fetched (its error is pending) */
    nb_no_grad_begin();    /* the contiguous copies need no history */
    for (int i = 0; i < p->count && values_ok && !w.err; i++) values_ok = write_record(&w, p->items[i]);
    nb_no_grad_end();
    unsigned char trailer[CKPT_TRAILER_LEN];
    put_u32(trailer, (uint32_t)w.crc);
    put(&w, trailer, sizeof trailer);
    st = nb__atomic_close(&af, values_ok); /* a write error shows in the stream and fails the close */
    return values_ok ? st : nb_last_status();
}

/* ---------------------------------------------------------------- loading */

/* One record's header as read from the file. */
typedef struct ckpt_record {
    nb_dtype dtype;
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    uint64_t data_offset, data_bytes;
} ckpt_record;

typedef struct ckpt_reader {
    FILE *f;
    const char *path;
    uint64_t size; /* the file's size */
} ckpt_reader;

/* Reads n bytes at offset; false (with an error) when they cannot be read. */
static bool read_at(ckpt_reader *r, uint64_t offset, void *buf, size_t n, const char *what)
{
    if (fseeko(r->f, (off_t)offset, SEEK_SET) != 0 || fread(buf, 1, n, r->f) != n) {
        int err = ferror(r->f) ? errno : 0;
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: cannot read %s at byte %llu: %s", r->path, what,
                        (unsigned long long)offset, err ? strerror(err) : "the file is shorter than when it was opened"),
               false;
    }
    return true;
}

/* Reads and checks record i starting at *offset (which it advances past the record's data);
 * false (with an error) when the record is malformed or runs past the checksum. */
static bool read_record(ckpt_reader *r, uint32_t i, uint64_t *offset, ckpt_record *rec)
{
    const uint64_t end = r->size - CKPT_TRAILER_LEN; /* where the records must stop */
    if (end - *offset < 2)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: the file is truncated: it ends inside the header of "
                        "tensor %u (at byte %llu of %llu)", r->path, i, (unsigned long long)*offset,
                        (unsigned long long)r->size), false;
    unsigned char head[2];
    if (!read_at(r, *offset, head, 2, "a tensor header")) return false;
    if (head[0] >= CKPT_NDTYPES)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: tensor %u has the unknown dtype code %u (expected 0 float32, "
                        "1 float64, 2 int64, 3 bool, 4 float16 or 5 bfloat16): the file is corrupt", r->path, i, head[0]), false;
    if (head[1] > NB_MAX_DIMS)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: tensor %u has %u dims; nabla tensors have at most %d: the file "
                        "is corrupt", r->path, i, head[1], NB_MAX_DIMS), false;
    rec->dtype = ckpt_dtypes[head[0]];
    rec->ndim = head[1];
    *offset += 2;
    size_t shape_bytes = 8 * (size_t)rec->ndim;
    if (end - *offset < shape_bytes)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: the file is truncated: it ends inside the shape of tensor %u",
                        r->path, i), false;
    unsigned char sizes[8 * NB_MAX_DIMS];
    if (shape_bytes && !read_at(r, *offset, sizes, shape_bytes, "a tensor shape")) return false;
    *offset += shape_bytes;
    uint64_t bytes = nb_dtype_size(rec->dtype);
    bool empty = false;
    for (int d = 0; d < rec->ndim; d++) {
        uint64_t size = get_u64(sizes + 8 * d);
        if (size > (uint64_t)INT64_MAX)
            return nb__fail(NB_ERR_IO, "nb_params_load: %s: tensor %u has a negative size at dim %d: the file is "
                            "corrupt", r->path, i, d), false;
        rec->shape[d] = (int64_t)size;
        if (size == 0) empty = true;
        else if (size > CKPT_MAX_DATA / bytes)
            return nb__fail(NB_ERR_IO, "nb_params_load: %s: tensor %u has an absurd shape (more than 2^46 bytes of "
                            "data): the file is corrupt", r->path, i), false;
        else bytes *= size;
    }
    rec->data_bytes = empty ? 0 : bytes;
    rec->data_offset = *offset;
    if (end - *offset < rec->data_bytes) {
        char shape[160];
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: the file is truncated: tensor %u (%s %s) needs %llu bytes "
                        "of data but only %llu remain before the checksum", r->path, i, nb_dtype_name(rec->dtype),
                        nb__shape_string(rec->ndim, rec->shape, shape, sizeof shape),
                        (unsigned long long)rec->data_bytes, (unsigned long long)(end - *offset)), false;
    }
    *offset += rec->data_bytes;
    return true;
}

/* The CRC-32 of the file's first n bytes. */
static bool checksum_of(ckpt_reader *r, uint64_t n, uLong *crc)
{
    unsigned char *buf = malloc(CKPT_IO_CHUNK);
    if (!buf) return nb__fail(NB_ERR_MEMORY, "nb_params_load: %s: out of memory", r->path), false;
    *crc = crc32(0L, Z_NULL, 0);
    bool ok = fseeko(r->f, 0, SEEK_SET) == 0;
    for (uint64_t done = 0; ok && done < n;) {
        size_t part = n - done < CKPT_IO_CHUNK ? (size_t)(n - done) : CKPT_IO_CHUNK;
        ok = fread(buf, 1, part, r->f) == part;
        if (ok) *crc = crc_update(*crc, buf, part);
        done += part;
    }
    free(buf);
    if (!ok)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: cannot read the file to check its checksum: %s", r->path,
                        ferror(r->f) ? strerror(errno) : "the file is shorter than when it was opened"), false;
    return true;
}

/* Checks the file's structure: preamble, every record against the file size, nothing after the
 * last record but the checksum, and the checksum itself. On success *count is the tensor count. */
static bool check_file(ckpt_reader *r, uint32_t *count)
{
    unsigned char head[CKPT_HEADER_LEN];
    size_t got = r->size < sizeof head ? (size_t)r->size : sizeof head;
    if (got && !read_at(r, 0, head, got, "the header")) return false;
    if (got < CKPT_MAGIC_LEN || memcmp(head, CKPT_MAGIC, CKPT_MAGIC_LEN) != 0)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: not a nabla checkpoint: it does not start with the magic "
                        "NBCKPT (the file holds %llu bytes)", r->path, (unsigned long long)r->size), false;
    if (got < 8)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: the file is truncated: it ends inside the format version",
                        r->path), false;
    unsigned version = get_u16(head + 6);
    if (version != CKPT_VERSION)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: unsupported checkpoint version %u; this nabla reads version %d",
                        r->path, version, CKPT_VERSION), false;
    if (r->size < CKPT_HEADER_LEN + CKPT_TRAILER_LEN)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: the file is truncated: it holds %llu bytes, fewer than an "
                        "empty checkpoint's %d", r->path, (unsigned long long)r->size,
                        CKPT_HEADER_LEN + CKPT_TRAILER_LEN), false;
    *count = get_u32(head + 8);
    uint64_t offset = CKPT_HEADER_LEN;
    ckpt_record rec;
    for (uint32_t i = 0; i < *count; i++)
        if (!read_record(r, i, &offset, &rec)) return false;
    uint64_t after = r->size - CKPT_TRAILER_LEN - offset;
    if (after != 0)
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: %llu unexpected bytes follow the last of its %u tensors: the "
                        "file is corrupt", r->path, (unsigned long long)after, *count), false;
    unsigned char trailer[CKPT_TRAILER_LEN];
    if (!read_at(r, offset, trailer, sizeof trailer, "the checksum")) return false;
    uLong crc;
    if (!checksum_of(r, offset, &crc)) return false;
    if ((uint32_t)crc != get_u32(trailer))
        return nb__fail(NB_ERR_IO, "nb_params_load: %s: checksum mismatch (CRC-32 %08x stored, %08x computed): the "
                        "file is corrupt", r->path, get_u32(trailer), (unsigned)crc), false;
    return true;
}

/* Every record's dtype and shape against p's tensors (the file's structure is already checked). */
static bool check_matches(ckpt_reader *r, const nb_params *p)
{
    uint64_t offset = CKPT_HEADER_LEN;
    for (int i = 0; i < p->count; i++) {
        ckpt_record rec;
        if (!read_record(r, (uint32_t)i, &offset, &rec)) return false;
        const nb_tensor *t = p->items[i];
        if (rec.dtype != t->dtype)
            return nb__fail(NB_ERR_DTYPE, "nb_params_load: %s: parameter %d is %s in the file but %s in the list", r->path,
                            i, nb_dtype_name(rec.dtype), nb_dtype_name(t->dtype)), false;
        if (rec.ndim != t->ndim || memcmp(rec.shape, t->shape, (size_t)t->ndim * sizeof(int64_t)) != 0) {
            char fs[160], ts[160];
            return nb__fail(NB_ERR_SHAPE, "nb_params_load: %s: parameter %d has shape %s in the file but %s in the list",
                            r->path, i, nb__shape_string(rec.ndim, rec.shape, fs, sizeof fs),
                            nb__shape_string(t->ndim, t->shape, ts, sizeof ts)), false;
        }
    }
    return true;
}

/* Reads one record's values into t: straight into its memory when t is a contiguous CPU tensor,
 * else through a contiguous CPU copy moved to its device and nb_copy_. */
static bool load_values(ckpt_reader *r, const ckpt_record *rec, nb_tensor *t)
{
    bool direct = t->storage->device.type == NB_CPU && nb__is_contiguous(t);
    nb_tensor *staging = direct ? NULL : nb__untrack(nb__alloc("nb_params_load", t->ndim, t->shape, t->dtype,
                                                               NB_DEVICE_CPU));
    if (!direct && !staging) return false;
    nb_tensor *dst = direct ? t : staging;
    bool ok = rec->data_bytes == 0 || read_at(r, rec->data_offset, nb__ptr(dst), (size_t)rec->data_bytes, "tensor data");
    if (ok && dst->dtype == NB_BOOL) { /* nabla's bools are 0 or 1 */
        unsigned char *b = (unsigned char *)nb__ptr(dst); /* (numel,) */
        for (uint64_t k = 0; k < rec->data_bytes; k++) b[k] = b[k] != 0;
    }
    if (ok && direct) nb__bump_version(t);
    if (ok && staging) {
        nb_tensor *moved = nb_to(staging, t->storage->device); /* staging itself on the CPU */
        ok = moved && nb_copy_(t, moved) != NULL;
        nb_release(moved);
    }
    nb_release(staging);
    return ok;
}

nb_status nb_params_load(nb_params *p, const char *path)
{
    if (nb__is_null("nb_params_load", "params", p) || nb__is_null("nb_params_load", "path", path))
        return NB_ERR_NULL;
    if (!host_is_little_endian())
        return nb__fail_status(NB_ERR_UNSUPPORTED, "nb_params_load: %s: checkpoints are read on little-endian hosts "
                               "only", path);
    uint64_t file_size = 0;
    int fd = nb__open_regular("nb_params_load", path, "a nabla checkpoint", &file_size);
    if (fd < 0) return nb_last_status();
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return nb__fail_status(NB_ERR_MEMORY, "nb_params_load: %s: out of memory opening the file", path);
    }
    ckpt_reader r = {f, path, file_size};
    uint32_t count = 0;
    bool ok = check_file(&r, &count);
    if (ok && count != (uint32_t)p->count) {
        nb__fail(NB_ERR_ARGUMENT, "nb_params_load: %s: the checkpoint holds %u parameters but the list has %d", path,
                 count, p->count);
        ok = false;
    }
    ok = ok && check_matches(&r, p);
    if (ok) {
        nb_no_grad_begin();
        nb__tracking_pause();
        uint64_t offset = CKPT_HEADER_LEN;
        for (int i = 0; i < p->count && ok; i++) {
            ckpt_record rec;
            ok = read_record(&r, (uint32_t)i, &offset, &rec) && load_values(&r, &rec, p->items[i]);
        }
        nb__tracking_resume();
        nb_no_grad_end();
    }
    fclose(f);
    if (ok) return NB_OK;
    return nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_IO;
}
