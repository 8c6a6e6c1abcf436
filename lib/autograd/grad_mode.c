/* grad_mode.c — thread-local grad mode and nestable no-grad scopes. */
#include "autograd.h"

#include "../error.h"

static _Thread_local int no_grad_depth = 0;

void nb_no_grad_begin(void) { no_grad_depth++; }

void nb_no_grad_end(void)
{
    if (no_grad_depth == 0) {
        nb__fail(NB_ERR_ARGUMENT, "nb_no_grad_end: no no-grad scope is open");
        return;
    }
    no_grad_depth--;
}

bool nb_is_grad_enabled(void) { return no_grad_depth == 0; }
bool nb__grad_enabled(void) { return no_grad_depth == 0; }

bool nb__needs_graph(int n, const nb_tensor *const *ts)
{
    if (no_grad_depth) return false;
    for (int i = 0; i < n; i++)
        if (ts[i] && ts[i]->requires_grad) return true;
    return false;
}

void nb__set_history(nb_tensor *out, nb_node *node)
{
    nb__node_release(out->grad_fn);
    out->grad_fn = node;
    out->requires_grad = true;
}
