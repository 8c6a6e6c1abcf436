/* error.h — how kernels report a failure: a status returned, and a message (CUDA's own words,
 * the label that was out of range) kept for this thread, which lib/ prefixes with the op's name
 * ("nb_mm: cudaMalloc on cuda:0: out of memory"). Shared by every device. */
#ifndef NB_KERNELS_ERROR_H
#define NB_KERNELS_ERROR_H

#include "nabla.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Records a printf-style message as this thread's nbk_error() and returns status. */
nb_status nbk_fail(nb_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message of this thread's last kernel failure. */
const char *nbk_error(void);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_ERROR_H */
