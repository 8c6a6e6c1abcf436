/* mlp_autograd.c — the seed's two-layer network trained with autograd: the forward pass is
 * recorded, nb_backward fills w1's and w2's .grad, and the update runs under no-grad, as in
 * PyTorch's loop (loss.backward(); with torch.no_grad(): w -= lr * w.grad; w.grad.zero_()).
 *
 *   mlp_autograd [--data DIR] [--out DIR] [--iters N] [--lr F] [--device cpu|cuda[:N]]
 *
 * Same data, options and outputs as mlp_manual, whose hand-written gradients it reproduces. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    sample_options opts = {
        .prog = "mlp_autograd", .iters = 500, .lr = 1e-6, .device = NB_DEVICE_CPU};
    sample_mlp_data data;
    float *losses; /* (iters,) */
    int early = sample_mlp_begin(argc, argv, &opts, &data, &losses);
    if (early >= 0) return early;
    nb_tensor *x = data.x;                         /* (N, D_in) */
    nb_tensor *y = data.y;                         /* (N, D_out) */
    nb_tensor *w1 = nb_requires_grad_(data.w1, true); /* (D_in, H) */
    nb_tensor *w2 = nb_requires_grad_(data.w2, true); /* (H, D_out) */
    const double learning_rate = opts.lr;

    int status = 0;
    for (int t = 0; t < opts.iters; t++) {
        nb_scope_begin();
        /* forward, recorded: y_pred = relu(x·w1)·w2 */
        nb_tensor *y_pred = nb_mm(nb_clamp_min(nb_mm(x, w1), 0), w2); /* (N, D_out) */
        nb_tensor *loss = nb_sum(nb_pow_scalar(nb_sub(y_pred, y), 2));
        losses[t] = (float)nb_item(loss);
        /* backward: fills w1's and w2's .grad */
        nb_backward(loss);
        /* gradient descent, not recorded */
        nb_no_grad_begin();
        nb_sub_scaled_(w1, nb_grad(w1), learning_rate); /* w1 -= lr * w1.grad */
        nb_sub_scaled_(w2, nb_grad(w2), learning_rate); /* w2 -= lr * w2.grad */
        nb_no_grad_end();
        nb_zero_grad(w1);
        nb_zero_grad(w2);
        if (nb_scope_end() != NB_OK) {
            fprintf(stderr, "%s: step %d: %s\n", opts.prog, t + 1, nb_last_error());
            status = 1;
            break;
        }
        if ((t + 1) % 100 == 0) printf("step %d: loss %.6g\n", t + 1, losses[t]);
    }

    return sample_mlp_end(&opts, &data, losses, status);
}
