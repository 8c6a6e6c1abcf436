/* node.h — autograd graph nodes: what an op records so its gradient can be computed later.
 *
 * A node owns edges to the nodes of its inputs (never to its outputs, so graphs have no cycles)
 * and the tensors its backward needs, each saved with the storage version it had. */
#ifndef NB_AUTOGRAD_NODE_H
#define NB_AUTOGRAD_NODE_H

#include "../tensor.h"

#define NB_NODE_MAX_INPUTS 4
#define NB_NODE_MAX_SAVED 3

typedef struct nb_node nb_node;

typedef struct nb_edge {
    nb_node *node; /* owned reference; NULL when that input needs no gradient */
    int input_nr;  /* which output of node this input was */
} nb_edge;

typedef struct nb_saved {
    nb_tensor *tensor; /* owned; saved without its grad_fn when it is the node's own output */
    uint64_t version;  /* tensor->storage->version when saved */
} nb_saved;

/* Computes the gradients of the node's inputs from the gradient of its output.
 * grad_inputs[i] is set to a new tensor, or left NULL when next[i] needs none. */
typedef nb_status (*nb_backward_fn)(nb_node *n, nb_tensor *grad_output, nb_tensor **grad_inputs);

struct nb_node {
    atomic_int refcount;
    const char *name;       /* "MmBackward" */
    nb_backward_fn backward; /* NULL for a leaf's accumulate node */
    int num_inputs;
    nb_edge next[NB_NODE_MAX_INPUTS];
    nb_saved saved[NB_NODE_MAX_SAVED];
    bool saved_released; /* backward ran without retain_graph */
    nb_tensor *leaf;     /* accumulate node: the leaf (not owned: the leaf owns this node) */
    /* op arguments the backward needs */
    double scalar[2];
    int64_t ival[NB_MAX_DIMS];
    int ndim;                      /* of the output (or input, per op) */
    int64_t shape[NB_MAX_DIMS];    /* an input's shape, for ops whose backward needs it */
    nb_dtype dtype;
    nb_device device;
    /* scratch for backward's topological walk */
    int64_t deps;
    nb_tensor *grad_buffer;
};

/* Drops a reference; frees a whole unreferenced graph with a worklist (no recursion). */
void nb__node_release(nb_node *n);

#endif /* NB_AUTOGRAD_NODE_H */
