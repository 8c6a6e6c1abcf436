/* parity_helpers.c — inputs in every layout, device-against-CPU comparison and header reading for
 * the CUDA parity harness (test_cuda_parity.c). */
#include "parity_helpers.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *layout_names[] = {"contiguous", "transposed", "expanded", "narrowed", "rotated", "stepped"};

void parity_cuda_setup(void)
{
    nb_test_setup();
    if (nb_cuda_device_count() == 0) cr_skip_test("no CUDA device: %s", nb_cuda_available_reason());
}

const char *parity_device_string(nb_device d, char *buf, size_t size)
{
    if (d.type == NB_CPU) snprintf(buf, size, "cpu");
    else snprintf(buf, size, "cuda:%d", d.index);
    return buf;
}

char *parity_specs_string(int n, const parity_spec *specs, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < n && used < size; k++) {
        const parity_spec *s = &specs[k];
        used += (size_t)snprintf(buf + used, size - used, "%s(", k ? ", " : "");
        for (int d = 0; d < s->ndim && used < size; d++)
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "", (long long)s->shape[d]);
        if (used < size) used += (size_t)snprintf(buf + used, size - used, ") %s", layout_names[s->how]);
    }
    return buf;
}

/* The shape of the buffer that s is a view of. */
static int base_shape(const parity_spec *s, int64_t *base)
{
    const int nd = s->ndim;
    memcpy(base, s->shape, (size_t)nd * sizeof(int64_t));
    switch (s->how) {
    case CONTIG: break;
    case TRANSPOSED:
        cr_assert_geq(nd, 2, "a transposed input needs 2 dims");
        base[nd - 2] = s->shape[nd - 1], base[nd - 1] = s->shape[nd - 2];
        break;
    case EXPANDED:
        cr_assert_geq(nd, 1, "an expanded input needs a dim");
        base[0] = 1;
        break;
    case NARROWED:
        cr_assert_geq(nd, 1, "a narrowed input needs a dim");
        base[nd - 1] = 2 * s->shape[nd - 1] + 3;
        break;
    case ROTATED: /* base[j] = shape[j + 1]: the view's dim 0 is the buffer's last */
        cr_assert_geq(nd, 2, "a rotated input needs 2 dims");
        for (int j = 0; j < nd; j++) base[j] = s->shape[(j + 1) % nd];
        break;
    case STEPPED:
        base[nd] = 2;
        return nd + 1;
    }
    return nd;
}

/* The values of kind in dtype, from x (float64 normal, or uniform on [0, 1) for labels). */
static nb_tensor *values_of_kind(nb_tensor *x, char kind, nb_dtype dtype, const nb_tensor *first)
{
    switch (kind) {
    case 'M': return nb_gt_scalar(x, 0);
    case 'I': return nb_to_dtype(nb_mul_scalar(x, 3), NB_INT64);
    case 'L': {
        cr_assert_not_null(first, "labels need the logits as input 0");
        int64_t classes = nb_size(first, -1);
        return nb_to_dtype(nb_mul_scalar(x, (double)classes), NB_INT64); /* truncated: [0, C) */
    }
    case 'P':
        if (dtype == NB_BOOL) return nb_ge_scalar(nb_abs(x), 0);
        if (dtype == NB_INT64) return nb_to_dtype(nb_add_scalar(nb_mul_scalar(nb_abs(x), 3), 1), NB_INT64);
        return nb_to_dtype(nb_add_scalar(nb_abs(x), 0.5), dtype);
    case 'F':
        if (dtype == NB_BOOL) return nb_gt_scalar(x, 0);
        if (dtype == NB_INT64) return nb_to_dtype(nb_mul_scalar(x, 3), NB_INT64);
        return nb_to_dtype(x, dtype);
    }
    cr_assert_fail("unknown input kind '%c'", kind);
    return NULL;
}

nb_tensor *parity_input(const parity_spec *s, char kind, nb_dtype dtype, nb_device device, uint64_t seed,
                        const nb_tensor *first)
{
    int64_t base[NB_MAX_DIMS];
    const int base_nd = base_shape(s, base);
    nb_manual_seed(seed);
    nb_tensor *x = kind == 'L' ? nb_rand(base_nd, base, NB_OPTS(NB_FLOAT64))  /* uniform, for labels */
                               : nb_randn(base_nd, base, NB_OPTS(NB_FLOAT64));
    nb_tensor *values = values_of_kind(x, kind, dtype, first); /* the CPU */
    nb_tensor *d = nb_to(values, device);
    char dev[32];
    cr_assert_not_null(d, "input on %s: %s", parity_device_string(device, dev, sizeof dev), nb_last_error());
    const int nd = s->ndim;
    nb_tensor *v = d;
    switch (s->how) {
    case CONTIG: break;
    case TRANSPOSED: v = nb_transpose(d, -1, -2); break;
    case EXPANDED: v = nb_expand(d, nd, s->shape); break;
    case NARROWED: v = nb_narrow(d, -1, 2, s->shape[nd - 1]); break;
    case ROTATED: {
        int perm[NB_MAX_DIMS];
        for (int i = 0; i < nd; i++) perm[i] = (i + nd - 1) % nd;
        v = nb_permute(d, nd, perm);
        break;
    }
    case STEPPED: v = nb_select(d, -1, 1); break;
    }
    cr_assert_not_null(v, "input layout %s: %s", layout_names[s->how], nb_last_error());
    cr_assert_eq(nb_ndim(v), nd);
    for (int i = 0; i < nd; i++) cr_assert_eq(nb_shape(v)[i], s->shape[i], "input dim %d", i);
    bool all_dims_above_one = true; /* else strides may not matter: (1, 5) narrowed is contiguous */
    for (int i = 0; i < nd; i++) all_dims_above_one = all_dims_above_one && s->shape[i] > 1;
    cr_assert(s->how == CONTIG || !all_dims_above_one || !nb_is_contiguous(v), "a %s input came out contiguous",
              layout_names[s->how]);
    return v;
}

/* ---------------------------------------------------------------- comparison */

/* The bytes of t as a row-major host array; the caller frees. */
static void *host_bytes(const nb_tensor *t)
{
    size_t bytes = (size_t)nb_numel(t) * nb_dtype_size(nb_dtype_of(t));
    void *buf = malloc(bytes ? bytes : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(nb_copy_to_array(t, buf, bytes), NB_OK, "copy to host: %s", nb_last_error());
    return buf;
}

/* t's values as host doubles, converted here rather than on t's device; the caller frees. */
static double *host_doubles(const nb_tensor *t)
{
    const int64_t n = nb_numel(t);
    void *raw = host_bytes(t);
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v); /* (numel,) */
    cr_assert_not_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = nb_dtype_of(t) == NB_FLOAT32 ? (double)((const float *)raw)[i] : ((const double *)raw)[i];
    free(raw);
    return v;
}

static void assert_bits_equal(const nb_tensor *got, const nb_tensor *want, const char *what)
{
    const nb_dtype dt = nb_dtype_of(want);
    const int64_t n = nb_numel(want);
    unsigned char *g = host_bytes(got), *w = host_bytes(want);
    const size_t es = nb_dtype_size(dt);
    for (int64_t i = 0; i < n; i++) {
        if (memcmp(g + (size_t)i * es, w + (size_t)i * es, es) == 0) continue;
        long long gv = dt == NB_INT64 ? ((int64_t *)g)[i] : g[i], wv = dt == NB_INT64 ? ((int64_t *)w)[i] : w[i];
        free(g);
        free(w);
        cr_assert_fail("%s: element %lld is %lld, %lld on the cpu", what, (long long)i, gv, wv);
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
            cr_assert_fail("%s: element %lld is %g, %g on the cpu", what, (long long)i, gv, wv);
        }
        err += (g[i] - w[i]) * (g[i] - w[i]);
        ref += w[i] * w[i];
    }
    free(g);
    free(w);
    double nmse = ref > 0 ? err / ref : err;
    cr_assert_leq(nmse, tol, "%s: normalised MSE %g > %g", what, nmse, tol);
}

void parity_assert_match(const nb_tensor *got, const nb_tensor *want, nb_device device, const char *what)
{
    char dev[32], have[32], gs[160], ws[160];
    parity_device_string(device, dev, sizeof dev);
    cr_assert_not_null(want, "%s: the cpu gave no result: %s", what, nb_last_error());
    cr_assert_not_null(got, "%s: %s gave no result: %s", what, dev, nb_last_error());
    nb_device at = nb_device_of(got);
    cr_assert(at.type == device.type && at.index == device.index, "%s: the result lives on %s, not %s", what,
              parity_device_string(at, have, sizeof have), dev);
    cr_assert_eq(nb_device_of(want).type, NB_CPU, "%s: the reference is not on the cpu", what);
    nb_shape_string(got, gs, sizeof gs);
    nb_shape_string(want, ws, sizeof ws);
    cr_assert_str_eq(gs, ws, "%s: shape %s on %s, %s on the cpu", what, gs, dev, ws);
    const nb_dtype dt = nb_dtype_of(want);
    cr_assert_eq(nb_dtype_of(got), dt, "%s: dtype %s on %s, %s on the cpu", what, nb_dtype_name(nb_dtype_of(got)),
                 dev, nb_dtype_name(dt));
    if (dt == NB_INT64 || dt == NB_BOOL) assert_bits_equal(got, want, what);
    else assert_nmse(got, want, dt == NB_FLOAT32 ? 1e-7 : 1e-24, what);
}

/* ---------------------------------------------------------------- the public headers */

int parity_tensor_functions(const char *path, char (*names)[64], int count, int cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s (tests run in test/)", path);
    static const char ret[] = "nb_tensor *";
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        /* a declaration starts its line: "nb_tensor *nb_add(const nb_tensor *a, ...);" */
        if (strncmp(line, ret, sizeof ret - 1) != 0) continue;
        const char *p = line + sizeof ret - 1;
        size_t len = 0;
        while (isalnum((unsigned char)p[len]) || p[len] == '_') len++;
        if (len == 0 || len >= 64 || p[len] != '(' || strncmp(p, "nb_", 3) != 0) continue;
        cr_assert_lt(count, cap, "more than %d functions return nb_tensor *", cap);
        memcpy(names[count], p, len);
        names[count][len] = '\0';
        count++;
    }
    fclose(f);
    return count;
}

bool parity_list_has(const char *list, const char *word)
{
    const size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, word, n) == 0) return true;
        p += len;
    }
    return false;
}
