/* common.c — the samples' shared command line, data loading and shape checks, and output. */
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- command line */

static void print_usage(FILE *f, const sample_options *defaults)
{
    fprintf(f,
            "usage: %s [--data DIR] [--out DIR] [--iters N] [--lr F] [--device cpu|cuda[:N]]%s%s\n"
            "  --data DIR    load DIR/x.npy, y.npy, w1.npy, w2.npy (float32) instead of drawing them\n"
            "  --out DIR     write DIR/w1.npy, DIR/w2.npy and DIR/losses.npy (every step's loss)\n"
            "  --iters N     training steps (default %d)\n"
            "  --lr F        learning rate (default %g)\n"
            "  --device D    cpu (default) or cuda[:N]\n"
            "%s%s",
            defaults->prog, defaults->takes_replay ? " [--replay]" : "",
            defaults->takes_dtype ? "\n       [--dtype float32|float64|float16|bfloat16]" : "", defaults->iters,
            defaults->lr,
            defaults->takes_replay
                ? "  --replay      on cuda, capture one step into a CUDA graph and replay it for the rest\n"
                : "",
            defaults->takes_dtype ? "  --dtype T     train in dtype T (default float32)\n" : "");
}

static bool parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 1000000000) return false;
    *out = (int)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

bool sample_parse_amp(const char *s, nb_dtype *out)
{
    if (strcmp(s, "bf16") == 0) return *out = NB_BFLOAT16, true;
    if (strcmp(s, "fp16") == 0) return *out = NB_FLOAT16, true;
    return false;
}

bool sample_parse_device(const char *s, nb_device *out)
{
    if (strcmp(s, "cpu") == 0) {
        *out = NB_DEVICE_CPU;
        return true;
    }
    if (strcmp(s, "cuda") == 0) {
        *out = NB_DEVICE_CUDA(0);
        return true;
    }
    if (strncmp(s, "cuda:", 5) == 0) {
        char *end;
        errno = 0;
        long i = strtol(s + 5, &end, 10);
        if (errno || end == s + 5 || *end || i < 0 || i > 1023) return false;
        *out = NB_DEVICE_CUDA((int)i);
        return true;
    }
    return false;
}

sample_parse_result sample_parse_args(int argc, char **argv, sample_options *opts)
{
    const sample_options defaults = *opts;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout, &defaults);
            return SAMPLE_PARSE_HELP;
        }
        if (opts->takes_replay && strcmp(arg, "--replay") == 0) {
            opts->replay = true;
            continue;
        }
        /* every other option takes a value: "--opt VALUE" or "--opt=VALUE" */
        const char *names[] = {"--data", "--out", "--iters", "--lr", "--device"};
        int which = -1;
        const char *value = NULL;
        for (int k = 0; k < 5 && which < 0; k++) {
            size_t len = strlen(names[k]);
            if (strncmp(arg, names[k], len) != 0) continue;
            if (arg[len] == '=') {
                which = k;
                value = arg + len + 1;
            } else if (arg[len] == '\0') {
                which = k;
                value = i + 1 < argc ? argv[++i] : NULL;
            }
        }
        if (which < 0) {
            fprintf(stderr, "%s: unknown argument '%s'\n", defaults.prog, arg);
            goto bad;
        }
        if (!value || !*value) {
            fprintf(stderr, "%s: %s needs a value\n", defaults.prog, names[which]);
            goto bad;
        }
        bool ok = true;
        switch (which) {
        case 0: opts->data_dir = value; break;
        case 1: opts->out_dir = value; break;
        case 2: ok = parse_int(value, &opts->iters); break;
        case 3: ok = parse_double(value, &opts->lr); break;
        case 4: ok = sample_parse_device(value, &opts->device); break;
        }
        if (!ok) {
            static const char *expected[] = {"", "", "a whole number from 1 to 1000000000",
                                             "a finite number", "cpu, cuda or cuda:N"};
            fprintf(stderr, "%s: bad value '%s' for %s: expected %s\n", defaults.prog, value,
                    names[which], expected[which]);
            goto bad;
        }
    }
    if (opts->replay && opts->device.type != NB_CUDA) {
        fprintf(stderr, "%s: --replay needs --device cuda: it replays GPU work captured into a CUDA graph\n",
                defaults.prog);
        goto bad;
    }
    return SAMPLE_PARSE_OK;
bad:
    print_usage(stderr, &defaults);
    return SAMPLE_PARSE_BAD;
}

/* ---------------------------------------------------------------- data */

static void path_join(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s.npy", dir, name);
}

/* Loads dir/name.npy and checks it is a float32 matrix; what says what its dims mean. */
static nb_tensor *load_matrix(const char *prog, const char *dir, const char *name, const char *what)
{
    char path[4096];
    path_join(path, sizeof path, dir, name);
    nb_clear_error();
    nb_tensor *t = nb_load_npy(path);
    if (!t) {
        fprintf(stderr, "%s: cannot load %s: %s\n", prog, path, nb_last_error());
        return NULL;
    }
    char shape[160];
    nb_shape_string(t, shape, sizeof shape);
    if (nb_dtype_of(t) != NB_FLOAT32 || nb_ndim(t) != 2) {
        fprintf(stderr, "%s: %s holds a %s tensor of shape %s; expected a float32 matrix %s\n", prog,
                path, nb_dtype_name(nb_dtype_of(t)), shape, what);
        nb_release(t);
        return NULL;
    }
    return t;
}

/* One consistency rule: dim da of a (file fa) equals dim db of b (file fb); dim names what it is. */
typedef struct shape_rule {
    int a, da, b, db;
    const char *dim;
} shape_rule;

bool sample_load_mlp(const char *prog, const char *dir, sample_mlp_data *data)
{
    static const char *names[4] = {"x", "y", "w1", "w2"};
    static const char *whats[4] = {"(N, D_in)", "(N, D_out)", "(D_in, H)", "(H, D_out)"};
    nb_tensor *t[4] = {0};
    *data = (sample_mlp_data){0};
    for (int k = 0; k < 4; k++) {
        t[k] = load_matrix(prog, dir, names[k], whats[k]);
        if (!t[k]) goto fail;
    }
    static const shape_rule rules[] = {
        {1, 0, 0, 0, "N"},     /* y's rows are x's rows */
        {2, 0, 0, 1, "D_in"},  /* w1's rows are x's columns */
        {3, 0, 2, 1, "H"},     /* w2's rows are w1's columns */
        {3, 1, 1, 1, "D_out"}, /* w2's columns are y's columns */
    };
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        const shape_rule *q = &rules[r];
        int64_t va = nb_size(t[q->a], q->da), vb = nb_size(t[q->b], q->db);
        if (va == vb) continue;
        char pa[4096], pb[4096], sa[160], sb[160];
        path_join(pa, sizeof pa, dir, names[q->a]);
        path_join(pb, sizeof pb, dir, names[q->b]);
        fprintf(stderr,
                "%s: inconsistent shapes: %s is %s %s but %s is %s %s: %s differs (%lld vs %lld)\n",
                prog, pa, nb_shape_string(t[q->a], sa, sizeof sa), whats[q->a], pb,
                nb_shape_string(t[q->b], sb, sizeof sb), whats[q->b], q->dim, (long long)va,
                (long long)vb);
        goto fail;
    }
    *data = (sample_mlp_data){.x = t[0], .y = t[1], .w1 = t[2], .w2 = t[3]};
    return true;
fail:
    for (int k = 0; k < 4; k++) nb_release(t[k]);
    return false;
}

bool sample_random_mlp(const char *prog, int64_t n, int64_t d_in, int64_t h, int64_t d_out,
                       sample_mlp_data *data)
{
    nb_clear_error();
    nb_manual_seed(0);
    data->x = nb_randn(NB_SHAPE(n, d_in), NB_OPTS(NB_FLOAT32));   /* (N, D_in) */
    data->y = nb_randn(NB_SHAPE(n, d_out), NB_OPTS(NB_FLOAT32));  /* (N, D_out) */
    data->w1 = nb_randn(NB_SHAPE(d_in, h), NB_OPTS(NB_FLOAT32));  /* (D_in, H) */
    data->w2 = nb_randn(NB_SHAPE(h, d_out), NB_OPTS(NB_FLOAT32)); /* (H, D_out) */
    if (nb_last_status() == NB_OK) return true;
    fprintf(stderr, "%s: cannot draw the data: %s\n", prog, nb_last_error());
    sample_mlp_release(data);
    return false;
}

bool sample_mlp_to(const char *prog, sample_mlp_data *data, nb_device device)
{
    nb_tensor **ts[4] = {&data->x, &data->y, &data->w1, &data->w2};
    nb_clear_error();
    for (int k = 0; k < 4; k++) {
        nb_tensor *moved = nb_to(*ts[k], device);
        if (!moved) {
            fprintf(stderr, "%s: %s\n", prog, nb_last_error());
            return false;
        }
        nb_release(*ts[k]);
        *ts[k] = moved;
    }
    return true;
}

void sample_mlp_release(sample_mlp_data *data)
{
    nb_release(data->x);
    nb_release(data->y);
    nb_release(data->w1);
    nb_release(data->w2);
    *data = (sample_mlp_data){0};
}

/* ---------------------------------------------------------------- results */

static bool save_one(const char *prog, const char *dir, const char *name, const nb_tensor *t)
{
    char path[4096];
    path_join(path, sizeof path, dir, name);
    nb_clear_error();
    bool ok = nb_save_npy(t, path) == NB_OK; /* copies to the cpu first when needed */
    if (!ok) fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, nb_last_error());
    return ok;
}

bool sample_save_results(const char *prog, const char *dir, const nb_tensor *w1,
                         const nb_tensor *w2, const float *losses, int iters)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create the output folder %s: %s\n", prog, dir, strerror(errno));
        return false;
    }
    nb_clear_error();
    nb_tensor *loss_t = nb_from_array(losses, NB_SHAPE(iters), NB_OPTS(NB_FLOAT32)); /* (iters,) */
    if (!loss_t) {
        fprintf(stderr, "%s: cannot store the losses: %s\n", prog, nb_last_error());
        return false;
    }
    bool ok = save_one(prog, dir, "w1", w1) && save_one(prog, dir, "w2", w2) &&
              save_one(prog, dir, "losses", loss_t);
    nb_release(loss_t);
    return ok;
}

int sample_mlp_begin(int argc, char **argv, sample_options *opts, sample_mlp_data *data, float **losses)
{
    switch (sample_parse_args(argc, argv, opts)) {
    case SAMPLE_PARSE_OK: break;
    case SAMPLE_PARSE_HELP: return 0;
    case SAMPLE_PARSE_BAD: return SAMPLE_EXIT_USAGE;
    }
    bool loaded = opts->data_dir ? sample_load_mlp(opts->prog, opts->data_dir, data)
                                 : sample_random_mlp(opts->prog, SAMPLE_N, SAMPLE_D_IN, SAMPLE_H,
                                                     SAMPLE_D_OUT, data);
    if (!loaded) return 1;
    if (!sample_mlp_to(opts->prog, data, opts->device)) {
        sample_mlp_release(data);
        return 1;
    }
    *losses = malloc((size_t)opts->iters * sizeof(float)); /* (iters,) */
    if (!*losses) {
        fprintf(stderr, "%s: out of memory\n", opts->prog);
        sample_mlp_release(data);
        return 1;
    }
    nb_clear_error();
    return -1;
}

int sample_mlp_end(const sample_options *opts, sample_mlp_data *data, float *losses, int status)
{
    if (status == 0) {
        printf("final loss: %.9g\n", losses[opts->iters - 1]);
        if (opts->out_dir &&
            !sample_save_results(opts->prog, opts->out_dir, data->w1, data->w2, losses, opts->iters))
            status = 1;
    }
    free(losses);
    sample_mlp_release(data);
    return status;
}
