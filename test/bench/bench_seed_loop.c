/* bench_seed_loop.c — the seed's manual-backprop loop (samples/mlp_manual.c) in nabla against the
 * same loop hand-written on raw BLIS: bli_sgemm with strides for the transposes, plain C loops for
 * clamp, the loss, the masked zeroing and the updates, all in preallocated buffers. Both start
 * from the same weights; prints microseconds per step for each and, last, their ratio. nb_config_string() runs first: it makes nabla choose BLIS's kernel set,
 * which the raw loop then shares. */
#include <blis.h>
#include <nabla.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N = 64, D_IN = 1000, H = 100, D_OUT = 10, STEPS = 500, WARMUP = 50, REPEATS = 3, BLOCK = 25 };
static const double LEARNING_RATE = 1e-6;
static const double GOAL = 1.10;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

/* ---------------------------------------------------------------- nabla: the sample's step */

/* One training step, as in samples/mlp_manual.c; returns the loss, NAN on an error. */
static double nabla_step(nb_tensor *x, nb_tensor *y, nb_tensor *w1, nb_tensor *w2, double learning_rate)
{
    nb_scope_begin();
    nb_tensor *h = nb_mm(x, w1);                     /* (N, H) */
    nb_tensor *h_relu = nb_clamp_min(h, 0);          /* (N, H) */
    nb_tensor *y_pred = nb_mm(h_relu, w2);           /* (N, D_out) */
    nb_tensor *loss = nb_sum(nb_pow_scalar(nb_sub(y_pred, y), 2));
    double loss_value = nb_item(loss);
    nb_tensor *grad_y_pred = nb_mul_scalar(nb_sub(y_pred, y), 2.0); /* (N, D_out) */
    nb_tensor *grad_w2 = nb_mm(nb_t(h_relu), grad_y_pred);         /* (H, D_out) */
    nb_tensor *grad_h = nb_clone(nb_mm(grad_y_pred, nb_t(w2)));    /* (N, H) */
    nb_masked_fill_(grad_h, nb_lt_scalar(h, 0), 0);
    nb_tensor *grad_w1 = nb_mm(nb_t(x), grad_h);                   /* (D_in, H) */
    nb_sub_scaled_(w1, grad_w1, learning_rate);
    nb_sub_scaled_(w2, grad_w2, learning_rate);
    if (nb_scope_end() != NB_OK) return NAN;
    return loss_value;
}

/* ---------------------------------------------------------------- raw BLIS */

typedef struct raw_net {
    float *x;           /* (N, D_in) */
    float *y;           /* (N, D_out) */
    float *w1;          /* (D_in, H) */
    float *w2;          /* (H, D_out) */
    float *h;           /* (N, H) */
    float *h_relu;      /* (N, H) */
    float *y_pred;      /* (N, D_out) */
    float *grad_y_pred; /* (N, D_out) */
    float *grad_w2;     /* (H, D_out) */
    float *grad_h;      /* (N, H) */
    float *grad_w1;     /* (D_in, H) */
} raw_net;

/* c (m, n) = a (m, k) · b (k, n), each matrix given by its row and column strides. */
static void sgemm(dim_t m, dim_t n, dim_t k, float *a, inc_t rsa, inc_t csa, float *b, inc_t rsb,
                  inc_t csb, float *c, inc_t rsc)
{
    float one = 1.0f, zero = 0.0f;
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one, a, rsa, csa, b, rsb, csb, &zero,
              c, rsc, 1);
}

static double raw_step(raw_net *r, float learning_rate)
{
    sgemm(N, H, D_IN, r->x, D_IN, 1, r->w1, H, 1, r->h, H); /* h = x·w1 */
    for (size_t i = 0; i < (size_t)N * H; i++) r->h_relu[i] = r->h[i] < 0 ? 0.0f : r->h[i];
    sgemm(N, D_OUT, H, r->h_relu, H, 1, r->w2, D_OUT, 1, r->y_pred, D_OUT); /* y_pred = h_relu·w2 */
    double loss = 0;
    for (size_t i = 0; i < (size_t)N * D_OUT; i++) {
        float d = r->y_pred[i] - r->y[i];
        loss += d * d;
        r->grad_y_pred[i] = 2.0f * d;
    }
    /* grad_w2 = h_reluᵀ·grad_y_pred: h_relu read with swapped strides */
    sgemm(H, D_OUT, N, r->h_relu, 1, H, r->grad_y_pred, D_OUT, 1, r->grad_w2, D_OUT);
    /* grad_h = grad_y_pred·w2ᵀ */
    sgemm(N, H, D_OUT, r->grad_y_pred, D_OUT, 1, r->w2, 1, D_OUT, r->grad_h, H);
    for (size_t i = 0; i < (size_t)N * H; i++)
        if (r->h[i] < 0) r->grad_h[i] = 0.0f;
    /* grad_w1 = xᵀ·grad_h */
    sgemm(D_IN, H, N, r->x, 1, D_IN, r->grad_h, H, 1, r->grad_w1, H);
    for (size_t i = 0; i < (size_t)D_IN * H; i++) r->w1[i] -= learning_rate * r->grad_w1[i];
    for (size_t i = 0; i < (size_t)H * D_OUT; i++) r->w2[i] -= learning_rate * r->grad_w2[i];
    return loss;
}

static float *buffer(size_t n)
{
    float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
    if (!p) {
        fprintf(stderr, "bench_seed_loop: out of memory\n");
        exit(1);
    }
    return p;
}

/* ---------------------------------------------------------------- runs */

/* Both loops train side by side from the same weights, alternating blocks of BLOCK steps; each
 * block is timed, and the fastest block of each loop (over every run) gives its time per step.
 * Short interleaved blocks let a shared, busy machine disturb both loops alike. */
typedef struct run_stats {
    double us_per_step; /* the fastest block's time per step */
    double loss_100;    /* loss at step 100 of the last run */
    double loss_final;  /* loss at the last step of the last run */
} run_stats;

typedef struct nabla_net {
    nb_tensor *x, *y, *w1, *w2;
} nabla_net;

static bool nabla_block(nabla_net *n, int first, int steps, run_stats *st)
{
    double t0 = now_us(), loss = 0;
    for (int t = first; t < first + steps; t++) {
        loss = nabla_step(n->x, n->y, n->w1, n->w2, LEARNING_RATE);
        if (t == 99) st->loss_100 = loss;
    }
    double us = (now_us() - t0) / steps;
    if (isnan(loss)) {
        fprintf(stderr, "bench_seed_loop: nabla: %s\n", nb_last_error());
        return false;
    }
    st->loss_final = loss;
    if (us < st->us_per_step) st->us_per_step = us;
    return true;
}

static void raw_block(raw_net *r, int first, int steps, run_stats *st)
{
    double t0 = now_us(), loss = 0;
    for (int t = first; t < first + steps; t++) {
        loss = raw_step(r, (float)LEARNING_RATE);
        if (t == 99) st->loss_100 = loss;
    }
    double us = (now_us() - t0) / steps;
    st->loss_final = loss;
    if (us < st->us_per_step) st->us_per_step = us;
}

/* One training run of both loops from the initial weights; false on a nabla error. */
static bool run_both(nabla_net *n, const nb_tensor *w1_init, const nb_tensor *w2_init, raw_net *r,
                     const float *w1_raw, const float *w2_raw, int steps, run_stats *ns,
                     run_stats *rs)
{
    nb_release(n->w1);
    nb_release(n->w2);
    n->w1 = nb_clone(w1_init);
    n->w2 = nb_clone(w2_init);
    memcpy(r->w1, w1_raw, sizeof(float) * D_IN * H);
    memcpy(r->w2, w2_raw, sizeof(float) * H * D_OUT);
    for (int first = 0; first < steps; first += BLOCK) {
        int len = steps - first < BLOCK ? steps - first : BLOCK;
        if (!nabla_block(n, first, len, ns)) return false;
        raw_block(r, first, len, rs);
    }
    return true;
}

static void copy_out(const nb_tensor *t, float *dst, size_t n)
{
    if (nb_copy_to_array(t, dst, n * sizeof(float)) != NB_OK) {
        fprintf(stderr, "bench_seed_loop: %s\n", nb_last_error());
        exit(1);
    }
}

int main(void)
{
    printf("%s\n", nb_config_string());

    nb_manual_seed(0);
    nb_tensor *x = nb_randn(NB_SHAPE(N, D_IN), NB_OPTS(NB_FLOAT32));    /* (N, D_in) */
    nb_tensor *y = nb_randn(NB_SHAPE(N, D_OUT), NB_OPTS(NB_FLOAT32));   /* (N, D_out) */
    nb_tensor *w1 = nb_randn(NB_SHAPE(D_IN, H), NB_OPTS(NB_FLOAT32));   /* (D_in, H) */
    nb_tensor *w2 = nb_randn(NB_SHAPE(H, D_OUT), NB_OPTS(NB_FLOAT32));  /* (H, D_out) */
    if (nb_last_status() != NB_OK) {
        fprintf(stderr, "bench_seed_loop: %s\n", nb_last_error());
        return 1;
    }

    raw_net r = {buffer(N * D_IN), buffer(N * D_OUT), buffer(D_IN * H), buffer(H * D_OUT),
                 buffer(N * H),    buffer(N * H),     buffer(N * D_OUT), buffer(N * D_OUT),
                 buffer(H * D_OUT), buffer(N * H),    buffer(D_IN * H)};
    float *w1_init = buffer(D_IN * H), *w2_init = buffer(H * D_OUT);
    copy_out(x, r.x, N * D_IN);
    copy_out(y, r.y, N * D_OUT);
    copy_out(w1, w1_init, D_IN * H);
    copy_out(w2, w2_init, H * D_OUT);

    run_stats nabla = {.us_per_step = INFINITY}, raw = nabla, warm_n = nabla, warm_r = nabla;
    nabla_net net = {x, y, NULL, NULL};
    bool ok = run_both(&net, w1, w2, &r, w1_init, w2_init, WARMUP, &warm_n, &warm_r);
    for (int rep = 0; ok && rep < REPEATS; rep++)
        ok = run_both(&net, w1, w2, &r, w1_init, w2_init, STEPS, &nabla, &raw);

    if (ok) {
        printf("seed loop: N=%d D_in=%d H=%d D_out=%d; %d runs of %d steps, fastest block of %d steps; "
               "threads %d\n", N, D_IN, H, D_OUT, REPEATS, STEPS, BLOCK, nb_get_num_threads());
        printf("  nabla:    %8.1f us/step   loss at step 100 %.6g, final loss %.6g\n", nabla.us_per_step,
               nabla.loss_100, nabla.loss_final);
        printf("  raw BLIS: %8.1f us/step   loss at step 100 %.6g, final loss %.6g\n", raw.us_per_step,
               raw.loss_100, raw.loss_final);
        /* float32 rounding differs with the order of the sums; the final loss sits at float32's
         * noise floor (~3e-5 here), so only its magnitude is expected to agree */
        double rel_100 = fabs(nabla.loss_100 - raw.loss_100) / fabs(raw.loss_100);
        double rel_final = fabs(nabla.loss_final - raw.loss_final) / fabs(raw.loss_final);
        printf("  same loss: step 100 within %.1e, final within %.1e (relative) -> %s\n", rel_100,
               rel_final, rel_100 < 1e-4 && rel_final < 0.1 ? "yes" : "NO");
        printf("ratio (nabla/raw BLIS per step): %.2f  goal <= %.2f\n",
               nabla.us_per_step / raw.us_per_step, GOAL);
    }

    float *bufs[] = {r.x, r.y, r.w1, r.w2, r.h, r.h_relu, r.y_pred, r.grad_y_pred, r.grad_w2,
                     r.grad_h, r.grad_w1, w1_init, w2_init};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    nb_release(net.w1);
    nb_release(net.w2);
    nb_release(x);
    nb_release(y);
    nb_release(w1);
    nb_release(w2);
    return ok ? 0 : 1;
}
