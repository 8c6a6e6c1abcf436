/* npy.c — NumPy .npy files: nb_load_npy reads and validates one; nb_save_npy writes one atomically.
 *
 * The format (numpy/lib/format.py): the magic "\x93NUMPY", a major and minor version byte, the
 * header length (2 bytes little endian in version 1.0, 4 bytes in 2.0 and 3.0), then a header that
 * is a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
 * spaces and ended by '\n', then the raw data in C order.
 *
 * Loading trusts nothing in the file: every size is checked against the real file size before
 * anything is allocated, and every refusal is NB_ERR_IO naming nb_load_npy, the path, what the file
 * holds and what was expected. */
#include "atomic_file.h"
#include "error.h"
#include "file_open.h"
#include "tensor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64                    /* NumPy's ARRAY_ALIGN: where the data starts */
#define NPY_GROWTH_DIGITS 21            /* NumPy's GROWTH_AXIS_MAX_DIGITS: spare header space */
#define NPY_MAX_HEADER ((uint32_t)1 << 20) /* far above any real header (8 dims fit in 200 bytes) */
#define NPY_MAX_DATA ((uint64_t)1 << 46)   /* the largest storage nabla allocates (64 TiB) */

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* ---------------------------------------------------------------- dtypes */

typedef struct npy_dtype {
    const char *descr; /* as NumPy writes it */
    nb_dtype dtype;
} npy_dtype;

static const npy_dtype npy_dtypes[] = {
    {"<f4", NB_FLOAT32},
    {"<f8", NB_FLOAT64},
    {"<i8", NB_INT64},
    {"|b1", NB_BOOL},
    {"<f2", NB_FLOAT16},
};
#define NPY_SUPPORTED "'<f4' (float32), '<f8' (float64), '<i8' (int64), '|b1' (bool) or '<f2' (float16)"

static const char *descr_of(nb_dtype dtype)
{
    for (size_t i = 0; i < sizeof npy_dtypes / sizeof npy_dtypes[0]; i++)
        if (npy_dtypes[i].dtype == dtype) return npy_dtypes[i].descr;
    return NULL;
}

/* ---------------------------------------------------------------- header parsing */

/* What the header dict says, once parsed. */
typedef struct npy_header {
    char descr[32];
    bool has_descr, has_fortran, has_shape;
    bool descr_is_list; /* a structured dtype: [('x', '<f4'), ...] */
    bool fortran_order;
    int ndim;                    /* how many sizes the tuple holds (may exceed NB_MAX_DIMS) */
    int64_t shape[NB_MAX_DIMS];  /* the first NB_MAX_DIMS of them */
    bool negative_size;          /* a size below zero */
    char shape_text[128];        /* the tuple as written, for messages */
} npy_header;

typedef struct cursor {
    const char *s;
    size_t n, pos;
    char *why; /* the first syntax error, written here */
    size_t why_size;
} cursor;

static bool syntax_error(cursor *c, const char *expected)
{
    if (c->pos < c->n)
        snprintf(c->why, c->why_size, "the header is not a dict literal of the form "
                 "{'descr': ..., 'fortran_order': ..., 'shape': (...), }: expected %s at byte %zu, found '%c'",
                 expected, c->pos, c->s[c->pos] >= 32 && c->s[c->pos] < 127 ? c->s[c->pos] : '?');
    else
        snprintf(c->why, c->why_size, "the header is not a dict literal of the form "
                 "{'descr': ..., 'fortran_order': ..., 'shape': (...), }: expected %s, found the end of the header",
                 expected);
    return false;
}

static void skip_space(cursor *c)
{
    while (c->pos < c->n && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == '\n' ||
                             c->s[c->pos] == '\r'))
        c->pos++;
}

static bool peek(cursor *c, char ch)
{
    skip_space(c);
    return c->pos < c->n && c->s[c->pos] == ch;
}

static bool accept(cursor *c, char ch)
{
    if (!peek(c, ch)) return false;
    c->pos++;
    return true;
}

static bool accept_word(cursor *c, const char *word)
{
    skip_space(c);
    size_t len = strlen(word);
    if (c->n - c->pos < len || memcmp(c->s + c->pos, word, len) != 0) return false;
    c->pos += len;
    return true;
}

/* A quoted string (no escapes) of at most size - 1 characters, into out. */
static bool parse_string(cursor *c, char *out, size_t size)
{
    skip_space(c);
    if (c->pos >= c->n || (c->s[c->pos] != '\'' && c->s[c->pos] != '"')) return syntax_error(c, "a quoted string");
    char quote = c->s[c->pos++];
    size_t len = 0;
    while (c->pos < c->n && c->s[c->pos] != quote) {
        char ch = c->s[c->pos];
        if (ch == '\\' || ch == '\n' || len + 1 >= size) return syntax_error(c, "a short string without escapes");
        out[len++] = ch;
        c->pos++;
    }
    if (c->pos >= c->n) return syntax_error(c, "a closing quote");
    c->pos++;
    out[len] = '\0';
    return true;
}

/* A non-negative decimal integer that fits int64 (a leading '-' is noted, not refused here; a
 * Python 2 'L' suffix is allowed). */
static bool parse_size(cursor *c, npy_header *h, int64_t *out)
{
    skip_space(c);
    bool negative = c->pos < c->n && c->s[c->pos] == '-';
    if (negative) c->pos++;
    if (c->pos >= c->n || c->s[c->pos] < '0' || c->s[c->pos] > '9') return syntax_error(c, "an integer size");
    uint64_t v = 0;
    while (c->pos < c->n && c->s[c->pos] >= '0' && c->s[c->pos] <= '9') {
        unsigned digit = (unsigned)(c->s[c->pos] - '0');
        if (v > ((uint64_t)INT64_MAX - digit) / 10) {
            snprintf(c->why, c->why_size, "a size in the header's shape at byte %zu does not fit in 64 bits", c->pos);
            return false;
        }
        v = v * 10 + digit;
        c->pos++;
    }
    if (c->pos < c->n && c->s[c->pos] == 'L') c->pos++;
    if (negative && v != 0) h->negative_size = true;
    *out = negative ? -(int64_t)v : (int64_t)v;
    return true;
}

/* A tuple of sizes: (), (5,), (2, 3) or (2, 3,). "(5)" is an int in Python, not a tuple. */
static bool parse_shape(cursor *c, npy_header *h)
{
    skip_space(c);
    size_t start = c->pos;
    if (!accept(c, '(')) return syntax_error(c, "a shape tuple such as (2, 3), (5,) or ()");
    h->ndim = 0;
    bool trailing_comma = false;
    while (!accept(c, ')')) {
        if (h->ndim > 0 && !trailing_comma) return syntax_error(c, "',' or ')' in the shape tuple");
        int64_t size;
        if (!parse_size(c, h, &size)) return false;
        if (h->ndim < NB_MAX_DIMS) h->shape[h->ndim] = size;
        if (h->ndim < 64) h->ndim++; /* count well past NB_MAX_DIMS, for the message */
        trailing_comma = accept(c, ',');
    }
    size_t len = c->pos - start;
    snprintf(h->shape_text, sizeof h->shape_text, "%.*s", (int)(len < 120 ? len : 120), c->s + start);
    if (h->ndim == 1 && !trailing_comma) {
        snprintf(c->why, c->why_size, "the header's shape %s is not a tuple; a 1-d shape is written (n,)",
                 h->shape_text);
        return false;
    }
    return true;
}

/* Skips a bracketed Python value ([...] of a structured dtype), tracking nesting and quotes. */
static bool skip_bracketed(cursor *c)
{
    int depth = 0;
    char quote = 0;
    for (; c->pos < c->n; c->pos++) {
        char ch = c->s[c->pos];
        if (quote) {
            if (ch == quote) quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '[' || ch == '(') {
            depth++;
        } else if (ch == ']' || ch == ')') {
            if (--depth == 0) {
                c->pos++;
                return true;
            }
        }
    }
    return syntax_error(c, "a closing ']'");
}

static bool parse_entry(cursor *c, npy_header *h)
{
    char key[32];
    if (!parse_string(c, key, sizeof key)) return false;
    if (!accept(c, ':')) return syntax_error(c, "':' after a key");
    bool *seen = strcmp(key, "descr") == 0           ? &h->has_descr
                 : strcmp(key, "fortran_order") == 0 ? &h->has_fortran
                 : strcmp(key, "shape") == 0         ? &h->has_shape
                                                     : NULL;
    if (!seen) {
        snprintf(c->why, c->why_size, "the header has the key '%s'; expected only 'descr', 'fortran_order' and 'shape'", key);
        return false;
    }
    if (*seen) {
        snprintf(c->why, c->why_size, "the header gives the key '%s' twice", key);
        return false;
    }
    *seen = true;
    if (seen == &h->has_descr) {
        if (peek(c, '[')) {
            h->descr_is_list = true;
            return skip_bracketed(c);
        }
        return parse_string(c, h->descr, sizeof h->descr);
    }
    if (seen == &h->has_fortran) {
        if (accept_word(c, "True")) h->fortran_order = true;
        else if (accept_word(c, "False")) h->fortran_order = false;
        else return syntax_error(c, "True or False for 'fortran_order'");
        return true;
    }
    return parse_shape(c, h);
}

/* Parses the whole header text; false with the reason in why. */
static bool parse_header(const char *text, size_t n, npy_header *h, char *why, size_t why_size)
{
    memset(h, 0, sizeof *h);
    cursor c = {text, n, 0, why, why_size};
    if (!accept(&c, '{')) return syntax_error(&c, "'{'");
    bool trailing_comma = true; /* nothing to separate before the first entry */
    while (!accept(&c, '}')) {
        if (!trailing_comma) return syntax_error(&c, "',' or '}' after an entry");
        if (!parse_entry(&c, h)) return false;
        trailing_comma = accept(&c, ',');
    }
    skip_space(&c); /* NumPy pads with spaces and ends with '\n' */
    if (c.pos != c.n) return syntax_error(&c, "only spaces and a newline after the closing '}'");
    if (!h->has_descr || !h->has_fortran || !h->has_shape) {
        snprintf(why, why_size, "the header lacks the key%s%s%s; expected 'descr', 'fortran_order' and 'shape'",
                 h->has_descr ? "" : " 'descr'", h->has_fortran ? "" : " 'fortran_order'",
                 h->has_shape ? "" : " 'shape'");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- loading */

/* Reads the preamble and header of an open file of file_size bytes; on success fills h, *dtype and
 * *data_offset. Every refusal is recorded as an error naming path. */
static bool read_header(FILE *f, const char *path, uint64_t file_size, npy_header *h, nb_dtype *dtype,
                        uint64_t *data_offset)
{
    if (file_size == 0)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the file is empty; expected a NumPy .npy file", path), false;
    unsigned char pre[12];
    size_t got = fread(pre, 1, file_size < sizeof pre ? (size_t)file_size : sizeof pre, f);
    if (got < NPY_MAGIC_LEN || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: not a NumPy .npy file: it does not start with the magic "
                        "\\x93NUMPY", path), false;
    if (got < 8)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the file is truncated: it ends after %zu bytes, inside "
                        "the format version", path, got), false;
    unsigned major = pre[6], minor = pre[7];
    if (minor != 0 || major < 1 || major > 3)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: unsupported .npy format version %u.%u; expected 1.0, 2.0 or 3.0",
                        path, major, minor), false;
    size_t prefix = major == 1 ? 10 : 12; /* magic, version, 2- or 4-byte header length */
    if (got < prefix)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the file is truncated: it ends after %zu bytes, inside the "
                        "header length of a version %u.0 file", path, got, major), false;
    uint32_t hlen = major == 1 ? (uint32_t)pre[8] | (uint32_t)pre[9] << 8
                               : (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 |
                                     (uint32_t)pre[11] << 24;
    if ((uint64_t)hlen > file_size - prefix)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the header length %u runs past the end of the file, which holds "
                        "%llu bytes after the %zu-byte preamble", path, hlen,
                        (unsigned long long)(file_size - prefix), prefix), false;
    if (hlen > NPY_MAX_HEADER)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the header length %u is larger than any .npy header "
                        "(expected at most %u bytes)", path, hlen, NPY_MAX_HEADER), false;

    char *text = malloc(hlen + 1u);
    if (!text) return nb__fail(NB_ERR_MEMORY, "nb_load_npy: %s: out of memory reading a %u-byte header", path, hlen), false;
    if (fseeko(f, (off_t)prefix, SEEK_SET) != 0 || fread(text, 1, hlen, f) != hlen) {
        int err = errno;
        free(text);
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: cannot read the %u-byte header: %s", path, hlen,
                        err ? strerror(err) : "the file is shorter than when it was opened"), false;
    }
    text[hlen] = '\0';
    char why[400];
    bool parsed = parse_header(text, hlen, h, why, sizeof why);
    free(text);
    if (!parsed) return nb__fail(NB_ERR_IO, "nb_load_npy: %s: %s", path, why), false;

    if (h->descr_is_list)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the header's descr is a structured dtype (a list of fields); "
                        "expected " NPY_SUPPORTED, path), false;
    const npy_dtype *found = NULL;
    for (size_t i = 0; i < sizeof npy_dtypes / sizeof npy_dtypes[0]; i++)
        if (strcmp(h->descr, npy_dtypes[i].descr) == 0) found = &npy_dtypes[i];
    if (!found) {
        if (h->descr[0] == '>')
            return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the data is big-endian (descr '%s'); nabla reads "
                            "little-endian data only: expected " NPY_SUPPORTED " (convert with "
                            "arr.astype(arr.dtype.newbyteorder('<')))", path, h->descr), false;
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: unsupported dtype '%s'; expected " NPY_SUPPORTED,
                        path, h->descr), false;
    }
    *dtype = found->dtype;
    if (h->fortran_order)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the array is stored in Fortran order (fortran_order: True), "
                        "which is not supported; expected C order (save np.ascontiguousarray(arr))",
                        path), false;
    if (h->ndim > NB_MAX_DIMS)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the header's shape %s has %s%d dims; nabla tensors have at "
                        "most %d", path, h->shape_text, h->ndim >= 64 ? "at least " : "", h->ndim,
                        NB_MAX_DIMS), false;
    if (h->negative_size)
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the header's shape %s has a negative size; expected sizes >= 0",
                        path, h->shape_text), false;
    *data_offset = prefix + hlen;
    return true;
}

nb_tensor *nb_load_npy(const char *path)
{
    if (nb__is_null("nb_load_npy", "path", path)) return NULL;
    if (!host_is_little_endian())
        return nb__fail(NB_ERR_UNSUPPORTED, "nb_load_npy: %s: .npy files are read on little-endian hosts only", path);
    uint64_t file_size = 0;
    int fd = nb__open_regular("nb_load_npy", path, "a NumPy .npy file", &file_size);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return nb__fail(NB_ERR_MEMORY, "nb_load_npy: %s: out of memory opening the file", path);
    }

    npy_header h;
    nb_dtype dtype = NB_FLOAT32;
    uint64_t data_offset = 0;
    if (!read_header(f, path, file_size, &h, &dtype, &data_offset)) {
        fclose(f);
        return NULL;
    }

    /* Sizes: the product of the nonzero sizes must be sane even when another size is 0 (as NumPy
     * requires), and the data the shape needs must be in the file before anything is allocated. */
    size_t elem = nb_dtype_size(dtype);
    uint64_t nonzero_bytes = elem;
    bool empty = false;
    for (int i = 0; i < h.ndim; i++) {
        uint64_t size = (uint64_t)h.shape[i];
        if (size == 0) {
            empty = true;
            continue;
        }
        if (size > NPY_MAX_DATA / nonzero_bytes) {
            fclose(f);
            return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the header's shape %s is absurd: it would need more than "
                            "2^46 bytes of %s data", path, h.shape_text, nb_dtype_name(dtype));
        }
        nonzero_bytes *= size;
    }
    uint64_t need = empty ? 0 : nonzero_bytes;
    uint64_t have = file_size - data_offset;
    if (have < need) {
        fclose(f);
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the file is truncated: the header's shape %s needs %llu bytes "
                        "of %s data but the file holds %llu after the header", path, h.shape_text,
                        (unsigned long long)need, nb_dtype_name(dtype), (unsigned long long)have);
    }
    /* Trailing bytes are refused: NumPy never writes them, so they mean the header's shape or dtype
     * does not describe the data (a file cut and pasted, or a header edited by hand). */
    if (have > need) {
        fclose(f);
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: the header's shape %s needs %llu bytes of %s data but the file "
                        "holds %llu after the header; expected exactly %llu (trailing bytes are not accepted)",
                        path, h.shape_text, (unsigned long long)need, nb_dtype_name(dtype),
                        (unsigned long long)have, (unsigned long long)need);
    }

    nb_tensor *t = nb__alloc("nb_load_npy", h.ndim, h.shape, dtype, NB_DEVICE_CPU);
    if (!t) {
        fclose(f);
        return NULL;
    }
    if (need > 0 && (fseeko(f, (off_t)data_offset, SEEK_SET) != 0 || fread(nb__ptr(t), 1, need, f) != need)) {
        int err = ferror(f) ? errno : 0;
        fclose(f);
        nb_release(t);
        return nb__fail(NB_ERR_IO, "nb_load_npy: %s: cannot read %llu bytes of data: %s", path,
                        (unsigned long long)need, err ? strerror(err) : "the file is shorter than when it was opened");
    }
    fclose(f);
    if (dtype == NB_BOOL) { /* any nonzero byte is true, as in NumPy; nabla's bools are 0 or 1 */
        unsigned char *b = (unsigned char *)nb__ptr(t); /* (numel,) */
        for (uint64_t i = 0; i < need; i++) b[i] = b[i] != 0;
    }
    return t;
}

/* ---------------------------------------------------------------- saving */

/* The header exactly as NumPy 1.24 writes it for version 1.0: the dict with sorted keys, spare
 * spaces for growing the first dim, then spaces and '\n' so the data starts at a multiple of 64.
 * Returns the total length of preamble and header (a multiple of 64), or 0 if buf is too small. */
static size_t format_header(const nb_tensor *t, char *buf, size_t size)
{
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr_of(t->dtype));
    for (int i = 0; i < t->ndim; i++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    len += snprintf(dict + len, sizeof dict - (size_t)len, "%s), }", t->ndim == 1 ? "," : "");
    if (t->ndim > 0) {
        char first[32];
        int digits = snprintf(first, sizeof first, "%lld", (long long)t->shape[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++) dict[len++] = ' ';
    }
    size_t hlen = (size_t)len + 1; /* with the final '\n' */
    size_t pad = NPY_ALIGN - (10 + hlen) % NPY_ALIGN; /* 1 to 64, as NumPy computes it */
    size_t total = 10 + hlen + pad;
    if (total > size || hlen + pad > 65535) return 0;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1; /* version 1.0 */
    buf[7] = 0;
    buf[8] = (char)((hlen + pad) & 0xff);
    buf[9] = (char)((hlen + pad) >> 8);
    memcpy(buf + 10, dict, (size_t)len);
    memset(buf + 10 + len, ' ', pad);
    buf[total - 1] = '\n';
    return total;
}

nb_status nb_save_npy(const nb_tensor *t, const char *path)
{
    if (nb__is_null("nb_save_npy", "tensor", t) || nb__is_null("nb_save_npy", "path", path))
        return NB_ERR_NULL;
    if (!host_is_little_endian())
        return nb__fail_status(NB_ERR_UNSUPPORTED, "nb_save_npy: %s: .npy files are written on little-endian hosts only",
                               path);
    if (t->dtype == NB_BFLOAT16) /* NumPy has no bfloat16 */
        return nb__fail_status(NB_ERR_DTYPE,
                               "nb_save_npy: %s: bfloat16 has no .npy dtype (NumPy has none); convert first "
                               "(nb_to_dtype(t, NB_FLOAT32) keeps every value exactly)",
                               path);
    if (!descr_of(t->dtype))
        return nb__fail_status(NB_ERR_DTYPE, "nb_save_npy: %s: unknown dtype %d", path, (int)t->dtype);
    char header[1024];
    size_t header_len = format_header(t, header, sizeof header);
    if (header_len == 0)
        return nb__fail_status(NB_ERR_IO, "nb_save_npy: %s: the header does not fit a version 1.0 file", path);

    nb_no_grad_begin(); /* copies for writing need no history */
    nb_tensor *host = nb_to(t, NB_DEVICE_CPU);
    nb_tensor *c = host ? nb_contiguous(host) : NULL; /* C order, no gaps */
    nb_no_grad_end();
    nb_release(host);
    if (!c) return nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_IO;
    size_t data_len = (size_t)nb__numel_of(c->ndim, c->shape) * nb_dtype_size(c->dtype);
    nb_atomic_file af;
    nb_status s = nb__atomic_open(&af, "nb_save_npy", path);
    if (s == NB_OK) {
        fwrite(header, 1, header_len, af.f);
        if (data_len) fwrite(nb__ptr(c), 1, data_len, af.f);
        s = nb__atomic_close(&af, true);
    }
    nb_release(c);
    return s;
}
