/* text_data.c — reading, encoding and sampling the GPT sample's text (text_data.h). */
#include "text_data.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- reading */

typedef struct buffer {
    unsigned char *bytes;
    size_t len, cap;
} buffer;

static bool append_file(const char *prog, const char *path, buffer *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", prog, path, strerror(errno));
        return false;
    }
    bool ok = true;
    for (;;) {
        if (b->cap - b->len < 65536) {
            size_t cap = b->cap ? b->cap * 2 : 1 << 20;
            unsigned char *grown = realloc(b->bytes, cap);
            if (!grown) {
                fprintf(stderr, "%s: out of memory reading %s\n", prog, path);
                ok = false;
                break;
            }
            b->bytes = grown;
            b->cap = cap;
        }
        size_t got = fread(b->bytes + b->len, 1, b->cap - b->len, f);
        b->len += got;
        if (got == 0) break;
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "%s: cannot read %s: %s\n", prog, path, strerror(errno));
        ok = false;
    }
    fclose(f);
    return ok;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every regular file of dir without the .dat and .u8 extensions, in sorted (byte) order. */
static bool append_folder(const char *prog, const char *dir, buffer *b)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: cannot read the folder %s: %s\n", prog, dir, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (struct dirent *e; ok && (e = readdir(d));) {
        if (e->d_name[0] == '.' || ends_with(e->d_name, ".dat") || ends_with(e->d_name, ".u8")) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) ok = false;
            else names = grown;
        }
        if (ok && !(names[n++] = strdup(e->d_name))) ok = false;
    }
    closedir(d);
    if (!ok) fprintf(stderr, "%s: out of memory listing %s\n", prog, dir);
    if (ok) qsort(names, n, sizeof *names, by_name);
    size_t files = 0;
    for (size_t i = 0; i < n && ok; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path) {
            ok = false;
            break;
        }
        snprintf(path, len, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            ok = append_file(prog, path, b);
            files++;
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (ok && files == 0) {
        fprintf(stderr, "%s: %s holds no text files\n", prog, dir);
        ok = false;
    }
    return ok;
}

/* ---------------------------------------------------------------- UTF-8 */

/* The code point at s[*i] (of n bytes), advancing *i; a byte that does not start a valid
 * sequence is the character of its own value. */
static uint32_t next_char(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    int extra = c >= 0xF0 && c < 0xF5 ? 3 : c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : 0;
    if (extra == 0 || n - *i <= (size_t)extra) { /* ASCII, a stray byte, or a sequence cut short */
        (*i)++;
        return c;
    }
    uint32_t cp = c & (0x3F >> extra);
    for (int k = 1; k <= extra; k++) {
        unsigned char cont = s[*i + (size_t)k];
        if ((cont & 0xC0) != 0x80) {
            (*i)++;
            return c;
        }
        cp = cp << 6 | (cont & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) { /* overlong, too large */
        (*i)++;
        return c;
    }
    *i += (size_t)extra + 1;
    return cp;
}

void text_put(FILE *f, const text_data *d, int64_t token)
{
    uint32_t c = d->vocab[token];
    if (c < 0x80) fputc((int)c, f);
    else if (c < 0x800) fprintf(f, "%c%c", 0xC0 | c >> 6, 0x80 | (c & 0x3F));
    else if (c < 0x10000) fprintf(f, "%c%c%c", 0xE0 | c >> 12, 0x80 | (c >> 6 & 0x3F), 0x80 | (c & 0x3F));
    else fprintf(f, "%c%c%c%c", 0xF0 | c >> 18, 0x80 | (c >> 12 & 0x3F), 0x80 | (c >> 6 & 0x3F), 0x80 | (c & 0x3F));
}

static int by_code(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int64_t text_token_of(const text_data *d, uint32_t c)
{
    const uint32_t *at = bsearch(&c, d->vocab, (size_t)d->nvocab, sizeof c, by_code);
    return at ? at - d->vocab : -1;
}

bool text_load(const char *prog, const char *path, text_data *d)
{
    *d = (text_data){0};
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: cannot read %s: %s%s\n", prog, path, strerror(errno),
                strcmp(path, TEXT_DEFAULT_PATH) == 0 ? " (install Debian's package fortunes, or give --data FILE)"
                                                     : "");
        return false;
    }
    buffer b = {0};
    bool ok = S_ISDIR(st.st_mode) ? append_folder(prog, path, &b) : append_file(prog, path, &b);
    uint32_t *chars = ok ? malloc((b.len + 1) * sizeof *chars) : NULL; /* (n,) code points */
    if (ok && !chars) fprintf(stderr, "%s: out of memory\n", prog);
    size_t n = 0;
    for (size_t i = 0; chars && i < b.len;) chars[n++] = next_char(b.bytes, b.len, &i);
    free(b.bytes);
    if (!chars) return false;
    if (n < 2) {
        fprintf(stderr, "%s: %s holds %zu characters; the sample needs text to learn from\n", prog, path, n);
        free(chars);
        return false;
    }
    /* the vocabulary: the distinct characters, sorted */
    uint32_t *sorted = malloc(n * sizeof *sorted);
    d->tokens = malloc(n * sizeof *d->tokens);
    if (!sorted || !d->tokens) {
        fprintf(stderr, "%s: out of memory\n", prog);
        free(sorted);
        free(chars);
        text_free(d);
        return false;
    }
    memcpy(sorted, chars, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_code);
    size_t v = 0;
    for (size_t i = 0; i < n; i++)
        if (v == 0 || sorted[i] != sorted[v - 1]) sorted[v++] = sorted[i];
    d->vocab = sorted;
    d->nvocab = (int64_t)v;
    for (size_t i = 0; i < n; i++) d->tokens[i] = text_token_of(d, chars[i]);
    free(chars);
    d->n = (int64_t)n;
    d->n_train = d->n * 9 / 10;
    return true;
}

void text_free(text_data *d)
{
    free(d->vocab);
    free(d->tokens);
    *d = (text_data){0};
}

int64_t text_encode(const char *prog, const text_data *d, const char *s, int64_t *out, int64_t cap)
{
    size_t len = strlen(s);
    int64_t n = 0;
    for (size_t i = 0; i < len && n < cap;) {
        uint32_t c = next_char((const unsigned char *)s, len, &i);
        int64_t t = text_token_of(d, c);
        if (t < 0) {
            fprintf(stderr, "%s: the prompt's character U+%04X is not in the text's vocabulary\n", prog, (unsigned)c);
            return -1;
        }
        out[n++] = t;
    }
    return n;
}

/* ---------------------------------------------------------------- batches */

int64_t text_part_length(const text_data *d, bool val) { return val ? d->n - d->n_train : d->n_train; }

/* The windows of context + 1 tokens at part offsets starts[0..count) of the part from token base:
 * *x the first context tokens of each, *y the last context, int64 (count, context) on device. */
static bool windows_at(const text_data *d, int64_t base, const int64_t *starts, int64_t count, int64_t context,
                       nb_device device, nb_tensor **x, nb_tensor **y)
{
    *x = *y = NULL;
    int64_t *xs = malloc((size_t)(count * context) * sizeof *xs); /* (count, context) */
    int64_t *ys = malloc((size_t)(count * context) * sizeof *ys); /* (count, context) */
    bool ok = xs && ys;
    for (int64_t b = 0; ok && b < count; b++)
        for (int64_t t = 0; t < context; t++) {
            xs[b * context + t] = d->tokens[base + starts[b] + t];
            ys[b * context + t] = d->tokens[base + starts[b] + t + 1];
        }
    nb_tensor *hx = ok ? nb_from_array(xs, NB_SHAPE(count, context), NB_OPTS(NB_INT64)) : NULL;
    nb_tensor *hy = ok ? nb_from_array(ys, NB_SHAPE(count, context), NB_OPTS(NB_INT64)) : NULL;
    free(xs);
    free(ys);
    if (hx && hy) {
        *x = nb_to(hx, device);
        *y = nb_to(hy, device);
    }
    nb_release(hx);
    nb_release(hy);
    if (*x && *y) return true;
    nb_release(*x);
    nb_release(*y);
    *x = *y = NULL;
    return false;
}

bool text_batch(const text_data *d, bool val, int64_t batch, int64_t context, nb_device device, nb_tensor **x,
                nb_tensor **y)
{
    *x = *y = NULL;
    const int64_t base = val ? d->n_train : 0, len = text_part_length(d, val);
    int64_t *starts = malloc((size_t)batch * sizeof *starts); /* (batch,) */
    nb_tensor *drawn = nb_randint(0, len - context, NB_SHAPE(batch), NB_OPTS(NB_INT64));
    bool ok = starts && drawn && nb_copy_to_array(drawn, starts, (size_t)batch * sizeof *starts) == NB_OK;
    nb_release(drawn);
    ok = ok && windows_at(d, base, starts, batch, context, device, x, y);
    free(starts);
    return ok;
}

bool text_windows(const text_data *d, bool val, int64_t first, int64_t count, int64_t context, nb_device device,
                  nb_tensor **x, nb_tensor **y)
{
    *x = *y = NULL;
    int64_t *starts = malloc((size_t)(count > 0 ? count : 1) * sizeof *starts); /* (count,) */
    if (!starts) return false;
    for (int64_t i = 0; i < count; i++) starts[i] = (first + i) * context;
    bool ok = windows_at(d, val ? d->n_train : 0, starts, count, context, device, x, y);
    free(starts);
    return ok;
}
