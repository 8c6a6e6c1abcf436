/* safetensors.h — what the safetensors reader and writer share: the dtype names of the format,
 * UTF-8 validation, and the dict a load fills (lib/tensor_dict.c). */
#ifndef NB_SAFETENSORS_INTERNAL_H
#define NB_SAFETENSORS_INTERNAL_H

#include "nabla.h"

#include <stddef.h>

#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000) /* bytes of JSON header nabla reads at most */
#define ST_MAX_DEPTH 3 /* the header object, a tensor's object, its shape array */
#define ST_SUPPORTED "F32, F64, I64, BOOL, F16 or BF16"

/* The format's name of dtype ("F32"), NULL for none. */
const char *nb__st_dtype_name(nb_dtype dtype);
/* The dtype a name stands for: true and *dtype when nabla reads it. Otherwise false and, in why,
 * the reason (half precision not yet supported, or a dtype nabla has no column for). */
bool nb__st_dtype_parse(const char *name, nb_dtype *dtype, char *why, size_t why_size);
/* True when s (n bytes) is well-formed UTF-8 (no overlong forms, surrogates or NUL bytes). */
bool nb__utf8_valid(const char *s, size_t n);

/* A dict under construction: n entries, each with a name (copied) and a tensor (the dict takes
 * the reference), and metadata pairs (copied). NULL with an NB_ERR_MEMORY naming op. */
nb_tensor_dict *nb__tensor_dict_new(const char *op, int n_tensors, int n_meta);
/* Sets entry i; false (and an error naming op) when out of memory (t is then released). */
bool nb__tensor_dict_set(const char *op, nb_tensor_dict *d, int i, const char *name, nb_tensor *t);
bool nb__tensor_dict_set_meta(const char *op, nb_tensor_dict *d, int i, const char *key, const char *value);
/* Builds the name index once every entry is set. */
void nb__tensor_dict_finish(nb_tensor_dict *d);
/* The tensor named name (borrowed), by the name index; NULL, and no error, when there is none. */
nb_tensor *nb__tensor_dict_find(const nb_tensor_dict *d, const char *name);

#endif /* NB_SAFETENSORS_INTERNAL_H */
