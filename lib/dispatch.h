/* dispatch.h — elementwise ops and conversions run on a device through its table (lib/device.h). */
#ifndef NB_DISPATCH_H
#define NB_DISPATCH_H

#include "../kernels/ops.h"
#include "iter.h"

/* Runs elementwise op on it in compute dtype on device; an error naming op when the device has
 * no kernel for it. */
nb_status nb__run_ewise(const char *name, nb_ew_op op, nb_dtype dtype, const nb_iter *it,
                        const nb_scalars *s, nb_device device);
/* Converts it's input (operand 1, dtype from) into its output (dtype to). */
nb_status nb__run_cast(const char *name, nb_dtype from, nb_dtype to, const nb_iter *it,
                       nb_device device);
/* True when device has a kernel for op in dtype. */
bool nb__has_ewise_kernel(nb_ew_op op, nb_dtype dtype, nb_device device);

#endif /* NB_DISPATCH_H */
