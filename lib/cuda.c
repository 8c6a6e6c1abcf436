/* cuda.c — the public CUDA device calls (include/nabla/cuda.h): device count, names, memory and
 * the caching allocator's statistics. With CUDA they ask kernels/cuda/; a build without CUDA
 * answers that there is no device. */
#include "error.h"
#include "tensor.h"

#include <stdio.h>

#ifdef NB_HAVE_CUDA
#include "../kernels/cuda/cuda.h"
#endif

#define NOT_BUILT "nabla was built without CUDA"

int nb_cuda_device_count(void)
{
#ifdef NB_HAVE_CUDA
    return nbk_cuda_count();
#else
    return 0;
#endif
}

const char *nb_cuda_available_reason(void)
{
#ifdef NB_HAVE_CUDA
    return nbk_cuda_no_device_reason();
#else
    return NOT_BUILT;
#endif
}

nb_status nb_cuda_device_name(int index, char *buf, size_t size)
{
    if (nb__is_null("nb_cuda_device_name", "buf", buf)) return nb_last_status();
#ifdef NB_HAVE_CUDA
    if (nbk_cuda_name(index, buf, size) == NB_OK) return NB_OK;
    return nb__fail_status(NB_ERR_DEVICE, "nb_cuda_device_name: %s", nbk_cuda_error());
#else
    if (size > 0) buf[0] = '\0';
    return nb__fail_status(NB_ERR_DEVICE, "nb_cuda_device_name: cannot name cuda:%d: " NOT_BUILT, index);
#endif
}

nb_status nb_cuda_memory(int index, size_t *free_bytes, size_t *total_bytes)
{
    if (nb__is_null("nb_cuda_memory", "free_bytes", free_bytes) ||
        nb__is_null("nb_cuda_memory", "total_bytes", total_bytes))
        return nb_last_status();
    *free_bytes = *total_bytes = 0;
#ifdef NB_HAVE_CUDA
    nb_status st = nbk_cuda_mem_info(index, free_bytes, total_bytes);
    if (st == NB_OK) return NB_OK;
    *free_bytes = *total_bytes = 0;
    return nb__fail_status(st, "nb_cuda_memory: %s", nbk_cuda_error());
#else
    return nb__fail_status(NB_ERR_DEVICE, "nb_cuda_memory: cannot query cuda:%d: " NOT_BUILT, index);
#endif
}

nb_status nb_cuda_memory_stats(int index, nb_cuda_stats *out)
{
    if (nb__is_null("nb_cuda_memory_stats", "out", out)) return nb_last_status();
    *out = (nb_cuda_stats){0};
#ifdef NB_HAVE_CUDA
    int n = nbk_cuda_count();
    if (n == 0)
        return nb__fail_status(NB_ERR_DEVICE, "nb_cuda_memory_stats: cuda:%d is not available: %s", index,
                               nbk_cuda_no_device_reason());
    if (index < 0 || index >= n)
        return nb__fail_status(NB_ERR_DEVICE, "nb_cuda_memory_stats: cuda:%d does not exist: there %s %d CUDA device%s",
                               index, n == 1 ? "is" : "are", n, n == 1 ? "" : "s");
    nbk_cuda_stats_of(index, out);
    return NB_OK;
#else
    return nb__fail_status(NB_ERR_DEVICE, "nb_cuda_memory_stats: cannot query cuda:%d: " NOT_BUILT, index);
#endif
}

void nb_cuda_empty_cache(void)
{
#ifdef NB_HAVE_CUDA
    nbk_cuda_release_cache();
#endif
}
