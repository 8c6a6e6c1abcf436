/* dtype.h — dtype facts and PyTorch's promotion order (bool < int64 < float32 < float64). */
#ifndef NB_DTYPE_H
#define NB_DTYPE_H

#include "nabla.h"

#define NB_DTYPE_BIT(d) (1u << (d))
#define NB_FLOATING (NB_DTYPE_BIT(NB_FLOAT32) | NB_DTYPE_BIT(NB_FLOAT64))
#define NB_NUMERIC (NB_FLOATING | NB_DTYPE_BIT(NB_INT64))
#define NB_ALL_DTYPES (NB_NUMERIC | NB_DTYPE_BIT(NB_BOOL))

static inline bool nb__is_floating(nb_dtype d) { return d == NB_FLOAT32 || d == NB_FLOAT64; }
nb_dtype nb__promote(nb_dtype a, nb_dtype b);
/* "float32 or float64" for the dtypes in mask, into buf. */
const char *nb__dtype_list(unsigned mask, char *buf, size_t size);

#endif /* NB_DTYPE_H */
