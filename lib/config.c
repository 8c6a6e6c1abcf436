/* config.c — version and configuration strings for bug reports, and the CPU's thread count. */
#include "device.h"

#include <stdio.h>

#define NB_STR2(x) #x
#define NB_STR(x) NB_STR2(x)

const char *nb_version_string(void)
{
    return NB_STR(NB_VERSION_MAJOR) "." NB_STR(NB_VERSION_MINOR) "." NB_STR(NB_VERSION_PATCH);
}

void nb_set_num_threads(int n) { nb__device_table(NB_CPU)->set_threads(n); }

int nb_get_num_threads(void) { return nb__device_table(NB_CPU)->threads(); }

const char *nb_config_string(void)
{
    static _Thread_local char buf[1024];
    char cpu[256], cuda[512] = "cuda: not built";
    nb__device_table(NB_CPU)->describe(cpu, sizeof cpu);
    const nbk_device *gpu = nb__device_table(NB_CUDA);
    if (gpu) gpu->describe(cuda, sizeof cuda);
    snprintf(buf, sizeof buf, "nabla %s; %s; threads %d; %s", nb_version_string(), cpu, nb_get_num_threads(), cuda);
    return buf;
}
