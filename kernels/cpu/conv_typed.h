/* conv_typed.h — the column kernels of one dtype, included by conv.c with T (the element type)
 * and SFX (its suffix) defined. Each function takes one image plane (h, w) and its kh·kw column
 * rows, each oh·ow long and rs apart (oh·ow in kernels/conv.h's layout; more where a caller lays
 * several images' columns side by side). */

/* The window columns x in [*first, *end) whose pixel column x·sw + x0 lies in [0, w). */
static inline void TYPED(inside_columns)(const nbk_conv_args *a, int64_t x0, int64_t *first, int64_t *end)
{
    *first = x0 >= 0 ? 0 : (-x0 + a->sw - 1) / a->sw;
    const int64_t reach = a->w - 1 - x0 >= 0 ? (a->w - 1 - x0) / a->sw + 1 : 0;
    *end = reach < a->ow ? reach : a->ow;
    if (*first > *end) *first = *end;
}

/* Column row (i, ·) of a plane when both strides are 1 and the windows span the width (ow = w,
 * as with "same" padding): the window rows y whose pixel row lies inside the image read
 * consecutive pixel rows of the same length, so their columns [first, end) are one contiguous
 * copy; the copy also fills the columns outside [first, end) with neighbouring pixels, which are
 * then zeroed, as are the rows outside the image. */
static void TYPED(im2col_rows_same)(const nbk_conv_args *a, const T *img, T *col, int64_t i, int64_t x0,
                                    int64_t first, int64_t end)
{
    const int64_t shift = i * a->dh - a->ph;                  /* pixel row of window row y: y + shift */
    int64_t y0 = shift < 0 ? -shift : 0, y1 = a->h - shift; /* window rows inside: [y0, y1) */
    if (y1 > a->oh) y1 = a->oh;
    if (y0 > y1) y0 = y1;
    for (int64_t e = 0; e < y0 * a->ow; e++) col[e] = 0;
    for (int64_t e = y1 * a->ow; e < a->oh * a->ow; e++) col[e] = 0;
    if (y0 == y1 || first == end) {
        for (int64_t e = y0 * a->ow; e < y1 * a->ow; e++) col[e] = 0;
        return;
    }
    /* elements (y0, first) to (y1 - 1, end - 1), pixel (y + shift, x + x0) for each */
    const int64_t begin = y0 * a->ow + first, stop = (y1 - 1) * a->ow + end;
    const int64_t offset = shift * a->w + x0; /* img[e + offset] is column element e's pixel */
    for (int64_t e = begin; e < stop; e++) col[e] = img[e + offset];
    for (int64_t y = y0; y < y1; y++) {
        T *row = col + y * a->ow; /* (ow,) */
        for (int64_t x = 0; x < first; x++) row[x] = 0;
        for (int64_t x = end; x < a->ow; x++) row[x] = 0;
    }
}

/* The plane's kh·kw column rows from its (h, w) pixels: each row's windows that reach into the
 * padding are zeros, the rest a copy without a test per element. */
static void TYPED(im2col_plane)(const nbk_conv_args *a, const T *img, T *col, int64_t rs)
{
    /* the next plane in memory (usually the next one asked for) is read while this one's kh·kw
     * rows are made from the cache: a prefetch never faults, past the image's end neither */
    const uintptr_t next = (uintptr_t)(img + a->h * a->w);
    for (int64_t e = 0; e < a->h * a->w; e += 64 / (int64_t)sizeof(T))
        __builtin_prefetch((const void *)(next + (uintptr_t)e * sizeof(T)));
    for (int64_t i = 0; i < a->kh; i++) {
        for (int64_t j = 0; j < a->kw; j++, col += rs) {
            const int64_t x0 = j * a->dw - a->pw; /* the pixel column of window column 0 */
            int64_t first, end;
            TYPED(inside_columns)(a, x0, &first, &end);
            if (a->sh == 1 && a->sw == 1 && a->ow == a->w) {
                TYPED(im2col_rows_same)(a, img, col, i, x0, first, end);
                continue;
            }
            for (int64_t y = 0; y < a->oh; y++) {
                T *row = col + y * a->ow; /* (ow,) */
                const int64_t iy = y * a->sh - a->ph + i * a->dh;
                if (iy < 0 || iy >= a->h) {
                    for (int64_t x = 0; x < a->ow; x++) row[x] = 0;
                    continue;
                }
                const T *src = img + iy * a->w; /* (w,) */
                for (int64_t x = 0; x < first; x++) row[x] = 0;
                if (a->sw == 1) {
                    for (int64_t x = first; x < end; x++) row[x] = src[x + x0];
                } else {
                    for (int64_t x = first; x < end; x++) row[x] = src[x * a->sw + x0];
                }
                for (int64_t x = end; x < a->ow; x++) row[x] = 0;
            }
        }
    }
}

/* The plane's (h, w) pixels, each the sum of the column elements that read it. The plane is one
 * thread's: it walks the windows in order (i, then j) adding each column row into the pixels it
 * read, so every pixel's sum starts from 0 and takes its terms in the order of the gather form
 * (kernels/cuda/conv.cu), in the element type: the same additions, and the same result. */
static void TYPED(col2im_plane)(const nbk_conv_args *a, T *img, const T *col, int64_t rs)
{
    for (int64_t e = 0; e < a->h * a->w; e++) img[e] = 0;
    for (int64_t i = 0; i < a->kh; i++) {
        for (int64_t j = 0; j < a->kw; j++, col += rs) {
            const int64_t x0 = j * a->dw - a->pw; /* the pixel column of window column 0 */
            int64_t first, end;
            TYPED(inside_columns)(a, x0, &first, &end);
            for (int64_t y = 0; y < a->oh; y++) {
                const int64_t iy = y * a->sh - a->ph + i * a->dh;
                if (iy < 0 || iy >= a->h) continue;
                T *dst = img + iy * a->w; /* (w,) */
                const T *src = col + y * a->ow; /* (ow,) */
                if (a->sw == 1) {
                    for (int64_t x = first; x < end; x++) dst[x + x0] += src[x];
                } else {
                    for (int64_t x = first; x < end; x++) dst[x * a->sw + x0] += src[x];
                }
            }
        }
    }
}

#undef T
#undef SFX
