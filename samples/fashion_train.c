/* fashion_train.c — the Fashion-MNIST samples' training loop and evaluation (fashion_train.h). */
#include "fashion_train.h"
#include "progress.h"

#include <stdio.h>

#define EVAL_BATCH 1000 /* test rows classified per step */

nb_tensor *fashion_forward(const fashion_model *m, const nb_tensor *x)
{
    if (m->amp == NB_FLOAT32) return m->forward(m->impl, x);
    if (nb_autocast_begin(nb_device_of(x).type, m->amp) != NB_OK) return NULL;
    nb_tensor *logits = m->forward(m->impl, x);
    nb_autocast_end();
    return logits;
}

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
        nb_tensor *predicted = nb_argmax_dim(fashion_forward(m, x), 1, false);     /* (rows,) */
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

/* ---------------------------------------------------------------- checkpoints */

#define NSCALARS 3
static const char *const scalar_names[NSCALARS] = {"step", "epoch_loss_sum", "epoch_steps"};

static nb_checkpoint checkpoint_of(fashion_trainer *t, bool training, double *scalars)
{
    if (!training) return (nb_checkpoint){.state = t->state};
    return (nb_checkpoint){.state = t->state, .optimizer = t->opt, .loader = t->loader, .scaler = t->scaler,
                           .nscalars = NSCALARS, .scalar_names = scalar_names, .scalars = scalars};
}

bool fashion_resume(fashion_trainer *t, bool training)
{
    double scalars[NSCALARS];
    nb_checkpoint c = checkpoint_of(t, training, scalars);
    if (nb_checkpoint_load(t->opts->load_path, &c) != NB_OK) {
        fprintf(stderr, "%s: cannot load the checkpoint: %s\n", t->prog, nb_last_error());
        return false;
    }
    if (training) {
        t->step = (int64_t)scalars[0];
        t->epoch_loss_sum = scalars[1];
        t->epoch_steps = (int64_t)scalars[2];
    }
    return true;
}

bool fashion_save(fashion_trainer *t)
{
    double scalars[NSCALARS] = {(double)t->step, t->epoch_loss_sum, (double)t->epoch_steps};
    nb_checkpoint c = checkpoint_of(t, true, scalars);
    if (nb_checkpoint_save(t->opts->save_path, &c) != NB_OK) {
        fprintf(stderr, "%s: cannot save the checkpoint: %s\n", t->prog, nb_last_error());
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- training */

/* One pass over the training set, or the rest of a resumed one; its mean loss into *mean_loss.
 * False after a message. */
static bool train_epoch(fashion_trainer *t, int epoch, bool resumed, double *mean_loss)
{
    nb_clear_error();
    if (!resumed && nb_loader_start_epoch(t->loader) != NB_OK) {
        fprintf(stderr, "%s: epoch %d: %s\n", t->prog, epoch, nb_last_error());
        return false;
    }
    if (!resumed) t->epoch_loss_sum = 0, t->epoch_steps = 0;
    progress bar;
    int64_t steps = nb_loader_num_batches(t->loader), done = t->epoch_steps;
    progress_begin(&bar, epoch, t->opts->epochs, steps, t->terminal);
    double loss_sum = t->epoch_loss_sum;
    while (!t->stopped) {
        nb_scope_begin();
        nb_tensor *x_cpu, *y_cpu;                            /* (B, 784) float32, (B,) int64 */
        if (!nb_loader_next(t->loader, &x_cpu, &y_cpu)) {
            nb_scope_end();
            break; /* the end of the epoch, or an error (checked below) */
        }
        nb_tensor *x = nb_to(x_cpu, t->opts->device);        /* (B, 784) */
        nb_tensor *y = nb_to(y_cpu, t->opts->device);        /* (B,) */
        nb_tensor *logits = fashion_forward(&t->model, x);     /* (B, 10) */
        nb_tensor *loss = nb_cross_entropy(logits, y);         /* float32 under autocast too */
        double loss_value = nb_item(loss);
        if (t->scaler) {
            nb_backward(nb_grad_scaler_scale(t->scaler, loss));
            nb_grad_scaler_step(t->scaler, t->opt);             /* skipped after an Inf or NaN gradient */
            nb_grad_scaler_update(t->scaler);
        } else {
            nb_backward(loss);
            nb_optimizer_step(t->opt);
        }
        nb_optimizer_zero_grad(t->opt);
        if (nb_scope_end() != NB_OK) break;

        done++;
        t->step++;
        t->run_steps++;
        loss_sum += loss_value;
        t->epoch_loss_sum = loss_sum;
        t->epoch_steps = done;
        log_step(t->log, t->step, loss_value);
        progress_update(&bar, done, loss_sum / (double)done);
        t->stopped = t->opts->stop_after > 0 && t->run_steps == t->opts->stop_after;
        bool save = t->stopped || (t->opts->save_every > 0 && t->step % t->opts->save_every == 0);
        if (save && !fashion_save(t)) return progress_end(&bar), false;
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
    /* a resumed run continues its epoch where it stopped, or starts the next one */
    int64_t per_epoch = nb_loader_num_batches(t->loader), started = nb_loader_epoch(t->loader);
    bool mid_epoch = started > 0 && nb_loader_position(t->loader) < per_epoch;
    int first = (int)(mid_epoch ? started : started + 1);
    for (int epoch = first; epoch <= t->opts->epochs; epoch++) {
        double start = progress_now(), mean_loss;
        if (!train_epoch(t, epoch, epoch == first && mid_epoch, &mean_loss)) return false;
        if (t->stopped && nb_loader_position(t->loader) < per_epoch) break; /* mid-epoch: no accuracy yet */
        double seconds = progress_now() - start;
        double accuracy = fashion_evaluate(t->prog, &t->model, test_images, test_labels);
        if (accuracy < 0) return false;
        printf("epoch %d/%d: train loss %.4f, test accuracy: %.2f%%, %.2f s\n", epoch, t->opts->epochs,
               mean_loss, accuracy, seconds);
        fflush(stdout);
        if (t->stopped) break;
    }
    if (t->stopped) printf("stopped after %lld steps of this run, at step %lld: checkpoint written to %s\n",
                           (long long)t->run_steps, (long long)t->step, t->opts->save_path);
    return true;
}
