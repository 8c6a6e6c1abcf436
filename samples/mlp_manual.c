/* mlp_manual.c — the seed: a two-layer network (x -> relu(x·w1) -> ·w2) fitted to random data
 * by hand-written backpropagation and plain gradient descent, PyTorch's classic loop line for
 * line in nabla. One scope per step releases every temporary; the weights live outside it.
 *
 *   mlp_manual [--data DIR] [--out DIR] [--iters N] [--lr F] [--device cpu|cuda[:N]] [--replay]
 *              [--dtype float32|float64|float16|bfloat16]
 *
 * Without --data it draws x, y, w1, w2 with nb_randn (seed 0) at N=64, D_in=1000, H=100,
 * D_out=10. It prints the loss every 100 steps and the last step's loss; --out DIR writes the
 * trained w1, w2 (as float32) and every step's loss as .npy files. With --replay (on CUDA) the
 * second step is captured into a CUDA graph, and every later step is one replay of it.
 *
 * --dtype (default float32) trains in that dtype: the data and weights are converted once and
 * every op runs in it. In float16 the hand-written gradients are scaled by 2^-6 and the rate by
 * 2^6 (a static loss scale: at these sizes the gradients reach 10^6, past float16's 65504), and
 * the half dtypes' loss is summed from the differences widened to float32 (it reaches 3 * 10^7). */
#include "common.h"
#include "step_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mlp {
    nb_tensor *x, *y;   /* (N, D_in), (N, D_out) */
    nb_tensor *w1, *w2; /* (D_in, H), (H, D_out) */
    double learning_rate;
    double grad_scale;  /* the gradients' static scale (1 but in float16) */
    bool wide_loss;     /* the loss summed in float32 (the half dtypes) */
} mlp;

/* One step: forward, the loss, hand-written gradients and the update of w1 and w2. */
static nb_tensor *train_step(void *ctx)
{
    const mlp *m = ctx;
    nb_tensor *x = m->x, *y = m->y, *w1 = m->w1, *w2 = m->w2;
    const double learning_rate = m->learning_rate / m->grad_scale;
    nb_scope_begin();
    /* forward: predicted y */
    nb_tensor *h = nb_mm(x, w1);                     /* (N, H) */
    nb_tensor *h_relu = nb_clamp_min(h, 0);          /* (N, H) */
    nb_tensor *y_pred = nb_mm(h_relu, w2);           /* (N, D_out) */
    /* loss: the sum of squared errors */
    nb_tensor *diff = nb_sub(y_pred, y);                            /* (N, D_out) */
    nb_tensor *loss = nb_keep(nb_sum(nb_pow_scalar(m->wide_loss ? nb_to_dtype(diff, NB_FLOAT32) : diff, 2)));
    /* backward: gradients of the loss (times grad_scale) with respect to w1 and w2 */
    nb_tensor *grad_y_pred = nb_mul_scalar(diff, 2.0 * m->grad_scale); /* (N, D_out) */
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

/* Takes --dtype NAME (or --dtype=NAME) out of argv into *dtype; the other arguments are left for
 * the shared parser. False (with a message) for an unknown or missing name. */
static bool take_dtype(int *argc, char **argv, nb_dtype *dtype)
{
    static const struct {
        const char *name;
        nb_dtype dtype;
    } names[] = {{"float32", NB_FLOAT32}, {"float64", NB_FLOAT64}, {"float16", NB_FLOAT16}, {"bfloat16", NB_BFLOAT16}};
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--dtype") == 0) {
            if (i + 1 == *argc) {
                fprintf(stderr, "mlp_manual: --dtype needs a value: float32, float64, float16 or bfloat16\n");
                return false;
            }
            value = argv[++i];
        } else if (strncmp(argv[i], "--dtype=", 8) == 0) {
            value = argv[i] + 8;
        } else {
            argv[kept++] = argv[i];
            continue;
        }
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] && strcmp(names[k].name, value) != 0) k++;
        if (k == sizeof names / sizeof names[0]) {
            fprintf(stderr, "mlp_manual: unknown --dtype '%s': expected float32, float64, float16 or bfloat16\n",
                    value);
            return false;
        }
        *dtype = names[k].dtype;
    }
    argv[kept] = NULL;
    *argc = kept;
    return true;
}

/* *t converted to dtype in place of itself; false (with nabla's message) on failure. */
static bool convert(nb_tensor **t, nb_dtype dtype)
{
    if (nb_dtype_of(*t) == dtype) return true;
    nb_tensor *c = nb_to_dtype(*t, dtype);
    if (!c) {
        fprintf(stderr, "mlp_manual: %s\n", nb_last_error());
        return false;
    }
    nb_release(*t);
    *t = c;
    return true;
}

int main(int argc, char **argv)
{
    sample_options opts = {
        .prog = "mlp_manual", .iters = 500, .lr = 1e-6, .device = NB_DEVICE_CPU, .takes_replay = true,
        .takes_dtype = true};
    nb_dtype dtype = NB_FLOAT32;
    if (!take_dtype(&argc, argv, &dtype)) return SAMPLE_EXIT_USAGE;
    sample_mlp_data data;
    float *losses; /* (iters,) */
    int early = sample_mlp_begin(argc, argv, &opts, &data, &losses);
    if (early >= 0) return early;
    if (!convert(&data.x, dtype) || !convert(&data.y, dtype) || !convert(&data.w1, dtype) ||
        !convert(&data.w2, dtype)) {
        free(losses);
        sample_mlp_release(&data);
        return 1;
    }
    const bool half = dtype == NB_FLOAT16 || dtype == NB_BFLOAT16;
    mlp m = {.x = data.x, .y = data.y, .w1 = data.w1, .w2 = data.w2, .learning_rate = opts.lr,
             .grad_scale = dtype == NB_FLOAT16 ? 0x1p-6 : 1.0, .wide_loss = half};
    int status = sample_run_steps(&opts, train_step, &m, losses);
    /* the weights are written as float32 (.npy has no bfloat16) */
    if (status == 0 && (!convert(&data.w1, NB_FLOAT32) || !convert(&data.w2, NB_FLOAT32))) status = 1;
    return sample_mlp_end(&opts, &data, losses, status);
}
