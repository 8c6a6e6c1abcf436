/* dtype.h — dtype facts and PyTorch's promotion order (bool < int64 < float16, bfloat16 < float32 <
 * float64; float16 with bfloat16 is float32). */
#ifndef NB_DTYPE_H
#define NB_DTYPE_H

#include "nabla.h"

#define NB_DTYPE_BIT(d) (1u << (d))
#define NB_FLOATING (NB_DTYPE_BIT(NB_FLOAT32) | NB_DTYPE_BIT(NB_FLOAT64))
#define NB_NUMERIC (NB_FLOATING | NB_DTYPE_BIT(NB_INT64))
#define NB_ALL_DTYPES (NB_NUMERIC | NB_DTYPE_BIT(NB_BOOL))
#define NB_HALVES (NB_DTYPE_BIT(NB_FLOAT16) | NB_DTYPE_BIT(NB_BFLOAT16))

/* float32 or float64: the floating dtypes with kernels of their own. The half dtypes are floating
 * too (nb__is_float_kind) but compute in float32 (lib/half.c). */
static inline bool nb__is_floating(nb_dtype d) { return d == NB_FLOAT32 || d == NB_FLOAT64; }
static inline bool nb__is_half(nb_dtype d) { return d == NB_FLOAT16 || d == NB_BFLOAT16; }
/* floating in PyTorch's sense (promotion's categories): float32, float64 and the half dtypes */
static inline bool nb__is_float_kind(nb_dtype d) { return nb__is_floating(d) || nb__is_half(d); }
nb_dtype nb__promote(nb_dtype a, nb_dtype b);
/* "float32 or float64" for the dtypes in mask, into buf. */
const char *nb__dtype_list(unsigned mask, char *buf, size_t size);

#endif /* NB_DTYPE_H */
