/* fashion_options.c — parsing fashion_mnist's flags: "--flag VALUE" or "--flag=VALUE", each value
 * checked against its range, with a message naming the flag and what it expects. */
#include "fashion_options.h"
#include "common.h"
#include "fashion_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fashion_options fashion_default_options(void)
{
    return (fashion_options){
        .data_dir = FASHION_DEFAULT_DIR,
        .hidden = 256,
        .epochs = 3,
        .lr = 0.03,
        .momentum = 0.9,
        .batch = 128,
        .seed = 0,
        .threads = 0,
        .device = NB_DEVICE_CPU,
        .amp = NB_FLOAT32,
    };
}

fashion_options fashion_cnn_default_options(void)
{
    fashion_options o = fashion_default_options();
    o.cnn = true;
    o.epochs = 5;
    o.lr = 1e-3;
    o.weight_decay = 1e-2;
    return o;
}

static void print_usage(FILE *f, const char *prog, const fashion_options *d)
{
    if (d->cnn) {
        fprintf(f,
                "usage: %s [options]\n"
                "Trains a small convolutional network (conv 3x3 32, BN, ReLU, max-pool 2, conv 3x3 64, BN,\n"
                "ReLU, max-pool 2, linear 128, ReLU, dropout 0.25, linear 10) with AdamW on Fashion-MNIST.\n"
                "  --data DIR          the IDX files' folder (default %s)\n"
                "  --epochs N          passes over the training set; 0 only evaluates (default %d)\n"
                "  --lr F              learning rate (default %g)\n"
                "  --weight-decay F    AdamW's weight decay (default %g)\n"
                "  --batch N           rows per step (default %lld)\n"
                "  --seed N            seed of the initial weights, the shuffling and dropout (default %lld)\n"
                "  --threads N         threads for large ops (default: nabla's, %d here)\n"
                "  --device D          cpu (default), cuda or cuda:N\n"
                "  --load FILE         resume from this checkpoint (with --epochs 0: only evaluate it)\n"
                "  --save FILE         write a checkpoint of the whole training state at the end\n"
                "  --save-every N      also write it every N steps\n"
                "  --stop-after N      stop after N steps of this run, writing the checkpoint (--save)\n"
                "  --amp bf16|fp16     mixed precision: autocast to bfloat16, or float16 with loss scaling\n"
                "  --log FILE          write every step's loss as CSV (step,loss)\n"
                "  --train-size N      train on the first N training images (default: all)\n"
                "  --test-size N       evaluate on the first N test images (default: all)\n",
                prog, d->data_dir, d->epochs, d->lr, d->weight_decay, (long long)d->batch, (long long)d->seed,
                nb_get_num_threads());
        return;
    }
    fprintf(f,
            "usage: %s [options]\n"
            "Trains a 784-H-10 network (ReLU, cross entropy, SGD with momentum) on Fashion-MNIST.\n"
            "  --data DIR      the IDX files' folder (default %s)\n"
            "  --hidden N      hidden units (default %lld)\n"
            "  --epochs N      passes over the training set; 0 only evaluates (default %d)\n"
            "  --lr F          learning rate (default %g)\n"
            "  --momentum F    SGD momentum, 0 to below 1 (default %g)\n"
            "  --batch N       rows per step (default %lld)\n"
            "  --seed N        seed of the initial weights and the shuffling (default %lld)\n"
            "  --threads N     threads for large ops (default: nabla's, %d here)\n"
            "  --device D      cpu (default), cuda or cuda:N\n"
            "  --load FILE     resume from this checkpoint (with --epochs 0: only evaluate it)\n"
            "  --save FILE     write a checkpoint of the whole training state at the end\n"
            "  --save-every N  also write it every N steps\n"
            "  --stop-after N  stop after N steps of this run, writing the checkpoint (--save)\n"
            "  --amp bf16|fp16 mixed precision: autocast to bfloat16, or float16 with loss scaling\n"
            "  --log FILE      write every step's loss as CSV (step,loss)\n"
            "  --train-size N  train on the first N training images (default: all)\n"
            "  --test-size N   evaluate on the first N test images (default: all)\n",
            prog, d->data_dir, (long long)d->hidden, d->epochs, d->lr, d->momentum, (long long)d->batch,
            (long long)d->seed, nb_get_num_threads());
}

/* A whole number in [min, max]. */
static bool parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

/* A finite number in [min, max) (max excluded when max_open), or [min, max]. */
static bool parse_number(const char *s, double min, double max, bool max_open, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max || (max_open && v == max)) return false;
    *out = v;
    return true;
}

enum flag_id {
    FLAG_DATA, FLAG_HIDDEN, FLAG_EPOCHS, FLAG_LR, FLAG_MOMENTUM, FLAG_BATCH, FLAG_SEED,
    FLAG_THREADS, FLAG_DEVICE, FLAG_LOAD, FLAG_SAVE, FLAG_LOG, FLAG_WEIGHT_DECAY, FLAG_TRAIN_SIZE,
    FLAG_TEST_SIZE, FLAG_SAVE_EVERY, FLAG_STOP_AFTER, FLAG_AMP, FLAG_COUNT
};

typedef struct flag {
    const char *name;
    const char *expected; /* what a bad value is told it should have been */
} flag;

static const flag flags[FLAG_COUNT] = {
    [FLAG_DATA] = {"--data", "a folder"},
    [FLAG_HIDDEN] = {"--hidden", "a whole number from 1 to 1000000"},
    [FLAG_EPOCHS] = {"--epochs", "a whole number from 0 to 10000"},
    [FLAG_LR] = {"--lr", "a number above 0 and at most 100"},
    [FLAG_MOMENTUM] = {"--momentum", "a number from 0 to below 1"},
    [FLAG_BATCH] = {"--batch", "a whole number from 1 to 60000"},
    [FLAG_SEED] = {"--seed", "a whole number from 0 to 9223372036854775807"},
    [FLAG_THREADS] = {"--threads", "a whole number from 1 to 1024"},
    [FLAG_DEVICE] = {"--device", "cpu, cuda or cuda:N"},
    [FLAG_LOAD] = {"--load", "a file"},
    [FLAG_SAVE] = {"--save", "a file"},
    [FLAG_LOG] = {"--log", "a file"},
    [FLAG_WEIGHT_DECAY] = {"--weight-decay", "a number from 0 to 1"},
    [FLAG_TRAIN_SIZE] = {"--train-size", "a whole number from 1 to 60000"},
    [FLAG_TEST_SIZE] = {"--test-size", "a whole number from 1 to 10000"},
    [FLAG_SAVE_EVERY] = {"--save-every", "a whole number of steps from 1 to 9223372036854775807"},
    [FLAG_STOP_AFTER] = {"--stop-after", "a whole number of steps from 1 to 9223372036854775807"},
    [FLAG_AMP] = {"--amp", "bf16 or fp16"},
};

/* Whether a flag belongs to the sample (the MLP's or the CNN's). */
static bool flag_applies(enum flag_id id, const fashion_options *o)
{
    if (id == FLAG_HIDDEN || id == FLAG_MOMENTUM) return !o->cnn;
    if (id == FLAG_WEIGHT_DECAY) return o->cnn;
    return true;
}

/* Stores value into the field of flag id; false when it is out of range. */
static bool set_flag(enum flag_id id, const char *value, fashion_options *o)
{
    int64_t n;
    switch (id) {
    case FLAG_DATA: o->data_dir = value; return true;
    case FLAG_HIDDEN: return parse_int64(value, 1, 1000000, &o->hidden);
    case FLAG_EPOCHS:
        if (!parse_int64(value, 0, 10000, &n)) return false;
        o->epochs = (int)n;
        return true;
    case FLAG_LR: return parse_number(value, 0, 100, false, &o->lr) && o->lr > 0;
    case FLAG_MOMENTUM: return parse_number(value, 0, 1, true, &o->momentum);
    case FLAG_BATCH: return parse_int64(value, 1, 60000, &o->batch);
    case FLAG_SEED: return parse_int64(value, 0, INT64_MAX, &o->seed);
    case FLAG_THREADS:
        if (!parse_int64(value, 1, 1024, &n)) return false;
        o->threads = (int)n;
        return true;
    case FLAG_DEVICE: return sample_parse_device(value, &o->device);
    case FLAG_LOAD: o->load_path = value; return true;
    case FLAG_SAVE: o->save_path = value; return true;
    case FLAG_LOG: o->log_path = value; return true;
    case FLAG_WEIGHT_DECAY: return parse_number(value, 0, 1, false, &o->weight_decay);
    case FLAG_TRAIN_SIZE: return parse_int64(value, 1, 60000, &o->train_size);
    case FLAG_TEST_SIZE: return parse_int64(value, 1, 10000, &o->test_size);
    case FLAG_SAVE_EVERY: return parse_int64(value, 1, INT64_MAX, &o->save_every);
    case FLAG_STOP_AFTER: return parse_int64(value, 1, INT64_MAX, &o->stop_after);
    case FLAG_AMP: return sample_parse_amp(value, &o->amp);
    case FLAG_COUNT: break;
    }
    return false;
}

fashion_parse_result fashion_parse_args(const char *prog, int argc, char **argv, fashion_options *opts)
{
    const fashion_options defaults = *opts;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout, prog, &defaults);
            return FASHION_PARSE_HELP;
        }
        int id = -1;
        const char *value = NULL;
        for (int k = 0; k < FLAG_COUNT && id < 0; k++) {
            if (!flag_applies((enum flag_id)k, &defaults)) continue;
            size_t len = strlen(flags[k].name);
            if (strncmp(arg, flags[k].name, len) != 0) continue;
            if (arg[len] == '=') {
                id = k;
                value = arg + len + 1;
            } else if (arg[len] == '\0') {
                id = k;
                value = i + 1 < argc ? argv[++i] : NULL;
            }
        }
        if (id < 0) {
            fprintf(stderr, "%s: unknown argument '%s'\n", prog, arg);
            goto bad;
        }
        if (!value || !*value) {
            fprintf(stderr, "%s: %s needs a value (%s)\n", prog, flags[id].name, flags[id].expected);
            goto bad;
        }
        if (!set_flag((enum flag_id)id, value, opts)) {
            fprintf(stderr, "%s: bad value '%s' for %s: expected %s\n", prog, value, flags[id].name,
                    flags[id].expected);
            goto bad;
        }
    }
    if ((opts->save_every || opts->stop_after) && !opts->save_path) {
        fprintf(stderr, "%s: %s writes the checkpoint named by --save: give --save FILE too\n", prog,
                opts->save_every ? "--save-every" : "--stop-after");
        goto bad;
    }
    return FASHION_PARSE_OK;
bad:
    print_usage(stderr, prog, &defaults);
    return FASHION_PARSE_BAD;
}
