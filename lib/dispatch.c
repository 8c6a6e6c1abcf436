/* dispatch.c — runs an elementwise op or a conversion on a device through its table
 * (lib/device.h), with the error a missing kernel deserves. */
#include "dispatch.h"

#include "device.h"
#include "error.h"

bool nb__has_ewise_kernel(nb_ew_op op, nb_dtype dtype, nb_device device)
{
    const nbk_device *table = nb__device_table(device.type);
    return table && table->has_ewise(op, dtype);
}

nb_status nb__run_ewise(const char *name, nb_ew_op op, nb_dtype dtype, const nb_iter *it,
                        const nb_scalars *s, nb_device device)
{
    const nbk_device *table = nb__device_for(name, device);
    if (!table) return nb_last_status();
    if (!table->has_ewise(op, dtype)) {
        char dev[32];
        return nb__fail_status(NB_ERR_UNSUPPORTED, "%s: no %s kernel for dtype %s", name,
                               nb__device_string(device, dev, sizeof dev), nb_dtype_name(dtype));
    }
    return nb__kernel_status(name, table->ewise(nb__call(name, device), op, dtype, it, s));
}

nb_status nb__run_cast(const char *name, nb_dtype from, nb_dtype to, const nb_iter *it,
                       nb_device device)
{
    const nbk_device *table = nb__device_for(name, device);
    if (!table) return nb_last_status();
    return nb__kernel_status(name, table->cast(nb__call(name, device), from, to, it));
}
