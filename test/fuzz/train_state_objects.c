/* train_state_objects.c — the small training run of fuzz_train_state (train_state_objects.h). */
#include "train_state_objects.h"

static const char *const scalar_names[1] = {"step"};

void train_objects_new(train_objects *o)
{
    *o = (train_objects){0};
    nb_options f32 = {.dtype = NB_FLOAT32};
    nb_tensor *flat = nb_arange(0, 6, 1, f32);
    o->weight = nb_requires_grad_(nb_reshape(flat, NB_SHAPE(3, 2)), true); /* a leaf: flat needs no grad */
    nb_release(flat);
    o->bias = nb_requires_grad_(nb_arange(0, 3, 1, f32), true);
    flat = nb_arange(0, 10, 1, f32);
    o->rows = nb_reshape(flat, NB_SHAPE(5, 2));
    nb_release(flat);
    o->state = nb_params_new(), o->decay = nb_params_new(), o->rest = nb_params_new();
    nb_params_add_named(o->state, "fc.weight", o->weight);
    nb_params_add_named(o->state, "fc.bias", o->bias);
    nb_params_add(o->decay, o->weight);
    nb_params_add(o->rest, o->bias);
    nb_param_group groups[2] = {{o->decay, -1, -1}, {o->rest, -1, 0}};
    o->opt = nb_adamw_new_groups(2, groups, (nb_adam_options){.lr = 1e-2, .weight_decay = 0.1});
    o->loader = nb_loader_new(o->rows, o->rows, (nb_loader_options){.batch_size = 2, .shuffle = true});
    o->checkpoint = (nb_checkpoint){.state = o->state, .optimizer = o->opt, .loader = o->loader, .nscalars = 1,
                                    .scalar_names = scalar_names, .scalars = &o->step};
}

void train_objects_step(train_objects *o)
{
    nb_scope_begin();
    nb_tensor *x = nb_ones(NB_SHAPE(4, 2), (nb_options){.dtype = NB_FLOAT32});
    nb_tensor *loss = nb_sum(nb_add(nb_mm(x, nb_transpose(o->weight, 0, 1)), o->bias));
    nb_backward(loss);
    nb_optimizer_step(o->opt);
    nb_optimizer_zero_grad(o->opt);
    if (nb_loader_epoch(o->loader) == 0 || nb_loader_position(o->loader) >= nb_loader_num_batches(o->loader))
        nb_loader_start_epoch(o->loader);
    nb_tensor *bx, *by;
    nb_loader_next(o->loader, &bx, &by);
    nb_scope_end();
    o->step += 1;
}

void train_objects_free(train_objects *o)
{
    nb_loader_free(o->loader);
    nb_optimizer_free(o->opt);
    nb_params_free(o->state), nb_params_free(o->decay), nb_params_free(o->rest);
    nb_release(o->weight), nb_release(o->bias), nb_release(o->rows);
}
