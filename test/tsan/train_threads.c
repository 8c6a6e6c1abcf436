/* train_threads.c — the ThreadSanitizer suite, run by test/tsan/run.sh.
 *
 * 2, then 4, threads each train their own model at the same time (a two-layer MLP, cross
 * entropy, SGD with momentum), each fed by its own shuffling nb_loader, so the loaders' worker
 * threads run concurrently too. Every model's final parameters, loss sum and accuracy must equal,
 * bit for bit, those of the same training done on the main thread alone. Under a gcc
 * -Db_sanitize=thread build TSan then watches:
 *   - nabla's per-thread state: errors (each thread provokes its own and must read back its own
 *     message), scopes (a step is a scope), grad mode (evaluation runs under no-grad while other
 *     threads record);
 *   - the process-wide generator's lock (all threads draw from it at once, before training);
 *   - atomic reference counts: every loader shares the same data set tensors;
 *   - each loader's hand-off of batches from its worker thread to its training thread.
 *
 * The generator is process-wide, so a thread that draws reseeds it first, under seed_lock, and
 * draws what it needs (initial weights, an epoch's order) before letting go: each model's draws
 * are then the same whichever thread runs it and whatever the others do.
 *
 * Presets (argv[1]):
 *   small  what run.sh runs under TSan. nb_set_num_threads(1) and small ops: every op runs on its
 *          calling thread, no OpenMP team starts and BLIS runs single-threaded, so TSan sees all
 *          of nabla's own code with nothing suppressed.
 *   omp    nb_set_num_threads(2) and ops large enough that elementwise loops start OpenMP teams and
 *          products run on two BLIS threads inside each training thread. Run in ordinary builds
 *          only (meson test --suite tsan), for the bit-for-bit check. Not under gcc's TSan:
 *          libgomp is not built with it, so the hand-offs at its fork and join are invisible and
 *          every parallel loop is reported as a race; suppressing libgomp ("race:libgomp.so")
 *          misses the reports whose worker stack TSan cannot restore, and the run took over 10
 *          minutes (0.5 s without TSan).
 * Not covered by TSan, then: nabla's OpenMP loops with more than one thread, and the code of BLIS
 * and libgomp (not instrumented: TSan sees only the mutexes they take). CUDA is not built.
 *
 * Exit status: 0 when every model matched, 1 on a mismatch or an error (TSan exits 66 itself on a
 * report under halt_on_error=1). */
#include <nabla.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MODELS 4
#define CLASSES 10

typedef struct preset {
    const char *name;
    int kernel_threads; /* nb_set_num_threads */
    int64_t rows, in_features, hidden, batch;
    int epochs;
} preset;

static const preset presets[] = {
    /* 600 rows: 9 batches of 64 and a last one of 24, so 160 steps */
    {"small", 1, 600, 32, 64, 64, 16},
    /* (512, 512) activations: 4 x 2^16 elements, enough for two threads (kernels/cpu/threads.h);
     * (512, 64) x (64, 512) products: 34 MFLOP, enough for two BLIS threads */
    {"omp", 2, 1100, 64, 512, 512, 2},
};

/* What a training run leaves, compared bit for bit. */
typedef struct model_result {
    float *w1, *b1, *w2, *b2; /* (hidden, in), (hidden,), (CLASSES, hidden), (CLASSES,) */
    double loss_sum;          /* of every step's loss, in order */
    int64_t correct;          /* of the last evaluation over the data set */
    bool ok;                  /* false after an error (printed) */
} model_result;

typedef struct job {
    const preset *p;
    int model;                /* picks its seeds */
    nb_tensor *inputs;        /* (rows, in) float32, shared by every job */
    nb_tensor *labels;        /* (rows,) int64, shared */
    pthread_barrier_t *start; /* NULL when run alone */
    model_result result;
} job;

static pthread_mutex_t seed_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t init_seed(int model) { return 1000 + (uint64_t)model; }
static uint64_t epoch_seed(int model, int epoch) { return 7919 * (uint64_t)(model + 1) + (uint64_t)epoch; }

/* Prints the job's error (if any); returns false when there was one. */
static bool check(const job *j, const char *what)
{
    if (nb_last_status() == NB_OK) return true;
    fprintf(stderr, "model %d: %s: %s\n", j->model, what, nb_last_error());
    return false;
}

/* (N, in) -> (N, CLASSES) */
static nb_tensor *forward(nb_linear *l1, nb_linear *l2, const nb_tensor *x)
{
    return nb_linear_forward(l2, nb_relu(nb_linear_forward(l1, x)));
}

/* Correct predictions over the whole data set, under no-grad; -1 after an error. */
static int64_t evaluate(job *j, nb_linear *l1, nb_linear *l2)
{
    nb_scope_begin();
    nb_no_grad_begin();
    nb_tensor *logits = forward(l1, l2, j->inputs); /* (rows, CLASSES) */
    bool recorded = logits && nb_grad_fn_name(logits) != NULL;
    nb_tensor *predicted = nb_argmax_dim(logits, 1, false); /* (rows,) */
    int64_t *pred = malloc((size_t)j->p->rows * sizeof *pred);
    const int64_t *label = nb_data(j->labels);
    int64_t correct = -1;
    if (pred && nb_copy_to_array(predicted, pred, (size_t)j->p->rows * sizeof *pred) == NB_OK) {
        correct = 0;
        for (int64_t i = 0; i < j->p->rows; i++) correct += pred[i] == label[i];
    }
    free(pred);
    nb_no_grad_end();
    if (nb_scope_end() != NB_OK || !check(j, "evaluate")) return -1;
    if (recorded) {
        fprintf(stderr, "model %d: a forward under no-grad was recorded (grad mode leaked between threads?)\n",
                j->model);
        return -1;
    }
    return correct;
}

/* One epoch: the order is drawn under seed_lock, then every batch is a step in its own scope. */
static bool train_epoch(job *j, nb_loader *loader, nb_linear *l1, nb_linear *l2, nb_optimizer *opt, int epoch)
{
    pthread_mutex_lock(&seed_lock);
    nb_manual_seed(epoch_seed(j->model, epoch));
    nb_status started = nb_loader_start_epoch(loader);
    pthread_mutex_unlock(&seed_lock);
    if (started != NB_OK) return check(j, "start an epoch");
    for (;;) {
        nb_scope_begin();
        nb_tensor *x, *y; /* (B, in) float32, (B,) int64 */
        if (!nb_loader_next(loader, &x, &y)) {
            nb_scope_end();
            break;
        }
        nb_tensor *logits = forward(l1, l2, x); /* (B, CLASSES) */
        if (logits && nb_grad_fn_name(logits) == NULL) {
            fprintf(stderr, "model %d: a training forward was not recorded (grad mode leaked?)\n", j->model);
            nb_scope_end();
            return false;
        }
        nb_tensor *loss = nb_cross_entropy(logits, y);
        double loss_value = nb_item(loss);
        nb_backward(loss);
        nb_optimizer_step(opt);
        nb_optimizer_zero_grad(opt);
        if (nb_scope_end() != NB_OK) return check(j, "a step");
        j->result.loss_sum += loss_value;
    }
    return check(j, "the loader");
}

/* An error of this thread's own (a product of mismatched shapes, sized by the model) must read
 * back as this thread's: errors are thread-local. */
static bool own_error_stays_own(const job *j)
{
    if (!check(j, "before provoking an error")) return false;
    char expected[64];
    snprintf(expected, sizeof expected, "[%d, 3]", j->model + 2);
    nb_scope_begin();
    nb_tensor *a = nb_zeros(NB_SHAPE(j->model + 2, 3), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_zeros(NB_SHAPE(4, 5), NB_OPTS(NB_FLOAT32));
    nb_tensor *product = nb_mm(a, b);
    nb_status status = nb_scope_end();
    bool ok = !product && status == NB_ERR_SHAPE && strstr(nb_last_error(), expected);
    if (!ok) fprintf(stderr, "model %d: expected its own error naming %s, got %s: %s\n", j->model, expected,
                     nb_status_name(status), nb_last_error());
    nb_clear_error();
    return ok;
}

/* Copies a parameter's values out; false after an error. */
static bool save_values(const nb_tensor *t, float **dst)
{
    size_t bytes = (size_t)nb_numel(t) * sizeof(float);
    *dst = malloc(bytes);
    return *dst && nb_copy_to_array(t, *dst, bytes) == NB_OK;
}

static void *train(void *arg)
{
    job *j = arg;
    const preset *p = j->p;
    nb_clear_error();
    if (j->start) {
        /* every thread draws from the generator at once (values unused), then all start */
        nb_release(nb_randn(NB_SHAPE(4096), NB_OPTS(NB_FLOAT32)));
        pthread_barrier_wait(j->start);
    }

    pthread_mutex_lock(&seed_lock);
    nb_manual_seed(init_seed(j->model));
    nb_linear *l1 = nb_linear_new(p->in_features, p->hidden, true, NB_OPTS(NB_FLOAT32));
    nb_linear *l2 = nb_linear_new(p->hidden, CLASSES, true, NB_OPTS(NB_FLOAT32));
    pthread_mutex_unlock(&seed_lock);

    nb_params *params = nb_params_new();
    if (l1 && l2 && params) {
        nb_linear_params(l1, params);
        nb_linear_params(l2, params);
    }
    nb_optimizer *opt = nb_sgd_new(params, (nb_sgd_options){.lr = 0.05, .momentum = 0.9});
    nb_loader *loader = nb_loader_new(j->inputs, j->labels,
                                      (nb_loader_options){.batch_size = p->batch, .shuffle = true, .prefetch = 2});
    bool ok = check(j, "set up") && opt && loader;
    for (int epoch = 0; ok && epoch < p->epochs; epoch++) {
        ok = train_epoch(j, loader, l1, l2, opt, epoch);
        if (ok) ok = (j->result.correct = evaluate(j, l1, l2)) >= 0;
    }
    ok = ok && own_error_stays_own(j);
    ok = ok && save_values(l1->weight, &j->result.w1) && save_values(l1->bias, &j->result.b1) &&
         save_values(l2->weight, &j->result.w2) && save_values(l2->bias, &j->result.b2);
    ok = ok && check(j, "read the parameters");
    j->result.ok = ok;

    nb_loader_free(loader);
    nb_optimizer_free(opt);
    nb_params_free(params);
    nb_linear_free(l1);
    nb_linear_free(l2);
    return NULL;
}

static void free_result(model_result *r)
{
    free(r->w1);
    free(r->b1);
    free(r->w2);
    free(r->b2);
}

static bool same_floats(const float *a, const float *b, int64_t n)
{
    return memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

/* Bit for bit; names what differs. */
static bool same_result(const preset *p, int model, const model_result *alone, const model_result *threaded)
{
    const char *differs = NULL;
    if (!same_floats(alone->w1, threaded->w1, p->hidden * p->in_features)) differs = "layer 1's weight";
    else if (!same_floats(alone->b1, threaded->b1, p->hidden)) differs = "layer 1's bias";
    else if (!same_floats(alone->w2, threaded->w2, CLASSES * p->hidden)) differs = "layer 2's weight";
    else if (!same_floats(alone->b2, threaded->b2, CLASSES)) differs = "layer 2's bias";
    else if (memcmp(&alone->loss_sum, &threaded->loss_sum, sizeof(double)) != 0) differs = "the loss sum";
    else if (alone->correct != threaded->correct) differs = "the accuracy";
    if (differs) fprintf(stderr, "model %d: %s differs from the run on one thread\n", model, differs);
    return !differs;
}

/* Trains models 0 .. n-1 on n threads at once and compares them with the lone runs. */
static bool train_concurrently(const preset *p, int n, nb_tensor *inputs, nb_tensor *labels,
                               const model_result *alone)
{
    job jobs[MAX_MODELS];
    pthread_t threads[MAX_MODELS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (int m = 0; m < n; m++) {
        jobs[m] = (job){.p = p, .model = m, .inputs = inputs, .labels = labels, .start = &start};
        if (pthread_create(&threads[m], NULL, train, &jobs[m]) != 0) {
            fprintf(stderr, "cannot start thread %d\n", m);
            exit(1);
        }
    }
    for (int m = 0; m < n; m++) pthread_join(threads[m], NULL);
    pthread_barrier_destroy(&start);
    bool ok = true;
    for (int m = 0; m < n; m++) {
        ok = ok && jobs[m].result.ok && same_result(p, m, &alone[m], &jobs[m].result);
        free_result(&jobs[m].result);
    }
    return ok;
}

int main(int argc, char **argv)
{
    const preset *p = NULL;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (argc == 2 && strcmp(argv[1], presets[i].name) == 0) p = &presets[i];
    if (!p) {
        fprintf(stderr, "usage: %s small|omp\n", argv[0]);
        return 2;
    }
    nb_set_num_threads(p->kernel_threads);

    /* The data set: random inputs labelled by a random linear teacher. */
    nb_manual_seed(42);
    nb_tensor *inputs = nb_randn(NB_SHAPE(p->rows, p->in_features), NB_OPTS(NB_FLOAT32));
    nb_tensor *teacher = nb_randn(NB_SHAPE(p->in_features, CLASSES), NB_OPTS(NB_FLOAT32));
    nb_scope_begin();
    nb_tensor *labels = nb_keep(nb_argmax_dim(nb_mm(inputs, teacher), 1, false)); /* (rows,) int64 */
    nb_scope_end();
    if (!labels) {
        fprintf(stderr, "cannot make the data set: %s\n", nb_last_error());
        return 1;
    }

    /* Every model trained alone on this thread: the reference. */
    job alone[MAX_MODELS];
    model_result reference[MAX_MODELS];
    for (int m = 0; m < MAX_MODELS; m++) {
        alone[m] = (job){.p = p, .model = m, .inputs = inputs, .labels = labels};
        train(&alone[m]);
        if (!alone[m].result.ok) return 1;
        reference[m] = alone[m].result;
    }

    bool ok = train_concurrently(p, 2, inputs, labels, reference) &&
              train_concurrently(p, 4, inputs, labels, reference);
    printf("train_threads %s: %d kernel thread(s), %lld steps per model: 2 and 4 training threads %s the lone runs "
           "(accuracy %lld/%lld)\n",
           p->name, p->kernel_threads, (long long)(p->epochs * ((p->rows + p->batch - 1) / p->batch)),
           ok ? "match" : "DO NOT match", (long long)reference[0].correct, (long long)p->rows);

    for (int m = 0; m < MAX_MODELS; m++) free_result(&reference[m]);
    nb_release(inputs);
    nb_release(teacher);
    nb_release(labels);
    return ok ? 0 : 1;
}
