/* ewise.h — the elementwise op layer: dtype rules, broadcasting, in-place checks. Public ops in
 * ewise.c and the autograd backward formulas call these. */
#ifndef NB_EWISE_H
#define NB_EWISE_H

#include "../kernels/ops.h"
#include "iter.h"

/* out = op(inputs...) with broadcasting and dtype promotion; name is the public op's name. */
nb_tensor *nb__ewise(const char *name, nb_ew_op op, int n, const nb_tensor *const *inputs,
                     nb_scalars s);
/* target = op(target, others...) in place; others broadcast to target's shape and must not need
 * a wider dtype. Returns target, or NULL. */
nb_tensor *nb__ewise_(const char *name, nb_ew_op op, nb_tensor *target, int n,
                      const nb_tensor *const *others, nb_scalars s);
/* A new contiguous tensor of dtype holding t's values (any strides). */
nb_tensor *nb__convert(const char *name, const nb_tensor *t, nb_dtype dtype);
/* An error naming op and both devices when a and b differ; true when they match. */
bool nb__check_devices(const char *op, int n, const nb_tensor *const *ts);
/* Refuses (with an error naming op) an in-place write to t that PyTorch would refuse. */
bool nb__check_writable(const char *op, const nb_tensor *t);
/* Records an in-place write to t's storage (autograd's version counter). */
static inline void nb__bump_version(nb_tensor *t) { t->storage->version++; }

#endif /* NB_EWISE_H */
