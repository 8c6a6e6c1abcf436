/* fuzz_train_state.c — libFuzzer target for nb_checkpoint_load (lib/checkpoint.c).
 *
 * Each input is a file to restore into a fixed small run (train_state_objects.h: named
 * parameters, AdamW with two groups, a shuffled loader, a scalar). A refused load must name
 * nb_checkpoint_load and the file and change nothing: the parameters' values, the loader's place
 * and the generator. A restored one must hold the file's parameter values exactly, a loader place
 * within its epoch, and the run must be able to take another step and batch from it. */
#include "fuzz_common.h"
#include "train_state_objects.h"

#include <stdlib.h>
#include <string.h>

/* t's bytes, malloc'd (CPU tensors, contiguous here) */
static void *bytes_of(const nb_tensor *t, size_t *n)
{
    *n = (size_t)nb_numel(t) * nb_dtype_size(nb_dtype_of(t));
    void *b = malloc(*n + 1);
    if (!b) fuzz_fail("out of memory");
    memcpy(b, nb_data(t), *n);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(0, data, size);
    train_objects o;
    train_objects_new(&o);
    if (!o.opt || !o.loader || !o.weight || !o.bias) fuzz_fail("cannot build the run");
    size_t nw, nbias;
    void *w0 = bytes_of(o.weight, &nw), *b0 = bytes_of(o.bias, &nbias);
    nb_rng_state rng = nb_rng_get_state();

    nb_clear_error();
    if (nb_checkpoint_load(path, &o.checkpoint) != NB_OK) {
        fuzz_expect_refusal("nb_checkpoint_load", path);
        nb_rng_state now = nb_rng_get_state();
        if (memcmp(nb_data(o.weight), w0, nw) != 0 || memcmp(nb_data(o.bias), b0, nbias) != 0)
            fuzz_fail("a refused load changed the parameters");
        if (nb_loader_epoch(o.loader) != 0 || now.seed != rng.seed || now.offset != rng.offset)
            fuzz_fail("a refused load changed the loader or the generator");
    } else {
        fuzz_expect_success("nb_checkpoint_load", path);
        nb_tensor_dict *d = nb_load_safetensors(path, NULL);
        if (!d) fuzz_fail("nb_checkpoint_load accepted a file nb_load_safetensors refuses");
        const char *names[2] = {"fc.weight", "fc.bias"};
        const nb_tensor *params[2] = {o.weight, o.bias};
        for (int i = 0; i < 2; i++) {
            const nb_tensor *want = nb_tensor_dict_get(d, names[i]);
            size_t n;
            void *got = bytes_of(params[i], &n);
            if (!want || memcmp(nb_data(want), got, n) != 0) fuzz_fail("%s does not hold the file's values", names[i]);
            free(got);
        }
        nb_tensor_dict_free(d);
        int64_t pos = nb_loader_position(o.loader);
        if (pos < 0 || pos > nb_loader_num_batches(o.loader)) fuzz_fail("a restored loader at batch %lld", (long long)pos);
        train_objects_step(&o); /* the restored state steps like any other */
        nb_clear_error();
    }
    free(w0), free(b0);
    train_objects_free(&o);
    nb_clear_error();
    return 0;
}
