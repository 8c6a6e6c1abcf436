/* cuda_checks.c — the checks the CUDA suite's files share: the fixture that skips without a
 * device, and the comparison of a device's results with a reference (the CPU's, usually). */
#include "cuda_checks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cuda_test_setup(void)
{
    nb_test_setup();
    if (nb_cuda_device_count() == 0) cr_skip_test("no CUDA device: %s", nb_cuda_available_reason());
}

const char *cuda_device_string(nb_device d, char *buf, size_t size)
{
    if (d.type == NB_CPU) snprintf(buf, size, "cpu");
    else snprintf(buf, size, "cuda:%d", d.index);
    return buf;
}

/* ---------------------------------------------------------------- comparison */

void *cuda_host_bytes(const nb_tensor *t, size_t *size)
{
    size_t bytes = (size_t)nb_numel(t) * nb_dtype_size(nb_dtype_of(t));
    void *buf = malloc(bytes ? bytes : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(nb_copy_to_array(t, buf, bytes), NB_OK, "copy to host: %s", nb_last_error());
    if (size) *size = bytes;
    return buf;
}

/* t's values as host doubles, converted here rather than on t's device; the caller frees. */
static double *host_doubles(const nb_tensor *t)
{
    const int64_t n = nb_numel(t);
    void *raw = cuda_host_bytes(t, NULL);
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v); /* (numel,) */
    cr_assert_not_null(v);
    const nb_dtype dt = nb_dtype_of(t);
    for (int64_t i = 0; i < n; i++)
        v[i] = dt == NB_FLOAT32                          ? (double)((const float *)raw)[i]
               : dt == NB_FLOAT16 || dt == NB_BFLOAT16 ? (double)nb_half_to_float(dt, ((const uint16_t *)raw)[i])
                                                       : ((const double *)raw)[i];
    free(raw);
    return v;
}

static void assert_bits_equal(const nb_tensor *got, const nb_tensor *want, const char *what)
{
    const nb_dtype dt = nb_dtype_of(want);
    const int64_t n = nb_numel(want);
    unsigned char *g = cuda_host_bytes(got, NULL), *w = cuda_host_bytes(want, NULL);
    const size_t es = nb_dtype_size(dt);
    for (int64_t i = 0; i < n; i++) {
        if (memcmp(g + (size_t)i * es, w + (size_t)i * es, es) == 0) continue;
        long long gv = dt == NB_INT64 ? ((int64_t *)g)[i] : g[i], wv = dt == NB_INT64 ? ((int64_t *)w)[i] : w[i];
        free(g);
        free(w);
        cr_assert_fail("%s: element %lld is %lld, %lld in the reference", what, (long long)i, gv, wv);
    }
    free(g);
    free(w);
}

static void assert_nmse(const nb_tensor *got, const nb_tensor *want, double tol, const char *what)
{
    const int64_t n = nb_numel(want);
    double *g = host_doubles(got), *w = host_doubles(want);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || !isfinite(g[i])) {
            if ((isnan(w[i]) && isnan(g[i])) || w[i] == g[i]) continue;
            double gv = g[i], wv = w[i];
            free(g);
            free(w);
            cr_assert_fail("%s: element %lld is %g, %g in the reference", what, (long long)i, gv, wv);
        }
        err += (g[i] - w[i]) * (g[i] - w[i]);
        ref += w[i] * w[i];
    }
    free(g);
    free(w);
    double nmse = ref > 0 ? err / ref : err;
    cr_assert_leq(nmse, tol, "%s: normalised MSE %g > %g", what, nmse, tol);
}

void cuda_assert_close(const nb_tensor *got, const nb_tensor *want, nb_device device, double tol, const char *what)
{
    char dev[32], have[32], gs[160], ws[160];
    cuda_device_string(device, dev, sizeof dev);
    cr_assert_not_null(want, "%s: the reference gave no result: %s", what, nb_last_error());
    cr_assert_not_null(got, "%s: %s gave no result: %s", what, dev, nb_last_error());
    nb_device at = nb_device_of(got);
    cr_assert(at.type == device.type && at.index == device.index, "%s: the result lives on %s, not %s", what,
              cuda_device_string(at, have, sizeof have), dev);
    nb_shape_string(got, gs, sizeof gs);
    nb_shape_string(want, ws, sizeof ws);
    cr_assert_str_eq(gs, ws, "%s: shape %s on %s, %s in the reference", what, gs, dev, ws);
    const nb_dtype dt = nb_dtype_of(want);
    cr_assert_eq(nb_dtype_of(got), dt, "%s: dtype %s on %s, %s in the reference", what,
                 nb_dtype_name(nb_dtype_of(got)), dev, nb_dtype_name(dt));
    if (dt == NB_INT64 || dt == NB_BOOL) assert_bits_equal(got, want, what);
    else assert_nmse(got, want, tol, what);
}

void cuda_assert_match(const nb_tensor *got, const nb_tensor *want, nb_device device, const char *what)
{
    cr_assert_not_null(want, "%s: the cpu gave no result: %s", what, nb_last_error());
    cr_assert_eq(nb_device_of(want).type, NB_CPU, "%s: the reference is not on the cpu", what);
    /* the half dtypes: float32 results that may differ in their last bit, rounded (one unit in
     * the last place is a normalised MSE of 2.4e-7 for float16, 1.5e-5 for bfloat16, at most) */
    const nb_dtype dt = nb_dtype_of(want);
    const double tol = dt == NB_FLOAT32 ? 1e-7 : dt == NB_FLOAT16 ? 1e-6 : dt == NB_BFLOAT16 ? 3e-5 : 1e-24;
    cuda_assert_close(got, want, device, tol, what);
}
