/* device.h — how lib/ reaches a device: the table of operations of its type (kernels/device.h),
 * the one way lib/ runs kernels, and the reporting of a kernel's failure under the op's name. */
#ifndef NB_DEVICE_H
#define NB_DEVICE_H

#include "../kernels/device.h"
#include "tensor.h"

/* The table of a device type; NULL when nabla was built without it (CUDA). */
const nbk_device *nb__device_table(nb_device_type type);
/* The table of device d for op's work: NULL, and an error naming op and d, when nabla was built
 * without d's type, or when work there cannot run now (a graph capture elsewhere; lib/graph.c). */
const nbk_device *nb__device_for(const char *op, nb_device d);
/* The table of device d when d exists: NULL otherwise, with an error that starts with the
 * printf-style fmt followed by d ("nb_to: cannot copy from cpu to" gives "nb_to: cannot copy
 * from cpu to cuda:1: ...") and says why (not built, no device, no such index). The message is
 * formatted only on failure: every allocation asks. */
const nbk_device *nb__device_exists(nb_device d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Who asks, as a kernel entry takes it. */
static inline nbk_call nb__call(const char *op, nb_device d) { return (nbk_call){d.index, op}; }
/* st as op's status: NB_OK, or an error "op: <the kernel's message>". */
nb_status nb__kernel_status(const char *op, nb_status st);

#endif /* NB_DEVICE_H */
