/* fashion_data.h — the Fashion-MNIST data set (60,000 training and 10,000 test images of 28x28
 * grey pixels in 10 classes) read from its four IDX files, ready for a fully connected network:
 * images flattened to rows of 784 floats, scaled to [0, 1] and then normalised with the training
 * set's mean and standard deviation, labels as int64 class indices. */
#ifndef NB_SAMPLES_FASHION_DATA_H
#define NB_SAMPLES_FASHION_DATA_H

#include <nabla.h>

/* Where Debian's package dataset-fashion-mnist puts the files. */
#define FASHION_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_PACKAGE "dataset-fashion-mnist"
#define FASHION_PIXELS 784 /* 28 x 28 */
#define FASHION_CLASSES 10
/* The mean and standard deviation of the training images' pixels scaled to [0, 1]. */
#define FASHION_MEAN 0.2860
#define FASHION_STD 0.3530

typedef struct fashion_data {
    nb_tensor *train_images; /* (60000, 784) float32, normalised */
    nb_tensor *train_labels; /* (60000,) int64 in [0, 10) */
    nb_tensor *test_images;  /* (10000, 784) float32, normalised */
    nb_tensor *test_labels;  /* (10000,) int64 in [0, 10) */
} fashion_data;

/* Loads the four files from dir, each as NAME.gz or, failing that, NAME (uncompressed), and
 * checks their shapes. When files are missing, prints (on stderr, after prog) which paths were
 * looked for and how to install the data set; on any other failure prints nabla's message.
 * Returns false then, with nothing left allocated. */
bool fashion_load(const char *prog, const char *dir, fashion_data *data);
/* Keeps the first train training and test test images (0, or more than there are: all of them),
 * for short runs; false after a message, with data released. */
bool fashion_keep_first(const char *prog, fashion_data *data, int64_t train, int64_t test);
void fashion_release(fashion_data *data);

#endif /* NB_SAMPLES_FASHION_DATA_H */
