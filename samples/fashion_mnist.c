/* fashion_mnist.c — trains a classifier on Fashion-MNIST the way a PyTorch tutorial does: a
 * 784-256-10 network (nb_linear, ReLU), cross entropy, SGD with momentum, shuffled batches of 128
 * prepared by nabla's loader on its own thread; after each epoch the test set is classified
 * (no-grad, argmax) and the accuracy printed.
 *
 *   fashion_mnist [--data DIR] [--hidden N] [--epochs N] [--lr F] [--momentum F] [--batch N]
 *                 [--seed N] [--threads N] [--device cpu|cuda[:N]] [--load FILE] [--save FILE]
 *                 [--save-every N] [--stop-after N] [--log FILE]
 *
 * It reads the four IDX files from /usr/share/datasets/fashion-mnist (Debian's package
 * dataset-fashion-mnist) or --data DIR, scales the pixels to [0, 1] and normalises them with the
 * training set's mean and standard deviation (0.2860, 0.3530). Each epoch ends with a line such as
 *
 *   epoch 1/3: train loss 0.5123, test accuracy: 85.31%, 1.23 s
 *
 * (the loss is the mean over the epoch's steps; the time is the training's, without the test).
 * --save writes a checkpoint of the whole training state at the end (nb_checkpoint: the weights,
 * SGD's momentum, the loader's place in its epoch, the generator), --save-every N also every N
 * steps, and --stop-after N ends the run after N steps with one; --load resumes such a run where
 * it stopped, bit for bit as if it had not (--epochs 0 only evaluates the checkpoint's weights).
 * --log writes every step's loss as CSV. Exit status: 0, 1 on a failure, 2 on a bad command line. */
#include "fashion_data.h"
#include "fashion_options.h"
#include "fashion_train.h"
#include "progress.h"

#include <nabla.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *prog = "fashion_mnist";

/* ---------------------------------------------------------------- the model */

typedef struct model {
    nb_linear *fc1;     /* 784 -> hidden */
    nb_linear *fc2;     /* hidden -> 10 */
    nb_params *params;  /* fc1's weight and bias, then fc2's */
} model;

static void model_free(model *m)
{
    nb_params_free(m->params);
    nb_linear_free(m->fc1);
    nb_linear_free(m->fc2);
    *m = (model){0};
}

/* Both layers initialised like PyTorch's nn.Linear, from the generator seeded just before. */
static bool model_new(model *m, int64_t hidden, nb_device device)
{
    nb_options opts = NB_OPTS(NB_FLOAT32, .device = device);
    *m = (model){0};
    nb_clear_error();
    m->fc1 = nb_linear_new(FASHION_PIXELS, hidden, true, opts);
    m->fc2 = m->fc1 ? nb_linear_new(hidden, FASHION_CLASSES, true, opts) : NULL;
    m->params = nb_params_new();
    if (m->fc2 && m->params) {
        nb_linear_params(m->fc1, m->params);
        nb_linear_params(m->fc2, m->params);
    }
    if (nb_last_status() == NB_OK && m->params) return true;
    fprintf(stderr, "%s: cannot make the model: %s\n", prog, nb_last_error());
    model_free(m);
    return false;
}

/* logits = fc2(relu(fc1(x))): (B, 784) -> (B, 10) */
static nb_tensor *model_forward(const void *impl, const nb_tensor *x)
{
    const model *m = impl;
    nb_tensor *h = nb_relu(nb_linear_forward(m->fc1, x)); /* (B, hidden) */
    return nb_linear_forward(m->fc2, h);                  /* (B, 10) */
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    fashion_options opts = fashion_default_options();
    switch (fashion_parse_args(prog, argc, argv, &opts)) {
    case FASHION_PARSE_OK: break;
    case FASHION_PARSE_HELP: return 0;
    case FASHION_PARSE_BAD: return FASHION_EXIT_USAGE;
    }
    if (opts.threads > 0) nb_set_num_threads(opts.threads);
    printf("%s\n", nb_config_string());
    fflush(stdout);

    /* a device that is not there is reported before the data set is read */
    nb_clear_error();
    nb_tensor *probe = nb_zeros(NB_SHAPE(1), NB_OPTS(NB_FLOAT32, .device = opts.device));
    if (!probe) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        return 1;
    }
    nb_release(probe);

    fashion_data data;
    if (!fashion_load(prog, opts.data_dir, &data)) return 1;
    if (!fashion_keep_first(prog, &data, opts.train_size, opts.test_size)) return 1;
    printf("Fashion-MNIST from %s: %lld training and %lld test images\n", opts.data_dir,
           (long long)nb_size(data.train_images, 0), (long long)nb_size(data.test_images, 0));

    int status = 1;
    model m = {0};
    nb_optimizer *opt = NULL;
    nb_loader *loader = NULL;
    nb_grad_scaler *scaler = NULL;
    nb_tensor *test_images = NULL, *test_labels = NULL;
    loss_log log = {0};
    nb_clear_error();

    /* the test set lives on the device; training batches move there one at a time */
    test_images = nb_to(data.test_images, opts.device); /* (10000, 784) */
    test_labels = nb_to(data.test_labels, opts.device); /* (10000,) */
    if (!test_images || !test_labels) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        goto done;
    }

    nb_manual_seed((uint64_t)opts.seed);
    if (!model_new(&m, opts.hidden, opts.device)) goto done;
    opt = nb_sgd_new(m.params, (nb_sgd_options){.lr = opts.lr, .momentum = opts.momentum});
    loader = nb_loader_new(data.train_images, data.train_labels,
                           (nb_loader_options){.batch_size = opts.batch, .shuffle = true});
    if (opts.amp == NB_FLOAT16) scaler = nb_grad_scaler_new((nb_grad_scaler_options){0}); /* PyTorch's defaults */
    if (!opt || !loader || (opts.amp == NB_FLOAT16 && !scaler)) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        goto done;
    }

    const fashion_model fm = {.impl = &m, .forward = model_forward, .params = m.params, .amp = opts.amp};
    fashion_trainer t = {.prog = prog, .opts = &opts, .model = fm, .opt = opt, .loader = loader, .scaler = scaler,
                         .log = &log, .state = m.params, .terminal = isatty(STDOUT_FILENO)};
    if (opts.load_path && !fashion_resume(&t, opts.epochs > 0)) goto done;

    char device[32] = "cpu";
    if (opts.device.type == NB_CUDA) snprintf(device, sizeof device, "cuda:%d", opts.device.index);
    printf("model 784-%lld-10 (ReLU), SGD lr %g momentum %g, batch %lld, %d epoch%s, seed %lld, %s",
           (long long)opts.hidden, opts.lr, opts.momentum, (long long)opts.batch, opts.epochs,
           opts.epochs == 1 ? "" : "s", (long long)opts.seed, device);
    if (opts.amp != NB_FLOAT32) printf(", amp %s", opts.amp == NB_BFLOAT16 ? "bf16" : "fp16 (loss scaling)");
    if (opts.load_path) printf(", from %s", opts.load_path);
    printf("\n");
    fflush(stdout);

    if (opts.epochs == 0) {
        double start = progress_now();
        double accuracy = fashion_evaluate(prog, &fm, test_images, test_labels);
        if (accuracy < 0) goto done;
        printf("evaluation: test accuracy: %.2f%%, %.2f s\n", accuracy, progress_now() - start);
    } else {
        if (!log_open(&log, prog, opts.log_path)) goto done;
        bool trained = fashion_train(&t, test_images, test_labels);
        if (!log_close(&log, trained) || !trained) goto done;
    }
    if (opts.save_path && !t.stopped) {
        if (!fashion_save(&t)) goto done;
        printf("checkpoint written to %s\n", opts.save_path);
    }
    status = 0;
done:
    log_close(&log, false);
    nb_loader_free(loader);
    nb_optimizer_free(opt);
    nb_grad_scaler_free(scaler);
    model_free(&m);
    nb_release(test_images);
    nb_release(test_labels);
    fashion_release(&data);
    return status;
}
