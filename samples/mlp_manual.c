/* mlp_manual.c — the seed: a two-layer network (x -> relu(x·w1) -> ·w2) fitted to random data
 * by hand-written backpropagation and plain gradient descent, PyTorch's classic loop line for
 * line in nabla. One scope per step releases every temporary; the weights live outside it.
 *
 *   mlp_manual [--data DIR] [--out DIR] [--iters N] [--lr F] [--device cpu|cuda[:N]] [--replay]
 *
 * Without --data it draws x, y, w1, w2 with nb_randn (seed 0) at N=64, D_in=1000, H=100,
 * D_out=10. It prints the loss every 100 steps and the last step's loss; --out DIR writes the
 * trained w1, w2 and every step's loss as .npy files. With --replay (on CUDA) the second step is
 * captured into a CUDA graph, and every later step is one replay of it. */
#include "common.h"
#include "step_loop.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct mlp {
    nb_tensor *x, *y;   /* (N, D_in), (N, D_out) */
    nb_tensor *w1, *w2; /* (D_in, H), (H, D_out) */
    double learning_rate;
} mlp;

/* One step: forward, the loss, hand-written gradients and the update of w1 and w2. */
static nb_tensor *train_step(void *ctx)
{
    const mlp *m = ctx;
    nb_tensor *x = m->x, *y = m->y, *w1 = m->w1, *w2 = m->w2;
    const double learning_rate = m->learning_rate;
    nb_scope_begin();
    /* forward: predicted y */
    nb_tensor *h = nb_mm(x, w1);                     /* (N, H) */
    nb_tensor *h_relu = nb_clamp_min(h, 0);          /* (N, H) */
    nb_tensor *y_pred = nb_mm(h_relu, w2);           /* (N, D_out) */
    /* loss: the sum of squared errors */
    nb_tensor *loss = nb_keep(nb_sum(nb_pow_scalar(nb_sub(y_pred, y), 2)));
    /* backward: gradients of the loss with respect to w1 and w2 */
    nb_tensor *grad_y_pred = nb_mul_scalar(nb_sub(y_pred, y), 2.0); /* (N, D_out) */
    nb_tensor *grad_w2 = nb_mm(nb_t(h_relu), grad_y_pred);         /* (H, D_out) */
    nb_tensor *grad_h = nb_clone(nb_mm(grad_y_pred, nb_t(w2)));    /* (N, H) */
    nb_masked_fill_(grad_h, nb_lt_scalar(h, 0), 0);
    nb_tensor *grad_w1 = nb_mm(nb_t(x), grad_h);                   /* (D_in, H) */
    /* gradient descent */
    nb_sub_scaled_(w1, grad_w1, learning_rate); /* w1 -= lr * grad_w1 */
    nb_sub_scaled_(w2, grad_w2, learning_rate); /* w2 -= lr * grad_w2 */
    if (nb_scope_end() != NB_OK) {
        nb_release(loss);
        return NULL;
    }
    return loss;
}

int main(int argc, char **argv)
{
    sample_options opts = {
        .prog = "mlp_manual", .iters = 500, .lr = 1e-6, .device = NB_DEVICE_CPU, .takes_replay = true};
    sample_mlp_data data;
    float *losses; /* (iters,) */
    int early = sample_mlp_begin(argc, argv, &opts, &data, &losses);
    if (early >= 0) return early;
    mlp m = {.x = data.x, .y = data.y, .w1 = data.w1, .w2 = data.w2, .learning_rate = opts.lr};
    int status = sample_run_steps(&opts, train_step, &m, losses);
    return sample_mlp_end(&opts, &data, losses, status);
}
