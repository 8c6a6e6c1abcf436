/* safetensors_save.c — nb_save_safetensors: named tensors (and string metadata) into one
 * safetensors file, written atomically.
 *
 * The header lists the tensors in the caller's order; their data is laid out largest element
 * first (stable within a size), as the Python writer does, so that every tensor's data is aligned
 * to its element once the header is padded with spaces to a multiple of 8 bytes, and a mapped
 * load can use it in place. Tensors on another device are copied to the host one at a time. */
#include "atomic_file.h"
#include "error.h"
#include "safetensors.h"
#include "tensor.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OP "nb_save_safetensors"

static int by_string(const void *a, const void *b, void *strings)
{
    const char *const *s = strings;
    return strcmp(s[*(const int *)a], s[*(const int *)b]);
}

/* The first name that appears twice among n strings, or NULL. */
static const char *first_duplicate(int n, const char *const *s, bool *oom)
{
    *oom = false;
    if (n < 2) return NULL;
    int *idx = malloc((size_t)n * sizeof *idx); /* (n,) */
    if (!idx) return *oom = true, NULL;
    for (int i = 0; i < n; i++) idx[i] = i;
    qsort_r(idx, (size_t)n, sizeof *idx, by_string, (void *)s);
    const char *dup = NULL;
    for (int i = 1; i < n && !dup; i++)
        if (strcmp(s[idx[i - 1]], s[idx[i]]) == 0) dup = s[idx[i]];
    free(idx);
    return dup;
}

static nb_status check_args(const char *path, int n, const char *const *names, nb_tensor *const *tensors,
                            const nb_str_map *meta)
{
    if (n < 0) return nb__fail_status(NB_ERR_ARGUMENT, OP ": %s: n is %d; expected n >= 0", path, n);
    if (n > 0 && (nb__is_null(OP, "names", names) || nb__is_null(OP, "tensors", tensors))) return NB_ERR_NULL;
    for (int i = 0; i < n; i++) {
        if (!names[i]) return nb__fail_status(NB_ERR_NULL, OP ": %s: names[%d] is NULL", path, i);
        if (!tensors[i]) return nb__fail_status(NB_ERR_NULL, OP ": %s: tensors[%d] ('%s') is NULL", path, i, names[i]);
        if (!names[i][0]) return nb__fail_status(NB_ERR_ARGUMENT, OP ": %s: names[%d] is empty", path, i);
        if (!nb__utf8_valid(names[i], strlen(names[i])))
            return nb__fail_status(NB_ERR_ARGUMENT, OP ": %s: names[%d] is not valid UTF-8", path, i);
        if (strcmp(names[i], "__metadata__") == 0)
            return nb__fail_status(NB_ERR_ARGUMENT, OP ": %s: names[%d] is \"__metadata__\", which the format keeps "
                                   "for the metadata", path, i);
        if (!nb__st_dtype_name(tensors[i]->dtype))
            return nb__fail_status(NB_ERR_DTYPE, OP ": %s: tensor '%s' has dtype %s; the format takes " ST_SUPPORTED,
                                   path, names[i], nb_dtype_name(tensors[i]->dtype));
    }
    bool oom;
    const char *dup = first_duplicate(n, names, &oom);
    if (oom) return nb__fail_status(NB_ERR_MEMORY, OP ": %s: out of memory checking %d names", path, n);
    if (dup) return nb__fail_status(NB_ERR_ARGUMENT, OP ": %s: the name '%s' is given twice", path, dup);
    if (!meta) return NB_OK;
    if (meta->n < 0) return nb__fail_status(NB_ERR_ARGUMENT, OP ": %s: metadata n is %d; expected >= 0", path, meta->n);
    if (meta->n > 0 && (!meta->keys || !meta->values))
        return nb__fail_status(NB_ERR_NULL, OP ": %s: metadata keys or values is NULL", path);
    for (int i = 0; i < meta->n; i++) {
        if (!meta->keys[i] || !meta->values[i])
            return nb__fail_status(NB_ERR_NULL, OP ": %s: metadata entry %d has a NULL key or value", path, i);
        if (!nb__utf8_valid(meta->keys[i], strlen(meta->keys[i])) ||
            !nb__utf8_valid(meta->values[i], strlen(meta->values[i])))
            return nb__fail_status(NB_ERR_ARGUMENT, OP ": %s: metadata entry %d is not valid UTF-8", path, i);
    }
    dup = first_duplicate(meta->n, meta->keys, &oom);
    if (oom) return nb__fail_status(NB_ERR_MEMORY, OP ": %s: out of memory checking the metadata", path);
    if (dup) return nb__fail_status(NB_ERR_ARGUMENT, OP ": %s: the metadata key '%s' is given twice", path, dup);
    return NB_OK;
}

/* A JSON integer as text (cJSON would print large values as doubles). */
static cJSON *json_int(uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(buf);
}

/* The header, unpadded (malloc'ed), with order the data's layout (n,) and begin its offsets. */
static char *make_header(int n, const char *const *names, nb_tensor *const *tensors, const nb_str_map *meta,
                         const uint64_t *begin)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    if (ok && meta && meta->n > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        ok = m != NULL;
        for (int i = 0; ok && i < meta->n; i++) ok = cJSON_AddStringToObject(m, meta->keys[i], meta->values[i]) != NULL;
    }
    for (int i = 0; ok && i < n; i++) {
        const nb_tensor *t = tensors[i];
        cJSON *e = cJSON_AddObjectToObject(root, names[i]);
        cJSON *dtype = e ? cJSON_AddStringToObject(e, "dtype", nb__st_dtype_name(t->dtype)) : NULL;
        cJSON *shape = dtype ? cJSON_AddArrayToObject(e, "shape") : NULL;
        cJSON *off = shape ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
        ok = off != NULL;
        for (int k = 0; ok && k < t->ndim; k++) ok = cJSON_AddItemToArray(shape, json_int((uint64_t)t->shape[k]));
        uint64_t bytes = (uint64_t)nb__numel_of(t->ndim, t->shape) * nb_dtype_size(t->dtype);
        ok = ok && cJSON_AddItemToArray(off, json_int(begin[i])) && cJSON_AddItemToArray(off, json_int(begin[i] + bytes));
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

static int by_elem_size(const void *a, const void *b, void *tensors)
{
    nb_tensor *const *t = tensors;
    int x = *(const int *)a, y = *(const int *)b;
    size_t ex = nb_dtype_size(t[x]->dtype), ey = nb_dtype_size(t[y]->dtype);
    return ex != ey ? (ex > ey ? -1 : 1) : (x > y) - (x < y); /* larger first, then the given order */
}

/* Writes t's bytes in C order to f: from the host, contiguous (a copy only when needed). False
 * when the write failed (the stream's error flag says so) or, with *copy_failed, the copy did. */
static bool write_tensor(FILE *f, const nb_tensor *t, bool *copy_failed)
{
    nb_tensor *host = nb_to(t, NB_DEVICE_CPU);
    nb_tensor *c = host ? nb_contiguous(host) : NULL;
    nb_release(host);
    if (!c) return !(*copy_failed = true);
    size_t bytes = (size_t)nb__numel_of(c->ndim, c->shape) * nb_dtype_size(c->dtype);
    bool ok = bytes == 0 || fwrite(nb__ptr(c), 1, bytes, f) == bytes;
    nb_release(c);
    return ok;
}

nb_status nb_save_safetensors(const char *path, int n, const char *const *names, nb_tensor *const *tensors,
                              const nb_str_map *metadata)
{
    if (nb__is_null(OP, "path", path)) return NB_ERR_NULL;
    nb_status st = check_args(path, n, names, tensors, metadata);
    if (st != NB_OK) return st;

    size_t count = n > 0 ? (size_t)n : 1;
    int *order = malloc(count * sizeof *order);        /* (n,) the data's layout */
    uint64_t *begin = malloc(count * sizeof *begin);   /* (n,) by the caller's index */
    char *header = NULL;
    if (!order || !begin) {
        st = nb__fail_status(NB_ERR_MEMORY, OP ": %s: out of memory for %d tensors", path, n);
        goto done;
    }
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, by_elem_size, (void *)tensors);
    uint64_t at = 0;
    for (int k = 0; k < n; k++) {
        const nb_tensor *t = tensors[order[k]];
        begin[order[k]] = at;
        at += (uint64_t)nb__numel_of(t->ndim, t->shape) * nb_dtype_size(t->dtype);
    }
    header = make_header(n, names, tensors, metadata, begin);
    if (!header) {
        st = nb__fail_status(NB_ERR_MEMORY, OP ": %s: out of memory formatting the header", path);
        goto done;
    }
    size_t len = strlen(header);
    size_t padded = len + (8 - (8 + len) % 8) % 8; /* the data starts at a multiple of 8 */
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));

    nb_atomic_file af;
    st = nb__atomic_open(&af, OP, path);
    if (st != NB_OK) goto done;
    bool ok = fwrite(len8, 1, 8, af.f) == 8 && fwrite(header, 1, len, af.f) == len;
    for (size_t i = len; ok && i < padded; i++) ok = fputc(' ', af.f) != EOF;
    nb_no_grad_begin(); /* copies for writing need no history */
    nb__tracking_pause();
    bool copy_failed = false;
    for (int k = 0; ok && k < n; k++) ok = write_tensor(af.f, tensors[order[k]], &copy_failed);
    nb__tracking_resume();
    nb_no_grad_end();
    if (copy_failed) { /* a copy to the host failed: its error names the cause */
        st = nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_IO;
        nb__atomic_close(&af, false);
        goto done;
    }
    st = nb__atomic_close(&af, true); /* a failed write shows in the stream's error flag */
done:
    free(header);
    free(order);
    free(begin);
    return st;
}
