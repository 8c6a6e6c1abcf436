/* test_data.c — suite data: nb_load_idx (files from test/golden/gen_idx.py, Debian's Fashion-MNIST)
 * and nb_loader (every row once per epoch, rows paired, seeded orders, partial batches, restarts,
 * cancellation, scopes, errors, including one raised on the loader's thread). */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Test hook in lib/data/loader.c: the loader's thread fails building batch b (-1: never). */
void nb__loader_fail_at(nb_loader *l, int64_t b);

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static void assert_shape(const nb_tensor *t, const char *want)
{
    cr_assert(t != NULL, "result is NULL: %s", nb_last_error());
    char got[160];
    nb_shape_string(t, got, sizeof got);
    cr_assert_str_eq(got, want, "shape %s, expected %s", got, want);
}

/* ---------------------------------------------------------------- nb_load_idx: good files */

static const char *const idx_names[] = {"ubyte", "sbyte", "short", "int", "float", "double"};
static const char *const idx_suffixes[] = {".idx", ".idx.gz"};

/* Every element type, raw and gzip-compressed, as each dtype it can be loaded as, against the
 * values gen_idx.py wrote (float64 .npy, converted here the way C converts). */
Test(data, idx_every_type_raw_and_gz, .init = nb_test_setup)
{
    for (size_t i = 0; i < sizeof idx_names / sizeof idx_names[0]; i++) {
        char gname[64];
        snprintf(gname, sizeof gname, "idx/%s", idx_names[i]);
        nb_tensor *want64 = golden(gname);
        bool floating = strcmp(idx_names[i], "float") == 0 || strcmp(idx_names[i], "double") == 0;
        for (size_t s = 0; s < 2; s++) {
            char path[128];
            snprintf(path, sizeof path, "golden/idx/%s%s", idx_names[i], idx_suffixes[s]);
            cr_log_info("loading %s", path);

            nb_tensor *got = nb_load_idx(path, NB_FLOAT64);
            assert_close(got, want64, 0, 0);
            nb_release(got);

            nb_tensor *want32 = nb_to_dtype(want64, NB_FLOAT32);
            got = nb_load_idx(path, NB_FLOAT32);
            assert_close(got, want32, 0, 0);
            nb_release(got);
            nb_release(want32);

            if (!floating) {
                nb_tensor *want_i = nb_to_dtype(want64, NB_INT64);
                got = nb_load_idx(path, NB_INT64);
                assert_close(got, want_i, 0, 0);
                nb_release(got);
                nb_release(want_i);
            }
            assert_ok();
        }
        nb_release(want64);
    }
}

/* The same values spelled out: signs, byte order and the edges of each type. */
Test(data, idx_exact_values, .init = nb_test_setup)
{
    nb_tensor *u8 = nb_load_idx("golden/idx/ubyte.idx.gz", NB_FLOAT32);
    assert_shape(u8, "[2, 3, 4]");
    const double u8_want[8] = {0, 1, 2, 127, 128, 200, 254, 255};
    nb_tensor *u8_flat = nb_flatten(u8);
    nb_tensor *u8_head = nb_narrow(u8_flat, 0, 0, 8);
    assert_values(u8_head, u8_want, 8, 0, 0);

    nb_tensor *s8 = nb_load_idx("golden/idx/sbyte.idx", NB_INT64);
    assert_shape(s8, "[6]");
    cr_assert_eq(nb_dtype_of(s8), NB_INT64);
    const double s8_want[6] = {-128, -1, 0, 1, 100, 127};
    assert_values(s8, s8_want, 6, 0, 0);

    nb_tensor *i16 = nb_load_idx("golden/idx/short.idx.gz", NB_INT64);
    assert_shape(i16, "[2, 3]");
    const double i16_want[6] = {-32768, -1, 0, 258, 32767, -300};
    assert_values(i16, i16_want, 6, 0, 0);

    nb_tensor *i32 = nb_load_idx("golden/idx/int.idx", NB_INT64);
    assert_shape(i32, "[3, 2]");
    const double i32_want[6] = {-2147483648.0, 2147483647.0, 0, -1, 65539, 16777217};
    assert_values(i32, i32_want, 6, 0, 0);

    nb_tensor *f32 = nb_load_idx("golden/idx/float.idx", NB_FLOAT64);
    assert_shape(f32, "[1, 2, 3]");
    const double f32_want[6] = {1.5, -2.25, (double)1e-45f, (double)3.0e38f, INFINITY, -0.0};
    assert_values(f32, f32_want, 6, 0, 0);

    nb_tensor *f64 = nb_load_idx("golden/idx/double.idx.gz", NB_FLOAT64);
    assert_shape(f64, "[4]");
    const double f64_want[4] = {1.0 / 3.0, -1e-300, 0x1p60, -INFINITY};
    assert_values(f64, f64_want, 4, 0, 0);
    assert_ok();

    nb_tensor *all[] = {u8, u8_flat, u8_head, s8, i16, i32, f32, f64};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nb_release(all[i]);
}

/* A zero dim: a valid file with no data. */
Test(data, idx_zero_rows, .init = nb_test_setup)
{
    for (size_t s = 0; s < 2; s++) {
        char path[64];
        snprintf(path, sizeof path, "golden/idx/zero_rows%s", idx_suffixes[s]);
        nb_tensor *t = nb_load_idx(path, NB_FLOAT32);
        assert_shape(t, "[0, 5]");
        cr_assert_eq(nb_numel(t), 0);
        nb_release(t);
    }
    assert_ok();
}

/* ---------------------------------------------------------------- nb_load_idx: refusals */

typedef struct bad_file {
    const char *name;
    const char *part1, *part2; /* fragments of the message besides nb_load_idx and the path */
} bad_file;

static const bad_file bad_files[] = {
    {"missing.idx", "cannot open the file", "No such file"},
    {"bad_empty.idx", "the file is empty", "IDX"},
    {"bad_empty.idx.gz", "the file is empty", "IDX"},
    {"bad_short_magic.idx", "truncated header", "after 2 bytes"},
    {"bad_magic.idx", "bad magic 0x01000801", "two zero bytes"},
    {"bad_type.idx", "unknown type byte 0x0a", "0x08 (ubyte)"},
    {"bad_zero_dims.idx", "declares 0 dims", "expected 1 to 8"},
    {"bad_many_dims.idx", "declares 9 dims", "expected 1 to 8"},
    {"bad_short_dims.idx", "truncated header", "3 dims need 12 bytes after the magic, found 6"},
    {"bad_overflow.idx", "overflow", "[4294967295, 4294967295, 4294967295"},
    {"bad_absurd.idx", "absurd", "[65536, 65536, 65536]"},
    {"bad_truncated.idx", "truncated: expected 47040000 bytes of ubyte data for dims [60000, 28, 28]",
     "found 1000"},
    {"bad_truncated.idx.gz", "truncated: expected 47040000 bytes of ubyte data for dims [60000, 28, 28]",
     "found 1000"},
    {"bad_cut.idx.gz", "truncated: expected 4000 bytes of ubyte data for dims [40, 100]",
     "(the gzip stream ends early)"},
    {"bad_trailing.idx", "trailing data: 2 bytes after the 3 bytes of ubyte data", "[3]"},
    {"bad_trailing.idx.gz", "trailing data: 2 bytes after the 3 bytes of ubyte data", "[3]"},
    {"bad_block.idx.gz", "corrupt gzip stream", "invalid block type"},
    {"bad_crc.idx.gz", "corrupt gzip stream", "incorrect data check"},
    {"bad_cut_trailer.idx.gz", "truncated", "before its end and checksum"},
};

Test(data, idx_bad_files, .init = nb_test_setup)
{
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        const bad_file *b = &bad_files[i];
        char path[128];
        snprintf(path, sizeof path, "golden/idx/%s", b->name);
        cr_log_info("refusing %s", path);
        for (int d = 0; d < 3; d++) {
            nb_dtype dtype = d == 0 ? NB_FLOAT32 : d == 1 ? NB_FLOAT64 : NB_INT64;
            cr_assert_null(nb_load_idx(path, dtype), "%s loaded", path);
            assert_error(NB_ERR_IO, ERR_PARTS("nb_load_idx", path, b->part1, b->part2));
        }
    }
}

Test(data, idx_refuses_directories_fifos_null_and_dtypes, .init = nb_test_setup, .timeout = 10)
{
    cr_assert_null(nb_load_idx("golden/idx", NB_FLOAT32));
    assert_error(NB_ERR_IO, ERR_PARTS("nb_load_idx", "golden/idx", "not a regular file"));

    cr_assert_null(nb_load_idx(NULL, NB_FLOAT32));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_load_idx", "path"));

    /* a FIFO with no writer is refused at once (a plain open() would block forever) */
    char fifo[] = "/tmp/nabla_idx_fifo_XXXXXX";
    cr_assert_not_null(mkdtemp(fifo));
    char path[64];
    snprintf(path, sizeof path, "%s/pipe.idx", fifo);
    cr_assert_eq(mkfifo(path, 0600), 0);
    cr_assert_null(nb_load_idx(path, NB_FLOAT32));
    assert_error(NB_ERR_IO, ERR_PARTS("nb_load_idx", path, "a FIFO", "expected an IDX file"));
    unlink(path);
    rmdir(fifo);

    cr_assert_null(nb_load_idx("golden/idx/ubyte.idx", NB_BOOL));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_load_idx", "golden/idx/ubyte.idx", "as bool",
                                         "float32, float64 or int64"));
    cr_assert_null(nb_load_idx("golden/idx/ubyte.idx", (nb_dtype)42));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_load_idx", "unknown dtype"));

    /* floating data as int64 would lose values */
    cr_assert_null(nb_load_idx("golden/idx/float.idx.gz", NB_INT64));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_load_idx", "golden/idx/float.idx.gz", "float data", "int64"));
    cr_assert_null(nb_load_idx("golden/idx/double.idx", NB_INT64));
    assert_error(NB_ERR_DTYPE, ERR_PARTS("nb_load_idx", "double data", "float32 or float64"));
}

/* ---------------------------------------------------------------- Fashion-MNIST */

static bool fashion_present(const char *file)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", FASHION_DIR, file);
    return access(path, R_OK) == 0;
}

/* counts (10,) of the int64 labels (n,) in 0..9; false if one is out of range */
static bool label_histogram(const nb_tensor *labels, int64_t counts[10])
{
    const int64_t *v = nb_data(labels);
    memset(counts, 0, 10 * sizeof counts[0]);
    for (int64_t i = 0; i < nb_numel(labels); i++) {
        if (v[i] < 0 || v[i] > 9) return false;
        counts[v[i]]++;
    }
    return true;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

Test(data, fashion_mnist_t10k, .init = nb_test_setup)
{
    if (!fashion_present("t10k-images-idx3-ubyte.gz") || !fashion_present("t10k-labels-idx1-ubyte.gz"))
        cr_skip_test("Fashion-MNIST is not installed in " FASHION_DIR " (Debian: dataset-fashion-mnist)");
    nb_tensor *images = nb_load_idx(FASHION_DIR "/t10k-images-idx3-ubyte.gz", NB_FLOAT32);
    nb_tensor *labels = nb_load_idx(FASHION_DIR "/t10k-labels-idx1-ubyte.gz", NB_INT64);
    assert_shape(images, "[10000, 28, 28]");
    assert_shape(labels, "[10000]");
    cr_assert_eq(nb_dtype_of(images), NB_FLOAT32);
    cr_assert_eq(nb_dtype_of(labels), NB_INT64);

    /* values printed by gen_idx.py (NumPy on the same files) */
    const float *px = nb_data(images); /* (10000, 28, 28) */
    const double row_want[8] = {0, 0, 98, 136, 110, 109, 110, 162}; /* image 0, row 14, cols 10..17 */
    for (int j = 0; j < 8; j++)
        cr_assert_eq(px[14 * 28 + 10 + j], row_want[j], "image 0 [14, %d]: %g, expected %g", 10 + j,
                     px[14 * 28 + 10 + j], row_want[j]);
    double first = 0, last = 0, total = 0, lo = 255, hi = 0;
    for (int64_t i = 0; i < 10000 * 784; i++) {
        if (i < 784) first += px[i];
        if (i >= 9999 * 784) last += px[i];
        total += px[i];
        lo = px[i] < lo ? px[i] : lo;
        hi = px[i] > hi ? px[i] : hi;
    }
    cr_assert_eq(first, 33456.0);
    cr_assert_eq(last, 24390.0);
    cr_assert_eq(total, 573469082.0);
    cr_assert(lo == 0 && hi == 255, "pixels in [%g, %g], expected [0, 255]", lo, hi);

    const double labels_want[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    nb_tensor *head = nb_narrow(labels, 0, 0, 10);
    assert_values(head, labels_want, 10, 0, 0);
    int64_t counts[10];
    cr_assert(label_histogram(labels, counts), "a label outside 0..9");
    for (int c = 0; c < 10; c++) cr_assert_eq(counts[c], 1000, "class %d: %lld labels", c, (long long)counts[c]);
    assert_ok();
    nb_release(head);
    nb_release(images);
    nb_release(labels);
}

/* The 60000-image training set: shape, classes, and how long it takes (decompression included). */
Test(data, fashion_mnist_train_is_fast, .init = nb_test_setup)
{
    if (!fashion_present("train-images-idx3-ubyte.gz") || !fashion_present("train-labels-idx1-ubyte.gz"))
        cr_skip_test("Fashion-MNIST is not installed in " FASHION_DIR " (Debian: dataset-fashion-mnist)");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nb_tensor *images = nb_load_idx(FASHION_DIR "/train-images-idx3-ubyte.gz", NB_FLOAT32);
    double secs = seconds_since(&t0);
    nb_tensor *labels = nb_load_idx(FASHION_DIR "/train-labels-idx1-ubyte.gz", NB_INT64);
    cr_log_info("nb_load_idx: train-images-idx3-ubyte.gz (60000 x 28 x 28) as float32 in %.3f s", secs);
    fprintf(stderr, "fashion-mnist train images loaded in %.3f s\n", secs);
    assert_shape(images, "[60000, 28, 28]");
    assert_shape(labels, "[60000]");
    int64_t counts[10];
    cr_assert(label_histogram(labels, counts), "a label outside 0..9");
    for (int c = 0; c < 10; c++) cr_assert_eq(counts[c], 6000, "class %d: %lld labels", c, (long long)counts[c]);
    /* About 0.2 s on an idle machine (zlib's inflate is most of it); the bound is loose because
     * shared machines drift, but reading the data a few bytes at a time would still break it. */
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    cr_assert(secs < 5.0, "loading took %.3f s; expected well under a second on an idle machine", secs);
#endif
    assert_ok();
    nb_release(images);
    nb_release(labels);
}

/* ---------------------------------------------------------------- nb_loader helpers */

/* inputs (n, 3) float64 whose row i is [i, i + 0.25, i + 0.5]; targets (n,) int64 = i. */
static void make_pairs(int64_t n, nb_tensor **inputs, nb_tensor **targets)
{
    double *x = calloc((size_t)(n > 0 ? n : 1) * 3, sizeof(double));
    int64_t *y = calloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < 3; j++) x[3 * i + j] = (double)i + 0.25 * j;
        y[i] = i;
    }
    *inputs = nb_from_array(x, NB_SHAPE(n, 3), NB_OPTS(NB_FLOAT64));
    *targets = nb_from_array(y, NB_SHAPE(n), NB_OPTS(NB_INT64));
    free(x);
    free(y);
    cr_assert(*inputs && *targets, "%s", nb_last_error());
}

/* Checks that each input row of the batch holds its target's number; appends the targets to
 * order (cap entries) at *count. */
static void check_batch(const nb_tensor *x, const nb_tensor *y, int64_t *order, int64_t cap, int64_t *count)
{
    cr_assert(x && y, "batch is NULL: %s", nb_last_error());
    cr_assert(nb_is_contiguous(x) && nb_is_contiguous(y));
    cr_assert_eq(nb_dtype_of(x), NB_FLOAT64);
    cr_assert_eq(nb_dtype_of(y), NB_INT64);
    cr_assert_eq(nb_ndim(x), 2);
    cr_assert_eq(nb_ndim(y), 1);
    int64_t b = nb_size(y, 0);
    cr_assert_eq(nb_size(x, 0), b);
    cr_assert_eq(nb_size(x, 1), 3);
    const double *xv = nb_data(x);
    const int64_t *yv = nb_data(y);
    for (int64_t k = 0; k < b; k++) {
        for (int j = 0; j < 3; j++)
            cr_assert_eq(xv[3 * k + j], (double)yv[k] + 0.25 * j, "row %lld: input %g paired with target %lld",
                         (long long)k, xv[3 * k + j], (long long)yv[k]);
        cr_assert_lt(*count, cap, "more rows than the epoch holds");
        order[(*count)++] = yv[k];
    }
}

/* Runs one whole epoch, releasing each batch; order (cap) receives the targets in the order
 * they came; returns how many batches there were. Batch sizes go to sizes (if not NULL). */
static int64_t run_epoch(nb_loader *l, int64_t *order, int64_t cap, int64_t *count, int64_t *sizes)
{
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK, "%s", nb_last_error());
    nb_tensor *x = NULL, *y = NULL;
    int64_t batches = 0;
    *count = 0;
    while (nb_loader_next(l, &x, &y)) {
        check_batch(x, y, order, cap, count);
        if (sizes) sizes[batches] = nb_size(y, 0);
        batches++;
        nb_release(x);
        nb_release(y);
    }
    cr_assert_null(x);
    cr_assert_null(y);
    assert_ok();
    return batches;
}

/* every value 0 .. n-1 exactly once in v (n,) */
static void assert_permutation(const int64_t *v, int64_t n)
{
    char *seen = calloc((size_t)(n > 0 ? n : 1), 1);
    for (int64_t i = 0; i < n; i++) {
        cr_assert(v[i] >= 0 && v[i] < n, "row %lld out of range", (long long)v[i]);
        cr_assert(!seen[v[i]], "row %lld appears twice", (long long)v[i]);
        seen[v[i]] = 1;
    }
    free(seen);
}

static bool is_identity(const int64_t *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (v[i] != i) return false;
    return true;
}

/* ---------------------------------------------------------------- nb_loader */

Test(data, loader_shuffled_epoch_has_every_row_once, .init = nb_test_setup)
{
    nb_tensor *x, *y;
    make_pairs(103, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 10, .shuffle = true});
    cr_assert_not_null(l, "%s", nb_last_error());
    cr_assert_eq(nb_loader_num_batches(l), 11);
    int64_t order[103], count, sizes[16];
    for (int epoch = 0; epoch < 3; epoch++) {
        cr_assert_eq(run_epoch(l, order, 103, &count, sizes), 11);
        cr_assert_eq(count, 103);
        assert_permutation(order, 103);
        cr_assert(!is_identity(order, 103), "a shuffled epoch came in order");
        for (int b = 0; b < 10; b++) cr_assert_eq(sizes[b], 10);
        cr_assert_eq(sizes[10], 3, "the last batch holds the 3 rows left");
    }
    nb_loader_free(l);
    nb_release(x);
    nb_release(y);
}

Test(data, loader_without_shuffle_keeps_order, .init = nb_test_setup)
{
    nb_tensor *x, *y;
    make_pairs(50, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 8, .shuffle = false, .prefetch = 2});
    int64_t order[50], count;
    cr_assert_eq(run_epoch(l, order, 50, &count, NULL), 7);
    cr_assert_eq(count, 50);
    cr_assert(is_identity(order, 50), "rows out of order without shuffle");
    nb_loader_free(l);
    nb_release(x);
    nb_release(y);
}

Test(data, loader_seed_fixes_the_order, .init = nb_test_setup)
{
    nb_tensor *x, *y;
    make_pairs(64, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 5, .shuffle = true});
    int64_t a[64], b[64], c[64], d[64], count;
    nb_manual_seed(1234);
    run_epoch(l, a, 64, &count, NULL);
    run_epoch(l, d, 64, &count, NULL); /* the next epoch: a new order */
    nb_manual_seed(1234);
    run_epoch(l, b, 64, &count, NULL);
    nb_manual_seed(99);
    run_epoch(l, c, 64, &count, NULL);
    cr_assert(memcmp(a, b, sizeof a) == 0, "the same seed gave different orders");
    cr_assert(memcmp(a, c, sizeof a) != 0, "different seeds gave the same order");
    cr_assert(memcmp(a, d, sizeof a) != 0, "two epochs in a row gave the same order");

    /* the order is nb_randperm's, drawn in this thread */
    nb_manual_seed(1234);
    nb_tensor *perm = nb_randperm(64);
    cr_assert(memcmp(a, nb_data(perm), sizeof a) == 0, "the order is not nb_randperm(64) after the seed");
    nb_release(perm);
    nb_loader_free(l);
    nb_release(x);
    nb_release(y);
}

Test(data, loader_drop_last_and_partial_batches, .init = nb_test_setup)
{
    nb_tensor *x, *y;
    make_pairs(10, &x, &y);
    int64_t order[10], count, sizes[8];

    nb_loader *keep = nb_loader_new(x, y, (nb_loader_options){.batch_size = 3});
    cr_assert_eq(nb_loader_num_batches(keep), 4);
    cr_assert_eq(run_epoch(keep, order, 10, &count, sizes), 4);
    cr_assert_eq(count, 10);
    cr_assert(sizes[0] == 3 && sizes[1] == 3 && sizes[2] == 3 && sizes[3] == 1, "batch sizes %lld %lld %lld %lld",
              (long long)sizes[0], (long long)sizes[1], (long long)sizes[2], (long long)sizes[3]);
    nb_loader_free(keep);

    nb_loader *drop = nb_loader_new(x, y, (nb_loader_options){.batch_size = 3, .drop_last = true, .shuffle = true});
    cr_assert_eq(nb_loader_num_batches(drop), 3);
    cr_assert_eq(run_epoch(drop, order, 10, &count, sizes), 3);
    cr_assert_eq(count, 9, "drop_last gave %lld rows", (long long)count);
    for (int b = 0; b < 3; b++) cr_assert_eq(sizes[b], 3);
    nb_loader_free(drop);

    /* batches that divide the rows: drop_last changes nothing; one batch larger than the data */
    nb_loader *even = nb_loader_new(x, y, (nb_loader_options){.batch_size = 5, .drop_last = true});
    cr_assert_eq(nb_loader_num_batches(even), 2);
    nb_loader_free(even);
    nb_loader *big = nb_loader_new(x, y, (nb_loader_options){.batch_size = 64});
    cr_assert_eq(nb_loader_num_batches(big), 1);
    cr_assert_eq(run_epoch(big, order, 10, &count, sizes), 1);
    cr_assert_eq(sizes[0], 10);
    nb_loader_free(big);
    nb_loader *none = nb_loader_new(x, y, (nb_loader_options){.batch_size = 64, .drop_last = true});
    cr_assert_eq(nb_loader_num_batches(none), 0);
    cr_assert_eq(run_epoch(none, order, 10, &count, sizes), 0);
    nb_loader_free(none);
    nb_release(x);
    nb_release(y);
}

Test(data, loader_end_of_epoch_and_empty_data, .init = nb_test_setup)
{
    nb_tensor *x, *y, *bx, *by;
    make_pairs(0, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 4, .shuffle = true});
    cr_assert_not_null(l, "%s", nb_last_error());
    cr_assert_eq(nb_loader_num_batches(l), 0);
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    cr_assert(!nb_loader_next(l, &bx, &by));
    cr_assert(!nb_loader_next(l, &bx, &by), "a finished epoch stays finished");
    assert_ok();
    nb_loader_free(l);
    nb_release(x);
    nb_release(y);
}

/* Rows of any shape and dtype, from non-contiguous sources. */
Test(data, loader_multi_dim_and_non_contiguous_rows, .init = nb_test_setup)
{
    /* inputs (6, 2, 2) float32: element [i, a, b] = 10 i + 2 a + b, stored transposed */
    float xv[24];
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++) xv[4 * i + k] = (float)(10 * i + k);
    nb_tensor *dense = nb_from_array(xv, NB_SHAPE(6, 2, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *inputs = noncontig(dense);
    cr_assert(!nb_is_contiguous(inputs));
    /* targets (6, 1) bool: row i is (i odd) */
    bool yv[6] = {false, true, false, true, false, true};
    nb_tensor *targets = nb_from_array(yv, NB_SHAPE(6, 1), NB_OPTS(NB_BOOL));

    nb_loader *l = nb_loader_new(inputs, targets, (nb_loader_options){.batch_size = 4, .shuffle = true});
    cr_assert_not_null(l, "%s", nb_last_error());
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    nb_tensor *bx, *by;
    int seen = 0, rows = 0;
    while (nb_loader_next(l, &bx, &by)) {
        int64_t b = nb_size(bx, 0);
        char want[32];
        snprintf(want, sizeof want, "[%lld, 2, 2]", (long long)b);
        assert_shape(bx, want);
        snprintf(want, sizeof want, "[%lld, 1]", (long long)b);
        assert_shape(by, want);
        cr_assert_eq(nb_dtype_of(bx), NB_FLOAT32);
        cr_assert_eq(nb_dtype_of(by), NB_BOOL);
        const float *p = nb_data(bx);
        const bool *q = nb_data(by);
        for (int64_t k = 0; k < b; k++) {
            int i = (int)(p[4 * k] / 10);
            for (int e = 0; e < 4; e++) cr_assert_eq(p[4 * k + e], (float)(10 * i + e));
            cr_assert_eq(q[k], i % 2 == 1, "row %d paired with target %d", i, q[k]);
            seen |= 1 << i;
            rows++;
        }
        nb_release(bx);
        nb_release(by);
    }
    assert_ok();
    cr_assert_eq(rows, 6);
    cr_assert_eq(seen, 0x3f);
    nb_loader_free(l);
    nb_release(dense);
    nb_release(inputs);
    nb_release(targets);
}

/* The loader holds its own references: the sources may be released (or their scope end). */
Test(data, loader_retains_its_sources, .init = nb_test_setup)
{
    nb_scope_begin();
    nb_tensor *x, *y;
    make_pairs(20, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 6, .shuffle = true});
    cr_assert_eq(nb_scope_end(), NB_OK); /* releases x and y */
    cr_assert_not_null(l);
    int64_t order[20], count;
    cr_assert_eq(run_epoch(l, order, 20, &count, NULL), 4);
    assert_permutation(order, 20);
    nb_loader_free(l);
}

Test(data, loader_restart_before_the_epoch_ends, .init = nb_test_setup)
{
    nb_tensor *x, *y, *bx, *by;
    make_pairs(200, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 7, .shuffle = true, .prefetch = 3});
    int64_t order[200], count = 0;
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    cr_assert(nb_loader_next(l, &bx, &by), "%s", nb_last_error());
    int64_t early[200], early_count = 0;
    check_batch(bx, by, early, 200, &early_count);

    /* restart at once, and again after the worker has filled its queue */
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    usleep(20000);
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    nb_tensor *cx, *cy;
    cr_assert(nb_loader_next(l, &cx, &cy));
    check_batch(cx, cy, order, 200, &count);
    nb_release(cx);
    nb_release(cy);

    /* a full epoch after the restarts: every row once */
    cr_assert_eq(run_epoch(l, order, 200, &count, NULL), 29);
    cr_assert_eq(count, 200);
    assert_permutation(order, 200);

    /* the batch taken before the restarts is still the caller's and intact */
    early_count = 0;
    check_batch(bx, by, early, 200, &early_count);
    cr_assert_eq(early_count, 7);
    nb_release(bx);
    nb_release(by);
    nb_loader_free(l);
    nb_release(x);
    nb_release(y);
}

/* Freeing the loader while its thread waits on a full queue stops it and frees what it queued
 * (the sanitizer build reports any leak). */
Test(data, loader_free_while_the_queue_is_full, .init = nb_test_setup)
{
    nb_tensor *x, *y, *bx, *by;
    make_pairs(1000, &x, &y);
    for (int prefetch = 1; prefetch <= 4; prefetch += 3) {
        nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 10, .shuffle = true, .prefetch = prefetch});
        cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
        cr_assert(nb_loader_next(l, &bx, &by));
        usleep(20000); /* the worker fills the queue and blocks */
        nb_loader_free(l);
        int64_t got[10], count = 0;
        check_batch(bx, by, got, 10, &count); /* the batch taken outlives the loader */
        cr_assert_eq(count, 10);
        nb_release(bx);
        nb_release(by);
    }
    /* and without taking anything, or without starting */
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 10, .prefetch = 2});
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    nb_loader_free(l);
    nb_loader_free(nb_loader_new(x, y, (nb_loader_options){.batch_size = 10}));
    nb_loader_free(NULL);
    assert_ok();
    nb_release(x);
    nb_release(y);
}

/* Batches belong to the caller's open scope: released at nb_scope_end unless kept (the sanitizer
 * build reports a leak or a double free otherwise). */
Test(data, loader_batches_live_in_the_callers_scope, .init = nb_test_setup)
{
    nb_tensor *x, *y;
    make_pairs(30, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 4, .shuffle = true});
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    nb_tensor *kept = NULL;
    int64_t order[30], count = 0;
    nb_tensor *bx, *by;
    for (int step = 0; step < 3; step++) {
        nb_scope_begin();
        cr_assert(nb_loader_next(l, &bx, &by), "%s", nb_last_error());
        check_batch(bx, by, order, 30, &count);
        nb_tensor *sum = nb_sum(bx); /* an op on the batch, as in a training step */
        cr_assert_not_null(sum);
        if (step == 1) kept = nb_keep(by);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
    /* the kept targets outlived their scope and are the caller's */
    cr_assert_eq(nb_size(kept, 0), 4);
    const int64_t *k = nb_data(kept);
    for (int i = 0; i < 4; i++) cr_assert_eq(k[i], order[4 + i]);
    nb_release(kept);

    /* a nested scope: the batch belongs to the inner one */
    nb_scope_begin();
    nb_scope_begin();
    cr_assert(nb_loader_next(l, &bx, &by));
    nb_keep(bx);
    cr_assert_eq(nb_scope_end(), NB_OK); /* by released; bx passes to the outer scope */
    cr_assert_eq(nb_size(bx, 0), 4);
    cr_assert_eq(nb_scope_end(), NB_OK); /* bx released */

    nb_loader_free(l); /* with batches still queued */
    nb_release(x);
    nb_release(y);
}

Test(data, loader_error_on_its_thread_reaches_the_caller, .init = nb_test_setup)
{
    nb_tensor *x, *y, *bx, *by;
    make_pairs(40, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 5, .shuffle = true, .prefetch = 2});
    nb__loader_fail_at(l, 2);
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    int64_t order[40], count = 0;
    for (int b = 0; b < 2; b++) {
        cr_assert(nb_loader_next(l, &bx, &by), "%s", nb_last_error());
        check_batch(bx, by, order, 40, &count);
        nb_release(bx);
        nb_release(by);
    }
    cr_assert(!nb_loader_next(l, &bx, &by), "a batch after the failure");
    cr_assert_null(bx);
    cr_assert_null(by);
    assert_error(NB_ERR_MEMORY, ERR_PARTS("nb_loader_next", "batch 2 of 8", "out of memory"));
    cr_assert(!nb_loader_next(l, &bx, &by));
    assert_error(NB_ERR_MEMORY, ERR_PARTS("nb_loader_next", "batch 2 of 8"));

    /* the next epoch, without the failure, is whole */
    nb__loader_fail_at(l, -1);
    cr_assert_eq(run_epoch(l, order, 40, &count, NULL), 8);
    assert_permutation(order, 40);

    /* a failure at the first batch */
    nb__loader_fail_at(l, 0);
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    cr_assert(!nb_loader_next(l, &bx, &by));
    assert_error(NB_ERR_MEMORY, ERR_PARTS("nb_loader_next", "batch 0 of 8"));
    nb_loader_free(l);
    nb_release(x);
    nb_release(y);
}

Test(data, loader_errors, .init = nb_test_setup)
{
    nb_tensor *x, *y, *bx, *by;
    make_pairs(4, &x, &y);
    nb_loader_options opts = {.batch_size = 2};

    cr_assert_null(nb_loader_new(NULL, y, opts));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_loader_new", "inputs"));
    cr_assert_null(nb_loader_new(x, NULL, opts));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_loader_new", "targets"));

    nb_tensor *y5 = nb_zeros(NB_SHAPE(5), NB_OPTS(NB_INT64));
    cr_assert_null(nb_loader_new(x, y5, opts));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_loader_new", "[4, 3]", "[5]", "first dim", "4 vs 5"));

    nb_tensor *scalar = nb_full(0, NULL, 1.0, NB_OPTS(NB_FLOAT32));
    cr_assert_null(nb_loader_new(scalar, y, opts));
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_loader_new", "[]", "[4]", "0-d"));

    cr_assert_null(nb_loader_new(x, y, (nb_loader_options){.batch_size = 0}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_loader_new", "batch_size must be > 0, got 0", "[4, 3]", "[4]"));
    cr_assert_null(nb_loader_new(x, y, (nb_loader_options){.batch_size = -3}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_loader_new", "batch_size", "-3"));
    cr_assert_null(nb_loader_new(x, y, (nb_loader_options){.batch_size = 2, .prefetch = -1}));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_loader_new", "prefetch", "-1"));

    cr_assert_eq(nb_loader_num_batches(NULL), -1);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_loader_num_batches", "loader"));
    cr_assert_eq(nb_loader_start_epoch(NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_loader_start_epoch", "loader"));
    cr_assert(!nb_loader_next(NULL, &bx, &by));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_loader_next", "loader"));

    nb_loader *l = nb_loader_new(x, y, opts);
    cr_assert(!nb_loader_next(l, &bx, &by), "a batch before any epoch");
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_loader_next", "nb_loader_start_epoch"));
    cr_assert_eq(nb_loader_start_epoch(l), NB_OK);
    cr_assert(!nb_loader_next(l, NULL, &by));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_loader_next", "inputs"));
    cr_assert(!nb_loader_next(l, &bx, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_loader_next", "targets"));
    cr_assert_null(bx);
    nb_loader_free(l);

    nb_release(y5);
    nb_release(scalar);
    nb_release(x);
    nb_release(y);
}

/* Many small batches through a one-slot queue, over several epochs: the handoff under load. */
Test(data, loader_many_epochs_through_a_small_queue, .init = nb_test_setup)
{
    nb_tensor *x, *y;
    make_pairs(997, &x, &y);
    nb_loader *l = nb_loader_new(x, y, (nb_loader_options){.batch_size = 3, .shuffle = true, .prefetch = 1});
    int64_t *order = malloc(997 * sizeof(int64_t)), count;
    for (int epoch = 0; epoch < 5; epoch++) {
        cr_assert_eq(run_epoch(l, order, 997, &count, NULL), 333);
        cr_assert_eq(count, 997);
        assert_permutation(order, 997);
    }
    free(order);
    nb_loader_free(l);
    nb_release(x);
    nb_release(y);
}
