/* attention.h — the arguments of scaled dot-product attention, read by every device's kernels
 * (kernels/cpu/attention.c, kernels/cuda/attention.cu). lib/nn/attention.c fills them from
 * tensors whose batch dims it has broadcast and folded into one.
 *
 * For each batch b, query row i (of l) and key j (of s):
 *     x_ij = scale · q_i · k_j + mask_ij        (a bool mask adds 0 where true, -inf where false;
 *                                               is_causal makes j > i -inf)
 *     p_ij = exp(x_ij - lse_i),  lse_i = log sum_j exp(x_ij)
 *     out_i = sum_j p_ij z_ij v_j                (z_ij = dropout's keep / (1 - p), or 1)
 * A row with no allowed key (every x_ij = -inf, s > 0) is NaN, lse_i too, as the explicit
 * composition softmax(q k^T · scale + mask) v gives (PyTorch's math path); with s = 0 the output is
 * 0 and lse_i = -inf.
 *
 * Dropout: z_ij = keep_ij / (1 - p) with keep_ij true when nbk_bernoulli_at(seed, offset,
 * (b·l + i)·s + j, 1 - p) (kernels/random.h), a pure function of the element, so the backward
 * draws the same mask again and nothing (l, s) is kept between the passes; p = 1 drops every
 * element.
 *
 * Backward, from the forward's out and lse and the output's gradient g (batch, l, ev):
 *     d_i = sum_e g_ie out_ie
 *     dv_j = sum_i p_ij z_ij g_i,  dp_ij = z_ij g_i · v_j,  ds_ij = p_ij (dp_ij - d_i)
 *     dq_i = scale sum_j ds_ij k_j,  dk_j = scale sum_i ds_ij q_i
 * where ds_ij = 0 for an element a bool mask or causality removes (masked_fill's backward in the
 * composition): a row with no key allowed has dq_i = 0 and NaN in dv, as the composition gives.
 * Every sum runs in an order fixed by the shapes, so results do not depend on thread counts. */
#ifndef NB_KERNELS_ATTENTION_H
#define NB_KERNELS_ATTENTION_H

#include "nabla.h"

#include <math.h>
#include <stdint.h>

#include "half.h"
#include "random.h"

typedef struct nbk_attention_args {
    nb_dtype dtype;            /* q, k, v, out and the gradients: float32 or float64, and where the device
                                * takes them (nbk_device.half_attention) float16 or bfloat16, with
                                * lse then float32 (else of dtype) */
    int64_t batch, l, s, e, ev;
    const void *q;             /* (batch, l, e), dense */
    const void *k;             /* (batch, s, e), dense */
    const void *v;             /* (batch, s, ev), dense */
    double scale;
    bool causal;               /* j > i is never attended (the upper right of tril(ones(l, s))) */
    const void *mask;          /* NULL, or rows (l, s) dense, mask_bs elements apart per batch */
    nb_dtype mask_dtype;       /* bool (true: attend) or dtype (added) */
    int64_t mask_bs;           /* 0 (one mask for every batch) or l·s */
    double dropout_p;          /* 0: no dropout */
    uint64_t seed, offset;     /* the generator's counters for dropout */
} nbk_attention_args;

#ifdef __CUDACC__
#define NBK_ATT_HD __host__ __device__ __forceinline__
#else
#define NBK_ATT_HD static inline
#endif

/* The additive mask of element (b, i, j) before scaling is applied to q·k: 0, -inf or the float
 * mask's value (read in double). */
NBK_ATT_HD double nbk_attention_bias(const nbk_attention_args *a, int64_t b, int64_t i, int64_t j)
{
    if (a->causal && j > i) return -INFINITY;
    if (!a->mask) return 0.0;
    const int64_t at = b * a->mask_bs + i * a->s + j;
    if (a->mask_dtype == NB_BOOL) return ((const bool *)a->mask)[at] ? 0.0 : -INFINITY;
    switch (a->mask_dtype) {
    case NB_FLOAT32: return (double)((const float *)a->mask)[at];
    case NB_FLOAT16: return (double)nbk_f16_to_f32(((const uint16_t *)a->mask)[at]);
    case NB_BFLOAT16: return (double)nbk_bf16_to_f32(((const uint16_t *)a->mask)[at]);
    default: return ((const double *)a->mask)[at];
    }
}

/* True when a bool mask or causality removes element (b, i, j): it then has no gradient. */
NBK_ATT_HD bool nbk_attention_removed(const nbk_attention_args *a, int64_t b, int64_t i, int64_t j)
{
    if (a->causal && j > i) return true;
    return a->mask && a->mask_dtype == NB_BOOL && !((const bool *)a->mask)[b * a->mask_bs + i * a->s + j];
}

/* Dropout's factor z_ij for element (b, i, j): 1 without dropout, else 0 or 1 / (1 - p). */
NBK_ATT_HD double nbk_attention_keep(const nbk_attention_args *a, int64_t b, int64_t i, int64_t j)
{
    if (a->dropout_p <= 0) return 1.0;
    if (a->dropout_p >= 1) return 0.0;
    const int64_t idx = (b * a->l + i) * a->s + j;
    return nbk_bernoulli_at(a->seed, a->offset, idx, 1.0 - a->dropout_p) ? 1.0 / (1.0 - a->dropout_p) : 0.0;
}

/* The generator's counters a dropout over (batch, l, s) weights takes. */
NBK_ATT_HD uint64_t nbk_attention_counters(int64_t batch, int64_t l, int64_t s)
{
    const int64_t n = batch * l * s;
    return (uint64_t)(n / 2 + n % 2);
}

/* The keys query row i may attend: [0, end) (causal rows stop after their own index). */
NBK_ATT_HD int64_t nbk_attention_key_end(const nbk_attention_args *a, int64_t i)
{
    if (!a->causal) return a->s;
    return i + 1 < a->s ? i + 1 : a->s;
}

#endif /* NB_KERNELS_ATTENTION_H */
