/* safetensors_load.c — nb_load_safetensors: reads and validates a safetensors file into an
 * nb_tensor_dict, by reading it or by mapping it.
 *
 * Nothing in the file is trusted: the header length is bounded by ST_MAX_HEADER and by the file's
 * size before anything is read; the header must be UTF-8 JSON nested at most ST_MAX_DEPTH deep
 * (checked before cJSON parses it); every tensor's dtype, shape (nb__checked_numel) and offsets
 * are checked, and the offsets must tile the data exactly: in order from 0, no overlap, no gap,
 * ending at the end of the file. Every refusal is an NB_ERR_IO naming the file, the tensor and
 * what is wrong. */
#include "device.h"
#include "error.h"
#include "file_open.h"
#include "safetensors.h"
#include "tensor.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define OP "nb_load_safetensors"

/* One tensor as the header describes it. */
typedef struct st_entry {
    const char *name; /* cJSON's copy */
    nb_dtype dtype;
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    uint64_t begin, end; /* bytes of the data section */
} st_entry;

/* ---------------------------------------------------------------- header checks */

/* Deepest nesting of objects and arrays in the JSON text (strings skipped), counted only up to
 * limit + 1, so that no parser recursion ever sees a deeper document. */
static int json_depth(const char *s, size_t n, int limit)
{
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > deepest) deepest = depth;
            if (deepest > limit) return deepest;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return deepest;
}

/* A JSON number that is a whole number in [0, 2^53): exactly representable, and far past any
 * size or offset a file can hold. */
static bool json_count(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item)) return false;
    double v = item->valuedouble;
    if (!(v >= 0 && v < 9007199254740992.0) || v != (double)(uint64_t)v) return false;
    *out = (uint64_t)v;
    return true;
}

/* Fills e from the header's object for one tensor; false and why otherwise. */
static bool parse_entry(const cJSON *obj, st_entry *e, char *why, size_t why_size)
{
    if (!cJSON_IsObject(obj)) {
        snprintf(why, why_size, "its value is not an object {\"dtype\", \"shape\", \"data_offsets\"}");
        return false;
    }
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(obj, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(obj, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(obj, "data_offsets");
    if (!dtype || !shape || !offsets) {
        snprintf(why, why_size, "it lacks%s%s%s", dtype ? "" : " \"dtype\"", shape ? "" : " \"shape\"",
                 offsets ? "" : " \"data_offsets\"");
        return false;
    }
    if (!cJSON_IsString(dtype)) {
        snprintf(why, why_size, "its \"dtype\" is not a string");
        return false;
    }
    if (!nb__st_dtype_parse(dtype->valuestring, &e->dtype, why, why_size)) return false;
    if (!cJSON_IsArray(shape)) {
        snprintf(why, why_size, "its \"shape\" is not an array of sizes");
        return false;
    }
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > NB_MAX_DIMS) {
        snprintf(why, why_size, "its shape has %d dims; nabla tensors have at most %d", ndim, NB_MAX_DIMS);
        return false;
    }
    e->ndim = 0;
    for (const cJSON *s = shape->child; s; s = s->next) {
        uint64_t size;
        if (!json_count(s, &size)) {
            snprintf(why, why_size, "size %d of its shape is not a whole number >= 0", e->ndim);
            return false;
        }
        e->shape[e->ndim++] = (int64_t)size;
    }
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 || !json_count(offsets->child, &e->begin) ||
        !json_count(offsets->child->next, &e->end)) {
        snprintf(why, why_size, "its \"data_offsets\" is not a pair [begin, end] of whole numbers >= 0");
        return false;
    }
    return true;
}

/* Reads n bytes at offset (pread until done); false with errno's reason. */
static bool read_at(int fd, void *dst, size_t n, uint64_t offset, const char **why)
{
    char *p = dst;
    while (n > 0) {
        ssize_t got = pread(fd, p, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n, (off_t)offset);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            *why = got < 0 ? strerror(errno) : "the file is shorter than when it was opened";
            return false;
        }
        p += got;
        n -= (size_t)got;
        offset += (uint64_t)got;
    }
    return true;
}

static int by_begin(const void *a, const void *b)
{
    const st_entry *x = *(st_entry *const *)a, *y = *(st_entry *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->end < y->end ? -1 : x->end > y->end;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(st_entry *const *)a)->name, (*(st_entry *const *)b)->name);
}

/* Every check of the entries against each other and the data section (data_size bytes). */
static bool check_entries(const char *path, st_entry *e, int n, uint64_t data_size)
{
    char shape[200];
    for (int i = 0; i < n; i++) {
        int64_t numel;
        if (!nb__checked_numel(OP, e[i].ndim, e[i].shape, &numel)) {
            char why[300];
            snprintf(why, sizeof why, "%s", nb_last_error());
            nb_clear_error();
            return nb__fail(NB_ERR_IO, OP ": %s: tensor '%s': %s", path, e[i].name, why), false;
        }
        if (e[i].end < e[i].begin)
            return nb__fail(NB_ERR_IO, OP ": %s: tensor '%s': data_offsets [%llu, %llu] end before they begin", path,
                            e[i].name, (unsigned long long)e[i].begin, (unsigned long long)e[i].end), false;
        if (e[i].end > data_size)
            return nb__fail(NB_ERR_IO, OP ": %s: tensor '%s': data_offsets [%llu, %llu] run past the end of the file, "
                            "which holds %llu bytes of data", path, e[i].name, (unsigned long long)e[i].begin,
                            (unsigned long long)e[i].end, (unsigned long long)data_size), false;
        uint64_t bytes = (uint64_t)numel * nb_dtype_size(e[i].dtype); /* numel < 2^59: no overflow */
        if (e[i].end - e[i].begin != bytes)
            return nb__fail(NB_ERR_IO, OP ": %s: tensor '%s': dtype %s and shape %s need %llu bytes but data_offsets "
                            "[%llu, %llu] hold %llu", path, e[i].name, nb__st_dtype_name(e[i].dtype),
                            nb__shape_string(e[i].ndim, e[i].shape, shape, sizeof shape), (unsigned long long)bytes,
                            (unsigned long long)e[i].begin, (unsigned long long)e[i].end,
                            (unsigned long long)(e[i].end - e[i].begin)), false;
    }
    st_entry **order = malloc((n > 0 ? (size_t)n : 1) * sizeof *order); /* (n,) */
    if (!order) return nb__fail(NB_ERR_MEMORY, OP ": %s: out of memory checking %d tensors", path, n), false;
    bool ok = true;
    for (int i = 0; i < n; i++) order[i] = &e[i];
    qsort(order, (size_t)n, sizeof *order, by_name);
    for (int i = 1; i < n && ok; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            ok = nb__fail(NB_ERR_IO, OP ": %s: tensor '%s' is named twice in the header", path, order[i]->name);
    qsort(order, (size_t)n, sizeof *order, by_begin);
    uint64_t at = 0; /* where the next tensor must begin */
    for (int i = 0; i < n && ok; i++) {
        const st_entry *t = order[i];
        if (t->begin < at)
            ok = nb__fail(NB_ERR_IO, OP ": %s: tensor '%s': data_offsets [%llu, %llu] overlap tensor '%s', which ends "
                          "at %llu", path, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                          order[i - 1]->name, (unsigned long long)at);
        else if (t->begin > at)
            ok = nb__fail(NB_ERR_IO, OP ": %s: tensor '%s': data_offsets [%llu, %llu] leave a gap of %llu bytes after "
                          "%s", path, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                          (unsigned long long)(t->begin - at), i ? order[i - 1]->name : "the header");
        at = t->end;
    }
    if (ok && at != data_size)
        ok = nb__fail(NB_ERR_IO, OP ": %s: the tensors' data ends at byte %llu of the data, but the file holds %llu "
                      "bytes of data (trailing bytes are not accepted)", path, (unsigned long long)at,
                      (unsigned long long)data_size);
    free(order);
    return ok;
}

/* ---------------------------------------------------------------- mapping */

/* A mapped file shared by the tensors made over it: unmapped with the last of them. */
typedef struct st_mapping {
    atomic_int refs;
    void *base;
    size_t len;
} st_mapping;

static void mapping_release(void *data, void *ctx)
{
    (void)data;
    st_mapping *m = ctx;
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1) return;
    munmap(m->base, m->len);
    free(m);
}

/* ---------------------------------------------------------------- loading */

/* The tensor of entry e: a view of the mapping m when there is one and e's data is aligned, a
 * copy read from fd otherwise. Bools are made 0 or 1 (any nonzero byte is true). */
static nb_tensor *load_entry(const char *path, int fd, uint64_t data_start, st_mapping *m, const st_entry *e)
{
    size_t elem = nb_dtype_size(e->dtype), bytes = (size_t)(e->end - e->begin);
    nb_tensor *t = NULL;
    if (m) {
        char *src = (char *)m->base + data_start + e->begin;
        if ((uintptr_t)src % elem == 0) {
            atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
            t = nb__from_blob(OP, src, e->ndim, e->shape, NULL, e->dtype, NB_DEVICE_CPU, mapping_release, m);
            if (!t) {
                mapping_release(NULL, m);
                return NULL;
            }
        } else { /* a file whose data is not aligned: this tensor is copied from the mapping */
            t = nb__alloc(OP, e->ndim, e->shape, e->dtype, NB_DEVICE_CPU);
            if (t && bytes) memcpy(nb__ptr(t), src, bytes);
        }
    } else {
        t = nb__alloc(OP, e->ndim, e->shape, e->dtype, NB_DEVICE_CPU);
        const char *why = NULL;
        if (t && bytes && !read_at(fd, nb__ptr(t), bytes, data_start + e->begin, &why)) {
            nb_release(t);
            return nb__fail(NB_ERR_IO, OP ": %s: tensor '%s': cannot read %zu bytes: %s", path, e->name, bytes, why);
        }
    }
    if (t && e->dtype == NB_BOOL) {
        unsigned char *b = (unsigned char *)nb__ptr(t); /* (numel,) */
        for (size_t i = 0; i < bytes; i++)
            if (b[i] > 1) b[i] = 1; /* written only where needed: a mapped page stays shared */
    }
    return t;
}

/* Parses the header text (n bytes) and fills the dict's entries and metadata from the file. */
static nb_tensor_dict *load_from_header(const char *path, int fd, uint64_t file_size, const char *text, size_t n,
                                        const nb_safetensors_options *o)
{
    if (!nb__utf8_valid(text, n))
        return nb__fail(NB_ERR_IO, OP ": %s: the header is not valid UTF-8 text (or holds a NUL byte)", path);
    int depth = json_depth(text, n, ST_MAX_DEPTH);
    if (depth > ST_MAX_DEPTH)
        return nb__fail(NB_ERR_IO, OP ": %s: the header's JSON nests more than %d levels deep; a safetensors header "
                        "nests %d (header, tensor, shape)", path, ST_MAX_DEPTH, ST_MAX_DEPTH);
    if (strstr(text, "\\u0000"))
        return nb__fail(NB_ERR_IO, OP ": %s: the header holds an escaped NUL character (\\u0000)", path);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, false);
    if (!root) {
        size_t at = end && end >= text && end <= text + n ? (size_t)(end - text) : 0;
        return nb__fail(NB_ERR_IO, OP ": %s: the header is not valid JSON (at byte %zu of %zu)", path, at, n);
    }
    for (const char *p = end; p < text + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return nb__fail(NB_ERR_IO, OP ": %s: the header has text after its JSON object (at byte %zu); only "
                            "spaces may pad it", path, (size_t)(p - text));
        }
    nb_tensor_dict *d = NULL;
    st_entry *e = NULL;
    st_mapping *m = NULL;
    char why[300];
    if (!cJSON_IsObject(root)) {
        nb__fail(NB_ERR_IO, OP ": %s: the header is not a JSON object of tensors", path);
        goto fail;
    }
    const cJSON *meta = NULL;
    int n_tensors = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            if (meta) {
                nb__fail(NB_ERR_IO, OP ": %s: \"__metadata__\" is given twice", path);
                goto fail;
            }
            meta = c;
        } else {
            n_tensors++;
        }
    }
    int n_meta = 0;
    if (meta) {
        if (!cJSON_IsObject(meta)) {
            nb__fail(NB_ERR_IO, OP ": %s: \"__metadata__\" is not an object of strings", path);
            goto fail;
        }
        for (const cJSON *c = meta->child; c; c = c->next, n_meta++)
            if (!cJSON_IsString(c)) {
                nb__fail(NB_ERR_IO, OP ": %s: \"__metadata__\" entry '%s' is not a string", path, c->string);
                goto fail;
            }
    }
    e = calloc(n_tensors > 0 ? (size_t)n_tensors : 1, sizeof *e); /* (n_tensors,) */
    if (!e) {
        nb__fail(NB_ERR_MEMORY, OP ": %s: out of memory for %d tensors", path, n_tensors);
        goto fail;
    }
    int k = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (c == meta) continue;
        e[k].name = c->string;
        if (c->string[0] == '\0') {
            nb__fail(NB_ERR_IO, OP ": %s: a tensor has an empty name", path);
            goto fail;
        }
        if (!parse_entry(c, &e[k], why, sizeof why)) {
            nb__fail(NB_ERR_IO, OP ": %s: tensor '%s': %s", path, c->string, why);
            goto fail;
        }
        k++;
    }
    uint64_t data_start = 8 + (uint64_t)n, data_size = file_size - data_start;
    if (!check_entries(path, e, n_tensors, data_size)) goto fail;

    d = nb__tensor_dict_new(OP, n_tensors, n_meta);
    if (!d) goto fail;
    k = 0;
    for (const cJSON *c = meta ? meta->child : NULL; c; c = c->next, k++)
        if (!nb__tensor_dict_set_meta(OP, d, k, c->string, c->valuestring)) goto fail;

    const bool map = (o->mmap || o->device.type != NB_CPU) && data_size > 0;
    if (map) {
        m = malloc(sizeof *m);
        void *base = m ? mmap(NULL, (size_t)file_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) : MAP_FAILED;
        if (base == MAP_FAILED) {
            int err = errno;
            free(m);
            m = NULL;
            nb__fail(NB_ERR_IO, OP ": %s: cannot map the file's %llu bytes: %s", path, (unsigned long long)file_size,
                     err ? strerror(err) : "out of memory");
            goto fail;
        }
        m->base = base;
        m->len = (size_t)file_size;
        atomic_init(&m->refs, 1); /* this loader's, until every tensor holds its own */
    }
    for (int i = 0; i < n_tensors; i++) {
        nb_tensor *t = load_entry(path, fd, data_start, m, &e[i]);
        if (t && o->device.type != NB_CPU) {
            nb_tensor *moved = nb_to(t, o->device);
            nb_release(t);
            t = moved;
        }
        if (!t) goto fail;
        if (!nb__tensor_dict_set(OP, d, i, e[i].name, t)) goto fail;
    }
    nb__tensor_dict_finish(d);
    if (m) mapping_release(NULL, m);
    free(e);
    cJSON_Delete(root);
    return d;

fail:
    nb_tensor_dict_free(d);
    if (m) mapping_release(NULL, m);
    free(e);
    cJSON_Delete(root);
    return NULL;
}

nb_tensor_dict *nb_load_safetensors(const char *path, const nb_safetensors_options *opts)
{
    if (nb__is_null(OP, "path", path)) return NULL;
    const nb_safetensors_options o = opts ? *opts : (nb_safetensors_options){.device = NB_DEVICE_CPU};
    if (!nb__device_exists(o.device, OP ": %s: cannot load onto", path)) return NULL;
    uint64_t file_size = 0;
    int fd = nb__open_regular(OP, path, "a safetensors file", &file_size);
    if (fd < 0) return NULL;
    nb_tensor_dict *d = NULL;
    unsigned char len8[8];
    const char *why = NULL;
    char *text = NULL;
    if (file_size < 8) {
        nb__fail(NB_ERR_IO, OP ": %s: the file holds %llu bytes, too few for the 8-byte header length", path,
                 (unsigned long long)file_size);
        goto done;
    }
    if (!read_at(fd, len8, 8, 0, &why)) {
        nb__fail(NB_ERR_IO, OP ": %s: cannot read the header length: %s", path, why);
        goto done;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | len8[i];
    if (hlen > ST_MAX_HEADER) {
        nb__fail(NB_ERR_IO, OP ": %s: the header length %llu is larger than the limit of %llu bytes", path,
                 (unsigned long long)hlen, (unsigned long long)ST_MAX_HEADER);
        goto done;
    }
    if (hlen > file_size - 8) {
        nb__fail(NB_ERR_IO, OP ": %s: the header length %llu runs past the end of the file, which holds %llu bytes "
                 "after the 8-byte length", path, (unsigned long long)hlen, (unsigned long long)(file_size - 8));
        goto done;
    }
    if (hlen < 2) {
        nb__fail(NB_ERR_IO, OP ": %s: the header length is %llu; a header is a JSON object of at least 2 bytes", path,
                 (unsigned long long)hlen);
        goto done;
    }
    text = malloc((size_t)hlen + 1);
    if (!text) {
        nb__fail(NB_ERR_MEMORY, OP ": %s: out of memory reading a %llu-byte header", path, (unsigned long long)hlen);
        goto done;
    }
    if (!read_at(fd, text, (size_t)hlen, 8, &why)) {
        nb__fail(NB_ERR_IO, OP ": %s: cannot read the %llu-byte header: %s", path, (unsigned long long)hlen, why);
        goto done;
    }
    text[hlen] = '\0';
    nb__tracking_pause(); /* the dict owns its tensors, not the open scope */
    d = load_from_header(path, fd, file_size, text, (size_t)hlen, &o);
    nb__tracking_resume();
done:
    free(text);
    close(fd);
    return d;
}
