/* fuzz_checkpoint.c — libFuzzer target for nb_params_load (lib/nn/params.c).
 *
 * A checkpoint loads into a parameter list whose count, dtypes and shapes must match the file, so
 * the target first reads the input itself, independently of the loader, following the format
 * that lib/nn/params.c documents: magic "NBCKPT", u16 version 1, u32 count, count records of
 * (u8 dtype code, u8 ndim, ndim i64 sizes, the values), then a CRC-32 of everything before it.
 * From the records it could read it builds a matching list and loads:
 *   1. the input as it is, into a list of contiguous parameters;
 *   2. when the structure is valid but the CRC is not, a copy with the CRC corrected, so that
 *      mutated values and shapes get past the checksum and into the copying code;
 *   3. a valid file into a list whose 2-d (or larger) parameters are transposed views, which
 *      loads through a contiguous staging copy;
 *   4. a valid file into a list that does not match it (one parameter too few, or the first with
 *      another dtype or shape), which must be refused with the status the header documents.
 * A successful load must leave each parameter holding exactly the file's values (bools as 0 or
 * 1); a refused one must leave every parameter unchanged and name nb_params_load and the file. */
#include "fuzz_common.h"
#include "nabla/nn.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_PARAMS 256                   /* records turned into parameters, at most */
#define MAX_DATA ((uint64_t)1 << 46)     /* the loader's limit on one tensor's bytes */

typedef struct record {
    nb_dtype dtype;
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    size_t offset, bytes; /* where its values are in the file, and how many bytes */
} record;

typedef struct ckpt {
    record recs[MAX_PARAMS];
    uint32_t count;  /* the count the file declares */
    int nrecs;       /* records read (they all fit in the file), at most MAX_PARAMS */
    bool structure;  /* magic, version, every record, then exactly the 4-byte CRC */
    bool crc;        /* and the stored CRC matches */
    size_t crc_offset;
} ckpt;

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static void parse(const uint8_t *d, size_t n, ckpt *c)
{
    static const nb_dtype codes[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL, NB_FLOAT16, NB_BFLOAT16};
    c->nrecs = 0;
    c->count = 0;
    c->structure = c->crc = false;
    if (n < 16 || memcmp(d, "NBCKPT", 6) != 0 || d[6] != 1 || d[7] != 0) return;
    uint32_t count = c->count = le32(d + 8);
    size_t end = n - 4, pos = 12;
    for (uint32_t i = 0; i < count; i++) {
        if (end - pos < 2 || d[pos] > 5 || d[pos + 1] > NB_MAX_DIMS) return;
        record r = {.dtype = codes[d[pos]], .ndim = d[pos + 1]};
        pos += 2;
        if (end - pos < 8 * (size_t)r.ndim) return;
        uint64_t bytes = nb_dtype_size(r.dtype);
        bool empty = false;
        for (int k = 0; k < r.ndim; k++, pos += 8) {
            uint64_t s = le64(d + pos);
            if (s > (uint64_t)INT64_MAX) return;
            r.shape[k] = (int64_t)s;
            if (s == 0) empty = true;
            else if (s > MAX_DATA / bytes) return;
            else bytes *= s;
        }
        r.bytes = empty ? 0 : (size_t)bytes;
        if (end - pos < r.bytes) return;
        r.offset = pos;
        pos += r.bytes;
        if (c->nrecs < MAX_PARAMS) c->recs[c->nrecs++] = r;
    }
    if (pos != end) return;
    c->structure = true;
    c->crc_offset = end;
    c->crc = (uint32_t)crc32(0L, d, (uInt)end) == le32(d + end);
}

/* How the list is built from the records. */
typedef enum list_kind { LIST_CONTIGUOUS, LIST_VIEWS, LIST_FEWER, LIST_DTYPE, LIST_SHAPE } list_kind;

/* A parameter shaped like r, filled with a sentinel value (a transposed view when views is set
 * and r has 2 or more dims); NULL when nabla cannot make it (then the list cannot match). */
static nb_tensor *make_param(const record *r, bool views)
{
    int64_t shape[NB_MAX_DIMS];
    memcpy(shape, r->shape, sizeof shape);
    bool transpose = views && r->ndim >= 2;
    if (transpose) shape[0] = r->shape[1], shape[1] = r->shape[0];
    nb_tensor *base = nb_full(r->ndim, shape, 7.0, NB_OPTS(r->dtype));
    if (!base || !transpose) return base;
    nb_tensor *view = nb_transpose(base, 0, 1);
    nb_release(base);
    return view;
}

static nb_params *make_list(const ckpt *c, list_kind kind)
{
    nb_params *p = nb_params_new();
    if (!p) fuzz_fail("nb_params_new failed");
    int n = kind == LIST_FEWER ? c->nrecs - 1 : c->nrecs;
    for (int i = 0; i < n; i++) {
        record r = c->recs[i];
        if (i == 0 && kind == LIST_DTYPE) r.dtype = r.dtype == NB_FLOAT32 ? NB_FLOAT64 : NB_FLOAT32;
        if (i == 0 && kind == LIST_SHAPE) {
            if (r.ndim < NB_MAX_DIMS) r.shape[r.ndim++] = 1; /* one more dim of size 1 */
            else r.ndim--;
        }
        nb_tensor *t = make_param(&r, kind == LIST_VIEWS);
        if (!t) { /* nabla refused the shape (it is the loader under test, not creation) */
            nb_clear_error();
            continue;
        }
        if (nb_params_add(p, t) != NB_OK) fuzz_fail("nb_params_add failed");
        nb_release(t);
    }
    return p;
}

/* The status nb_params_load documents for a valid file and a list that does not match it: the
 * count first, then each parameter's dtype, then its shape. */
static nb_status first_mismatch(const ckpt *c, const nb_params *p)
{
    if ((uint32_t)nb_params_count(p) != c->count) return NB_ERR_ARGUMENT;
    for (int i = 0; i < c->nrecs; i++) {
        const nb_tensor *t = nb_params_get(p, i);
        const record *r = &c->recs[i];
        if (nb_dtype_of(t) != r->dtype) return NB_ERR_DTYPE;
        if (nb_ndim(t) != r->ndim || memcmp(nb_shape(t), r->shape, (size_t)r->ndim * sizeof(int64_t)) != 0)
            return NB_ERR_SHAPE;
    }
    return NB_OK;
}

/* Every parameter's values, concatenated in row-major order (malloc'ed; *n their size). */
static uint8_t *snapshot(const nb_params *p, size_t *n)
{
    size_t total = 0;
    for (int i = 0; i < nb_params_count(p); i++) {
        const nb_tensor *t = nb_params_get(p, i);
        total += (size_t)nb_numel(t) * nb_dtype_size(nb_dtype_of(t));
    }
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf) fuzz_fail("out of memory");
    size_t at = 0;
    for (int i = 0; i < nb_params_count(p); i++) {
        const nb_tensor *t = nb_params_get(p, i);
        size_t bytes = (size_t)nb_numel(t) * nb_dtype_size(nb_dtype_of(t));
        if (bytes && nb_copy_to_array(t, buf + at, bytes) != NB_OK) fuzz_fail("nb_copy_to_array failed");
        at += bytes;
    }
    *n = total;
    return buf;
}

/* Loads path (whose bytes are d) into a list of the given kind and checks the outcome. */
static void load_and_check(const char *path, const uint8_t *d, const ckpt *c, list_kind kind)
{
    nb_params *p = make_list(c, kind);
    bool matches = first_mismatch(c, p) == NB_OK;
    bool valid = c->structure && c->crc;
    size_t before_n = 0;
    uint8_t *before = snapshot(p, &before_n);

    nb_clear_error();
    nb_status s = nb_params_load(p, path);
    if (s == NB_OK) {
        fuzz_expect_success("nb_params_load", path);
        if (!valid) fuzz_fail("nb_params_load(%s) accepted a corrupt checkpoint", path);
        if (!matches) fuzz_fail("nb_params_load(%s) accepted a list that does not match the file", path);
        size_t after_n = 0;
        uint8_t *after = snapshot(p, &after_n);
        size_t at = 0;
        for (int i = 0; i < c->nrecs; i++) {
            const record *r = &c->recs[i];
            for (size_t k = 0; k < r->bytes; k++) {
                uint8_t want = r->dtype == NB_BOOL ? d[r->offset + k] != 0 : d[r->offset + k];
                if (after[at + k] != want) fuzz_fail("nb_params_load(%s): parameter %d byte %zu is %u, the file "
                                                     "holds %u", path, i, k, after[at + k], d[r->offset + k]);
            }
            at += r->bytes;
        }
        free(after);
    } else {
        fuzz_expect_refusal("nb_params_load", path);
        if (s != nb_last_status()) fuzz_fail("nb_params_load(%s) returned %s but nb_last_status() is %s", path,
                                              nb_status_name(s), nb_status_name(nb_last_status()));
        if (valid && matches) fuzz_fail("nb_params_load(%s) refused a valid checkpoint for a matching list", path);
        nb_status want = valid ? first_mismatch(c, p) : NB_ERR_IO;
        if (s != want && s != NB_ERR_MEMORY)
            fuzz_fail("nb_params_load(%s) refused with %s; expected %s", path, nb_status_name(s), nb_status_name(want));
        size_t after_n = 0;
        uint8_t *after = snapshot(p, &after_n);
        if (after_n != before_n || memcmp(before, after, before_n) != 0)
            fuzz_fail("nb_params_load(%s) was refused but changed the parameters", path);
        free(after);
    }
    nb_clear_error();
    free(before);
    nb_params_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ckpt c; /* large: not on the stack */
    parse(data, size, &c);
    const char *path = fuzz_file(0, data, size);
    load_and_check(path, data, &c, LIST_CONTIGUOUS);
    if (!c.structure) return 0;

    const uint8_t *valid = data;
    uint8_t *fixed = NULL;
    if (!c.crc) { /* the same file with its CRC corrected */
        fixed = malloc(size);
        if (!fixed) fuzz_fail("out of memory");
        memcpy(fixed, data, size);
        uint32_t crc = (uint32_t)crc32(0L, data, (uInt)c.crc_offset);
        for (int i = 0; i < 4; i++) fixed[c.crc_offset + i] = (uint8_t)(crc >> (8 * i));
        c.crc = true;
        path = fuzz_file(1, fixed, size);
        load_and_check(path, fixed, &c, LIST_CONTIGUOUS);
        valid = fixed;
    }
    for (int i = 0; i < c.nrecs; i++)
        if (c.recs[i].ndim >= 2) {
            load_and_check(path, valid, &c, LIST_VIEWS);
            break;
        }
    if (c.nrecs > 0) load_and_check(path, valid, &c, (list_kind)(LIST_FEWER + size % 3));
    free(fixed);
    return 0;
}
