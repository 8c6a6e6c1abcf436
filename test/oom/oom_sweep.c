/* oom_sweep.c — out-of-memory injection: fails the Nth allocation nabla makes and sweeps
 * every N over a training step (autograd, cross entropy, SGD with momentum), a convolutional step
 * (Winograd's transforms and the columns, forward and backward), an epoch of batches
 * from nb_loader (nested scopes, MSE, Adam), an npy load and save, IDX loads (raw and gzip) and a
 * checkpoint save and load. Each failure must give NB_ERR_MEMORY and a message, leak nothing and
 * leave the inputs unchanged (the batch tensors; the file on disk after a failed save, with no
 * temporary left beside it; the parameters after a failed load). A run that the failure did not
 * stop (nabla recovered) must give the same result as one without it.
 *
 *   oom_sweep [SCENARIO...]   (default: all; NB_OOM_VERBOSE=1 prints every failure's message)
 *
 * NB_NO_CACHE=1 is set here, so nabla's host block cache keeps no block past its release.
 *
 * How: the program is linked with -Wl,--wrap=malloc,... (test/oom/meson.build), so every call to
 * malloc, calloc, realloc, free, posix_memalign and aligned_alloc made from nabla's static library
 * (and from this file) comes here. The wrapper keeps a table of live blocks, so a leak is a block
 * made during a run that is still live after the run's cleanup, reported with the address of its
 * caller (addr2line -e oom_sweep OFFSET) — no LeakSanitizer needed, and under ASan its leak check
 * runs as well. What this does not reach: allocations inside shared libraries (BLIS, OpenMP, zlib,
 * libc's own such as fopen's, the CUDA runtime); those are out of nabla's hands, and BLIS or
 * OpenMP abort on theirs. Each scenario runs once unarmed first (the warm-up: one-time
 * initialisation such as BLIS's kernel choice is not swept) and gives the reference result.
 *
 * Two modes per N: "once" fails only the Nth allocation (a transient failure), "from" fails the
 * Nth and every one after it until the scenario returns (memory that stays exhausted). The sweep
 * of a scenario ends at the first N its run never reaches. */
#include <nabla.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the allocation wrapper */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
int __real_posix_memalign(void **p, size_t align, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);

typedef struct block {
    void *ptr;
    size_t size;
    long long seq;        /* which allocation of the run made it */
    const void *caller;   /* return address into whoever allocated it */
    struct block *next;
} block;

#define NBUCKETS 65536
static block *buckets[NBUCKETS]; /* live blocks by address */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static long long live_blocks;

static atomic_llong seq;            /* allocations since the counter was reset */
static atomic_llong fail_at = -1;   /* the allocation to fail (-1: none) */
static atomic_bool fail_after;      /* and every one after it */
static atomic_bool fired;           /* a failure was injected */
static const void *_Atomic fired_from; /* the caller of the allocation that failed first */

extern char __executable_start; /* for caller offsets addr2line understands */

static size_t bucket_of(const void *p) { return ((uintptr_t)p >> 4) * 2654435761u % NBUCKETS; }

static bool should_fail(const void *caller)
{
    long long n = atomic_fetch_add(&seq, 1), at = atomic_load(&fail_at);
    if (at < 0 || n < at || (n > at && !atomic_load(&fail_after))) return false;
    if (n == at) atomic_store(&fired_from, caller);
    atomic_store(&fired, true);
    return true;
}

static void track(void *p, size_t size, const void *caller)
{
    if (!p) return;
    block *b = __real_malloc(sizeof *b);
    if (!b) abort(); /* the harness itself out of memory: nothing to test */
    *b = (block){p, size, atomic_load(&seq) - 1, caller, NULL};
    pthread_mutex_lock(&table_lock);
    size_t h = bucket_of(p);
    b->next = buckets[h];
    buckets[h] = b;
    live_blocks++;
    pthread_mutex_unlock(&table_lock);
}

/* Forgets p; a block this wrapper never saw (libc's own, such as fopen's) is ignored. */
static void untrack(void *p)
{
    if (!p) return;
    pthread_mutex_lock(&table_lock);
    for (block **b = &buckets[bucket_of(p)]; *b; b = &(*b)->next)
        if ((*b)->ptr == p) {
            block *dead = *b;
            *b = dead->next;
            live_blocks--;
            pthread_mutex_unlock(&table_lock);
            __real_free(dead);
            return;
        }
    pthread_mutex_unlock(&table_lock);
}

void *__wrap_malloc(size_t n)
{
    if (should_fail(__builtin_return_address(0))) return NULL;
    void *p = __real_malloc(n);
    track(p, n, __builtin_return_address(0));
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (should_fail(__builtin_return_address(0))) return NULL;
    void *p = __real_calloc(n, size);
    track(p, n * size, __builtin_return_address(0));
    return p;
}

void *__wrap_realloc(void *old, size_t n)
{
    if (should_fail(__builtin_return_address(0))) return NULL; /* old stays valid, as realloc promises */
    void *p = __real_realloc(old, n);
    if (p || n == 0) untrack(old);
    track(p, n, __builtin_return_address(0));
    return p;
}

void __wrap_free(void *p)
{
    untrack(p);
    __real_free(p);
}

int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    if (should_fail(__builtin_return_address(0))) return ENOMEM;
    int rc = __real_posix_memalign(p, align, n);
    if (rc == 0) track(*p, n, __builtin_return_address(0));
    return rc;
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    if (should_fail(__builtin_return_address(0))) return NULL;
    void *p = __real_aligned_alloc(align, n);
    track(p, n, __builtin_return_address(0));
    return p;
}

static void arm(long long at, bool after)
{
    atomic_store(&fired, false);
    atomic_store(&fail_after, after);
    atomic_store(&seq, 0);
    atomic_store(&fail_at, at);
}

/* Stops injecting; returns how many allocations the armed run made. */
static long long disarm(void)
{
    atomic_store(&fail_at, -1);
    return atomic_load(&seq);
}

/* Marks every live block as older than the next run (seq -1), so only that run's own can leak. */
static void age_live(void)
{
    pthread_mutex_lock(&table_lock);
    for (size_t h = 0; h < NBUCKETS; h++)
        for (block *b = buckets[h]; b; b = b->next) b->seq = -1;
    pthread_mutex_unlock(&table_lock);
}

/* Counts the blocks made since age_live that are still live, printing the first few, and ages
 * them (so each leak is reported once). */
static long long young_live(void)
{
    long long n = 0;
    pthread_mutex_lock(&table_lock);
    for (size_t h = 0; h < NBUCKETS; h++)
        for (block *b = buckets[h]; b; b = b->next)
            if (b->seq >= 0) {
                if (n++ < 10)
                    fprintf(stderr, "    live: %zu bytes, allocation %lld of the run, from offset 0x%lx "
                            "(addr2line -f -e oom_sweep 0x%lx)\n", b->size, b->seq,
                            (unsigned long)((const char *)b->caller - &__executable_start),
                            (unsigned long)((const char *)b->caller - &__executable_start));
                b->seq = -1;
            }
    pthread_mutex_unlock(&table_lock);
    return n;
}

/* ---------------------------------------------------------------- checks and files */

static int failures;
static bool verbose; /* NB_OOM_VERBOSE=1: print every injected failure's message */

static void fail(const char *scenario, const char *mode, long long n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s (%s, allocation %lld): ", scenario, mode, n);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

static char dir[256]; /* this run's temporary directory */

static char *path_in_dir(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ % 4];

    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* The whole file at path into a malloc'd buffer (unarmed). */
static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static bool file_equals(const char *path, const unsigned char *want, size_t size)
{
    size_t n;
    unsigned char *got = read_all(path, &n);
    bool same = got && n == size && memcmp(got, want, size) == 0;
    free(got);
    return same;
}

/* How many entries dir holds besides . and .. */
static int dir_entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

/* Bitwise equality of two tensors' shapes, dtypes and bytes (unarmed). */
static bool same_tensor(const nb_tensor *a, const nb_tensor *b)
{
    if (!a || !b || nb_ndim(a) != nb_ndim(b) || nb_dtype_of(a) != nb_dtype_of(b)) return false;
    if (memcmp(nb_shape(a), nb_shape(b), (size_t)nb_ndim(a) * sizeof(int64_t))) return false;
    size_t bytes = (size_t)nb_numel(a) * nb_dtype_size(nb_dtype_of(a));
    return !bytes || memcmp(nb_data(a), nb_data(b), bytes) == 0;
}

/* ---------------------------------------------------------------- scenarios
 * Each has a setup (unarmed), a run (armed: returns the status it saw), a check (unarmed: NULL when
 * the outcome is right, else what is wrong; failed says whether the run reported an error, and
 * the warm-up's check keeps the reference result) and cleanups (unarmed). */

/* -- a training step: 8 -> 16 -> 4 MLP, cross entropy, backward, SGD with momentum, twice (the
 *    first step makes the momentum buffers, the second uses them) */

static struct {
    nb_linear *fc1, *fc2;
    nb_params *params;
    nb_optimizer *opt;
    nb_tensor *x, *y;           /* the batch: (6, 8) float32, (6,) int64 */
    nb_tensor *x_copy, *y_copy; /* to check it is unchanged */
    nb_tensor *want[4];         /* the parameters after two steps, from the warm-up */
    bool have_want;
} tr;

static void train_setup(void)
{
    nb_manual_seed(7);
    nb_options o = NB_OPTS(NB_FLOAT32, .requires_grad = false);
    tr.fc1 = nb_linear_new(8, 16, true, o);
    tr.fc2 = nb_linear_new(16, 4, true, o);
    tr.params = nb_params_new();
    nb_linear_params(tr.fc1, tr.params);
    nb_linear_params(tr.fc2, tr.params);
    tr.opt = nb_sgd_new(tr.params, (nb_sgd_options){.lr = 0.1, .momentum = 0.9});
    tr.x = nb_randn(NB_SHAPE(6, 8), o);
    tr.y = nb_from_array((const int64_t[]){0, 1, 2, 3, 1, 2}, NB_SHAPE(6), NB_OPTS(NB_INT64));
    tr.x_copy = nb_clone(tr.x);
    tr.y_copy = nb_clone(tr.y);
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, "oom_sweep: the training step's setup failed: %s\n", nb_last_error());
        exit(1);
    }
}

static nb_status train_run(void)
{
    for (int step = 0; step < 2; step++) {
        nb_scope_begin();
        nb_tensor *h = nb_relu(nb_linear_forward(tr.fc1, tr.x)); /* (6, 16) */
        nb_tensor *logits = nb_linear_forward(tr.fc2, h);         /* (6, 4) */
        nb_tensor *loss = nb_cross_entropy(logits, tr.y);
        nb_backward(loss);
        nb_optimizer_step(tr.opt);
        nb_optimizer_zero_grad(tr.opt);
        nb_status st = nb_scope_end();
        if (st != NB_OK) return st;
    }
    return NB_OK;
}

/* A training scenario's parameters after a run that reported no error: the warm-up keeps them
 * (want, count of them), every later run must give the same. */
static const char *same_parameters(nb_params *params, nb_tensor **want, int count, bool *have_want)
{
    for (int i = 0; i < count; i++) {
        nb_tensor *p = nb_params_get(params, i);
        if (!*have_want) want[i] = nb_clone(p);
        else if (!same_tensor(p, want[i])) return "a step that reported no error gave other parameters";
    }
    *have_want = true;
    return NULL;
}

static void release_parameters(nb_tensor **want, int count, bool *have_want)
{
    for (int i = 0; i < count; i++) nb_release(want[i]), want[i] = NULL;
    *have_want = false;
}

static const char *train_check(bool failed)
{
    if (!same_tensor(tr.x, tr.x_copy) || !same_tensor(tr.y, tr.y_copy)) return "the batch tensors changed";
    return failed ? NULL : same_parameters(tr.params, tr.want, 4, &tr.have_want);
}

static void train_final(void) { release_parameters(tr.want, 4, &tr.have_want); }

static void train_cleanup(void)
{
    nb_optimizer_free(tr.opt);
    nb_params_free(tr.params);
    nb_linear_free(tr.fc1);
    nb_linear_free(tr.fc2);
    nb_release(tr.x), nb_release(tr.y), nb_release(tr.x_copy), nb_release(tr.y_copy);
    tr.fc1 = tr.fc2 = NULL, tr.params = NULL, tr.opt = NULL, tr.x = tr.y = tr.x_copy = tr.y_copy = NULL;
}

/* -- a convolutional step: conv 16 -> 16 (3x3: Winograd's transforms), ReLU, conv 16 -> 3 (by
 *    columns), mean, backward, SGD, twice */

static struct {
    nb_conv2d_layer *c1, *c2;
    nb_params *params;
    nb_optimizer *opt;
    nb_tensor *x, *x_copy; /* (3, 16, 5, 6) float32 */
    nb_tensor *want[4];
    bool have_want;
} cv;

static void conv_setup(void)
{
    nb_manual_seed(11);
    const nb_options o = NB_OPTS(NB_FLOAT32, .requires_grad = false);
    nb_conv2d_options same = NB_CONV2D_DEFAULTS;
    same.padding[0] = same.padding[1] = 1;
    cv.c1 = nb_conv2d_layer_new(16, 16, 3, 3, &same, true, o);
    cv.c2 = nb_conv2d_layer_new(16, 3, 3, 3, &same, true, o);
    cv.params = nb_params_new();
    nb_conv2d_layer_params(cv.c1, cv.params);
    nb_conv2d_layer_params(cv.c2, cv.params);
    cv.opt = nb_sgd_new(cv.params, (nb_sgd_options){.lr = 0.1, .momentum = 0.9});
    cv.x = nb_randn(NB_SHAPE(3, 16, 5, 6), o);
    cv.x_copy = nb_clone(cv.x);
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, "oom_sweep: the convolutional step's setup failed: %s\n", nb_last_error());
        exit(1);
    }
}

static nb_status conv_run(void)
{
    for (int step = 0; step < 2; step++) {
        nb_scope_begin();
        nb_tensor *h = nb_relu(nb_conv2d_layer_forward(cv.c1, cv.x)); /* (3, 16, 5, 6) */
        nb_tensor *loss = nb_mean(nb_conv2d_layer_forward(cv.c2, h)); /* of (3, 3, 5, 6) */
        nb_backward(loss);
        nb_optimizer_step(cv.opt);
        nb_optimizer_zero_grad(cv.opt);
        nb_status st = nb_scope_end();
        if (st != NB_OK) return st;
    }
    return NB_OK;
}

static const char *conv_check(bool failed)
{
    if (!same_tensor(cv.x, cv.x_copy)) return "the batch changed";
    return failed ? NULL : same_parameters(cv.params, cv.want, 4, &cv.have_want);
}

static void conv_final(void) { release_parameters(cv.want, 4, &cv.have_want); }

static void conv_cleanup(void)
{
    nb_optimizer_free(cv.opt);
    nb_params_free(cv.params);
    nb_conv2d_layer_free(cv.c1);
    nb_conv2d_layer_free(cv.c2);
    nb_release(cv.x), nb_release(cv.x_copy);
    cv.c1 = cv.c2 = NULL, cv.params = NULL, cv.opt = NULL, cv.x = cv.x_copy = NULL;
}

/* -- an epoch from nb_loader (its thread allocates too, so N is not always the same allocation):
 *    shuffled batches of 4 of 10 rows, a linear layer, MSE kept out of an inner scope, Adam */

static struct {
    nb_linear *fc;
    nb_params *params;
    nb_optimizer *opt;
    nb_tensor *x, *y, *x_copy, *y_copy; /* (10, 8), (10, 3) float32 */
    nb_tensor *want[2];
} ld;

static void loader_setup(void)
{
    nb_manual_seed(11);
    ld.fc = nb_linear_new(8, 3, true, NB_OPTS(NB_FLOAT32));
    ld.params = nb_params_new();
    nb_linear_params(ld.fc, ld.params);
    ld.opt = nb_adam_new(ld.params, (nb_adam_options){.lr = 1e-2});
    ld.x = nb_randn(NB_SHAPE(10, 8), NB_OPTS(NB_FLOAT32));
    ld.y = nb_randn(NB_SHAPE(10, 3), NB_OPTS(NB_FLOAT32));
    ld.x_copy = nb_clone(ld.x);
    ld.y_copy = nb_clone(ld.y);
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, "oom_sweep: the loader's setup failed: %s\n", nb_last_error());
        exit(1);
    }
}

static nb_status loader_run(void)
{
    nb_loader *l = nb_loader_new(ld.x, ld.y, (nb_loader_options){.batch_size = 4, .shuffle = true, .prefetch = 2});
    if (!l) return nb_last_status();
    if (nb_loader_start_epoch(l) == NB_OK)
        for (;;) {
            nb_scope_begin();
            nb_tensor *xb, *yb; /* (4, 8), (4, 3); the last batch has 2 rows */
            if (!nb_loader_next(l, &xb, &yb)) {
                nb_scope_end();
                break;
            }
            nb_scope_begin();
            nb_tensor *loss = nb_keep(nb_mse_loss(nb_linear_forward(ld.fc, xb), yb));
            nb_scope_end();
            nb_backward(loss);
            nb_optimizer_step(ld.opt);
            nb_optimizer_zero_grad(ld.opt);
            if (nb_scope_end() != NB_OK) break;
        }
    nb_loader_free(l);
    return nb_last_status();
}

static const char *loader_check(bool failed)
{
    if (!same_tensor(ld.x, ld.x_copy) || !same_tensor(ld.y, ld.y_copy)) return "the data set's tensors changed";
    if (failed) return NULL;
    for (int i = 0; i < 2; i++) {
        nb_tensor *p = nb_params_get(ld.params, i);
        if (!ld.want[i]) ld.want[i] = nb_clone(p);
        else if (!same_tensor(p, ld.want[i])) return "an epoch that reported no error gave other parameters";
    }
    return NULL;
}

static void loader_cleanup(void)
{
    nb_optimizer_free(ld.opt);
    nb_params_free(ld.params);
    nb_linear_free(ld.fc);
    nb_release(ld.x), nb_release(ld.y), nb_release(ld.x_copy), nb_release(ld.y_copy);
    nb_tensor *want[2] = {ld.want[0], ld.want[1]};
    memset(&ld, 0, sizeof ld);
    ld.want[0] = want[0], ld.want[1] = want[1];
}

static void loader_final(void)
{
    for (int i = 0; i < 2; i++) nb_release(ld.want[i]), ld.want[i] = NULL;
}

/* -- nb_load_npy and nb_save_npy */

static struct {
    nb_tensor *src;     /* what the file holds: (5, 7) float64 */
    nb_tensor *loaded;
    unsigned char *old; /* the file's bytes before a save */
    size_t old_size;
    unsigned char *new_bytes; /* what a successful save writes */
    size_t new_size;
} np;

static void npy_setup(void)
{
    np.src = nb_randn(NB_SHAPE(5, 7), NB_OPTS(NB_FLOAT64));
    if (nb_save_npy(np.src, path_in_dir("a.npy")) != NB_OK) {
        fprintf(stderr, "oom_sweep: cannot write %s: %s\n", path_in_dir("a.npy"), nb_last_error());
        exit(1);
    }
    np.old = read_all(path_in_dir("a.npy"), &np.old_size);
}

static nb_status npy_load_run(void)
{
    np.loaded = nb_load_npy(path_in_dir("a.npy"));
    return nb_last_status();
}

static const char *npy_load_check(bool failed)
{
    if (!file_equals(path_in_dir("a.npy"), np.old, np.old_size)) return "the file changed";
    if (failed) return np.loaded ? "an error was reported but a tensor returned" : NULL;
    return same_tensor(np.loaded, np.src) ? NULL : "the loaded tensor differs from the saved one";
}

static nb_status npy_save_run(void)
{
    nb_tensor *t = nb_t(np.src); /* a transposed view: written in its own row-major order */
    nb_status st = t ? nb_save_npy(t, path_in_dir("a.npy")) : nb_last_status();
    nb_release(t);
    return st;
}

static const char *npy_save_check(bool failed)
{
    if (dir_entries() != 1) return "a temporary file was left beside the npy file";
    if (failed) return file_equals(path_in_dir("a.npy"), np.old, np.old_size) ? NULL : "a failed save changed the file";
    size_t n;
    unsigned char *now = read_all(path_in_dir("a.npy"), &n);
    if (!np.new_bytes) {
        np.new_bytes = now, np.new_size = n;
    } else {
        bool same = now && n == np.new_size && memcmp(now, np.new_bytes, n) == 0;
        free(now);
        if (!same) return "a save that reported no error wrote other bytes";
    }
    /* put the old file back for the next run */
    FILE *f = fopen(path_in_dir("a.npy"), "wb");
    if (!f || fwrite(np.old, 1, np.old_size, f) != np.old_size) return "cannot restore the file";
    fclose(f);
    return NULL;
}

static void npy_cleanup(void)
{
    nb_release(np.loaded);
    np.loaded = NULL;
}

static void npy_final_cleanup(void)
{
    nb_release(np.src);
    free(np.old);
    free(np.new_bytes);
    memset(&np, 0, sizeof np);
    remove(path_in_dir("a.npy"));
}

/* -- nb_load_idx: raw and gzip, float and int files */

static struct {
    const char *path;
    nb_dtype dtype;
    nb_tensor *want, *loaded;
} ix;

/* a golden file (the test runs in test/) */
static void idx_setup_for(const char *name, nb_dtype dtype)
{
    static char path[600];
    snprintf(path, sizeof path, "golden/idx/%s", name);
    ix.path = path;
    ix.dtype = dtype;
}

static nb_status idx_run(void)
{
    ix.loaded = nb_load_idx(ix.path, ix.dtype);
    return nb_last_status();
}

static const char *idx_check(bool failed)
{
    if (failed) return ix.loaded ? "an error was reported but a tensor returned" : NULL;
    if (!ix.want) {
        ix.want = nb_clone(ix.loaded);
        return ix.want ? NULL : "cannot keep the reference";
    }
    return same_tensor(ix.loaded, ix.want) ? NULL : "the loaded tensor differs from the warm-up's";
}

static void idx_cleanup(void)
{
    nb_release(ix.loaded);
    ix.loaded = NULL;
}

static void idx_final_cleanup(void)
{
    nb_release(ix.want);
    ix.want = NULL;
}

static void idx_setup_float(void) { idx_setup_for("float.idx", NB_FLOAT32); }
static void idx_setup_float_gz(void) { idx_setup_for("float.idx.gz", NB_FLOAT32); }
static void idx_setup_ubyte_gz(void) { idx_setup_for("ubyte.idx.gz", NB_INT64); }

/* -- checkpoints: nb_params_save over an older checkpoint, nb_params_load into a list */

static struct {
    nb_params *p;                /* float32 (3, 4), float64 (5,), int64 (2, 2), bool (3,) */
    nb_tensor *before[4];        /* p's values, to check a failed load changed nothing */
    unsigned char *old, *new_bytes;
    size_t old_size, new_size;
} ck;

static void ckpt_setup(void)
{
    ck.p = nb_params_new();
    nb_tensor *t[4] = {
        nb_randn(NB_SHAPE(3, 4), NB_OPTS(NB_FLOAT32)),
        nb_randn(NB_SHAPE(5), NB_OPTS(NB_FLOAT64)),
        nb_arange(0, 4, 1, NB_OPTS(NB_INT64)),
        nb_from_array((const bool[]){true, false, true}, NB_SHAPE(3), NB_OPTS(NB_BOOL)),
    };
    nb_tensor *m = nb_reshape(t[2], NB_SHAPE(2, 2));
    nb_release(t[2]);
    t[2] = m;
    for (int i = 0; i < 4; i++) {
        nb_params_add(ck.p, t[i]);
        nb_release(t[i]);
    }
    /* the file on disk: other values of the same shapes */
    nb_params_save(ck.p, path_in_dir("model.ckpt"));
    ck.old = read_all(path_in_dir("model.ckpt"), &ck.old_size);
    for (int i = 0; i < 4; i++) nb_fill_(nb_params_get(ck.p, i), i + 0.5);
    for (int i = 0; i < 4; i++) ck.before[i] = nb_clone(nb_params_get(ck.p, i));
    if (nb_last_status() != NB_OK || !ck.old) {
        fprintf(stderr, "oom_sweep: the checkpoint's setup failed: %s\n", nb_last_error());
        exit(1);
    }
}

static nb_status ckpt_save_run(void) { return nb_params_save(ck.p, path_in_dir("model.ckpt")); }

static const char *ckpt_save_check(bool failed)
{
    if (dir_entries() != 1) return "a temporary file was left beside the checkpoint";
    if (failed) return file_equals(path_in_dir("model.ckpt"), ck.old, ck.old_size) ? NULL : "a failed save changed the file";
    size_t n;
    unsigned char *now = read_all(path_in_dir("model.ckpt"), &n);
    if (!ck.new_bytes) {
        ck.new_bytes = now, ck.new_size = n;
    } else {
        bool same = now && n == ck.new_size && memcmp(now, ck.new_bytes, n) == 0;
        free(now);
        if (!same) return "a save that reported no error wrote other bytes";
    }
    FILE *f = fopen(path_in_dir("model.ckpt"), "wb");
    if (!f || fwrite(ck.old, 1, ck.old_size, f) != ck.old_size) return "cannot restore the file";
    fclose(f);
    return NULL;
}

static nb_status ckpt_load_run(void) { return nb_params_load(ck.p, path_in_dir("model.ckpt")); }

static const char *ckpt_load_check(bool failed)
{
    if (!file_equals(path_in_dir("model.ckpt"), ck.old, ck.old_size)) return "a load changed the file";
    for (int i = 0; i < 4; i++) {
        nb_tensor *p = nb_params_get(ck.p, i);
        if (failed && !same_tensor(p, ck.before[i])) return "a failed load changed a parameter";
        if (!failed && same_tensor(p, ck.before[i])) return "a load that reported no error changed nothing";
    }
    if (!failed) /* back to the values before the load, for the next run */
        for (int i = 0; i < 4; i++) nb_copy_(nb_params_get(ck.p, i), ck.before[i]);
    return NULL;
}

static void ckpt_final_cleanup(void)
{
    nb_params_free(ck.p);
    for (int i = 0; i < 4; i++) nb_release(ck.before[i]);
    free(ck.old);
    free(ck.new_bytes);
    memset(&ck, 0, sizeof ck);
    remove(path_in_dir("model.ckpt"));
}

static void nothing(void) {}

/* ---------------------------------------------------------------- the sweep */

typedef struct suite {
    const char *name;
    void (*setup)(void);   /* before the warm-up, or before every run when setup_per_run */
    nb_status (*run)(void);
    const char *(*check)(bool failed);
    void (*cleanup)(void); /* after every run (after its check) */
    void (*final)(void);   /* once, at the end */
    bool setup_per_run;    /* for state a run changes (the model a step trains) */
} suite;

static const suite suites[] = {
    {"train_step", train_setup, train_run, train_check, train_cleanup, train_final, true},
    {"conv_step", conv_setup, conv_run, conv_check, conv_cleanup, conv_final, true},
    {"loader_epoch", loader_setup, loader_run, loader_check, loader_cleanup, loader_final, true},
    {"npy_load", npy_setup, npy_load_run, npy_load_check, npy_cleanup, npy_final_cleanup, false},
    {"npy_save", npy_setup, npy_save_run, npy_save_check, npy_cleanup, npy_final_cleanup, false},
    {"idx_load_raw", idx_setup_float, idx_run, idx_check, idx_cleanup, idx_final_cleanup, false},
    {"idx_load_gzip", idx_setup_float_gz, idx_run, idx_check, idx_cleanup, idx_final_cleanup, false},
    {"idx_load_gzip_labels", idx_setup_ubyte_gz, idx_run, idx_check, idx_cleanup, idx_final_cleanup, false},
    {"ckpt_save", ckpt_setup, ckpt_save_run, ckpt_save_check, nothing, ckpt_final_cleanup, false},
    {"ckpt_load", ckpt_setup, ckpt_load_run, ckpt_load_check, nothing, ckpt_final_cleanup, false},
};

/* One run with allocation `at` failing (-1: none, the warm-up); false when the run never reached
 * it, which ends the sweep. */
static bool one_run(const suite *s, long long at, bool after, long long *allocations)
{
    const char *mode = at < 0 ? "warm-up" : after ? "from" : "once";
    if (s->setup_per_run) s->setup();
    nb_clear_error();
    age_live();
    arm(at, after);
    nb_status st = s->run();
    long long made = disarm();
    bool injected = atomic_load(&fired);
    nb_status last = nb_last_status();
    const char *msg = nb_last_error();
    bool failed = st != NB_OK || last != NB_OK;
    if (at >= 0 && !injected) { /* past the last allocation: nothing was tested */
        if (failed) fail(s->name, mode, at, "an error without an injected failure: %s", msg);
    } else if (injected && failed) {
        if (last == NB_OK || !msg[0]) fail(s->name, mode, at, "the run failed without a status and message");
        else if (last != NB_ERR_MEMORY)
            fail(s->name, mode, at, "an allocation failure reported as %s: %s", nb_status_name(last), msg);
    } else if (failed) {
        fail(s->name, mode, at, "the warm-up failed: %s", msg);
    }
    const char *wrong = s->check(failed);
    if (wrong) fail(s->name, mode, at, "%s%s%s", wrong, failed ? " — after: " : "", failed ? msg : "");
    char message[256];
    snprintf(message, sizeof message, "%s", msg);
    if (verbose && at >= 0 && injected)
        printf("  %s %s %lld (from offset 0x%lx): %s\n", s->name, mode, at,
               (unsigned long)((const char *)atomic_load(&fired_from) - &__executable_start),
               failed ? message : "(no error)");
    s->cleanup();
    nb_clear_error();
    if (at < 0) {
        age_live(); /* the warm-up's one-time initialisation and reference results stay */
    } else {
        long long leaked = young_live();
        if (leaked > 0)
            fail(s->name, mode, at, "%lld block(s) leaked (listed above)%s%s", leaked, failed ? " after: " : "",
                 failed ? message : "");
    }
    if (allocations) *allocations = made;
    return at < 0 || injected;
}

int main(int argc, char **argv)
{
    setenv("NB_NO_CACHE", "1", 1); /* no block kept for reuse: every free is a free */
    snprintf(dir, sizeof dir, "%s/nabla-oom-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("oom_sweep: mkdtemp");
        return 1;
    }
    verbose = getenv("NB_OOM_VERBOSE") && atoi(getenv("NB_OOM_VERBOSE")) > 0;
    nb_set_num_threads(1); /* one order of allocations, so N means the same allocation every run */
    int ran = 0;
    for (size_t k = 0; k < sizeof suites / sizeof suites[0]; k++) {
        const suite *s = &suites[k];
        bool chosen = argc < 2;
        for (int a = 1; a < argc; a++) chosen = chosen || strcmp(argv[a], s->name) == 0;
        if (!chosen) continue;
        ran++;
        int before = failures;
        if (!s->setup_per_run) s->setup();
        long long total = 0;
        one_run(s, -1, false, &total); /* the warm-up, and the reference result */
        long long swept[2] = {0, 0};
        for (int after = 0; after < 2; after++)
            for (long long n = 0; one_run(s, n, after, NULL); n++) swept[after] = n + 1;
        s->final();
        printf("%-22s %4lld allocations in the warm-up; failed each of N = 0..%lld once and from N on: %s\n",
               s->name, total, swept[0] - 1, failures == before ? "ok" : "FAILED");
        fflush(stdout);
        if (swept[0] == 0 || swept[1] != swept[0])
            fail(s->name, "sweep", swept[0], "swept %lld allocations once but %lld from N on", swept[0], swept[1]);
    }
    if (!ran) {
        fprintf(stderr, "oom_sweep: no scenario is called that\n");
        return 2;
    }
    rmdir(dir);
    if (failures) fprintf(stderr, "oom_sweep: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
