/* error.h — thread-local status and message: how every op reports bad input. */
#ifndef NB_ERROR_H
#define NB_ERROR_H

#include "nabla.h"

/* Records status and a printf-style message unless an error is already pending (the first one
 * wins). Always returns NULL so ops can write `return nb__fail(...)`. */
void *nb__fail(nb_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, returning the status, for calls that return nb_status. */
nb_status nb__fail_status(nb_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* How many failures this thread has recorded, the first and the later ones alike: a graph
 * capture compares it at its end with its value at the start. */
uint64_t nb__error_count(void);

/* True (and an NB_ERR_NULL error naming op and arg, unless one is pending) when p is NULL. */
bool nb__is_null(const char *op, const char *arg, const void *p);

#endif /* NB_ERROR_H */
