/* cast_half.h — dense float32 <-> half conversion loops (kernels/cpu/cast_half.c): the CPU's
 * vector instructions where it has them, the scalar functions of kernels/half.h elsewhere; the
 * same bits either way. */
#ifndef NB_KERNELS_CPU_CAST_HALF_H
#define NB_KERNELS_CPU_CAST_HALF_H

#include "nabla.h"

#include <stdbool.h>
#include <stdint.h>

/* out (n,) of to (float16 or bfloat16 bits) from in (n,) float32 */
void nbk_cpu_f32_to_half(nb_dtype to, int64_t n, uint16_t *out, const float *in);
/* out (n,) float32 from in (n,) of from (float16 or bfloat16 bits) */
void nbk_cpu_half_to_f32(nb_dtype from, int64_t n, float *out, const uint16_t *in);

#endif /* NB_KERNELS_CPU_CAST_HALF_H */
