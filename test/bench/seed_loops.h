/* seed_loops.h — the seed's training step in nabla (by hand and with autograd) and on raw
 * BLIS, for the benchmarks (see seed_loops.c). */
#ifndef NB_BENCH_SEED_LOOPS_H
#define NB_BENCH_SEED_LOOPS_H

#include <blis.h>
#include <nabla.h>

#include "bench.h"

/* Microseconds on a monotonic clock. */
static inline double now_us(void) { return now_s() * 1e6; }

enum { N = 64, D_IN = 1000, H = 100, D_OUT = 10 };

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

/* One training step; each returns the loss, NAN on an error. */
double nabla_step(nb_tensor *x, nb_tensor *y, nb_tensor *w1, nb_tensor *w2, double learning_rate);
double nabla_autograd_step(nb_tensor *x, nb_tensor *y, nb_tensor *w1, nb_tensor *w2, double learning_rate);
double raw_step(raw_net *r, float learning_rate);
float *buffer(size_t n); /* 64-byte aligned floats; exits on failure */

#endif /* NB_BENCH_SEED_LOOPS_H */
