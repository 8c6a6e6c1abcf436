/* precision.h — the float32 matrix products' precision setting (lib/matmul_precision.c), read by
 * lib/linalg.c when it fills a product's arguments. */
#ifndef NB_PRECISION_H
#define NB_PRECISION_H

#include "nabla.h"

/* Whether float32 products may use TF32 ("high" or "medium"; false for "highest"). */
bool nb__float32_matmul_tf32(void);

#endif /* NB_PRECISION_H */
