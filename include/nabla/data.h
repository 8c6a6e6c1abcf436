/* nabla/data.h — reading data sets and feeding batches (included by nabla.h). */
#ifndef NABLA_DATA_H
#define NABLA_DATA_H

#ifdef __cplusplus
extern "C" {
#endif

/* Reads an IDX file (the MNIST family's format), gzip-compressed (.gz) or not, converting its
 * values to dtype: images as float32 (N, rows, cols), labels as int64 (N,). The magic number,
 * element type, dims and sizes are validated against the file; errors name the file and what
 * was wrong. */
NB_API nb_tensor *nb_load_idx(const char *path, nb_dtype dtype);

/* A random permutation of 0 .. n-1 (int64) from nabla's seeded generator. */
NB_API nb_tensor *nb_randperm(int64_t n);

/* Batches of rows of (inputs, targets), shuffled each epoch with nabla's generator and prepared
 * on a background thread a few batches ahead (a bounded queue), so a training step does not
 * wait for them. */
typedef struct nb_loader nb_loader;

typedef struct nb_loader_options {
    int64_t batch_size; /* rows per batch (> 0) */
    bool shuffle;       /* a new order every epoch */
    bool drop_last;     /* skip a last, smaller batch */
    int prefetch;       /* batches prepared ahead; 0 means 4 */
} nb_loader_options;

/* inputs (N, ...) and targets (N, ...) share their first dim; both are retained. */
NB_API nb_loader *nb_loader_new(nb_tensor *inputs, nb_tensor *targets, nb_loader_options opts);
NB_API int64_t nb_loader_num_batches(const nb_loader *l);
/* Starts an epoch: draws the order (in the calling thread, so a seed fixes it) and starts
 * preparing batches. */
NB_API nb_status nb_loader_start_epoch(nb_loader *l);
/* The next batch (new tensors owned by the caller, or the open scope); false at the end of the
 * epoch, or on an error (then nb_last_status() says which). */
NB_API bool nb_loader_next(nb_loader *l, nb_tensor **inputs, nb_tensor **targets);
/* Epochs started so far (0 before the first; a restored checkpoint's count after
 * nb_checkpoint_load), and batches handed out in the current one: together the loader's place. */
NB_API int64_t nb_loader_epoch(const nb_loader *l);
NB_API int64_t nb_loader_position(const nb_loader *l);
/* Stops the background thread and releases everything; NULL does nothing. */
NB_API void nb_loader_free(nb_loader *l);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_DATA_H */
