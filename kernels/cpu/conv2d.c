/* conv2d.c — the CPU's whole 2-D convolution, forward and backward (kernels/conv.h), a few images
 * at a time: their columns (c/groups·kh·kw, oh·ow each) are made in a scratch buffer of the
 * thread that takes them and multiplied at once by BLIS, while they are still in its cache. The
 * batch's columns are never all in memory (composed of im2col and a product, the convolution of
 * test/bench/bench_conv.c's ResNet layer held 231 MB of them), and the backward makes them again
 * from x rather than keeping them.
 *
 * The forward takes an image at a time. The backward takes tiles of a few images side by side,
 * so that the weight's gradient is one product over all their columns, and x's gradient comes
 * from one product per tile. Threads take whole images (or chunks of them), each product on one
 * BLIS thread; with fewer than there are threads, they run in turn, each product on every thread.
 *
 * The weight's and bias's gradients sum over the batch: the images split into a fixed number of
 * chunks (by the shapes, never by the threads), each chunk sums its images in order into its
 * own partial, and the partials are added in chunk order, so the gradients do not depend on the
 * thread count.
 *
 * A 3x3, stride-1 convolution with enough channels goes to Winograd's transforms instead
 * (winograd.c): its forward, and in the backward the input's and the weight's gradients; the
 * columns then give the bias's gradient alone, or what Winograd cannot take (the input's
 * gradient under a padding over 2). */
#include "conv.h"

#include "blis_setup.h"
#include "gemm.h"
#include "host_cache.h"
#include "threads.h"
#include "winograd.h"

#include "../error.h"

#include <omp.h>
#include <string.h>

/* Chunks whose weight gradients are summed apart: at most this many, and their partials at most
 * PARTIAL_BYTES together. */
enum { MAX_CHUNKS = 16 };
#define PARTIAL_BYTES ((size_t)64 << 20)
/* The backward takes a chunk's images in tiles, side by side, so that the weight's gradient is
 * one product over the tile's columns (a longer sum per call than one image's): at most MAX_TILE
 * images, their columns at most TILE_BYTES. */
enum { MAX_TILE = 8 };
#define TILE_BYTES ((size_t)512 << 10)

/* The layer's sizes, per group. */
typedef struct plan {
    int64_t cg, og, k, l;  /* input and output channels per group; column rows (cg·kh·kw), columns (oh·ow) */
    size_t esize;
    bool direct;           /* a 1x1 window, stride 1, no padding: an image is its own columns */
    int threads;           /* threads in all, by the rule of kernels/cpu/threads.h on the flops */
    int across;            /* threads taking images (or chunks) side by side; 1: one after another */
} plan;

/* The plan of a's convolution whose work comes in items (images, chunks) a thread takes whole. */
static plan plan_of(const nbk_conv2d_args *a, int64_t items, int max_threads)
{
    const nbk_conv_args *g = &a->geo;
    plan p = {.cg = g->c / a->groups, .og = a->o / a->groups, .l = g->oh * g->ow, .esize = nb_dtype_size(g->dtype)};
    p.k = p.cg * g->kh * g->kw;
    p.direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 && g->oh == g->h &&
               g->ow == g->w;
    const double flops = 2.0 * (double)g->n * (double)a->o * (double)p.k * (double)p.l;
    p.threads = nbk_cpu_threads_for(flops, NBK_CPU_UNIT_GEMM_FLOPS, 0, max_threads);
    p.across = items >= p.threads ? p.threads : 1;
    return p;
}

/* The columns (k, t·l) of t images side by side, group gr, from x0, the group's first plane of
 * the first image: column row r of image q at cols + r·width + q·l. */
static void tile_columns(const nbk_conv2d_args *a, const plan *p, const char *x0, int64_t t, void *cols)
{
    const nbk_conv_args *g = &a->geo;
    const int64_t es = (int64_t)p->esize, width = t * p->l, plane = g->h * g->w, rows = g->kh * g->kw;
    for (int64_t q = 0; q < t; q++)
        for (int64_t ch = 0; ch < p->cg; ch++)
            nbk_cpu_im2col_plane(g, x0 + ((q * g->c + ch) * plane) * es,
                                 (char *)cols + (ch * rows * width + q * p->l) * es, width);
}

/* Image i's group gr of x (cg, h, w) as columns (k, l): x itself when direct, else made in cols. */
static const void *columns_of(const nbk_conv2d_args *a, const plan *p, int64_t i, int64_t gr, void *cols)
{
    const nbk_conv_args *g = &a->geo;
    const char *image = (const char *)a->x + ((i * g->c + gr * p->cg) * g->h * g->w) * (int64_t)p->esize;
    if (p->direct) return image;
    tile_columns(a, p, image, 1, cols);
    return cols;
}

/* Fills y's rows (og, l) of group gr with the bias. */
static void fill_bias(const nbk_conv2d_args *a, const plan *p, int64_t gr, void *y)
{
    for (int64_t r = 0; r < p->og; r++) {
        const int64_t ch = gr * p->og + r;
        if (a->geo.dtype == NB_FLOAT32) {
            float *row = (float *)y + r * p->l, v = ((const float *)a->bias)[ch]; /* (l,) */
            for (int64_t j = 0; j < p->l; j++) row[j] = v;
        } else {
            double *row = (double *)y + r * p->l, v = ((const double *)a->bias)[ch]; /* (l,) */
            for (int64_t j = 0; j < p->l; j++) row[j] = v;
        }
    }
}

/* Image i's output (o, l): per group, the weight (og, k) times the columns (k, l), plus bias. */
static void forward_image(const nbk_conv2d_args *a, const plan *p, int64_t i, void *y, void *cols, int blis_threads)
{
    for (int64_t gr = 0; gr < a->groups; gr++) {
        const void *c = columns_of(a, p, i, gr, cols);
        char *yg = (char *)y + ((i * a->o + gr * p->og) * p->l) * (int64_t)p->esize; /* (og, l) */
        if (a->bias) fill_bias(a, p, gr, yg);
        const nbk_operand w = {(const char *)a->weight + gr * p->og * p->k * (int64_t)p->esize, p->k, false};
        nbk_cpu_product(a->geo.dtype, p->og, p->l, p->k, w, (nbk_operand){c, p->l, false}, a->bias ? 1.0 : 0.0, yg,
                        p->l, blis_threads);
    }
}

nb_status nbk_cpu_conv2d_forward(const nbk_conv2d_args *a, void *y, int max_threads)
{
    const nbk_conv_args *g = &a->geo;
    if (g->n == 0 || a->o == 0 || g->oh * g->ow == 0) return NB_OK;
    if (nbk_cpu_winograd_applies(a, false)) return nbk_cpu_winograd_forward(a, y, max_threads);
    nbk_blis_init();
    const plan p = plan_of(a, g->n, max_threads);
    if (p.k == 0) { /* no input channels: the output is the bias alone */
        for (int64_t i = 0; i < g->n; i++)
            for (int64_t gr = 0; gr < a->groups; gr++) {
                char *yg = (char *)y + ((i * a->o + gr * p.og) * p.l) * (int64_t)p.esize;
                if (a->bias) fill_bias(a, &p, gr, yg);
                else memset(yg, 0, (size_t)(p.og * p.l) * p.esize);
            }
        return NB_OK;
    }
    const size_t per_thread = p.direct ? 0 : (size_t)(p.k * p.l) * p.esize; /* columns (k, l) */
    size_t capacity = 0;
    char *scratch = per_thread ? nbk_host_alloc(per_thread * (size_t)p.across, &capacity) : NULL;
    if (per_thread && !scratch)
        return nbk_fail(NB_ERR_MEMORY, "out of memory for the columns of %lld threads (%zu bytes each)",
                        (long long)p.across, per_thread);
    if (p.across == 1) {
        for (int64_t i = 0; i < g->n; i++) forward_image(a, &p, i, y, scratch, p.threads);
    } else {
#pragma omp parallel for num_threads(p.across) schedule(static)
        for (int64_t i = 0; i < g->n; i++)
            forward_image(a, &p, i, y, scratch ? scratch + per_thread * (size_t)omp_get_thread_num() : NULL, 1);
    }
    if (scratch) nbk_host_free(scratch, capacity);
    return NB_OK;
}

/* ---------------------------------------------------------------- backward */

/* What the backward writes, and where its scratch is. */
typedef struct grads {
    const void *gy;   /* (n, o, l) */
    void *gx;         /* (n, c, h, w), or NULL */
    void *gw_parts;   /* (chunks, o, k) of the weight's gradient, or NULL */
    double *gb_parts; /* (chunks, o) of the bias's gradient, or NULL */
} grads;

/* One thread's scratch for a tile of t images side by side (width t·l). */
typedef struct tile_scratch {
    void *cols;  /* (k, width): the images' columns */
    void *gcols; /* (k, width): their gradient */
    void *gy;    /* (og, width): the images' rows of gy, side by side */
} tile_scratch;

/* Images [i0, i0 + t) of chunk, group gr: the weight's gradient into the chunk's partial (its
 * first tile stores, the rest add), as one product over the tile's t·l columns, and x's, from
 * the tile's columns' gradient. A tile of one image reads gy in place; a direct convolution's
 * tiles are of one image, and read x and write x's gradient in place. */
static void backward_tile(const nbk_conv2d_args *a, const plan *p, const grads *d, int64_t chunk, bool first,
                          int64_t i0, int64_t t, int64_t gr, const tile_scratch *s, int blis_threads)
{
    const nbk_conv_args *g = &a->geo;
    const nb_dtype dt = g->dtype;
    const int64_t es = (int64_t)p->esize, width = t * p->l, plane = g->h * g->w, rows = g->kh * g->kw;
    const char *gy0 = (const char *)d->gy + ((i0 * a->o + gr * p->og) * p->l) * es; /* (og, l) of image i0 */
    const void *gy = gy0;                                                           /* (og, width) */
    if (t > 1) {
        for (int64_t q = 0; q < t; q++)
            for (int64_t r = 0; r < p->og; r++)
                memcpy((char *)s->gy + (r * width + q * p->l) * es, gy0 + ((q * a->o + r) * p->l) * es,
                       (size_t)(p->l * es));
        gy = s->gy;
    }
    const char *x0 = (const char *)a->x + ((i0 * g->c + gr * p->cg) * plane) * es; /* (cg, h, w) of image i0 */
    if (d->gw_parts) {
        const void *cols = x0; /* direct (tiles of one image): x itself */
        if (!p->direct) {
            tile_columns(a, p, x0, t, s->cols);
            cols = s->cols;
        }
        char *part = (char *)d->gw_parts + ((chunk * a->o + gr * p->og) * p->k) * es; /* (og, k) */
        nbk_cpu_product(dt, p->og, p->k, width, (nbk_operand){gy, width, false}, (nbk_operand){cols, width, true},
                        first ? 0.0 : 1.0, part, p->k, blis_threads);
    }
    if (d->gx) {
        char *gx0 = (char *)d->gx + ((i0 * g->c + gr * p->cg) * plane) * es; /* (cg, h, w) of image i0 */
        const nbk_operand w = {(const char *)a->weight + gr * p->og * p->k * es, p->k, true};
        /* the columns' gradient (k, width) = w^T (k, og) gy (og, width): x's own when direct */
        nbk_cpu_product(dt, p->k, width, p->og, w, (nbk_operand){gy, width, false}, 0.0, p->direct ? gx0 : s->gcols,
                        width, blis_threads);
        if (!p->direct)
            for (int64_t q = 0; q < t; q++)
                for (int64_t ch = 0; ch < p->cg; ch++)
                    nbk_cpu_col2im_plane(g, gx0 + ((q * g->c + ch) * plane) * es,
                                         (const char *)s->gcols + (ch * rows * width + q * p->l) * es, width);
    }
}

/* The sum of row (l,) in double, in LANES independent partial sums (so that the additions
 * overlap), added up in a fixed order. */
enum { LANES = 8 };

static double row_sum(nb_dtype dt, const void *row, int64_t l)
{
    double lane[LANES] = {0}, sum = 0;
    int64_t j = 0;
    if (dt == NB_FLOAT32) {
        const float *r = row;
        for (; j + LANES <= l; j += LANES)
            for (int q = 0; q < LANES; q++) lane[q] += (double)r[j + q];
        for (; j < l; j++) sum += (double)r[j];
    } else {
        const double *r = row;
        for (; j + LANES <= l; j += LANES)
            for (int q = 0; q < LANES; q++) lane[q] += r[j + q];
        for (; j < l; j++) sum += r[j];
    }
    for (int q = 0; q < LANES; q++) sum += lane[q];
    return sum;
}

/* The bias's gradient of image i, group gr, into the chunk's double partial (stored by the
 * chunk's first image, added by the rest). */
static void bias_image(const nbk_conv2d_args *a, const plan *p, const grads *d, int64_t chunk, bool first, int64_t i,
                       int64_t gr)
{
    const char *gy = (const char *)d->gy + ((i * a->o + gr * p->og) * p->l) * (int64_t)p->esize; /* (og, l) */
    double *part = d->gb_parts + chunk * a->o + gr * p->og;                                  /* (og,) */
    for (int64_t r = 0; r < p->og; r++) {
        const double sum = row_sum(a->geo.dtype, gy + r * p->l * (int64_t)p->esize, p->l);
        part[r] = first ? sum : part[r] + sum;
    }
}

/* Chunk j of the batch: its images, in tiles of at most tile images, in order. */
static void backward_chunk(const nbk_conv2d_args *a, const plan *p, const grads *d, int64_t chunks, int64_t j,
                           int64_t tile, const tile_scratch *s, int blis_threads)
{
    const int64_t first = a->geo.n * j / chunks, end = a->geo.n * (j + 1) / chunks;
    for (int64_t i0 = first; i0 < end; i0 += tile) {
        const int64_t t = end - i0 < tile ? end - i0 : tile;
        for (int64_t gr = 0; gr < a->groups; gr++) {
            if (d->gw_parts || d->gx) backward_tile(a, p, d, j, i0 == first, i0, t, gr, s, blis_threads);
            if (d->gb_parts)
                for (int64_t i = i0; i < i0 + t; i++) bias_image(a, p, d, j, i == first, i, gr);
        }
    }
}

int64_t nbk_cpu_conv_chunks(int64_t items, size_t part_bytes)
{
    int64_t chunks = items < MAX_CHUNKS ? items : MAX_CHUNKS;
    const int64_t fit = part_bytes ? (int64_t)(PARTIAL_BYTES / part_bytes) : chunks;
    if (chunks > fit) chunks = fit > 1 ? fit : 1;
    return chunks;
}

void nbk_cpu_conv_sum_chunks(nb_dtype dt, const void *parts, int64_t chunks, int64_t count, void *out)
{
    for (int64_t e = 0; e < count; e++) {
        if (dt == NB_FLOAT32) {
            const float *p = parts;
            float s = p[e];
            for (int64_t j = 1; j < chunks; j++) s += p[j * count + e];
            ((float *)out)[e] = s;
        } else {
            const double *p = parts;
            double s = p[e];
            for (int64_t j = 1; j < chunks; j++) s += p[j * count + e];
            ((double *)out)[e] = s;
        }
    }
}

nb_status nbk_cpu_conv2d_backward(const nbk_conv2d_args *a, const void *gy, void *gx, void *gw, void *gb,
                                  int max_threads)
{
    const nbk_conv_args *g = &a->geo;
    const size_t esize = nb_dtype_size(g->dtype);
    const int64_t x_numel = g->n * g->c * g->h * g->w, weight_numel = g->c / a->groups * a->o * g->kh * g->kw;
    if (g->n == 0 || a->o == 0 || g->oh * g->ow == 0 || g->c == 0) { /* no product reaches x or the weight */
        if (gx) memset(gx, 0, (size_t)x_numel * esize);
        if (gw) memset(gw, 0, (size_t)weight_numel * esize);
        if (gb) memset(gb, 0, (size_t)a->o * esize);
        if (!gb || g->n == 0 || g->oh * g->ow == 0) return NB_OK;
        gx = gw = NULL; /* the bias's gradient still sums gy */
    }
    if (gx && nbk_cpu_winograd_applies(a, true)) {
        const nb_status st = nbk_cpu_winograd_input_grad(a, gy, gx, max_threads);
        if (st != NB_OK) return st;
        gx = NULL;
    }
    if (gw && nbk_cpu_winograd_applies(a, false)) {
        const nb_status st = nbk_cpu_winograd_weight_grad(a, gy, gw, max_threads);
        if (st != NB_OK) return st;
        gw = NULL;
    }
    if (!gx && !gw && !gb) return NB_OK; /* what is left (the bias's gradient) comes below */
    nbk_blis_init();
    plan p = plan_of(a, g->n, max_threads);
    /* the weight's and bias's sums go by chunks; x's gradient alone takes the images freely */
    const int64_t chunks = gw || gb ? nbk_cpu_conv_chunks(g->n, (size_t)(a->o * p.k) * p.esize) : g->n;
    p.across = chunks >= p.threads ? p.threads : 1;
    /* tiles of images whose columns (k, tile·l) stay within TILE_BYTES; a direct convolution
     * reads x in place, an image at a time */
    const size_t image_cols = (size_t)(p.k * p.l) * esize;
    int64_t tile = p.direct || !image_cols ? 1 : (int64_t)(TILE_BYTES / image_cols);
    tile = tile < 1 ? 1 : tile > MAX_TILE ? MAX_TILE : tile;
    const size_t cols_bytes = (size_t)(tile * p.k * p.l) * esize, gy_bytes = (size_t)(tile * p.og * p.l) * esize;
    const size_t per_thread = p.direct || (!gx && !gw) ? 0 : 2 * cols_bytes + gy_bytes; /* the bias alone needs none */
    const size_t gw_bytes = gw ? (size_t)(chunks * a->o * p.k) * esize : 0;
    const size_t gb_bytes = gb ? (size_t)(chunks * a->o) * sizeof(double) : 0;
    const size_t bytes = per_thread * (size_t)p.across + gw_bytes + gb_bytes + 64;
    size_t capacity = 0;
    char *scratch = nbk_host_alloc(bytes, &capacity);
    if (!scratch)
        return nbk_fail(NB_ERR_MEMORY, "out of memory for the convolution's backward scratch (%zu bytes)", bytes);
    const grads d = {
        .gy = gy,
        .gx = gx,
        .gw_parts = gw ? scratch + per_thread * (size_t)p.across : NULL,
        .gb_parts = gb ? (double *)(scratch + (per_thread * (size_t)p.across + gw_bytes + 7) / 8 * 8) : NULL,
    };
    if (p.across == 1) {
        const tile_scratch s = {scratch, scratch + cols_bytes, scratch + 2 * cols_bytes};
        for (int64_t j = 0; j < chunks; j++) backward_chunk(a, &p, &d, chunks, j, tile, &s, p.threads);
    } else {
#pragma omp parallel for num_threads(p.across) schedule(static)
        for (int64_t j = 0; j < chunks; j++) {
            char *mine = scratch + per_thread * (size_t)omp_get_thread_num();
            const tile_scratch s = {mine, mine + cols_bytes, mine + 2 * cols_bytes};
            backward_chunk(a, &p, &d, chunks, j, tile, &s, 1);
        }
    }
    if (gw) nbk_cpu_conv_sum_chunks(g->dtype, d.gw_parts, chunks, a->o * p.k, gw);
    if (gb)
        for (int64_t e = 0; e < a->o; e++) {
            double s = 0;
            for (int64_t j = 0; j < chunks; j++) s += d.gb_parts[j * a->o + e];
            if (g->dtype == NB_FLOAT32) ((float *)gb)[e] = (float)s;
            else ((double *)gb)[e] = s;
        }
    nbk_host_free(scratch, capacity);
    return NB_OK;
}
