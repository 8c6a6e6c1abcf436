/* text_data.h — a character-level text corpus for samples/gpt.c: a text file, or every file of a
 * folder (Debian's fortunes: those without the .dat and .u8 extensions) concatenated in sorted
 * order; read as UTF-8 (a byte that is not valid UTF-8 counts as the character of its value), its
 * sorted characters the vocabulary, split into the first 90% for training and the last 10% for
 * validation; random windows of it drawn with nabla's generator, or its first windows in order. */
#ifndef NB_SAMPLES_TEXT_DATA_H
#define NB_SAMPLES_TEXT_DATA_H

#include <nabla.h>

#include <stdio.h>

#define TEXT_DEFAULT_PATH "/usr/share/games/fortunes"

typedef struct text_data {
    uint32_t *vocab;  /* (nvocab,) code points, ascending; a token is an index into it */
    int64_t nvocab;
    int64_t *tokens;  /* (n,) the whole text */
    int64_t n;
    int64_t n_train;  /* tokens [0, n_train) train, [n_train, n) validate */
} text_data;

/* Loads path (a file or a folder); false after a message on stderr naming the file. */
bool text_load(const char *prog, const char *path, text_data *d);
void text_free(text_data *d);
/* The token of code point c, or -1 when it is not in the vocabulary. */
int64_t text_token_of(const text_data *d, uint32_t c);
/* Tokens of UTF-8 text s into out (at most cap); the count, or -1 after a message naming the
 * first character that is not in the vocabulary. */
int64_t text_encode(const char *prog, const text_data *d, const char *s, int64_t *out, int64_t cap);
/* Writes token's character as UTF-8. */
void text_put(FILE *f, const text_data *d, int64_t token);
/* batch windows of context + 1 tokens starting at random places of the training (validation) part,
 * drawn with nb_randint: *x the first context tokens, *y the last context (the next tokens), int64
 * (batch, context) on device. False (the tensors NULL) when nabla failed; the caller checks the
 * part is long enough (text_part_length(d, val) > context). */
bool text_batch(const text_data *d, bool val, int64_t batch, int64_t context, nb_device device, nb_tensor **x,
                nb_tensor **y);
int64_t text_part_length(const text_data *d, bool val);
/* count consecutive, non-overlapping windows of the training (validation) part, window first + i
 * starting at token (first + i) * context of the part: *x its context tokens, *y the next ones,
 * int64 (count, context) on device; the deterministic evaluation's batches. The caller checks
 * (first + count) * context < text_part_length(d, val). False (the tensors NULL) when nabla failed. */
bool text_windows(const text_data *d, bool val, int64_t first, int64_t count, int64_t context, nb_device device,
                  nb_tensor **x, nb_tensor **y);

#endif /* NB_SAMPLES_TEXT_DATA_H */
