/* half.h — float16 and bfloat16 through float32: the shared helpers by which the reductions, the
 * matrix products and the nn ops take half tensors (lib/half.c). */
#ifndef NB_HALF_H
#define NB_HALF_H

#include "tensor.h"

/* Whether any of the n tensors (NULLs skipped) is float16 or bfloat16. */
bool nb__any_half(int n, const nb_tensor *const *ts);
/* t converted to float32 when it is float16 or bfloat16 (recorded for autograd, so its gradient
 * comes back in t's dtype), else a new reference to t; NULL for NULL. */
nb_tensor *nb__widen(const nb_tensor *t);
/* r (float32, computed from widened inputs) rounded once to dtype when dtype is float16 or
 * bfloat16 (recorded for autograd); r itself otherwise. Consumes r; NULL for NULL. */
nb_tensor *nb__narrow(nb_tensor *r, nb_dtype dtype);

/* The float32 route of an op whose inputs are checked: when any of the n inputs (NULLs kept as
 * NULL) is float16 or bfloat16, f runs on them widened to float32 (others as they are, as a new
 * reference) and its result is rounded once to out_dtype; *taken says whether this happened
 * (false: no half input, nothing done, NULL returned). f returns a new reference or NULL. */
typedef nb_tensor *(*nb__float32_fn)(nb_tensor *const *widened, const void *ctx);
nb_tensor *nb__via_float32(int n, const nb_tensor *const *in, nb_dtype out_dtype, nb__float32_fn f, const void *ctx,
                           bool *taken);

#endif /* NB_HALF_H */
