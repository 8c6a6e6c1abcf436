/* graph.h — what the rest of lib/ asks of graph capture (lib/graph.c): whether this thread is
 * capturing, and the refusal of work a replay would not repeat. */
#ifndef NB_GRAPH_H
#define NB_GRAPH_H

#include "nabla.h"

/* True while this thread captures a graph. */
bool nb__graph_capturing(void);
/* False, with an error naming op, when this thread captures a graph on another device than
 * device (work there would run once now and never on replay), or when another thread captures
 * on device (the work would be recorded into its graph). True otherwise. */
bool nb__graph_allows(const char *op, nb_device device);
/* False, with an error naming op and what (such as "reading values back to the host"), while
 * this thread captures a graph. True otherwise. */
bool nb__graph_allows_host_work(const char *op, const char *what);

#endif /* NB_GRAPH_H */
