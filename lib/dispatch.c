/* dispatch.c — picks the kernel for an elementwise op or a conversion by device and dtype: the
 * CPU's row loops (kernels/cpu/) or, in a build with CUDA, the GPU kernels (kernels/cuda/). */
#include "dispatch.h"

#include "../kernels/cpu/cpu.h"
#include "error.h"
#include "graph.h"
#include "threads.h"

#ifdef NB_HAVE_CUDA
#include "../kernels/cuda/cuda.h"
#endif

bool nb__has_ewise_kernel(nb_ew_op op, nb_dtype dtype, nb_device device)
{
    if (device.type == NB_CPU) return nbk_cpu_ew_loops[op][dtype] != NULL;
#ifdef NB_HAVE_CUDA
    if (device.type == NB_CUDA) return nbk_cuda_has_ewise(op, dtype);
#endif
    return false;
}

nb_status nb__run_ewise(const char *name, nb_ew_op op, nb_dtype dtype, const nb_iter *it,
                        const nb_scalars *s, nb_device device)
{
    if (!nb__graph_allows(name, device)) return nb_last_status();
    if (device.type == NB_CPU && nbk_cpu_ew_loops[op][dtype]) {
        nbk_cpu_run(it, nbk_cpu_ew_loops[op][dtype], s, nb__num_threads());
        return NB_OK;
    }
#ifdef NB_HAVE_CUDA
    if (device.type == NB_CUDA && nbk_cuda_has_ewise(op, dtype)) {
        nbk_cuda_note_op(device.index, name);
        nb_status st = nbk_cuda_ewise(device.index, op, dtype, it, s);
        if (st == NB_OK) return NB_OK;
        return nb__fail_status(st, "%s: %s", name, nbk_cuda_error());
    }
#endif
    char dev[32];
    return nb__fail_status(NB_ERR_UNSUPPORTED, "%s: no %s kernel for dtype %s", name,
                           nb__device_string(device, dev, sizeof dev), nb_dtype_name(dtype));
}

nb_status nb__run_cast(const char *name, nb_dtype from, nb_dtype to, const nb_iter *it,
                       nb_device device)
{
    if (!nb__graph_allows(name, device)) return nb_last_status();
    if (device.type == NB_CPU) {
        static const nb_scalars none = {0, 0};
        nbk_cpu_run(it, nbk_cpu_cast_loops[from][to], &none, nb__num_threads());
        return NB_OK;
    }
#ifdef NB_HAVE_CUDA
    if (device.type == NB_CUDA) {
        nbk_cuda_note_op(device.index, name);
        nb_status st = nbk_cuda_cast(device.index, from, to, it);
        if (st == NB_OK) return NB_OK;
        return nb__fail_status(st, "%s: %s", name, nbk_cuda_error());
    }
#endif
    char dev[32];
    return nb__fail_status(NB_ERR_UNSUPPORTED, "%s: no %s kernel to convert %s to %s", name,
                           nb__device_string(device, dev, sizeof dev), nb_dtype_name(from),
                           nb_dtype_name(to));
}
