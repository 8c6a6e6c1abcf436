/* fashion_cnn.c — trains a small convolutional network on Fashion-MNIST, as a PyTorch image
 * course does:
 *
 *   conv 3x3 32 (padding 1) -> BatchNorm -> ReLU -> max-pool 2 ->
 *   conv 3x3 64 (padding 1) -> BatchNorm -> ReLU -> max-pool 2 -> flatten ->
 *   linear 3136-128 -> ReLU -> dropout 0.25 -> linear 128-10
 *
 * with cross entropy and AdamW (lr 1e-3, weight decay 1e-2), shuffled batches of 128 from nabla's
 * loader, 5 epochs; after each epoch the test set is classified in eval mode (batch norm's running
 * statistics, no dropout) and the accuracy printed, as fashion_mnist does:
 *
 *   fashion_cnn [--data DIR] [--epochs N] [--lr F] [--weight-decay F] [--batch N] [--seed N]
 *               [--threads N] [--device cpu|cuda[:N]] [--load FILE] [--save FILE] [--save-every N]
 *               [--stop-after N] [--log FILE]
 *
 * Checkpoints hold the whole training state (nb_checkpoint): the parameters, batch norm's running
 * statistics, AdamW's moments and steps, the loader's place and the generator (dropout's stream),
 * so --load resumes a run stopped by --stop-after bit for bit. Exit status: 0, 1 on a
 * failure, 2 on a bad command line. */
#include "fashion_data.h"
#include "fashion_options.h"
#include "fashion_train.h"
#include "progress.h"

#include <nabla.h>

#include <stdio.h>
#include <unistd.h>

static const char *prog = "fashion_cnn";

/* ---------------------------------------------------------------- the model */

typedef struct model {
    nb_conv2d_layer *conv1, *conv2; /* 1 -> 32 and 32 -> 64 channels, 3x3, padding 1 */
    nb_batch_norm2d *bn1, *bn2;
    nb_max_pool2d_layer pool;       /* 2x2 */
    nb_linear *fc1, *fc2;           /* 64*7*7 -> 128 -> 10 */
    nb_dropout_layer *drop;         /* 0.25 */
    nb_params *params;              /* what AdamW steps; its train/eval switch */
    nb_params *state;               /* params and batch norm's buffers: the checkpoint */
} model;

static void model_free(model *m)
{
    nb_params_free(m->params);
    nb_params_free(m->state);
    nb_conv2d_layer_free(m->conv1);
    nb_conv2d_layer_free(m->conv2);
    nb_batch_norm2d_free(m->bn1);
    nb_batch_norm2d_free(m->bn2);
    nb_linear_free(m->fc1);
    nb_linear_free(m->fc2);
    nb_dropout_layer_free(m->drop);
    *m = (model){0};
}

/* Every layer initialised like PyTorch's, from the generator seeded just before. */
static bool model_new(model *m, nb_device device)
{
    const nb_options opts = NB_OPTS(NB_FLOAT32, .device = device);
    nb_conv2d_options same = NB_CONV2D_DEFAULTS;
    same.padding[0] = same.padding[1] = 1;
    *m = (model){.pool = {NB_MAX_POOL2D_OPTIONS(2, 2)}};
    nb_clear_error();
    m->conv1 = nb_conv2d_layer_new(1, 32, 3, 3, &same, true, opts);
    m->bn1 = nb_batch_norm2d_new(32, opts);
    m->conv2 = nb_conv2d_layer_new(32, 64, 3, 3, &same, true, opts);
    m->bn2 = nb_batch_norm2d_new(64, opts);
    m->fc1 = nb_linear_new(64 * 7 * 7, 128, true, opts);
    m->drop = nb_dropout_layer_new(0.25);
    m->fc2 = nb_linear_new(128, FASHION_CLASSES, true, opts);
    m->params = nb_params_new();
    m->state = nb_params_new();
    if (nb_last_status() == NB_OK && m->params && m->state) {
        nb_conv2d_layer_params(m->conv1, m->params);
        nb_batch_norm2d_params(m->bn1, m->params);
        nb_conv2d_layer_params(m->conv2, m->params);
        nb_batch_norm2d_params(m->bn2, m->params);
        nb_linear_params(m->fc1, m->params);
        nb_dropout_layer_params(m->drop, m->params);
        nb_linear_params(m->fc2, m->params);
        for (int i = 0; i < nb_params_count(m->params); i++) nb_params_add(m->state, nb_params_get(m->params, i));
        nb_batch_norm2d_buffers(m->bn1, m->state);
        nb_batch_norm2d_buffers(m->bn2, m->state);
    }
    if (nb_last_status() == NB_OK && m->params && m->state) return true;
    fprintf(stderr, "%s: cannot make the model: %s\n", prog, nb_last_error());
    model_free(m);
    return false;
}

/* conv -> BN -> ReLU -> max-pool 2: (B, C, H, W) -> (B, C', H/2, W/2) */
static nb_tensor *conv_block(nb_conv2d_layer *conv, nb_batch_norm2d *bn, const nb_max_pool2d_layer *pool,
                             const nb_tensor *x)
{
    return nb_max_pool2d_layer_forward(pool, nb_relu(nb_batch_norm2d_forward(bn, nb_conv2d_layer_forward(conv, x))));
}

/* (B, 784) -> (B, 10) */
static nb_tensor *model_forward(const void *impl, const nb_tensor *x)
{
    const model *m = impl;
    nb_tensor *images = nb_reshape(x, NB_SHAPE(-1, 1, 28, 28));            /* (B, 1, 28, 28) */
    nb_tensor *h1 = conv_block(m->conv1, m->bn1, &m->pool, images);         /* (B, 32, 14, 14) */
    nb_tensor *h2 = conv_block(m->conv2, m->bn2, &m->pool, h1);             /* (B, 64, 7, 7) */
    nb_tensor *flat = nb_reshape(h2, NB_SHAPE(nb_size(h2, 0), -1));         /* (B, 3136) */
    nb_tensor *h3 = nb_relu(nb_linear_forward(m->fc1, flat));               /* (B, 128) */
    return nb_linear_forward(m->fc2, nb_dropout_layer_forward(m->drop, h3)); /* (B, 10) */
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    fashion_options opts = fashion_cnn_default_options();
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

    test_images = nb_to(data.test_images, opts.device); /* (10000, 784) */
    test_labels = nb_to(data.test_labels, opts.device); /* (10000,) */
    if (!test_images || !test_labels) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        goto done;
    }

    nb_manual_seed((uint64_t)opts.seed);
    if (!model_new(&m, opts.device)) goto done;
    opt = nb_adamw_new(m.params, (nb_adam_options){.lr = opts.lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                                                   .weight_decay = opts.weight_decay});
    loader = nb_loader_new(data.train_images, data.train_labels,
                           (nb_loader_options){.batch_size = opts.batch, .shuffle = true});
    if (opts.amp == NB_FLOAT16) scaler = nb_grad_scaler_new((nb_grad_scaler_options){0}); /* PyTorch's defaults */
    if (!opt || !loader || (opts.amp == NB_FLOAT16 && !scaler)) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        goto done;
    }

    const fashion_model fm = {.impl = &m, .forward = model_forward, .params = m.params, .amp = opts.amp};
    fashion_trainer t = {.prog = prog, .opts = &opts, .model = fm, .opt = opt, .loader = loader, .scaler = scaler,
                         .log = &log, .state = m.state, .terminal = isatty(STDOUT_FILENO)};
    if (opts.load_path && !fashion_resume(&t, opts.epochs > 0)) goto done;

    char device[32] = "cpu";
    if (opts.device.type == NB_CUDA) snprintf(device, sizeof device, "cuda:%d", opts.device.index);
    printf("model conv32-bn-pool-conv64-bn-pool-128-10, AdamW lr %g weight decay %g, batch %lld, %d epoch%s, seed "
           "%lld, %s",
           opts.lr, opts.weight_decay, (long long)opts.batch, opts.epochs, opts.epochs == 1 ? "" : "s",
           (long long)opts.seed, device);
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
