/* error.c — the thread-local message of the last kernel failure (kernels/error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char message[768];

nb_status nbk_fail(nb_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return status;
}

const char *nbk_error(void) { return message; }
