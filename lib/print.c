/* print.c — nb_print: a tensor's dtype, shape and first values, for debugging. */
#include "error.h"
#include "tensor.h"

#include <stdio.h>

void nb_print(const nb_tensor *t, const char *name)
{
    char shape[160];
    if (!t) {
        printf("%s: (null)\n", name ? name : "tensor");
        return;
    }
    printf("%s: %s %s [", name ? name : "tensor", nb_dtype_name(t->dtype),
           nb__shape_string(t->ndim, t->shape, shape, sizeof shape));
    int64_t n = nb__numel_of(t->ndim, t->shape), shown = n < 8 ? n : 8;
    nb_tensor *flat = nb_flatten(t);
    for (int64_t i = 0; flat && i < shown; i++) {
        nb_tensor *e = nb_select(flat, 0, i);
        printf(i ? ", %g" : "%g", nb_item(e));
        nb_release(e);
    }
    nb_release(flat);
    printf(n > shown ? ", ...]\n" : "]\n");
}
