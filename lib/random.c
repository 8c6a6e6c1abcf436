/* random.c — the generator behind nb_rand and nb_randn: xoshiro256** seeded through splitmix64,
 * one process-wide stream (like PyTorch's default generator) guarded by a mutex. Values are
 * drawn on the CPU in row-major order, so a seed gives the same tensor on every device. */
#include "error.h"
#include "ewise.h"
#include "tensor.h"

#include <math.h>
#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t state[4];
static bool seeded = false;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void seed_locked(uint64_t seed)
{
    for (int i = 0; i < 4; i++) state[i] = splitmix64(&seed);
    seeded = true;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(void)
{
    uint64_t result = rotl(state[1] * 5, 7) * 9, t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
}

/* Uniform on [0, 1) with bits random bits: 24 for float32, whose rounding would otherwise turn
 * values within 2^-25 of 1 into 1.0f; 53 for float64. */
static double uniform01(int bits) { return (double)(next_u64() >> (64 - bits)) * ldexp(1.0, -bits); }

void nb_manual_seed(uint64_t seed)
{
    pthread_mutex_lock(&lock);
    seed_locked(seed);
    pthread_mutex_unlock(&lock);
}

/* Fills v (n,) with uniform [0, 1) values of bits random bits, or standard normal values
 * (Box-Muller, in pairs). */
static void draw(double *v, int64_t n, bool normal, int bits)
{
    pthread_mutex_lock(&lock);
    if (!seeded) seed_locked(0x6e61626c61ULL); /* "nabla" */
    if (!normal) {
        for (int64_t i = 0; i < n; i++) v[i] = uniform01(bits);
    } else {
        for (int64_t i = 0; i < n; i += 2) {
            double u1 = 1.0 - uniform01(53), u2 = uniform01(53); /* u1 in (0, 1] */
            double r = sqrt(-2.0 * log(u1)), theta = 2.0 * M_PI * u2;
            v[i] = r * cos(theta);
            if (i + 1 < n) v[i + 1] = r * sin(theta);
        }
    }
    pthread_mutex_unlock(&lock);
}

static nb_tensor *random_tensor(const char *name, int ndim, const int64_t *shape, nb_options o, bool normal)
{
    if (o.dtype != NB_FLOAT32 && o.dtype != NB_FLOAT64)
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64, got %s", name, nb_dtype_name(o.dtype));
    nb_tensor *d = nb__alloc(name, ndim, shape, NB_FLOAT64, NB_DEVICE_CPU);
    if (!d) return NULL;
    draw((double *)nb__ptr(d), nb__numel_of(ndim, shape), normal, o.dtype == NB_FLOAT32 ? 24 : 53);
    nb_tensor *t = d;
    if (o.dtype != NB_FLOAT64) {
        t = nb__convert(name, d, o.dtype);
        nb_release(d);
    }
    if (t && !nb__same_device(o.device, NB_DEVICE_CPU)) {
        nb_tensor *moved = nb_to(t, o.device);
        nb_release(t);
        t = moved;
    }
    if (t) t->requires_grad = o.requires_grad;
    return t;
}

nb_tensor *nb_rand(int ndim, const int64_t *shape, nb_options o) { return random_tensor("nb_rand", ndim, shape, o, false); }
nb_tensor *nb_randn(int ndim, const int64_t *shape, nb_options o) { return random_tensor("nb_randn", ndim, shape, o, true); }

nb_tensor *nb_randperm(int64_t n)
{
    if (n < 0) return nb__fail(NB_ERR_ARGUMENT, "nb_randperm: n must not be negative, got %lld", (long long)n);
    nb_tensor *t = nb__alloc("nb_randperm", 1, &n, NB_INT64, NB_DEVICE_CPU);
    if (!t) return NULL;
    int64_t *v = (int64_t *)nb__ptr(t); /* (n,) */
    for (int64_t i = 0; i < n; i++) v[i] = i;
    pthread_mutex_lock(&lock);
    if (!seeded) seed_locked(0x6e61626c61ULL);
    for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates, unbiased by rejection */
        uint64_t bound = (uint64_t)i + 1, limit = UINT64_MAX - UINT64_MAX % bound, r;
        do r = next_u64(); while (r >= limit);
        int64_t j = (int64_t)(r % bound), tmp = v[i];
        v[i] = v[j];
        v[j] = tmp;
    }
    pthread_mutex_unlock(&lock);
    return t;
}
