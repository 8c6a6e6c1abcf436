/* fuzz_idx.h — the check that both IDX targets (fuzz_idx_raw.c, fuzz_idx_gzip.c) run on a file. */
#ifndef NB_FUZZ_IDX_H
#define NB_FUZZ_IDX_H

#include <stddef.h>
#include <stdint.h>

/* Loads the file at path (whose bytes are file, n of them) with nb_load_idx as float64, then as
 * float32 (n odd) or int64 (n even), and checks each result against an independent reading of
 * the format: a valid file must load with its exact values, anything else must be refused with
 * an error naming the file. A file that starts with the gzip magic is decompressed for reference
 * by zlib's own gzread (the loader reads through it too), and a stream that zlib reports as
 * corrupt or cut short is invalid. */
void fuzz_idx_check(const char *path, const uint8_t *file, size_t n);

#endif /* NB_FUZZ_IDX_H */
