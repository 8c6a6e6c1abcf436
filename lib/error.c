/* error.c — the thread-local error slot behind nb_last_status and nb_last_error. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local nb_status last_status = NB_OK;
static _Thread_local char last_message[1024];
static _Thread_local uint64_t failures; /* every failure recorded, kept or not */

static void record(nb_status status, const char *fmt, va_list ap)
{
    failures++;
    if (last_status != NB_OK) return; /* keep the first error */
    last_status = status;
    vsnprintf(last_message, sizeof last_message, fmt, ap);
}

void *nb__fail(nb_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(status, fmt, ap);
    va_end(ap);
    return NULL;
}

nb_status nb__fail_status(nb_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(status, fmt, ap);
    va_end(ap);
    return status;
}

bool nb__is_null(const char *op, const char *arg, const void *p)
{
    if (p) return false;
    nb__fail(NB_ERR_NULL, "%s: %s is NULL", op, arg);
    return true;
}

uint64_t nb__error_count(void) { return failures; }

nb_status nb_last_status(void) { return last_status; }

const char *nb_last_error(void) { return last_status == NB_OK ? "" : last_message; }

void nb_clear_error(void)
{
    last_status = NB_OK;
    last_message[0] = '\0';
}

const char *nb_status_name(nb_status s)
{
    switch (s) {
    case NB_OK: return "NB_OK";
    case NB_ERR_NULL: return "NB_ERR_NULL";
    case NB_ERR_ARGUMENT: return "NB_ERR_ARGUMENT";
    case NB_ERR_SHAPE: return "NB_ERR_SHAPE";
    case NB_ERR_DTYPE: return "NB_ERR_DTYPE";
    case NB_ERR_DEVICE: return "NB_ERR_DEVICE";
    case NB_ERR_MEMORY: return "NB_ERR_MEMORY";
    case NB_ERR_IO: return "NB_ERR_IO";
    case NB_ERR_AUTOGRAD: return "NB_ERR_AUTOGRAD";
    case NB_ERR_UNSUPPORTED: return "NB_ERR_UNSUPPORTED";
    }
    return "NB_ERR_UNKNOWN";
}
