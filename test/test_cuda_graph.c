/* test_cuda_graph.c — step replay with CUDA Graphs, streams and fault reports: a captured step
 * replays to the same values as eager steps (hand-written gradients, autograd, cross entropy with
 * SGD and momentum; AdamW with parameter groups after gradient clipping; AdamW under a schedule
 * that sets new rates between replays), new data copied into the captured inputs is used, replays allocate nothing, what
 * cannot be captured is refused with an error naming the op, and a kernel fault surfaces at the
 * next synchronisation naming the last op queued.
 *
 * The tests under "everywhere" need no device; the others skip without one (cuda_test_setup). */
#include "cuda_checks.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPU NB_DEVICE_CUDA(0)

/* test hook (lib/graph.c): queues a kernel that faults */
nb_status nb__debug_cuda_trap(nb_device device);


/* ================================================================ everywhere */

Test(cuda_graph, capturing_on_the_cpu_is_refused, .init = nb_test_setup)
{
    cr_assert_eq(nb_graph_capture_begin(NB_DEVICE_CPU), NB_ERR_DEVICE);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_graph_capture_begin", "cpu"));
    cr_assert(!nb_graph_is_capturing());
}

Test(cuda_graph, capturing_without_a_device_is_refused, .init = nb_test_setup)
{
    if (nb_cuda_device_count() > 0) cr_skip_test("a CUDA device is present");
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_ERR_DEVICE);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_graph_capture_begin", "cuda:0"));
    cr_assert(!nb_graph_is_capturing());
    /* nothing is captured, so CPU work still runs */
    nb_tensor *t = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    cr_assert_not_null(t, "%s", nb_last_error());
    nb_release(t);
}

Test(cuda_graph, ending_or_replaying_without_a_capture_is_refused, .init = nb_test_setup)
{
    cr_assert_null(nb_graph_capture_end());
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_graph_capture_end", "not capturing"));
    cr_assert_eq(nb_graph_replay(NULL), NB_ERR_NULL);
    assert_error(NB_ERR_NULL, ERR_PARTS("nb_graph_replay", "graph"));
    nb_graph_release(NULL); /* does nothing */
    assert_ok();
}

Test(cuda_graph, a_fault_needs_a_cuda_device, .init = nb_test_setup)
{
    cr_assert_eq(nb__debug_cuda_trap(NB_DEVICE_CPU), NB_ERR_DEVICE);
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb__debug_trap", "cpu"));
}

/* ================================================================ helpers */

/* The values of t as floats on the host; the caller frees. */
static float *floats_of(const nb_tensor *t)
{
    nb_tensor *f = nb_to_dtype(t, NB_FLOAT32);
    cr_assert_not_null(f, "%s", nb_last_error());
    size_t n = (size_t)nb_numel(f);
    float *v = malloc((n ? n : 1) * sizeof *v);
    cr_assert_eq(nb_copy_to_array(f, v, n * sizeof *v), NB_OK, "%s", nb_last_error());
    nb_release(f);
    return v;
}

/* got and want (same shape) agree to relative 1e-5 element by element. */
static void assert_same_values(const nb_tensor *got, const nb_tensor *want, const char *what)
{
    cr_assert_eq(nb_numel(got), nb_numel(want), "%s: sizes differ", what);
    float *g = floats_of(got), *w = floats_of(want);
    for (int64_t i = 0; i < nb_numel(want); i++) {
        bool ok = fabsf(g[i] - w[i]) <= 1e-5f * fabsf(w[i]) + 1e-7f;
        if (!ok) {
            float gi = g[i], wi = w[i];
            free(g), free(w);
            cr_assert_fail("%s: element %lld is %.9g replayed, %.9g eager", what, (long long)i, gi, wi);
        }
    }
    free(g), free(w);
}

/* The seed's network on cuda:0: two copies of the same weights, one stepped eagerly and one by
 * replay. */
typedef struct net {
    nb_tensor *x, *y;   /* (64, 100), (64, 10) */
    nb_tensor *w1, *w2; /* (100, 32), (32, 10) */
} net;

static net make_net(uint64_t seed, bool requires_grad)
{
    nb_manual_seed(seed);
    nb_options o = NB_OPTS(NB_FLOAT32, .device = GPU);
    net n = {.x = nb_randn(NB_SHAPE(64, 100), o), .y = nb_randn(NB_SHAPE(64, 10), o),
             .w1 = nb_mul_scalar_(nb_randn(NB_SHAPE(100, 32), o), 0.1),
             .w2 = nb_mul_scalar_(nb_randn(NB_SHAPE(32, 10), o), 0.1)};
    cr_assert(n.x && n.y && n.w1 && n.w2, "%s", nb_last_error());
    if (requires_grad) {
        nb_requires_grad_(n.w1, true);
        nb_requires_grad_(n.w2, true);
    }
    return n;
}

static void free_net(net *n)
{
    nb_release(n->x), nb_release(n->y), nb_release(n->w1), nb_release(n->w2);
}

/* One hand-written step (the seed loop); returns the loss, kept. */
static nb_tensor *manual_step(net *n)
{
    nb_scope_begin();
    nb_tensor *h = nb_mm(n->x, n->w1);
    nb_tensor *h_relu = nb_clamp_min(h, 0);
    nb_tensor *y_pred = nb_mm(h_relu, n->w2);
    nb_tensor *loss = nb_keep(nb_sum(nb_pow_scalar(nb_sub(y_pred, n->y), 2)));
    nb_tensor *grad_y_pred = nb_mul_scalar(nb_sub(y_pred, n->y), 2.0);
    nb_tensor *grad_w2 = nb_mm(nb_t(h_relu), grad_y_pred);
    nb_tensor *grad_h = nb_clone(nb_mm(grad_y_pred, nb_t(n->w2)));
    nb_masked_fill_(grad_h, nb_lt_scalar(h, 0), 0);
    nb_tensor *grad_w1 = nb_mm(nb_t(n->x), grad_h);
    nb_sub_scaled_(n->w1, grad_w1, 1e-4);
    nb_sub_scaled_(n->w2, grad_w2, 1e-4);
    nb_scope_end();
    return loss;
}

/* One autograd step; returns the loss without history, kept. */
static nb_tensor *autograd_step(net *n)
{
    nb_scope_begin();
    nb_tensor *y_pred = nb_mm(nb_relu(nb_mm(n->x, n->w1)), n->w2);
    nb_tensor *loss = nb_mse_loss(y_pred, n->y);
    nb_backward(loss);
    nb_no_grad_begin();
    nb_sub_scaled_(n->w1, nb_grad(n->w1), 1e-2);
    nb_sub_scaled_(n->w2, nb_grad(n->w2), 1e-2);
    nb_no_grad_end();
    nb_zero_grad(n->w1);
    nb_zero_grad(n->w2);
    nb_tensor *value = nb_keep(nb_detach(loss));
    nb_scope_end();
    return value;
}

/* One autograd step through max_dim, log_softmax and cat (their backward makes index ranges and
 * zeros on the device); returns the loss, kept. */
static nb_tensor *max_step(net *n)
{
    nb_scope_begin();
    nb_tensor *h = nb_mm(n->x, n->w1);                           /* (64, 32) */
    nb_tensor *both = nb_cat(2, (nb_tensor *const[]){h, nb_neg(h)}, 1); /* (64, 64) */
    nb_tensor *top = nb_max_dim(nb_log_softmax(both, 1), 1, true);   /* (64, 1) */
    nb_tensor *loss = nb_neg(nb_mean(top));
    nb_backward(loss);
    nb_no_grad_begin();
    nb_sub_scaled_(n->w1, nb_grad(n->w1), 1e-2);
    nb_no_grad_end();
    nb_zero_grad(n->w1);
    nb_tensor *value = nb_keep(nb_detach(loss));
    nb_scope_end();
    return value;
}

typedef nb_tensor *(*step_fn)(net *);

/* Runs steps steps of fn on a (eagerly) and b (one eager warm-up step, then a capture of the
 * second step and replays), comparing every step's loss and the weights at the end. */
static void check_replay_matches_eager(step_fn fn, bool requires_grad, int steps)
{
    net a = make_net(7, requires_grad), b = make_net(7, requires_grad);
    nb_release(fn(&a)); /* step 1 on both */
    nb_release(fn(&b));
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    cr_assert(nb_graph_is_capturing());
    nb_tensor *captured = fn(&b); /* recorded, not run */
    nb_graph *g = nb_graph_capture_end();
    cr_assert_not_null(g, "%s", nb_last_error());
    cr_assert(!nb_graph_is_capturing());
    for (int s = 2; s <= steps; s++) {
        nb_tensor *eager = fn(&a);
        cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
        double le = nb_item(eager), lr = nb_item(captured);
        cr_assert(fabs(le - lr) <= 1e-5 * fabs(le), "step %d: loss %.9g replayed, %.9g eager", s, lr, le);
        nb_release(eager);
    }
    assert_same_values(b.w1, a.w1, "w1");
    assert_same_values(b.w2, a.w2, "w2");
    nb_graph_release(g);
    nb_release(captured);
    free_net(&a), free_net(&b);
    assert_ok();
}

/* ================================================================ replay */

Test(cuda_graph, a_replayed_manual_step_matches_eager_steps, .init = cuda_test_setup)
{
    check_replay_matches_eager(manual_step, false, 20);
}

Test(cuda_graph, a_replayed_autograd_step_matches_eager_steps, .init = cuda_test_setup)
{
    check_replay_matches_eager(autograd_step, true, 20);
}

Test(cuda_graph, a_replayed_step_through_max_log_softmax_and_cat_matches_eager_steps, .init = cuda_test_setup)
{
    check_replay_matches_eager(max_step, true, 10);
}

Test(cuda_graph, replays_read_new_data_copied_into_the_inputs, .init = cuda_test_setup)
{
    net n = make_net(3, false);
    nb_release(manual_step(&n));
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    nb_tensor *y_pred = nb_mm(nb_clamp_min(nb_mm(n.x, n.w1), 0), n.w2); /* forward only */
    nb_graph *g = nb_graph_capture_end();
    cr_assert_not_null(g, "%s", nb_last_error());
    for (int k = 0; k < 3; k++) {
        nb_tensor *fresh = nb_randn(NB_SHAPE(64, 100), NB_OPTS(NB_FLOAT32, .device = GPU));
        cr_assert_not_null(nb_copy_(n.x, fresh), "%s", nb_last_error());
        cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
        nb_tensor *want = nb_mm(nb_clamp_min(nb_mm(fresh, n.w1), 0), n.w2);
        assert_same_values(y_pred, want, "the forward on new data");
        nb_release(want), nb_release(fresh);
    }
    /* the captured output keeps its memory and values after the graph is gone */
    float *before = floats_of(y_pred);
    nb_graph_release(g);
    nb_tensor *scratch = nb_zeros(NB_SHAPE(64, 10), NB_OPTS(NB_FLOAT32, .device = GPU)); /* reuses freed memory */
    float *after = floats_of(y_pred);
    cr_assert(memcmp(before, after, 64 * 10 * sizeof(float)) == 0, "the output changed after nb_graph_release");
    free(before), free(after);
    nb_release(scratch);
    nb_release(y_pred);
    free_net(&n);
    assert_ok();
}

/* The captured draw step, run eagerly on device from the generator's current state: randn
 * noise plus dropout of ones. */
static nb_tensor *noisy_dropout(nb_device device)
{
    nb_tensor *noise = nb_randn(NB_SHAPE(4, 300), NB_OPTS(NB_FLOAT32, .device = device)); /* 600 counters */
    nb_tensor *ones = nb_ones(NB_SHAPE(4, 300), NB_OPTS(NB_FLOAT32, .device = device));
    nb_tensor *kept = nb_dropout(ones, 0.5, true); /* 600 counters */
    nb_tensor *sum = nb_add(noise, kept);
    nb_release(noise), nb_release(ones), nb_release(kept);
    return sum;
}

Test(cuda_graph, replays_draw_new_values_as_eager_steps_would, .init = cuda_test_setup)
{
    enum { STEP = 600 + 600 }; /* counters the step takes */
    nb_tensor *out = nb_zeros(NB_SHAPE(4, 300), NB_OPTS(NB_FLOAT32, .device = GPU));
    nb_manual_seed(5);
    nb_tensor *warm = noisy_dropout(GPU);
    nb_release(warm);
    const nb_rng_state start = nb_rng_get_state();
    cr_assert_eq(start.offset, STEP);
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    nb_tensor *step = noisy_dropout(GPU);
    cr_assert_not_null(nb_copy_(out, step), "%s", nb_last_error());
    nb_graph *g = nb_graph_capture_end();
    cr_assert_not_null(g, "%s", nb_last_error());
    /* the capture ran nothing, so it drew nothing */
    cr_assert_eq(nb_rng_get_state().offset, start.offset);
    float *previous = NULL;
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_rng_get_state().offset, start.offset + (uint64_t)(k + 1) * STEP);
        /* the replay drew what the step draws eagerly (on the CPU) from the same offset */
        nb_rng_set_state((nb_rng_state){start.seed, start.offset + (uint64_t)k * STEP});
        nb_tensor *want = noisy_dropout(NB_DEVICE_CPU);
        assert_same_values(out, want, "a replay against the eager step");
        nb_release(want);
        cr_assert_eq(nb_rng_get_state().offset, start.offset + (uint64_t)(k + 1) * STEP);
        float *now = floats_of(out);
        if (previous) cr_assert(memcmp(previous, now, 1200 * sizeof(float)) != 0, "replay %d repeated its values", k);
        free(previous);
        previous = now;
    }
    free(previous);
    /* a draw between replays, or a new seed, steers the next replay */
    nb_tensor *between = nb_rand(NB_SHAPE(10), NB_OPTS(NB_FLOAT32, .device = GPU));
    nb_release(between);
    nb_rng_state before = nb_rng_get_state();
    cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
    nb_rng_set_state(before);
    nb_tensor *want = noisy_dropout(NB_DEVICE_CPU);
    assert_same_values(out, want, "a replay after an eager draw");
    nb_release(want);
    nb_manual_seed(99);
    cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
    nb_manual_seed(99);
    want = noisy_dropout(NB_DEVICE_CPU);
    assert_same_values(out, want, "a replay after nb_manual_seed");
    nb_release(want);
    nb_graph_release(g);
    nb_release(step);
    nb_release(out);
    assert_ok();
}

Test(cuda_graph, replays_allocate_nothing, .init = cuda_test_setup)
{
    net n = make_net(5, true);
    nb_release(autograd_step(&n));
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    nb_tensor *loss = autograd_step(&n);
    nb_graph *g = nb_graph_capture_end();
    cr_assert_not_null(g, "%s", nb_last_error());
    nb_cuda_stats before, after;
    cr_assert_eq(nb_cuda_memory_stats(0, &before), NB_OK);
    for (int k = 0; k < 10; k++) cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
    cr_assert(isfinite(nb_item(loss)), "%s", nb_last_error());
    cr_assert_eq(nb_cuda_memory_stats(0, &after), NB_OK);
    cr_assert_eq(after.num_device_allocs, before.num_device_allocs);
    cr_assert_eq(after.allocated, before.allocated);
    nb_graph_release(g);
    nb_release(loss);
    free_net(&n);
    /* with the graph and its tensors gone, its memory serves eager tensors again */
    nb_cuda_stats done;
    cr_assert_eq(nb_cuda_memory_stats(0, &done), NB_OK);
    cr_assert_lt(done.allocated, after.allocated);
}

Test(cuda_graph, a_cross_entropy_step_with_sgd_momentum_replays_after_a_warm_up_step, .init = cuda_test_setup)
{
    net a = make_net(11, true), b = make_net(11, true);
    nb_params *pa = nb_params_new(), *pb = nb_params_new();
    nb_params_add(pa, a.w1), nb_params_add(pa, a.w2), nb_params_add(pb, b.w1), nb_params_add(pb, b.w2);
    nb_sgd_options o = {.lr = 1e-2, .momentum = 0.9};
    nb_optimizer *oa = nb_sgd_new(pa, o), *ob = nb_sgd_new(pb, o);
    cr_assert(oa && ob, "%s", nb_last_error());
    net *nets[2] = {&a, &b};
    nb_optimizer *opts[2] = {oa, ob};
    nb_tensor *captured = NULL;
    nb_graph *g = NULL;
    for (int s = 0; s < 8; s++) {
        for (int k = 0; k < 2; k++) {
            net *n = nets[k];
            if (k == 1 && g) {
                cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
                continue;
            }
            bool capture = k == 1 && s == 1;
            if (capture) cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
            nb_scope_begin();
            nb_optimizer_zero_grad(opts[k]);
            nb_tensor *labels = nb_argmax_dim(n->y, 1, false); /* (64,) int64 classes */
            nb_tensor *loss = nb_cross_entropy(nb_mm(nb_relu(nb_mm(n->x, n->w1)), n->w2), labels);
            nb_backward(loss);
            nb_optimizer_step(opts[k]);
            if (capture) captured = nb_keep(nb_detach(loss));
            cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
            if (capture) {
                g = nb_graph_capture_end();
                cr_assert_not_null(g, "%s", nb_last_error());
                cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
            }
        }
    }
    assert_same_values(b.w1, a.w1, "w1 after 8 steps with momentum");
    assert_same_values(b.w2, a.w2, "w2 after 8 steps with momentum");
    nb_graph_release(g);
    nb_release(captured);
    nb_optimizer_free(oa), nb_optimizer_free(ob);
    nb_params_free(pa), nb_params_free(pb);
    free_net(&a), free_net(&b);
}

/* Two copies of one net stepped by AdamW with two parameter groups (w1 with weight decay, w2 at
 * another rate without) after clipping the gradients' norm: a eagerly every step, b eagerly once
 * (the warm-up that makes the optimizer's state), then captured once and replayed. The device
 * keeps Adam's step counts, so the replays advance them and the bias corrections follow. */
Test(cuda_graph, an_adamw_step_with_groups_and_clipping_replays_after_a_warm_up_step, .init = cuda_test_setup)
{
    net a = make_net(17, true), b = make_net(17, true);
    nb_params *pa[2] = {nb_params_new(), nb_params_new()}, *pb[2] = {nb_params_new(), nb_params_new()};
    nb_params_add(pa[0], a.w1), nb_params_add(pa[1], a.w2), nb_params_add(pb[0], b.w1), nb_params_add(pb[1], b.w2);
    nb_params *all[2] = {nb_params_new(), nb_params_new()}; /* each net's parameters, for clipping */
    nb_params_add(all[0], a.w1), nb_params_add(all[0], a.w2), nb_params_add(all[1], b.w1), nb_params_add(all[1], b.w2);
    nb_adam_options o = {.lr = 1e-2, .weight_decay = 0.1};
    nb_optimizer *oa = nb_adamw_new_groups(2, (nb_param_group[]){{pa[0], -1, -1}, {pa[1], 3e-3, 0}}, o);
    nb_optimizer *ob = nb_adamw_new_groups(2, (nb_param_group[]){{pb[0], -1, -1}, {pb[1], 3e-3, 0}}, o);
    cr_assert(oa && ob, "%s", nb_last_error());
    net *nets[2] = {&a, &b};
    nb_optimizer *opts[2] = {oa, ob};
    nb_tensor *norms[2] = {NULL, NULL}; /* the last step's gradient norm of each net */
    nb_graph *g = NULL;
    for (int s = 0; s < 8; s++) {
        for (int k = 0; k < 2; k++) {
            net *n = nets[k];
            if (k == 1 && g) {
                cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
                continue;
            }
            bool capture = k == 1 && s == 1;
            if (capture) cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
            nb_scope_begin();
            nb_optimizer_zero_grad(opts[k]);
            nb_tensor *labels = nb_argmax_dim(n->y, 1, false); /* (64,) int64 classes */
            nb_tensor *loss = nb_cross_entropy(nb_mm(nb_relu(nb_mm(n->x, n->w1)), n->w2), labels);
            nb_backward(loss);
            nb_tensor *norm = nb_clip_grad_norm_tensor_(all[k], 0.5, 2.0);
            nb_optimizer_step(opts[k]);
            nb_release(norms[k]);
            norms[k] = nb_keep(nb_detach(norm));
            cr_assert_eq(nb_scope_end(), NB_OK, "step %d, net %d: %s", s, k, nb_last_error());
            if (capture) {
                g = nb_graph_capture_end();
                cr_assert_not_null(g, "%s", nb_last_error());
                cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
            }
        }
    }
    cr_assert_gt(nb_item(norms[0]), 0.5, "the gradients were clipped (norm %g)", nb_item(norms[0]));
    assert_same_values(norms[1], norms[0], "the gradient norm of the 8th step");
    assert_same_values(b.w1, a.w1, "w1 after 8 AdamW steps");
    assert_same_values(b.w2, a.w2, "w2 after 8 AdamW steps");
    nb_graph_release(g);
    for (int k = 0; k < 2; k++) {
        nb_release(norms[k]);
        nb_params_free(pa[k]), nb_params_free(pb[k]), nb_params_free(all[k]);
    }
    nb_optimizer_free(oa), nb_optimizer_free(ob);
    free_net(&a), free_net(&b);
}

/* got and want (same shape) agree to 1e-6, absolute, element by element. */
static void assert_within_1e6(const nb_tensor *got, const nb_tensor *want, const char *what)
{
    cr_assert_eq(nb_numel(got), nb_numel(want), "%s: sizes differ", what);
    float *g = floats_of(got), *w = floats_of(want);
    for (int64_t i = 0; i < nb_numel(want); i++) {
        if (!(fabsf(g[i] - w[i]) <= 1e-6f)) {
            float gi = g[i], wi = w[i];
            free(g), free(w);
            cr_assert_fail("%s: element %lld is %.9g replayed, %.9g eager", what, (long long)i, gi, wi);
        }
    }
    free(g), free(w);
}

/* One AdamW step of net n (mean squared error of a two-layer ReLU network). */
static void adamw_mse_step(net *n, nb_optimizer *opt)
{
    nb_scope_begin();
    nb_optimizer_zero_grad(opt);
    nb_backward(nb_mse_loss(nb_mm(nb_relu(nb_mm(n->x, n->w1)), n->w2), n->y));
    nb_optimizer_step(opt);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(cuda_graph, replays_of_an_adamw_step_use_the_rates_a_schedule_sets_between_them, .init = cuda_test_setup)
{
    net a = make_net(23, true), b = make_net(23, true);
    nb_params *pa[2] = {nb_params_new(), nb_params_new()}, *pb[2] = {nb_params_new(), nb_params_new()};
    nb_params_add(pa[0], a.w1), nb_params_add(pa[1], a.w2), nb_params_add(pb[0], b.w1), nb_params_add(pb[1], b.w2);
    nb_adam_options o = {.lr = 1e-2, .weight_decay = 0.1};
    nb_optimizer *oa = nb_adamw_new_groups(2, (nb_param_group[]){{pa[0], -1, -1}, {pa[1], 3e-3, 0}}, o);
    nb_optimizer *ob = nb_adamw_new_groups(2, (nb_param_group[]){{pb[0], -1, -1}, {pb[1], 3e-3, 0}}, o);
    cr_assert(oa && ob, "%s", nb_last_error());
    /* warmup from 0.1 * base over 3 steps, then cosine decay to 1e-4 at step 11 */
    const nb_lr_schedule s = {.kind = NB_LR_WARMUP_COSINE, .start_factor = 0.1, .warmup_steps = 3,
                              .total_steps = 11, .eta_min = 1e-4};
    nb_optimizer *opts[2] = {oa, ob};
    for (int k = 0; k < 2; k++) { /* the warm-up step, eager for both: it makes the state */
        cr_assert_eq(nb_optimizer_schedule_step(opts[k], &s, 0), NB_OK, "%s", nb_last_error());
        adamw_mse_step(k == 0 ? &a : &b, opts[k]);
    }
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    adamw_mse_step(&b, ob);
    nb_graph *g = nb_graph_capture_end();
    cr_assert_not_null(g, "%s", nb_last_error());
    for (int step = 1; step <= 10; step++) {
        for (int k = 0; k < 2; k++)
            cr_assert_eq(nb_optimizer_schedule_step(opts[k], &s, step), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_optimizer_group_lr(ob, 1), nb_lr_schedule_at(&s, 3e-3, step), "the host keeps the rate");
        adamw_mse_step(&a, oa);
        cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
    }
    assert_within_1e6(b.w1, a.w1, "w1 after 10 replays under a warmup-cosine schedule");
    assert_within_1e6(b.w2, a.w2, "w2 after 10 replays under a warmup-cosine schedule");

    /* the rates matter: a replay at a far larger rate moves the weights away from an eager step at
     * a small one */
    nb_optimizer_set_lr(ob, 0.5);
    nb_optimizer_set_lr(oa, 1e-4);
    cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
    adamw_mse_step(&a, oa);
    float *wa = floats_of(a.w2), *wb = floats_of(b.w2);
    double diff = 0;
    for (int64_t i = 0; i < nb_numel(a.w2); i++) diff += fabs((double)wa[i] - (double)wb[i]);
    free(wa), free(wb);
    cr_assert_gt(diff, 1e-3, "a replay at lr 0.5 differs from a step at the capture's rate (|diff| %g)", diff);

    nb_graph_release(g);
    for (int k = 0; k < 2; k++) nb_params_free(pa[k]), nb_params_free(pb[k]);
    nb_optimizer_free(oa), nb_optimizer_free(ob);
    free_net(&a), free_net(&b);
}

/* ================================================================ what a capture refuses */

/* Begins a capture, runs what (which must fail with status and message parts), and checks that
 * the capture then gives no graph and the device works eagerly afterwards. */
#define CHECK_REFUSED(expr, status, ...)                                                         \
    do {                                                                                         \
        cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());                  \
        (void)(expr);                                                                            \
        cr_assert_eq(nb_last_status(), status, "%s: %s", #expr, nb_last_error());               \
        assert_error(status, ERR_PARTS(__VA_ARGS__));                                            \
        cr_assert_null(nb_graph_capture_end(), #expr " still gave a graph");                     \
        nb_clear_error();                                                                        \
        cr_assert(!nb_graph_is_capturing());                                                     \
        nb_tensor *after_ = nb_sum(nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32, .device = GPU)));     \
        cr_assert_eq(nb_item(after_), 4.0, "the device after a refused capture: %s", nb_last_error()); \
        nb_release(after_);                                                                      \
    } while (0)

Test(cuda_graph, host_reads_and_host_work_are_refused_during_a_capture, .init = cuda_test_setup)
{
    nb_tensor *t = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32, .device = GPU));
    float buf[3];
    nb_scope_begin();
    CHECK_REFUSED(nb_item(nb_sum(t)), NB_ERR_ARGUMENT, "nb_item", "captur", "cuda:0");
    CHECK_REFUSED(nb_copy_to_array(t, buf, sizeof buf), NB_ERR_ARGUMENT, "nb_copy_to_array", "captur");
    CHECK_REFUSED(nb_to(t, NB_DEVICE_CPU), NB_ERR_ARGUMENT, "nb_to", "captur");
    CHECK_REFUSED(nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), NB_ERR_ARGUMENT, "nb_zeros", "cpu", "cuda:0");
    CHECK_REFUSED(nb_from_array(buf, NB_SHAPE(3), NB_OPTS(NB_FLOAT32, .device = GPU)), NB_ERR_ARGUMENT,
                  "nb_from_array", "cpu");
    nb_scope_end();
    nb_clear_error();
    nb_release(t);
}

Test(cuda_graph, first_adam_and_momentum_steps_are_refused_during_a_capture, .init = cuda_test_setup)
{
    net n = make_net(13, true);
    nb_params *p = nb_params_new();
    nb_params_add(p, n.w1), nb_params_add(p, n.w2);
    nb_tensor *loss = nb_mse_loss(nb_mm(nb_mm(n.x, n.w1), n.w2), n.y);
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    nb_optimizer *adam = nb_adam_new(p, (nb_adam_options){.lr = 1e-3});
    nb_optimizer *sgd = nb_sgd_new(p, (nb_sgd_options){.lr = 1e-3, .momentum = 0.9});
    CHECK_REFUSED(nb_optimizer_step(adam), NB_ERR_ARGUMENT, "nb_optimizer_step (Adam)", "first step");
    CHECK_REFUSED(nb_optimizer_step(sgd), NB_ERR_ARGUMENT, "nb_optimizer_step", "sgd", "momentum buffer");
    nb_optimizer_free(adam), nb_optimizer_free(sgd);
    nb_params_free(p);
    nb_release(loss);
    free_net(&n);
}

Test(cuda_graph, setting_learning_rates_is_refused_during_a_capture, .init = cuda_test_setup)
{
    net n = make_net(29, true);
    nb_params *p = nb_params_new();
    nb_params_add(p, n.w1), nb_params_add(p, n.w2);
    nb_optimizer *adam = nb_adamw_new(p, (nb_adam_options){.lr = 1e-3});
    adamw_mse_step(&n, adam); /* the state and the rate on the device */
    const nb_lr_schedule half = {.kind = NB_LR_STEP, .step_size = 1, .gamma = 0.5};
    CHECK_REFUSED(nb_optimizer_set_lr(adam, 0.1), NB_ERR_ARGUMENT, "nb_optimizer_set_lr", "during a graph capture");
    CHECK_REFUSED(nb_optimizer_set_group_lr(adam, 0, 0.1), NB_ERR_ARGUMENT, "nb_optimizer_set_group_lr",
                  "during a graph capture");
    CHECK_REFUSED(nb_optimizer_schedule_step(adam, &half, 1), NB_ERR_ARGUMENT, "nb_optimizer_schedule_step",
                  "during a graph capture");
    cr_assert_eq(nb_optimizer_lr(adam), 1e-3, "a refused rate changes nothing");
    nb_optimizer_free(adam);
    nb_params_free(p);
    free_net(&n);
}

Test(cuda_graph, nested_captures_and_replays_inside_a_capture_are_refused, .init = cuda_test_setup)
{
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    nb_tensor *t = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32, .device = GPU));
    nb_graph *g = nb_graph_capture_end();
    cr_assert_not_null(g, "%s", nb_last_error());
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_graph_capture_begin", "already capturing", "cuda:0"));
    cr_assert_eq(nb_graph_replay(g), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_graph_replay", "captur"));
    cr_assert_null(nb_graph_capture_end()); /* the refused replay failed the capture */
    nb_clear_error();
    cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_item(nb_sum(t)), 3.0, "%s", nb_last_error());
    nb_graph_release(g);
    nb_release(t);
}

/* What another thread sees while this one captures on cuda:0: its status and message. */
typedef struct other_thread {
    nb_status status;
    char message[512];
} other_thread;

static void *use_the_device(void *arg)
{
    other_thread *r = arg;
    nb_tensor *t = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32, .device = GPU));
    r->status = nb_last_status();
    snprintf(r->message, sizeof r->message, "%s", nb_last_error());
    nb_release(t);
    nb_clear_error();
    return NULL;
}

Test(cuda_graph, other_threads_cannot_use_a_capturing_device, .init = cuda_test_setup)
{
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    other_thread r = {NB_OK, ""};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, use_the_device, &r), 0);
    pthread_join(th, NULL);
    nb_graph *g = nb_graph_capture_end();
    cr_assert_not_null(g, "the other thread's refusal must not fail this capture: %s", nb_last_error());
    nb_graph_release(g);
    cr_assert_eq(r.status, NB_ERR_ARGUMENT, "the other thread got %d: %s", (int)r.status, r.message);
    cr_assert(strstr(r.message, "nb_ones") && strstr(r.message, "another thread"), "%s", r.message);
    /* once the capture is over, the other thread may use the device again */
    cr_assert_eq(pthread_create(&th, NULL, use_the_device, &r), 0);
    pthread_join(th, NULL);
    cr_assert_eq(r.status, NB_OK, "%s", r.message);
}

/* ================================================================ faults */

Test(cuda_graph, a_kernel_fault_is_reported_at_the_next_read_naming_the_last_op, .init = cuda_test_setup)
{
    nb_tensor *t = nb_ones(NB_SHAPE(8), NB_OPTS(NB_FLOAT32, .device = GPU));
    nb_tensor *s = nb_sum(t);
    cr_assert_not_null(s, "%s", nb_last_error());
    cr_assert_eq(nb__debug_cuda_trap(GPU), NB_OK, "%s", nb_last_error()); /* queued: no error yet */
    double v = nb_item(s);
    cr_assert(isnan(v));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("a kernel failed on cuda:0", "the last op queued there was nb__debug_trap"));
    /* the device is unusable now, but nabla keeps reporting errors instead of aborting */
    nb_tensor *u = nb_add_scalar(t, 1);
    double w = nb_item(u);
    cr_assert(isnan(w));
    cr_assert_eq(nb_last_status(), NB_ERR_DEVICE, "%s", nb_last_error());
    nb_clear_error();
    nb_release(u), nb_release(s), nb_release(t);
}

/* nb_clip_grad_norm_ queues its work during a capture and returns NaN with no error; the replay
 * clips as an eager call does. Gradients on two devices are refused, naming both. */
Test(cuda_graph, clipping_in_a_capture_and_across_devices, .init = cuda_test_setup)
{
    nb_tensor *w = nb_requires_grad_(nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32, .device = GPU)), true);
    nb_tensor *g = nb_full(NB_SHAPE(4), 3.0, NB_OPTS(NB_FLOAT32, .device = GPU)); /* norm 6 */
    nb_params *p = nb_params_new();
    nb_params_add(p, w);
    cr_assert_eq(nb_backward_ex(w, g, false), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    cr_assert(isnan(nb_clip_grad_norm_(p, 1.5, 2.0)));
    assert_ok();
    nb_graph *graph = nb_graph_capture_end();
    cr_assert_not_null(graph, "%s", nb_last_error());
    cr_assert_eq(nb_graph_replay(graph), NB_OK, "%s", nb_last_error());
    nb_scope_begin();
    cr_assert_float_eq(nb_item(nb_sum(nb_grad(w))), 4 * 0.75, 1e-5, "each 3 scaled by 1.5 / 6");
    nb_scope_end();
    nb_graph_release(graph);

    nb_tensor *c = nb_requires_grad_(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)), true);
    nb_tensor *gc = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_backward_ex(c, gc, false), NB_OK, "%s", nb_last_error());
    nb_params_add(p, c);
    cr_assert(isnan(nb_clip_grad_norm_(p, 1.0, 2.0)));
    assert_error(NB_ERR_DEVICE, ERR_PARTS("nb_clip_grad_norm_", "parameter 1 is on cpu", "parameter 0 is on cuda:0",
                                          "one device"));
    nb_params_free(p);
    nb_release(w), nb_release(g), nb_release(c), nb_release(gc);
}

/* ================================================================ the gradient scaler */

/* One step of the seed's network under the scaler: scaled backward, Adam's step (skipped on the
 * device after an Inf), the scale's update, grads zeroed in place. */
static void scaled_adam_step(net *n, nb_params *params, nb_optimizer *opt, nb_grad_scaler *s)
{
    nb_scope_begin();
    nb_tensor *y_pred = nb_mm(nb_relu(nb_mm(n->x, n->w1)), n->w2);
    nb_backward(nb_grad_scaler_scale(s, nb_mse_loss(y_pred, n->y)));
    nb_grad_scaler_step(s, opt);
    nb_grad_scaler_update(s);
    nb_params_zero_grad(params);
    nb_scope_end();
}

Test(cuda_graph, a_replayed_scaled_step_skips_and_backs_off_on_an_injected_inf, .init = cuda_test_setup)
{
    net a = make_net(7, true), b = make_net(7, true);
    nb_params *pa = nb_params_new(), *pb = nb_params_new();
    nb_params_add(pa, a.w1), nb_params_add(pa, a.w2);
    nb_params_add(pb, b.w1), nb_params_add(pb, b.w2);
    nb_optimizer *oa = nb_adam_new(pa, (nb_adam_options){.lr = 1e-3});
    nb_optimizer *ob = nb_adam_new(pb, (nb_adam_options){.lr = 1e-3});
    nb_grad_scaler_options so = {.init_scale = 1024, .growth_interval = 2};
    nb_grad_scaler *sa = nb_grad_scaler_new(so), *sb = nb_grad_scaler_new(so);
    nb_tensor *good = nb_clone(a.x);
    nb_tensor *bad = nb_clone(a.x);
    nb_tensor *corner = nb_narrow(nb_narrow(bad, 0, 3, 1), 1, 5, 1);
    nb_fill_(corner, INFINITY);
    nb_release(corner);
    scaled_adam_step(&a, pa, oa, sa); /* the first step makes the state: eager on both */
    scaled_adam_step(&b, pb, ob, sb);
    assert_ok();
    cr_assert_eq(nb_graph_capture_begin(GPU), NB_OK, "%s", nb_last_error());
    scaled_adam_step(&b, pb, ob, sb);
    nb_graph *g = nb_graph_capture_end();
    cr_assert_not_null(g, "%s", nb_last_error());
    for (int step = 2; step <= 9; step++) {
        const bool inf = step == 4 || step == 5;
        nb_copy_(a.x, inf ? bad : good);
        nb_copy_(b.x, inf ? bad : good);
        float *before = floats_of(b.w1);
        scaled_adam_step(&a, pa, oa, sa);
        cr_assert_eq(nb_graph_replay(g), NB_OK, "%s", nb_last_error());
        float *after = floats_of(b.w1);
        if (inf) cr_assert(memcmp(before, after, 100 * 32 * sizeof(float)) == 0, "step %d changed w1", step);
        else cr_assert(memcmp(before, after, 100 * 32 * sizeof(float)) != 0, "step %d left w1 alone", step);
        free(before), free(after);
        const double want = nb_grad_scaler_get_scale(sa);
        cr_assert_eq(nb_item(nb_grad_scaler_get_scale_tensor(sb)), want, "step %d: scale %g replayed, %g eager", step,
                     nb_item(nb_grad_scaler_get_scale_tensor(sb)), want);
    }
    cr_assert_eq(nb_grad_scaler_get_scale(sb), 1024.0 * 2 / 4 * 2 * 2); /* grew, backed off twice, grew twice */
    assert_same_values(b.w1, a.w1, "w1");
    assert_same_values(b.w2, a.w2, "w2");
    nb_graph_release(g);
    nb_release(good), nb_release(bad);
    nb_grad_scaler_free(sa), nb_grad_scaler_free(sb);
    nb_optimizer_free(oa), nb_optimizer_free(ob);
    nb_params_free(pa), nb_params_free(pb);
    free_net(&a), free_net(&b);
    assert_ok();
}
