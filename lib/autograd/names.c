/* names.c — every kind of node nabla records, read from the backward tables, so the gradcheck
 * table can prove it covers them all. */
#include "autograd.h"
#include "backward_ewise.h"
#include "backward_reduce.h"

#include <string.h>

/* the nodes of nabla/nn.h's ops (lib/nn/softmax.c), NULL-terminated */
extern const char *const nb__nn_node_names[];

int nb__autograd_node_names(const char **names, int cap)
{
    int n = 0;
#define ADD(s)                                                                                   \
    do {                                                                                         \
        if (n < cap) names[n] = (s);                                                             \
        n++;                                                                                     \
    } while (0)
    for (int op = 0; op < NB_EW_COUNT; op++)
        if (nb_ew_grads[op].backward) ADD(nb_ew_grads[op].name);
    const nb_shape_grads *s = &nb_shape_grads_table;
    const char *others[] = {s->reshape,   s->permute,          s->narrow,       s->select,
                            s->expand,    s->copy.name,        s->copy_inplace.name,
                            s->fill.name, s->cat.name,         s->to.name,      nb_mm_grad.name,
                            nb_bmm_grad.name};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) ADD(others[i]);
    for (int r = 0; r < 4; r++) ADD(nb_reduce_grads[r].name);
    for (int i = 0; nb__nn_node_names[i]; i++) ADD(nb__nn_node_names[i]);
#undef ADD
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
        if (strcmp(n->name, name) == 0) return true;
        for (int i = 0; i < n->num_inputs; i++)
            if (n->next[i].node && top < 256) stack[top++] = n->next[i].node;
    }
    return false;
}
