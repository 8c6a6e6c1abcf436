/* device.c — the registry of device tables: the CPU's always, CUDA's in a build with it. This is
 * the one place in lib/ that knows which devices were built. */
#include "device.h"

#include "error.h"
#include "graph.h"

#include <stdarg.h>
#include <stdio.h>

static const nbk_device *const tables[NB_DEVICE_TYPE_COUNT] = {
    [NB_CPU] = &nbk_cpu_device,
#ifdef NB_HAVE_CUDA
    [NB_CUDA] = &nbk_cuda_device,
#endif
};

const nbk_device *nb__device_table(nb_device_type type)
{
    return (int)type >= 0 && type < NB_DEVICE_TYPE_COUNT ? tables[type] : NULL;
}

const nbk_device *nb__device_for(const char *op, nb_device d)
{
    const nbk_device *table = nb__device_table(d.type);
    if (!table) {
        char s[32];
        if (d.type == NB_CUDA)
            return nb__fail(NB_ERR_DEVICE, "%s: cannot run on %s: nabla was built without CUDA", op,
                            nb__device_string(d, s, sizeof s));
        return nb__fail(NB_ERR_DEVICE, "%s: cannot run on device type %d: no such device type", op, (int)d.type);
    }
    if (!nb__graph_allows(op, d)) return NULL;
    return table;
}

const nbk_device *nb__device_exists(nb_device d, const char *fmt, ...)
{
    const nbk_device *table = nb__device_table(d.type);
    const int n = table && d.type != NB_CPU ? table->count() : 1;
    if (table && (d.type == NB_CPU || (d.index >= 0 && d.index < n))) return table; /* no strings made */
    char what[192], dev[32];
    va_list ap;
    va_start(ap, fmt);
    int used = vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (used >= 0 && (size_t)used < sizeof what)
        snprintf(what + used, sizeof what - (size_t)used, " %s", nb__device_string(d, dev, sizeof dev));
    if (!table) {
        if (d.type == NB_CUDA)
            return nb__fail(NB_ERR_DEVICE, "%s: no CUDA device is available (nabla was built without CUDA)", what);
        return nb__fail(NB_ERR_DEVICE, "%s: an unknown device type (%d)", what, (int)d.type);
    }
    if (n == 0)
        return nb__fail(NB_ERR_DEVICE, "%s: no CUDA device is available (%s)", what, table->unavailable_reason());
    if (n == 1) return nb__fail(NB_ERR_DEVICE, "%s: there is 1 CUDA device (cuda:0)", what);
    return nb__fail(NB_ERR_DEVICE, "%s: there are %d CUDA devices (cuda:0 to cuda:%d)", what, n, n - 1);
}

nb_status nb__kernel_status(const char *op, nb_status st)
{
    if (st == NB_OK) return NB_OK;
    return nb__fail_status(st, "%s: %s", op, nbk_error());
}
