/* fuzz_npy.c — libFuzzer target for nb_load_npy (lib/npy.c).
 *
 * Each input is written to an in-memory file and loaded. A refusal must carry an error naming
 * nb_load_npy and the file; a tensor that comes back must hold exactly the file's last bytes (the
 * loader refuses trailing data, so the data is the end of the file), bools read as 0 or 1. */
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(0, data, size);
    nb_clear_error();
    nb_tensor *t = nb_load_npy(path);
    if (!t) {
        fuzz_expect_refusal("nb_load_npy", path);
        nb_clear_error();
        return 0;
    }
    fuzz_expect_success("nb_load_npy", path);

    nb_dtype dtype = nb_dtype_of(t);
    int ndim = nb_ndim(t);
    if (dtype != NB_FLOAT32 && dtype != NB_FLOAT64 && dtype != NB_INT64 && dtype != NB_BOOL && dtype != NB_FLOAT16)
        fuzz_fail("nb_load_npy returned an unknown dtype %d", (int)dtype); /* '<f2' is float16 */
    if (ndim < 0 || ndim > NB_MAX_DIMS) fuzz_fail("nb_load_npy returned %d dims", ndim);
    if (!nb_is_contiguous(t) || nb_device_of(t).type != NB_CPU)
        fuzz_fail("nb_load_npy returned a tensor that is not contiguous on the CPU");
    size_t bytes = (size_t)nb_numel(t) * nb_dtype_size(dtype); /* (numel * elem,) */
    if (nb_numel(t) < 0 || bytes > size) fuzz_fail("nb_load_npy returned %zu bytes of data from a %zu-byte file", bytes, size);
    const uint8_t *file_data = data + size - bytes;
    const uint8_t *got = nb_data(t);
    if (bytes > 0 && !got) fuzz_fail("nb_load_npy returned a tensor without data");
    for (size_t i = 0; i < bytes; i++) {
        uint8_t want = dtype == NB_BOOL ? file_data[i] != 0 : file_data[i];
        if (got[i] != want) fuzz_fail("nb_load_npy: data byte %zu is %u, the file holds %u", i, got[i], file_data[i]);
    }
    nb_release(t);
    nb_clear_error();
    return 0;
}
