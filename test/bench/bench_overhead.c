/* bench_overhead.c — the fixed cost of one small op: 1,000,000 nb_add of two 1-element float32
 * tensors, inside a scope ended (releasing the results) every 1000 ops, against the same number
 * of calls to a plain C function adding two floats through pointers. Prints nanoseconds per op of
 * both (best of several runs) and, last, the ratio with nabla's figure and its goal. */
#include <nabla.h>
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

enum { OPS = 1000000, PER_SCOPE = 1000, REPEATS = 5 };
static const double GOAL_NS = 300;

/* The baseline: out = a + b through pointers, called through a volatile pointer so it is not
 * inlined away. */
__attribute__((noinline)) static void plain_add(float *out, const float *a, const float *b) { *out = *a + *b; }
static void (*volatile plain_add_fn)(float *, const float *, const float *) = plain_add;

static double nabla_run(const nb_tensor *a, const nb_tensor *b)
{
    double t0 = now_s();
    for (int i = 0; i < OPS; i += PER_SCOPE) {
        nb_scope_begin();
        for (int j = 0; j < PER_SCOPE; j++) nb_add(a, b);
        if (nb_scope_end() != NB_OK) return NAN;
    }
    return (now_s() - t0) / OPS * 1e9;
}

static double plain_run(void)
{
    float a = 1.5f, b = 2.25f, out = 0;
    double t0 = now_s();
    for (int i = 0; i < OPS; i++) plain_add_fn(&out, &a, &b);
    double ns = (now_s() - t0) / OPS * 1e9;
    if (out != 3.75f) return NAN;
    return ns;
}

int main(void)
{
    printf("%s\n", nb_config_string());
    nb_tensor *a = nb_full(NB_SHAPE(1), 1.5, NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_full(NB_SHAPE(1), 2.25, NB_OPTS(NB_FLOAT32));
    if (!a || !b) {
        fprintf(stderr, "setup failed: %s\n", nb_last_error());
        return 1;
    }
    nabla_run(a, b); /* warm-up: the scope stack and malloc's free lists reach their steady size */
    double best_nabla = INFINITY, best_plain = INFINITY;
    for (int r = 0; r < REPEATS; r++) {
        best_nabla = fmin(best_nabla, nabla_run(a, b));
        best_plain = fmin(best_plain, plain_run());
    }
    if (isnan(best_nabla) || isnan(best_plain)) {
        fprintf(stderr, "run failed: %s\n", nb_last_error());
        return 1;
    }
    printf("%d ops of 1-element float32 tensors, a scope per %d ops, best of %d\n", OPS, PER_SCOPE, REPEATS);
    printf("nabla nb_add:        %8.1f ns per op\n", best_nabla);
    printf("plain C add:         %8.2f ns per op\n", best_plain);
    printf("ratio (nabla / plain C per op): %.0f  (nabla %.0f ns per op, goal <= %.0f ns per op)\n",
           best_nabla / best_plain, best_nabla, GOAL_NS);
    nb_release(a);
    nb_release(b);
    return 0;
}
