/* attention.h — the CUDA kernels of scaled dot-product attention, forward and backward, behind the
 * CUDA table (attention.cu). Plain C; the layout and the math are those of kernels/attention.h.
 * Addresses are device addresses; every call queues its kernels on the device's stream and
 * returns without waiting. Head dims (e and ev) up to NBK_CUDA_ATTENTION_MAX_HEAD are taken; a
 * larger one is an NB_ERR_UNSUPPORTED with a message in nbk_error(). */
#ifndef NB_KERNELS_CUDA_ATTENTION_H
#define NB_KERNELS_CUDA_ATTENTION_H

#include "../attention.h"

#define NBK_CUDA_ATTENTION_MAX_HEAD 128

#ifdef __cplusplus
extern "C" {
#endif

/* out (batch, l, ev) and lse (batch, l) */
nb_status nbk_cuda_attention_forward(int device, const nbk_attention_args *a, void *out, void *lse);
/* gq (batch, l, e), gk (batch, s, e), gv (batch, s, ev) from out, lse and g (batch, l, ev) */
nb_status nbk_cuda_attention_backward(int device, const nbk_attention_args *a, const void *out, const void *lse,
                                      const void *g, void *gq, void *gk, void *gv);
/* The kernels' own block code run on the host over host memory, block after block: how the tests
 * check them where there is no GPU. The same arguments and results as the two above. */
nb_status nbk_cuda_attention_forward_on_host(const nbk_attention_args *a, void *out, void *lse);
nb_status nbk_cuda_attention_backward_on_host(const nbk_attention_args *a, const void *out, const void *lse,
                                              const void *g, void *gq, void *gk, void *gv);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_ATTENTION_H */
