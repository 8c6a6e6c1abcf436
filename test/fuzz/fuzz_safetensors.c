/* fuzz_safetensors.c — libFuzzer target for nb_load_safetensors (lib/safetensors_load.c).
 *
 * Each input is written to an in-memory file and loaded twice, read and mapped. A refusal must
 * carry an error naming nb_load_safetensors and the file, and both loads must agree; a dict that
 * comes back must hold contiguous CPU tensors of nabla's dtypes whose bytes fit in the file and
 * are the same in both loads, bools 0 or 1. */
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(0, data, size);
    nb_clear_error();
    nb_tensor_dict *read = nb_load_safetensors(path, NULL);
    if (!read) fuzz_expect_refusal("nb_load_safetensors", path);
    else fuzz_expect_success("nb_load_safetensors", path);
    nb_clear_error();
    nb_safetensors_options o = {.mmap = true};
    nb_tensor_dict *mapped = nb_load_safetensors(path, &o);
    if (!mapped) fuzz_expect_refusal("nb_load_safetensors", path);
    nb_clear_error();
    if (!read != !mapped) fuzz_fail("a read load and a mapped load of one file disagree");
    if (!read) return 0;

    int n = nb_tensor_dict_count(read);
    if (n != nb_tensor_dict_count(mapped)) fuzz_fail("the loads hold %d and %d tensors", n, nb_tensor_dict_count(mapped));
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        nb_tensor *a = nb_tensor_dict_at(read, i), *b = nb_tensor_dict_at(mapped, i);
        if (strcmp(nb_tensor_dict_name_at(read, i), nb_tensor_dict_name_at(mapped, i)) != 0)
            fuzz_fail("tensor %d is named differently by the two loads", i);
        nb_dtype dtype = nb_dtype_of(a);
        if (dtype != NB_FLOAT32 && dtype != NB_FLOAT64 && dtype != NB_INT64 && dtype != NB_BOOL &&
            dtype != NB_FLOAT16 && dtype != NB_BFLOAT16)
            fuzz_fail("nb_load_safetensors returned an unknown dtype %d", (int)dtype);
        if (!nb_is_contiguous(a) || !nb_is_contiguous(b) || nb_device_of(a).type != NB_CPU)
            fuzz_fail("nb_load_safetensors returned a tensor that is not contiguous on the CPU");
        size_t bytes = (size_t)nb_numel(a) * nb_dtype_size(dtype); /* (numel * elem,) */
        total += bytes;
        if (total > size) fuzz_fail("nb_load_safetensors returned %zu bytes of data from a %zu-byte file", total, size);
        if (nb_numel(b) != nb_numel(a) || nb_dtype_of(b) != dtype) fuzz_fail("the loads disagree on tensor %d", i);
        const uint8_t *x = nb_data(a), *y = nb_data(b);
        if (bytes && memcmp(x, y, bytes) != 0) fuzz_fail("the loads disagree on tensor %d's bytes", i);
        for (size_t k = 0; dtype == NB_BOOL && k < bytes; k++)
            if (x[k] > 1) fuzz_fail("a bool loaded as %u", x[k]);
    }
    if (nb_tensor_dict_metadata(read)->n != nb_tensor_dict_metadata(mapped)->n) fuzz_fail("metadata counts differ");
    nb_tensor_dict_free(read);
    nb_tensor_dict_free(mapped);
    nb_clear_error();
    return 0;
}
