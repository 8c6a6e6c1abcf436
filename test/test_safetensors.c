/* test_safetensors.c — suite safetensors: nb_save_safetensors, nb_load_safetensors and the
 * nb_tensor_dict they share. Round trips of every dtype and layout (read and mapped), files that
 * Python's safetensors wrote (test/golden/gen_safetensors.py), the exact bytes nabla writes,
 * mapped tensors (copy-on-write, unmapped with the last of them), CUDA saves and loads where a
 * device exists, and a catalogue of malformed files built byte by byte, each refused with its
 * message. */
#include "cuda_checks.h"
#include "files.h"
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmp_dir[64];

static void st_setup(void)
{
    nb_test_setup();
    tmpdir_create(tmp_dir, sizeof tmp_dir, "safetensors");
}

static void st_teardown(void) { tree_remove(tmp_dir); }

TestSuite(safetensors, .init = st_setup, .fini = st_teardown);

static const char *tmp_path(const char *name) { return path_join(tmp_dir, name); }

/* A file: the 8-byte length hlen, then the header text, then n data bytes. */
static const char *write_raw(const char *name, uint64_t hlen, const char *header, const void *data, size_t n)
{
    size_t len = strlen(header);
    unsigned char *buf = malloc(8 + len + n + 1);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, header, len);
    if (n) memcpy(buf + 8 + len, data, n);
    const char *path = tmp_path(name);
    write_file(path, buf, 8 + len + n);
    free(buf);
    return path;
}

/* A file whose length field matches the header. */
static const char *write_st(const char *name, const char *header, const void *data, size_t n)
{
    return write_raw(name, strlen(header), header, data, n);
}

/* The load of path is refused with NB_ERR_IO and a message holding path and every fragment. */
static void refused(const char *path, int nparts, const char *const *parts)
{
    nb_tensor_dict *d = nb_load_safetensors(path, NULL);
    cr_assert_null(d, "%s loaded", path);
    cr_assert_eq(nb_last_status(), NB_ERR_IO, "status %s: %s", nb_status_name(nb_last_status()), nb_last_error());
    cr_assert(strstr(nb_last_error(), "nb_load_safetensors: ") == nb_last_error(), "%s", nb_last_error());
    cr_assert(strstr(nb_last_error(), path), "the message names the file: %s", nb_last_error());
    for (int i = 0; i < nparts; i++)
        cr_assert(strstr(nb_last_error(), parts[i]), "no '%s' in: %s", parts[i], nb_last_error());
    nb_clear_error();
    nb_safetensors_options o = {.mmap = true}; /* the mapped load reads the same checks */
    cr_assert_null(nb_load_safetensors(path, &o));
    cr_assert_eq(nb_last_status(), NB_ERR_IO, "%s", nb_last_error());
    nb_clear_error();
}

/* ---------------------------------------------------------------- round trips */

static void check_round_trip(bool map)
{
    nb_manual_seed(11);
    nb_tensor *w = nb_randn(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32));
    nb_tensor *wt = nb_t(w);                                           /* (4, 3) non-contiguous */
    nb_tensor *s = nb_full(0, NULL, -0.25, NB_OPTS(NB_FLOAT64));       /* () */
    nb_tensor *e = nb_zeros(NB_SHAPE(0, 4), NB_OPTS(NB_INT64));        /* (0, 4) */
    nb_tensor *b = nb_lt_scalar(w, 0);                                 /* (3, 4) bool */
    nb_tensor *row = nb_arange(0, 5, 1, NB_OPTS(NB_INT64));
    nb_tensor *row1 = nb_unsqueeze(row, 0);                            /* (1, 5) */
    nb_tensor *x = nb_expand(row1, NB_SHAPE(2, 5));                    /* (2, 5) stride 0 */
    nb_tensor *h = nb_to_dtype(wt, NB_FLOAT16), *bh = nb_to_dtype(w, NB_BFLOAT16); /* (4, 3), (3, 4) */
    nb_tensor *ts[] = {wt, s, e, b, x, h, bh};
    const char *names[] = {"w.t", "scalar", "empty", "négatif", "expanded", "half", "bfloat"};
    const char *keys[] = {"format", "step"}, *vals[] = {"pt", "1000"};
    nb_str_map meta = {2, keys, vals};
    const char *path = tmp_path("round.safetensors");
    cr_assert_eq(nb_save_safetensors(path, 7, names, ts, &meta), NB_OK, "%s", nb_last_error());
    cr_assert_eq(entries_in(tmp_dir), 1, "no temporary file is left");

    nb_safetensors_options o = {.mmap = map};
    nb_tensor_dict *d = nb_load_safetensors(path, &o);
    cr_assert(d, "%s", nb_last_error());
    cr_assert_eq(nb_tensor_dict_count(d), 7);
    for (int i = 0; i < 7; i++) {
        cr_assert_str_eq(nb_tensor_dict_name_at(d, i), names[i], "entries keep the order they were saved in");
        nb_tensor *got = nb_tensor_dict_get(d, names[i]);
        cr_assert_eq(got, nb_tensor_dict_at(d, i));
        cr_assert(nb_is_contiguous(got));
        cr_assert_eq(nb_dtype_of(got), nb_dtype_of(ts[i]));
        assert_close(got, ts[i], 0, 0);
    }
    const nb_str_map *m = nb_tensor_dict_metadata(d);
    cr_assert_eq(m->n, 2);
    cr_assert_str_eq(m->keys[0], "format");
    cr_assert_str_eq(m->values[0], "pt");
    cr_assert_str_eq(m->keys[1], "step");
    cr_assert_str_eq(m->values[1], "1000");
    nb_tensor_dict_free(d);
    for (int i = 0; i < 7; i++) nb_release(ts[i]);
    nb_release(w);
    nb_release(row1);
    nb_release(row);
    assert_ok();
}

Test(safetensors, round_trip_every_dtype_and_layout) { check_round_trip(false); }
Test(safetensors, round_trip_mapped) { check_round_trip(true); }

Test(safetensors, exact_bytes_written)
{
    nb_tensor *a = nb_from_array((const float[]){1, 2}, NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_from_array((const int64_t[]){7}, NB_SHAPE(1), NB_OPTS(NB_INT64));
    const char *keys[] = {"k"}, *vals[] = {"v"};
    nb_str_map meta = {1, keys, vals};
    const char *path = tmp_path("exact.safetensors");
    cr_assert_eq(nb_save_safetensors(path, 2, (const char *[]){"a", "b"}, (nb_tensor *[]){a, b}, &meta), NB_OK);
    size_t n;
    unsigned char *got = read_bytes(path, &n);
    /* int64 first (larger elements), then float32; the header padded to a multiple of 8 */
    const char *json = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                       "\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}";
    size_t len = strlen(json), padded = (len + 7) / 8 * 8;
    cr_assert_eq(n, 8 + padded + 16, "%zu bytes", n);
    cr_assert_eq(got[0], padded);
    cr_assert(memcmp(got + 8, json, len) == 0, "header: %.*s", (int)padded, got + 8);
    for (size_t i = len; i < padded; i++) cr_assert_eq(got[8 + i], ' ');
    int64_t seven;
    float two[2];
    memcpy(&seven, got + 8 + padded, 8);
    memcpy(two, got + 8 + padded + 8, 8);
    cr_assert(seven == 7 && two[0] == 1 && two[1] == 2);
    free(got);
    nb_release(a);
    nb_release(b);
}

Test(safetensors, empty_file_of_no_tensors)
{
    const char *path = tmp_path("none.safetensors");
    cr_assert_eq(nb_save_safetensors(path, 0, NULL, NULL, NULL), NB_OK, "%s", nb_last_error());
    nb_tensor_dict *d = nb_load_safetensors(path, NULL);
    cr_assert(d, "%s", nb_last_error());
    cr_assert_eq(nb_tensor_dict_count(d), 0);
    cr_assert_eq(nb_tensor_dict_metadata(d)->n, 0);
    nb_tensor_dict_free(d);
}

/* ---------------------------------------------------------------- files Python wrote */

static void check_golden(const char *file, const char *prefix, int count, const char *const *names)
{
    char path[256];
    snprintf(path, sizeof path, "golden/safetensors_%s.safetensors", file);
    for (int map = 0; map < 2; map++) {
        nb_safetensors_options o = {.mmap = map};
        nb_tensor_dict *d = nb_load_safetensors(path, &o);
        cr_assert(d, "%s", nb_last_error());
        cr_assert_eq(nb_tensor_dict_count(d), count);
        for (int i = 0; i < count; i++) {
            char golden_name[128];
            int k = snprintf(golden_name, sizeof golden_name, "safetensors/%s_", prefix);
            for (const char *c = names[i]; *c; c++) /* as gen_safetensors.py's file_name */
                golden_name[k++] = ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                                    *c == '.') ? *c : '_';
            golden_name[k] = '\0';
            nb_tensor *want = golden(golden_name);
            nb_tensor *got = nb_tensor_dict_get(d, names[i]);
            cr_assert(got, "%s: %s", names[i], nb_last_error());
            /* half values come as float32 .npy (numpy has no bfloat16), each exactly */
            nb_tensor *as_want = nb_to_dtype(got, nb_dtype_of(want));
            assert_close(as_want, want, 0, 0);
            nb_release(as_want);
            nb_release(want);
        }
        nb_tensor_dict_free(d);
    }
}

Test(safetensors, files_python_wrote)
{
    const char *np_names[] = {"weight", "bias", "steps", "mask", "scale", "nothing", "odd.name/with spaces"};
    check_golden("numpy", "numpy", 7, np_names);
    const char *pt_names[] = {"layer.0.weight", "layer.0.bias", "embed", "labels", "flags"};
    check_golden("torch", "torch", 5, pt_names);
    const char *half_names[] = {"half", "bhalf", "specials"}; /* F16, BF16, F16 (values as float32) */
    check_golden("half", "half", 3, half_names);
    nb_tensor_dict *h = nb_load_safetensors("golden/safetensors_half.safetensors", NULL);
    cr_assert_eq(nb_dtype_of(nb_tensor_dict_get(h, "half")), NB_FLOAT16);
    cr_assert_eq(nb_dtype_of(nb_tensor_dict_get(h, "bhalf")), NB_BFLOAT16);
    nb_tensor_dict_free(h);
    nb_tensor_dict *d = nb_load_safetensors("golden/safetensors_numpy.safetensors", NULL);
    const nb_str_map *m = nb_tensor_dict_metadata(d);
    cr_assert_eq(m->n, 3);
    const char *note = NULL; /* the Python writer orders metadata as its hash map does */
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], "note") == 0) note = m->values[i];
    cr_assert(note);
    cr_assert_str_eq(note, "höhe — 高さ");
    cr_assert_eq(nb_ndim(nb_tensor_dict_get(d, "scale")), 0);
    nb_tensor_dict_free(d);
}

/* ---------------------------------------------------------------- mapped loads */

/* Lines of /proc/self/maps that map path. */
static int mappings_of(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, path)) n++;
    fclose(f);
    return n;
}

Test(safetensors, mapped_tensors_are_copy_on_write_views)
{
    nb_tensor *a = nb_arange(0, 6, 1, NB_OPTS(NB_FLOAT64));
    nb_tensor *b = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    const char *path = tmp_path("mapped.safetensors");
    char real[4096];
    cr_assert(realpath(tmp_dir, real));
    snprintf(real + strlen(real), sizeof real - strlen(real), "/mapped.safetensors");
    cr_assert_eq(nb_save_safetensors(path, 2, (const char *[]){"a", "b"}, (nb_tensor *[]){a, b}, NULL), NB_OK);
    nb_safetensors_options o = {.mmap = true};
    nb_tensor_dict *d = nb_load_safetensors(path, &o);
    cr_assert(d, "%s", nb_last_error());
    cr_assert(mappings_of(real) > 0, "the file is mapped");
    nb_tensor *ma = nb_retain(nb_tensor_dict_get(d, "a"));
    nb_tensor_dict_free(d); /* a outlives the dict */
    cr_assert(mappings_of(real) > 0, "a still maps the file");
    nb_mul_scalar_(ma, 10);
    assert_values(ma, (const double[]){0, 10, 20, 30, 40, 50}, 6, 0, 0);
    nb_tensor_dict *again = nb_load_safetensors(path, NULL);
    assert_close(nb_tensor_dict_get(again, "a"), a, 0, 0); /* the file is unchanged */
    nb_tensor_dict_free(again);
    nb_release(ma);
    cr_assert_eq(mappings_of(real), 0, "unmapped with the last tensor");
    nb_release(a);
    nb_release(b);
}

Test(safetensors, bools_read_as_zero_or_one)
{
    const char *path = write_st("bools.safetensors", "{\"m\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}",
                                "\x00\x01\x02\xff", 4);
    for (int map = 0; map < 2; map++) {
        nb_safetensors_options o = {.mmap = map};
        nb_tensor_dict *d = nb_load_safetensors(path, &o);
        cr_assert(d, "%s", nb_last_error());
        const unsigned char *v = nb_data(nb_tensor_dict_get(d, "m"));
        cr_assert(v[0] == 0 && v[1] == 1 && v[2] == 1 && v[3] == 1);
        nb_tensor_dict_free(d);
    }
}

Test(safetensors, unaligned_data_is_copied_when_mapped)
{
    /* one bool then a float64 at data offset 1: the float64 cannot be a view */
    unsigned char data[9] = {1};
    double v = 1.25;
    memcpy(data + 1, &v, 8);
    const char *path = write_st("unaligned.safetensors",
                                "{\"m\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]},"
                                "\"x\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[1,9]}}",
                                data, 9);
    nb_safetensors_options o = {.mmap = true};
    nb_tensor_dict *d = nb_load_safetensors(path, &o);
    cr_assert(d, "%s", nb_last_error());
    cr_assert_float_eq(nb_item(nb_tensor_dict_get(d, "x")), 1.25, 0);
    nb_tensor_dict_free(d);
}

/* ---------------------------------------------------------------- CUDA */

Test(safetensors, cuda_save_and_load, .init = cuda_test_setup, .fini = st_teardown)
{
    tmpdir_create(tmp_dir, sizeof tmp_dir, "safetensors");
    nb_tensor *h = nb_arange(0, 12, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *hv = nb_reshape(h, NB_SHAPE(3, 4));
    nb_tensor *g = nb_to(hv, NB_DEVICE_CUDA(0));
    nb_tensor *gt = nb_t(g); /* non-contiguous on the device */
    const char *path = tmp_path("cuda.safetensors");
    cr_assert_eq(nb_save_safetensors(path, 1, (const char *[]){"g"}, &gt, NULL), NB_OK, "%s", nb_last_error());
    for (int map = 0; map < 2; map++) {
        nb_safetensors_options o = {.device = NB_DEVICE_CUDA(0), .mmap = map};
        nb_tensor_dict *d = nb_load_safetensors(path, &o);
        cr_assert(d, "%s", nb_last_error());
        nb_tensor *got = nb_tensor_dict_get(d, "g");
        cr_assert_eq(nb_device_of(got).type, NB_CUDA);
        cuda_assert_close(got, gt, NB_DEVICE_CUDA(0), 0, "loaded onto cuda:0");
        nb_tensor_dict_free(d);
    }
    nb_release(gt);
    nb_release(g);
    nb_release(hv);
    nb_release(h);
}

/* ---------------------------------------------------------------- dict and save errors */

Test(safetensors, dict_lookups)
{
    nb_tensor *a = nb_zeros(NB_SHAPE(1), NB_OPTS(NB_FLOAT32));
    const char *path = tmp_path("dict.safetensors");
    cr_assert_eq(nb_save_safetensors(path, 1, (const char *[]){"a"}, &a, NULL), NB_OK);
    nb_tensor_dict *d = nb_load_safetensors(path, NULL);
    cr_assert_null(nb_tensor_dict_get(d, "b"));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_tensor_dict_get: no tensor named 'b' among the dict's 1"));
    cr_assert_null(nb_tensor_dict_name_at(d, 1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_tensor_dict_name_at: index 1 is out of range for a dict of 1 tensors"));
    cr_assert_null(nb_tensor_dict_at(d, -1));
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_tensor_dict_at: index -1 is out of range"));
    cr_assert_eq(nb_tensor_dict_count(NULL), 0);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_tensor_dict_count"));
    nb_tensor_dict_free(d);
    nb_tensor_dict_free(NULL);
    nb_release(a);
}

Test(safetensors, save_refusals)
{
    nb_tensor *a = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    const char *path = tmp_path("bad.safetensors");
    cr_assert_eq(nb_save_safetensors(path, 2, (const char *[]){"x", "x"}, (nb_tensor *[]){a, b}, NULL), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_save_safetensors", path, "the name 'x' is given twice"));
    cr_assert_eq(nb_save_safetensors(path, 1, (const char *[]){"__metadata__"}, &a, NULL), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_save_safetensors", "names[0] is \"__metadata__\""));
    cr_assert_eq(nb_save_safetensors(path, 1, (const char *[]){""}, &a, NULL), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_save_safetensors", "names[0] is empty"));
    cr_assert_eq(nb_save_safetensors(path, 1, (const char *[]){"\xc3\x28"}, &a, NULL), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_save_safetensors", "names[0] is not valid UTF-8"));
    cr_assert_eq(nb_save_safetensors(path, 2, (const char *[]){"x", "y"}, (nb_tensor *[]){a, NULL}, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_save_safetensors", "tensors[1] ('y') is NULL"));
    cr_assert_eq(nb_save_safetensors(path, 1, (const char *[]){NULL}, &a, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_save_safetensors", "names[0] is NULL"));
    cr_assert_eq(nb_save_safetensors(path, -1, NULL, NULL, NULL), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_save_safetensors", "n is -1"));
    cr_assert_eq(nb_save_safetensors(NULL, 1, (const char *[]){"x"}, &a, NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_save_safetensors", "path"));
    const char *keys[] = {"k", "k"}, *vals[] = {"1", "2"};
    nb_str_map meta = {2, keys, vals};
    cr_assert_eq(nb_save_safetensors(path, 1, (const char *[]){"x"}, &a, &meta), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_save_safetensors", "the metadata key 'k' is given twice"));
    cr_assert_eq(nb_save_safetensors(tmp_path("no/such/dir.safetensors"), 1, (const char *[]){"x"}, &a, NULL),
                 NB_ERR_IO);
    assert_error(NB_ERR_IO, ERR_PARTS("nb_save_safetensors", "no/such/dir.safetensors"));
    cr_assert_eq(entries_in(tmp_dir), 0, "nothing was written");
    nb_release(a);
    nb_release(b);
}

/* ---------------------------------------------------------------- the catalogue of bad files */

#define ENTRY(name, dtype, shape, b, e) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

Test(safetensors, refuses_short_and_oversized_headers)
{
    write_file(tmp_path("tiny"), "\x01\x02\x03", 3);
    refused(tmp_path("tiny"), ERR_PARTS("holds 3 bytes, too few for the 8-byte header length"));
    refused(write_raw("past_end", 1000, "{\"a\":1}", NULL, 0),
            ERR_PARTS("the header length 1000 runs past the end of the file, which holds 7 bytes after the 8-byte length"));
    refused(write_raw("huge", (uint64_t)1 << 40, "{}", NULL, 0),
            ERR_PARTS("the header length 1099511627776 is larger than the limit of 100000000 bytes"));
    refused(write_raw("huge_2", UINT64_MAX, "{}", NULL, 0), ERR_PARTS("larger than the limit of 100000000 bytes"));
    refused(write_raw("zero", 0, "", NULL, 0), ERR_PARTS("the header length is 0"));
    /* a header cut short: its length says fewer bytes than the JSON needs */
    refused(write_raw("truncated", 20, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 0),
            ERR_PARTS("the header is not valid JSON (at byte"));
    refused(write_st("garbage", "{} x", NULL, 0), ERR_PARTS("the header has text after its JSON object (at byte 3)"));
    refused(write_st("array", "[1, 2]", NULL, 0), ERR_PARTS("the header is not a JSON object of tensors"));
    refused(tmp_path("missing"), ERR_PARTS("missing"));
}

Test(safetensors, refuses_bad_offsets)
{
    const char zeros[64] = {0};
    refused(write_st("overlap", "{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("b", "F32", "[2]", 4, 12) "}", zeros, 12),
            ERR_PARTS("tensor 'b': data_offsets [4, 12] overlap tensor 'a', which ends at 8"));
    refused(write_st("gap", "{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("b", "F32", "[1]", 12, 16) "}", zeros, 16),
            ERR_PARTS("tensor 'b': data_offsets [12, 16] leave a gap of 4 bytes after a"));
    refused(write_st("late_start", "{" ENTRY("a", "F32", "[1]", 4, 8) "}", zeros, 8),
            ERR_PARTS("tensor 'a': data_offsets [4, 8] leave a gap of 4 bytes after the header"));
    refused(write_st("mismatch", "{" ENTRY("a", "F64", "[3]", 0, 20) "}", zeros, 20),
            ERR_PARTS("tensor 'a': dtype F64 and shape [3] need 24 bytes but data_offsets [0, 20] hold 20"));
    refused(write_st("past_data", "{" ENTRY("a", "F32", "[4]", 0, 16) "}", zeros, 8),
            ERR_PARTS("tensor 'a': data_offsets [0, 16] run past the end of the file, which holds 8 bytes of data"));
    refused(write_st("backwards", "{" ENTRY("a", "F32", "[1]", 8, 4) "}", zeros, 8),
            ERR_PARTS("tensor 'a': data_offsets [8, 4] end before they begin"));
    refused(write_st("trailing", "{" ENTRY("a", "F32", "[1]", 0, 4) "}", zeros, 12),
            ERR_PARTS("the tensors' data ends at byte 4 of the data, but the file holds 12", "trailing bytes"));
    refused(write_st("offsets_type", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", zeros, 4),
            ERR_PARTS("tensor 'a': its \"data_offsets\" is not a pair [begin, end]"));
    refused(write_st("offsets_float", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", zeros, 4),
            ERR_PARTS("tensor 'a': its \"data_offsets\" is not a pair"));
}

Test(safetensors, refuses_bad_entries)
{
    const char zeros[64] = {0};
    refused(write_st("duplicate", "{" ENTRY("a", "F32", "[1]", 0, 4) "," ENTRY("a", "F32", "[1]", 4, 8) "}", zeros, 8),
            ERR_PARTS("tensor 'a' is named twice in the header"));
    refused(write_st("f16_short", "{" ENTRY("h", "F16", "[3]", 0, 4) "}", zeros, 4),
            ERR_PARTS("tensor 'h': dtype F16 and shape [3] need 6 bytes but data_offsets [0, 4] hold 4"));
    refused(write_st("i32", "{" ENTRY("i", "I32", "[1]", 0, 4) "}", zeros, 4),
            ERR_PARTS("tensor 'i': dtype I32 is not supported; expected F32, F64, I64, BOOL, F16 or BF16"));
    refused(write_st("unknown", "{" ENTRY("u", "Q7", "[1]", 0, 4) "}", zeros, 4), ERR_PARTS("tensor 'u': unknown dtype 'Q7'"));
    refused(write_st("negative", "{" ENTRY("n", "F32", "[2,-1]", 0, 0) "}", NULL, 0),
            ERR_PARTS("tensor 'n': size 1 of its shape is not a whole number >= 0"));
    refused(write_st("nine_dims", "{" ENTRY("n", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) "}", zeros, 4),
            ERR_PARTS("tensor 'n': its shape has 9 dims; nabla tensors have at most 8"));
    refused(write_st("overflow", "{" ENTRY("n", "F32", "[1099511627776,1099511627776]", 0, 4) "}", zeros, 4),
            ERR_PARTS("tensor 'n':", "too large"));
    refused(write_st("lacks", "{\"n\":{\"dtype\":\"F32\",\"shape\":[1]}}", zeros, 4),
            ERR_PARTS("tensor 'n': it lacks \"data_offsets\""));
    refused(write_st("not_object", "{\"n\":[1,2]}", NULL, 0), ERR_PARTS("tensor 'n': its value is not an object"));
    refused(write_st("empty_name", "{" ENTRY("", "F32", "[1]", 0, 4) "}", zeros, 4), ERR_PARTS("a tensor has an empty name"));
    refused(write_st("non_utf8", "{" ENTRY("\xc3\x28", "F32", "[1]", 0, 4) "}", zeros, 4),
            ERR_PARTS("the header is not valid UTF-8 text"));
    refused(write_st("nul_escape", "{" ENTRY("a\\u0000b", "F32", "[1]", 0, 4) "}", zeros, 4),
            ERR_PARTS("escaped NUL character"));
    refused(write_st("meta_value", "{\"__metadata__\":{\"k\":1}}", NULL, 0),
            ERR_PARTS("\"__metadata__\" entry 'k' is not a string"));
    refused(write_st("meta_type", "{\"__metadata__\":[\"k\"]}", NULL, 0),
            ERR_PARTS("\"__metadata__\" is not an object of strings"));
}

Test(safetensors, refuses_deep_nesting_before_parsing)
{
    size_t depth = 200000; /* far past cJSON's own limit, and past any stack a recursive parser has */
    char *text = malloc(2 * depth + 1);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    text[2 * depth] = '\0';
    refused(write_st("deep", text, NULL, 0), ERR_PARTS("the header's JSON nests more than 3 levels deep"));
    free(text);
    refused(write_st("deep_4", "{\"a\":{\"dtype\":\"F32\",\"shape\":[[1]],\"data_offsets\":[0,4]}}", NULL, 0),
            ERR_PARTS("nests more than 3 levels deep"));
    /* brackets inside strings are not nesting */
    const char zeros[4] = {0};
    const char *ok = write_st("brackets", "{\"[[[{{{\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", zeros, 4);
    nb_tensor_dict *d = nb_load_safetensors(ok, NULL);
    cr_assert(d, "%s", nb_last_error());
    cr_assert_str_eq(nb_tensor_dict_name_at(d, 0), "[[[{{{");
    nb_tensor_dict_free(d);
}

Test(safetensors, refuses_what_is_not_a_file)
{
    refused(tmp_dir, ERR_PARTS("a directory"));
    nb_safetensors_options o = {.device = NB_DEVICE_CUDA(7)};
    cr_assert_null(nb_load_safetensors("golden/safetensors_numpy.safetensors", &o));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_load_safetensors", "cannot load onto cuda:7"));
    cr_assert_null(nb_load_safetensors(NULL, NULL));
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_load_safetensors", "path"));
}
