/* tensor_dict.c — nb_tensor_dict, the ordered name -> tensor map that nb_load_safetensors returns:
 * entries in the file's order, a name index sorted for lookups by name, and the file's metadata. */
#include "error.h"
#include "safetensors.h"
#include "tensor.h"

#include <stdlib.h>
#include <string.h>

struct nb_tensor_dict {
    int n;
    char **names;        /* (n,) */
    nb_tensor **tensors; /* (n,) one reference each */
    int *by_name;        /* (n,) entry indices sorted by name */
    nb_str_map meta;
    char **meta_keys, **meta_values; /* (meta.n,) */
};

nb_tensor_dict *nb__tensor_dict_new(const char *op, int n_tensors, int n_meta)
{
    nb_tensor_dict *d = calloc(1, sizeof *d);
    if (!d) return nb__fail(NB_ERR_MEMORY, "%s: out of memory allocating a tensor dict", op);
    d->n = n_tensors;
    d->meta.n = n_meta;
    size_t nt = n_tensors > 0 ? (size_t)n_tensors : 1, nm = n_meta > 0 ? (size_t)n_meta : 1;
    d->names = calloc(nt, sizeof *d->names);
    d->tensors = calloc(nt, sizeof *d->tensors);
    d->by_name = calloc(nt, sizeof *d->by_name);
    d->meta_keys = calloc(nm, sizeof *d->meta_keys);
    d->meta_values = calloc(nm, sizeof *d->meta_values);
    if (!d->names || !d->tensors || !d->by_name || !d->meta_keys || !d->meta_values) {
        nb_tensor_dict_free(d);
        return nb__fail(NB_ERR_MEMORY, "%s: out of memory allocating a dict of %d tensors", op, n_tensors);
    }
    d->meta.keys = (const char *const *)d->meta_keys;
    d->meta.values = (const char *const *)d->meta_values;
    return d;
}

bool nb__tensor_dict_set(const char *op, nb_tensor_dict *d, int i, const char *name, nb_tensor *t)
{
    d->tensors[i] = t;
    d->names[i] = strdup(name);
    if (!d->names[i]) return nb__fail(NB_ERR_MEMORY, "%s: out of memory copying the name '%s'", op, name), false;
    return true;
}

bool nb__tensor_dict_set_meta(const char *op, nb_tensor_dict *d, int i, const char *key, const char *value)
{
    d->meta_keys[i] = strdup(key);
    d->meta_values[i] = strdup(value);
    if (!d->meta_keys[i] || !d->meta_values[i])
        return nb__fail(NB_ERR_MEMORY, "%s: out of memory copying the metadata '%s'", op, key), false;
    return true;
}

static int by_name(const void *a, const void *b, void *names)
{
    char *const *n = names;
    return strcmp(n[*(const int *)a], n[*(const int *)b]);
}

void nb__tensor_dict_finish(nb_tensor_dict *d)
{
    for (int i = 0; i < d->n; i++) d->by_name[i] = i;
    qsort_r(d->by_name, (size_t)d->n, sizeof *d->by_name, by_name, d->names); /* glibc's, reentrant */
}

int nb_tensor_dict_count(const nb_tensor_dict *d)
{
    if (nb__is_null("nb_tensor_dict_count", "dict", d)) return 0;
    return d->n;
}

static bool in_range(const char *op, const nb_tensor_dict *d, int i)
{
    if (nb__is_null(op, "dict", d)) return false;
    if (i < 0 || i >= d->n)
        return nb__fail(NB_ERR_ARGUMENT, "%s: index %d is out of range for a dict of %d tensors", op, i, d->n), false;
    return true;
}

const char *nb_tensor_dict_name_at(const nb_tensor_dict *d, int i)
{
    return in_range("nb_tensor_dict_name_at", d, i) ? d->names[i] : NULL;
}

nb_tensor *nb_tensor_dict_at(const nb_tensor_dict *d, int i)
{
    return in_range("nb_tensor_dict_at", d, i) ? d->tensors[i] : NULL;
}

nb_tensor *nb__tensor_dict_find(const nb_tensor_dict *d, const char *name)
{
    int lo = 0, hi = d->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(d->names[d->by_name[mid]], name);
        if (c == 0) return d->tensors[d->by_name[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

nb_tensor *nb_tensor_dict_get(const nb_tensor_dict *d, const char *name)
{
    if (nb__is_null("nb_tensor_dict_get", "dict", d) || nb__is_null("nb_tensor_dict_get", "name", name)) return NULL;
    nb_tensor *t = nb__tensor_dict_find(d, name);
    if (t) return t;
    return nb__fail(NB_ERR_ARGUMENT, "nb_tensor_dict_get: no tensor named '%s' among the dict's %d", name, d->n);
}

const nb_str_map *nb_tensor_dict_metadata(const nb_tensor_dict *d)
{
    if (nb__is_null("nb_tensor_dict_metadata", "dict", d)) return NULL;
    return &d->meta;
}

void nb_tensor_dict_free(nb_tensor_dict *d)
{
    if (!d) return;
    for (int i = 0; i < d->n && d->names; i++) {
        free(d->names[i]);
        if (d->tensors) nb__release_ref(d->tensors[i]);
    }
    for (int i = 0; i < d->meta.n && d->meta_keys; i++) {
        free(d->meta_keys[i]);
        if (d->meta_values) free(d->meta_values[i]);
    }
    free(d->names);
    free(d->tensors);
    free(d->by_name);
    free(d->meta_keys);
    free(d->meta_values);
    free(d);
}
