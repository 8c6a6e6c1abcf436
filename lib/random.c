/* random.c — nabla's generator and the ops that draw from it: rand, randn, randint, bernoulli,
 * multinomial, uniform_, normal_ and randperm (dropout draws through nb__random_draw too).
 *
 * One process-wide generator, Philox4x32-10 (kernels/random.h), like PyTorch's default one: its
 * state is a seed and an offset, guarded by a mutex. Every draw runs on the tensor's device and
 * takes the next counters from the offset, so a value is a pure function of (seed, offset,
 * element index): the same seed and shapes give the same values on the CPU and on CUDA.
 *
 * A CUDA device keeps the generator's state in its own memory: its draws read the seed and the
 * offset there and advance the offset there. This file remembers, for each device, the state
 * that device memory will hold once the queued work has run, and before a draw queues a write of
 * the host's state only when the two differ (a CPU draw or nb_manual_seed came between).
 *
 * Graph capture (lib/graph.c). While this thread captures, draws are recorded reading and
 * advancing the device's state, with no write of the host's state in the graph, so each replay
 * draws new values. The host's offset means "the counters handed out so far": a captured step
 * draws nothing when captured, so at the end of the capture the offset steps back by what the
 * capture took (D counters); each replay hands out the next D counters, exactly as the step run
 * eagerly would, and writes the host's state to the device first only when something else drew
 * in between. nb_manual_seed and nb_rng_set_state after a capture therefore also steer its
 * replays. */
#include "random.h"

#include "device.h"
#include "dtype.h"
#include "error.h"
#include "ewise.h"
#include "autograd/record.h"
#include "graph.h"
#include "tensor.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#define DEFAULT_SEED 0x6e61626c61ULL /* "nabla" */
#define MAX_RNG_DEVICES 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static nb_rng_state state = {DEFAULT_SEED, 0};

/* per device type and index: the state device memory holds once its queued work has run */
typedef struct device_mirror {
    bool known;
    nb_rng_state state;
} device_mirror;
static device_mirror mirrors[NB_DEVICE_TYPE_COUNT][MAX_RNG_DEVICES];

static _Thread_local bool capturing;       /* this thread captures a graph */
static _Thread_local uint64_t captured_draws; /* counters its captured draws took */

void nb_manual_seed(uint64_t seed)
{
    pthread_mutex_lock(&lock);
    state = (nb_rng_state){seed, 0};
    pthread_mutex_unlock(&lock);
}

nb_rng_state nb_rng_get_state(void)
{
    pthread_mutex_lock(&lock);
    nb_rng_state s = state;
    pthread_mutex_unlock(&lock);
    return s;
}

void nb_rng_set_state(nb_rng_state s)
{
    pthread_mutex_lock(&lock);
    state = s;
    pthread_mutex_unlock(&lock);
}

/* The mirror of device d, or NULL when d keeps no state of its own (the CPU). */
static device_mirror *mirror_of(const nbk_device *table, nb_device d)
{
    if (!table->rng_set_state || d.index < 0 || d.index >= MAX_RNG_DEVICES) return NULL;
    return &mirrors[d.type][d.index];
}

/* Queues a write of the host's state to d when its memory will hold another (lock held). */
static nb_status sync_device(const char *op, const nbk_device *table, nb_device d)
{
    device_mirror *m = mirror_of(table, d);
    if (!m || (m->known && m->state.seed == state.seed && m->state.offset == state.offset)) return NB_OK;
    nb_status st = nb__kernel_status(op, table->rng_set_state(nb__call(op, d), state.seed, state.offset));
    m->known = st == NB_OK;
    if (st == NB_OK) m->state = state;
    return st;
}

nb_status nb__random_draw(const char *op, nb_device d, nbk_random_args *a)
{
    const nbk_device *table = nb__device_for(op, d);
    if (!table) return nb_last_status();
    if (a->advance == 0) return NB_OK;
    if (d.type != NB_CPU && d.index >= MAX_RNG_DEVICES)
        return nb__fail_status(NB_ERR_DEVICE, "%s: random numbers are drawn on the first %d devices of a type", op,
                               MAX_RNG_DEVICES);
    pthread_mutex_lock(&lock);
    device_mirror *m = mirror_of(table, d);
    nb_status st = NB_OK;
    if (m && !capturing) st = sync_device(op, table, d);
    if (st == NB_OK) {
        a->seed = state.seed;
        a->offset = state.offset;
        st = nb__kernel_status(op, table->random(nb__call(op, d), a));
    }
    if (st == NB_OK) {
        state.offset += a->advance;
        if (m) m->state.offset += a->advance;
        if (capturing) captured_draws += a->advance;
    } else if (m) {
        m->known = false; /* what the device holds is uncertain now */
    }
    pthread_mutex_unlock(&lock);
    return st;
}

void nb__rng_reserve(uint64_t counters, uint64_t *seed, uint64_t *offset)
{
    pthread_mutex_lock(&lock);
    *seed = state.seed;
    *offset = state.offset;
    state.offset += counters;
    pthread_mutex_unlock(&lock);
}

nb_status nb__rng_capture_begin(const char *op, nb_device d)
{
    const nbk_device *table = nb__device_table(d.type);
    if (!table || !table->rng_set_state || d.index < 0 || d.index >= MAX_RNG_DEVICES) return NB_OK;
    pthread_mutex_lock(&lock);
    nb_status st = sync_device(op, table, d);
    pthread_mutex_unlock(&lock);
    return st;
}

void nb__rng_capture_started(void)
{
    capturing = true;
    captured_draws = 0;
}

uint64_t nb__rng_capture_end(nb_device d)
{
    const nbk_device *table = nb__device_table(d.type);
    pthread_mutex_lock(&lock);
    const uint64_t drawn = captured_draws;
    state.offset -= drawn;
    device_mirror *m = table ? mirror_of(table, d) : NULL;
    if (m) m->state.offset -= drawn; /* nothing ran: the device holds what it held at the start */
    pthread_mutex_unlock(&lock);
    capturing = false;
    captured_draws = 0;
    return drawn;
}

nb_status nb__rng_before_replay(const char *op, nb_device d, uint64_t draws)
{
    if (draws == 0) return NB_OK;
    const nbk_device *table = nb__device_table(d.type);
    if (!table) return NB_OK;
    pthread_mutex_lock(&lock);
    nb_status st = sync_device(op, table, d);
    device_mirror *m = mirror_of(table, d);
    if (st == NB_OK) {
        state.offset += draws;
        if (m) m->state.offset += draws;
    }
    pthread_mutex_unlock(&lock);
    return st;
}

void nb__rng_forget_device(nb_device d)
{
    const nbk_device *table = nb__device_table(d.type);
    if (!table || !table->rng_set_state || d.index < 0 || d.index >= MAX_RNG_DEVICES) return;
    pthread_mutex_lock(&lock);
    mirrors[d.type][d.index].known = false;
    pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------- the ops */

/* Marks a new tensor as requiring grad when asked, refusing non-floating dtypes as PyTorch does. */
static nb_tensor *with_requires_grad(const char *op, nb_tensor *t, bool requires_grad)
{
    if (!t || !requires_grad) return t;
    if (!nb__is_float_kind(t->dtype)) {
        nb__fail(NB_ERR_DTYPE, "%s: only floating point tensors can require gradients, got %s", op,
                 nb_dtype_name(t->dtype));
        nb_release(t);
        return NULL;
    }
    t->requires_grad = true;
    return t;
}

/* The largest value of dtype (float16 or bfloat16) below b: b rounded, or the value before it
 * when the rounding reached b. */
static double half_below(nb_dtype dtype, double b)
{
    uint16_t h = nb_half_from_float(dtype, (float)b);
    const float v = nb_half_to_float(dtype, h);
    if (v < b) return v;
    h = v > 0 ? (uint16_t)(h - 1) : v == 0 ? 0x8001 : (uint16_t)(h + 1); /* one step towards -inf */
    return nb_half_to_float(dtype, h);
}

static nb_tensor *drawn(const char *op, int ndim, const int64_t *shape, nb_dtype dtype, nb_device device,
                        nbk_random_args *a);

/* A half draw: drawn as float32 and rounded once. A uniform value that rounds up to the bound b
 * becomes the half value below it, so the draw stays in [a, b) as float32's does (where the
 * dtype has a value in it). */
static nb_tensor *drawn_half(const char *op, int ndim, const int64_t *shape, nb_dtype dtype, nb_device device,
                             nbk_random_args *a)
{
    nb__tracking_pause();
    nb_tensor *wide = drawn(op, ndim, shape, NB_FLOAT32, device, a);
    nb_tensor *out = wide ? nb__convert(op, wide, dtype) : NULL;
    nb_release(wide);
    const double below = out && a->kind == NBK_RANDOM_UNIFORM ? half_below(dtype, a->b) : -INFINITY;
    if (below >= a->a) {
        nb_tensor *kept = nb_clamp(out, -INFINITY, below);
        nb_release(out);
        out = kept;
    }
    nb__tracking_resume();
    if (out) nb__scope_register(out);
    return out;
}

/* A new dense tensor of shape on device filled by the draw a (its kind and parameters set). */
static nb_tensor *drawn(const char *op, int ndim, const int64_t *shape, nb_dtype dtype, nb_device device,
                        nbk_random_args *a)
{
    if (nb__is_half(dtype)) return drawn_half(op, ndim, shape, dtype, device, a);
    nb_tensor *t = nb__alloc(op, ndim, shape, dtype, device);
    if (!t) return NULL;
    a->dtype = dtype;
    a->n = nb__numel_of(ndim, shape);
    a->out = nb__ptr(t);
    if (a->kind != NBK_RANDOM_MULTINOMIAL) a->advance = nbk_random_counters(a->kind, dtype, a->n);
    if (nb__random_draw(op, device, a) != NB_OK) {
        nb_release(t);
        return NULL;
    }
    return t;
}

static nb_tensor *float_draw(const char *op, int ndim, const int64_t *shape, nb_options o, nbk_random_kind kind)
{
    if (!nb__is_float_kind(o.dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating dtype (float32, float64, float16 or bfloat16), got %s",
                        op, nb_dtype_name(o.dtype));
    nbk_random_args a = {.kind = kind, .a = 0, .b = 1};
    return with_requires_grad(op, drawn(op, ndim, shape, o.dtype, o.device, &a), o.requires_grad);
}

nb_tensor *nb_rand(int ndim, const int64_t *shape, nb_options o)
{
    return float_draw("nb_rand", ndim, shape, o, NBK_RANDOM_UNIFORM);
}

nb_tensor *nb_randn(int ndim, const int64_t *shape, nb_options o)
{
    return float_draw("nb_randn", ndim, shape, o, NBK_RANDOM_NORMAL);
}

nb_tensor *nb_randint(int64_t low, int64_t high, int ndim, const int64_t *shape, nb_options o)
{
    const char *op = "nb_randint";
    if (low >= high)
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected low < high, got low %lld and high %lld", op, (long long)low,
                        (long long)high);
    if ((int)o.dtype < 0 || o.dtype >= NB_DTYPE_COUNT)
        return nb__fail(NB_ERR_DTYPE, "%s: unknown dtype %d", op, (int)o.dtype);
    nbk_random_args a = {.kind = NBK_RANDOM_RANDINT, .low = low, .range = (uint64_t)high - (uint64_t)low};
    return with_requires_grad(op, drawn(op, ndim, shape, o.dtype, o.device, &a), o.requires_grad);
}

nb_tensor *nb_bernoulli(const nb_tensor *p)
{
    const char *op = "nb_bernoulli";
    if (nb__is_null(op, "p", p)) return NULL;
    if (!nb__is_float_kind(p->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected floating probabilities (float32, float64, float16 or bfloat16), "
                        "got %s", op, nb_dtype_name(p->dtype));
    /* dense probabilities the kernels read: half ones as float32 (exact), the draw rounded back */
    const nb_dtype read = nb__is_half(p->dtype) ? NB_FLOAT32 : p->dtype;
    const bool as_is = read == p->dtype && nb__is_contiguous(p);
    nb_tensor *pc = as_is ? NULL : nb__untrack(nb__convert(op, p, read));
    if (!as_is && !pc) return NULL;
    const nb_tensor *probs = pc ? pc : p;
    nb_tensor *out = NULL;
    if (probs->storage->device.type == NB_CPU) { /* the CPU checks every probability first */
        const int64_t n = nb__numel_of(probs->ndim, probs->shape);
        for (int64_t i = 0; i < n; i++) {
            const double v = nbk_prob(nb__ptr(probs), probs->dtype, i);
            if (!(v >= 0 && v <= 1)) {
                nb__fail(NB_ERR_ARGUMENT, "%s: expected probabilities in [0, 1], got %g at element %lld", op, v,
                         (long long)i);
                goto done;
            }
        }
    }
    nbk_random_args a = {.kind = NBK_RANDOM_BERNOULLI, .b = 1, .probs = nb__ptr(probs), .probs_dtype = read};
    out = drawn(op, p->ndim, p->shape, p->dtype, p->storage->device, &a);
done:
    nb_release(pc);
    return out;
}

nb_tensor *nb_bernoulli_scalar(const nb_tensor *input, double p)
{
    const char *op = "nb_bernoulli_scalar";
    if (nb__is_null(op, "input", input)) return NULL;
    if (!(p >= 0 && p <= 1)) return nb__fail(NB_ERR_ARGUMENT, "%s: expected p in [0, 1], got %g", op, p);
    nbk_random_args a = {.kind = NBK_RANDOM_BERNOULLI, .a = p, .b = 1};
    return drawn(op, input->ndim, input->shape, input->dtype, input->storage->device, &a);
}

nb_tensor *nb_multinomial(const nb_tensor *probs, int64_t num_samples, bool replacement)
{
    const char *op = "nb_multinomial";
    if (nb__is_null(op, "probs", probs)) return NULL;
    char s[128];
    if (probs->ndim != 1 && probs->ndim != 2)
        return nb__fail(NB_ERR_SHAPE, "%s: expected 1 or 2 dims of probabilities, got %s", op,
                        nb__shape_string(probs->ndim, probs->shape, s, sizeof s));
    if (!nb__is_float_kind(probs->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected floating probabilities (float32, float64, float16 or bfloat16), "
                        "got %s", op, nb_dtype_name(probs->dtype));
    const int64_t categories = probs->shape[probs->ndim - 1], rows = probs->ndim == 2 ? probs->shape[0] : 1;
    if (categories == 0)
        return nb__fail(NB_ERR_SHAPE, "%s: probabilities %s have no category", op,
                        nb__shape_string(probs->ndim, probs->shape, s, sizeof s));
    if (num_samples <= 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a positive number of samples, got %lld", op,
                        (long long)num_samples);
    if (!replacement && num_samples > categories)
        return nb__fail(NB_ERR_ARGUMENT, "%s: cannot draw %lld samples without replacement from %lld categories", op,
                        (long long)num_samples, (long long)categories);
    const int64_t shape[2] = {rows, num_samples}, *out_shape = probs->ndim == 2 ? shape : shape + 1;
    int64_t n; /* the output's and the counters' */
    if (!nb__checked_numel(op, probs->ndim, out_shape, &n)) return NULL;
    /* dense probabilities the kernels read: half ones as float32 (exact) */
    const nb_dtype read = nb__is_half(probs->dtype) ? NB_FLOAT32 : probs->dtype;
    const bool as_is = read == probs->dtype && nb__is_contiguous(probs);
    nb_tensor *pc = as_is ? NULL : nb__untrack(nb__convert(op, probs, read));
    if (!as_is && !pc) return NULL;
    nbk_random_args a = {.kind = NBK_RANDOM_MULTINOMIAL,
                         .probs = nb__ptr(pc ? pc : probs),
                         .probs_dtype = read,
                         .rows = rows,
                         .categories = categories,
                         .samples = num_samples,
                         .replacement = replacement,
                         .advance = (uint64_t)rows * (uint64_t)(replacement ? num_samples : categories)};
    nb_tensor *out = drawn(op, probs->ndim, out_shape, NB_INT64, probs->storage->device, &a);
    nb_release(pc);
    return out;
}

/* Fills t in place by the draw a: straight into its memory when it is dense float32 or float64,
 * else through a dense draw (a half one drawn as float32 and rounded) copied in. Like fill_, the
 * values cut t's gradient history. */
static nb_tensor *fill_drawn_(const char *op, nb_tensor *t, nbk_random_args *a)
{
    if (nb__is_null(op, "tensor", t)) return NULL;
    if (!nb__is_float_kind(t->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating tensor (float32, float64, float16 or bfloat16), got %s",
                        op, nb_dtype_name(t->dtype));
    if (!nb__check_writable(op, t)) return NULL;
    if (!nb__is_contiguous(t) || nb__is_half(t->dtype)) {
        nb__tracking_pause();
        nb_tensor *values = drawn(op, t->ndim, t->shape, t->dtype, t->storage->device, a);
        nb_tensor *done = values ? nb_copy_(t, values) : NULL;
        nb_release(values);
        nb__tracking_resume();
        return done;
    }
    a->dtype = t->dtype;
    a->n = nb__numel_of(t->ndim, t->shape);
    a->out = nb__ptr(t);
    a->advance = nbk_random_counters(a->kind, a->dtype, a->n);
    if (nb__random_draw(op, t->storage->device, a) != NB_OK) return NULL;
    nb__bump_version(t);
    return nb__autograd_record_ewise_(op, NB_EW_FILL, t, 0, NULL, (nb_scalars){0, 0}) ? t : NULL;
}

nb_tensor *nb_uniform_(nb_tensor *t, double from, double to)
{
    if (!(from <= to) || !isfinite(from) || !isfinite(to))
        return nb__fail(NB_ERR_ARGUMENT, "nb_uniform_: expected finite bounds with from <= to, got from %g and to %g",
                        from, to);
    nbk_random_args a = {.kind = NBK_RANDOM_UNIFORM, .a = from, .b = to};
    return fill_drawn_("nb_uniform_", t, &a);
}

nb_tensor *nb_normal_(nb_tensor *t, double mean, double std)
{
    if (!(std >= 0) || !isfinite(std) || !isfinite(mean))
        return nb__fail(NB_ERR_ARGUMENT, "nb_normal_: expected a finite mean and std >= 0, got mean %g and std %g",
                        mean, std);
    nbk_random_args a = {.kind = NBK_RANDOM_NORMAL, .a = mean, .b = std};
    return fill_drawn_("nb_normal_", t, &a);
}

/* A permutation drawn on the host from the same counters: swap i of Fisher-Yates (i = n-1 down
 * to 1) takes randint's element i of a draw of n, and the offset advances as that draw's does. */
nb_tensor *nb_randperm(int64_t n)
{
    if (n < 0) return nb__fail(NB_ERR_ARGUMENT, "nb_randperm: n must not be negative, got %lld", (long long)n);
    nb_tensor *t = nb__alloc("nb_randperm", 1, &n, NB_INT64, NB_DEVICE_CPU);
    if (!t) return NULL;
    int64_t *v = (int64_t *)nb__ptr(t); /* (n,) */
    for (int64_t i = 0; i < n; i++) v[i] = i;
    pthread_mutex_lock(&lock);
    const nb_rng_state s = state;
    state.offset += nbk_random_counters(NBK_RANDOM_RANDINT, NB_INT64, n);
    pthread_mutex_unlock(&lock);
    for (int64_t i = n - 1; i > 0; i--) {
        const int64_t j = nbk_randint_at(s.seed, s.offset, i, 0, (uint64_t)i + 1);
        const int64_t tmp = v[i];
        v[i] = v[j];
        v[j] = tmp;
    }
    return t;
}
