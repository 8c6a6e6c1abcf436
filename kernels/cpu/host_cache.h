/* host_cache.h — nabla's cache of CPU memory blocks (see host_cache.c). */
#ifndef NB_KERNELS_HOST_CACHE_H
#define NB_KERNELS_HOST_CACHE_H

#include <stddef.h>

/* A 64-byte aligned block of at least bytes bytes; *capacity receives its real size, to pass
 * back to nbk_host_free. NULL when memory is exhausted. */
void *nbk_host_alloc(size_t bytes, size_t *capacity);
void nbk_host_free(void *block, size_t capacity);
/* Bytes held in the cache for reuse (not in use by any tensor). */
size_t nbk_host_cached_bytes(void);

#endif /* NB_KERNELS_HOST_CACHE_H */
