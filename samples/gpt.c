/* gpt.c — trains a character-level GPT (samples/gpt_model.h) on Debian's fortunes, or any text,
 * as nanoGPT's shakespeare_char does, then writes a sample of text from it:
 *
 *   gpt [--data PATH] [--steps N] [--batch N] [--context N] [--width N] [--layers N] [--heads N]
 *       [--dropout F] [--lr F] [--warmup N] [--weight-decay F] [--clip F] [--eval-every N]
 *       [--eval-batches N] [--eval-windows N] [--seed N]
 *       [--threads N] [--device cpu|cuda[:N]] [--replay] [--load FILE] [--save FILE] [--save-every N]
 *       [--stop-after N] [--amp bf16|fp16] [--log FILE]
 *       [--prompt TEXT] [--temperature F] [--top-k N] [--sample-chars N]
 *
 * Training draws batch random windows of context characters from the first 90% of the text with
 * nabla's generator and steps AdamW on the mean cross entropy of the next characters (nanoGPT's
 * recipe: two parameter groups, only the blocks' matrices decaying; a linear warm-up then a cosine
 * schedule; the gradients' norm clipped at 1.0); every
 * eval-every steps (and at the end) the loss is estimated on eval-batches batches of each part in
 * eval mode. At the end, a deterministic validation loss: the mean loss over the first
 * eval-windows consecutive, non-overlapping windows of the validation part (test/gpt_torch_eval.py
 * computes the same of a saved model in PyTorch). --save writes the whole training state
 * (nb_checkpoint: the weights under their PyTorch names, AdamW's state, the generator, the step)
 * at the end, --save-every N also every N steps, and --stop-after N ends the run after N steps
 * with one; --load resumes such a run bit for bit. Exit status: 0, 1 on a failure, 2 on a bad
 * command line. */
#include "common.h"
#include "gpt_model.h"
#include "text_data.h"

#include <nabla.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *prog = "gpt";

typedef struct gpt_options {
    const char *data;
    int64_t steps, batch, context, width, layers, heads;
    double dropout, lr, weight_decay, clip;
    int64_t warmup;
    int64_t eval_every, eval_batches, seed;
    int64_t eval_windows;
    int threads;
    nb_device device;
    bool replay;
    const char *load, *save, *log;
    int64_t save_every, stop_after; /* 0: at the end only; no limit */
    nb_dtype amp;                   /* --amp: autocast's dtype; NB_FLOAT32: off */
    const char *prompt;
    double temperature;
    int64_t top_k, sample_chars;
} gpt_options;

static const gpt_options defaults = {
    .data = TEXT_DEFAULT_PATH,
    .steps = 2000, .batch = 32, .context = 128, .width = 128, .layers = 4, .heads = 4,
    .dropout = 0.0, .lr = 1e-3, .weight_decay = 0.1, .clip = 1.0, .warmup = 100,
    .eval_every = 250, .eval_batches = 20, .seed = 0, .eval_windows = 512,
    .prompt = "\n", .temperature = 1.0, .top_k = 0, .sample_chars = 500, .amp = NB_FLOAT32,
};

static void usage(FILE *f)
{
    const gpt_options *d = &defaults;
    fprintf(f,
            "usage: %s [options]\n"
            "Trains a character-level GPT (pre-LayerNorm blocks, causal self-attention, GELU MLP, tied head)\n"
            "with AdamW on a text, then prints its validation loss and a sample of text.\n"
            "  --data PATH         a text file, or a folder of them (default %s)\n"
            "  --steps N           training steps; 0 only evaluates and samples (default %lld)\n"
            "  --batch N           windows per step (default %lld)\n"
            "  --context N         characters per window (default %lld)\n"
            "  --width N           embedding width (default %lld)\n"
            "  --layers N          transformer blocks (default %lld)\n"
            "  --heads N           attention heads, dividing the width (default %lld)\n"
            "  --dropout F         dropout probability (default %g)\n"
            "  --lr F              AdamW's peak learning rate, after warm-up, before the cosine (default %g)\n"
            "  --warmup N          steps of linear warm-up (default %lld)\n"
            "  --weight-decay F    AdamW's weight decay of the matrices (default %g)\n"
            "  --clip F            clip the gradients' global norm at F; 0: no clipping (default %g)\n"
            "  --eval-every N      estimate train and validation loss every N steps (default %lld)\n"
            "  --eval-batches N    batches per estimate (default %lld)\n"
            "  --eval-windows N    the final validation loss over the validation part's first N windows;\n"
            "                      0: none (default %lld)\n"
            "  --seed N            seed of the weights, the batches and the sample (default %lld)\n"
            "  --threads N         threads for large ops (default: nabla's)\n"
            "  --device D          cpu (default), cuda or cuda:N\n"
            "  --replay            replay a captured training step (CUDA graphs)\n"
            "  --load FILE         resume from this checkpoint (with --steps 0: only evaluate its weights)\n"
            "  --save FILE         write a checkpoint of the whole training state at the end\n"
            "  --save-every N      also write it every N steps\n"
            "  --stop-after N      stop after N steps of this run, writing the checkpoint (--save)\n"
            "  --amp bf16|fp16     mixed precision: autocast to bfloat16, or float16 with loss scaling\n"
            "  --log FILE          write CSV step,train_loss,val_loss (val_loss at estimates only)\n"
            "  --prompt TEXT       the sample's beginning (default a newline)\n"
            "  --temperature F     divides the logits before sampling (default %g)\n"
            "  --top-k N           sample among the N likeliest characters; 0: all (default %lld)\n"
            "  --sample-chars N    characters to generate (default %lld)\n",
            prog, d->data, (long long)d->steps, (long long)d->batch, (long long)d->context, (long long)d->width,
            (long long)d->layers, (long long)d->heads, d->dropout, d->lr, (long long)d->warmup, d->weight_decay, d->clip,
            (long long)d->eval_every, (long long)d->eval_batches, (long long)d->eval_windows, (long long)d->seed, d->temperature,
            (long long)d->top_k, (long long)d->sample_chars);
}

/* ---------------------------------------------------------------- command line */

static bool parse_int(const char *flag, const char *s, int64_t min, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min) {
        fprintf(stderr, "%s: %s expects an integer of at least %lld, got \"%s\"\n", prog, flag, (long long)min, s);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_double(const char *flag, const char *s, double min, double max, bool open_max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min) || v > max || (open_max && v == max)) {
        fprintf(stderr, "%s: %s expects a number in [%g, %g%c, got \"%s\"\n", prog, flag, min, max,
                open_max ? ')' : ']', s);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_amp(const char *flag, const char *s, nb_dtype *out)
{
    if (sample_parse_amp(s, out)) return true;
    fprintf(stderr, "%s: %s: expected bf16 or fp16, got \"%s\"\n", prog, flag, s);
    return false;
}

static bool parse_device(const char *s, nb_device *out)
{
    if (strcmp(s, "cpu") == 0) return *out = NB_DEVICE_CPU, true;
    if (strcmp(s, "cuda") == 0) return *out = NB_DEVICE_CUDA(0), true;
    int index, used = 0;
    if (sscanf(s, "cuda:%d%n", &index, &used) == 1 && s[used] == '\0' && index >= 0)
        return *out = NB_DEVICE_CUDA(index), true;
    fprintf(stderr, "%s: --device expects cpu, cuda or cuda:N, got \"%s\"\n", prog, s);
    return false;
}

/* 0: run; 1: --help; 2: a bad argument (message printed). */
static int parse_args(int argc, char **argv, gpt_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) return usage(stdout), 1;
        if (strcmp(arg, "--replay") == 0) {
            o->replay = true;
            continue;
        }
        /* "--flag VALUE" or "--flag=VALUE" */
        char flag[32];
        const char *value = NULL, *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof flag) {
            memcpy(flag, arg, (size_t)(eq - arg));
            flag[eq - arg] = '\0';
            value = eq + 1;
        } else if (strncmp(arg, "--", 2) == 0 && strlen(arg) < sizeof flag && i + 1 < argc) {
            strcpy(flag, arg);
            value = argv[++i];
        } else {
            fprintf(stderr, "%s: unknown or incomplete argument \"%s\"\n", prog, arg);
            usage(stderr);
            return 2;
        }
        int64_t threads = 0;
        bool ok = strcmp(flag, "--data") == 0            ? (o->data = value, true)
                  : strcmp(flag, "--steps") == 0         ? parse_int(flag, value, 0, &o->steps)
                  : strcmp(flag, "--batch") == 0         ? parse_int(flag, value, 1, &o->batch)
                  : strcmp(flag, "--context") == 0       ? parse_int(flag, value, 1, &o->context)
                  : strcmp(flag, "--width") == 0         ? parse_int(flag, value, 1, &o->width)
                  : strcmp(flag, "--layers") == 0        ? parse_int(flag, value, 1, &o->layers)
                  : strcmp(flag, "--heads") == 0         ? parse_int(flag, value, 1, &o->heads)
                  : strcmp(flag, "--dropout") == 0       ? parse_double(flag, value, 0, 1, true, &o->dropout)
                  : strcmp(flag, "--lr") == 0            ? parse_double(flag, value, 0, INFINITY, true, &o->lr)
                  : strcmp(flag, "--weight-decay") == 0  ? parse_double(flag, value, 0, INFINITY, true, &o->weight_decay)
                  : strcmp(flag, "--warmup") == 0        ? parse_int(flag, value, 0, &o->warmup)
                  : strcmp(flag, "--clip") == 0          ? parse_double(flag, value, 0, INFINITY, true, &o->clip)
                  : strcmp(flag, "--eval-every") == 0    ? parse_int(flag, value, 1, &o->eval_every)
                  : strcmp(flag, "--eval-batches") == 0  ? parse_int(flag, value, 1, &o->eval_batches)
                  : strcmp(flag, "--eval-windows") == 0  ? parse_int(flag, value, 0, &o->eval_windows)
                  : strcmp(flag, "--seed") == 0          ? parse_int(flag, value, 0, &o->seed)
                  : strcmp(flag, "--threads") == 0       ? parse_int(flag, value, 1, &threads) && (o->threads = (int)threads)
                  : strcmp(flag, "--device") == 0        ? parse_device(value, &o->device)
                  : strcmp(flag, "--load") == 0          ? (o->load = value, true)
                  : strcmp(flag, "--save") == 0          ? (o->save = value, true)
                  : strcmp(flag, "--save-every") == 0    ? parse_int(flag, value, 1, &o->save_every)
                  : strcmp(flag, "--stop-after") == 0    ? parse_int(flag, value, 1, &o->stop_after)
                  : strcmp(flag, "--amp") == 0           ? parse_amp(flag, value, &o->amp)
                  : strcmp(flag, "--log") == 0           ? (o->log = value, true)
                  : strcmp(flag, "--prompt") == 0        ? (o->prompt = value, true)
                  : strcmp(flag, "--temperature") == 0   ? parse_double(flag, value, 1e-6, INFINITY, true, &o->temperature)
                  : strcmp(flag, "--top-k") == 0         ? parse_int(flag, value, 0, &o->top_k)
                  : strcmp(flag, "--sample-chars") == 0  ? parse_int(flag, value, 0, &o->sample_chars)
                                                         : (fprintf(stderr, "%s: unknown option %s\n", prog, flag), false);
        if (!ok) {
            usage(stderr);
            return 2;
        }
    }
    if (o->width % o->heads != 0) {
        fprintf(stderr, "%s: --width %lld is not divisible by --heads %lld\n", prog, (long long)o->width,
                (long long)o->heads);
        return 2;
    }
    if ((o->save_every || o->stop_after) && !o->save) {
        fprintf(stderr, "%s: %s writes the checkpoint named by --save: give --save FILE too\n", prog,
                o->save_every ? "--save-every" : "--stop-after");
        return 2;
    }
    if (o->replay && o->device.type != NB_CUDA) {
        fprintf(stderr, "%s: --replay captures CUDA work: it needs --device cuda\n", prog);
        return 2;
    }
    return 0;
}

/* ---------------------------------------------------------------- training */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* nanoGPT's schedule: a linear warm-up over warmup steps (from 1% of the rate), then a cosine
 * down to a tenth of it at the last step: torch's SequentialLR of LinearLR and CosineAnnealingLR
 * (nb_lr_schedule's WARMUP_COSINE). */
static nb_lr_schedule schedule_of(const gpt_options *o)
{
    const int64_t warmup = o->warmup < o->steps ? o->warmup : (o->steps > 0 ? o->steps - 1 : 0);
    return (nb_lr_schedule){.kind = NB_LR_WARMUP_COSINE, .start_factor = 0.01, .warmup_steps = warmup,
                            .total_steps = o->steps > warmup ? o->steps : warmup + 1, .eta_min = o->lr / 10};
}

/* AdamW's two groups, as nanoGPT makes them: the matrices of the blocks decay; the embeddings,
 * biases and LayerNorm weights do not. */
static nb_optimizer *optimizer_of(const gpt_model *m, const gpt_options *o, nb_params *decay, nb_params *rest)
{
    for (int i = 0; i < nb_params_count(m->params); i++) {
        nb_tensor *t = nb_params_get(m->params, i);
        const char *name = nb_params_name(m->params, i);
        const bool embedding = strncmp(name, "wte.", 4) == 0 || strncmp(name, "wpe.", 4) == 0;
        nb_params_add(nb_ndim(t) == 2 && !embedding ? decay : rest, t);
    }
    const nb_param_group groups[2] = {{decay, -1, o->weight_decay}, {rest, -1, 0.0}};
    return nb_adamw_new_groups(2, groups, (nb_adam_options){.lr = o->lr, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8});
}

/* The batch tensors a step reads: filled before each step (a replayed step reads them in place). */
typedef struct step_inputs {
    nb_tensor *x, *y; /* int64 (batch, context) on the device */
} step_inputs;

/* The mean loss of (x, y), under autocast with --amp (the loss itself comes out in float32). */
static nb_tensor *loss_of(gpt_model *m, const gpt_options *o, const nb_tensor *x, const nb_tensor *y)
{
    if (o->amp == NB_FLOAT32) return gpt_loss(m, x, y);
    if (nb_autocast_begin(o->device.type, o->amp) != NB_OK) return NULL;
    nb_tensor *loss = gpt_loss(m, x, y);
    nb_autocast_end();
    return loss;
}

/* One training step (zero the gradients in place, forward, backward, clipping, AdamW); with a
 * scaler (--amp fp16) the loss is scaled, the gradients unscaled before clipping, and a step with
 * an Inf or NaN gradient skipped (all decided on the device). Returns its loss, kept out of its
 * scope (the caller releases it), or NULL when an op failed. Nothing in it reads a value back to
 * the host, so it can be captured and replayed. */
static nb_tensor *train_step(gpt_model *m, nb_optimizer *opt, nb_grad_scaler *scaler, const step_inputs *in,
                             const gpt_options *o)
{
    nb_scope_begin();
    nb_params_zero_grad(m->params);
    nb_tensor *loss = loss_of(m, o, in->x, in->y);
    bool ok = loss && nb_backward(scaler ? nb_grad_scaler_scale(scaler, loss) : loss) == NB_OK &&
              (!scaler || nb_grad_scaler_unscale_(scaler, opt) == NB_OK) &&
              (o->clip == 0 || nb_clip_grad_norm_tensor_(m->params, o->clip, 2.0) != NULL) &&
              (scaler ? nb_grad_scaler_step(scaler, opt) == NB_OK && nb_grad_scaler_update(scaler) == NB_OK
                      : nb_optimizer_step(opt) == NB_OK);
    if (ok) nb_keep(loss);
    return nb_scope_end() == NB_OK && ok ? loss : NULL;
}

/* Copies a fresh batch into in (drawn from the training part). */
static bool next_batch(const text_data *d, const gpt_options *o, step_inputs *in)
{
    nb_scope_begin();
    nb_tensor *x, *y;
    bool ok = text_batch(d, false, o->batch, o->context, o->device, &x, &y) && nb_copy_(in->x, x) &&
              nb_copy_(in->y, y);
    return nb_scope_end() == NB_OK && ok;
}

/* The mean loss over o->eval_batches batches of one part, in eval mode without gradients. */
static double estimate(gpt_model *m, const text_data *d, const gpt_options *o, bool val)
{
    nb_module_train(m->root, false);
    nb_no_grad_begin();
    double sum = 0;
    for (int64_t b = 0; b < o->eval_batches && !isnan(sum); b++) {
        nb_scope_begin();
        nb_tensor *x, *y;
        sum = text_batch(d, val, o->batch, o->context, o->device, &x, &y) ? sum + nb_item(loss_of(m, o, x, y)) : NAN;
        if (nb_scope_end() != NB_OK) sum = NAN;
    }
    nb_no_grad_end();
    nb_module_train(m->root, true);
    return sum / (double)o->eval_batches;
}

/* The mean loss over the first o->eval_windows consecutive, non-overlapping windows of the
 * validation part (as many as it holds when fewer; *windows says how many), batch windows at a
 * time, in eval mode without gradients: each batch's mean loss weighted by its windows. */
static double evaluate_windows(gpt_model *m, const text_data *d, const gpt_options *o, int64_t *windows)
{
    const int64_t fit = (text_part_length(d, true) - 1) / o->context;
    const int64_t n = o->eval_windows < fit ? o->eval_windows : fit;
    *windows = n;
    nb_module_train(m->root, false);
    nb_no_grad_begin();
    double sum = 0;
    for (int64_t first = 0; first < n && !isnan(sum); first += o->batch) {
        const int64_t count = n - first < o->batch ? n - first : o->batch;
        nb_scope_begin();
        nb_tensor *x, *y;
        sum = text_windows(d, true, first, count, o->context, o->device, &x, &y)
                  ? sum + (double)count * nb_item(gpt_loss(m, x, y))
                  : NAN;
        if (nb_scope_end() != NB_OK) sum = NAN;
    }
    nb_no_grad_end();
    nb_module_train(m->root, true);
    return sum / (double)n;
}

/* ---------------------------------------------------------------- the log */

typedef struct csv_log {
    FILE *f;
    char *tmp;
} csv_log;

static bool log_open(csv_log *log, const char *path)
{
    *log = (csv_log){0};
    if (!path) return true;
    log->tmp = malloc(strlen(path) + 5);
    if (log->tmp) sprintf(log->tmp, "%s.tmp", path);
    log->f = log->tmp ? fopen(log->tmp, "w") : NULL;
    if (!log->f) {
        fprintf(stderr, "%s: cannot write the log %s: %s\n", prog, path, strerror(errno));
        free(log->tmp);
        return false;
    }
    fprintf(log->f, "step,train_loss,val_loss\n");
    return true;
}

/* val NAN: an empty field */
static void log_row(csv_log *log, int64_t step, double train, double val)
{
    if (!log->f) return;
    fprintf(log->f, "%lld,%.6f,", (long long)step, train);
    if (!isnan(val)) fprintf(log->f, "%.6f", val);
    fputc('\n', log->f);
}

/* Written to PATH.tmp and renamed over path when complete (keep), else removed. */
static bool log_close(csv_log *log, const char *path, bool keep)
{
    if (!log->f) return true;
    bool ok = !ferror(log->f);
    ok = fclose(log->f) == 0 && ok;
    if (ok && keep) ok = rename(log->tmp, path) == 0;
    if (!ok || !keep) remove(log->tmp);
    if (!ok) fprintf(stderr, "%s: cannot write the log %s\n", prog, path);
    free(log->tmp);
    return ok;
}

/* ---------------------------------------------------------------- sampling */

/* Prints the prompt and o->sample_chars characters drawn one at a time from the model's
 * next-character distribution (temperature, top-k), in eval mode without gradients. */
static bool generate(gpt_model *m, const text_data *d, const gpt_options *o)
{
    const int64_t cap = (int64_t)strlen(o->prompt) + o->sample_chars + 1;
    int64_t *tokens = malloc((size_t)cap * sizeof *tokens); /* (cap,) the text so far */
    if (!tokens) return fprintf(stderr, "%s: out of memory\n", prog), false;
    int64_t n = text_encode(prog, d, o->prompt, tokens, cap);
    if (n < 0) return free(tokens), false;
    if (n == 0) tokens[n++] = text_token_of(d, '\n') >= 0 ? text_token_of(d, '\n') : 0;
    printf("sample:\n");
    for (int64_t i = 0; i < n; i++) text_put(stdout, d, tokens[i]);
    nb_module_train(m->root, false);
    nb_no_grad_begin();
    bool ok = true;
    for (int64_t i = 0; i < o->sample_chars && ok; i++) {
        nb_scope_begin();
        const int64_t t = n < o->context ? n : o->context; /* the last context characters */
        nb_tensor *window = nb_to(nb_from_array(tokens + n - t, NB_SHAPE(1, t), NB_OPTS(NB_INT64)), o->device);
        nb_tensor *logits = nb_select(nb_select(gpt_forward(m, window), 0, 0), 0, t - 1); /* (vocab,) */
        logits = nb_div_scalar(logits, o->temperature);
        if (o->top_k > 0 && o->top_k < d->nvocab) { /* keep the k likeliest: the rest -inf */
            nb_tensor *values = NULL, *indices = NULL;
            nb_topk(logits, o->top_k, 0, true, true, &values, &indices);
            logits = nb_masked_fill(logits, nb_lt(logits, nb_select(values, 0, o->top_k - 1)), -INFINITY);
        }
        double next = nb_item(nb_multinomial(nb_softmax(logits, 0), 1, true));
        ok = nb_scope_end() == NB_OK && !isnan(next);
        if (ok) {
            tokens[n++] = (int64_t)next;
            text_put(stdout, d, tokens[n - 1]);
        }
    }
    nb_no_grad_end();
    nb_module_train(m->root, true);
    printf("\n");
    free(tokens);
    if (!ok) fprintf(stderr, "%s: sampling failed: %s\n", prog, nb_last_error());
    return ok;
}

/* ---------------------------------------------------------------- main */

static int64_t count_parameters(const nb_params *p)
{
    int64_t n = 0;
    for (int i = 0; i < nb_params_count(p); i++) n += nb_numel(nb_params_get(p, i));
    return n;
}

/* The training state a checkpoint holds: the parameters by name, AdamW's state (and its schedule
 * step), the generator (inside nb_checkpoint) and the steps taken, in *step. Without opt (an
 * evaluation), the parameters alone. */
static nb_checkpoint checkpoint_of(gpt_model *m, nb_optimizer *opt, nb_grad_scaler *scaler, double *step)
{
    static const char *const names[1] = {"step"};
    if (!opt) return (nb_checkpoint){.state = m->params};
    return (nb_checkpoint){.state = m->params, .optimizer = opt, .scaler = scaler, .nscalars = 1,
                           .scalar_names = names, .scalars = step};
}

static bool save_checkpoint(gpt_model *m, nb_optimizer *opt, nb_grad_scaler *scaler, int64_t steps_done,
                            const char *path)
{
    double step = (double)steps_done;
    nb_checkpoint c = checkpoint_of(m, opt, scaler, &step);
    if (nb_checkpoint_save(path, &c) == NB_OK) return true;
    fprintf(stderr, "%s: cannot save the checkpoint: %s\n", prog, nb_last_error());
    return false;
}

/* Restores --load: the whole training state when this run trains, the weights alone when it only
 * evaluates (--steps 0, which also reads weights saved by PyTorch). The steps already taken go
 * into *start. */
static bool load_checkpoint(gpt_model *m, nb_optimizer *opt, nb_grad_scaler *scaler, const gpt_options *o,
                            int64_t *start)
{
    double step = 0;
    nb_checkpoint c = checkpoint_of(m, o->steps > 0 ? opt : NULL, scaler, &step);
    if (nb_checkpoint_load(o->load, &c) != NB_OK) {
        fprintf(stderr, "%s: cannot load the checkpoint: %s\n", prog, nb_last_error());
        return false;
    }
    *start = (int64_t)step;
    if (*start > 0) printf("resuming from %s at step %lld\n", o->load, (long long)*start);
    return true;
}

/* Runs the training loop, from the step --load restores; *stopped when --stop-after ended it
 * (its checkpoint written). False after a message. */
static bool train(gpt_model *m, const text_data *d, const gpt_options *o, bool *stopped)
{
    nb_params *decay = nb_params_new(), *rest = nb_params_new();
    nb_optimizer *opt = decay && rest ? optimizer_of(m, o, decay, rest) : NULL;
    const nb_lr_schedule schedule = schedule_of(o);
    /* float16 needs loss scaling (PyTorch's GradScaler defaults); bfloat16 has float32's range */
    nb_grad_scaler *scaler = o->amp == NB_FLOAT16 ? nb_grad_scaler_new((nb_grad_scaler_options){0}) : NULL;
    step_inputs in = {nb_zeros(NB_SHAPE(o->batch, o->context), NB_OPTS(NB_INT64, .device = o->device)),
                      nb_zeros(NB_SHAPE(o->batch, o->context), NB_OPTS(NB_INT64, .device = o->device))};
    csv_log log = {0};
    const bool made = opt && in.x && in.y && (o->amp != NB_FLOAT16 || scaler);
    if (!made && nb_last_status() != NB_OK) fprintf(stderr, "%s: %s\n", prog, nb_last_error());
    bool ok = made && log_open(&log, o->log);
    nb_graph *graph = NULL;
    nb_tensor *graph_loss = NULL; /* the captured step's loss, rewritten by each replay */
    int64_t start = 0;
    ok = ok && (!o->load || load_checkpoint(m, opt, scaler, o, &start));
    fflush(stdout);
    double window_start = now(), window_loss = 0;
    int64_t window_steps = 0;
    *stopped = false;
    for (int64_t step = start; step < o->steps && ok && !*stopped; step++) {
        ok = nb_optimizer_schedule_step(opt, &schedule, step) == NB_OK;
        ok = ok && next_batch(d, o, &in);
        if (ok && o->replay && step == start + 1 && !graph) { /* an eager step made the gradients and AdamW's state */
            if (nb_graph_capture_begin(o->device) == NB_OK) {
                graph_loss = train_step(m, opt, scaler, &in, o);
                graph = nb_graph_capture_end();
            }
            if (!graph) {
                printf("%s: --replay: this training step cannot be captured (%s); training eagerly instead\n", prog,
                       nb_last_error());
                nb_release(graph_loss);
                graph_loss = NULL;
                nb_clear_error();
            }
        }
        nb_tensor *loss = NULL;
        if (ok && graph) {
            ok = nb_graph_replay(graph) == NB_OK;
            loss = graph_loss;
        } else if (ok) {
            loss = train_step(m, opt, scaler, &in, o);
        }
        double value = ok && loss ? nb_item(loss) : NAN;
        if (!graph) nb_release(loss);
        if (isnan(value)) {
            fprintf(stderr, "%s: step %lld failed: %s\n", prog, (long long)step + 1,
                    nb_last_status() != NB_OK ? nb_last_error() : "the loss is NaN");
            ok = false;
            break;
        }
        window_loss += value;
        window_steps++;
        const bool last = step + 1 == o->steps;
        double val = NAN;
        if ((step + 1) % 10 == 0 || last) {
            double elapsed = now() - window_start;
            printf("step %lld/%lld: loss %.4f, %.0f tokens/s, %.1f ms/step\n", (long long)step + 1,
                   (long long)o->steps, window_loss / (double)window_steps,
                   (double)(window_steps * o->batch * o->context) / elapsed, 1e3 * elapsed / (double)window_steps);
            fflush(stdout);
        }
        if ((step + 1) % o->eval_every == 0 && !last) {
            double tr = estimate(m, d, o, false);
            val = estimate(m, d, o, true);
            printf("step %lld: train loss %.4f, val loss %.4f\n", (long long)step + 1, tr, val);
            fflush(stdout);
        }
        if ((step + 1) % 10 == 0 || last || !isnan(val)) {
            window_start = now(); /* estimates are not training time */
            window_loss = 0;
            window_steps = 0;
        }
        log_row(&log, step + 1, value, val);
        *stopped = o->stop_after > 0 && step + 1 - start == o->stop_after && !last;
        bool save = *stopped || (o->save_every > 0 && (step + 1) % o->save_every == 0) || (last && o->save);
        if (save && !save_checkpoint(m, opt, scaler, step + 1, o->save)) ok = false;
        if (*stopped)
            printf("stopped after %lld steps of this run, at step %lld: checkpoint written to %s\n",
                   (long long)o->stop_after, (long long)step + 1, o->save);
    }
    if (ok && o->save && start >= o->steps) /* a checkpoint with nothing left to train */
        ok = save_checkpoint(m, opt, scaler, start, o->save);
    nb_release(graph_loss);
    nb_graph_release(graph);
    nb_grad_scaler_free(scaler);
    nb_optimizer_free(opt);
    nb_params_free(decay);
    nb_params_free(rest);
    nb_release(in.x);
    nb_release(in.y);
    return log_close(&log, o->log, ok) && ok;
}

int main(int argc, char **argv)
{
    gpt_options o = defaults;
    switch (parse_args(argc, argv, &o)) {
    case 0: break;
    case 1: return 0;
    default: return 2;
    }
    if (o.threads > 0) nb_set_num_threads(o.threads);
    printf("%s\n", nb_config_string());
    nb_clear_error();
    nb_tensor *probe = nb_zeros(NB_SHAPE(1), NB_OPTS(NB_FLOAT32, .device = o.device));
    if (!probe) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        return 1;
    }
    nb_release(probe);

    text_data d;
    if (!text_load(prog, o.data, &d)) return 1;
    printf("text: %s: %lld characters, a vocabulary of %lld; %lld to train on, %lld to validate\n", o.data,
           (long long)d.n, (long long)d.nvocab, (long long)d.n_train, (long long)(d.n - d.n_train));
    if (text_part_length(&d, true) <= o.context) {
        fprintf(stderr, "%s: the validation part (%lld characters) is not longer than the context (%lld)\n", prog,
                (long long)text_part_length(&d, true), (long long)o.context);
        text_free(&d);
        return 1;
    }

    /* a prompt the vocabulary cannot spell is refused before training, not after */
    int64_t *prompt = malloc((strlen(o.prompt) + 1) * sizeof *prompt);
    int64_t prompt_len = prompt ? text_encode(prog, &d, o.prompt, prompt, (int64_t)strlen(o.prompt) + 1) : -1;
    free(prompt);
    if (prompt_len < 0) {
        text_free(&d);
        return 1;
    }

    nb_manual_seed((uint64_t)o.seed);
    gpt_config cfg = {.vocab = d.nvocab, .context = o.context, .width = o.width, .layers = o.layers,
                      .heads = o.heads, .dropout = o.dropout, .dtype = NB_FLOAT32, .device = o.device};
    gpt_model *m = gpt_model_new(prog, cfg);
    int status = 1;
    if (!m) goto done;
    printf("model: %lld layers, %lld heads, width %lld, context %lld: %lld parameters\n", (long long)o.layers,
           (long long)o.heads, (long long)o.width, (long long)o.context, (long long)count_parameters(m->params));
    if (o.amp != NB_FLOAT32)
        printf("mixed precision: autocast to %s%s\n", o.amp == NB_BFLOAT16 ? "bfloat16" : "float16",
               o.amp == NB_FLOAT16 ? " with loss scaling" : "");
    fflush(stdout);
    bool stopped;
    if (!train(m, &d, &o, &stopped)) goto done;
    if (stopped) {
        status = 0;
        goto done;
    }
    double tr = estimate(m, &d, &o, false), val = estimate(m, &d, &o, true);
    if (isnan(tr) || isnan(val)) {
        fprintf(stderr, "%s: evaluation failed: %s\n", prog, nb_last_error());
        goto done;
    }
    printf("train loss: %.4f\nvalidation loss: %.4f\n", tr, val);
    if (o.eval_windows > 0) {
        int64_t windows;
        double exact = evaluate_windows(m, &d, &o, &windows);
        if (isnan(exact)) {
            fprintf(stderr, "%s: evaluation failed: %s\n", prog, nb_last_error());
            goto done;
        }
        printf("val loss (first %lld windows): %.6f\n", (long long)windows, exact);
    }
    if (o.save) printf("checkpoint written to %s: %d parameters and AdamW's state\n", o.save,
                       nb_params_count(m->params));
    if (generate(m, &d, &o)) status = 0;
done:
    gpt_model_free(m);
    text_free(&d);
    return status;
}
