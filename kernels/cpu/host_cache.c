/* host_cache.c — a cache of freed CPU blocks, by size class, so the blocks of a training step's
 * temporaries are reused by the next step instead of going back to malloc. Without it, glibc
 * returns the top of the heap and large blocks to the kernel and every new tensor page-faults
 * its memory in again: a 16M-float add then runs at half the speed of memcpy, and a tiny op
 * spends most of its time in the kernel.
 *
 * Size classes: multiples of 64 bytes up to 256, then four classes per power of two (at most a
 * quarter wasted). The cache holds at most NB_HOST_CACHE_LIMIT bytes; beyond that blocks are
 * freed. NB_NO_CACHE=1 in the environment turns caching off (for leak hunts); builds with
 * AddressSanitizer start with it off, so every block is checked. */
#include "host_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define ALIGN 64
#define NCLASSES 168
#define NB_HOST_CACHE_LIMIT ((size_t)1 << 30)

#if defined(__SANITIZE_ADDRESS__)
#define CACHE_BY_DEFAULT 0
#else
#define CACHE_BY_DEFAULT 1
#endif

typedef struct free_block {
    struct free_block *next;
} free_block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static free_block *lists[NCLASSES];
static size_t cached_bytes;
static int enabled = -1; /* -1: not read from the environment yet */

/* The class of a request: its index and the capacity every block of that class has. */
static int size_class(size_t bytes, size_t *capacity)
{
    size_t n = bytes < ALIGN ? ALIGN : (bytes + ALIGN - 1) / ALIGN * ALIGN;
    if (n <= 256) {
        *capacity = n;
        return (int)(n / ALIGN) - 1; /* 0 .. 3 */
    }
    int k = 63 - __builtin_clzll((unsigned long long)(n - 1)); /* 2^k < n <= 2^(k+1), k >= 8 */
    size_t base = (size_t)1 << k, step = base >> 2;
    size_t j = (n - base + step - 1) / step; /* 1 .. 4 */
    *capacity = base + j * step;
    int idx = 4 + (k - 8) * 4 + (int)(j - 1);
    return idx < NCLASSES ? idx : -1; /* beyond the table: not cached */
}

static bool cache_enabled(void)
{
    if (enabled < 0) {
        const char *v = getenv("NB_NO_CACHE");
        enabled = (v && *v && *v != '0') ? 0 : CACHE_BY_DEFAULT;
    }
    return enabled;
}

void *nbk_host_alloc(size_t bytes, size_t *capacity)
{
    int idx = size_class(bytes, capacity);
    pthread_mutex_lock(&lock);
    if (idx >= 0 && cache_enabled() && lists[idx]) {
        free_block *b = lists[idx];
        lists[idx] = b->next;
        cached_bytes -= *capacity;
        pthread_mutex_unlock(&lock);
        return b;
    }
    pthread_mutex_unlock(&lock);
    void *block = NULL;
    if (posix_memalign(&block, ALIGN, *capacity) != 0) return NULL;
    return block;
}

void nbk_host_free(void *block, size_t capacity)
{
    if (!block) return;
    size_t cap;
    int idx = size_class(capacity, &cap);
    pthread_mutex_lock(&lock);
    if (idx >= 0 && cap == capacity && cache_enabled() && cached_bytes + capacity <= NB_HOST_CACHE_LIMIT) {
        free_block *b = block;
        b->next = lists[idx];
        lists[idx] = b;
        cached_bytes += capacity;
        pthread_mutex_unlock(&lock);
        return;
    }
    pthread_mutex_unlock(&lock);
    free(block);
}

size_t nbk_host_cached_bytes(void)
{
    pthread_mutex_lock(&lock);
    size_t n = cached_bytes;
    pthread_mutex_unlock(&lock);
    return n;
}
