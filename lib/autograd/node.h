/* node.h — autograd graph nodes: what an op records so its gradient can be computed later.
 *
 * A node owns edges to the nodes of its inputs (never to its outputs, so graphs have no cycles)
 * and the tensors its backward needs, each saved with the storage version it had. */
#ifndef NB_AUTOGRAD_NODE_H
#define NB_AUTOGRAD_NODE_H

#include "../tensor.h"
#include "kinds.h"

typedef struct nb_node nb_node;

typedef struct nb_edge {
    nb_node *node; /* owned reference; NULL when that input needs no gradient */
    int input_nr;  /* which output of node this input was */
} nb_edge;

typedef struct nb_saved {
    nb_tensor *tensor; /* owned; an output is saved as a plain alias without its grad_fn */
    uint64_t version;  /* tensor->storage->version when saved */
} nb_saved;

/* What a node knows of one input: enough to shape and type its gradient. */
typedef struct nb_input_meta {
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    nb_dtype dtype;
    nb_device device;
} nb_input_meta;

struct nb_node {
    atomic_int refcount;
    nb_node_kind kind;     /* its name, backward and saved slots: nb_node_defs[kind] (kinds.c) */
    const char *op;        /* the op that recorded it: "nb_mm" */
    nb_node_args args;     /* the op's arguments its backward needs, in its kind's member */
    int num_inputs;
    nb_edge *next;          /* (num_inputs,) stored after the node in the same allocation */
    nb_input_meta *input;   /* (num_inputs,) likewise */
    nb_saved saved[NB_NODE_MAX_SAVED];
    bool saved_released; /* a backward without retain_graph has run through this node */
    nb_tensor *leaf;     /* accumulate node: the leaf (not owned; cleared when the leaf dies) */
    /* backward's scratch */
    uint64_t epoch;        /* the traversal that last counted this node */
    bool needed;           /* in that traversal: leads to a gradient that was asked for */
    int64_t deps;          /* gradients still to arrive in this traversal */
    nb_tensor *grad_buffer; /* the gradients summed so far */
};

/* "MulBackward" */
static inline const char *nb__node_name(const nb_node *n) { return nb_node_defs[n->kind].name; }

/* A node of kind recorded by op over n inputs: an edge to each input's history (NULL where the
 * input does not require grad) and each input's shape and dtype; its args are zero. NULL and an
 * error on failure. */
nb_node *nb__node_new(nb_node_kind kind, const char *op, int n, const nb_tensor *const *inputs);
/* Saves (an alias of) t in slot for backward, remembering its version. */
bool nb__node_save(nb_node *n, int slot, const nb_tensor *t, bool is_output);
/* A saved tensor, checked: an error when the graph was freed or the tensor changed in place. */
nb_tensor *nb__node_saved(nb_node *n, int slot);
/* Drops a reference; frees a whole unreferenced graph with a worklist (no recursion). */
void nb__node_release(nb_node *n);
/* The history edge of t: its grad_fn, or its leaf accumulate node (made on first use). */
nb_edge nb__edge_of(const nb_tensor *t);

#endif /* NB_AUTOGRAD_NODE_H */
