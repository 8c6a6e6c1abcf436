/* names.c — every kind of node nabla records, read from the table of kinds (kinds.c), so the
 * gradcheck table can prove it covers them all. */
#include "autograd.h"

#include <string.h>

int nb__autograd_node_names(const char **names, int cap)
{
    int n = 0;
    for (int kind = 0; kind < NB_NODE_KIND_COUNT; kind++) {
        if (!nb_node_defs[kind].backward) continue; /* not a node, or a leaf's accumulate node */
        if (n < cap) names[n] = nb_node_defs[kind].name;
        n++;
    }
    return n;
}

/* True when a node named name is in t's graph (a test hook: the gradcheck table checks that each
 * row exercises the node it claims to). */
bool nb__autograd_graph_has(const nb_tensor *t, const char *name)
{
    if (!t || !t->grad_fn) return false;
    nb_node *stack[256];
    int top = 0;
    stack[top++] = t->grad_fn;
    while (top) {
        nb_node *n = stack[--top];
        if (strcmp(nb__node_name(n), name) == 0) return true;
        for (int i = 0; i < n->num_inputs; i++)
            if (n->next[i].node && top < 256) stack[top++] = n->next[i].node;
    }
    return false;
}
