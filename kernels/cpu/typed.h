/* typed.h — naming for kernels written once over an element type: a file defines T and SFX
 * (float and f32, say) and includes its *_typed.h, where TYPED(name) is name_SFX, so each dtype's
 * functions get their own names (sum_row_f32, sum_row_f64). */
#ifndef NB_KERNELS_CPU_TYPED_H
#define NB_KERNELS_CPU_TYPED_H

#define TYPED_PASTE(name, sfx) name##_##sfx
#define TYPED_NAME(name, sfx) TYPED_PASTE(name, sfx)
#define TYPED(name) TYPED_NAME(name, SFX)

#endif /* NB_KERNELS_CPU_TYPED_H */
