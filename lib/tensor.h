/* tensor.h — nabla's internal tensor and storage model (lib/ only: kernels see addresses and strides).
 *
 * A storage is a reference-counted buffer on one device; a tensor is a view of a storage
 * (element offset, shape, strides in elements, dtype) plus its autograd fields. */
#ifndef NB_TENSOR_H
#define NB_TENSOR_H

#include "nabla.h"

#include <stdatomic.h>

struct nb_node; /* autograd graph node (lib/autograd) */

typedef struct nb_storage {
    atomic_int refcount;
    void *data;      /* 64-byte aligned on the CPU; a device address on CUDA */
    size_t nbytes;
    nb_device device;
    uint64_t version; /* bumped by every in-place write; autograd checks saved tensors with it */
    void *handle;     /* the device allocator's record of the memory (kernels/device.h, nbk_block) */
    size_t capacity;  /* the CPU: bytes of the block that holds this header and the data */
    /* memory nabla does not own (lib/blob.c): the header is malloc'ed and, when the last
     * reference goes, deleter(data, deleter_ctx) is called (when not NULL) instead of free */
    bool external;
    void (*deleter)(void *data, void *ctx);
    void *deleter_ctx;
} nb_storage;

struct nb_tensor {
    atomic_int refcount;
    atomic_int retains; /* references taken with nb_retain and not yet given back with nb_release */
    nb_storage *storage;
    int64_t offset; /* in elements */
    int ndim;
    nb_dtype dtype;
    int64_t shape[NB_MAX_DIMS];
    int64_t strides[NB_MAX_DIMS]; /* in elements; 0 on expanded dims */

    /* scopes (lib/scope.c): a link in the list of the open scope that owns this tensor */
    /* the owning thread's scope stack, NULL when no scope owns it: atomic (relaxed), because a
     * release on another thread reads it to see that the tensor is not its scope's */
    const void *_Atomic scope_owner;
    int scope_frame;         /* which of that thread's open scopes */
    bool scope_keep;
    nb_tensor *scope_prev, *scope_next;

    /* autograd */
    bool requires_grad;
    bool is_view;            /* shares another tensor's elements (made by nb__make_view) */
    nb_tensor *grad;         /* accumulated gradient of a leaf (owned) */
    struct nb_node *grad_fn; /* the node that made this tensor (owned); NULL for leaves */
    struct nb_node *grad_acc; /* a leaf's accumulate node, while a graph holds it (not owned) */
};

/* ---- storage (lib/storage.c) */
/* nbytes on device; NULL and an error naming op on failure */
nb_storage *nb__storage_new(const char *op, size_t nbytes, nb_device device);
void nb__storage_retain(nb_storage *s);
void nb__storage_release(nb_storage *s);
/* ---- external memory (lib/blob.c) */
/* A tensor over memory nabla does not own: nb_from_blob's checks and work under op's name. On
 * failure the deleter is not called (the caller still owns data). */
nb_tensor *nb__from_blob(const char *op, void *data, int ndim, const int64_t *shape, const int64_t *strides,
                         nb_dtype dtype, nb_device device, void (*deleter)(void *data, void *ctx), void *ctx);
/* Frees an external storage whose last reference went: waits for the device's queued work on it,
 * calls its deleter, frees the header. */
void nb__storage_free_external(nb_storage *s);

/* ---- tensors (lib/tensor.c) */
/* A new tensor over a fresh, uninitialised, contiguous storage; registered in the current scope. */
nb_tensor *nb__alloc(const char *op, int ndim, const int64_t *shape, nb_dtype dtype, nb_device device);
/* A new view header over s (retained); strides NULL means contiguous. Registered in the scope.
 * NULL and an error naming op when out of memory. */
nb_tensor *nb__view_of(const char *op, nb_storage *s, int64_t offset, int ndim, const int64_t *shape,
                       const int64_t *strides, nb_dtype dtype);
/* Takes t out of its scope: the caller now owns its one reference. Returns t. */
nb_tensor *nb__untrack(nb_tensor *t);
/* Gives t's one reference to this thread's innermost open scope (none open, or paused: no-op).
 * Never fails: a scope links its tensors through their headers, so registering allocates nothing. */
void nb__scope_register(nb_tensor *t);
/* While paused (nestable), new tensors are not registered in the open scope: library code that
 * composes ops pauses so its temporaries are plainly its own, then registers its result. */
void nb__tracking_pause(void);
void nb__tracking_resume(void);
/* Takes t out of this thread's scope that owns it, if one does (the scope's reference then
 * belongs to the caller); true when it did. nb_release calls it first: a hand release of a
 * scope-owned tensor is the scope's reference. */
bool nb__scope_forget(nb_tensor *t);
/* A reference the library itself keeps (a parameter list): unlike nb_retain's, it is given back
 * with nb__release_ref, and never taken for the user's. Returns t. */
nb_tensor *nb__retain_ref(nb_tensor *t);
/* Drops a reference the library itself holds, never a scope's. */
void nb__release_ref(nb_tensor *t);
/* Tests: the scope stack's next n growths succeed and the one after fails (n < 0: never). */
void nb__scope_fail_growth_after(int n);

/* The most elements a shape may span (the product of its sizes, each at least 1): with that
 * bound every numel, contiguous stride and byte offset of a tensor fits in int64, so code that
 * handles a tensor's own shape may multiply freely. */
#define NB_MAX_SPAN ((int64_t)1 << 59)
/* Checks a shape that is about to become a tensor's: sizes >= 0, and the product of the sizes
 * (each at least 1) within NB_MAX_SPAN. *numel receives the number of elements. False and an
 * NB_ERR_SHAPE naming op and the shape otherwise, with no arithmetic that could overflow. */
bool nb__checked_numel(const char *op, int ndim, const int64_t *shape, int64_t *numel);
/* The number of elements of a shape that nb__checked_numel accepted (every tensor's is). */
static inline int64_t nb__numel_of(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}
void nb__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
bool nb__is_contiguous(const nb_tensor *t);
/* True when two elements of t share memory (an expanded dim of size > 1). */
bool nb__has_overlap(const nb_tensor *t);
/* Byte address of element 0 of t. */
static inline char *nb__ptr(const nb_tensor *t)
{
    return (char *)t->storage->data + t->offset * (int64_t)nb_dtype_size(t->dtype);
}
static inline bool nb__same_device(nb_device a, nb_device b)
{
    return a.type == b.type && a.index == b.index;
}
/* "cpu", "cuda:0" into buf; returns buf. */
char *nb__device_string(nb_device d, char *buf, size_t size);
/* "[2, 3]" into buf; returns buf. */
char *nb__shape_string(int ndim, const int64_t *shape, char *buf, size_t size);
/* Normalises a possibly negative dim against ndim; -1 (and an error naming op) when out of range. */
int nb__wrap_dim(const char *op, int dim, int ndim);

#endif /* NB_TENSOR_H */
