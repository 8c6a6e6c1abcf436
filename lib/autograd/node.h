/* node.h — autograd graph nodes: what an op records so its gradient can be computed later.
 *
 * A node owns edges to the nodes of its inputs (never to its outputs, so graphs have no cycles)
 * and the tensors its backward needs, each saved with the storage version it had. */
#ifndef NB_AUTOGRAD_NODE_H
#define NB_AUTOGRAD_NODE_H

#include "../tensor.h"

#define NB_NODE_MAX_SAVED 3

typedef struct nb_node nb_node;

typedef struct nb_edge {
    nb_node *node; /* owned reference; NULL when that input needs no gradient */
    int input_nr;  /* which output of node this input was */
} nb_edge;

typedef struct nb_saved {
    nb_tensor *tensor; /* owned; an output is saved as a plain alias without its grad_fn */
    uint64_t version;  /* tensor->storage->version when saved */
} nb_saved;

/* Computes the gradients of the node's inputs from the gradient of its output:
 * grad_inputs[i] is set to a new tensor shaped like input i, or left NULL (no gradient). */
typedef nb_status (*nb_backward_fn)(nb_node *n, nb_tensor *grad_output, nb_tensor **grad_inputs);

/* What a node knows of one input: enough to shape and type its gradient. */
typedef struct nb_input_meta {
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    nb_dtype dtype;
    nb_device device;
} nb_input_meta;

struct nb_node {
    atomic_int refcount;
    const char *name;        /* "MmBackward" */
    const char *op;          /* the op that recorded it: "nb_mm" */
    nb_backward_fn backward; /* NULL for a leaf's accumulate node */
    int num_inputs;
    nb_edge *next;          /* (num_inputs,) stored after the node in the same allocation */
    nb_input_meta *input;   /* (num_inputs,) likewise */
    nb_saved saved[NB_NODE_MAX_SAVED];
    bool saved_released; /* a backward without retain_graph has run through this node */
    nb_tensor *leaf;     /* accumulate node: the leaf (not owned; cleared when the leaf dies) */
    /* op arguments the backward needs */
    int op_id;            /* nb_ew_op, nb_reduce_op or nb_view_kind */
    double scalar[2];
    int dim;
    bool keepdim;
    int64_t start, length;
    int perm[NB_MAX_DIMS];
    /* backward's scratch */
    uint64_t epoch;        /* the traversal that last counted this node */
    bool needed;           /* in that traversal: leads to a gradient that was asked for */
    int64_t deps;          /* gradients still to arrive in this traversal */
    nb_tensor *grad_buffer; /* the gradients summed so far */
};

/* A node for op's backward over n inputs: an edge to each input's history (NULL where the input
 * does not require grad) and each input's shape and dtype. NULL and an error on failure. */
nb_node *nb__node_new(const char *name, const char *op, nb_backward_fn backward, int n,
                      const nb_tensor *const *inputs);
/* Saves (an alias of) t in slot for backward, remembering its version. */
bool nb__node_save(nb_node *n, int slot, const nb_tensor *t, bool is_output);
/* A saved tensor, checked: an error when the graph was freed or the tensor changed in place. */
nb_tensor *nb__node_saved(nb_node *n, int slot);
/* Drops a reference; frees a whole unreferenced graph with a worklist (no recursion). */
void nb__node_release(nb_node *n);
/* The history edge of t: its grad_fn, or its leaf accumulate node (made on first use). */
nb_edge nb__edge_of(const nb_tensor *t);

#endif /* NB_AUTOGRAD_NODE_H */
