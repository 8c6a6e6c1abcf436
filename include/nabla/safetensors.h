/* nabla/safetensors.h — safetensors files (Hugging Face's format) and the ordered name -> tensor
 * dict a load returns (included by nabla.h).
 *
 * The format: an 8-byte little-endian header length N, N bytes of JSON header
 * {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {"key": "value", ...}}, then the raw little-endian data, every tensor's bytes
 * in C order at [begin, end) of the data, with neither gaps nor overlaps. dtypes: F32, F64, I64,
 * BOOL, F16 and BF16 (nabla's float16 and bfloat16). */
#ifndef NABLA_SAFETENSORS_H
#define NABLA_SAFETENSORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* A string -> string map the caller owns (n pairs; keys unique, UTF-8): a file's metadata. */
typedef struct nb_str_map {
    int n;
    const char *const *keys;
    const char *const *values;
} nb_str_map;

/* An ordered name -> tensor map that owns its tensors (one reference each). */
typedef struct nb_tensor_dict nb_tensor_dict;

typedef struct nb_safetensors_options {
    nb_device device; /* where the tensors go; the CPU by default */
    /* Map the file (MAP_PRIVATE) instead of reading it: CPU tensors are views of the mapping,
     * copy-on-write (an in-place op never changes the file), and the file is unmapped when the
     * last of them is released. On another device the mapping only stages the copy. */
    bool mmap;
} nb_safetensors_options;

/* Writes n named tensors (any device, layout and shape, 0-d and empty included) and, when not
 * NULL, metadata, to path atomically (a temporary file renamed over path). Names are unique,
 * non-empty UTF-8 and not "__metadata__". */
NB_API nb_status nb_save_safetensors(const char *path, int n, const char *const *names, nb_tensor *const *tensors,
                                     const nb_str_map *metadata);
/* Reads and validates a whole file (opts NULL: the defaults); NULL and an NB_ERR_IO naming the
 * file, the tensor and what is wrong when the file is malformed. Free with nb_tensor_dict_free. */
NB_API nb_tensor_dict *nb_load_safetensors(const char *path, const nb_safetensors_options *opts);

NB_API int nb_tensor_dict_count(const nb_tensor_dict *d);
/* The i-th name, in the file header's order; NULL (and an error) when i is out of range. */
NB_API const char *nb_tensor_dict_name_at(const nb_tensor_dict *d, int i);
/* Borrowed: the dict keeps its reference (nb_retain a tensor to keep it past the dict). */
NB_API nb_tensor *nb_tensor_dict_at(const nb_tensor_dict *d, int i);
/* Borrowed, by name; NULL and an NB_ERR_ARGUMENT naming the key when the dict has no such name. */
NB_API nb_tensor *nb_tensor_dict_get(const nb_tensor_dict *d, const char *name);
/* The file's "__metadata__" (borrowed; n is 0 when it had none). */
NB_API const nb_str_map *nb_tensor_dict_metadata(const nb_tensor_dict *d);
/* Releases the dict's references and frees it; NULL does nothing. */
NB_API void nb_tensor_dict_free(nb_tensor_dict *d);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_SAFETENSORS_H */
