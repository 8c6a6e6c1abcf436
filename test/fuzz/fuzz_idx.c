/* fuzz_idx.c — the IDX check shared by fuzz_idx_raw.c and fuzz_idx_gzip.c (fuzz_idx.h).
 *
 * The reference reading below is written from the format's description (lib/data/idx.c's top
 * comment), not from the loader: a 4-byte magic (0, 0, type, ndim), ndim big-endian uint32 sizes,
 * then exactly numel big-endian elements. The loader also refuses element counts whose product
 * overflows or passes 2^43 (more than nabla can hold); a fuzz input can never hold that much
 * data, so such a file is invalid here as well. */
#include "fuzz_idx.h"

#include "fuzz_common.h"
#include "nabla/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define REF_MAX_BYTES ((size_t)64 << 20) /* decompressed bytes read for reference, at most */

typedef struct idx_ref {
    bool known;  /* false: the decompressed data is too large to check (only the contract is) */
    bool valid;  /* a file nb_load_idx must accept */
    uint8_t type;
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    uint64_t numel;
    const uint8_t *data; /* (numel * element size,) big-endian */
} idx_ref;

static size_t type_size(uint8_t code)
{
    switch (code) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Element i of the reference data as a double (exact for every IDX type). */
static double element(const idx_ref *r, uint64_t i)
{
    const uint8_t *p = r->data + i * type_size(r->type);
    switch (r->type) {
    case 0x08: return p[0];
    case 0x09: return (int8_t)p[0];
    case 0x0B: return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
    case 0x0C: return (int32_t)be32(p);
    case 0x0D: {
        uint32_t bits = be32(p);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    default: {
        uint64_t bits = (uint64_t)be32(p) << 32 | be32(p + 4);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    }
}

/* The reference verdict on the decompressed bytes raw (n of them). */
static void parse(const uint8_t *raw, size_t n, idx_ref *r)
{
    r->valid = false;
    if (n < 4 || raw[0] != 0 || raw[1] != 0 || type_size(raw[2]) == 0 || raw[3] == 0 || raw[3] > NB_MAX_DIMS) return;
    r->type = raw[2];
    r->ndim = raw[3];
    size_t header = 4 + 4 * (size_t)r->ndim;
    if (n < header) return;
    uint64_t nonzero = 1;
    bool empty = false;
    for (int i = 0; i < r->ndim; i++) {
        r->shape[i] = be32(raw + 4 + 4 * i);
        if (r->shape[i] == 0) empty = true;
        else if (__builtin_mul_overflow(nonzero, (uint64_t)r->shape[i], &nonzero)) return;
    }
    if (nonzero > (uint64_t)1 << 43) return;
    r->numel = empty ? 0 : nonzero;
    if (n - header != r->numel * type_size(r->type)) return;
    r->data = raw + header;
    r->valid = true;
}

/* The file's contents after zlib's decompression, as nb_load_idx reads them (malloc'ed, or NULL
 * when zlib cannot open it); *n their size, *stream_ok whether the stream ended cleanly, *known
 * false when they pass REF_MAX_BYTES. */
static uint8_t *gunzip(const char *path, size_t *n, bool *stream_ok, bool *known)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz) fuzz_fail("gzopen(%s) failed", path);
    size_t cap = 1 << 16, have = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) fuzz_fail("out of memory");
    *known = true;
    int r;
    while ((r = gzread(gz, buf + have, (unsigned)(cap - have))) > 0) {
        have += (size_t)r;
        if (have == cap) {
            if (cap >= REF_MAX_BYTES) {
                *known = false;
                break;
            }
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) fuzz_fail("out of memory");
        }
    }
    int err = Z_OK;
    gzerror(gz, &err);
    *stream_ok = r == 0 && err == Z_OK; /* Z_BUF_ERROR: the stream was cut short */
    gzclose(gz);
    *n = have;
    return buf;
}

/* Checks t (loaded as dtype) against the reference; releases it. */
static void check_loaded(const char *path, nb_tensor *t, nb_dtype dtype, const idx_ref *r)
{
    fuzz_expect_success("nb_load_idx", path);
    if (nb_dtype_of(t) != dtype) fuzz_fail("nb_load_idx(%s, %s) returned %s", path, nb_dtype_name(dtype),
                                           nb_dtype_name(nb_dtype_of(t)));
    if (!r->known) {
        nb_release(t);
        return;
    }
    if (!r->valid) fuzz_fail("nb_load_idx(%s, %s) accepted a file that is not a valid IDX file", path,
                             nb_dtype_name(dtype));
    if (nb_ndim(t) != r->ndim || memcmp(nb_shape(t), r->shape, (size_t)r->ndim * sizeof(int64_t)) != 0)
        fuzz_fail("nb_load_idx(%s): the shape differs from the file's dims", path);
    const void *got = nb_data(t);
    for (uint64_t i = 0; i < r->numel; i++) {
        double want = element(r, i);
        bool same;
        if (dtype == NB_FLOAT64) {
            double g = ((const double *)got)[i];
            same = g == want || (isnan(g) && isnan(want));
        } else if (dtype == NB_FLOAT32) {
            float g = ((const float *)got)[i], w = (float)want;
            same = g == w || (isnan(g) && isnan(w));
        } else {
            same = ((const int64_t *)got)[i] == (int64_t)want;
        }
        if (!same) fuzz_fail("nb_load_idx(%s, %s): element %llu differs from the file's", path, nb_dtype_name(dtype),
                             (unsigned long long)i);
    }
    nb_release(t);
}

void fuzz_idx_check(const char *path, const uint8_t *file, size_t n)
{
    idx_ref r = {.known = true};
    uint8_t *raw = NULL;
    bool stream_ok = true;
    if (n >= 2 && file[0] == 0x1f && file[1] == 0x8b) { /* what zlib reads as gzip */
        size_t raw_n = 0;
        raw = gunzip(path, &raw_n, &stream_ok, &r.known);
        if (stream_ok) parse(raw, raw_n, &r);
    } else {
        parse(file, n, &r);
    }

    /* float64 holds every IDX type exactly; float32 and int64 take turns (each load costs zlib's
     * large buffers, which dominate the time of a run) */
    const nb_dtype dtypes[] = {NB_FLOAT64, n % 2 ? NB_FLOAT32 : NB_INT64};
    for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++) {
        nb_dtype dtype = dtypes[k];
        nb_clear_error();
        nb_tensor *t = nb_load_idx(path, dtype);
        bool floating = r.valid && (r.type == 0x0D || r.type == 0x0E);
        if (t) {
            if (dtype == NB_INT64 && floating) fuzz_fail("nb_load_idx(%s) loaded floating data as int64", path);
            check_loaded(path, t, dtype, &r);
        } else {
            fuzz_expect_refusal("nb_load_idx", path);
            if (r.known && r.valid && !(dtype == NB_INT64 && floating))
                fuzz_fail("nb_load_idx(%s, %s) refused a valid IDX file", path, nb_dtype_name(dtype));
        }
        nb_clear_error();
    }
    free(raw);
}
