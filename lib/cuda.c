/* cuda.c — the public CUDA device calls (include/nabla/cuda.h): device count, names, memory and
 * the caching allocator's statistics, asked of the CUDA table. A build without CUDA has no
 * table, and answers that there is no device. */
#include "device.h"
#include "error.h"

#include <stdio.h>

#define NOT_BUILT "nabla was built without CUDA"

static const nbk_device *cuda(void) { return nb__device_table(NB_CUDA); }

int nb_cuda_device_count(void) { return cuda() ? cuda()->count() : 0; }

const char *nb_cuda_available_reason(void) { return cuda() ? cuda()->unavailable_reason() : NOT_BUILT; }

/* cuda:index's table when it exists; NULL and an error starting with op otherwise. */
static const nbk_device *existing(const char *op, const char *verb, int index)
{
    return nb__device_exists(NB_DEVICE_CUDA(index), "%s: cannot %s", op, verb);
}

nb_status nb_cuda_device_name(int index, char *buf, size_t size)
{
    if (nb__is_null("nb_cuda_device_name", "buf", buf)) return nb_last_status();
    if (size > 0) buf[0] = '\0';
    const nbk_device *t = existing("nb_cuda_device_name", "name", index);
    if (!t) return nb_last_status();
    return nb__kernel_status("nb_cuda_device_name", t->device_name(index, buf, size));
}

nb_status nb_cuda_memory(int index, size_t *free_bytes, size_t *total_bytes)
{
    if (nb__is_null("nb_cuda_memory", "free_bytes", free_bytes) ||
        nb__is_null("nb_cuda_memory", "total_bytes", total_bytes))
        return nb_last_status();
    *free_bytes = *total_bytes = 0;
    const nbk_device *t = existing("nb_cuda_memory", "query", index);
    if (!t) return nb_last_status();
    nb_status st = t->memory(index, free_bytes, total_bytes);
    if (st != NB_OK) *free_bytes = *total_bytes = 0;
    return nb__kernel_status("nb_cuda_memory", st);
}

nb_status nb_cuda_memory_stats(int index, nb_cuda_stats *out)
{
    if (nb__is_null("nb_cuda_memory_stats", "out", out)) return nb_last_status();
    *out = (nb_cuda_stats){0};
    const nbk_device *t = existing("nb_cuda_memory_stats", "query", index);
    if (!t) return nb_last_status();
    return nb__kernel_status("nb_cuda_memory_stats", t->allocator_stats(index, out));
}

void nb_cuda_empty_cache(void)
{
    if (cuda()) cuda()->empty_cache();
}
