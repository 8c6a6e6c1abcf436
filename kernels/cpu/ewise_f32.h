/* ewise_f32.h — float32 rows of elementwise ops over math_f32.h's vectorised functions
 * (ewise_f32.c), which the table in ewise_loops.c takes in place of the C library's. */
#ifndef NB_KERNELS_CPU_EWISE_F32_H
#define NB_KERNELS_CPU_EWISE_F32_H

#include "../iter.h"

void nbk_cpu_gelu_f32(int64_t n, char **data, const int64_t *strides, const nb_scalars *s); /* c0: tanh */
/* d[0] = d[1] (the gradient) times gelu's derivative at d[2]; c0: tanh */
void nbk_cpu_gelu_backward_f32(int64_t n, char **data, const int64_t *strides, const nb_scalars *s);
void nbk_cpu_silu_f32(int64_t n, char **data, const int64_t *strides, const nb_scalars *s);
void nbk_cpu_erf_f32(int64_t n, char **data, const int64_t *strides, const nb_scalars *s);
void nbk_cpu_sin_f32(int64_t n, char **data, const int64_t *strides, const nb_scalars *s);
void nbk_cpu_cos_f32(int64_t n, char **data, const int64_t *strides, const nb_scalars *s);
void nbk_cpu_softplus_f32(int64_t n, char **data, const int64_t *strides, const nb_scalars *s); /* beta, threshold */

#endif /* NB_KERNELS_CPU_EWISE_F32_H */
