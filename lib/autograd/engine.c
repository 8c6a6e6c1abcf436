/* engine.c — backward: runs the recorded nodes in dependency order (a node runs once every
 * gradient it will receive has arrived), sums gradients per node, accumulates into leaves or
 * captures them for nb_grad_of, and frees saved tensors as it goes unless the graph is kept. */
#include "../autocast.h"
#include "../error.h"
#include "../ewise.h"
#include "autograd.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_uint_fast64_t epochs = 1;

typedef struct node_list {
    nb_node **items;
    size_t count, cap;
} node_list;

static bool push(node_list *l, nb_node *n)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        nb_node **p = realloc(l->items, cap * sizeof *p);
        if (!p) return nb__fail(NB_ERR_MEMORY, "backward: out of memory walking the graph"), false;
        l->items = p;
        l->cap = cap;
    }
    l->items[l->count++] = n;
    return true;
}

nb_tensor *nb__sum_to(const nb_tensor *g, const nb_input_meta *m)
{
    nb_tensor *cur = nb_retain((nb_tensor *)g);
    int lead = g->ndim - m->ndim;
    for (int i = 0; cur && i < lead; i++) { /* leading dims that broadcasting added */
        nb_tensor *s = nb_sum_dim(cur, 0, false);
        nb_release(cur);
        cur = s;
    }
    for (int i = 0; cur && i < m->ndim; i++) { /* size-1 dims that broadcasting grew */
        if (m->shape[i] != 1 || cur->shape[i] == 1) continue;
        nb_tensor *s = nb_sum_dim(cur, i, true);
        nb_release(cur);
        cur = s;
    }
    if (cur && cur->dtype != m->dtype) {
        nb_tensor *c = nb_to_dtype(cur, m->dtype);
        nb_release(cur);
        cur = c;
    }
    if (cur && (cur->ndim != m->ndim || memcmp(cur->shape, m->shape, (size_t)m->ndim * sizeof(int64_t)))) {
        char got[160], want[160];
        nb_release(cur);
        return nb__fail(NB_ERR_AUTOGRAD, "backward: a gradient of shape %s cannot be reduced to its input's shape %s",
                        nb_shape_string(g, got, sizeof got), nb__shape_string(m->ndim, m->shape, want, sizeof want));
    }
    return cur;
}

/* Adds g (taking the reference) into n's gradient buffer. */
static bool add_to_buffer(nb_node *n, nb_tensor *g)
{
    if (!n->grad_buffer) {
        n->grad_buffer = g;
        return true;
    }
    nb_tensor *sum = nb_add(n->grad_buffer, g);
    nb_release(g);
    if (!sum) return false;
    nb_release(n->grad_buffer);
    n->grad_buffer = sum;
    return true;
}

/* leaf.grad += g (taking the reference); g becomes the grad itself when nobody else holds it. */
static bool accumulate(nb_tensor *leaf, nb_tensor *g)
{
    if (leaf->grad) {
        bool ok = nb_add_(leaf->grad, g) != NULL;
        nb_release(g);
        return ok;
    }
    bool own = atomic_load(&g->refcount) == 1 && nb__is_contiguous(g) && !g->grad_fn &&
               g->storage->nbytes == (size_t)nb__numel_of(g->ndim, g->shape) * nb_dtype_size(g->dtype);
    if (own) {
        leaf->grad = g;
        return true;
    }
    leaf->grad = nb_clone(g);
    nb_release(g);
    return leaf->grad != NULL;
}

typedef struct run_args {
    int nroots;
    nb_node **root_nodes;   /* (nroots,) owned references */
    nb_tensor **root_grads; /* (nroots,) owned references */
    bool retain_graph;
    bool accumulate;        /* into leaves' .grad (nb_backward) or not (nb_grad_of) */
    int ncapture;
    nb_node **capture;      /* (ncapture,) nodes whose incoming gradient is wanted */
    nb_tensor **captured;   /* (ncapture,) out */
    uint64_t epoch;         /* this walk's mark on the nodes it reached */
} run_args;

static bool count_dependencies(run_args *a, uint64_t epoch, node_list *seen)
{
    node_list stack = {0};
    bool ok = true;
    for (int r = 0; r < a->nroots && ok; r++) {
        nb_node *n = a->root_nodes[r];
        if (n->epoch == epoch) continue;
        n->epoch = epoch;
        n->deps = 0;
        ok = push(seen, n) && push(&stack, n);
    }
    while (ok && stack.count) {
        nb_node *n = stack.items[--stack.count];
        for (int i = 0; i < n->num_inputs && ok; i++) {
            nb_node *c = n->next[i].node;
            if (!c) continue;
            if (c->epoch != epoch) {
                c->epoch = epoch;
                c->deps = 0;
                ok = push(seen, c) && push(&stack, c);
            }
            c->deps++;
        }
    }
    free(stack.items);
    return ok;
}

/* Marks the nodes that lead to a requested gradient: all of them when accumulating into leaves;
 * for nb_grad_of only those with a path to a captured node, so parts of the graph that lie
 * beyond the inputs (perhaps already freed) are never run. */
static void mark_needed(run_args *a, node_list *seen)
{
    for (size_t i = 0; i < seen->count; i++) {
        nb_node *n = seen->items[i];
        n->needed = a->accumulate;
        for (int k = 0; k < a->ncapture; k++) n->needed = n->needed || a->capture[k] == n;
    }
    for (bool changed = !a->accumulate; changed;) { /* parents of needed nodes are needed */
        changed = false;
        for (size_t i = seen->count; i-- > 0;) {
            nb_node *n = seen->items[i];
            for (int j = 0; j < n->num_inputs && !n->needed; j++)
                if (n->next[j].node && n->next[j].node->needed) n->needed = changed = true;
        }
    }
}

static bool run_node(run_args *a, nb_node *n, node_list *ready)
{
    nb_tensor *g = n->grad_buffer;
    n->grad_buffer = NULL;
    if (!n->needed) { /* its gradient leads nowhere that was asked for */
        nb_release(g);
        return true;
    }
    for (int k = 0; k < a->ncapture; k++)
        if (a->capture[k] == n && g) a->captured[k] = nb_retain(g);
    bool leads_on = a->accumulate; /* for nb_grad_of: run backward only towards another input */
    for (int j = 0; j < n->num_inputs && !leads_on; j++) leads_on = n->next[j].node && n->next[j].node->needed;
    const nb_backward_fn backward = nb_node_defs[n->kind].backward;
    if (!leads_on && backward) {
        nb_release(g);
        return true;
    }
    if (!backward) { /* a leaf's accumulate node */
        if (a->accumulate && n->leaf && g) return accumulate(n->leaf, g);
        nb_release(g);
        return true;
    }
    nb_tensor *stack_gi[4] = {0};
    nb_tensor **gi = n->num_inputs <= 4 ? stack_gi : calloc((size_t)n->num_inputs, sizeof *gi);
    if (!gi) return nb__fail(NB_ERR_MEMORY, "backward: out of memory"), false;
    bool ok = true;
    if (g) ok = backward(n, g, gi) == NB_OK && nb_last_status() == NB_OK;
    nb_release(g);
    for (int i = 0; i < n->num_inputs; i++) {
        nb_node *c = n->next[i].node;
        if (!c) {
            nb_release(gi[i]);
            continue;
        }
        if (ok && gi[i]) {
            nb_tensor *shaped = nb__sum_to(gi[i], &n->input[i]);
            ok = shaped && add_to_buffer(c, shaped);
        }
        nb_release(gi[i]);
        if (--c->deps == 0 && ok) ok = push(ready, c);
    }
    if (gi != stack_gi) free(gi);
    if (!a->retain_graph) {
        for (int s = 0; s < NB_NODE_MAX_SAVED; s++) {
            nb_release(n->saved[s].tensor);
            n->saved[s].tensor = NULL;
        }
        n->saved_released = true;
    }
    return ok;
}

static nb_status run(run_args *a)
{
    uint64_t epoch = a->epoch = atomic_fetch_add(&epochs, 1);
    node_list seen = {0}, ready = {0};
    nb_no_grad_begin();
    nb__autocast_suspend();
    bool ok = count_dependencies(a, epoch, &seen);
    if (ok) mark_needed(a, &seen);
    for (int r = 0; r < a->nroots && ok; r++) {
        ok = add_to_buffer(a->root_nodes[r], nb_retain(a->root_grads[r]));
    }
    for (int r = 0; r < a->nroots && ok; r++) {
        nb_node *n = a->root_nodes[r];
        bool queued = false;
        for (size_t q = 0; q < ready.count; q++) queued = queued || ready.items[q] == n;
        if (n->deps == 0 && !queued) ok = push(&ready, n);
    }
    while (ok && ready.count) ok = run_node(a, ready.items[--ready.count], &ready);
    for (size_t i = 0; i < seen.count; i++) { /* after an error, drop what is still pending */
        nb_release(seen.items[i]->grad_buffer);
        seen.items[i]->grad_buffer = NULL;
    }
    nb__autocast_resume();
    nb_no_grad_end();
    free(seen.items);
    free(ready.items);
    return ok ? NB_OK : (nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_AUTOGRAD);
}

/* Validates roots and builds the root edges and gradients. */
static bool prepare_roots(const char *op, int n, nb_tensor *const *outputs, nb_tensor *const *grads,
                          run_args *a)
{
    a->nroots = n;
    a->root_nodes = calloc((size_t)n, sizeof(nb_node *));
    a->root_grads = calloc((size_t)n, sizeof(nb_tensor *));
    if (!a->root_nodes || !a->root_grads) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op), false;
    for (int i = 0; i < n; i++) {
        nb_tensor *t = outputs[i];
        const nb_tensor *g = grads ? grads[i] : NULL;
        if (nb__is_null(op, "output", t)) return false;
        if (!t->requires_grad)
            return nb__fail(NB_ERR_AUTOGRAD,
                            "%s: output %d does not require grad and has no grad_fn: it was probably "
                            "computed under no-grad or only from tensors that do not require grad "
                            "(nb_requires_grad_, nb_detach)",
                            op, i),
                   false;
        char ts[160], gs[160];
        if (!g) {
            if (nb__numel_of(t->ndim, t->shape) != 1)
                return nb__fail(NB_ERR_AUTOGRAD,
                                "%s: a gradient can be implied only for a one-element output; output %d "
                                "has shape %s, so pass its gradient",
                                op, i, nb__shape_string(t->ndim, t->shape, ts, sizeof ts)),
                       false;
            a->root_grads[i] = nb_ones_like(t);
        } else {
            if (g->ndim != t->ndim || memcmp(g->shape, t->shape, (size_t)t->ndim * sizeof(int64_t)))
                return nb__fail(NB_ERR_SHAPE, "%s: the gradient of output %d has shape %s; expected %s", op, i,
                                nb__shape_string(g->ndim, g->shape, gs, sizeof gs),
                                nb__shape_string(t->ndim, t->shape, ts, sizeof ts)),
                       false;
            const nb_tensor *pair[2] = {t, g};
            if (!nb__check_devices(op, 2, pair)) return false;
            /* a header of the engine's own over g's elements: what the engine releases is never
             * the reference of a scope that owns g */
            a->root_grads[i] = g->dtype == t->dtype
                                   ? nb__view_of(op, g->storage, g->offset, g->ndim, g->shape, g->strides, g->dtype)
                                   : nb_to_dtype(g, t->dtype);
        }
        nb_edge e = nb__edge_of(t);
        a->root_nodes[i] = e.node;
        if (!a->root_grads[i] || !e.node) return false;
    }
    return true;
}

static void free_roots(run_args *a)
{
    for (int i = 0; i < a->nroots; i++) {
        if (a->root_nodes) nb__node_release(a->root_nodes[i]);
        if (a->root_grads) nb_release(a->root_grads[i]);
    }
    free(a->root_nodes);
    free(a->root_grads);
}

nb_status nb_backward_ex(nb_tensor *t, const nb_tensor *grad_output, bool retain_graph)
{
    if (nb__is_null("nb_backward", "tensor", t)) return nb_last_status();
    run_args a = {.retain_graph = retain_graph, .accumulate = true};
    nb_tensor *outs[1] = {t};
    nb_tensor *grads[1] = {(nb_tensor *)grad_output};
    nb__tracking_pause(); /* everything backward makes is its own (or a leaf's .grad) */
    nb_status st = prepare_roots("nb_backward", 1, outs, grads, &a) ? run(&a) : nb_last_status();
    free_roots(&a);
    nb__tracking_resume();
    return st;
}

nb_status nb_backward(nb_tensor *loss) { return nb_backward_ex(loss, NULL, false); }

nb_status nb_grad_of(int n_outputs, nb_tensor *const *outputs, nb_tensor *const *grad_outputs,
                     int n_inputs, nb_tensor *const *inputs, nb_tensor **grads, bool retain_graph)
{
    const char *op = "nb_grad_of";
    if (n_outputs < 1 || n_inputs < 1)
        return nb__fail_status(NB_ERR_ARGUMENT, "%s: expected at least one output and one input, got %d and %d",
                               op, n_outputs, n_inputs);
    if (nb__is_null(op, "outputs", outputs) || nb__is_null(op, "inputs", inputs) || nb__is_null(op, "grads", grads))
        return nb_last_status();
    for (int k = 0; k < n_inputs; k++) grads[k] = NULL;
    nb__tracking_pause();
    run_args a = {.retain_graph = retain_graph, .accumulate = false, .ncapture = n_inputs};
    a.capture = calloc((size_t)n_inputs, sizeof(nb_node *));
    a.captured = calloc((size_t)n_inputs, sizeof(nb_tensor *));
    nb_status st = NB_OK;
    if (!a.capture || !a.captured) st = nb__fail_status(NB_ERR_MEMORY, "%s: out of memory", op);
    for (int k = 0; st == NB_OK && k < n_inputs; k++) {
        nb_tensor *x = inputs[k];
        if (nb__is_null(op, "input", x)) st = nb_last_status();
        else if (!x->requires_grad)
            st = nb__fail_status(NB_ERR_AUTOGRAD, "%s: input %d does not require grad", op, k);
        else if (!(a.capture[k] = x->grad_fn ? x->grad_fn : x->grad_acc))
            st = nb__fail_status(NB_ERR_AUTOGRAD, "%s: input %d was not used to compute the outputs", op, k);
    }
    if (st == NB_OK) st = prepare_roots(op, n_outputs, outputs, grad_outputs, &a) ? run(&a) : nb_last_status();
    for (int k = 0; st == NB_OK && k < n_inputs; k++) {
        if (a.captured[k]) continue;
        if (a.capture[k]->epoch != a.epoch) {
            st = nb__fail_status(NB_ERR_AUTOGRAD, "%s: input %d was not used to compute the outputs", op, k);
            break;
        }
        /* reached, but every path to it carried no gradient: zeros */
        a.captured[k] = nb_zeros_like(inputs[k]);
        if (!a.captured[k]) st = nb_last_status();
    }
    for (int k = 0; k < n_inputs; k++) {
        if (st == NB_OK) {
            grads[k] = a.captured[k];
            /* one gradient reaching two inputs unchanged (a + b) is one tensor: each input gets a
             * header of its own, so the caller, or the scope, releases each once */
            for (int j = 0; j < k && grads[k]; j++) {
                if (grads[j] != grads[k]) continue;
                nb_tensor *g = grads[k];
                grads[k] = nb__view_of(op, g->storage, g->offset, g->ndim, g->shape, g->strides, g->dtype);
                nb_release(g);
                if (!grads[k]) st = nb_last_status();
                break;
            }
        } else {
            nb_release(a.captured ? a.captured[k] : NULL);
        }
    }
    for (int k = 0; st != NB_OK && k < n_inputs; k++) { /* a failure after some were handed out */
        nb_release(grads[k]);
        grads[k] = NULL;
    }
    free_roots(&a);
    free(a.capture);
    free(a.captured);
    nb__tracking_resume();
    for (int k = 0; st == NB_OK && k < n_inputs; k++) nb__scope_register(grads[k]); /* the caller's */
    return st;
}
