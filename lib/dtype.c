/* dtype.c — dtype names, sizes and promotion. */
#include "dtype.h"

#include <stdio.h>
#include <string.h>

size_t nb_dtype_size(nb_dtype dtype)
{
    switch (dtype) {
    case NB_FLOAT32: return 4;
    case NB_FLOAT64: return 8;
    case NB_INT64: return 8;
    case NB_BOOL: return 1;
    }
    return 0;
}

const char *nb_dtype_name(nb_dtype dtype)
{
    switch (dtype) {
    case NB_FLOAT32: return "float32";
    case NB_FLOAT64: return "float64";
    case NB_INT64: return "int64";
    case NB_BOOL: return "bool";
    }
    return "unknown";
}

static int rank(nb_dtype d)
{
    switch (d) {
    case NB_BOOL: return 0;
    case NB_INT64: return 1;
    case NB_FLOAT32: return 2;
    case NB_FLOAT64: return 3;
    }
    return 0;
}

nb_dtype nb__promote(nb_dtype a, nb_dtype b) { return rank(a) >= rank(b) ? a : b; }

const char *nb__dtype_list(unsigned mask, char *buf, size_t size)
{
    static const nb_dtype order[] = {NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL};
    int count = 0, total = 0;
    for (int i = 0; i < 4; i++) total += (mask >> order[i]) & 1u;
    buf[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < 4 && used < size; i++) {
        if (!((mask >> order[i]) & 1u)) continue;
        const char *sep = count == 0 ? "" : (count == total - 1 ? " or " : ", ");
        used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, nb_dtype_name(order[i]));
        count++;
    }
    return buf;
}
