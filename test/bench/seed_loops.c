/* seed_loops.c — the seed's training step three ways, shared by the seed-loop benchmarks: nabla
 * with hand-written gradients (samples/mlp_manual.c), nabla with autograd (samples/mlp_autograd.c)
 * and the same loop hand-written on raw BLIS (bli_sgemm with strides for the transposes, plain C
 * loops for clamp, the loss, the masked zeroing and the updates, in preallocated buffers). */
#include "seed_loops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---------------------------------------------------------------- nabla, hand-written gradients */

/* One training step, as in samples/mlp_manual.c; returns the loss, NAN on an error. */
double nabla_step(nb_tensor *x, nb_tensor *y, nb_tensor *w1, nb_tensor *w2, double learning_rate)
{
    nb_scope_begin();
    nb_tensor *h = nb_mm(x, w1);                     /* (N, H) */
    nb_tensor *h_relu = nb_clamp_min(h, 0);          /* (N, H) */
    nb_tensor *y_pred = nb_mm(h_relu, w2);           /* (N, D_out) */
    nb_tensor *loss = nb_sum(nb_pow_scalar(nb_sub(y_pred, y), 2));
    double loss_value = nb_item(loss);
    nb_tensor *grad_y_pred = nb_mul_scalar(nb_sub(y_pred, y), 2.0); /* (N, D_out) */
    nb_tensor *grad_w2 = nb_mm(nb_t(h_relu), grad_y_pred);         /* (H, D_out) */
    nb_tensor *grad_h = nb_clone(nb_mm(grad_y_pred, nb_t(w2)));    /* (N, H) */
    nb_masked_fill_(grad_h, nb_lt_scalar(h, 0), 0);
    nb_tensor *grad_w1 = nb_mm(nb_t(x), grad_h);                   /* (D_in, H) */
    nb_sub_scaled_(w1, grad_w1, learning_rate);
    nb_sub_scaled_(w2, grad_w2, learning_rate);
    if (nb_scope_end() != NB_OK) return NAN;
    return loss_value;
}

/* ---------------------------------------------------------------- nabla, autograd */

double nabla_autograd_step(nb_tensor *x, nb_tensor *y, nb_tensor *w1, nb_tensor *w2, double learning_rate)
{
    nb_scope_begin();
    nb_tensor *y_pred = nb_mm(nb_clamp_min(nb_mm(x, w1), 0), w2); /* (N, D_out) */
    nb_tensor *loss = nb_sum(nb_pow_scalar(nb_sub(y_pred, y), 2));
    double loss_value = nb_item(loss);
    nb_backward(loss);
    nb_no_grad_begin();
    nb_sub_scaled_(w1, nb_grad(w1), learning_rate);
    nb_sub_scaled_(w2, nb_grad(w2), learning_rate);
    nb_no_grad_end();
    nb_zero_grad(w1);
    nb_zero_grad(w2);
    if (nb_scope_end() != NB_OK) return NAN;
    return loss_value;
}

/* ---------------------------------------------------------------- raw BLIS */

/* c (m, n) = a (m, k) · b (k, n), each matrix given by its row and column strides. */
static void sgemm(dim_t m, dim_t n, dim_t k, float *a, inc_t rsa, inc_t csa, float *b, inc_t rsb,
                  inc_t csb, float *c, inc_t rsc)
{
    float one = 1.0f, zero = 0.0f;
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one, a, rsa, csa, b, rsb, csb, &zero,
              c, rsc, 1);
}

double raw_step(raw_net *r, float learning_rate)
{
    sgemm(N, H, D_IN, r->x, D_IN, 1, r->w1, H, 1, r->h, H); /* h = x·w1 */
    for (size_t i = 0; i < (size_t)N * H; i++) r->h_relu[i] = r->h[i] < 0 ? 0.0f : r->h[i];
    sgemm(N, D_OUT, H, r->h_relu, H, 1, r->w2, D_OUT, 1, r->y_pred, D_OUT); /* y_pred = h_relu·w2 */
    double loss = 0;
    for (size_t i = 0; i < (size_t)N * D_OUT; i++) {
        float d = r->y_pred[i] - r->y[i];
        loss += d * d;
        r->grad_y_pred[i] = 2.0f * d;
    }
    /* grad_w2 = h_reluᵀ·grad_y_pred: h_relu read with swapped strides */
    sgemm(H, D_OUT, N, r->h_relu, 1, H, r->grad_y_pred, D_OUT, 1, r->grad_w2, D_OUT);
    /* grad_h = grad_y_pred·w2ᵀ */
    sgemm(N, H, D_OUT, r->grad_y_pred, D_OUT, 1, r->w2, 1, D_OUT, r->grad_h, H);
    for (size_t i = 0; i < (size_t)N * H; i++)
        if (r->h[i] < 0) r->grad_h[i] = 0.0f;
    /* grad_w1 = xᵀ·grad_h */
    sgemm(D_IN, H, N, r->x, 1, D_IN, r->grad_h, H, 1, r->grad_w1, H);
    for (size_t i = 0; i < (size_t)D_IN * H; i++) r->w1[i] -= learning_rate * r->grad_w1[i];
    for (size_t i = 0; i < (size_t)H * D_OUT; i++) r->w2[i] -= learning_rate * r->grad_w2[i];
    return loss;
}

float *buffer(size_t n)
{
    float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
    if (!p) {
        fprintf(stderr, "seed loop benchmark: out of memory\n");
        exit(1);
    }
    return p;
}

