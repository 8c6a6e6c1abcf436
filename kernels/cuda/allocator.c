/* allocator.c — the caching allocator of device memory, PyTorch's design in small.
 *
 * Requests are rounded up to 512 bytes. Small ones (up to 1 MiB) are cut from 2 MiB segments;
 * large ones from 20 MiB segments below 10 MiB, or from a segment of their own size rounded up
 * to 2 MiB. A request takes the best-fitting free block of its pool (the smallest that is large
 * enough, the lowest address among equals), split when the rest is worth keeping (at least
 * 512 bytes in the small pool, more than 1 MiB in the large one). A freed block goes back to its
 * pool, merged with free neighbours of the same segment, so a training step that repeats its
 * allocations reuses the same blocks and never reaches cudaMalloc or cudaFree. When cudaMalloc
 * runs out of memory, every cached segment that is wholly free is returned and the call tried
 * once more before the request fails with a message naming its size and the statistics.
 *
 * Blocks are reused in stream order: every device has one stream (device.c), so work queued with
 * a block before its release has finished before work queued after its reuse starts.
 *
 * NB_CUDA_NO_CACHE=1 (read when a device first allocates) turns caching off: each request is its
 * own cudaMalloc and each release a cudaFree.
 *
 * Graph capture (graph.c) needs memory that nothing else touches while the graph can replay:
 *  - while a device captures, its requests are served from a private pool (capture_pool): its
 *    own segments and free lists, so blocks freed and taken again during the capture are reused
 *    in the captured order, exactly as replays will run;
 *  - a block of the shared cache freed during a capture may still be used by the captured work:
 *    the pool adopts it (it stays in use) until the graph is released;
 *  - a pool's free blocks serve no one else while its graph exists; when the graph is released
 *    and the last of the pool's blocks is freed, its segments join the shared cache. */
#include "internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BLOCK ((size_t)512)              /* granularity of every request */
#define SMALL_REQUEST ((size_t)1 << 20)      /* up to this, the small pool */
#define SMALL_SEGMENT ((size_t)2 << 20)      /* the small pool's segments */
#define MIN_LARGE_ALLOC ((size_t)10 << 20)   /* below this, a large request gets a 20 MiB segment */
#define LARGE_SEGMENT ((size_t)20 << 20)
#define ROUND_LARGE ((size_t)2 << 20)        /* larger segments are multiples of 2 MiB */

struct capture_pool;

typedef struct block {
    char *ptr;
    size_t size;
    bool in_use;
    bool small;                /* the pool it belongs to */
    struct block *prev, *next; /* neighbours in its segment, by address; NULL at the ends */
    struct capture_pool *owner; /* the graph pool of its segment; NULL for the shared cache */
} block;

/* Free blocks of one pool, sorted by (size, address). */
typedef struct pool {
    block **items;
    size_t n, cap;
} pool;

/* A growable list of blocks (the blocks a pool adopted). */
typedef struct block_list {
    block **items;
    size_t n, cap;
} block_list;

/* The private memory of one captured graph. */
typedef struct capture_pool {
    pool small, large;  /* its free blocks (with none in use, each is a whole segment) */
    block_list adopted; /* shared-cache blocks freed during its capture, held until release */
    size_t live;         /* its blocks in use */
    bool released;       /* its graph is gone */
} capture_pool;

typedef struct device_cache {
    pthread_mutex_t lock;
    bool ready;
    bool no_cache;
    pool small, large;
    capture_pool *capturing; /* requests go here while the device captures a graph */
    nb_cuda_stats stats;
} device_cache;

static pthread_once_t caches_once = PTHREAD_ONCE_INIT;
static device_cache *caches; /* (nbk_cuda_count(),), for the life of the process */

static void make_caches(void)
{
    int n = nbk_cuda_count();
    if (n <= 0) return;
    caches = calloc((size_t)n, sizeof *caches);
    if (!caches) return;
    for (int i = 0; i < n; i++) pthread_mutex_init(&caches[i].lock, NULL);
}

/* The device's cache, set up on first use (locked by the caller). NULL when it cannot be made. */
static device_cache *cache_of(int device)
{
    pthread_once(&caches_once, make_caches);
    if (!caches || device < 0 || device >= nbk_cuda_count()) return NULL;
    return &caches[device];
}

static void ensure_ready(device_cache *c)
{
    if (c->ready) return;
    const char *v = getenv("NB_CUDA_NO_CACHE");
    c->no_cache = v && *v && strcmp(v, "0") != 0;
    c->ready = true;
}

/* ---------------------------------------------------------------- pools */

/* The first position whose block is not less than (size, address); address 0 finds the first
 * block of at least size bytes. */
static size_t lower_bound(const pool *p, size_t size, uintptr_t address)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const block *b = p->items[mid];
        bool less = b->size != size ? b->size < size : (uintptr_t)b->ptr < address;
        if (less)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool pool_insert(pool *p, block *b)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        block **items = realloc(p->items, cap * sizeof *items);
        if (!items) return false;
        p->items = items;
        p->cap = cap;
    }
    size_t at = lower_bound(p, b->size, (uintptr_t)b->ptr);
    memmove(p->items + at + 1, p->items + at, (p->n - at) * sizeof *p->items);
    p->items[at] = b;
    p->n++;
    return true;
}

static void pool_remove(pool *p, const block *b)
{
    size_t at = lower_bound(p, b->size, (uintptr_t)b->ptr);
    if (at >= p->n || p->items[at] != b) return; /* not there: nothing to do */
    memmove(p->items + at, p->items + at + 1, (p->n - at - 1) * sizeof *p->items);
    p->n--;
}

/* ---------------------------------------------------------------- segments */

static size_t segment_size(size_t size)
{
    if (size <= SMALL_REQUEST) return SMALL_SEGMENT;
    if (size < MIN_LARGE_ALLOC) return LARGE_SEGMENT;
    return (size + ROUND_LARGE - 1) / ROUND_LARGE * ROUND_LARGE;
}

static void free_segment(device_cache *c, block *b)
{
    (void)cudaFree(b->ptr); /* a failure here (a broken context) leaves nothing to undo */
    (void)cudaGetLastError();
    c->stats.reserved -= b->size;
    c->stats.num_device_frees++;
    free(b);
}

/* cudaFree of every cached segment that no block of is in use. */
static void release_unused(device_cache *c)
{
    pool *pools[2] = {&c->small, &c->large};
    for (int k = 0; k < 2; k++) {
        pool *p = pools[k];
        size_t kept = 0;
        for (size_t i = 0; i < p->n; i++) {
            block *b = p->items[i];
            if (!b->prev && !b->next)
                free_segment(c, b);
            else
                p->items[kept++] = b; /* order is kept */
        }
        p->n = kept;
    }
}

/* cudaMalloc of size bytes on the current device, retried once after returning the unused
 * cache when the device is out of memory. */
static nb_status device_malloc(device_cache *c, int device, size_t size, size_t request, void **out)
{
    cudaError_t err = cudaMalloc(out, size);
    if (err == cudaErrorMemoryAllocation && !c->capturing) { /* cudaFree would break a capture */
        (void)cudaGetLastError();
        release_unused(c);
        err = cudaMalloc(out, size);
    }
    if (err == cudaSuccess) {
        c->stats.reserved += size;
        c->stats.num_device_allocs++;
        return NB_OK;
    }
    (void)cudaGetLastError();
    if (err != cudaErrorMemoryAllocation) return nbk_cuda_check(err, device, "cudaMalloc");
    size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    (void)cudaGetLastError();
    const double mib = 1024.0 * 1024.0;
    return nbk_fail(NB_ERR_MEMORY,
                        "CUDA out of memory on cuda:%d: cannot allocate %zu bytes (%.2f MiB, a "
                        "%.2f MiB segment); tensors hold %.2f MiB, nabla reserves %.2f MiB, the "
                        "device has %.2f MiB free of %.2f MiB",
                        device, request, (double)request / mib, (double)size / mib,
                        (double)c->stats.allocated / mib, (double)c->stats.reserved / mib,
                        (double)free_bytes / mib, (double)total_bytes / mib);
}

static block *new_block(char *ptr, size_t size, bool small)
{
    block *b = malloc(sizeof *b);
    if (b) *b = (block){.ptr = ptr, .size = size, .small = small};
    return b;
}

/* ---------------------------------------------------------------- allocate and free */

static nb_status take_uncached(device_cache *c, int device, size_t size, size_t request, block **out)
{
    void *ptr = NULL;
    nb_status st = device_malloc(c, device, size, request, &ptr);
    if (st != NB_OK) return st;
    block *b = new_block(ptr, size, size <= SMALL_REQUEST);
    if (!b) {
        (void)cudaFree(ptr);
        c->stats.reserved -= size;
        c->stats.num_device_frees++;
        return nbk_fail(NB_ERR_MEMORY, "out of host memory recording a cuda:%d block", device);
    }
    *out = b;
    return NB_OK;
}

static bool list_push(block_list *l, block *b)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        block **items = realloc(l->items, cap * sizeof *items);
        if (!items) return false;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = b;
    return true;
}

/* A block of size bytes from the free lists of the capture pool cp (NULL: the shared cache),
 * or from a new segment added to them. */
static nb_status take_cached(device_cache *c, capture_pool *cp, int device, size_t size, size_t request,
                             block **out)
{
    const bool small = size <= SMALL_REQUEST;
    pool *p = cp ? (small ? &cp->small : &cp->large) : (small ? &c->small : &c->large);
    block *b = NULL;
    size_t at = lower_bound(p, size, 0); /* the smallest block of at least size bytes */
    if (at < p->n) {
        b = p->items[at];
        pool_remove(p, b);
    } else {
        size_t seg = segment_size(size);
        void *ptr = NULL;
        nb_status st = device_malloc(c, device, seg, request, &ptr);
        if (st != NB_OK) return st;
        b = new_block(ptr, seg, small);
        if (b) b->owner = cp;
        if (!b) {
            (void)cudaFree(ptr);
            c->stats.reserved -= seg;
            c->stats.num_device_frees++;
            return nbk_fail(NB_ERR_MEMORY, "out of host memory recording a cuda:%d block", device);
        }
    }
    size_t rest = b->size - size;
    if (small ? rest >= MIN_BLOCK : rest > SMALL_REQUEST) {
        block *r = new_block(b->ptr + size, rest, small);
        if (r) r->owner = b->owner;
        if (r && pool_insert(p, r)) { /* else the block is simply used whole */
            r->prev = b;
            r->next = b->next;
            if (b->next) b->next->prev = r;
            b->next = r;
            b->size = size;
        } else {
            free(r);
        }
    }
    *out = b;
    return NB_OK;
}

nb_status nbk_cuda_malloc(int device, size_t bytes, void **data, void **handle)
{
    *data = NULL;
    *handle = NULL;
    if (bytes == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream); /* checks the index; cudaMalloc uses the current device */
    if (st != NB_OK) return st;
    device_cache *c = cache_of(device);
    if (!c) return nbk_fail(NB_ERR_MEMORY, "out of host memory setting up the cuda:%d cache", device);
    if (bytes > SIZE_MAX - MIN_BLOCK)
        return nbk_fail(NB_ERR_MEMORY, "cannot allocate %zu bytes on cuda:%d", bytes, device);
    const size_t size = (bytes + MIN_BLOCK - 1) / MIN_BLOCK * MIN_BLOCK;

    pthread_mutex_lock(&c->lock);
    ensure_ready(c);
    block *b = NULL;
    if (c->capturing)
        st = take_cached(c, c->capturing, device, size, bytes, &b);
    else if (c->no_cache)
        st = take_uncached(c, device, size, bytes, &b);
    else
        st = take_cached(c, NULL, device, size, bytes, &b);
    if (st == NB_OK) {
        if (b->owner) b->owner->live++;
        b->in_use = true;
        c->stats.allocated += b->size;
        if (c->stats.allocated > c->stats.peak_allocated) c->stats.peak_allocated = c->stats.allocated;
        *data = b->ptr;
        *handle = b;
    }
    pthread_mutex_unlock(&c->lock);
    return st;
}

/* Joins b with its free neighbour n (after it in the segment) into b; n leaves its pool. */
static void absorb_next(pool *p, block *b)
{
    block *n = b->next;
    pool_remove(p, n);
    b->size += n->size;
    b->next = n->next;
    if (n->next) n->next->prev = b;
    free(n);
}

/* Puts the free block b back on the free lists of small/large, merged with its free neighbours. */
static void give_back(pool *small, pool *large, block *b)
{
    pool *p = b->small ? small : large;
    if (b->next && !b->next->in_use) absorb_next(p, b);
    if (b->prev && !b->prev->in_use) {
        block *prev = b->prev;
        pool_remove(p, prev);
        absorb_next(p, prev); /* b is not in the pool: removing it there does nothing */
        b = prev;
    }
    (void)pool_insert(p, b); /* without host memory to record it, the block stays unused */
}

/* The shared cache takes over the segments of a released pool with no block in use. */
static void hand_over(device_cache *c, capture_pool *cp)
{
    pool *from[2] = {&cp->small, &cp->large};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < from[k]->n; i++) {
            block *b = from[k]->items[i];
            for (block *s = b; s; s = s->next) s->owner = NULL;
            for (block *s = b->prev; s; s = s->prev) s->owner = NULL;
            if (c->no_cache && !b->prev && !b->next && !c->capturing)
                free_segment(c, b);
            else
                (void)pool_insert(b->small ? &c->small : &c->large, b);
        }
    free(cp->small.items);
    free(cp->large.items);
    free(cp->adopted.items);
    free(cp);
}

/* Returns block b (in use, of the shared cache) to the shared cache. */
static void release_shared(device_cache *c, block *b)
{
    c->stats.allocated -= b->size;
    b->in_use = false;
    if (c->no_cache)
        free_segment(c, b);
    else
        give_back(&c->small, &c->large, b);
}

void nbk_cuda_free(int device, void *handle)
{
    block *b = handle;
    if (!b) return;
    device_cache *c = cache_of(device);
    if (!c) return; /* cannot happen: the block came from this cache */
    if (cudaSetDevice(device) != cudaSuccess) (void)cudaGetLastError(); /* for cudaFree */
    pthread_mutex_lock(&c->lock);
    capture_pool *cp = b->owner;
    if (cp) {
        c->stats.allocated -= b->size;
        b->in_use = false;
        give_back(&cp->small, &cp->large, b);
        if (--cp->live == 0 && cp->released) hand_over(c, cp);
    } else if (c->capturing && list_push(&c->capturing->adopted, b)) {
        /* captured work may use it: it stays in use until the graph is released */
    } else {
        release_shared(c, b);
    }
    pthread_mutex_unlock(&c->lock);
}

/* ---------------------------------------------------------------- graph pools */

nb_status nbk_cuda_pool_begin(int device, void **pool_out)
{
    *pool_out = NULL;
    device_cache *c = cache_of(device);
    if (!c) return nbk_fail(NB_ERR_MEMORY, "out of host memory setting up the cuda:%d cache", device);
    capture_pool *cp = calloc(1, sizeof *cp);
    if (!cp) return nbk_fail(NB_ERR_MEMORY, "out of host memory for a graph pool on cuda:%d", device);
    pthread_mutex_lock(&c->lock);
    ensure_ready(c);
    nb_status st = NB_OK;
    if (c->capturing)
        st = nbk_fail(NB_ERR_ARGUMENT, "cuda:%d is already capturing a graph", device);
    else
        c->capturing = cp;
    pthread_mutex_unlock(&c->lock);
    if (st != NB_OK) {
        free(cp);
        return st;
    }
    *pool_out = cp;
    return NB_OK;
}

void nbk_cuda_pool_end(int device)
{
    device_cache *c = cache_of(device);
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    c->capturing = NULL;
    pthread_mutex_unlock(&c->lock);
}

void nbk_cuda_pool_release(int device, void *pool_handle)
{
    capture_pool *cp = pool_handle;
    device_cache *c = cache_of(device);
    if (!cp || !c) return;
    if (cudaSetDevice(device) != cudaSuccess) (void)cudaGetLastError();
    pthread_mutex_lock(&c->lock);
    if (c->capturing == cp) c->capturing = NULL;
    for (size_t i = 0; i < cp->adopted.n; i++) release_shared(c, cp->adopted.items[i]);
    cp->adopted.n = 0;
    cp->released = true;
    if (cp->live == 0) hand_over(c, cp);
    pthread_mutex_unlock(&c->lock);
}

void nbk_cuda_stats_of(int device, nb_cuda_stats *out)
{
    *out = (nb_cuda_stats){0};
    device_cache *c = cache_of(device);
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}

void nbk_cuda_release_cache(void)
{
    int n = nbk_cuda_count();
    for (int d = 0; d < n; d++) {
        device_cache *c = cache_of(d);
        if (!c) return;
        if (cudaSetDevice(d) != cudaSuccess) {
            (void)cudaGetLastError();
            continue;
        }
        pthread_mutex_lock(&c->lock);
        if (!c->capturing) release_unused(c); /* cudaFree would break the capture */
        pthread_mutex_unlock(&c->lock);
    }
}
