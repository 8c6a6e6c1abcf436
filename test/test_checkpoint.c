/* test_checkpoint.c — suite checkpoint: nb_checkpoint_save and nb_checkpoint_load. A run saved
 * after some steps and restored into fresh objects continues bit for bit like the uninterrupted
 * run (SGD with momentum, Adam, AdamW with parameter groups and a schedule; a shuffled loader
 * saved mid-epoch and between epochs; dropout's random stream); user scalars come back exactly;
 * the file is a state_dict for other readers; bad requests and mismatched files are refused with
 * a message and change nothing; CUDA where a device exists. */
#include "cuda_checks.h"
#include "files.h"
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static char tmp_dir[64];

static void ck_setup(void)
{
    nb_test_setup();
    tmpdir_create(tmp_dir, sizeof tmp_dir, "checkpoint");
}

static void ck_teardown(void) { tree_remove(tmp_dir); }

TestSuite(checkpoint, .init = ck_setup, .fini = ck_teardown);

static const char *tmp_path(const char *name) { return path_join(tmp_dir, name); }

/* ---------------------------------------------------------------- a small model */

/* y = W2 relu(W1 x + b1) + b2 with dropout after the relu, on (rows, 4) inputs and 3 classes. */
typedef struct net {
    nb_linear *l1, *l2;
    nb_dropout_layer drop;
    nb_params *all;     /* every tensor, named */
    nb_params *decay;   /* the weights */
    nb_params *nodecay; /* the biases */
} net;

static net net_new(nb_device device)
{
    net n = {0};
    n.l1 = nb_linear_new(4, 8, true, (nb_options){.dtype = NB_FLOAT32, .device = device});
    n.l2 = nb_linear_new(8, 3, true, (nb_options){.dtype = NB_FLOAT32, .device = device});
    cr_assert(n.l1 && n.l2, "%s", nb_last_error());
    n.drop = (nb_dropout_layer){.p = 0.25, .training = true};
    n.all = nb_params_new();
    n.decay = nb_params_new();
    n.nodecay = nb_params_new();
    nb_params_add_named(n.all, "fc1.weight", n.l1->weight);
    nb_params_add_named(n.all, "fc1.bias", n.l1->bias);
    nb_params_add_named(n.all, "fc2.weight", n.l2->weight);
    nb_params_add_named(n.all, "fc2.bias", n.l2->bias);
    nb_params_add(n.decay, n.l1->weight);
    nb_params_add(n.decay, n.l2->weight);
    nb_params_add(n.nodecay, n.l1->bias);
    nb_params_add(n.nodecay, n.l2->bias);
    assert_ok();
    return n;
}

static void net_free(net *n)
{
    nb_params_free(n->all), nb_params_free(n->decay), nb_params_free(n->nodecay);
    nb_linear_free(n->l1), nb_linear_free(n->l2);
}

typedef enum optim_kind { USE_SGD, USE_ADAM, USE_ADAMW } optim_kind;

static nb_optimizer *optimizer_for(net *n, optim_kind kind)
{
    nb_param_group groups[2] = {{n->decay, -1, -1}, {n->nodecay, 0.02, 0}};
    nb_optimizer *opt = kind == USE_SGD ? nb_sgd_new_groups(2, groups, (nb_sgd_options){.lr = 0.05, .momentum = 0.9,
                                                                                        .weight_decay = 1e-3})
                        : kind == USE_ADAM ? nb_adam_new_groups(2, groups, (nb_adam_options){.lr = 1e-2,
                                                                                              .weight_decay = 1e-3})
                                           : nb_adamw_new_groups(2, groups, (nb_adam_options){.lr = 1e-2, .beta2 = 0.95,
                                                                                               .weight_decay = 0.1});
    cr_assert_not_null(opt, "%s", nb_last_error());
    return opt;
}

static const nb_lr_schedule schedule = {.kind = NB_LR_WARMUP_COSINE, .warmup_steps = 3, .total_steps = 20};

/* One training step on batch x (rows, 4), y (rows,): dropout draws from the generator. */
static void train_step(net *n, nb_optimizer *opt, const nb_tensor *x, const nb_tensor *y, int64_t step)
{
    nb_scope_begin();
    cr_assert_eq(nb_optimizer_schedule_step(opt, &schedule, step), NB_OK, "%s", nb_last_error());
    nb_tensor *h = nb_dropout_layer_forward(&n->drop, nb_relu(nb_linear_forward(n->l1, x)));
    nb_tensor *loss = nb_cross_entropy(nb_linear_forward(n->l2, h), y);
    cr_assert_eq(nb_backward(loss), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_optimizer_step(opt), NB_OK, "%s", nb_last_error());
    nb_optimizer_zero_grad(opt);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

/* A batch drawn from the generator, on device. */
static void random_batch(int64_t rows, nb_device device, nb_tensor **x, nb_tensor **y)
{
    nb_tensor *xc = nb_randn(NB_SHAPE(rows, 4), (nb_options){.dtype = NB_FLOAT32});
    nb_tensor *yc = nb_randint(0, 3, NB_SHAPE(rows), (nb_options){.dtype = NB_INT64});
    *x = nb_to(xc, device);
    *y = nb_to(yc, device);
    nb_release(xc), nb_release(yc);
}

static void run_steps(net *n, nb_optimizer *opt, int64_t first, int64_t last, nb_device device)
{
    for (int64_t s = first; s < last; s++) {
        nb_tensor *x, *y;
        random_batch(6, device, &x, &y);
        train_step(n, opt, x, y, s);
        nb_release(x), nb_release(y);
    }
}

/* a and b hold the same bytes (on any device) */
static void assert_bit_equal(const nb_tensor *a, const nb_tensor *b, const char *what)
{
    size_t na, nb;
    void *ba = cuda_host_bytes(a, &na), *bb = cuda_host_bytes(b, &nb);
    cr_assert_eq(na, nb, "%s: %zu vs %zu bytes", what, na, nb);
    cr_assert(memcmp(ba, bb, na) == 0, "%s: the values differ", what);
    free(ba), free(bb);
}

static void assert_params_bit_equal(const net *a, const net *b)
{
    for (int i = 0; i < nb_params_count(a->all); i++)
        assert_bit_equal(nb_params_get(a->all, i), nb_params_get(b->all, i), nb_params_name(a->all, i));
}

/* N steps, save, M more steps; against fresh objects loaded from the file then stepped M times. */
static void check_resume(optim_kind kind, nb_device device)
{
    const int64_t N = 5, M = 7;
    nb_manual_seed(11);
    net a = net_new(device);
    nb_optimizer *oa = optimizer_for(&a, kind);
    run_steps(&a, oa, 0, N, device);
    double scalars[2] = {(double)N, 0.1 + 1e-17}, back[2] = {-1, -1};
    const char *names[2] = {"step", "best_val_loss"};
    nb_checkpoint ca = {.state = a.all, .optimizer = oa, .nscalars = 2, .scalar_names = names, .scalars = scalars};
    const char *path = tmp_path("run.safetensors");
    cr_assert_eq(nb_checkpoint_save(path, &ca), NB_OK, "%s", nb_last_error());
    run_steps(&a, oa, N, N + M, device);

    nb_manual_seed(999); /* a different start: everything must come from the file */
    net b = net_new(device);
    nb_optimizer *ob = optimizer_for(&b, kind);
    nb_checkpoint cb = {.state = b.all, .optimizer = ob, .nscalars = 2, .scalar_names = names, .scalars = back};
    cr_assert_eq(nb_checkpoint_load(path, &cb), NB_OK, "%s", nb_last_error());
    cr_assert_eq(back[0], scalars[0]);
    cr_assert_eq(back[1], scalars[1], "%.17g vs %.17g", back[1], scalars[1]);
    cr_assert_eq(nb_optimizer_last_schedule_step(ob), N - 1);
    cr_assert_eq(nb_optimizer_group_lr(ob, 1), nb_lr_schedule_at(&schedule, 0.02, N - 1));
    run_steps(&b, ob, N, N + M, device);
    assert_params_bit_equal(&a, &b);

    nb_optimizer_free(oa), nb_optimizer_free(ob);
    net_free(&a), net_free(&b);
}

Test(checkpoint, sgd_resumes_bit_for_bit) { check_resume(USE_SGD, NB_DEVICE_CPU); }
Test(checkpoint, adam_resumes_bit_for_bit) { check_resume(USE_ADAM, NB_DEVICE_CPU); }
Test(checkpoint, adamw_resumes_bit_for_bit) { check_resume(USE_ADAMW, NB_DEVICE_CPU); }

Test(checkpoint, cuda_adamw_resumes_bit_for_bit, .init = cuda_test_setup)
{
    check_resume(USE_ADAMW, (nb_device){NB_CUDA, 0});
}

/* ---------------------------------------------------------------- what the file holds */

Test(checkpoint, file_is_a_state_dict_with_pytorch_slot_names)
{
    net n = net_new(NB_DEVICE_CPU);
    nb_optimizer *opt = optimizer_for(&n, USE_ADAMW);
    run_steps(&n, opt, 0, 2, NB_DEVICE_CPU);
    nb_checkpoint c = {.state = n.all, .optimizer = opt};
    const char *path = tmp_path("dict.safetensors");
    cr_assert_eq(nb_checkpoint_save(path, &c), NB_OK, "%s", nb_last_error());
    nb_tensor_dict *d = nb_load_safetensors(path, NULL);
    cr_assert_not_null(d, "%s", nb_last_error());
    assert_close(nb_tensor_dict_get(d, "fc1.weight"), n.l1->weight, 0, 0);
    assert_close(nb_tensor_dict_get(d, "optimizer/fc2.bias/exp_avg_sq"), n.l2->bias, 1e30, 1e30); /* shape only */
    cr_assert_eq(nb_item(nb_tensor_dict_get(d, "optimizer/fc1.weight/step")), 2.0);
    cr_assert_not_null(nb_tensor_dict_get(d, "optimizer/fc1.bias/exp_avg"));
    const nb_str_map *m = nb_tensor_dict_metadata(d);
    bool kind = false, format = false, group1 = false;
    for (int i = 0; i < m->n; i++) {
        kind |= strcmp(m->keys[i], "optimizer.kind") == 0 && strcmp(m->values[i], "AdamW") == 0;
        format |= strcmp(m->keys[i], "format") == 0 && strcmp(m->values[i], "nabla.checkpoint") == 0;
        group1 |= strcmp(m->keys[i], "optimizer.group.1") == 0 && strstr(m->values[i], "weight_decay=0 params=2");
    }
    cr_assert(kind && format && group1, "metadata incomplete");
    nb_tensor_dict_free(d);
    nb_optimizer_free(opt);
    net_free(&n);
}

Test(checkpoint, unnamed_entries_are_saved_under_their_index)
{
    nb_tensor *t = nb_arange(0, 6, 1, (nb_options){.dtype = NB_FLOAT64});
    nb_params *p = nb_params_new();
    nb_params_add(p, t);
    const char *path = tmp_path("unnamed.safetensors");
    cr_assert_eq(nb_checkpoint_save(path, &(nb_checkpoint){.state = p}), NB_OK, "%s", nb_last_error());
    nb_tensor_dict *d = nb_load_safetensors(path, NULL);
    assert_close(nb_tensor_dict_get(d, "0"), t, 0, 0);
    nb_tensor_dict_free(d);
    nb_fill_(t, 7);
    cr_assert_eq(nb_checkpoint_load(path, &(nb_checkpoint){.state = p}), NB_OK, "%s", nb_last_error());
    nb_tensor *sum = nb_sum(t);
    cr_assert_eq(nb_item(sum), 15.0);
    nb_release(sum);
    nb_params_free(p);
    nb_release(t);
}

Test(checkpoint, plain_safetensors_restores_the_state_alone)
{
    net n = net_new(NB_DEVICE_CPU);
    const char *names[4] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
    nb_tensor *values[4];
    for (int i = 0; i < 4; i++) values[i] = nb_full(nb_ndim(nb_params_get(n.all, i)),
                                                  nb_shape(nb_params_get(n.all, i)), i + 1, (nb_options){0});
    const char *path = tmp_path("plain.safetensors");
    cr_assert_eq(nb_save_safetensors(path, 4, names, values, NULL), NB_OK, "%s", nb_last_error());
    nb_rng_state before = nb_rng_get_state();
    cr_assert_eq(nb_checkpoint_load(path, &(nb_checkpoint){.state = n.all}), NB_OK, "%s", nb_last_error());
    for (int i = 0; i < 4; i++) assert_close(nb_params_get(n.all, i), values[i], 0, 0);
    nb_rng_state after = nb_rng_get_state();
    cr_assert(after.seed == before.seed && after.offset == before.offset, "a plain file leaves the generator");

    nb_optimizer *opt = optimizer_for(&n, USE_SGD);
    nb_status st = nb_checkpoint_load(path, &(nb_checkpoint){.state = n.all, .optimizer = opt});
    assert_error(st, 2, (const char *[]){"nb_checkpoint_load", "not a nabla checkpoint"});
    nb_optimizer_free(opt);
    for (int i = 0; i < 4; i++) nb_release(values[i]);
    net_free(&n);
}

/* ---------------------------------------------------------------- the loader's place */

/* The inputs of the next k batches, concatenated: (k * batch, 1). */
static nb_tensor *take_batches(nb_loader *l, int k)
{
    nb_tensor *parts[16] = {NULL};
    for (int i = 0; i < k; i++) {
        nb_tensor *x, *y;
        cr_assert(nb_loader_next(l, &x, &y), "batch %d: %s", i, nb_last_error());
        parts[i] = x;
        nb_release(y);
    }
    nb_tensor *all = nb_cat(k, parts, 0);
    for (int i = 0; i < k; i++) nb_release(parts[i]);
    return all;
}

static nb_loader *loader_of(nb_tensor *rows)
{
    nb_loader *l = nb_loader_new(rows, rows, (nb_loader_options){.batch_size = 4, .shuffle = true});
    cr_assert_not_null(l, "%s", nb_last_error());
    return l;
}

static void check_loader_resume(int taken_before_save)
{
    nb_scope_begin(); /* the batches and their concatenations */
    nb_tensor *rows = nb_reshape(nb_arange(0, 20, 1, (nb_options){.dtype = NB_FLOAT32}), NB_SHAPE(20, 1));
    nb_params *none = nb_params_new();
    nb_manual_seed(5);
    nb_loader *a = loader_of(rows);
    cr_assert_eq(nb_loader_start_epoch(a), NB_OK);
    nb_release(take_batches(a, taken_before_save));
    const char *path = tmp_path("loader.safetensors");
    cr_assert_eq(nb_checkpoint_save(path, &(nb_checkpoint){.state = none, .loader = a}), NB_OK, "%s", nb_last_error());
    nb_tensor *rest_a = taken_before_save < 5 ? take_batches(a, 5 - taken_before_save) : NULL;
    cr_assert_eq(nb_loader_start_epoch(a), NB_OK); /* the next epoch's order comes from the generator */
    nb_tensor *next_a = take_batches(a, 5);

    nb_manual_seed(77);
    nb_loader *b = loader_of(rows);
    cr_assert_eq(nb_checkpoint_load(path, &(nb_checkpoint){.state = none, .loader = b}), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_loader_epoch(b), 1);
    cr_assert_eq(nb_loader_position(b), taken_before_save);
    if (rest_a) assert_close(take_batches(b, 5 - taken_before_save), rest_a, 0, 0);
    nb_tensor *x, *y;
    cr_assert_not(nb_loader_next(b, &x, &y), "the restored epoch has 5 batches");
    assert_ok();
    cr_assert_eq(nb_loader_start_epoch(b), NB_OK);
    assert_close(take_batches(b, 5), next_a, 0, 0);
    cr_assert_eq(nb_loader_epoch(b), 2);

    nb_release(rest_a), nb_release(next_a), nb_release(rows);
    nb_loader_free(a), nb_loader_free(b);
    nb_params_free(none);
    cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
}

Test(checkpoint, loader_resumes_mid_epoch) { check_loader_resume(2); }
Test(checkpoint, loader_resumes_at_the_end_of_an_epoch) { check_loader_resume(5); }

Test(checkpoint, loader_before_its_first_epoch)
{
    nb_tensor *rows = nb_zeros(NB_SHAPE(8, 2), (nb_options){0});
    nb_params *none = nb_params_new();
    nb_loader *a = loader_of(rows), *b = loader_of(rows);
    const char *path = tmp_path("fresh.safetensors");
    cr_assert_eq(nb_checkpoint_save(path, &(nb_checkpoint){.state = none, .loader = a}), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_loader_start_epoch(b), NB_OK);
    cr_assert_eq(nb_checkpoint_load(path, &(nb_checkpoint){.state = none, .loader = b}), NB_OK, "%s", nb_last_error());
    cr_assert_eq(nb_loader_epoch(b), 0);
    nb_tensor *x, *y;
    cr_assert_not(nb_loader_next(b, &x, &y));
    assert_error(NB_ERR_ARGUMENT, 1, (const char *[]){"no epoch was started"});
    nb_loader_free(a), nb_loader_free(b);
    nb_params_free(none);
    nb_release(rows);
}

/* ---------------------------------------------------------------- refusals */

/* A saved AdamW run of net n at path. */
static void save_run(net *n, nb_optimizer *opt, const char *path)
{
    run_steps(n, opt, 0, 2, NB_DEVICE_CPU);
    double step = 2;
    const char *name = "step";
    nb_checkpoint c = {.state = n->all, .optimizer = opt, .nscalars = 1, .scalar_names = &name, .scalars = &step};
    cr_assert_eq(nb_checkpoint_save(path, &c), NB_OK, "%s", nb_last_error());
}

/* The load is refused with status and every fragment, and b's parameters are unchanged. */
static void refused_load(const char *path, const nb_checkpoint *c, nb_status status, int nparts,
                         const char *const *parts)
{
    nb_tensor *before = nb_clone(nb_params_get(c->state, 0));
    nb_rng_state rng = nb_rng_get_state();
    nb_status st = nb_checkpoint_load(path, c);
    cr_assert_neq(st, NB_OK);
    assert_error(status, nparts, parts);
    assert_close(nb_params_get(c->state, 0), before, 0, 0);
    nb_rng_state now = nb_rng_get_state();
    cr_assert(now.seed == rng.seed && now.offset == rng.offset, "a refused load leaves the generator");
    nb_release(before);
}

Test(checkpoint, mismatches_are_refused_and_change_nothing)
{
    net a = net_new(NB_DEVICE_CPU), b = net_new(NB_DEVICE_CPU);
    nb_optimizer *oa = optimizer_for(&a, USE_ADAMW);
    const char *path = tmp_path("a.safetensors");
    save_run(&a, oa, path);

    nb_optimizer *sgd = optimizer_for(&b, USE_SGD);
    refused_load(path, &(nb_checkpoint){.state = b.all, .optimizer = sgd}, NB_ERR_ARGUMENT, 3,
                 (const char *[]){path, "AdamW", "this one is SGD"});
    nb_optimizer_free(sgd);

    nb_param_group g[2] = {{b.decay, -1, -1}, {b.nodecay, 0.02, 0}};
    nb_optimizer *other_betas = nb_adamw_new_groups(2, g, (nb_adam_options){.lr = 1e-2, .weight_decay = 0.1});
    refused_load(path, &(nb_checkpoint){.state = b.all, .optimizer = other_betas}, NB_ERR_ARGUMENT, 2,
                 (const char *[]){"options", "beta2=0.95"});
    nb_optimizer_free(other_betas);

    nb_optimizer *one_group = nb_adamw_new(b.all, (nb_adam_options){.lr = 1e-2, .beta2 = 0.95, .weight_decay = 0.1});
    refused_load(path, &(nb_checkpoint){.state = b.all, .optimizer = one_group}, NB_ERR_ARGUMENT, 2,
                 (const char *[]){"2 parameter groups", "this one has 1"});
    nb_optimizer_free(one_group);

    const char *missing = "epoch";
    double v;
    refused_load(path, &(nb_checkpoint){.state = b.all, .nscalars = 1, .scalar_names = &missing, .scalars = &v},
                 NB_ERR_ARGUMENT, 1, (const char *[]){"no scalar \"epoch\""});

    nb_loader *l = nb_loader_new(a.l1->weight, a.l1->weight, (nb_loader_options){.batch_size = 2});
    refused_load(path, &(nb_checkpoint){.state = b.all, .loader = l}, NB_ERR_ARGUMENT, 1,
                 (const char *[]){"no loader state"});
    nb_loader_free(l);

    nb_params *fewer = nb_params_new(), *more = nb_params_new();
    nb_params_add_named(fewer, "fc1.weight", b.l1->weight);
    refused_load(path, &(nb_checkpoint){.state = fewer}, NB_ERR_ARGUMENT, 2,
                 (const char *[]){"\"fc1.bias\"", "that the state list lacks"});
    nb_params_add_named(more, "fc1.weight", b.l1->weight);
    nb_params_add_named(more, "head.weight", b.l2->weight);
    refused_load(path, &(nb_checkpoint){.state = more}, NB_ERR_ARGUMENT, 2,
                 (const char *[]){"no tensor \"head.weight\"", "state entry 1"});
    nb_params_free(fewer), nb_params_free(more);

    net wide = net_new(NB_DEVICE_CPU);
    nb_linear *l1 = nb_linear_new(5, 8, true, (nb_options){0});
    nb_params *shaped = nb_params_new();
    nb_params_add_named(shaped, "fc1.weight", l1->weight);
    refused_load(path, &(nb_checkpoint){.state = shaped}, NB_ERR_ARGUMENT, 3,
                 (const char *[]){"\"fc1.weight\"", "[8, 4]", "[8, 5]"});
    nb_params_free(shaped), nb_linear_free(l1), net_free(&wide);

    nb_optimizer_free(oa);
    net_free(&a), net_free(&b);
}

Test(checkpoint, a_bad_loader_order_is_refused)
{
    nb_tensor *rows = nb_zeros(NB_SHAPE(4, 1), (nb_options){0});
    nb_loader *l = loader_of(rows);
    nb_params *none = nb_params_new();
    int64_t bad[4] = {0, 1, 1, 3}; /* not a permutation */
    nb_tensor *order = nb_from_array(bad, NB_SHAPE(4), (nb_options){.dtype = NB_INT64});
    const char *keys[] = {"format", "version", "rng.seed", "rng.offset", "loader.rows", "loader.batch_size",
                          "loader.batches", "loader.epoch", "loader.position", "loader.started"};
    const char *values[] = {"nabla.checkpoint", "1", "1", "0", "4", "4", "1", "1", "0", "1"};
    nb_str_map meta = {10, keys, values};
    const char *path = tmp_path("order.safetensors"), *name = "loader/order";
    cr_assert_eq(nb_save_safetensors(path, 1, &name, &order, &meta), NB_OK, "%s", nb_last_error());
    nb_status st = nb_checkpoint_load(path, &(nb_checkpoint){.state = none, .loader = l});
    cr_assert_neq(st, NB_OK);
    assert_error(NB_ERR_ARGUMENT, 2, (const char *[]){"not a permutation", "entry 2 is 1"});
    cr_assert_eq(nb_loader_epoch(l), 0, "the loader is unchanged");

    values[5] = "2"; /* a batch size that differs from the loader's */
    cr_assert_eq(nb_save_safetensors(path, 1, &name, &order, &meta), NB_OK, "%s", nb_last_error());
    st = nb_checkpoint_load(path, &(nb_checkpoint){.state = none, .loader = l});
    assert_error(NB_ERR_ARGUMENT, 2, (const char *[]){"batches of 2", "batches of 4"});
    nb_release(order), nb_release(rows);
    nb_loader_free(l);
    nb_params_free(none);
}

Test(checkpoint, bad_metadata_is_refused)
{
    nb_tensor *t = nb_zeros(NB_SHAPE(2), (nb_options){0});
    nb_params *p = nb_params_new();
    nb_params_add_named(p, "w", t);
    const char *name = "w", *path = tmp_path("meta.safetensors");
    const char *keys[] = {"format", "version", "rng.seed", "rng.offset"};
    const char *values[] = {"nabla.checkpoint", "1", "12x", "0"};
    nb_str_map meta = {4, keys, values};
    cr_assert_eq(nb_save_safetensors(path, 1, &name, &t, &meta), NB_OK, "%s", nb_last_error());
    cr_assert_neq(nb_checkpoint_load(path, &(nb_checkpoint){.state = p}), NB_OK);
    assert_error(NB_ERR_IO, 2, (const char *[]){"\"rng.seed\" is \"12x\"", "an unsigned integer"});
    values[1] = "9";
    cr_assert_eq(nb_save_safetensors(path, 1, &name, &t, &meta), NB_OK, "%s", nb_last_error());
    cr_assert_neq(nb_checkpoint_load(path, &(nb_checkpoint){.state = p}), NB_OK);
    assert_error(NB_ERR_IO, 2, (const char *[]){"\"version\" is \"9\"", "the version this nabla reads"});
    values[0] = "something.else";
    cr_assert_eq(nb_save_safetensors(path, 1, &name, &t, &meta), NB_OK, "%s", nb_last_error());
    cr_assert_neq(nb_checkpoint_load(path, &(nb_checkpoint){.state = p}), NB_OK);
    assert_error(NB_ERR_IO, 1, (const char *[]){"\"format\" is \"something.else\""});
    nb_params_free(p);
    nb_release(t);
}

Test(checkpoint, bad_requests_are_refused)
{
    nb_tensor *t = nb_zeros(NB_SHAPE(2), (nb_options){0});
    nb_params *p = nb_params_new();
    nb_params_add_named(p, "a/b", t);
    const char *path = tmp_path("x.safetensors");
    cr_assert_neq(nb_checkpoint_save(path, &(nb_checkpoint){.state = p}), NB_OK);
    assert_error(NB_ERR_ARGUMENT, 2, (const char *[]){"\"a/b\"", "training state"});
    cr_assert_neq(nb_checkpoint_save(path, &(nb_checkpoint){0}), NB_OK);
    assert_error(NB_ERR_NULL, 1, (const char *[]){"state"});
    cr_assert_neq(nb_checkpoint_save(NULL, &(nb_checkpoint){.state = p}), NB_OK);
    assert_error(NB_ERR_NULL, 1, (const char *[]){"path"});
    const char *twice[2] = {"s", "s"};
    double v[2] = {0, 0};
    nb_params *q = nb_params_new();
    cr_assert_neq(nb_checkpoint_save(path, &(nb_checkpoint){.state = q, .nscalars = 2, .scalar_names = twice,
                                                           .scalars = v}), NB_OK);
    assert_error(NB_ERR_ARGUMENT, 1, (const char *[]){"both named \"s\""});
    cr_assert_neq(nb_checkpoint_load(tmp_path("missing.safetensors"), &(nb_checkpoint){.state = q}), NB_OK);
    cr_assert(strstr(nb_last_error(), "missing.safetensors"), "%s", nb_last_error());
    nb_clear_error();

    nb_tensor *free_t = nb_zeros(NB_SHAPE(2), (nb_options){.requires_grad = true});
    nb_params *other = nb_params_new();
    nb_params_add(other, free_t);
    nb_optimizer *opt = nb_sgd_new(other, (nb_sgd_options){.lr = 0.1, .momentum = 0.5});
    nb_scope_begin();
    nb_backward(nb_sum(nb_mul(free_t, free_t)));
    nb_scope_end();
    nb_optimizer_step(opt);
    cr_assert_neq(nb_checkpoint_save(path, &(nb_checkpoint){.state = q, .optimizer = opt}), NB_OK);
    assert_error(NB_ERR_ARGUMENT, 1, (const char *[]){"not in the checkpoint's state list"});
    nb_optimizer_free(opt);
    nb_release(free_t);
    nb_params_free(p), nb_params_free(q), nb_params_free(other);
    nb_release(t);
}

/* ---------------------------------------------------------------- a gradient scaler */

/* Steps of net n with AdamW under scaler (growth every 2 clean steps); an Inf loss on step 3. */
static void scaled_steps(net *n, nb_optimizer *opt, nb_grad_scaler *scaler, int64_t first, int64_t last)
{
    for (int64_t s = first; s < last; s++) {
        nb_scope_begin();
        nb_tensor *x, *y;
        random_batch(6, NB_DEVICE_CPU, &x, &y);
        nb_tensor *loss = nb_cross_entropy(nb_linear_forward(n->l2, nb_relu(nb_linear_forward(n->l1, x))), y);
        if (s == 3) loss = nb_mul_scalar(loss, INFINITY);
        cr_assert_eq(nb_backward(nb_grad_scaler_scale(scaler, loss)), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_grad_scaler_step(scaler, opt), NB_OK, "%s", nb_last_error());
        cr_assert_eq(nb_grad_scaler_update(scaler), NB_OK, "%s", nb_last_error());
        nb_optimizer_zero_grad(opt);
        nb_release(x), nb_release(y);
        cr_assert_eq(nb_scope_end(), NB_OK, "%s", nb_last_error());
    }
}

Test(checkpoint, grad_scaler_resumes_bit_for_bit)
{
    const nb_grad_scaler_options so = {.init_scale = 1024, .growth_interval = 2};
    nb_manual_seed(3);
    net a = net_new(NB_DEVICE_CPU);
    nb_optimizer *oa = optimizer_for(&a, USE_ADAMW);
    nb_grad_scaler *sa = nb_grad_scaler_new(so);
    const char *path = tmp_path("scaled.safetensors");
    cr_assert_eq(nb_checkpoint_save(path, &(nb_checkpoint){.state = a.all, .optimizer = oa, .scaler = sa}), NB_OK,
                 "%s", nb_last_error()); /* before its first step: a new scaler's state */
    scaled_steps(&a, oa, sa, 0, 5);
    const double saved_scale = nb_grad_scaler_get_scale(sa);
    cr_assert_eq(saved_scale, 1024.0, "doubled after steps 0-1, halved at step 3's Inf: %g", saved_scale);
    cr_assert_eq(nb_checkpoint_save(path, &(nb_checkpoint){.state = a.all, .optimizer = oa, .scaler = sa}), NB_OK,
                 "%s", nb_last_error());
    scaled_steps(&a, oa, sa, 5, 9);

    nb_manual_seed(4);
    net b = net_new(NB_DEVICE_CPU);
    nb_optimizer *ob = optimizer_for(&b, USE_ADAMW);
    nb_grad_scaler *sb = nb_grad_scaler_new(so);
    cr_assert_eq(nb_checkpoint_load(path, &(nb_checkpoint){.state = b.all, .optimizer = ob, .scaler = sb}), NB_OK,
                 "%s", nb_last_error());
    cr_assert_eq(nb_grad_scaler_get_scale(sb), saved_scale);
    scaled_steps(&b, ob, sb, 5, 9);
    assert_params_bit_equal(&a, &b);
    cr_assert_eq(nb_grad_scaler_get_scale(sb), nb_grad_scaler_get_scale(sa));

    const char *plain = tmp_path("unscaled.safetensors");
    cr_assert_eq(nb_checkpoint_save(plain, &(nb_checkpoint){.state = b.all}), NB_OK, "%s", nb_last_error());
    refused_load(plain, &(nb_checkpoint){.state = b.all, .scaler = sb}, NB_ERR_ARGUMENT, 2,
                 (const char *[]){plain, "no gradient scaler state"});
    nb_grad_scaler_free(sa), nb_grad_scaler_free(sb);
    nb_optimizer_free(oa), nb_optimizer_free(ob);
    net_free(&a), net_free(&b);
}
