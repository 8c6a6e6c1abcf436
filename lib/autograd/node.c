/* node.c — node lifetime. Graphs are freed with an explicit worklist, so a chain of a million
 * ops is released without deep recursion. */
#include "node.h"

#include <stdlib.h>

static void release_saved(nb_node *n)
{
    for (int i = 0; i < NB_NODE_MAX_SAVED; i++) {
        nb_release(n->saved[i].tensor);
        n->saved[i].tensor = NULL;
    }
}

void nb__node_release(nb_node *n)
{
    if (!n || atomic_fetch_sub_explicit(&n->refcount, 1, memory_order_acq_rel) != 1) return;
    /* n is dead; its edges are pushed onto a worklist instead of being released recursively */
    size_t top = 0;
    nb_node **work = malloc(64 * sizeof *work);
    size_t cap = work ? 64 : 0;
    nb_node *cur = n;
    for (;;) {
        release_saved(cur);
        nb_release(cur->grad_buffer);
        for (int i = 0; i < cur->num_inputs; i++) {
            nb_node *child = cur->next[i].node;
            if (!child) continue;
            if (atomic_fetch_sub_explicit(&child->refcount, 1, memory_order_acq_rel) != 1) continue;
            if (top == cap) {
                nb_node **grown = work ? realloc(work, 2 * cap * sizeof *work) : NULL;
                if (!grown) { /* out of memory: fall back to recursion for this child */
                    atomic_store(&child->refcount, 1);
                    nb__node_release(child);
                    continue;
                }
                work = grown;
                cap *= 2;
            }
            work[top++] = child;
        }
        free(cur);
        if (top == 0) break;
        cur = work[--top];
    }
    free(work);
}
