/* helpers.c — shared checks for nabla's Criterion suites. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nb_test_setup(void) { nb_clear_error(); }

nb_tensor *golden(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "golden/%s.npy", name);
    nb_tensor *t = nb_load_npy(path);
    cr_assert(t != NULL, "cannot load golden file %s: %s", path, nb_last_error());
    return t;
}

static double *values_of(const nb_tensor *t, int64_t *n)
{
    nb_tensor *d = nb_to_dtype(t, NB_FLOAT64);
    cr_assert(d != NULL, "cannot convert to float64: %s", nb_last_error());
    *n = nb_numel(d);
    double *v = malloc((size_t)(*n > 0 ? *n : 1) * sizeof(double));
    cr_assert(nb_copy_to_array(d, v, (size_t)*n * sizeof(double)) == NB_OK, "%s", nb_last_error());
    nb_release(d);
    return v;
}

void assert_values(const nb_tensor *got, const double *want, int64_t n, double rtol, double atol)
{
    cr_assert(got != NULL, "result is NULL: %s", nb_last_error());
    int64_t m;
    double *v = values_of(got, &m);
    cr_assert_eq(m, n, "expected %lld elements, got %lld", (long long)n, (long long)m);
    for (int64_t i = 0; i < n; i++) {
        bool ok = (isnan(want[i]) && isnan(v[i])) || v[i] == want[i] ||
                  fabs(v[i] - want[i]) <= atol + rtol * fabs(want[i]);
        if (!ok) {
            double g = v[i];
            free(v);
            cr_assert_fail("element %lld: got %.9g, expected %.9g (rtol %g, atol %g)", (long long)i, g,
                           want[i], rtol, atol);
        }
    }
    free(v);
}

void assert_close(const nb_tensor *got, const nb_tensor *want, double rtol, double atol)
{
    cr_assert(got != NULL, "result is NULL: %s", nb_last_error());
    cr_assert(want != NULL);
    char gs[160], ws[160];
    nb_shape_string(got, gs, sizeof gs);
    nb_shape_string(want, ws, sizeof ws);
    cr_assert_str_eq(gs, ws, "shape %s, expected %s", gs, ws);
    cr_assert_eq(nb_dtype_of(got), nb_dtype_of(want), "dtype %s, expected %s",
                 nb_dtype_name(nb_dtype_of(got)), nb_dtype_name(nb_dtype_of(want)));
    int64_t n;
    double *w = values_of(want, &n);
    assert_values(got, w, n, rtol, atol);
    free(w);
}

void assert_error(nb_status status, int nparts, const char *const *parts)
{
    const char *msg = nb_last_error();
    cr_assert_eq(nb_last_status(), status, "status %s, expected %s (message: \"%s\")",
                 nb_status_name(nb_last_status()), nb_status_name(status), msg);
    for (int i = 0; i < nparts; i++)
        cr_assert(strstr(msg, parts[i]) != NULL, "message \"%s\" lacks \"%s\"", msg, parts[i]);
    nb_clear_error();
}

void assert_ok(void)
{
    cr_assert_eq(nb_last_status(), NB_OK, "unexpected error: %s", nb_last_error());
}

nb_tensor *noncontig(const nb_tensor *t)
{
    int nd = nb_ndim(t);
    if (nd >= 2) {
        nb_tensor *tt = nb_transpose(t, 0, 1);
        nb_tensor *c = nb_contiguous(tt);   /* memory in transposed order */
        nb_tensor *back = nb_transpose(c, 0, 1); /* t's values, strided */
        nb_release(tt);
        nb_release(c);
        return back;
    }
    if (nd == 1) {
        nb_tensor *wide = nb_zeros(NB_SHAPE(nb_size(t, 0), 2), NB_OPTS(nb_dtype_of(t)));
        nb_tensor *col = nb_select(wide, 1, 0); /* (n,) with stride 2 */
        nb_copy_(col, t);
        nb_release(wide);
        return col;
    }
    return nb_clone(t);
}
