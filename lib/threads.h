/* threads.h — nabla's one threading policy, shared by BLIS calls and nabla's own loops. */
#ifndef NB_THREADS_H
#define NB_THREADS_H

/* Threads a large op may use: nb_set_num_threads' value, or the cores this process may run on.
 * Ops run one after another, so BLIS's threads and nabla's never run at the same time. */
int nb__num_threads(void);

#endif /* NB_THREADS_H */
