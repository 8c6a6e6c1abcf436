/* config.c — version and configuration strings for bug reports. */
#include "../kernels/cpu/blis_setup.h"
#include "nabla.h"
#include "threads.h"

#include <stdio.h>

#ifdef NB_HAVE_CUDA
#include "../kernels/cuda/cuda.h"
#endif

#define NB_STR2(x) #x
#define NB_STR(x) NB_STR2(x)

const char *nb_version_string(void)
{
    return NB_STR(NB_VERSION_MAJOR) "." NB_STR(NB_VERSION_MINOR) "." NB_STR(NB_VERSION_PATCH);
}

/* "cuda: 1 device (NVIDIA H100 80GB HBM3)", "cuda: built, no device (<CUDA's reason>)" or
 * "cuda: not built", into buf. */
static void describe_cuda(char *buf, size_t size)
{
#ifdef NB_HAVE_CUDA
    int n = nbk_cuda_count();
    if (n == 0) {
        snprintf(buf, size, "cuda: built, no device (%s)", nbk_cuda_no_device_reason());
        return;
    }
    size_t used = (size_t)snprintf(buf, size, "cuda: %d device%s (", n, n == 1 ? "" : "s");
    for (int i = 0; i < n && used < size; i++) {
        char name[256];
        if (nbk_cuda_name(i, name, sizeof name) != NB_OK) /* leaves nabla's error state alone */
            snprintf(name, sizeof name, "cuda:%d, unnamed: %s", i, nbk_cuda_error());
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", name);
    }
    if (used < size) snprintf(buf + used, size - used, ")");
#else
    snprintf(buf, size, "cuda: not built");
#endif
}

const char *nb_config_string(void)
{
    static _Thread_local char buf[1024];
    char blis[256], cuda[512];
    nbk_blis_describe(blis, sizeof blis);
    describe_cuda(cuda, sizeof cuda);
    snprintf(buf, sizeof buf, "nabla %s; %s; threads %d; %s", nb_version_string(), blis,
             nb__num_threads(), cuda);
    return buf;
}
