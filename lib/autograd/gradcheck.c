/* gradcheck.c — nb_gradcheck: backward's gradients against float64 central differences, with
 * torch.autograd.gradcheck's defaults. The output is reduced to a scalar against fixed
 * pseudo-random weights, so every element of a non-scalar output is checked at once. */
#include "../error.h"
#include "autograd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define GC_EPS 1e-6
#define GC_ATOL 1e-5
#define GC_RTOL 1e-3

/* sum(fn(inputs) * weights) as a double, without recording; NAN on error. */
static double weighted_output(nb_grad_fn fn, void *ctx, int n, nb_tensor *const *inputs,
                              const nb_tensor *weights)
{
    nb_tensor *y = fn(n, inputs, ctx);
    nb_tensor *yw = y ? nb_mul(y, weights) : NULL;
    nb_tensor *s = yw ? nb_sum(yw) : NULL;
    double v = s ? nb_item(s) : NAN;
    nb_release(y), nb_release(yw), nb_release(s);
    return v;
}

/* Sets element flat of t (any strides) to v. */
static bool set_element(nb_tensor *t, int64_t flat, double v)
{
    nb_tensor *cur = t; /* borrowed; the narrowed views after it are ours */
    int64_t idx[NB_MAX_DIMS];
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = flat % t->shape[d];
        flat /= t->shape[d];
    }
    for (int d = 0; d < t->ndim && cur; d++) {
        nb_tensor *next = nb_narrow(cur, d, idx[d], 1);
        if (cur != t) nb_release(cur);
        cur = next;
    }
    bool ok = cur && nb_fill_(cur, v);
    if (cur != t) nb_release(cur);
    return ok;
}

static nb_tensor *make_weights(const nb_tensor *y)
{
    int64_t n = nb__numel_of(y->ndim, y->shape);
    double *w = malloc((size_t)(n ? n : 1) * sizeof *w); /* (numel of y,) */
    if (!w) return nb__fail(NB_ERR_MEMORY, "nb_gradcheck: out of memory");
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        w[i] = 0.5 + (double)(s >> 11) * 0x1.0p-53; /* in [0.5, 1.5): no cancellation to zero */
    }
    nb_tensor *t = nb_from_array(w, y->ndim, y->shape, NB_OPTS(NB_FLOAT64, .device = y->storage->device));
    free(w);
    return t;
}

static nb_status check_input(nb_grad_fn fn, void *ctx, int n, nb_tensor *const *inputs, int k,
                             const nb_tensor *weights, const nb_tensor *analytic)
{
    nb_tensor *x = inputs[k];
    int64_t numel = nb__numel_of(x->ndim, x->shape);
    double *orig = malloc((size_t)(numel ? numel : 1) * sizeof *orig);   /* (numel,) */
    double *grad = malloc((size_t)(numel ? numel : 1) * sizeof *grad);   /* (numel,) */
    nb_status st = NB_OK;
    if (!orig || !grad) st = nb__fail_status(NB_ERR_MEMORY, "nb_gradcheck: out of memory");
    if (st == NB_OK) st = nb_copy_to_array(x, orig, (size_t)numel * sizeof *orig);
    if (st == NB_OK) st = nb_copy_to_array(analytic, grad, (size_t)numel * sizeof *grad);
    nb_no_grad_begin();
    for (int64_t j = 0; st == NB_OK && j < numel; j++) {
        double plus = NAN, minus = NAN;
        if (set_element(x, j, orig[j] + GC_EPS)) plus = weighted_output(fn, ctx, n, inputs, weights);
        if (set_element(x, j, orig[j] - GC_EPS)) minus = weighted_output(fn, ctx, n, inputs, weights);
        set_element(x, j, orig[j]);
        if (nb_last_status() != NB_OK) {
            st = nb_last_status();
            break;
        }
        double numeric = (plus - minus) / (2 * GC_EPS);
        if (!(fabs(grad[j] - numeric) <= GC_ATOL + GC_RTOL * fabs(numeric)))
            st = nb__fail_status(NB_ERR_AUTOGRAD,
                                 "nb_gradcheck: input %d element %lld: backward gives %.9g, finite "
                                 "differences give %.9g (atol %g, rtol %g)",
                                 k, (long long)j, grad[j], numeric, GC_ATOL, GC_RTOL);
    }
    nb_no_grad_end();
    free(orig);
    free(grad);
    return st;
}

nb_status nb_gradcheck(nb_grad_fn fn, void *ctx, int n, nb_tensor *const *inputs)
{
    if (nb__is_null("nb_gradcheck", "fn", (void *)(uintptr_t)fn) || nb__is_null("nb_gradcheck", "inputs", inputs))
        return nb_last_status();
    for (int k = 0; k < n; k++) {
        if (nb__is_null("nb_gradcheck", "input", inputs[k])) return nb_last_status();
        if (inputs[k]->dtype != NB_FLOAT64 || !inputs[k]->requires_grad)
            return nb__fail_status(NB_ERR_ARGUMENT,
                                   "nb_gradcheck: input %d must be float64 and require grad (got %s%s)", k,
                                   nb_dtype_name(inputs[k]->dtype),
                                   inputs[k]->requires_grad ? "" : ", not requiring grad");
    }
    nb_scope_begin();
    nb_tensor *y = fn(n, inputs, ctx);
    nb_tensor *weights = y ? make_weights(y) : NULL;
    nb_tensor *yw = weights ? nb_mul(y, weights) : NULL;
    nb_tensor *loss = yw ? nb_sum(yw) : NULL;
    nb_tensor **grads = calloc((size_t)n, sizeof *grads);
    nb_status st = nb_last_status();
    if (!loss && st == NB_OK) st = nb__fail_status(NB_ERR_AUTOGRAD, "nb_gradcheck: fn returned NULL");
    if (st == NB_OK && !grads) st = nb__fail_status(NB_ERR_MEMORY, "nb_gradcheck: out of memory");
    if (st == NB_OK) st = nb_grad_of(1, &loss, NULL, n, inputs, grads, false);
    for (int k = 0; st == NB_OK && k < n; k++) st = check_input(fn, ctx, n, inputs, k, weights, grads[k]);
    free(grads);
    nb_scope_end();
    return st;
}
