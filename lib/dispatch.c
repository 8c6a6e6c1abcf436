/* dispatch.c — picks the kernel for an elementwise op or a conversion by device and dtype. */
#include "dispatch.h"

#include "../kernels/cpu/cpu.h"
#include "error.h"
#include "threads.h"

bool nb__has_ewise_kernel(nb_ew_op op, nb_dtype dtype, nb_device device)
{
    return device.type == NB_CPU && nb_cpu_ew_loops[op][dtype] != NULL;
}

nb_status nb__run_ewise(const char *name, nb_ew_op op, nb_dtype dtype, const nb_iter *it,
                        const nb_scalars *s, nb_device device)
{
    if (device.type == NB_CPU && nb_cpu_ew_loops[op][dtype]) {
        nb_cpu_run(it, nb_cpu_ew_loops[op][dtype], s, nb__num_threads());
        return NB_OK;
    }
    char dev[32];
    return nb__fail_status(NB_ERR_UNSUPPORTED, "%s: no %s kernel for dtype %s", name,
                           nb__device_string(device, dev, sizeof dev), nb_dtype_name(dtype));
}

nb_status nb__run_cast(const char *name, nb_dtype from, nb_dtype to, const nb_iter *it,
                       nb_device device)
{
    if (device.type == NB_CPU) {
        static const nb_scalars none = {0, 0};
        nb_cpu_run(it, nb_cpu_cast_loops[from][to], &none, nb__num_threads());
        return NB_OK;
    }
    char dev[32];
    return nb__fail_status(NB_ERR_UNSUPPORTED, "%s: no %s kernel to convert %s to %s", name,
                           nb__device_string(device, dev, sizeof dev), nb_dtype_name(from),
                           nb_dtype_name(to));
}
