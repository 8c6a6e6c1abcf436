/* test_npy.c — suite io: nb_load_npy and nb_save_npy. Round trips of every dtype and layout, files
 * written by NumPy (test/golden/gen_npy.py), byte-exact headers, and every malformed file the
 * loader must refuse, built byte by byte in a temporary directory. */
#include "files.h"
#include "helpers.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- fixture and file helpers */

static char tmp_dir[64];
static const int64_t no_dims[1] = {0}; /* the shape pointer of a 0-d tensor */

static void io_setup(void)
{
    nb_test_setup();
    tmpdir_create(tmp_dir, sizeof tmp_dir, "npy");
}

static void io_teardown(void) { tree_remove(tmp_dir); }

/* tmp_dir/name, in a buffer that lives until the next call with the same slot. */
static const char *tmp_path(const char *name) { return path_join(tmp_dir, name); }




/* An .npy file: magic, version major.0, the header length (2 bytes for 1.0, 4 otherwise), the
 * header text followed by '\n', then n data bytes. Returns the path. */
static const char *write_npy(const char *name, int major, const char *header, const void *data, size_t n)
{
    const char *path = tmp_path(name);
    size_t hlen = strlen(header) + 1;
    size_t prefix = major == 1 ? 10 : 12;
    unsigned char *buf = malloc(prefix + hlen + n);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++) buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + prefix, header, hlen - 1);
    buf[prefix + hlen - 1] = '\n';
    if (n) memcpy(buf + prefix + hlen, data, n);
    write_file(path, buf, prefix + hlen + n);
    free(buf);
    return path;
}

/* t has this shape and dtype, and its values are exactly these bytes (row-major). */
static void expect_exact(const nb_tensor *t, int ndim, const int64_t *shape, nb_dtype dtype, const void *want,
                         size_t nbytes)
{
    cr_assert(t != NULL, "load failed: %s", nb_last_error());
    cr_assert_eq(nb_ndim(t), ndim, "ndim %d, expected %d", nb_ndim(t), ndim);
    for (int i = 0; i < ndim; i++)
        cr_assert_eq(nb_shape(t)[i], shape[i], "size %lld in dim %d, expected %lld", (long long)nb_shape(t)[i], i,
                     (long long)shape[i]);
    cr_assert_eq(nb_dtype_of(t), dtype, "dtype %s, expected %s", nb_dtype_name(nb_dtype_of(t)), nb_dtype_name(dtype));
    cr_assert_eq((size_t)nb_numel(t) * nb_dtype_size(dtype), nbytes);
    unsigned char *got = malloc(nbytes + 1);
    cr_assert_eq(nb_copy_to_array(t, got, nbytes), NB_OK, "%s", nb_last_error());
    cr_assert(memcmp(got, want, nbytes) == 0, "values differ");
    free(got);
}

/* Loads path, expecting NB_ERR_IO with a message naming nb_load_npy, the path and fragment. */
static void expect_load_error(const char *path, const char *fragment)
{
    nb_clear_error();
    nb_tensor *t = nb_load_npy(path);
    cr_assert(t == NULL, "loading %s succeeded; expected a refusal mentioning \"%s\"", path, fragment);
    assert_error(NB_ERR_IO, ERR_PARTS("nb_load_npy", path, fragment));
}

/* Saves t to tmp_dir/name and loads it back; the result must equal t exactly. */
static void round_trip(const nb_tensor *t, const char *name)
{
    const char *path = tmp_path(name);
    cr_assert_eq(nb_save_npy(t, path), NB_OK, "%s", nb_last_error());
    nb_tensor *back = nb_load_npy(path);
    size_t nbytes = (size_t)nb_numel(t) * nb_dtype_size(nb_dtype_of(t));
    unsigned char *want = malloc(nbytes + 1);
    cr_assert_eq(nb_copy_to_array(t, want, nbytes), NB_OK);
    expect_exact(back, nb_ndim(t), nb_shape(t), nb_dtype_of(t), want, nbytes);
    if (nb_numel(t) > 0) cr_assert(nb_is_contiguous(back));
    free(want);
    nb_release(back);
    assert_ok();
}

#define IO_TEST(name) Test(io, name, .init = io_setup, .fini = io_teardown)

/* ---------------------------------------------------------------- round trips */

IO_TEST(round_trip_every_dtype)
{
    const float f32[6] = {1.5f, -2.25f, 0.0f, 3.0e38f, 1.0e-45f, INFINITY};
    const double f64[6] = {1.0 / 3.0, -1e-300, 0x1p60, -INFINITY, 0.1, -0.0};
    const int64_t i64[6] = {INT64_MIN, INT64_MAX, 0, -7, 123456789012345, 42};
    const bool b1[6] = {true, false, false, true, true, false};
    const void *data[4] = {f32, f64, i64, b1};
    const nb_dtype dtypes[4] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    for (int k = 0; k < 4; k++) {
        nb_tensor *t = nb_from_array(data[k], NB_SHAPE(2, 3), NB_OPTS(dtypes[k]));
        round_trip(t, nb_dtype_name(dtypes[k]));
        nb_release(t);
    }
}

IO_TEST(round_trip_nan_keeps_bits)
{
    const float v[2] = {NAN, -NAN};
    nb_tensor *t = nb_from_array(v, NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    round_trip(t, "nan.npy");
    nb_release(t);
}

IO_TEST(round_trip_0d_every_dtype)
{
    const nb_dtype dtypes[4] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    for (int k = 0; k < 4; k++) {
        nb_tensor *t = nb_full(0, no_dims, 1.0 + k, NB_OPTS(dtypes[k]));
        cr_assert(t != NULL, "%s", nb_last_error());
        round_trip(t, "scalar.npy");
        nb_release(t);
    }
}

IO_TEST(round_trip_empty_every_dtype)
{
    const nb_dtype dtypes[4] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    for (int k = 0; k < 4; k++) {
        nb_tensor *a = nb_zeros(NB_SHAPE(0, 3), NB_OPTS(dtypes[k]));
        nb_tensor *b = nb_zeros(NB_SHAPE(3, 0, 2), NB_OPTS(dtypes[k]));
        nb_tensor *c = nb_zeros(NB_SHAPE(0), NB_OPTS(dtypes[k]));
        round_trip(a, "a.npy");
        round_trip(b, "b.npy");
        round_trip(c, "c.npy");
        nb_release(a);
        nb_release(b);
        nb_release(c);
    }
}

IO_TEST(round_trip_transposed_every_dtype)
{
    const nb_dtype dtypes[4] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    for (int k = 0; k < 4; k++) {
        nb_tensor *base = nb_arange(0, 12, 1, NB_OPTS(NB_INT64));
        nb_tensor *m = nb_reshape(base, NB_SHAPE(3, 4));
        nb_tensor *mod = nb_ne_scalar(m, 5); /* one false among trues, for bool */
        nb_tensor *src = dtypes[k] == NB_BOOL ? nb_retain(mod) : nb_to_dtype(m, dtypes[k]);
        nb_tensor *t = nb_t(src); /* (4, 3), strides (1, 4) */
        cr_assert(!nb_is_contiguous(t));
        round_trip(t, "t.npy");
        /* and the values are t's, in t's row-major order */
        nb_tensor *back = nb_load_npy(tmp_path("t.npy"));
        nb_tensor *want = nb_contiguous(t);
        assert_close(back, want, 0, 0);
        nb_release(back);
        nb_release(want);
        nb_release(t);
        nb_release(src);
        nb_release(mod);
        nb_release(m);
        nb_release(base);
    }
}

IO_TEST(round_trip_strided_and_expanded_views)
{
    nb_tensor *base = nb_arange(0, 24, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *cube = nb_reshape(base, NB_SHAPE(2, 3, 4));
    nb_tensor *perm = nb_permute(cube, NB_DIMS(2, 0, 1)); /* (4, 2, 3) */
    nb_tensor *narrow = nb_narrow(cube, 2, 1, 2);         /* (2, 3, 2), offset 1 */
    nb_tensor *col = nb_narrow(cube, 2, 3, 1);            /* (2, 3, 1) */
    nb_tensor *wide = nb_expand(col, NB_SHAPE(2, 3, 5));  /* stride 0 in the last dim */
    nb_tensor *one_d = noncontig(base);                   /* (24,) with stride 2 */
    round_trip(perm, "perm.npy");
    round_trip(narrow, "narrow.npy");
    round_trip(wide, "wide.npy");
    round_trip(one_d, "one_d.npy");
    /* the file of a view holds only the view's elements */
    nb_tensor *back = nb_load_npy(tmp_path("narrow.npy"));
    const float want[12] = {1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22};
    expect_exact(back, NB_SHAPE(2, 3, 2), NB_FLOAT32, want, sizeof want);
    nb_release(back);
    nb_release(one_d);
    nb_release(wide);
    nb_release(col);
    nb_release(narrow);
    nb_release(perm);
    nb_release(cube);
    nb_release(base);
}

IO_TEST(round_trip_eight_dims)
{
    nb_tensor *t = nb_rand(NB_SHAPE(2, 1, 3, 1, 2, 1, 2, 2), NB_OPTS(NB_FLOAT64));
    round_trip(t, "eight.npy");
    nb_release(t);
}

IO_TEST(load_inside_a_scope_is_released_unless_kept)
{
    nb_tensor *t = nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_save_npy(t, tmp_path("s.npy")), NB_OK);
    nb_scope_begin();
    nb_tensor *kept = nb_keep(nb_load_npy(tmp_path("s.npy")));
    nb_load_npy(tmp_path("s.npy")); /* released by the scope */
    cr_assert_eq(nb_scope_end(), NB_OK);
    assert_close(kept, t, 0, 0);
    nb_release(kept);
    nb_release(t);
}

/* ---------------------------------------------------------------- files written by NumPy */

IO_TEST(numpy_float32)
{
    const float want[6] = {1.5f, -2.25f, 0.0f, 3.0e38f, 1.0e-45f, INFINITY};
    nb_tensor *t = golden("npy/f32");
    expect_exact(t, NB_SHAPE(2, 3), NB_FLOAT32, want, sizeof want);
    nb_release(t);
}

IO_TEST(numpy_float64_1d)
{
    const double want[5] = {1.0 / 3.0, -1.0e-300, 0x1p60, -INFINITY, 0.1};
    nb_tensor *t = golden("npy/f64");
    expect_exact(t, NB_SHAPE(5), NB_FLOAT64, want, sizeof want);
    nb_release(t);
}

IO_TEST(numpy_int64)
{
    const int64_t want[6] = {INT64_MIN, INT64_MAX, 0, -7, 123456789012345, 42};
    nb_tensor *t = golden("npy/i64");
    expect_exact(t, NB_SHAPE(3, 2), NB_INT64, want, sizeof want);
    nb_release(t);
}

IO_TEST(numpy_bool)
{
    const bool want[6] = {true, false, false, true, true, false};
    nb_tensor *t = golden("npy/b1");
    expect_exact(t, NB_SHAPE(2, 3), NB_BOOL, want, sizeof want);
    nb_release(t);
}

IO_TEST(numpy_3d)
{
    float want[24];
    for (int i = 0; i < 24; i++) want[i] = (float)i * 0.5f - 3.0f;
    nb_tensor *t = golden("npy/f32_3d");
    expect_exact(t, NB_SHAPE(2, 3, 4), NB_FLOAT32, want, sizeof want);
    nb_release(t);
}

IO_TEST(numpy_version_2)
{
    const int64_t want[6] = {-2, -1, 0, 1, 2, 3};
    nb_tensor *t = golden("npy/v2");
    expect_exact(t, NB_SHAPE(3, 2), NB_INT64, want, sizeof want);
    nb_release(t);
}

IO_TEST(numpy_0d)
{
    const double want = 3.5;
    nb_tensor *t = golden("npy/scalar");
    expect_exact(t, 0, NULL, NB_FLOAT64, &want, sizeof want);
    cr_assert_eq(nb_item(t), 3.5);
    nb_release(t);
}

IO_TEST(numpy_empty)
{
    nb_tensor *t = golden("npy/empty");
    expect_exact(t, NB_SHAPE(0, 3), NB_FLOAT32, "", 0);
    nb_release(t);
}

/* ---------------------------------------------------------------- exact bytes against NumPy */

/* nabla's file for t must equal NumPy's golden/npy/NAME.npy byte for byte. */
static void expect_same_file(const nb_tensor *t, const char *name)
{
    char golden_path[256];
    snprintf(golden_path, sizeof golden_path, "golden/npy/%s.npy", name);
    const char *mine = tmp_path(name);
    cr_assert_eq(nb_save_npy(t, mine), NB_OK, "%s", nb_last_error());
    size_t n_want, n_got;
    unsigned char *want = read_bytes(golden_path, &n_want);
    unsigned char *got = read_bytes(mine, &n_got);
    cr_assert_eq(n_got, n_want, "%s: nabla wrote %zu bytes, NumPy %zu", name, n_got, n_want);
    for (size_t i = 0; i < n_want; i++)
        cr_assert_eq(got[i], want[i], "%s: byte %zu is 0x%02x, NumPy wrote 0x%02x", name, i, got[i], want[i]);
    cr_assert_eq(want[n_want - nb_numel(t) * (int64_t)nb_dtype_size(nb_dtype_of(t)) - 1], '\n');
    free(want);
    free(got);
}

IO_TEST(saved_bytes_match_numpy)
{
    nb_tensor *a = nb_arange(0, 6, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *f32 = nb_reshape(a, NB_SHAPE(2, 3));
    nb_tensor *f64 = nb_arange(-1.5, 3.5, 1, NB_OPTS(NB_FLOAT64)); /* (5,) */
    nb_tensor *i64 = nb_full(0, no_dims, -9, NB_OPTS(NB_INT64));
    nb_tensor *b1 = nb_zeros(NB_SHAPE(0, 4), NB_OPTS(NB_BOOL));
    nb_tensor *wide = nb_full(NB_SHAPE(1, 1, 1, 1, 1, 1, 1, 3), 2, NB_OPTS(NB_FLOAT32));
    expect_same_file(f32, "header_f32");
    expect_same_file(f64, "header_f64");
    expect_same_file(i64, "header_i64");
    expect_same_file(b1, "header_b1");
    expect_same_file(wide, "header_wide");
    nb_release(wide);
    nb_release(b1);
    nb_release(i64);
    nb_release(f64);
    nb_release(f32);
    nb_release(a);
}

IO_TEST(saved_data_starts_at_a_multiple_of_64)
{
    for (int nd = 0; nd <= NB_MAX_DIMS; nd++) {
        int64_t shape[NB_MAX_DIMS];
        for (int i = 0; i < nd; i++) shape[i] = i == 0 ? (nd % 2 ? 100000 : 0) : 1 + i % 2; /* long first sizes too */
        nb_tensor *t = nb_zeros(nd, shape, NB_OPTS(NB_FLOAT64));
        cr_assert_eq(nb_save_npy(t, tmp_path("a.npy")), NB_OK, "%s", nb_last_error());
        size_t n;
        unsigned char *bytes = read_bytes(tmp_path("a.npy"), &n);
        size_t hlen = (size_t)bytes[8] | (size_t)bytes[9] << 8;
        cr_assert_eq(bytes[6], 1);
        cr_assert_eq(bytes[7], 0);
        cr_assert_eq((10 + hlen) % 64, 0, "%d dims: data at byte %zu", nd, 10 + hlen);
        cr_assert_eq(bytes[10 + hlen - 1], '\n');
        cr_assert_eq(n - 10 - hlen, (size_t)nb_numel(t) * 8);
        free(bytes);
        nb_release(t);
    }
}

/* ---------------------------------------------------------------- loading refusals */

#define F32_HEADER(shape) "{'descr': '<f4', 'fortran_order': False, 'shape': " shape ", }"

IO_TEST(load_missing_file)
{
    expect_load_error(tmp_path("absent.npy"), "No such file or directory");
}

IO_TEST(load_null_path)
{
    cr_assert_null(nb_load_npy(NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_load_npy", "path"));
}

IO_TEST(load_directory)
{
    expect_load_error(tmp_dir, "not a regular file");
}

/* A FIFO with no writer: a plain open() would block forever; it is refused at once instead. */
Test(io, load_fifo_is_refused_without_blocking, .init = io_setup, .fini = io_teardown, .timeout = 10)
{
    const char *fifo = tmp_path("pipe.npy");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    expect_load_error(fifo, "a FIFO");
}

IO_TEST(load_empty_file)
{
    write_file(tmp_path("empty.npy"), "", 0);
    expect_load_error(tmp_path("empty.npy"), "the file is empty");
}

IO_TEST(load_bad_magic)
{
    write_file(tmp_path("a.npy"), "\x93NUMPZ\x01\x00\x10\x00{}", 12);
    expect_load_error(tmp_path("a.npy"), "does not start with the magic");
    write_file(tmp_path("b.npy"), "PK\x03\x04", 4); /* an .npz (zip) */
    expect_load_error(tmp_path("b.npy"), "not a NumPy .npy file");
    write_file(tmp_path("c.npy"), "\x93NUM", 4);
    expect_load_error(tmp_path("c.npy"), "not a NumPy .npy file");
}

IO_TEST(load_unsupported_version)
{
    const float v[2] = {1, 2};
    const char *path = write_npy("v4.npy", 4, F32_HEADER("(2,)"), v, sizeof v);
    expect_load_error(path, "unsupported .npy format version 4.0; expected 1.0, 2.0 or 3.0");
    write_file(tmp_path("v11.npy"), "\x93NUMPY\x01\x01\x02\x00{}", 12);
    expect_load_error(tmp_path("v11.npy"), "version 1.1");
    write_file(tmp_path("v0.npy"), "\x93NUMPY\x00\x00\x02\x00{}", 12);
    expect_load_error(tmp_path("v0.npy"), "version 0.0");
}

IO_TEST(load_truncated_preamble)
{
    write_file(tmp_path("a.npy"), "\x93NUMPY\x01", 7);
    expect_load_error(tmp_path("a.npy"), "inside the format version");
    write_file(tmp_path("b.npy"), "\x93NUMPY\x01\x00\x10", 9);
    expect_load_error(tmp_path("b.npy"), "inside the header length of a version 1.0 file");
    write_file(tmp_path("c.npy"), "\x93NUMPY\x02\x00\x10\x00\x00", 11);
    expect_load_error(tmp_path("c.npy"), "inside the header length of a version 2.0 file");
}

IO_TEST(load_header_length_past_end)
{
    write_file(tmp_path("a.npy"), "\x93NUMPY\x01\x00\xff\xff{'descr'", 18);
    expect_load_error(tmp_path("a.npy"), "the header length 65535 runs past the end of the file, which holds 8 bytes");
    /* version 2.0: a 4-byte length near 4 GiB must not be allocated */
    write_file(tmp_path("b.npy"), "\x93NUMPY\x02\x00\xf0\xff\xff\xff{}\n", 15);
    expect_load_error(tmp_path("b.npy"), "the header length 4294967280 runs past the end");
}

IO_TEST(load_header_not_a_dict)
{
    const char *cases[][2] = {
        {"[1, 2, 3]", "expected '{' at byte 0"},
        {"", "expected '{', found the end of the header"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,) }}", "only spaces and a newline after"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,), }", "expected ':' after a key"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }", "expected ',' or '}' after an entry"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", "expected a quoted string, found the end"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }", "expected"},
        {"{descr: '<f4', 'fortran_order': False, 'shape': (2,), }", "expected a quoted string at byte 1"},
        {"{'descr': <f4, 'fortran_order': False, 'shape': (2,), }", "expected a quoted string"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", "expected True or False for 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': false, 'shape': (2,), }", "expected True or False"},
        {"{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,), }", "a short string without escapes"},
    };
    const float v[2] = {1, 2};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = write_npy("a.npy", 1, cases[i][0], v, sizeof v);
        expect_load_error(path, "not a dict literal");
        expect_load_error(path, cases[i][1]);
    }
}

IO_TEST(load_header_keys)
{
    const float v[2] = {1, 2};
    const char *path = write_npy("a.npy", 1, "{'descr': '<f4', 'fortran_order': False, }", v, sizeof v);
    expect_load_error(path, "the header lacks the key 'shape'; expected 'descr', 'fortran_order' and 'shape'");
    path = write_npy("a.npy", 1, "{'shape': (2,)}", v, sizeof v);
    expect_load_error(path, "the header lacks the key 'descr' 'fortran_order'");
    path = write_npy("a.npy", 1, "{}", v, sizeof v);
    expect_load_error(path, "lacks the key 'descr' 'fortran_order' 'shape'");
    path = write_npy("a.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", v, sizeof v);
    expect_load_error(path, "the header has the key 'extra'; expected only 'descr', 'fortran_order' and 'shape'");
    path = write_npy("a.npy", 1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", v, sizeof v);
    expect_load_error(path, "gives the key 'descr' twice");
    /* double quotes, no trailing comma, extra spaces: still a valid dict */
    path = write_npy("ok.npy", 1, " { \"shape\" : ( 2 , ) ,\"fortran_order\":False,\"descr\":\"<f4\"}   ", v, sizeof v);
    nb_tensor *t = nb_load_npy(path);
    expect_exact(t, NB_SHAPE(2), NB_FLOAT32, v, sizeof v);
    nb_release(t);
}

IO_TEST(load_malformed_shape)
{
    const char *cases[][2] = {
        {F32_HEADER("(2 3)"), "expected ',' or ')' in the shape tuple"},
        {F32_HEADER("(6)"), "the header's shape (6) is not a tuple; a 1-d shape is written (n,)"},
        {F32_HEADER("[2, 3]"), "expected a shape tuple such as (2, 3), (5,) or ()"},
        {F32_HEADER("(2, x)"), "expected an integer size"},
        {F32_HEADER("(2.0, 3)"), "expected ',' or ')' in the shape tuple"},
        {F32_HEADER("(,)"), "expected an integer size"},
        {F32_HEADER("(2, 3"), "expected"},
        {F32_HEADER("6"), "expected a shape tuple"},
    };
    const float v[6] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = write_npy("a.npy", 1, cases[i][0], v, sizeof v);
        expect_load_error(path, cases[i][1]);
    }
}

IO_TEST(load_negative_size)
{
    const float v[6] = {0};
    const char *path = write_npy("a.npy", 1, F32_HEADER("(-2, 3)"), v, sizeof v);
    expect_load_error(path, "the header's shape (-2, 3) has a negative size; expected sizes >= 0");
    path = write_npy("b.npy", 1, F32_HEADER("(0, -3)"), v, 0);
    expect_load_error(path, "negative size");
}

IO_TEST(load_absurd_size)
{
    const float v[6] = {0};
    const char *path = write_npy("a.npy", 1, F32_HEADER("(100000000000, 100000000000)"), v, sizeof v);
    expect_load_error(path, "the header's shape (100000000000, 100000000000) is absurd: it would need more than 2^46 bytes of float32");
    path = write_npy("b.npy", 1, F32_HEADER("(99999999999999999999,)"), v, sizeof v);
    expect_load_error(path, "does not fit in 64 bits");
    path = write_npy("c.npy", 1, F32_HEADER("(9223372036854775807, 9223372036854775807)"), v, sizeof v);
    expect_load_error(path, "is absurd");
    /* an empty array whose other sizes would overflow is refused too, as NumPy does */
    path = write_npy("d.npy", 1, F32_HEADER("(0, 9223372036854775807, 4)"), v, 0);
    expect_load_error(path, "is absurd");
    /* a large shape backed by a tiny file is caught by the size check, before any allocation */
    path = write_npy("e.npy", 1, F32_HEADER("(4000000000, 1000)"), v, sizeof v);
    expect_load_error(path, "needs 16000000000000 bytes of float32 data but the file holds 24 after the header");
}

IO_TEST(load_too_many_dims)
{
    const float v[1] = {0};
    const char *path = write_npy("a.npy", 1, F32_HEADER("(1, 1, 1, 1, 1, 1, 1, 1, 1)"), v, sizeof v);
    expect_load_error(path, "the header's shape (1, 1, 1, 1, 1, 1, 1, 1, 1) has 9 dims; nabla tensors have at most 8");
    char header[1024] = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (int i = 0; i < 100; i++) strcat(header, "1,");
    strcat(header, ")}");
    path = write_npy("b.npy", 1, header, v, sizeof v);
    expect_load_error(path, "has at least 64 dims");
}

IO_TEST(load_fortran_order)
{
    const float v[6] = {0};
    const char *path = write_npy("a.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", v, sizeof v);
    expect_load_error(path, "Fortran order");
    expect_load_error(path, "is not supported; expected C order");
}

IO_TEST(load_unsupported_dtypes)
{
    const char *descrs[] = {"<u2", "<i4", "|u1", "<c8", "<c16", "|i1", "<u8", "<U3", "|O", "f4", "<b1", "=f4", "int64", "|V8", ""};
    unsigned char zeros[64] = {0};
    char header[200], fragment[64];
    for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++) {
        snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }", descrs[i]);
        const char *path = write_npy("a.npy", 1, header, zeros, 8);
        snprintf(fragment, sizeof fragment, "unsupported dtype '%s'", descrs[i]);
        expect_load_error(path, fragment);
        expect_load_error(path, "expected '<f4' (float32), '<f8' (float64), '<i8' (int64), '|b1' (bool) or '<f2' (float16)");
    }
    const char *path = write_npy("s.npy", 1, "{'descr': [('x', '<f4'), ('y', '<i8')], 'fortran_order': False, 'shape': (2,), }",
                                 zeros, 24);
    expect_load_error(path, "structured dtype");
}

IO_TEST(load_big_endian)
{
    unsigned char zeros[16] = {0};
    const char *path = write_npy("a.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", zeros, 8);
    expect_load_error(path, "the data is big-endian (descr '>f4'); nabla reads little-endian data only");
    path = write_npy("b.npy", 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", zeros, 16);
    expect_load_error(path, "big-endian (descr '>f8')");
    path = write_npy("c.npy", 1, "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", zeros, 16);
    expect_load_error(path, "big-endian");
}

IO_TEST(load_truncated_data)
{
    unsigned char data[120] = {0};
    const char *path = write_npy("data.npy", 1, F32_HEADER("(1000, 1000)"), data, sizeof data);
    expect_load_error(path, "the header's shape (1000, 1000) needs 4000000 bytes of float32 data but the file holds "
                            "120 after the header");
    path = write_npy("v2.npy", 2, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", data, 23);
    expect_load_error(path, "needs 24 bytes of int64 data but the file holds 23");
    path = write_npy("s.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", data, 0);
    expect_load_error(path, "the header's shape () needs 8 bytes of float64 data but the file holds 0");
}

IO_TEST(load_trailing_bytes_refused)
{
    const float v[3] = {1, 2, 3};
    const char *path = write_npy("a.npy", 1, F32_HEADER("(2,)"), v, sizeof v);
    expect_load_error(path, "needs 8 bytes of float32 data but the file holds 12 after the header; expected exactly 8");
    path = write_npy("b.npy", 1, F32_HEADER("(0,)"), v, 1);
    expect_load_error(path, "trailing bytes are not accepted");
}

IO_TEST(load_version_3_and_python2_sizes)
{
    const int64_t v[4] = {1, -2, 3, -4};
    const char *path = write_npy("v3.npy", 3, "{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 2L), }", v, sizeof v);
    nb_tensor *t = nb_load_npy(path);
    expect_exact(t, NB_SHAPE(2, 2), NB_INT64, v, sizeof v);
    nb_release(t);
}

IO_TEST(load_bool_bytes_become_0_or_1)
{
    const unsigned char raw[4] = {0, 1, 2, 255};
    const char *path = write_npy("b.npy", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", raw, 4);
    nb_tensor *t = nb_load_npy(path);
    const bool want[4] = {false, true, true, true};
    expect_exact(t, NB_SHAPE(4), NB_BOOL, want, sizeof want);
    nb_release(t);
}

IO_TEST(load_keeps_the_first_error)
{
    nb_load_npy(tmp_path("absent.npy"));
    nb_load_npy(tmp_dir);
    assert_error(NB_ERR_IO, ERR_PARTS("nb_load_npy", "absent.npy", "cannot open the file"));
}

/* ---------------------------------------------------------------- saving */

IO_TEST(save_into_missing_directory_fails_and_leaves_nothing)
{
    nb_tensor *t = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    const char *path = tmp_path("no_such_dir/x.npy");
    cr_assert_eq(nb_save_npy(t, path), NB_ERR_IO);
    assert_error(NB_ERR_IO, ERR_PARTS("nb_save_npy", path, "No such file or directory"));
    cr_assert_eq(access(path, F_OK), -1);
    cr_assert_eq(entries_in(tmp_dir), 0);
    nb_release(t);
}

IO_TEST(save_over_a_directory_fails_and_removes_the_temporary)
{
    nb_tensor *t = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    const char *path = tmp_path("taken");
    cr_assert_eq(mkdir(path, 0755), 0);
    cr_assert_eq(nb_save_npy(t, path), NB_ERR_IO);
    assert_error(NB_ERR_IO, ERR_PARTS("nb_save_npy", path, "cannot rename the temporary file over it",
                                      "Is a directory"));
    cr_assert_eq(entries_in(tmp_dir), 1, "the temporary file was left behind");
    cr_assert_eq(entries_in(path), 0);
    nb_release(t);
}

IO_TEST(save_replaces_an_existing_file)
{
    const char *path = tmp_path("w.npy");
    write_file(path, "old contents that are not an npy file", 37);
    cr_assert_eq(chmod(path, 0640), 0);
    nb_tensor *a = nb_full(NB_SHAPE(100), 7, NB_OPTS(NB_FLOAT64));
    nb_tensor *b = nb_full(NB_SHAPE(2), -1, NB_OPTS(NB_INT64));
    cr_assert_eq(nb_save_npy(a, path), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_save_npy(b, path), NB_OK, "%s", nb_last_error()); /* a shorter file over a longer one */
    nb_tensor *back = nb_load_npy(path);
    const int64_t want[2] = {-1, -1};
    expect_exact(back, NB_SHAPE(2), NB_INT64, want, sizeof want);
    cr_assert_eq(entries_in(tmp_dir), 1, "a temporary file was left behind");
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0640, "the replaced file's permissions were not kept: %o", st.st_mode & 0777);
    nb_release(back);
    nb_release(b);
    nb_release(a);
}

IO_TEST(save_new_file_gets_umask_permissions)
{
    mode_t old = umask(027);
    nb_tensor *t = nb_zeros(NB_SHAPE(1), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_save_npy(t, tmp_path("p.npy")), NB_OK);
    struct stat st;
    cr_assert_eq(stat(tmp_path("p.npy"), &st), 0);
    umask(old);
    cr_assert_eq(st.st_mode & 0777, 0640, "mode %o, expected 0640", st.st_mode & 0777);
    nb_release(t);
}

IO_TEST(save_relative_path)
{
    char cwd[512];
    cr_assert(getcwd(cwd, sizeof cwd) != NULL);
    cr_assert_eq(chdir(tmp_dir), 0);
    nb_tensor *t = nb_ones(NB_SHAPE(2, 2), NB_OPTS(NB_BOOL));
    nb_status s = nb_save_npy(t, "rel.npy");
    nb_tensor *back = s == NB_OK ? nb_load_npy("rel.npy") : NULL;
    cr_assert_eq(chdir(cwd), 0);
    cr_assert_eq(s, NB_OK, "%s", nb_last_error());
    assert_close(back, t, 0, 0);
    nb_release(back);
    nb_release(t);
}

IO_TEST(save_null_arguments)
{
    nb_tensor *t = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_save_npy(NULL, tmp_path("a.npy")), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_save_npy", "tensor"));
    cr_assert_eq(nb_save_npy(t, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_save_npy", "path"));
    cr_assert_eq(entries_in(tmp_dir), 0);
    nb_release(t);
}
