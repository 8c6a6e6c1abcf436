/* fuzz_idx_gzip.c — libFuzzer target for nb_load_idx on gzip-compressed IDX files (lib/data/idx.c).
 *
 * An input that starts with the gzip magic (1f 8b) is written as it is: mutations of the seed
 * corpus's .gz files then reach zlib's error paths (bad CRC, bad lengths, streams cut short,
 * members followed by junk) as nb_load_idx sees them. Any other input is an IDX file that this
 * target gzips first, so mutations of the IDX content itself also run through the decompressing
 * reads (buffer growth from a guessed size, trailing data, truncation). fuzz_idx_check then loads
 * the file as float64 and float32 or int64 and compares with an independent reading. */
#include "fuzz_common.h"
#include "fuzz_idx.h"

#include <stdlib.h>
#include <zlib.h>

/* bytes (n of them) as one gzip member (malloc'ed; *out_n its size). */
static uint8_t *gzip_bytes(const uint8_t *bytes, size_t n, size_t *out_n)
{
    static z_stream zs;
    static bool ready;
    if (!ready) {
        if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) fuzz_fail("deflateInit2 failed");
        ready = true;
    } else if (deflateReset(&zs) != Z_OK) {
        fuzz_fail("deflateReset failed");
    }
    uLong cap = deflateBound(&zs, (uLong)n);
    uint8_t *out = malloc(cap);
    if (!out) fuzz_fail("out of memory");
    zs.next_in = (Bytef *)bytes;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) fuzz_fail("deflate did not finish");
    *out_n = cap - zs.avail_out;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        fuzz_idx_check(fuzz_file(0, data, size), data, size);
        return 0;
    }
    size_t gz_n = 0;
    uint8_t *gz = gzip_bytes(data, size, &gz_n);
    fuzz_idx_check(fuzz_file(0, gz, gz_n), gz, gz_n);
    free(gz);
    return 0;
}
