/* common.h — what the samples share: their command line (--data, --out, --iters, --lr,
 * --device, --replay), loading and shape-checking the two-layer network's data (x, y, w1, w2) from .npy
 * files or drawing it at random, moving it to a device, and writing the results. Samples use
 * only the public API (nabla.h). */
#ifndef NB_SAMPLES_COMMON_H
#define NB_SAMPLES_COMMON_H

#include <nabla.h>

/* The seed's sizes: batch, input, hidden and output widths. */
#define SAMPLE_N 64
#define SAMPLE_D_IN 1000
#define SAMPLE_H 100
#define SAMPLE_D_OUT 10

typedef struct sample_options {
    const char *prog;     /* the program's name, first word of every message */
    const char *data_dir; /* --data DIR: load DIR/{x,y,w1,w2}.npy; NULL draws them */
    const char *out_dir;  /* --out DIR: write DIR/{w1,w2,losses}.npy; NULL writes nothing */
    int iters;            /* --iters N, N >= 1 */
    double lr;            /* --lr F, finite */
    nb_device device;     /* --device cpu | cuda | cuda:N */
    bool takes_replay;    /* the sample offers --replay */
    bool takes_dtype;     /* the sample offers --dtype (read by the sample itself; listed in the usage) */
    bool replay;          /* --replay: capture one step into a CUDA graph and replay it */
} sample_options;

typedef enum sample_parse_result {
    SAMPLE_PARSE_OK,   /* run the sample */
    SAMPLE_PARSE_HELP, /* --help: usage printed on stdout, exit 0 */
    SAMPLE_PARSE_BAD,  /* a bad argument: message and usage printed on stderr, exit 2 */
} sample_parse_result;

#define SAMPLE_EXIT_USAGE 2 /* exit status for a bad command line */

/* "cpu", "cuda" or "cuda:N" into *out; false for anything else. */
bool sample_parse_device(const char *s, nb_device *out);
/* --amp's value: "bf16" or "fp16" into *out (NB_BFLOAT16, NB_FLOAT16); false for anything else. */
bool sample_parse_amp(const char *s, nb_dtype *out);
/* Parses argv into opts, which holds the defaults on entry. */
sample_parse_result sample_parse_args(int argc, char **argv, sample_options *opts);

/* The two-layer network's tensors, all float32. */
typedef struct sample_mlp_data {
    nb_tensor *x;  /* (N, D_in) */
    nb_tensor *y;  /* (N, D_out) */
    nb_tensor *w1; /* (D_in, H) */
    nb_tensor *w2; /* (H, D_out) */
} sample_mlp_data;

/* Loads dir/x.npy, y.npy, w1.npy and w2.npy and checks they are float32 matrices of consistent
 * shapes. On failure prints a message naming the file and the shapes on stderr, releases what
 * it loaded and returns false. */
bool sample_load_mlp(const char *prog, const char *dir, sample_mlp_data *data);
/* Draws x, y, w1, w2 with nb_randn at the given sizes, in that order, after nb_manual_seed(0). */
bool sample_random_mlp(const char *prog, int64_t n, int64_t d_in, int64_t h, int64_t d_out,
                       sample_mlp_data *data);
/* Moves the four tensors to device (nb_to); on failure prints nabla's message and returns false. */
bool sample_mlp_to(const char *prog, sample_mlp_data *data, nb_device device);
void sample_mlp_release(sample_mlp_data *data);

/* Writes dir/w1.npy, dir/w2.npy (copied to the CPU) and dir/losses.npy ((iters,) float32),
 * creating dir if needed. On failure prints a message naming the file and returns false. */
bool sample_save_results(const char *prog, const char *dir, const nb_tensor *w1,
                         const nb_tensor *w2, const float *losses, int iters);

/* What the seed-loop samples (mlp_manual, mlp_autograd) do before their loop: parse the command
 * line, load --data or draw the seed's data, move it to --device, allocate *losses (iters,).
 * Returns -1 to go on, or the exit status to end with. */
int sample_mlp_begin(int argc, char **argv, sample_options *opts, sample_mlp_data *data, float **losses);
/* And after it: when status is 0, print the final loss and write --out; then free everything.
 * Returns the exit status. */
int sample_mlp_end(const sample_options *opts, sample_mlp_data *data, float *losses, int status);

#endif /* NB_SAMPLES_COMMON_H */
