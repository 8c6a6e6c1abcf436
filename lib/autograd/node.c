/* node.c — graph nodes: creation with edges to the inputs' histories, saved tensors with their
 * versions, and release. Graphs are freed with an explicit worklist, so a chain of a million ops
 * is released without deep recursion. */
#include "node.h"

#include "../error.h"

#include <stdlib.h>
#include <string.h>

static nb_node *accumulate_node(nb_tensor *leaf)
{
    if (leaf->grad_acc) {
        atomic_fetch_add_explicit(&leaf->grad_acc->refcount, 1, memory_order_relaxed);
        return leaf->grad_acc;
    }
    nb_node *n = calloc(1, sizeof *n);
    if (!n) return nb__fail(NB_ERR_MEMORY, "autograd: out of memory recording a leaf");
    atomic_init(&n->refcount, 1);
    n->kind = NB_NODE_ACCUMULATE;
    n->op = "leaf";
    n->leaf = leaf;
    leaf->grad_acc = n;
    return n;
}

nb_edge nb__edge_of(const nb_tensor *t)
{
    nb_edge e = {NULL, 0};
    if (!t || !t->requires_grad) return e;
    if (t->grad_fn) {
        atomic_fetch_add_explicit(&t->grad_fn->refcount, 1, memory_order_relaxed);
        e.node = t->grad_fn;
    } else {
        e.node = accumulate_node((nb_tensor *)t);
    }
    return e;
}

nb_node *nb__node_new(nb_node_kind kind, const char *op, int n, const nb_tensor *const *inputs)
{
    size_t size = sizeof(nb_node) + (size_t)n * (sizeof(nb_edge) + sizeof(nb_input_meta));
    nb_node *node = calloc(1, size);
    if (!node) return nb__fail(NB_ERR_MEMORY, "%s: out of memory recording its backward", op);
    atomic_init(&node->refcount, 1);
    node->kind = kind;
    node->op = op;
    node->num_inputs = n;
    node->next = (nb_edge *)(node + 1);
    node->input = (nb_input_meta *)(node->next + n);
    for (int i = 0; i < n; i++) {
        const nb_tensor *t = inputs[i];
        node->input[i].ndim = t->ndim;
        memcpy(node->input[i].shape, t->shape, sizeof t->shape);
        node->input[i].dtype = t->dtype;
        node->input[i].device = t->storage->device;
        node->next[i] = nb__edge_of(t);
        if (t->requires_grad && !node->next[i].node) { /* out of memory */
            nb__node_release(node);
            return NULL;
        }
    }
    return node;
}

bool nb__node_save(nb_node *n, int slot, const nb_tensor *t, bool is_output)
{
    (void)is_output;
    /* The node keeps its own header over t's elements: no grad_fn (so no cycle through an
     * output), and no tie to whoever owns t. The storage's version still tracks writes. */
    nb_tensor *kept = nb__view_of(n->op, t->storage, t->offset, t->ndim, t->shape, t->strides, t->dtype);
    if (!kept) return false;
    nb__untrack(kept);
    n->saved[slot].tensor = kept;
    n->saved[slot].version = t->storage->version;
    return true;
}

nb_tensor *nb__node_saved(nb_node *n, int slot)
{
    if (n->saved_released)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "backward: %s (recorded by %s) was already run by an earlier backward, which "
                        "freed its saved tensors; pass retain_graph = true to nb_backward_ex to "
                        "backward through a graph twice",
                        nb__node_name(n), n->op);
    nb_saved *s = &n->saved[slot];
    if (s->tensor->storage->version != s->version)
        return nb__fail(NB_ERR_AUTOGRAD,
                        "backward: a tensor needed for the gradient was modified by an in-place "
                        "operation: %s (recorded by %s) saved it at version %llu, and it is now at "
                        "version %llu",
                        nb__node_name(n), n->op, (unsigned long long)s->version,
                        (unsigned long long)s->tensor->storage->version);
    return s->tensor;
}

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
        if (cur->leaf) cur->leaf->grad_acc = NULL;
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
