/* random.cu — the GPU's draws from nabla's generator (kernels/random.h), made on the device: each
 * element's value is random.h's pure function of (seed, offset, index), the same code the CPU
 * runs, so both devices give the same values.
 *
 * Each device keeps the generator's state, {seed, offset}, in 16 bytes of its own memory. A draw
 * reads the state there when it runs, and a one-thread kernel queued after it advances the
 * offset by the counters it used: so the work a graph captured reads and advances the state on
 * every replay, and draws new values each time. lib/random.c writes the host's state there
 * (nbk_cuda_rng_set_state) when the device would otherwise hold another. */
#include "cuda.h"
#include "launch.cuh"

#include "../random.h"

#include <pthread.h>
#include <type_traits>

namespace nb_cuda {
namespace {

constexpr int MAX_RNG_DEVICES = 64;
pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
uint64_t *slots[MAX_RNG_DEVICES]; /* each device's (2,): seed, offset; kept for the process */

/* Device's state slot, allocated on first use (device must be current). */
nb_status slot_of(int device, uint64_t **out)
{
    if (device < 0 || device >= MAX_RNG_DEVICES)
        return nbk_fail(NB_ERR_DEVICE, "cuda:%d: random numbers are drawn on the first %d devices", device,
                        MAX_RNG_DEVICES);
    pthread_mutex_lock(&slots_lock);
    nb_status st = NB_OK;
    if (!slots[device]) {
        void *p = nullptr;
        st = nbk_cuda_check(cudaMalloc(&p, 2 * sizeof(uint64_t)), device, "allocating the generator's state (cudaMalloc)");
        if (st == NB_OK) slots[device] = (uint64_t *)p;
    }
    *out = slots[device];
    pthread_mutex_unlock(&slots_lock);
    return st;
}

__global__ void set_state_kernel(uint64_t *state, uint64_t seed, uint64_t offset)
{
    state[0] = seed;
    state[1] = offset;
}

__global__ void advance_kernel(uint64_t *state, uint64_t by) { state[1] += by; }

template <class T> __host__ __device__ __forceinline__ T from_double(double v)
{
    if constexpr (std::is_same<T, bool>::value) return v != 0.0;
    else return (T)v;
}

/* Element i of the draw a, of output type T, under (seed, offset): one thread's work. */
template <class T>
__host__ __device__ __forceinline__ T element(const nbk_random_args &a, uint64_t seed, uint64_t offset, int64_t i)
{
    switch (a.kind) {
    case NBK_RANDOM_UNIFORM:
        if constexpr (std::is_same<T, float>::value) return nbk_uniform_f32_at(seed, offset, i, a.a, a.b);
        else return from_double<T>(nbk_uniform_f64_at(seed, offset, i, a.a, a.b));
    case NBK_RANDOM_NORMAL:
        return from_double<T>(NBK_MUL_ADD(a.a, a.b, nbk_normal_at(seed, offset, i)));
    case NBK_RANDOM_RANDINT: {
        const int64_t v = nbk_randint_at(seed, offset, i, a.low, a.range);
        if constexpr (std::is_same<T, bool>::value) return v != 0;
        else return (T)v;
    }
    case NBK_RANDOM_BERNOULLI: {
        const double p = a.probs ? nbk_prob(a.probs, a.probs_dtype, i) : a.a;
        return from_double<T>(nbk_bernoulli_at(seed, offset, i, p) ? a.b : 0.0);
    }
    default:
        return T{};
    }
}

template <class T> __global__ void __launch_bounds__(BLOCK) draw_kernel(const uint64_t *state, const nbk_random_args a)
{
    const uint64_t seed = state[0], offset = state[1];
    T *out = (T *)a.out; /* (n,) */
    const int64_t step = (int64_t)gridDim.x * BLOCK;
    for (int64_t i = (int64_t)blockIdx.x * BLOCK + threadIdx.x; i < a.n; i += step) out[i] = element<T>(a, seed, offset, i);
}

/* One thread per row: rows are few and each is a sequential walk over its categories. */
__global__ void __launch_bounds__(BLOCK)
    multinomial_kernel(const uint64_t *state, const nbk_random_args a, nbk_cuda_fault *fault)
{
    const uint64_t seed = state[0], offset = state[1];
    const int64_t row_bytes = a.categories * (a.probs_dtype == NB_FLOAT32 ? 4 : 8);
    const int64_t step = (int64_t)gridDim.x * BLOCK;
    for (int64_t r = (int64_t)blockIdx.x * BLOCK + threadIdx.x; r < a.rows; r += step) {
        const char *row = (const char *)a.probs + r * row_bytes;
        int64_t *out = (int64_t *)a.out + r * a.samples; /* (samples,) */
        const int bad = nbk_multinomial_check(row, a.probs_dtype, a.categories, a.samples, a.replacement);
        if (bad) {
            for (int64_t j = 0; j < a.samples; j++) out[j] = -1;
            nbk_cuda_report_fault(fault, NB_CUDA_FAULT_MULTINOMIAL, r, bad, 0);
            continue;
        }
        nbk_multinomial_row(seed, offset, r, row, a.probs_dtype, a.categories, a.samples, a.replacement, out);
    }
}

template <class T> void launch_draw(cudaStream_t stream, const uint64_t *state, const nbk_random_args *a)
{
    draw_kernel<T><<<grid_for(a->n, BLOCK), BLOCK, 0, stream>>>(state, *a);
}

} /* namespace */
} /* namespace nb_cuda */

using namespace nb_cuda;

extern "C" nb_status nbk_cuda_rng_set_state(int device, uint64_t seed, uint64_t offset)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    uint64_t *state = nullptr;
    if (st == NB_OK) st = slot_of(device, &state);
    if (st != NB_OK) return st;
    set_state_kernel<<<1, 1, 0, stream>>>(state, seed, offset);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the generator's state kernel");
}

extern "C" nb_status nbk_cuda_random(int device, const nbk_random_args *a)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    uint64_t *state = nullptr;
    if (st == NB_OK) st = slot_of(device, &state);
    if (st != NB_OK) return st;
    if (a->advance == 0) return NB_OK;
    if (a->kind == NBK_RANDOM_MULTINOMIAL) {
        multinomial_kernel<<<grid_for(a->rows, BLOCK), BLOCK, 0, stream>>>(state, *a, nbk_cuda_fault_slot(device));
    } else {
        switch (a->dtype) {
        case NB_FLOAT32: launch_draw<float>(stream, state, a); break;
        case NB_FLOAT64: launch_draw<double>(stream, state, a); break;
        case NB_INT64: launch_draw<int64_t>(stream, state, a); break;
        default: launch_draw<bool>(stream, state, a); break;
        }
    }
    st = nbk_cuda_check(cudaGetLastError(), device, "launching a random draw kernel");
    if (st != NB_OK) return st;
    advance_kernel<<<1, 1, 0, stream>>>(state, a->advance);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the generator's advance kernel");
}
