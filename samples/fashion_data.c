/* fashion_data.c — finding, reading (nb_load_idx) and preparing the Fashion-MNIST files. */
#include "fashion_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The four files, in the order of fashion_data's fields. */
enum { TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS, FILE_COUNT };
static const char *const file_names[FILE_COUNT] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};
static const int64_t file_rows[FILE_COUNT] = {60000, 60000, 10000, 10000};

/* dir/name.gz if it can be read, else dir/name if it can, into path; false when neither can. */
static bool find_file(const char *dir, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s.gz", dir, name);
    if (access(path, R_OK) == 0) return true;
    snprintf(path, size, "%s/%s", dir, name);
    return access(path, R_OK) == 0;
}

static void print_missing(const char *prog, const char *dir, const bool found[FILE_COUNT])
{
    struct stat st;
    bool is_dir = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    fprintf(stderr, "%s: the Fashion-MNIST data set is not complete in %s%s; looked for:\n", prog, dir,
            is_dir ? "" : " (there is no such folder)");
    for (int k = 0; k < FILE_COUNT; k++)
        fprintf(stderr, "  %s/%s.gz (or %s/%s)%s\n", dir, file_names[k], dir, file_names[k],
                found[k] ? "" : ": missing");
    fprintf(stderr, "%s: install the Debian package " FASHION_PACKAGE " (apt-get install " FASHION_PACKAGE
                    ") or pass --data DIR\n", prog);
}

/* Images (rows, 28, 28) as normalised (rows, 784) floats; labels as they are. NULL (after a
 * message) on failure, or on a shape that is not the data set's. */
static nb_tensor *load_one(const char *prog, const char *path, int k)
{
    bool images = k == TRAIN_IMAGES || k == TEST_IMAGES;
    nb_clear_error();
    nb_tensor *raw = nb_load_idx(path, images ? NB_FLOAT32 : NB_INT64);
    if (!raw) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        return NULL;
    }
    const int64_t *shape = nb_shape(raw);
    bool ok = images ? nb_ndim(raw) == 3 && shape[0] == file_rows[k] && shape[1] == 28 && shape[2] == 28
                     : nb_ndim(raw) == 1 && shape[0] == file_rows[k];
    if (!ok) {
        char got[160];
        fprintf(stderr, "%s: %s holds %s values; expected %s of %lld rows\n", prog, path,
                nb_shape_string(raw, got, sizeof got), images ? "(rows, 28, 28) images" : "(rows,) labels",
                (long long)file_rows[k]);
        nb_release(raw);
        return NULL;
    }
    if (!images) return raw;

    /* (pixel / 255 - mean) / std, as torchvision's ToTensor and Normalize do, in place */
    nb_mul_scalar_(raw, 1.0 / (255.0 * FASHION_STD));
    nb_add_scalar_(raw, -FASHION_MEAN / FASHION_STD);
    nb_tensor *flat = nb_reshape(raw, NB_SHAPE(file_rows[k], FASHION_PIXELS)); /* (rows, 784) */
    nb_release(raw);
    if (!flat) fprintf(stderr, "%s: cannot prepare %s: %s\n", prog, path, nb_last_error());
    return flat;
}

bool fashion_load(const char *prog, const char *dir, fashion_data *data)
{
    *data = (fashion_data){0};
    char paths[FILE_COUNT][4096];
    bool found[FILE_COUNT], all = true;
    for (int k = 0; k < FILE_COUNT; k++) {
        found[k] = find_file(dir, file_names[k], paths[k], sizeof paths[k]);
        all = all && found[k];
    }
    if (!all) {
        print_missing(prog, dir, found);
        return false;
    }

    nb_tensor **fields[FILE_COUNT] = {&data->train_images, &data->train_labels, &data->test_images,
                                      &data->test_labels};
    for (int k = 0; k < FILE_COUNT; k++) {
        *fields[k] = load_one(prog, paths[k], k);
        if (!*fields[k]) {
            fashion_release(data);
            return false;
        }
    }
    return true;
}

/* t's first n rows as a tensor of its own (t released); NULL on a failure. */
static nb_tensor *first_rows(nb_tensor *t, int64_t n)
{
    nb_tensor *view = nb_narrow(t, 0, 0, n);
    nb_tensor *rows = nb_contiguous(view); /* (n, ...) */
    nb_release(view);
    nb_release(t);
    return rows;
}

bool fashion_keep_first(const char *prog, fashion_data *data, int64_t train, int64_t test)
{
    nb_clear_error();
    if (train > 0 && train < nb_size(data->train_images, 0)) {
        data->train_images = first_rows(data->train_images, train);
        data->train_labels = first_rows(data->train_labels, train);
    }
    if (test > 0 && test < nb_size(data->test_images, 0)) {
        data->test_images = first_rows(data->test_images, test);
        data->test_labels = first_rows(data->test_labels, test);
    }
    if (nb_last_status() == NB_OK) return true;
    fprintf(stderr, "%s: cannot take the first images: %s\n", prog, nb_last_error());
    fashion_release(data);
    return false;
}

void fashion_release(fashion_data *data)
{
    nb_release(data->train_images);
    nb_release(data->train_labels);
    nb_release(data->test_images);
    nb_release(data->test_labels);
    *data = (fashion_data){0};
}
