/* attention.h — the CPU kernels of scaled dot-product attention (attention.c) over the layout of
 * kernels/attention.h. */
#ifndef NB_KERNELS_CPU_ATTENTION_H
#define NB_KERNELS_CPU_ATTENTION_H

#include "../attention.h"

/* out (batch, l, ev) and lse (batch, l), both of a->dtype. NB_ERR_MEMORY when scratch cannot be
 * had. */
nb_status nbk_cpu_attention_forward(const nbk_attention_args *a, void *out, void *lse, int max_threads);
/* gq (batch, l, e), gk (batch, s, e), gv (batch, s, ev) from the forward's out and lse and the
 * output's gradient g (batch, l, ev), all dense. NB_ERR_MEMORY when scratch cannot be had. */
nb_status nbk_cpu_attention_backward(const nbk_attention_args *a, const void *out, const void *lse, const void *g,
                                     void *gq, void *gk, void *gv, int max_threads);

#endif /* NB_KERNELS_CPU_ATTENTION_H */
