/* autograd.h — internals shared by the recording hooks, the backward formulas and the engine. */
#ifndef NB_AUTOGRAD_H
#define NB_AUTOGRAD_H

#include "node.h"

bool nb__grad_enabled(void);
/* True when grad mode is on and one of the n tensors requires grad. */
bool nb__needs_graph(int n, const nb_tensor *const *ts);
/* Makes node the history of out (taking the caller's reference to node). */
void nb__set_history(nb_tensor *out, nb_node *node);
/* g summed over the dims that were broadcast to reach it, reshaped and converted to m's shape
 * and dtype (a new reference to g when nothing changes). */
nb_tensor *nb__sum_to(const nb_tensor *g, const nb_input_meta *m);
/* A fresh reference to t (for passing one gradient to several inputs). */
static inline nb_tensor *nb__share(nb_tensor *t) { return nb_retain(t); }

/* Writes up to cap names of every kind of node nabla records ("MulBackward", ...) and returns
 * how many there are; the gradcheck table's test checks it covers them all. */
int nb__autograd_node_names(const char **names, int cap);

#endif /* NB_AUTOGRAD_H */
