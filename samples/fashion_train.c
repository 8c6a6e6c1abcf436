/* fashion_train.c — the Fashion-MNIST samples' training loop and evaluation (fashion_train.h). */
#include "fashion_train.h"
#include "progress.h"

#include <stdio.h>

#define EVAL_BATCH 1000 /* test rows classified per step */

double fashion_evaluate(const char *prog, const fashion_model *m, const nb_tensor *images, const nb_tensor *labels)
{
    int64_t n = nb_size(images, 0), correct = 0;
    bool ok = true, was_training = nb_params_training(m->params);
    nb_params_train(m->params, false);
    nb_no_grad_begin();
    for (int64_t first = 0; first < n && ok; first += EVAL_BATCH) {
        int64_t rows = n - first < EVAL_BATCH ? n - first : EVAL_BATCH;
        nb_scope_begin();
        nb_tensor *x = nb_narrow(images, 0, first, rows);                          /* (rows, 784) */
        nb_tensor *y = nb_narrow(labels, 0, first, rows);                          /* (rows,) */
        nb_tensor *predicted = nb_argmax_dim(m->forward(m->impl, x), 1, false);    /* (rows,) */
        nb_tensor *hits = nb_sum(nb_eq(predicted, y));                             /* int64 */
        correct += (int64_t)nb_item(hits);
        if (nb_scope_end() != NB_OK) {
            fprintf(stderr, "%s: evaluating the test set: %s\n", prog, nb_last_error());
            ok = false;
        }
    }
    nb_no_grad_end();
    nb_params_train(m->params, was_training);
    return ok ? 100.0 * (double)correct / (double)n : -1.0;
}

/* One pass over the training set; its mean loss into *mean_loss. False after a message. */
static bool train_epoch(fashion_trainer *t, int epoch, double *mean_loss)
{
    nb_clear_error();
    if (nb_loader_start_epoch(t->loader) != NB_OK) {
        fprintf(stderr, "%s: epoch %d: %s\n", t->prog, epoch, nb_last_error());
        return false;
    }
    progress bar;
    int64_t steps = nb_loader_num_batches(t->loader), done = 0;
    progress_begin(&bar, epoch, t->opts->epochs, steps, t->terminal);
    double loss_sum = 0.0;
    for (;;) {
        nb_scope_begin();
        nb_tensor *x_cpu, *y_cpu;                            /* (B, 784) float32, (B,) int64 */
        if (!nb_loader_next(t->loader, &x_cpu, &y_cpu)) {
            nb_scope_end();
            break; /* the end of the epoch, or an error (checked below) */
        }
        nb_tensor *x = nb_to(x_cpu, t->opts->device);        /* (B, 784) */
        nb_tensor *y = nb_to(y_cpu, t->opts->device);        /* (B,) */
        nb_tensor *logits = t->model.forward(t->model.impl, x); /* (B, 10) */
        nb_tensor *loss = nb_cross_entropy(logits, y);
        double loss_value = nb_item(loss);
        nb_backward(loss);
        nb_optimizer_step(t->opt);
        nb_optimizer_zero_grad(t->opt);
        if (nb_scope_end() != NB_OK) break;

        done++;
        t->step++;
        loss_sum += loss_value;
        log_step(t->log, t->step, loss_value);
        progress_update(&bar, done, loss_sum / (double)done);
    }
    progress_end(&bar);
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, "%s: epoch %d, step %lld: %s\n", t->prog, epoch, (long long)done + 1, nb_last_error());
        return false;
    }
    *mean_loss = done > 0 ? loss_sum / (double)done : 0.0;
    return true;
}

bool fashion_train(fashion_trainer *t, const nb_tensor *test_images, const nb_tensor *test_labels)
{
    for (int epoch = 1; epoch <= t->opts->epochs; epoch++) {
        double start = progress_now(), mean_loss;
        if (!train_epoch(t, epoch, &mean_loss)) return false;
        double seconds = progress_now() - start;
        double accuracy = fashion_evaluate(t->prog, &t->model, test_images, test_labels);
        if (accuracy < 0) return false;
        printf("epoch %d/%d: train loss %.4f, test accuracy: %.2f%%, %.2f s\n", epoch, t->opts->epochs,
               mean_loss, accuracy, seconds);
        fflush(stdout);
    }
    return true;
}
