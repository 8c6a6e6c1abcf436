/* record.h — the hooks through which ops record themselves on the autograd tape. */
#ifndef NB_AUTOGRAD_RECORD_H
#define NB_AUTOGRAD_RECORD_H

#include "../../kernels/iter.h"
#include "../../kernels/ops.h"
#include "../tensor.h"

/* Each returns false (with an error set) when recording fails; true when it recorded or when
 * nothing needed recording. */
bool nb__autograd_record_ewise(const char *name, nb_ew_op op, nb_tensor *out, int n,
                               const nb_tensor *const *inputs, nb_scalars s);
bool nb__autograd_record_ewise_(const char *name, nb_ew_op op, nb_tensor *target, int n,
                                const nb_tensor *const *others, nb_scalars s);
/* Refuses an in-place write that autograd forbids (a leaf that requires grad, in grad mode). */
bool nb__autograd_check_inplace(const char *op, const nb_tensor *t);



#include "../view.h"
bool nb__autograd_record_view(const char *name, nb_tensor *out, const nb_tensor *in,
                              const nb_view_args *args);
/* cat: out is the concatenation of the n inputs along dim */
bool nb__autograd_record_cat(nb_tensor *out, int n, nb_tensor *const *inputs, int dim);
/* copy_ and clone-like ops: out's values are in's, converted to out's dtype */
bool nb__autograd_record_copy(const char *name, nb_tensor *out, const nb_tensor *in, bool inplace);

#endif /* NB_AUTOGRAD_RECORD_H */
