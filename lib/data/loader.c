/* loader.c — nb_loader: batches of rows of (inputs, targets), prepared on a background thread.
 *
 * Each epoch's order is drawn in the calling thread (nb_randperm, so nb_manual_seed fixes it).
 * A worker thread then builds the batches in that order — new contiguous tensors gathered by
 * copying rows of the (contiguous) sources — and pushes them into a bounded ring of `prefetch`
 * slots guarded by a mutex and two condition variables. nb_loader_next pops one, blocking until
 * it is ready, and hands it to the caller's open scope if there is one: scopes are per thread, so
 * tensors made on the worker belong to no scope until then.
 *
 * An error on the worker (an allocation that fails) ends its epoch; its status and message are
 * carried over and set in the consumer's thread by nb_loader_next. Starting an epoch while one
 * is in progress, and nb_loader_free, cancel the worker, join it and release what it queued.
 *
 * The sources are read by the worker while an epoch runs: do not modify them in place then. */
#include "../error.h"
#include "../tensor.h"
#include "../train_state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOADER_DEFAULT_PREFETCH 4

typedef struct loader_batch {
    nb_tensor *inputs;  /* (batch, ...) */
    nb_tensor *targets; /* (batch, ...) */
} loader_batch;

struct nb_loader {
    /* fixed at creation */
    nb_tensor *inputs;  /* (n, ...) contiguous, owned */
    nb_tensor *targets; /* (n, ...) contiguous, owned */
    int64_t n, batch_size, num_batches;
    size_t input_row_bytes, target_row_bytes;
    bool shuffle;

    /* this epoch's order, written before the worker starts and read only by it */
    nb_tensor *order; /* (n,) int64, owned; NULL without shuffle (rows in order) */
    bool epoch_started;
    int64_t epoch;       /* epochs started so far */
    int64_t position;    /* batches handed out in the current epoch */
    int64_t first_batch; /* where the worker starts: 0, or a restored position */

    pthread_t worker;
    bool worker_running; /* touched by the consumer thread only */

    /* shared with the worker: everything below is guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t not_full;  /* signalled when a slot frees up, or on cancel */
    pthread_cond_t not_empty; /* signalled when a batch is queued, or the worker finishes */
    loader_batch *ring;       /* (capacity,) */
    int capacity, head, count;
    bool cancel;          /* the consumer asks the worker to stop */
    bool done;            /* the worker has queued its last batch (or failed) */
    nb_status error;      /* the worker's failure, NB_OK if none */
    char message[1024];   /* its message */

    int64_t fail_at; /* test hook: the worker fails building this batch; -1 never */
};

/* ---------------------------------------------------------------- the worker */

/* The rows of src (n, ...) at order[first .. first + count) (or first .. first + count - 1 when
 * order is NULL), gathered into a new contiguous (count, ...) tensor; NULL and an error in this
 * thread on failure. */
static nb_tensor *gather_rows(const nb_tensor *src, size_t row_bytes, const int64_t *order, int64_t first,
                              int64_t count)
{
    int64_t shape[NB_MAX_DIMS];
    memcpy(shape, src->shape, (size_t)src->ndim * sizeof(int64_t));
    shape[0] = count;
    nb_tensor *out = nb__alloc("nb_loader_next", src->ndim, shape, src->dtype, NB_DEVICE_CPU);
    if (!out || row_bytes == 0) return out;
    const char *from = nb__ptr(src);
    char *to = nb__ptr(out);
    if (!order) {
        memcpy(to, from + (size_t)first * row_bytes, (size_t)count * row_bytes);
    } else {
        for (int64_t k = 0; k < count; k++)
            memcpy(to + (size_t)k * row_bytes, from + (size_t)order[first + k] * row_bytes, row_bytes);
    }
    return out;
}

/* Builds batch b into *batch; false (and an error in this thread) on failure. */
static bool build_batch(const nb_loader *l, int64_t b, loader_batch *batch)
{
    int64_t first = b * l->batch_size;
    int64_t count = l->n - first < l->batch_size ? l->n - first : l->batch_size;
    const int64_t *order = l->order ? (const int64_t *)nb__ptr(l->order) : NULL;
    if (b == l->fail_at)
        return nb__fail(NB_ERR_MEMORY, "out of memory allocating a batch (a failure injected for tests)"), false;
    batch->inputs = gather_rows(l->inputs, l->input_row_bytes, order, first, count);
    batch->targets = batch->inputs ? gather_rows(l->targets, l->target_row_bytes, order, first, count) : NULL;
    if (!batch->targets) {
        nb_release(batch->inputs);
        return false;
    }
    return true;
}

static void *worker_main(void *arg)
{
    nb_loader *l = arg;
    for (int64_t b = l->first_batch; b < l->num_batches; b++) {
        pthread_mutex_lock(&l->lock);
        while (l->count == l->capacity && !l->cancel) pthread_cond_wait(&l->not_full, &l->lock);
        bool cancelled = l->cancel;
        pthread_mutex_unlock(&l->lock);
        if (cancelled) return NULL;

        loader_batch batch;
        bool ok = build_batch(l, b, &batch); /* outside the lock: the consumer keeps popping */

        pthread_mutex_lock(&l->lock);
        if (!ok) {
            l->error = nb_last_status();
            snprintf(l->message, sizeof l->message, "cannot prepare batch %lld of %lld: %s", (long long)b,
                     (long long)l->num_batches, nb_last_error());
            nb_clear_error();
            l->done = true;
            pthread_cond_signal(&l->not_empty);
            pthread_mutex_unlock(&l->lock);
            return NULL;
        }
        if (l->cancel) {
            pthread_mutex_unlock(&l->lock);
            nb_release(batch.inputs);
            nb_release(batch.targets);
            return NULL;
        }
        l->ring[(l->head + l->count) % l->capacity] = batch;
        l->count++;
        pthread_cond_signal(&l->not_empty);
        pthread_mutex_unlock(&l->lock);
    }
    pthread_mutex_lock(&l->lock);
    l->done = true;
    pthread_cond_signal(&l->not_empty);
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/* Cancels and joins the worker, releases the batches it queued, and resets the epoch's state. */
static void stop_worker(nb_loader *l)
{
    if (l->worker_running) {
        pthread_mutex_lock(&l->lock);
        l->cancel = true;
        pthread_cond_broadcast(&l->not_full);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->worker, NULL);
        l->worker_running = false;
    }
    /* The worker is gone: nothing below races with it. */
    for (int i = 0; i < l->count; i++) {
        loader_batch *b = &l->ring[(l->head + i) % l->capacity];
        nb_release(b->inputs);
        nb_release(b->targets);
    }
    l->head = l->count = 0;
    l->cancel = l->done = false;
    l->error = NB_OK;
    l->message[0] = '\0';
    nb_release(l->order);
    l->order = NULL;
    l->epoch_started = false;
    l->position = l->first_batch = 0;
}

/* Starts the worker at batch first of the current order; false (and an error naming op). */
static bool start_worker(const char *op, nb_loader *l, int64_t first)
{
    l->first_batch = l->position = first;
    int err = pthread_create(&l->worker, NULL, worker_main, l);
    if (err != 0)
        return nb__fail(NB_ERR_MEMORY, "%s: cannot start the loader's thread: %s", op, strerror(err)), false;
    l->worker_running = true;
    l->epoch_started = true;
    return true;
}

/* ---------------------------------------------------------------- the public calls */

/* A contiguous tensor with t's values that belongs to the loader alone: no scope, no history. */
static nb_tensor *own_contiguous(const nb_tensor *t)
{
    nb__tracking_pause();
    nb_no_grad_begin();
    nb_tensor *c = nb_contiguous(t);
    nb_no_grad_end();
    nb__tracking_resume();
    return c;
}

nb_loader *nb_loader_new(nb_tensor *inputs, nb_tensor *targets, nb_loader_options opts)
{
    if (nb__is_null("nb_loader_new", "inputs", inputs) || nb__is_null("nb_loader_new", "targets", targets))
        return NULL;
    char is[160], ts[160], dev[32];
    nb__shape_string(inputs->ndim, inputs->shape, is, sizeof is);
    nb__shape_string(targets->ndim, targets->shape, ts, sizeof ts);
    if (inputs->ndim == 0 || targets->ndim == 0)
        return nb__fail(NB_ERR_SHAPE, "nb_loader_new: inputs %s and targets %s must both have a first dim of rows "
                        "(got a 0-d tensor)", is, ts);
    if (inputs->shape[0] != targets->shape[0])
        return nb__fail(NB_ERR_SHAPE, "nb_loader_new: inputs %s and targets %s must have the same first dim "
                        "(rows): %lld vs %lld", is, ts, (long long)inputs->shape[0], (long long)targets->shape[0]);
    if (inputs->storage->device.type != NB_CPU)
        return nb__fail(NB_ERR_DEVICE, "nb_loader_new: inputs %s are on %s; the loader takes CPU tensors", is,
                        nb__device_string(inputs->storage->device, dev, sizeof dev));
    if (targets->storage->device.type != NB_CPU)
        return nb__fail(NB_ERR_DEVICE, "nb_loader_new: targets %s are on %s; the loader takes CPU tensors", ts,
                        nb__device_string(targets->storage->device, dev, sizeof dev));
    if (opts.batch_size <= 0)
        return nb__fail(NB_ERR_ARGUMENT, "nb_loader_new: batch_size must be > 0, got %lld (inputs %s, targets %s)",
                        (long long)opts.batch_size, is, ts);
    if (opts.prefetch < 0)
        return nb__fail(NB_ERR_ARGUMENT, "nb_loader_new: prefetch must be >= 0 (0 means %d), got %d",
                        LOADER_DEFAULT_PREFETCH, opts.prefetch);

    nb_loader *l = calloc(1, sizeof *l);
    if (!l) return nb__fail(NB_ERR_MEMORY, "nb_loader_new: out of memory");
    l->n = inputs->shape[0];
    l->batch_size = opts.batch_size;
    l->shuffle = opts.shuffle;
    l->num_batches = opts.drop_last ? l->n / l->batch_size : l->n / l->batch_size + (l->n % l->batch_size != 0);
    l->fail_at = -1;
    int prefetch = opts.prefetch > 0 ? opts.prefetch : LOADER_DEFAULT_PREFETCH;
    l->capacity = l->num_batches < prefetch ? (int)(l->num_batches > 0 ? l->num_batches : 1) : prefetch;
    l->ring = calloc((size_t)l->capacity, sizeof *l->ring);
    l->inputs = own_contiguous(inputs);
    l->targets = l->inputs ? own_contiguous(targets) : NULL;
    if (!l->ring || !l->targets) {
        if (!l->ring) nb__fail(NB_ERR_MEMORY, "nb_loader_new: out of memory");
        nb_release(l->inputs);
        nb_release(l->targets);
        free(l->ring);
        free(l);
        return NULL;
    }
    l->input_row_bytes = l->n ? (size_t)(nb_numel(l->inputs) / l->n) * nb_dtype_size(l->inputs->dtype) : 0;
    l->target_row_bytes = l->n ? (size_t)(nb_numel(l->targets) / l->n) * nb_dtype_size(l->targets->dtype) : 0;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->not_full, NULL);
    pthread_cond_init(&l->not_empty, NULL);
    return l;
}

int64_t nb_loader_num_batches(const nb_loader *l)
{
    if (nb__is_null("nb_loader_num_batches", "loader", l)) return -1;
    return l->num_batches;
}

nb_status nb_loader_start_epoch(nb_loader *l)
{
    if (nb__is_null("nb_loader_start_epoch", "loader", l)) return NB_ERR_NULL;
    stop_worker(l);
    if (l->shuffle) {
        nb__tracking_pause(); /* the order is the loader's, not the open scope's */
        l->order = nb_randperm(l->n);
        nb__tracking_resume();
        if (!l->order) return nb_last_status();
    }
    if (!start_worker("nb_loader_start_epoch", l, 0)) {
        nb_release(l->order);
        l->order = NULL;
        return nb_last_status();
    }
    l->epoch++;
    return NB_OK;
}

bool nb_loader_next(nb_loader *l, nb_tensor **inputs, nb_tensor **targets)
{
    if (inputs) *inputs = NULL;
    if (targets) *targets = NULL;
    if (nb__is_null("nb_loader_next", "loader", l) || nb__is_null("nb_loader_next", "inputs", inputs) ||
        nb__is_null("nb_loader_next", "targets", targets))
        return false;
    if (!l->epoch_started)
        return nb__fail(NB_ERR_ARGUMENT, "nb_loader_next: no epoch was started; call nb_loader_start_epoch first"),
               false;

    pthread_mutex_lock(&l->lock);
    while (l->count == 0 && !l->done) pthread_cond_wait(&l->not_empty, &l->lock);
    if (l->count == 0) { /* the epoch is over, or the worker failed */
        nb_status error = l->error;
        char message[sizeof l->message];
        memcpy(message, l->message, sizeof message);
        pthread_mutex_unlock(&l->lock);
        if (error != NB_OK) nb__fail(error, "nb_loader_next: %s", message);
        return false;
    }
    loader_batch batch = l->ring[l->head];
    l->head = (l->head + 1) % l->capacity;
    l->count--;
    l->position++;
    pthread_cond_signal(&l->not_full);
    pthread_mutex_unlock(&l->lock);

    nb__scope_register(batch.inputs); /* now the caller's (or its open scope's) */
    nb__scope_register(batch.targets);
    *inputs = batch.inputs;
    *targets = batch.targets;
    return true;
}

void nb_loader_free(nb_loader *l)
{
    if (!l) return;
    stop_worker(l);
    pthread_cond_destroy(&l->not_empty);
    pthread_cond_destroy(&l->not_full);
    pthread_mutex_destroy(&l->lock);
    nb_release(l->inputs);
    nb_release(l->targets);
    free(l->ring);
    free(l);
}

/* Test hook: the worker fails building batch b (from the next epoch on), as an allocation
 * failure would; -1 turns it off. */
void nb__loader_fail_at(nb_loader *l, int64_t b);
void nb__loader_fail_at(nb_loader *l, int64_t b)
{
    if (l) l->fail_at = b;
}

/* ---------------------------------------------------------------- its place, for checkpoints */

int64_t nb_loader_epoch(const nb_loader *l)
{
    if (nb__is_null("nb_loader_epoch", "loader", l)) return -1;
    return l->epoch;
}

int64_t nb_loader_position(const nb_loader *l)
{
    if (nb__is_null("nb_loader_position", "loader", l)) return -1;
    return l->position;
}

void nb__loader_snapshot(const nb_loader *l, nb__loader_place *place)
{
    *place = (nb__loader_place){.rows = l->n, .batch_size = l->batch_size, .num_batches = l->num_batches,
                                .epoch = l->epoch, .position = l->position, .started = l->epoch_started,
                                .order = l->order};
}

/* True when order (n,) int64 holds each of 0 .. n-1 once; else false and an error naming op. */
static bool is_permutation(const char *op, const nb_tensor *order, int64_t n)
{
    const int64_t *o = (const int64_t *)nb__ptr(order); /* (n,) */
    unsigned char *seen = calloc((size_t)n + 1, 1);
    if (!seen) return nb__fail(NB_ERR_MEMORY, "%s: out of memory checking the loader's order", op), false;
    int64_t bad = -1;
    for (int64_t k = 0; k < n && bad < 0; k++) {
        if (o[k] < 0 || o[k] >= n || seen[o[k]]) bad = k;
        else seen[o[k]] = 1;
    }
    free(seen);
    if (bad < 0) return true;
    return nb__fail(NB_ERR_ARGUMENT, "%s: the loader's order is not a permutation of 0..%lld: entry %lld is %lld",
                    op, (long long)n - 1, (long long)bad, (long long)o[bad]), false;
}

bool nb__loader_check_place(const char *op, const nb_loader *l, const nb__loader_place *place)
{
    if (place->rows != l->n || place->batch_size != l->batch_size || place->num_batches != l->num_batches)
        return nb__fail(NB_ERR_ARGUMENT, "%s: the saved loader had %lld rows in %lld batches of %lld; this one has "
                        "%lld rows in %lld batches of %lld", op, (long long)place->rows, (long long)place->num_batches,
                        (long long)place->batch_size, (long long)l->n, (long long)l->num_batches,
                        (long long)l->batch_size), false;
    if (place->epoch < 0 || place->position < 0 || place->position > l->num_batches ||
        (!place->started && place->position != 0))
        return nb__fail(NB_ERR_ARGUMENT, "%s: the saved loader's place (epoch %lld, batch %lld of %lld) is impossible",
                        op, (long long)place->epoch, (long long)place->position, (long long)l->num_batches), false;
    const nb_tensor *order = place->started && l->shuffle ? place->order : NULL;
    if (place->started && l->shuffle != (place->order != NULL))
        return nb__fail(NB_ERR_ARGUMENT, "%s: the saved loader %s; this one %s", op,
                        place->order ? "was shuffled" : "kept the rows in order",
                        l->shuffle ? "shuffles" : "keeps the rows in order"), false;
    if (order && (order->dtype != NB_INT64 || order->ndim != 1 || order->shape[0] != l->n ||
                  order->storage->device.type != NB_CPU || !nb__is_contiguous(order)))
        return nb__fail(NB_ERR_ARGUMENT, "%s: the saved loader's order must be a contiguous CPU int64 tensor of %lld "
                        "rows", op, (long long)l->n), false;
    return !order || is_permutation(op, order, l->n);
}

bool nb__loader_restore(const char *op, nb_loader *l, const nb__loader_place *place)
{
    if (!nb__loader_check_place(op, l, place)) return false;
    const nb_tensor *order = place->started && l->shuffle ? place->order : NULL;
    nb_tensor *own = NULL; /* the loader's own copy: the caller's tensor stays the caller's */
    if (order) {
        nb__tracking_pause();
        nb_no_grad_begin();
        own = nb_clone(order);
        nb_no_grad_end();
        nb__tracking_resume();
        if (!own) return false;
    }
    stop_worker(l);
    l->epoch = place->epoch;
    if (!place->started) return nb_release(own), true;
    l->order = own;
    if (start_worker(op, l, place->position)) return true;
    nb_release(l->order);
    l->order = NULL;
    return false;
}
