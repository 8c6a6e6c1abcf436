/* fuzz_idx_raw.c — libFuzzer target for nb_load_idx on uncompressed IDX files (lib/data/idx.c).
 *
 * Each input is written to an in-memory file as it is and checked by fuzz_idx_check: loaded as
 * float64 and float32 or int64, and compared with an independent reading of the format. */
#include "fuzz_common.h"
#include "fuzz_idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_idx_check(fuzz_file(0, data, size), data, size);
    return 0;
}
