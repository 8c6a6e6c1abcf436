/* record.c — recording ops on the tape. */
#include "record.h"

bool nb__autograd_record_ewise(const char *name, nb_ew_op op, nb_tensor *out, int n,
                               const nb_tensor *const *inputs, nb_scalars s)
{
    (void)name, (void)op, (void)out, (void)n, (void)inputs, (void)s;
    return true;
}

bool nb__autograd_record_ewise_(const char *name, nb_ew_op op, nb_tensor *target, int n,
                                const nb_tensor *const *others, nb_scalars s)
{
    (void)name, (void)op, (void)target, (void)n, (void)others, (void)s;
    return true;
}

bool nb__autograd_check_inplace(const char *op, const nb_tensor *t)
{
    (void)op, (void)t;
    return true;
}

bool nb__autograd_record_view(const char *name, nb_tensor *out, const nb_tensor *in,
                              const nb_view_args *args)
{
    (void)name, (void)out, (void)in, (void)args;
    return true;
}

bool nb__autograd_record_cat(nb_tensor *out, int n, nb_tensor *const *inputs, int dim)
{
    (void)out, (void)n, (void)inputs, (void)dim;
    return true;
}

bool nb__autograd_record_copy(const char *name, nb_tensor *out, const nb_tensor *in, bool inplace)
{
    (void)name, (void)out, (void)in, (void)inplace;
    return true;
}

bool nb__autograd_record_reduce(const char *name, nb_reduce_op op, nb_tensor *out, const nb_tensor *in,
                                int dim, bool keepdim, const nb_tensor *indices)
{
    (void)name, (void)op, (void)out, (void)in, (void)dim, (void)keepdim, (void)indices;
    return true;
}

bool nb__autograd_record_mm(const char *name, nb_tensor *out, const nb_tensor *a, const nb_tensor *b)
{
    (void)name, (void)out, (void)a, (void)b;
    return true;
}
