/* record.h — the hooks through which ops record themselves on the autograd tape. */
#ifndef NB_AUTOGRAD_RECORD_H
#define NB_AUTOGRAD_RECORD_H

#include "../../kernels/iter.h"
#include "../../kernels/ops.h"
#include "../tensor.h"
#include "../view.h"
#include "kinds.h"

/* Each returns false (with an error set) when recording fails; true when it recorded or when
 * nothing needed recording. */
bool nb__autograd_record_ewise(const char *name, nb_ew_op op, nb_tensor *out, int n,
                               const nb_tensor *const *inputs, nb_scalars s);
bool nb__autograd_record_ewise_(const char *name, nb_ew_op op, nb_tensor *target, int n,
                                const nb_tensor *const *others, nb_scalars s);
/* True when grad mode is on and one of the n tensors requires grad. */
bool nb__needs_graph(int n, const nb_tensor *const *ts);
/* target (just overwritten with src's values) takes src's history. */
void nb__autograd_take_history(nb_tensor *target, const nb_tensor *src);
/* Refuses an in-place write that autograd forbids (a leaf that requires grad, in grad mode). */
bool nb__autograd_check_inplace(const char *op, const nb_tensor *t);

/* views: out shares in's elements, as args describes */
bool nb__autograd_record_view(const char *name, nb_tensor *out, const nb_tensor *in,
                              const nb_view_args *args);
/* cat: out is the concatenation of the n inputs along dim */
bool nb__autograd_record_cat(nb_tensor *out, int n, nb_tensor *const *inputs, int dim);
/* copy_ and clone-like ops: out's values are in's, converted to out's dtype */
bool nb__autograd_record_copy(const char *name, nb_tensor *out, const nb_tensor *in, bool inplace);

/* nb_to: out is in's copy on another device */
bool nb__autograd_record_to(nb_tensor *out, const nb_tensor *in);

/* Reductions: which one, over dim (or all elements when dim < 0). For max/min along a dim,
 * indices (int64, shaped like out) says where each value came from; NULL for the others. */
typedef enum nb_reduce_op { NB_REDUCE_SUM, NB_REDUCE_MEAN, NB_REDUCE_MAX, NB_REDUCE_MIN } nb_reduce_op;
bool nb__autograd_record_reduce(const char *name, nb_reduce_op op, nb_tensor *out, const nb_tensor *in,
                                int dim, bool keepdim, const nb_tensor *indices);
/* Reductions over a set of dims (mask: bit i for input dim i), with keepdim. */
typedef enum nb_reduce_dims_op {
    NB_REDUCE_DIMS_SUM,
    NB_REDUCE_DIMS_MEAN,
    NB_REDUCE_DIMS_AMAX,
    NB_REDUCE_DIMS_AMIN,
} nb_reduce_dims_op;
bool nb__autograd_record_reduce_dims(const char *name, nb_reduce_dims_op op, nb_tensor *out,
                                     const nb_tensor *in, uint32_t mask, bool keepdim);
/* Any other kind: when the n inputs need a graph, a node of kind recorded by name becomes out's
 * history and *node is it, for the caller to fill its args and saved slots; otherwise *node is
 * NULL. False (with an error) when recording fails. */
bool nb__autograd_record_node(nb_node_kind kind, const char *name, nb_tensor *out, int n,
                              const nb_tensor *const *inputs, struct nb_node **node);
/* Matrix products: out = a @ b for 2-D (n, k) x (k, m) or batched 3-D (B, n, k) x (B, k, m). */
bool nb__autograd_record_mm(const char *name, nb_tensor *out, const nb_tensor *a, const nb_tensor *b);

#endif /* NB_AUTOGRAD_RECORD_H */
