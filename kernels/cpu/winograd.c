/* winograd.c — 3x3 convolutions of stride 1 by Winograd's F(2x2, 3x3) on the CPU: the forward;
 * the input's gradient (the same convolution of gy with the kernels rotated and their channels
 * swapped); and the weight's gradient (the transposed products: per tile, the gradient's
 * transform times the input's, summed over the tiles, then untransformed). Each 2x2 block of
 * outputs takes 16 products of transformed values per channel pair where the columns' product
 * takes 36, so the products shrink 2.25 times; they are 16 BLIS products per unit of work,
 * (cout, cin) by (cin, the unit's tiles), and the transforms around them are additions
 * (winograd_typed.h).
 *
 * Work comes in units: a few whole images when an image has few tiles, else rows of one image's
 * tiles, each unit's transformed input and products kept within UNIT_BYTES so that they stay in
 * the cache of the thread that takes the unit. Each output is computed within one unit by the
 * same operations whatever the thread count.
 *
 * The transforms' additions round differently from the direct sum: against float64, results
 * are within a few ulps of the largest value (README: 2.2 to 2.8 float32 ulps on the sample's
 * 32 -> 64 layer, the columns' product 0.85 to 3.2); test/test_conv.c holds them to PyTorch's
 * and to the columns'. */
#include "winograd.h"

#include "blis_setup.h"
#include "conv.h"
#include "gemm.h"
#include "host_cache.h"
#include "math_f32.h"
#include "threads.h"

#include "../error.h"

#include <omp.h>
#include <string.h>

/* A unit's transformed input (16, cin, width) and products (16, cout, width) at most this big. */
#define UNIT_BYTES ((size_t)4 << 20)

typedef struct wino_plan {
    nb_dtype dtype;
    size_t esize;
    int64_t n, cin, in_h, in_w;    /* the input (n, cin, in_h, in_w) */
    int64_t cout, out_h, out_w;    /* the output (n, cout, out_h, out_w) */
    int64_t pad_top, pad_left;     /* zeros before the input's first row and column */
    int64_t th, tw;                /* 2x2 tiles down and across */
    int64_t images_per_unit, rows_per_unit, units;
} wino_plan;

typedef struct wino_unit {
    int64_t image, images; /* its first image and how many */
    int64_t ty0, ty1;      /* the tile rows [ty0, ty1) of each image */
    int64_t tiles, width;  /* tiles per image, (ty1 - ty0)·tw; all its tiles, images·tiles */
} wino_unit;

#include "typed.h" /* TYPED(name): name_SFX */

#define T float
#define SFX f32
#include "winograd_typed.h"

#define T double
#define SFX f64
#include "winograd_typed.h"

/* The tiles, and the units of work: by the shapes alone, never by the threads. */
static void plan_units(wino_plan *w)
{
    w->th = (w->out_h + 1) / 2, w->tw = (w->out_w + 1) / 2;
    const size_t per_tile = 16 * (size_t)(w->cin + w->cout) * w->esize;
    int64_t fit = (int64_t)(UNIT_BYTES / per_tile);
    if (fit < 1) fit = 1;
    const int64_t tiles = w->th * w->tw;
    if (tiles <= fit) { /* whole images, as many as fit */
        w->images_per_unit = fit / tiles < w->n ? fit / tiles : w->n;
        w->rows_per_unit = w->th;
        w->units = (w->n + w->images_per_unit - 1) / w->images_per_unit;
    } else { /* rows of one image */
        w->images_per_unit = 1;
        w->rows_per_unit = fit / w->tw > 0 ? fit / w->tw : 1;
        w->units = w->n * ((w->th + w->rows_per_unit - 1) / w->rows_per_unit);
    }
}

/* Unit j of the plan: its images and tile rows. */
static wino_unit unit_of(const wino_plan *w, int64_t j)
{
    wino_unit u;
    if (w->rows_per_unit == w->th) {
        u.image = j * w->images_per_unit;
        u.images = w->n - u.image < w->images_per_unit ? w->n - u.image : w->images_per_unit;
        u.ty0 = 0, u.ty1 = w->th;
    } else {
        const int64_t per_image = (w->th + w->rows_per_unit - 1) / w->rows_per_unit;
        u.image = j / per_image, u.images = 1;
        u.ty0 = (j % per_image) * w->rows_per_unit;
        u.ty1 = u.ty0 + w->rows_per_unit < w->th ? u.ty0 + w->rows_per_unit : w->th;
    }
    u.tiles = (u.ty1 - u.ty0) * w->tw;
    u.width = u.images * u.tiles;
    return u;
}

/* One thread's scratch: v (16, cin, width), m (16, cout, width), an input plane's 8 views
 * (views_in), and a plane's 4 views of outputs or gradients (views_out). */
typedef struct wino_scratch {
    char *v, *m, *views_in, *views_out;
} wino_scratch;

/* The bytes of one thread's scratch, its parts each 64-byte aligned. */
typedef struct scratch_sizes {
    size_t v, m, views_in, views_out, total;
} scratch_sizes;

static scratch_sizes sizes_of(const wino_plan *w)
{
    const int64_t tiles = w->rows_per_unit * w->tw, width = w->images_per_unit * tiles;
    scratch_sizes z = {
        .v = (size_t)(16 * w->cin * width) * w->esize,
        .m = (size_t)(16 * w->cout * width) * w->esize,
        .views_in = (size_t)(8 * (w->rows_per_unit + 1) * w->tw) * w->esize,
        .views_out = (size_t)(4 * tiles) * w->esize,
    };
    z.v = (z.v + 63) / 64 * 64, z.m = (z.m + 63) / 64 * 64, z.views_in = (z.views_in + 63) / 64 * 64;
    z.total = z.v + z.m + z.views_in + (z.views_out + 63) / 64 * 64;
    return z;
}

/* Thread t's scratch, cut from base. */
static wino_scratch scratch_of(char *base, const scratch_sizes *z, int t)
{
    char *mine = base + z->total * (size_t)t;
    return (wino_scratch){mine, mine + z->v, mine + z->v + z->m, mine + z->v + z->m + z->views_in};
}

/* Unit j: its input transformed, the 16 products, its outputs. */
static void run_unit(const wino_plan *w, int64_t j, const void *in, const void *u, const void *bias, void *out,
                     const wino_scratch *s, int blis_threads)
{
    const wino_unit unit = unit_of(w, j);
    if (w->dtype == NB_FLOAT32) unit_input_f32(w, &unit, in, (float *)s->v, (float *)s->views_in);
    else unit_input_f64(w, &unit, in, (double *)s->v, (double *)s->views_in);
    const int64_t es = (int64_t)w->esize;
    for (int64_t e = 0; e < 16; e++) /* m[e] (cout, width) = u[e] (cout, cin) v[e] (cin, width) */
        nbk_cpu_product(w->dtype, w->cout, unit.width, w->cin,
                        (nbk_operand){(const char *)u + e * w->cout * w->cin * es, w->cin, false},
                        (nbk_operand){s->v + e * w->cin * unit.width * es, unit.width, false}, 0.0,
                        s->m + e * w->cout * unit.width * es, unit.width, blis_threads);
    if (w->dtype == NB_FLOAT32) unit_output_f32(w, &unit, (const float *)s->m, bias, out, (float *)s->views_out);
    else unit_output_f64(w, &unit, (const double *)s->m, bias, out, (double *)s->views_out);
}

/* out = the convolution of in by the transformed kernels u (16, cout, cin), plus bias. */
static nb_status run(wino_plan *w, const void *in, const void *u, const void *bias, void *out, int max_threads)
{
    plan_units(w);
    const double flops = 2.0 * 16 * (double)(w->n * w->th * w->tw) * (double)w->cout * (double)w->cin;
    const int threads = nbk_cpu_threads_for(flops, NBK_CPU_UNIT_GEMM_FLOPS, 0, max_threads);
    const int across = w->units >= threads ? threads : 1;
    const scratch_sizes z = sizes_of(w);
    const size_t bytes = z.total * (size_t)across;
    size_t capacity = 0;
    char *scratch = nbk_host_alloc(bytes, &capacity);
    if (!scratch) return nbk_fail(NB_ERR_MEMORY, "out of memory for the Winograd transforms (%zu bytes)", bytes);
    if (across == 1) {
        const wino_scratch s = scratch_of(scratch, &z, 0);
        for (int64_t j = 0; j < w->units; j++) run_unit(w, j, in, u, bias, out, &s, threads);
    } else {
#pragma omp parallel for num_threads(across) schedule(static)
        for (int64_t j = 0; j < w->units; j++) {
            const wino_scratch s = scratch_of(scratch, &z, omp_get_thread_num());
            run_unit(w, j, in, u, bias, out, &s, 1);
        }
    }
    nbk_host_free(scratch, capacity);
    return NB_OK;
}

/* u (16, cout, cin): the kernels of weight (o, c, 3, 3) transformed; for the input's gradient
 * (rotated) each kernel turned half a turn and cout, cin = c, o. */
static void transform_kernels(const nbk_conv2d_args *a, bool rotated, void *u)
{
    const int64_t o = a->o, c = a->geo.c;
    for (int64_t i = 0; i < o; i++)
        for (int64_t k = 0; k < c; k++) {
            const int64_t first = (i * c + k) * 9 + (rotated ? 8 : 0), si = rotated ? -3 : 3, sj = rotated ? -1 : 1;
            const int64_t at = rotated ? k * o + i : i * c + k, stride = o * c;
            if (a->geo.dtype == NB_FLOAT32)
                kernel_transform_f32((const float *)a->weight + first, si, sj, (float *)u + at, stride);
            else
                kernel_transform_f64((const double *)a->weight + first, si, sj, (double *)u + at, stride);
        }
}

bool nbk_cpu_winograd_applies(const nbk_conv2d_args *a, bool input_gradient)
{
    const nbk_conv_args *g = &a->geo;
    const bool shape = a->groups == 1 && g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 &&
                       g->dw == 1 && g->n > 0 && g->oh > 0 && g->ow > 0;
    /* few channels make products too thin to pay for the transforms */
    const bool channels = g->c >= NBK_WINOGRAD_MIN_CHANNELS && a->o >= NBK_WINOGRAD_MIN_CHANNELS;
    /* the input's gradient pads gy by 2 - padding */
    return shape && channels && (!input_gradient || (g->ph <= 2 && g->pw <= 2));
}

/* The kernels' transforms and the run, with scratch for the transforms. */
static nb_status convolve(const nbk_conv2d_args *a, wino_plan *w, bool rotated, const void *in, const void *bias,
                          void *out, int max_threads)
{
    nbk_blis_init();
    size_t capacity = 0;
    void *u = nbk_host_alloc((size_t)(16 * a->o * a->geo.c) * w->esize, &capacity);
    if (!u) return nbk_fail(NB_ERR_MEMORY, "out of memory for the Winograd kernels (%lld x %lld)", (long long)a->o,
                            (long long)a->geo.c);
    transform_kernels(a, rotated, u);
    const nb_status st = run(w, in, u, bias, out, max_threads);
    nbk_host_free(u, capacity);
    return st;
}

nb_status nbk_cpu_winograd_forward(const nbk_conv2d_args *a, void *y, int max_threads)
{
    const nbk_conv_args *g = &a->geo;
    wino_plan w = {.dtype = g->dtype, .esize = nb_dtype_size(g->dtype), .n = g->n, .cin = g->c, .in_h = g->h,
                   .in_w = g->w, .cout = a->o, .out_h = g->oh, .out_w = g->ow, .pad_top = g->ph, .pad_left = g->pw};
    return convolve(a, &w, false, a->x, a->bias, y, max_threads);
}

nb_status nbk_cpu_winograd_input_grad(const nbk_conv2d_args *a, const void *gy, void *gx, int max_threads)
{
    const nbk_conv_args *g = &a->geo;
    /* gx[iy] sums gy[iy + ph - i] k[i]: gy padded by 2 - ph, read by the kernels turned around */
    wino_plan w = {.dtype = g->dtype, .esize = nb_dtype_size(g->dtype), .n = g->n, .cin = a->o, .in_h = g->oh,
                   .in_w = g->ow, .cout = g->c, .out_h = g->h, .out_w = g->w, .pad_top = 2 - g->ph,
                   .pad_left = 2 - g->pw};
    return convolve(a, &w, true, gy, NULL, gx, max_threads);
}

/* Chunk j of the weight's gradient: its units' inputs and gradients transformed, and the 16
 * products of each summed into the chunk's partial du (16, cout, cin) in unit order. */
static void weight_chunk(const wino_plan *w, int64_t chunks, int64_t j, const void *x, const void *gy, char *du,
                         const wino_scratch *s, int blis_threads)
{
    const int64_t es = (int64_t)w->esize, first = w->units * j / chunks, end = w->units * (j + 1) / chunks;
    for (int64_t k = first; k < end; k++) {
        const wino_unit unit = unit_of(w, k);
        if (w->dtype == NB_FLOAT32) {
            unit_input_f32(w, &unit, x, (float *)s->v, (float *)s->views_in);
            unit_grad_f32(w, &unit, gy, (float *)s->m, (float *)s->views_out);
        } else {
            unit_input_f64(w, &unit, x, (double *)s->v, (double *)s->views_in);
            unit_grad_f64(w, &unit, gy, (double *)s->m, (double *)s->views_out);
        }
        for (int64_t e = 0; e < 16; e++) /* du[e] (cout, cin) += gt[e] (cout, width) v[e]^T (width, cin) */
            nbk_cpu_product(w->dtype, w->cout, w->cin, unit.width,
                            (nbk_operand){s->m + e * w->cout * unit.width * es, unit.width, false},
                            (nbk_operand){s->v + e * w->cin * unit.width * es, unit.width, true},
                            k == first ? 0.0 : 1.0, du + e * w->cout * w->cin * es, w->cin, blis_threads);
    }
}

nb_status nbk_cpu_winograd_weight_grad(const nbk_conv2d_args *a, const void *gy, void *gw, int max_threads)
{
    const nbk_conv_args *g = &a->geo;
    wino_plan w = {.dtype = g->dtype, .esize = nb_dtype_size(g->dtype), .n = g->n, .cin = g->c, .in_h = g->h,
                   .in_w = g->w, .cout = a->o, .out_h = g->oh, .out_w = g->ow, .pad_top = g->ph, .pad_left = g->pw};
    nbk_blis_init();
    plan_units(&w);
    const size_t part = (size_t)(16 * w.cout * w.cin) * w.esize; /* one chunk's du (16, cout, cin) */
    const int64_t chunks = nbk_cpu_conv_chunks(w.units, part); /* the units' fixed chunks (conv.h) */
    const double flops = 2.0 * 16 * (double)(w.n * w.th * w.tw) * (double)w.cout * (double)w.cin;
    const int threads = nbk_cpu_threads_for(flops, NBK_CPU_UNIT_GEMM_FLOPS, 0, max_threads);
    const int across = chunks >= threads ? threads : 1;
    const scratch_sizes z = sizes_of(&w);
    const size_t bytes = z.total * (size_t)across + part * (size_t)chunks;
    size_t capacity = 0;
    char *scratch = nbk_host_alloc(bytes, &capacity);
    if (!scratch) return nbk_fail(NB_ERR_MEMORY, "out of memory for the Winograd weight gradient (%zu bytes)", bytes);
    char *parts = scratch + z.total * (size_t)across; /* (chunks, 16, cout, cin) */
    if (across == 1) {
        const wino_scratch s = scratch_of(scratch, &z, 0);
        for (int64_t j = 0; j < chunks; j++)
            weight_chunk(&w, chunks, j, a->x, gy, parts + part * (size_t)j, &s, threads);
    } else {
#pragma omp parallel for num_threads(across) schedule(static)
        for (int64_t j = 0; j < chunks; j++) {
            const wino_scratch s = scratch_of(scratch, &z, omp_get_thread_num());
            weight_chunk(&w, chunks, j, a->x, gy, parts + part * (size_t)j, &s, 1);
        }
    }
    /* du = the chunks' partials added in chunk order (into the first), then each kernel's G^T du G */
    const int64_t kernels = w.cout * w.cin;
    nbk_cpu_conv_sum_chunks(w.dtype, parts, chunks, 16 * kernels, parts);
    for (int64_t kn = 0; kn < kernels; kn++) /* kernel kn = o·cin + c of du's (cout, cin) */
        if (w.dtype == NB_FLOAT32) kernel_untransform_f32((const float *)parts + kn, kernels, (float *)gw + 9 * kn);
        else kernel_untransform_f64((const double *)parts + kn, kernels, (double *)gw + 9 * kn);
    nbk_host_free(scratch, capacity);
    return NB_OK;
}
