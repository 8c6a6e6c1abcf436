/* config.c — version and configuration strings for bug reports. */
#include "../kernels/cpu/blis_setup.h"
#include "nabla.h"
#include "threads.h"

#include <stdio.h>

#define NB_STR2(x) #x
#define NB_STR(x) NB_STR2(x)

const char *nb_version_string(void)
{
    return NB_STR(NB_VERSION_MAJOR) "." NB_STR(NB_VERSION_MINOR) "." NB_STR(NB_VERSION_PATCH);
}

const char *nb_config_string(void)
{
    static _Thread_local char buf[512];
    char blis[256];
    nb_blis_describe(blis, sizeof blis);
    snprintf(buf, sizeof buf, "nabla %s; %s; threads %d; cuda: not built", nb_version_string(), blis,
             nb__num_threads());
    return buf;
}
