/* tf_gradients.c — the seed's TensorFlow example in nabla: gradients of a loss with respect to
 * chosen tensors, returned rather than accumulated (tf.gradients(loss, [w1, w2]), or PyTorch's
 * torch.autograd.grad).
 *
 *   tf_gradients [--data DIR] [--out DIR] [--device cpu|cuda[:N]]
 *
 * x, y (N, D); w1 (D, H); w2 (H, D); h = max(x·w1, 0); y_pred = h·w2; loss = the mean over the
 * N rows of the row sums of (y_pred - y)^2. Without --data: nb_randn at N, D, H = 64, 1000, 100.
 * Prints the loss; --out DIR writes loss.npy (shape [1]), grad_w1.npy and grad_w2.npy. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define TF_N 64
#define TF_D 1000
#define TF_H 100

static bool save(const char *prog, const char *dir, const char *name, const nb_tensor *t)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    nb_status st = nb_save_npy(t, path); /* copies to the cpu first when needed */
    if (st != NB_OK) fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, nb_last_error());
    return st == NB_OK;
}

int main(int argc, char **argv)
{
    sample_options opts = {.prog = "tf_gradients", .iters = 1, .lr = 0, .device = NB_DEVICE_CPU};
    switch (sample_parse_args(argc, argv, &opts)) {
    case SAMPLE_PARSE_OK: break;
    case SAMPLE_PARSE_HELP: return 0;
    case SAMPLE_PARSE_BAD: return SAMPLE_EXIT_USAGE;
    }
    sample_mlp_data data;
    bool loaded = opts.data_dir ? sample_load_mlp(opts.prog, opts.data_dir, &data)
                                : sample_random_mlp(opts.prog, TF_N, TF_D, TF_H, TF_D, &data);
    if (!loaded) return 1;
    if (!sample_mlp_to(opts.prog, &data, opts.device)) {
        sample_mlp_release(&data);
        return 1;
    }
    nb_tensor *x = data.x, *y = data.y;               /* (N, D) */
    nb_tensor *w1 = nb_requires_grad_(data.w1, true); /* (D, H) */
    nb_tensor *w2 = nb_requires_grad_(data.w2, true); /* (H, D) */

    nb_clear_error();
    nb_scope_begin();
    nb_tensor *h = nb_clamp_min(nb_mm(x, w1), 0);                           /* (N, H) */
    nb_tensor *y_pred = nb_mm(h, w2);                                       /* (N, D) */
    nb_tensor *row_sums = nb_sum_dim(nb_pow_scalar(nb_sub(y_pred, y), 2), 1, false); /* (N,) */
    nb_tensor *loss = nb_mean(row_sums);
    nb_tensor *grads[2]; /* d loss / d w1, d loss / d w2 */
    nb_tensor *wrt[2] = {w1, w2};
    nb_grad_of(1, &loss, NULL, 2, wrt, grads, false);
    int status = 0;
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, "%s: %s\n", opts.prog, nb_last_error());
        status = 1;
    } else {
        printf("loss: %.9g\n", nb_item(loss));
        if (opts.out_dir) {
            if (mkdir(opts.out_dir, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "%s: cannot create %s: %s\n", opts.prog, opts.out_dir, strerror(errno));
                status = 1;
            }
            nb_tensor *loss1 = nb_reshape(loss, NB_SHAPE(1));
            if (status == 0 && !(save(opts.prog, opts.out_dir, "loss.npy", loss1) &&
                                 save(opts.prog, opts.out_dir, "grad_w1.npy", grads[0]) &&
                                 save(opts.prog, opts.out_dir, "grad_w2.npy", grads[1])))
                status = 1;
        }
    }
    nb_scope_end();
    sample_mlp_release(&data);
    return status;
}
