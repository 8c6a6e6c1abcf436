/* nabla/checkpoint.h — training-state checkpoints: one call saves, and one call restores,
 * everything a run needs to continue bit for bit (included by nabla.h).
 *
 *   nb_checkpoint ck = {.state = model_state, .optimizer = opt, .loader = loader,
 *                       .nscalars = 2, .scalar_names = names, .scalars = values};
 *   nb_checkpoint_save("run.safetensors", &ck);   ...   nb_checkpoint_load("run.safetensors", &ck);
 *
 * The file is a safetensors file (nabla/safetensors.h), written atomically (a temporary file
 * renamed over the path), holding:
 *   - the state list's tensors under their names (nb_params_add_named, nb_module_state; an
 *     unnamed entry under its index, "0", "1", ...), so the file is also a PyTorch state_dict that
 *     safetensors.torch.load_file reads;
 *   - the optimizer's state under "optimizer/<parameter name>/<slot>", PyTorch's slot names:
 *     momentum_buffer (SGD), exp_avg, exp_avg_sq and step (Adam, AdamW);
 *   - the loader's order under "loader/order";
 *   - a gradient scaler's scale and growth tracker under "grad_scaler/scale" and
 *     "grad_scaler/growth_tracker";
 *   - in the metadata: "format" "nabla.checkpoint", "version" "1"; the generator's state
 *     ("rng.seed", "rng.offset"); the optimizer's kind, options, groups ("optimizer.group.<k>":
 *     rates, decay and size) and schedule step; the loader's epoch and position; and the user's
 *     scalars ("scalar.<name>"). Numbers are decimal text that reads back exactly.
 * nabla has one generator for every device (a draw on CUDA continues the same stream), so its
 * state is the generator's state on every device. Names with a '/' are the training state: a
 * model never has them. */
#ifndef NABLA_CHECKPOINT_H
#define NABLA_CHECKPOINT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_checkpoint {
    nb_params *state;         /* parameters and buffers, by name (required) */
    nb_optimizer *optimizer;  /* NULL: none saved, none restored */
    nb_loader *loader;        /* NULL: none saved, none restored */
    nb_grad_scaler *scaler;   /* NULL: none saved, none restored */
    int nscalars;             /* user scalars: the step, the best validation loss, ... */
    const char *const *scalar_names; /* (nscalars,) unique, non-empty UTF-8 */
    double *scalars;          /* (nscalars,) saved from here; a load writes them here */
} nb_checkpoint;

/* Saves c to path atomically; NB_OK, or an error naming path and what failed. */
NB_API nb_status nb_checkpoint_save(const char *path, const nb_checkpoint *c);
/* Restores what c names from path: the state's values (copied into its tensors on their
 * devices), the optimizer's state, the gradient scaler's scale and growth tracker, the generator,
 * the loader's place (a loader saved in the middle of an epoch hands out that epoch's next batch;
 * call nb_loader_start_epoch only when nb_loader_position has reached nb_loader_num_batches) and
 * the scalars. Everything is checked first (every state name present with its shape and dtype, no
 * unknown names, the optimizer's kind, options and groups, the loader's size, the scaler's state,
 * every scalar there), so a refused load changes nothing. A plain safetensors file (written by
 * PyTorch, say) restores the state alone: asking it for an optimizer, a loader, a scaler or
 * scalars is an error. */
NB_API nb_status nb_checkpoint_load(const char *path, const nb_checkpoint *c);

#ifdef __cplusplus
}
#endif

#endif /* NABLA_CHECKPOINT_H */
