/* autocast.c — automatic mixed precision, torch.autocast's semantics. A region (nb_autocast_begin
 * ... nb_autocast_end) is thread-local and nests: each begin pushes the device type's previous
 * state, each end restores it. Inside an enabled region, the ops on PyTorch's lists for that
 * device type cast their inputs first (lib/autocast.h): the matrix products and convolutions to
 * the region's dtype, the ops that need range or precision (losses, softmax on CUDA, ...) to
 * float32; every other op runs in the dtype its inputs promote to. The casts are ordinary
 * recorded nb_to_dtype calls, so float32 parameters stay float32 and their gradients come back
 * float32. */
#include "autocast.h"

#include "dtype.h"
#include "error.h"

#include <stdlib.h>

typedef struct frame {
    nb_device_type device;
    bool was_enabled; /* the device type's state before the begin */
    nb_dtype was_dtype;
} frame;

static _Thread_local bool enabled[2];
static _Thread_local nb_dtype dtype_of[2] = {NB_BFLOAT16, NB_FLOAT16}; /* PyTorch's defaults */
static _Thread_local frame *stack;                                   /* (cap,), NULL at depth 0 */
static _Thread_local int depth, cap;
static _Thread_local int off; /* > 0 inside an autocast op or a backward pass */

/* Casts of float32 parameters (leaves that require grad) to a region's dtype, kept until the
 * outermost region ends, as PyTorch does: a weight used by several ops of a forward pass is
 * converted once. A cast is reused only while its source's storage is at the version it was
 * made from (an in-place update makes a new one), and only made while grad mode is on (a cast
 * made under no-grad has no history to carry gradients back). */
typedef struct cached {
    nb_tensor *src, *cast; /* references of the cache's own */
    uint64_t version;
    nb_dtype dtype;
} cached;
static _Thread_local cached *cache; /* (ncached,) */
static _Thread_local int ncached, cache_cap;

static void clear_cache(void)
{
    for (int i = 0; i < ncached; i++) {
        nb__release_ref(cache[i].src);
        nb__release_ref(cache[i].cast);
    }
    free(cache);
    cache = NULL, ncached = cache_cap = 0;
}

int nb__autocast_cache_size(void) { return ncached; }

/* t (a float32 leaf that requires grad) cast to dtype, from the cache or made and cached; a new
 * reference (nb_retain's) for the caller. NULL on failure. */
static nb_tensor *cached_cast(const nb_tensor *t, nb_dtype dtype)
{
    for (int i = 0; i < ncached; i++)
        if (cache[i].src == t && cache[i].dtype == dtype) {
            if (cache[i].version == t->storage->version) return nb_retain(cache[i].cast);
            nb__release_ref(cache[i].src); /* stale: updated in place since */
            nb__release_ref(cache[i].cast);
            cache[i] = cache[--ncached];
            break;
        }
    nb_tensor *cast = nb_to_dtype(t, dtype);
    if (!cast) return NULL;
    if (ncached == cache_cap) {
        int grown = cache_cap ? 2 * cache_cap : 16;
        cached *c = realloc(cache, (size_t)grown * sizeof *c);
        if (!c) return cast; /* not cached, still cast */
        cache = c, cache_cap = grown;
    }
    cache[ncached++] = (cached){.src = nb__retain_ref((nb_tensor *)t), .cast = nb__retain_ref(cast),
                                .version = t->storage->version, .dtype = dtype};
    return cast;
}

static bool known_device(nb_device_type device) { return device == NB_CPU || device == NB_CUDA; }

static nb_status push(const char *op, nb_device_type device, bool on, nb_dtype dtype)
{
    if (!known_device(device))
        return nb__fail_status(NB_ERR_ARGUMENT, "%s: unknown device type %d; expected NB_CPU or NB_CUDA", op,
                               (int)device);
    if (depth == cap) {
        int grown = cap ? 2 * cap : 8;
        frame *s = realloc(stack, (size_t)grown * sizeof *s);
        if (!s) return nb__fail_status(NB_ERR_MEMORY, "%s: out of memory for %d nested regions", op, grown);
        stack = s, cap = grown;
    }
    stack[depth++] = (frame){device, enabled[device], dtype_of[device]};
    enabled[device] = on;
    dtype_of[device] = dtype;
    return NB_OK;
}

nb_status nb_autocast_begin(nb_device_type device, nb_dtype dtype)
{
    if (dtype != NB_FLOAT16 && dtype != NB_BFLOAT16)
        return nb__fail_status(NB_ERR_DTYPE,
                               "nb_autocast_begin: expected float16 or bfloat16 as the autocast dtype, got %s "
                               "(nb_autocast_begin_disabled turns autocast off)",
                               nb_dtype_name(dtype));
    return push("nb_autocast_begin", device, true, dtype);
}

nb_status nb_autocast_begin_disabled(nb_device_type device)
{
    return push("nb_autocast_begin_disabled", device, false,
                known_device(device) ? dtype_of[device] : NB_FLOAT32);
}

nb_status nb_autocast_end(void)
{
    if (depth == 0)
        return nb__fail_status(NB_ERR_ARGUMENT,
                               "nb_autocast_end: no autocast region is open (each nb_autocast_end needs an "
                               "nb_autocast_begin or nb_autocast_begin_disabled)");
    const frame f = stack[--depth];
    enabled[f.device] = f.was_enabled;
    dtype_of[f.device] = f.was_dtype;
    if (depth == 0) {
        free(stack);
        stack = NULL, cap = 0;
        clear_cache();
    }
    return NB_OK;
}

bool nb_autocast_enabled(nb_device_type device) { return known_device(device) && enabled[device]; }

nb_dtype nb_autocast_dtype(nb_device_type device) { return known_device(device) ? dtype_of[device] : NB_FLOAT32; }

bool nb__autocast_active(nb_device_type device) { return off == 0 && nb_autocast_enabled(device); }

void nb__autocast_suspend(void) { off++; }

void nb__autocast_resume(void)
{
    if (off > 0) off--;
}

/* The device type of the first input, when a region is enabled for it and listed in devices. */
static bool applies(unsigned devices, int n, const nb_tensor *const *in, nb_device_type *device)
{
    if (devices == 0 || depth == 0 || off > 0 || n > NB__AUTOCAST_MAX) return false; /* most ops, most of the time */
    for (int i = 0; i < n; i++)
        if (in[i]) {
            *device = in[i]->storage->device.type;
            return nb__autocast_active(*device) && (devices & (1u << *device));
        }
    return false;
}

/* Casts the inputs on device of a floating dtype other than float64 (PyTorch's eligible
 * tensors) to dtype, float32 parameters to a half dtype through the cache; turns autocast off
 * until nb__autocast_done. */
static void cast_all(nb__autocast *ac, nb_device_type device, nb_dtype dtype, int n, const nb_tensor *const *in)
{
    ac->n = n;
    for (int i = 0; i < n; i++) {
        const nb_tensor *t = in[i];
        const bool eligible = t && t->storage->device.type == device && t->dtype != dtype &&
                              (t->dtype == NB_FLOAT32 || nb__is_half(t->dtype));
        const bool parameter = eligible && t->dtype == NB_FLOAT32 && nb__is_half(dtype) && t->requires_grad &&
                               !t->grad_fn && nb_is_grad_enabled();
        ac->t[i] = parameter  ? cached_cast(t, dtype)
                   : eligible ? nb_to_dtype(t, dtype)
                   : t        ? nb_retain((nb_tensor *)t)
                              : NULL;
    }
    off++;
}

bool nb__autocast_lower(nb__autocast *ac, unsigned devices, int n, const nb_tensor *const *in)
{
    nb_device_type device;
    if (!applies(devices, n, in, &device)) return false;
    cast_all(ac, device, dtype_of[device], n, in);
    return true;
}

bool nb__autocast_fp32(nb__autocast *ac, unsigned devices, int n, const nb_tensor *const *in)
{
    nb_device_type device;
    if (!applies(devices, n, in, &device)) return false;
    cast_all(ac, device, NB_FLOAT32, n, in);
    return true;
}

nb_tensor *nb__autocast_done(nb__autocast *ac, nb_tensor *result)
{
    for (int i = 0; i < ac->n; i++) nb_release(ac->t[i]);
    ac->n = 0;
    nb__autocast_resume();
    return result;
}
