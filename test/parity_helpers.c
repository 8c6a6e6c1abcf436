/* parity_helpers.c — inputs in every layout and header reading for the CUDA parity harness
 * (test_cuda_parity.c); the comparison itself is cuda_checks.c's. */
#include "parity_helpers.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *layout_names[] = {"contiguous", "transposed", "expanded", "narrowed", "rotated", "stepped"};

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
    cr_assert_not_null(d, "input on %s: %s", cuda_device_string(device, dev, sizeof dev), nb_last_error());
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

/* ---------------------------------------------------------------- the public headers */

int parity_tensor_functions(const char *path, char (*names)[64], int count, int cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s (tests run in test/)", path);
    static const char ret[] = "nb_tensor *";
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        /* a declaration starts its line: "NB_API nb_tensor *nb_add(const nb_tensor *a, ...);" */
        static const char api[] = "NB_API ";
        const char *d = strncmp(line, api, sizeof api - 1) == 0 ? line + sizeof api - 1 : line;
        if (strncmp(d, ret, sizeof ret - 1) != 0) continue;
        const char *p = d + sizeof ret - 1;
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
        const char *name = p;
        size_t name_len = len;
        const char *colon = memchr(p, ':', len); /* "cpu:Name": a word of one device's */
        if (colon) name = colon + 1, name_len = len - (size_t)(name - p);
        if (name_len == n && strncmp(name, word, n) == 0) return true;
        p += len;
    }
    return false;
}
