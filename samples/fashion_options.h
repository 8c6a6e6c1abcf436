/* fashion_options.h — the command line of the fashion_mnist sample. */
#ifndef NB_SAMPLES_FASHION_OPTIONS_H
#define NB_SAMPLES_FASHION_OPTIONS_H

#include <nabla.h>

typedef struct fashion_options {
    bool cnn;              /* the convolutional sample: --weight-decay instead of --hidden, --momentum */
    const char *data_dir;  /* --data DIR: where the four IDX files are */
    int64_t hidden;        /* --hidden N: width of the hidden layer */
    int epochs;            /* --epochs N: passes over the training set; 0 only evaluates */
    double lr;             /* --lr F: SGD's learning rate */
    double momentum;       /* --momentum F: SGD's momentum, in [0, 1) */
    double weight_decay;   /* --weight-decay F: AdamW's decoupled weight decay (cnn) */
    int64_t batch;         /* --batch N: rows per step */
    int64_t seed;          /* --seed N: nb_manual_seed (initial weights and shuffling) */
    int threads;           /* --threads N: nb_set_num_threads; 0 keeps nabla's default */
    nb_device device;      /* --device cpu | cuda | cuda:N */
    const char *save_path; /* --save FILE: a checkpoint of the training state (nb_checkpoint) */
    const char *load_path; /* --load FILE: a checkpoint to resume from */
    int64_t save_every;    /* --save-every N: also save every N steps; 0: at the end only */
    int64_t stop_after;    /* --stop-after N: end after N steps of this run (saving); 0: no limit */
    nb_dtype amp;          /* --amp bf16|fp16: autocast's dtype (fp16 with a gradient scaler); float32: off */
    const char *log_path;  /* --log FILE: a CSV "step,loss" of every step */
    int64_t train_size;    /* --train-size N: train on the first N images only; 0: all */
    int64_t test_size;     /* --test-size N: evaluate on the first N test images only; 0: all */
} fashion_options;

typedef enum fashion_parse_result {
    FASHION_PARSE_OK,   /* run */
    FASHION_PARSE_HELP, /* --help: usage printed on stdout, exit 0 */
    FASHION_PARSE_BAD,  /* a bad argument: message and usage printed on stderr, exit 2 */
} fashion_parse_result;

#define FASHION_EXIT_USAGE 2

/* The defaults: 784-256-10, SGD lr 0.03 momentum 0.9, batch 128, 3 epochs, seed 0, the CPU. */
fashion_options fashion_default_options(void);
/* fashion_cnn's: AdamW lr 1e-3 weight decay 1e-2, batch 128, 5 epochs, seed 0, the CPU. */
fashion_options fashion_cnn_default_options(void);
/* Parses argv into opts, which holds the defaults on entry; prog names the program in messages. */
fashion_parse_result fashion_parse_args(const char *prog, int argc, char **argv, fashion_options *opts);

#endif /* NB_SAMPLES_FASHION_OPTIONS_H */
