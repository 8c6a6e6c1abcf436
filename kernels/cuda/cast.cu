/* cast.cu — conversions between dtypes on the GPU ([from][to], kernels/cpu/cast.c's matrix and
 * rules): float to int64 saturates and maps NaN to 0, anything to bool is "!= 0" (NaN is true).
 * A same-dtype copy of dense rows is a cudaMemcpyAsync; everything else runs through launch.cuh's
 * strided kernel (broadcast sources included). Also nb_arange's values, made where they are
 * needed (no copy from the host, so a graph can capture them). float16 and bfloat16 convert
 * through float32 with kernels/half.h's functions, as the CPU does. */
#include "half.cuh"
#include "launch.cuh"

#include <type_traits>

namespace nb_cuda {
namespace {

template <class From, class To> struct CastOp {
    static constexpr int nin = 1;
    using Out = To;
    using In0 = From;
    using In1 = Unused;
    using In2 = Unused;

    __host__ __device__ __forceinline__ To operator()(From v, Unused, Unused) const
    {
        if constexpr (is_half<From>) {
            if constexpr (std::is_same<From, To>::value) return v;
            else return CastOp<float, To>{}(to_float(v), Unused{}, Unused{});
        } else if constexpr (is_half<To>) {
            return half_from_float<To>((float)v); /* a double is rounded twice, as in PyTorch */
        } else if constexpr (std::is_same<To, bool>::value) {
            return v != (From)0;
        } else if constexpr (std::is_same<To, int64_t>::value && std::is_floating_point<From>::value) {
            const double d = (double)v;
            if (d != d) return 0;
            if (d >= 9223372036854775807.0) return INT64_MAX;
            if (d <= -9223372036854775808.0) return INT64_MIN;
            return (int64_t)d;
        } else {
            return (To)v;
        }
    }
};

/* out[i] = start + i * step, in double (rounded twice, never fused, as the CPU computes it), then
 * converted to To like any float64 value. */
template <class To> __global__ void arange_kernel(int64_t n, double start, double step, To *out)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        out[i] = CastOp<double, To>{}(__dadd_rn(start, __dmul_rn((double)i, step)), Unused{}, Unused{});
}

template <class To> nb_status arange(int device, double start, double step, int64_t n, void *out)
{
    if (n == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st != NB_OK) return st;
    arange_kernel<To><<<grid_for(n, BLOCK), BLOCK, 0, stream>>>(n, start, step, (To *)out);
    return nbk_cuda_check(cudaGetLastError(), device, "launching the arange kernel");
}

typedef nb_status (*launcher)(int device, const nb_iter *it);

template <class From, class To> nb_status launch(int device, const nb_iter *it)
{
    if constexpr (std::is_same<From, To>::value) {
        /* one dense row on both sides: a plain copy */
        if (it->noperands == 2 && it->ndim == 1 && it->strides[0][0] == (int64_t)sizeof(To) &&
            it->strides[1][0] == (int64_t)sizeof(From)) {
            if (it->numel == 0) return NB_OK;
            cudaStream_t stream;
            nb_status st = nbk_cuda_use(device, &stream);
            if (st != NB_OK) return st;
            return nbk_cuda_check(cudaMemcpyAsync(it->data[0], it->data[1], (size_t)it->numel * sizeof(To),
                                                 cudaMemcpyDeviceToDevice, stream),
                                 device, "copying on the device (cudaMemcpyAsync)");
        }
    }
    return run_elementwise(device, it, CastOp<From, To>{}, "launching a conversion kernel");
}

#define CAST_ROW(F)                                                                               \
    {&launch<F, float>, &launch<F, double>, &launch<F, int64_t>, &launch<F, bool>, &launch<F, f16>, \
     &launch<F, bf16>}

const launcher table[NB_DTYPE_COUNT][NB_DTYPE_COUNT] = {
    CAST_ROW(float),   /* NB_FLOAT32 */
    CAST_ROW(double),  /* NB_FLOAT64 */
    CAST_ROW(int64_t), /* NB_INT64 */
    CAST_ROW(bool),    /* NB_BOOL */
    CAST_ROW(f16),     /* NB_FLOAT16 */
    CAST_ROW(bf16),    /* NB_BFLOAT16 */
};

static_assert(NB_DTYPE_COUNT == 6 && NB_FLOAT32 == 0 && NB_FLOAT64 == 1 && NB_INT64 == 2 && NB_BOOL == 3 &&
                  NB_FLOAT16 == 4 && NB_BFLOAT16 == 5,
              "dtype order changed");

} /* namespace */
} /* namespace nb_cuda */

extern "C" nb_status nbk_cuda_arange(int device, nb_dtype dtype, double start, double step, int64_t n, void *out)
{
    switch (dtype) {
    case NB_FLOAT32: return nb_cuda::arange<float>(device, start, step, n, out);
    case NB_FLOAT64: return nb_cuda::arange<double>(device, start, step, n, out);
    case NB_INT64: return nb_cuda::arange<int64_t>(device, start, step, n, out);
    case NB_BOOL: return nb_cuda::arange<bool>(device, start, step, n, out);
    case NB_FLOAT16: return nb_cuda::arange<nb_cuda::f16>(device, start, step, n, out);
    case NB_BFLOAT16: return nb_cuda::arange<nb_cuda::bf16>(device, start, step, n, out);
    }
    return nbk_fail(NB_ERR_DTYPE, "no CUDA arange for dtype %d", (int)dtype);
}

extern "C" nb_status nbk_cuda_cast(int device, nb_dtype from, nb_dtype to, const nb_iter *it)
{
    if ((int)from < 0 || from >= NB_DTYPE_COUNT || (int)to < 0 || to >= NB_DTYPE_COUNT)
        return nbk_fail(NB_ERR_DTYPE, "no CUDA conversion from dtype %d to dtype %d", (int)from, (int)to);
    return nb_cuda::table[from][to](device, it);
}
