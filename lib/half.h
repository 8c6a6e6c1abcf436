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

#endif /* NB_HALF_H */
