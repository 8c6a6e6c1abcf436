/* half.cuh — float16 and bfloat16 element types for the CUDA kernels: a value is its bit pattern
 * (kernels/half.h's conversions, the same on host and device, so the GPU rounds as the CPU and
 * PyTorch do). Arithmetic is float32's: to_float, compute, from_float once. */
#ifndef NB_CUDA_HALF_CUH
#define NB_CUDA_HALF_CUH

#include "../half.h"
#include "nabla.h"

#include <type_traits>

namespace nb_cuda {

struct f16 {
    uint16_t bits;
};
struct bf16 {
    uint16_t bits;
};

template <class T> constexpr bool is_half = std::is_same<T, f16>::value || std::is_same<T, bf16>::value;

__host__ __device__ inline float to_float(f16 h) { return nbk_f16_to_f32(h.bits); }
__host__ __device__ inline float to_float(bf16 h) { return nbk_bf16_to_f32(h.bits); }

/* v (float32) as a T, rounded to nearest even */
template <class T> __host__ __device__ inline T half_from_float(float v);
template <> __host__ __device__ inline f16 half_from_float<f16>(float v) { return f16{nbk_f32_to_f16(v)}; }
template <> __host__ __device__ inline bf16 half_from_float<bf16>(float v) { return bf16{nbk_f32_to_bf16(v)}; }

/* The type a kernel storing T computes in: float for the half types, T itself otherwise. */
template <class T> struct compute_of {
    using type = T;
};
template <> struct compute_of<f16> {
    using type = float;
};
template <> struct compute_of<bf16> {
    using type = float;
};
template <class T> using compute_t = typename compute_of<T>::type;

/* A stored element in its compute type, and a computed value stored as T (rounded once). */
__host__ __device__ inline float widen(float x) { return x; }
__host__ __device__ inline double widen(double x) { return x; }
__host__ __device__ inline float widen(f16 x) { return to_float(x); }
__host__ __device__ inline float widen(bf16 x) { return to_float(x); }
template <class T> __host__ __device__ inline T narrow(compute_t<T> v)
{
    if constexpr (is_half<T>) return half_from_float<T>(v);
    else return v;
}

/* f(T{}) with T the element type of a floating dtype (float, double, f16 or bf16), or other()
 * for any other dtype: one dispatch for the launchers of kernels written over T. */
template <class F, class G> auto by_floating_dtype(nb_dtype dtype, F f, G other) -> decltype(other())
{
    switch (dtype) {
    case NB_FLOAT32: return f(float{});
    case NB_FLOAT64: return f(double{});
    case NB_FLOAT16: return f(f16{});
    case NB_BFLOAT16: return f(bf16{});
    default: return other();
    }
}

} /* namespace nb_cuda */

#endif /* NB_CUDA_HALF_CUH */
