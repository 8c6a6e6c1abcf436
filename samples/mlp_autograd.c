/* mlp_autograd.c — the seed's two-layer network trained with autograd: the forward pass is
 * recorded, nb_backward fills w1's and w2's .grad, and the update runs under no-grad, as in
 * PyTorch's loop (loss.backward(); with torch.no_grad(): w -= lr * w.grad; w.grad.zero_()).
 *
 *   mlp_autograd [--data DIR] [--out DIR] [--iters N] [--lr F] [--device cpu|cuda[:N]] [--replay]
 *
 * Same data, options and outputs as mlp_manual, whose hand-written gradients it reproduces;
 * --replay (on CUDA) captures the second step, backward included, and replays it. */
#include "common.h"
#include "step_loop.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct mlp {
    nb_tensor *x, *y;   /* (N, D_in), (N, D_out) */
    nb_tensor *w1, *w2; /* (D_in, H), (H, D_out); both require grad */
    double learning_rate;
} mlp;

/* One step: the recorded forward, backward into w1's and w2's .grad, and the update. */
static nb_tensor *train_step(void *ctx)
{
    const mlp *m = ctx;
    nb_tensor *x = m->x, *y = m->y, *w1 = m->w1, *w2 = m->w2;
    const double learning_rate = m->learning_rate;
    nb_scope_begin();
    /* forward, recorded: y_pred = relu(x·w1)·w2 */
    nb_tensor *y_pred = nb_mm(nb_clamp_min(nb_mm(x, w1), 0), w2); /* (N, D_out) */
    nb_tensor *loss = nb_sum(nb_pow_scalar(nb_sub(y_pred, y), 2));
    /* backward: fills w1's and w2's .grad */
    nb_backward(loss);
    /* gradient descent, not recorded */
    nb_no_grad_begin();
    nb_sub_scaled_(w1, nb_grad(w1), learning_rate); /* w1 -= lr * w1.grad */
    nb_sub_scaled_(w2, nb_grad(w2), learning_rate); /* w2 -= lr * w2.grad */
    nb_no_grad_end();
    nb_zero_grad(w1);
    nb_zero_grad(w2);
    nb_tensor *value = nb_keep(nb_detach(loss)); /* the loss without its (freed) graph */
    if (nb_scope_end() != NB_OK) {
        nb_release(value);
        return NULL;
    }
    return value;
}

int main(int argc, char **argv)
{
    sample_options opts = {
        .prog = "mlp_autograd", .iters = 500, .lr = 1e-6, .device = NB_DEVICE_CPU, .takes_replay = true};
    sample_mlp_data data;
    float *losses; /* (iters,) */
    int early = sample_mlp_begin(argc, argv, &opts, &data, &losses);
    if (early >= 0) return early;
    mlp m = {.x = data.x, .y = data.y, .w1 = nb_requires_grad_(data.w1, true),
             .w2 = nb_requires_grad_(data.w2, true), .learning_rate = opts.lr};
    int status = sample_run_steps(&opts, train_step, &m, losses);
    return sample_mlp_end(&opts, &data, losses, status);
}
