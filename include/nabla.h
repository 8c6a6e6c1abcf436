/* nabla.h — the public API of nabla, an eager tensor library in C with tape autograd.
 *
 * Every op runs at once on the device its tensors carry and returns a new tensor, or NULL on
 * error; an op given NULL returns NULL and keeps the first error, so a whole step can be checked
 * once at its end (nb_last_status, nb_last_error). In-place ops end in '_' and return their
 * target. Tensors are reference counted: the caller owns what an op returns (nb_release), or a
 * scope does (nb_scope_begin / nb_keep / nb_scope_end).
 *
 * Shapes are given as (ndim, const int64_t *shape); NB_SHAPE(2, 3) expands to both. Dims may be
 * negative (counted from the end), as in PyTorch. */
#ifndef NABLA_H
#define NABLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NB_API marks the functions libnabla.so exports: it is built with hidden visibility, so only
 * what these headers declare with NB_API is reachable from a program linking it. */
#if defined(__GNUC__) || defined(__clang__)
#define NB_API __attribute__((visibility("default")))
#else
#define NB_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define NB_VERSION_MAJOR 0
#define NB_VERSION_MINOR 1
#define NB_VERSION_PATCH 0

#define NB_MAX_DIMS 8 /* most dims a tensor can have */

/* ---------------------------------------------------------------- types */

typedef struct nb_tensor nb_tensor; /* opaque: a view (shape, strides, offset) of a storage */

typedef enum nb_dtype {
    NB_FLOAT32 = 0, /* the default */
    NB_FLOAT64,
    NB_INT64,
    NB_BOOL,
    NB_FLOAT16,  /* IEEE binary16; element values are uint16_t bit patterns (nb_from_array, nb_data) */
    NB_BFLOAT16, /* bfloat16 (float32's top 16 bits); uint16_t bit patterns likewise */
} nb_dtype;
#define NB_DTYPE_COUNT 6

typedef enum nb_device_type { NB_CPU = 0, NB_CUDA } nb_device_type;
#define NB_DEVICE_TYPE_COUNT 2

typedef struct nb_device {
    nb_device_type type;
    int index; /* CUDA ordinal; 0 for the CPU */
} nb_device;

#define NB_DEVICE_CPU ((nb_device){NB_CPU, 0})
#define NB_DEVICE_CUDA(i) ((nb_device){NB_CUDA, (i)})

typedef enum nb_status {
    NB_OK = 0,
    NB_ERR_NULL,      /* a NULL tensor or pointer was given */
    NB_ERR_ARGUMENT,  /* an argument out of range: a dim, a size, a count */
    NB_ERR_SHAPE,     /* shapes that do not fit the op */
    NB_ERR_DTYPE,     /* a dtype the op does not take */
    NB_ERR_DEVICE,    /* tensors on different devices, or a device that is not there */
    NB_ERR_MEMORY,    /* an allocation failed */
    NB_ERR_IO,        /* a file could not be read or written, or is malformed */
    NB_ERR_AUTOGRAD,  /* a gradient cannot be computed as asked */
    NB_ERR_UNSUPPORTED, /* valid, but not implemented for these inputs */
} nb_status;

/* Options for creating tensors: NB_OPTS(NB_FLOAT64), NB_OPTS(NB_FLOAT32, .requires_grad = true),
 * NB_OPTS(NB_INT64, .device = NB_DEVICE_CUDA(0)). Unnamed fields are zero: the CPU, no grad. */
typedef struct nb_options {
    nb_dtype dtype;
    nb_device device;
    bool requires_grad;
} nb_options;
#define NB_OPTS(...) ((nb_options){.dtype = __VA_ARGS__})

/* NB_SHAPE(64, 1000) expands to the two arguments (ndim, shape) that shape-taking calls expect. */
#define NB_SHAPE(...)                                                                            \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}
/* NB_DIMS(1, 0) does the same for lists of dims (nb_permute). */
#define NB_DIMS(...) (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)), (const int[]){__VA_ARGS__}

/* ---------------------------------------------------------------- library */

NB_API const char *nb_version_string(void); /* "0.1.0" */
/* One line for bug reports: version, BLIS version, kernel set and how it was chosen, threads,
 * CUDA devices ("cuda: 1 device (NVIDIA H100 ...)", "cuda: built, no device (why)", "cuda: not built"). */
NB_API const char *nb_config_string(void);
/* Threads for large ops (BLIS and nabla's loops); n < 1: all cores. */
NB_API void nb_set_num_threads(int n);
NB_API int nb_get_num_threads(void);

/* ---------------------------------------------------------------- errors (thread-local) */

NB_API nb_status nb_last_status(void);  /* the first error since nb_clear_error, or NB_OK */
NB_API const char *nb_last_error(void); /* its message, "" when there is none */
NB_API void nb_clear_error(void);
NB_API const char *nb_status_name(nb_status s); /* "NB_ERR_SHAPE" */

/* ---------------------------------------------------------------- lifetime and scopes */

NB_API nb_tensor *nb_retain(nb_tensor *t); /* adds a reference; returns t */
/* Drops a reference; NULL does nothing. A release gives back a reference taken with nb_retain
 * while one is out (retain and release pair up); otherwise the reference t was made with, which
 * is its scope's when an open scope of this thread owns t: the scope then forgets t and never
 * releases it again, while other holders (an nb_params list) keep it alive. */
NB_API void nb_release(nb_tensor *t);

/* Tensors created between begin and end (on this thread) are released at end unless kept or
 * released by hand; a kept tensor passes to the enclosing scope, or to the caller when there is
 * none. Scopes nest. Begin never fails to open a scope: when it cannot allocate (beyond 32
 * nested scopes) it sets NB_ERR_MEMORY and opens one that shares a list with the scopes nested
 * in it (their tensors are released at its end). nb_scope_end returns nb_last_status(). */
NB_API void nb_scope_begin(void);
NB_API nb_tensor *nb_keep(nb_tensor *t); /* returns t; a no-op for a tensor an outer scope owns */
NB_API nb_status nb_scope_end(void);     /* an unmatched end is NB_ERR_ARGUMENT */

/* ---------------------------------------------------------------- inspection */

NB_API int nb_ndim(const nb_tensor *t);
NB_API const int64_t *nb_shape(const nb_tensor *t);   /* ndim sizes */
NB_API const int64_t *nb_strides(const nb_tensor *t); /* ndim strides, in elements */
NB_API int64_t nb_size(const nb_tensor *t, int dim);  /* -1 on a bad dim (and an error) */
NB_API int64_t nb_numel(const nb_tensor *t);
NB_API nb_dtype nb_dtype_of(const nb_tensor *t);
NB_API nb_device nb_device_of(const nb_tensor *t);
NB_API bool nb_is_contiguous(const nb_tensor *t);
NB_API const char *nb_dtype_name(nb_dtype dtype);     /* "float32" */
NB_API size_t nb_dtype_size(nb_dtype dtype);          /* bytes per element */
/* The float16 or bfloat16 bit pattern of v, rounded to nearest even as PyTorch rounds (0 and an
 * error for another dtype). */
NB_API uint16_t nb_half_from_float(nb_dtype dtype, float v);
/* The float32 value (exact) of a float16 or bfloat16 bit pattern (NAN and an error for another dtype). */
NB_API float nb_half_to_float(nb_dtype dtype, uint16_t bits);
/* The CPU address of element [0, 0, ...] (offset applied); NULL for other devices. */
NB_API void *nb_data(const nb_tensor *t);
/* Writes "[64, 1000]" into buf (at most size bytes, always terminated); returns buf. */
NB_API char *nb_shape_string(const nb_tensor *t, char *buf, size_t size);
/* Prints dtype, shape and (up to a few) values, for debugging. */
NB_API void nb_print(const nb_tensor *t, const char *name);

/* ---------------------------------------------------------------- creation */

NB_API nb_tensor *nb_empty(int ndim, const int64_t *shape, nb_options opts);
NB_API nb_tensor *nb_zeros(int ndim, const int64_t *shape, nb_options opts);
NB_API nb_tensor *nb_ones(int ndim, const int64_t *shape, nb_options opts);
NB_API nb_tensor *nb_full(int ndim, const int64_t *shape, double value, nb_options opts);
NB_API nb_tensor *nb_zeros_like(const nb_tensor *t);
NB_API nb_tensor *nb_ones_like(const nb_tensor *t);
/* [start, end) in steps of step, 1-D; ceil((end - start) / step) elements. */
NB_API nb_tensor *nb_arange(double start, double end, double step, nb_options opts);
NB_API void nb_manual_seed(uint64_t seed); /* seeds the generator behind rand and randn */
NB_API nb_tensor *nb_rand(int ndim, const int64_t *shape, nb_options opts);  /* uniform on [0, 1) */
NB_API nb_tensor *nb_randn(int ndim, const int64_t *shape, nb_options opts); /* standard normal */
/* The generator's state (Philox4x32-10): a draw takes the counters from offset on under the key
 * seed (one per 4 float32 uniform values, one per 2 other values; kernels/random.h), and the offset
 * moves past them; nb_manual_seed(s) is {s, 0}. Save it to resume a random stream from a checkpoint. */
typedef struct nb_rng_state {
    uint64_t seed;
    uint64_t offset;
} nb_rng_state;
NB_API nb_rng_state nb_rng_get_state(void);
NB_API void nb_rng_set_state(nb_rng_state state); /* the next draws continue from state */
/* integers uniform on [low, high) (opts.dtype: int64 as in PyTorch, or any dtype) */
NB_API nb_tensor *nb_randint(int64_t low, int64_t high, int ndim, const int64_t *shape, nb_options opts);
/* 1 with probability p[i], else 0, shaped and typed like p (float); CUDA does not check p in [0, 1] */
NB_API nb_tensor *nb_bernoulli(const nb_tensor *p);
/* 1 with probability p, else 0, shaped, typed and placed like input (PyTorch's bernoulli(input, p)) */
NB_API nb_tensor *nb_bernoulli_scalar(const nb_tensor *input, double p);
/* int64 (num_samples,) or (rows, num_samples) category indices drawn from probs (k,) or (rows, k) */
NB_API nb_tensor *nb_multinomial(const nb_tensor *probs, int64_t num_samples, bool replacement);
NB_API nb_tensor *nb_uniform_(nb_tensor *t, double from, double to); /* fills t uniform on [from, to) */
NB_API nb_tensor *nb_normal_(nb_tensor *t, double mean, double std);  /* fills t with normal values */
/* Copies numel elements of opts.dtype from a C array in row-major order (float16 and bfloat16:
 * uint16_t bit patterns, as nb_half_from_float makes them). */
NB_API nb_tensor *nb_from_array(const void *data, int ndim, const int64_t *shape, nb_options opts);
/* A tensor over memory nabla does not own, without a copy (torch.from_blob): data is a host or
 * device address by device, aligned to the element size; strides in elements (NULL: contiguous,
 * none negative). deleter(data, ctx), when not NULL, runs exactly once, when the last tensor or
 * view sharing the memory is released; if the call fails it is not called. */
NB_API nb_tensor *nb_from_blob(void *data, int ndim, const int64_t *shape, const int64_t *strides, nb_dtype dtype,
                               nb_device device, void (*deleter)(void *data, void *ctx), void *ctx);
/* Copies t (any strides) into dst as a row-major C array of t's dtype; dst_bytes is checked
 * (float16 and bfloat16: uint16_t bit patterns, read with nb_half_to_float). */
NB_API nb_status nb_copy_to_array(const nb_tensor *t, void *dst, size_t dst_bytes);
/* The value of a one-element tensor as a double (a half value exactly); NAN (and an error) otherwise. */
NB_API double nb_item(const nb_tensor *t);
/* A copy of t converted to dtype (a new reference to t when it already has that dtype). */
NB_API nb_tensor *nb_to_dtype(const nb_tensor *t, nb_dtype dtype);
/* t on device (a new reference to t when it is already there); a strided t is made contiguous
 * on its own device first. Recorded for autograd: the gradient moves back to t's device. */
NB_API nb_tensor *nb_to(const nb_tensor *t, nb_device device);

/* ---------------------------------------------------------------- views and shape */

/* Views share t's storage; reshape copies only when the strides do not allow a view.
 * One size may be -1 (inferred). */
NB_API nb_tensor *nb_reshape(const nb_tensor *t, int ndim, const int64_t *shape);
NB_API nb_tensor *nb_view(const nb_tensor *t, int ndim, const int64_t *shape); /* never copies */
NB_API nb_tensor *nb_flatten(const nb_tensor *t); /* (numel,) */
NB_API nb_tensor *nb_t(const nb_tensor *t);       /* 2-D (or less) transpose */
NB_API nb_tensor *nb_transpose(const nb_tensor *t, int dim0, int dim1);
NB_API nb_tensor *nb_permute(const nb_tensor *t, int ndim, const int *dims);
NB_API nb_tensor *nb_narrow(const nb_tensor *t, int dim, int64_t start, int64_t length);
NB_API nb_tensor *nb_select(const nb_tensor *t, int dim, int64_t index); /* drops dim */
NB_API nb_tensor *nb_squeeze(const nb_tensor *t);              /* drops every size-1 dim */
NB_API nb_tensor *nb_squeeze_dim(const nb_tensor *t, int dim); /* drops dim if its size is 1 */
NB_API nb_tensor *nb_unsqueeze(const nb_tensor *t, int dim);
/* Broadcasts size-1 dims (and new leading dims) to shape without copying; -1 keeps a size. */
NB_API nb_tensor *nb_expand(const nb_tensor *t, int ndim, const int64_t *shape);
/* A new reference to t when already contiguous. */
NB_API nb_tensor *nb_contiguous(const nb_tensor *t);
NB_API nb_tensor *nb_clone(const nb_tensor *t); /* always a fresh contiguous copy */
NB_API nb_tensor *nb_cat(int n, nb_tensor *const *tensors, int dim);
/* The n tensors (all of one shape) joined along a new dim (0 to their ndim; negative counts
 * from the end): nb_stack(2, (a, b) of (3, 4), 1) is (3, 2, 4). Dtypes promote as in nb_cat. */
NB_API nb_tensor *nb_stack(int n, nb_tensor *const *tensors, int dim);
/* Views of t cut along dim into pieces of split_size elements (the last may be smaller; a dim of
 * size 0 gives one empty piece), written to out[0..count); returns the count, or -1 and an
 * error (more pieces than cap). out NULL with cap 0 only counts. Each piece is a narrowed view,
 * recorded for autograd like nb_narrow. As torch.split. */
NB_API int nb_split(const nb_tensor *t, int64_t split_size, int dim, int cap, nb_tensor **out);
/* The same with the n sizes of the pieces given (at least 0; they add up to t's size along dim). */
NB_API int nb_split_sizes(const nb_tensor *t, int n, const int64_t *sizes, int dim, int cap, nb_tensor **out);
/* Views of t cut into at most chunks pieces of ceil(size / chunks) along dim (fewer when they run
 * out; chunks empty pieces for a dim of size 0), as torch.chunk; the count, or -1 and an error. */
NB_API int nb_chunk(const nb_tensor *t, int chunks, int dim, int cap, nb_tensor **out);
/* t tiled repeats[i] times along dim i (n >= ndim; t gains leading dims of size 1), as
 * torch.Tensor.repeat: repeat((2, 3), 2, (2, 1)) is (4, 3). Always a copy. */
NB_API nb_tensor *nb_repeat(const nb_tensor *t, int n, const int64_t *repeats);
/* A copy of t with the order of elements reversed along each of the n dims. */
NB_API nb_tensor *nb_flip(const nb_tensor *t, int n, const int *dims);
/* A copy of t with elements shifted by shifts[i] along dims[i], wrapping around (torch.roll);
 * with ndims 0, one shift of the flattened tensor, reshaped back. */
NB_API nb_tensor *nb_roll(const nb_tensor *t, int nshifts, const int64_t *shifts, int ndims, const int *dims);
/* The lower (upper) triangle of the last two dims, batched over the others, the rest 0: elements
 * with col - row <= diagonal (>= diagonal) are kept. 0 is the main diagonal. */
NB_API nb_tensor *nb_tril(const nb_tensor *t, int64_t diagonal);
NB_API nb_tensor *nb_triu(const nb_tensor *t, int64_t diagonal);

/* ---------------------------------------------------------------- indexing (int64 indices) */

/* Indices must lie in [0, size) of the dim they index: one out of range is an NB_ERR_ARGUMENT
 * naming the op, the index, its position (row-major in the index) and the size. On the CPU it is
 * found before anything is written; on a GPU at the next synchronisation (the result is then
 * undefined, and no memory outside the tensors is touched). Duplicate indices are added (or,
 * for scatter, overwritten: the last one wins) in the same order on every device and run. */

/* t's slices at the 1-D (or 0-d) index along dim: shape t's with the index's length there. */
NB_API nb_tensor *nb_index_select(const nb_tensor *t, int dim, const nb_tensor *index);
/* out[i][j][k] = t[index[i][j][k]][j][k] for dim 0 (and so on): out has index's shape, which has
 * t's ndim and fits in t except along dim. */
NB_API nb_tensor *nb_gather(const nb_tensor *t, int dim, const nb_tensor *index);
/* A copy of t with t[index[i][j][k]][j][k] = src[i][j][k] for dim 0 (and so on); index has t's
 * ndim, fits in src, and in t except along dim; src has t's dtype. */
NB_API nb_tensor *nb_scatter(const nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src);
NB_API nb_tensor *nb_scatter_(nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src);
/* The same, adding src's values instead (duplicates accumulate). */
NB_API nb_tensor *nb_scatter_add(const nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src);
NB_API nb_tensor *nb_scatter_add_(nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src);
/* A copy of t with alpha · src's slices added at the 1-D index along dim: src is t's shape with
 * the index's length along dim, and t's dtype (torch.index_add). */
NB_API nb_tensor *nb_index_add(const nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src,
                               double alpha);
NB_API nb_tensor *nb_index_add_(nb_tensor *t, int dim, const nb_tensor *index, const nb_tensor *src, double alpha);

/* ---------------------------------------------------------------- elementwise (broadcasting) */

/* Binary ops broadcast like NumPy and promote dtypes like PyTorch
 * (bool < int64 < float32 < float64); int64 / int64 gives float32. A 0-d operand counts like a
 * number: only when its category (bool < integer < floating) is higher than the others' (float32
 * plus a float64 0-d stays float32). bool + bool is or, bool * bool and; subtracting a bool is
 * refused, as in PyTorch. */
NB_API nb_tensor *nb_add(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_sub(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_mul(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_div(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_pow(const nb_tensor *a, const nb_tensor *exponent);
/* The larger (smaller) of a and b, elementwise; a NaN on either side wins (a's first), and of
 * equal values a's is taken (so -0 and +0 keep their order). Like torch.maximum/minimum. */
NB_API nb_tensor *nb_maximum(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_minimum(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_add_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_sub_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_rsub_scalar(const nb_tensor *a, double s); /* s - a */
NB_API nb_tensor *nb_mul_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_div_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_pow_scalar(const nb_tensor *a, double exponent);

NB_API nb_tensor *nb_neg(const nb_tensor *a);
NB_API nb_tensor *nb_exp(const nb_tensor *a);
NB_API nb_tensor *nb_log(const nb_tensor *a);
NB_API nb_tensor *nb_sqrt(const nb_tensor *a);
NB_API nb_tensor *nb_abs(const nb_tensor *a);
NB_API nb_tensor *nb_relu(const nb_tensor *a);
NB_API nb_tensor *nb_sigmoid(const nb_tensor *a);
NB_API nb_tensor *nb_tanh(const nb_tensor *a);
NB_API nb_tensor *nb_clamp(const nb_tensor *a, double min, double max);
NB_API nb_tensor *nb_clamp_min(const nb_tensor *a, double min);
NB_API nb_tensor *nb_clamp_max(const nb_tensor *a, double max);
/* Math like torch's: int64 and bool inputs give float32 (floor, ceil, round and sign keep int64). */
NB_API nb_tensor *nb_erf(const nb_tensor *a);
NB_API nb_tensor *nb_sin(const nb_tensor *a);
NB_API nb_tensor *nb_cos(const nb_tensor *a);
NB_API nb_tensor *nb_log1p(const nb_tensor *a);       /* log(1 + a), exact near 0 */
NB_API nb_tensor *nb_expm1(const nb_tensor *a);       /* e^a - 1, exact near 0 */
NB_API nb_tensor *nb_rsqrt(const nb_tensor *a);       /* 1 / sqrt(a) */
NB_API nb_tensor *nb_reciprocal(const nb_tensor *a);  /* 1 / a */
NB_API nb_tensor *nb_floor(const nb_tensor *a);       /* floating or int64 (unchanged) */
NB_API nb_tensor *nb_ceil(const nb_tensor *a);        /* floating or int64 (unchanged) */
NB_API nb_tensor *nb_round(const nb_tensor *a);       /* halves to even, as torch.round */
NB_API nb_tensor *nb_sign(const nb_tensor *a);        /* -1, 0 or 1 in a's dtype (0 for NaN); bool: a */

/* Comparisons give bool tensors. */
NB_API nb_tensor *nb_lt(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_le(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_gt(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_ge(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_eq(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_ne(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_lt_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_le_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_gt_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_ge_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_eq_scalar(const nb_tensor *a, double s);
NB_API nb_tensor *nb_ne_scalar(const nb_tensor *a, double s);
/* Logical ops of any dtypes (nonzero, NaN included, is true), broadcasting; bool results. */
NB_API nb_tensor *nb_logical_and(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_logical_or(const nb_tensor *a, const nb_tensor *b);
NB_API nb_tensor *nb_logical_not(const nb_tensor *a);

/* cond ? a : b, all three broadcast; cond is bool. */
NB_API nb_tensor *nb_where(const nb_tensor *cond, const nb_tensor *a, const nb_tensor *b);
/* a with value where mask (bool, broadcast to a's shape) is true. */
NB_API nb_tensor *nb_masked_fill(const nb_tensor *a, const nb_tensor *mask, double value);
/* start + weight (end - start), all three broadcast and of one floating dtype (torch.lerp). */
NB_API nb_tensor *nb_lerp(const nb_tensor *start, const nb_tensor *end, const nb_tensor *weight);
/* torch.lerp with a number for the weight; start and end of one floating dtype. */
NB_API nb_tensor *nb_lerp_scalar(const nb_tensor *start, const nb_tensor *end, double weight);

/* ---------------------------------------------------------------- in place (return the target) */

/* b broadcasts to t's shape; t keeps its dtype. Refused on an expanded (overlapping) view. */
NB_API nb_tensor *nb_add_(nb_tensor *t, const nb_tensor *b);
NB_API nb_tensor *nb_sub_(nb_tensor *t, const nb_tensor *b);
NB_API nb_tensor *nb_mul_(nb_tensor *t, const nb_tensor *b);
NB_API nb_tensor *nb_div_(nb_tensor *t, const nb_tensor *b);
NB_API nb_tensor *nb_add_scalar_(nb_tensor *t, double s);
NB_API nb_tensor *nb_mul_scalar_(nb_tensor *t, double s);
/* t += alpha * b */
NB_API nb_tensor *nb_add_scaled_(nb_tensor *t, const nb_tensor *b, double alpha);
/* t -= alpha * b */
NB_API nb_tensor *nb_sub_scaled_(nb_tensor *t, const nb_tensor *b, double alpha);
NB_API nb_tensor *nb_masked_fill_(nb_tensor *t, const nb_tensor *mask, double value);
NB_API nb_tensor *nb_fill_(nb_tensor *t, double value);
NB_API nb_tensor *nb_zero_(nb_tensor *t);
NB_API nb_tensor *nb_copy_(nb_tensor *t, const nb_tensor *src); /* src broadcasts; dtype converts */

/* ---------------------------------------------------------------- reductions */

/* Whole-tensor reductions give 0-d tensors. float32 sums accumulate in float64. Sums of int64
 * and bool give int64; mean needs a floating dtype. */
NB_API nb_tensor *nb_sum(const nb_tensor *t);
NB_API nb_tensor *nb_mean(const nb_tensor *t);
NB_API nb_tensor *nb_max(const nb_tensor *t);
NB_API nb_tensor *nb_min(const nb_tensor *t);
NB_API nb_tensor *nb_argmax(const nb_tensor *t); /* int64 index into the flattened tensor */
NB_API nb_tensor *nb_argmin(const nb_tensor *t);
NB_API nb_tensor *nb_sum_dim(const nb_tensor *t, int dim, bool keepdim);
NB_API nb_tensor *nb_mean_dim(const nb_tensor *t, int dim, bool keepdim);
NB_API nb_tensor *nb_max_dim(const nb_tensor *t, int dim, bool keepdim); /* values */
NB_API nb_tensor *nb_min_dim(const nb_tensor *t, int dim, bool keepdim);
/* int64 indices; the first of ties. */
NB_API nb_tensor *nb_argmax_dim(const nb_tensor *t, int dim, bool keepdim);
NB_API nb_tensor *nb_argmin_dim(const nb_tensor *t, int dim, bool keepdim);
/* Over a list of dims (n, dims), each named once (negative counts from the end); n = 0 reduces
 * every dim, as PyTorch's dim=[] does. keepdim keeps the reduced dims with size 1. */
NB_API nb_tensor *nb_sum_dims(const nb_tensor *t, int n, const int *dims, bool keepdim); /* ints give int64 */
NB_API nb_tensor *nb_mean_dims(const nb_tensor *t, int n, const int *dims, bool keepdim); /* floats; empty: NaN */
/* Maximum (minimum) values; NaN propagates. The gradient is shared evenly among tied elements. */
NB_API nb_tensor *nb_amax(const nb_tensor *t, int n, const int *dims, bool keepdim);
NB_API nb_tensor *nb_amin(const nb_tensor *t, int n, const int *dims, bool keepdim);
/* Bool results: whether any (all) element is nonzero; an empty any is false, an empty all true. */
NB_API nb_tensor *nb_any(const nb_tensor *t, int n, const int *dims, bool keepdim);
NB_API nb_tensor *nb_all(const nb_tensor *t, int n, const int *dims, bool keepdim);
/* Variance: squared deviations from the mean summed and divided by max(0, N - correction), N the
 * elements per output (torch's correction=1 is the unbiased estimate); floats only. */
NB_API nb_tensor *nb_var(const nb_tensor *t, int n, const int *dims, double correction, bool keepdim);
NB_API nb_tensor *nb_std(const nb_tensor *t, int n, const int *dims, double correction, bool keepdim); /* sqrt(var) */
/* log(sum(exp(t))) computed stably (the maximum taken out first); ints give float32. */
NB_API nb_tensor *nb_logsumexp(const nb_tensor *t, int n, const int *dims, bool keepdim);
/* Vector p-norm over dims, p = 1, 2 or INFINITY (max |t|); floats only. */
NB_API nb_tensor *nb_norm(const nb_tensor *t, double p, int n, const int *dims, bool keepdim);
/* Products, accumulated in float64 for floats; int64 and bool give int64. An empty product is 1. */
NB_API nb_tensor *nb_prod(const nb_tensor *t); /* over every element: 0-d */
NB_API nb_tensor *nb_prod_dim(const nb_tensor *t, int dim, bool keepdim);
/* Running sums along dim, shaped like t: floats keep their dtype (accumulated in float64, as
 * PyTorch's CPU does), int64 and bool give int64. */
NB_API nb_tensor *nb_cumsum(const nb_tensor *t, int dim);
/* The k largest (smallest) elements along dim and their int64 indices, always in sorted order
 * (which sorted = false allows); NaN counts as the largest; of equal values the lower index
 * comes first. *values and *indices receive new tensors, or NULL on error. */
NB_API nb_status nb_topk(const nb_tensor *t, int64_t k, int dim, bool largest, bool sorted, nb_tensor **values,
                         nb_tensor **indices);
/* int64 indices that sort t along dim, stably (equal values keep their order); NaN sorts last
 * ascending and first descending. */
NB_API nb_tensor *nb_argsort(const nb_tensor *t, int dim, bool descending);

/* ---------------------------------------------------------------- linear algebra */

/* (n, k) x (k, m) -> (n, m), float32 or float64 (or float16, bfloat16: cuBLAS's half GEMM on
 * CUDA, float32 accumulation; float32 BLIS then rounded on the CPU); transposed views are
 * multiplied without a copy. */
NB_API nb_tensor *nb_mm(const nb_tensor *a, const nb_tensor *b);
/* PyTorch's matmul: 1-D operands (dot, matrix-vector), batched with broadcast batch dims. */
NB_API nb_tensor *nb_matmul(const nb_tensor *a, const nb_tensor *b);
/* float32 products' precision, process-wide (torch.set_float32_matmul_precision): "highest" (the
 * default) or "high"/"medium", which let CUDA's float32 products (nb_mm, nb_matmul, the linear
 * layer, the convolutions) use TF32 tensor cores; the CPU's stay float32. Else NB_ERR_ARGUMENT. */
NB_API nb_status nb_set_float32_matmul_precision(const char *precision);
/* The current setting's name: "highest", "high" or "medium". */
NB_API const char *nb_get_float32_matmul_precision(void);

/* ---------------------------------------------------------------- autocast */

/* Automatic mixed precision, torch.autocast's semantics. A region is thread-local and nests;
 * inside one enabled for a device type, ops on tensors of that type cast their floating inputs
 * (float64 excepted) as PyTorch's lists say: the products (nb_mm, nb_matmul, the linear layer,
 * the convolutions, attention) to the region's dtype; the losses and nb_prod to float32, and on
 * CUDA also softmax, log_softmax, layer norm, sum, cumsum, norm, logsumexp, exp, log, pow and the
 * others of PyTorch's CUDA float32 list; every other op runs in its inputs' promoted dtype. The
 * casts are recorded ops (float32 parameters keep float32 gradients); backward passes run
 * without autocast. */
/* Opens a region on device (NB_CPU or NB_CUDA) with dtype NB_FLOAT16 or NB_BFLOAT16. */
NB_API nb_status nb_autocast_begin(nb_device_type device, nb_dtype dtype);
/* Opens a region with autocast off on device (torch.autocast(enabled=False)). */
NB_API nb_status nb_autocast_begin_disabled(nb_device_type device);
/* Closes the innermost region; with none open, NB_ERR_ARGUMENT. */
NB_API nb_status nb_autocast_end(void);
/* Whether autocast is on for device on this thread. */
NB_API bool nb_autocast_enabled(nb_device_type device);
/* The dtype of device's current region, or its default (CPU bfloat16, CUDA float16). */
NB_API nb_dtype nb_autocast_dtype(nb_device_type device);

/* ---------------------------------------------------------------- autograd */

/* Ops record themselves on a tape when grad mode is on and an input requires grad; backward
 * walks it in reverse. Gradients accumulate (+=) into the .grad of leaves (tensors made by the
 * user, not by an op). Grad mode is thread-local. */
NB_API nb_tensor *nb_requires_grad_(nb_tensor *t, bool requires_grad); /* leaves only; returns t */
NB_API bool nb_requires_grad(const nb_tensor *t);
/* Made by the user (or detached), not recorded from an op. */
NB_API bool nb_is_leaf(const nb_tensor *t);
/* The accumulated gradient of a leaf (borrowed: owned by t; NULL before the first backward).
 * Refused (NULL and an error) for a non-leaf, whose gradient is not kept. */
NB_API nb_tensor *nb_grad(const nb_tensor *t);
/* Zeroes t's .grad in place (keeping its memory); does nothing when there is none. */
NB_API nb_status nb_zero_grad(nb_tensor *t);
/* "MmBackward" for a tensor recorded by nb_mm; NULL for leaves. */
NB_API const char *nb_grad_fn_name(const nb_tensor *t);
/* A tensor sharing t's storage with no history and no grad. */
NB_API nb_tensor *nb_detach(const nb_tensor *t);

/* Backward from a one-element tensor (d loss / d loss = 1); frees the graph as it goes. */
NB_API nb_status nb_backward(nb_tensor *loss);
/* Backward from t with the given gradient of t (NULL only for a one-element t); keeps the graph
 * for another backward when retain_graph is true. */
NB_API nb_status nb_backward_ex(nb_tensor *t, const nb_tensor *grad_output, bool retain_graph);
/* Functional gradients (tf.gradients, torch.autograd.grad): grads[i] = d(sum of outputs)/d
 * inputs[i], weighted by grad_outputs (NULL, or NULL entries, for one-element outputs). No
 * .grad is touched. The caller owns the new grads (or the open scope does). */
NB_API nb_status nb_grad_of(int n_outputs, nb_tensor *const *outputs,
                            nb_tensor *const *grad_outputs, int n_inputs,
                            nb_tensor *const *inputs, nb_tensor **grads, bool retain_graph);

/* No-grad scopes nest: nothing is recorded until the matching end. */
NB_API void nb_no_grad_begin(void);
NB_API void nb_no_grad_end(void);
NB_API bool nb_is_grad_enabled(void);

/* fn computes one tensor from n inputs (float64, requiring grad); ctx is passed through. */
typedef nb_tensor *(*nb_grad_fn)(int n, nb_tensor *const *inputs, void *ctx);
/* Compares backward's gradients with float64 central differences (eps 1e-6, atol 1e-5,
 * rtol 1e-3, torch.autograd.gradcheck's defaults), for a fn whose output has any shape (its
 * gradient is taken against fixed random weights). NB_OK, or NB_ERR_AUTOGRAD naming the input
 * and element that differ. */
NB_API nb_status nb_gradcheck(nb_grad_fn fn, void *ctx, int n, nb_tensor *const *inputs);

/* ---------------------------------------------------------------- files */

/* NumPy .npy: float32, float64, int64, bool; C order; little endian. Writes go to a temporary
 * file that is renamed over path, so a crash never leaves a half-written file. */
NB_API nb_tensor *nb_load_npy(const char *path);
NB_API nb_status nb_save_npy(const nb_tensor *t, const char *path);

#ifdef __cplusplus
}
#endif

#include "nabla/cuda.h"
#include "nabla/data.h"
#include "nabla/nn.h"
#include "nabla/optim.h"
#include "nabla/safetensors.h"
#include "nabla/checkpoint.h"

#endif /* NABLA_H */
