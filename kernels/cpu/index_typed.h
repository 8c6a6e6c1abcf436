/* index_typed.h — the CPU index loops of one dtype, written once as plain C over the element type
 * T (kernels/index.h says what they compute). index.c includes it once per dtype, with these
 * defined:
 *   T         the element type: float, double, int64_t or bool
 *   SFX       the name suffix (f32, f64, i64, b8): TYPED(gather_rows) names gather_rows_f32
 *   ADD(x, y) x + y in T (bool: or)
 *   SCALE(x, alpha) x · alpha in T
 *   ALPHA(v)  the double v as a T (a cast unless defined)
 * and TYPED. A gather checks each index as it reads it; a scatter's indices are checked before
 * it runs (index.c), and it trusts them. */

/* Rows [begin, end) of a gather: a row is the iteration's last dim at fixed outer coordinates.
 * Each index is checked as it is read: at the first one out of range the loop stops and returns
 * its offset in the index (*value receiving it); -1 when all were in range. */
static int64_t TYPED(gather_rows)(const nbk_index_args *a, int64_t begin, int64_t end, int64_t *value)
{
    const int last = a->ndim - 1, dim = a->dim;
    const int64_t n = a->shape[last];
    const uint64_t bound = (uint64_t)a->bound; /* a negative index, as unsigned, is past it too */
    const T *self = a->self;
    T *out = a->other;
    for (int64_t r = begin; r < end; r++) {
        int64_t rest = r, so = 0, oo = 0, io = 0;
        for (int d = last - 1; d >= 0; d--) {
            const int64_t c = rest % a->shape[d];
            rest /= a->shape[d];
            if (d != dim) so += c * a->self_strides[d];
            oo += c * a->other_strides[d];
            io += c * a->index_strides[d];
        }
        const int64_t ss = a->self_strides[last], os = a->other_strides[last], is = a->index_strides[last];
        const int64_t *ix = a->index + io;
        T *dst = out + oo;
        if (dim == last) { /* an index per element, along the row */
            const int64_t sd = a->self_strides[dim];
            const T *row = self + so;
            for (int64_t k = 0; k < n; k++) {
                const int64_t v = ix[k * is];
                if ((uint64_t)v >= bound) return *value = v, io + k * is;
                dst[k * os] = row[v * sd];
            }
        } else if (is == 0) { /* one index for the row: a strided copy of one row of self */
            if ((uint64_t)ix[0] >= bound) return *value = ix[0], io;
            if (a->ndim == 2 && r + PREFETCH_ROWS < end) { /* rows picked at random: fetch ahead */
                const int64_t ahead = ix[PREFETCH_ROWS * a->index_strides[0]];
                if ((uint64_t)ahead < bound) __builtin_prefetch(self + ahead * a->self_strides[0]);
            }
            const T *src = self + so + ix[0] * a->self_strides[dim];
            if (ss == 1 && os == 1)
                memcpy(dst, src, (size_t)n * sizeof(T));
            else
                for (int64_t k = 0; k < n; k++) dst[k * os] = src[k * ss];
        } else {
            const int64_t sd = a->self_strides[dim];
            for (int64_t k = 0; k < n; k++) {
                const int64_t v = ix[k * is];
                if ((uint64_t)v >= bound) return *value = v, io + k * is;
                dst[k * os] = self[so + k * ss + v * sd];
            }
        }
    }
    return -1;
}

/* Items [begin, end) of a scatter, each `chunk` consecutive elements of the inner dim (the last
 * dim that is not dim; none for a 1-D iteration) at fixed outer coordinates: for each step j
 * along dim in order, the chunk's elements of self at index are set or added to. */
static void TYPED(scatter_items)(const nbk_index_args *a, bool add, int inner, int64_t chunk, int64_t begin,
                                 int64_t end)
{
    const int dim = a->dim;
    const int64_t len = a->shape[dim], inner_n = inner >= 0 ? a->shape[inner] : 1;
    const int64_t chunks = (inner_n + chunk - 1) / chunk;
    const int64_t ss = inner >= 0 ? a->self_strides[inner] : 0, os = inner >= 0 ? a->other_strides[inner] : 0,
                  is = inner >= 0 ? a->index_strides[inner] : 0;
    const int64_t sd = a->self_strides[dim], od = a->other_strides[dim], id = a->index_strides[dim];
    T *self = a->self;
    const T *other = a->other;
#ifdef ALPHA
    const T alpha = ALPHA(a->alpha);
#else
    const T alpha = (T)a->alpha;
#endif
    const bool scaled = a->alpha != 1.0;
    for (int64_t item = begin; item < end; item++) {
        int64_t rest = item / chunks;
        const int64_t k0 = (item % chunks) * chunk;
        const int64_t k1 = k0 + chunk < inner_n ? k0 + chunk : inner_n;
        int64_t so = 0, oo = 0, io = 0;
        for (int d = a->ndim - 1; d >= 0; d--) {
            if (d == dim || d == inner) continue;
            const int64_t c = rest % a->shape[d];
            rest /= a->shape[d];
            so += c * a->self_strides[d];
            oo += c * a->other_strides[d];
            io += c * a->index_strides[d];
        }
        for (int64_t j = 0; j < len; j++) {
            const int64_t *ix = a->index + io + j * id;
            const T *src = other + oo + j * od;
            if (is == 0) { /* one index for the whole chunk */
                T *dst = self + so + ix[0] * sd;
                if (!add)
                    for (int64_t k = k0; k < k1; k++) dst[k * ss] = src[k * os];
                else if (!scaled)
                    for (int64_t k = k0; k < k1; k++) dst[k * ss] = ADD(dst[k * ss], src[k * os]);
                else
                    for (int64_t k = k0; k < k1; k++) dst[k * ss] = ADD(dst[k * ss], SCALE(src[k * os], alpha));
            } else {
                for (int64_t k = k0; k < k1; k++) {
                    T *dst = self + so + k * ss + ix[k * is] * sd;
                    const T v = src[k * os];
                    *dst = !add ? v : ADD(*dst, scaled ? SCALE(v, alpha) : v);
                }
            }
        }
    }
}
