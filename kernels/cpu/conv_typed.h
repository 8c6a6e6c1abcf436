/* conv_typed.h — the column kernels of one dtype, included by conv.c with T (the element type)
 * and SFX (its suffix) defined. Each function takes one image plane p = (image, channel) of
 * kernels/conv.h's layout. */

/* The plane's kh·kw column rows (each oh·ow long) from its (h, w) pixels. */
static void TYPED(im2col_plane)(const nbk_conv_args *a, int64_t p)
{
    const T *img = (const T *)a->image + p * a->h * a->w; /* (h, w) */
    const int64_t L = a->oh * a->ow;
    T *col = (T *)a->cols + p * a->kh * a->kw * L; /* (kh·kw, oh·ow) */
    for (int64_t i = 0; i < a->kh; i++) {
        for (int64_t j = 0; j < a->kw; j++, col += L) {
            for (int64_t y = 0; y < a->oh; y++) {
                T *row = col + y * a->ow; /* (ow,) */
                const int64_t iy = y * a->sh - a->ph + i * a->dh;
                if (iy < 0 || iy >= a->h) {
                    for (int64_t x = 0; x < a->ow; x++) row[x] = 0;
                    continue;
                }
                const T *src = img + iy * a->w; /* (w,) */
                const int64_t x0 = j * a->dw - a->pw;
                if (a->sw == 1 && x0 >= 0 && x0 + a->ow <= a->w) {
                    for (int64_t x = 0; x < a->ow; x++) row[x] = src[x0 + x];
                    continue;
                }
                for (int64_t x = 0; x < a->ow; x++) {
                    const int64_t ix = x * a->sw + x0;
                    row[x] = ix >= 0 && ix < a->w ? src[ix] : (T)0;
                }
            }
        }
    }
}

/* The plane's (h, w) pixels, each the sum of the column elements that read it. The plane is one
 * thread's: it walks the windows in order (i, then j) adding each column row into the pixels it
 * read, so every pixel's sum starts from 0 and takes its terms in the order of the gather form
 * (kernels/cuda/conv.cu), in the element type: the same additions, and the same result. */
static void TYPED(col2im_plane)(const nbk_conv_args *a, int64_t p)
{
    T *img = (T *)a->image + p * a->h * a->w; /* (h, w) */
    const int64_t L = a->oh * a->ow;
    const T *col = (const T *)a->cols + p * a->kh * a->kw * L; /* (kh·kw, oh·ow) */
    for (int64_t e = 0; e < a->h * a->w; e++) img[e] = 0;
    for (int64_t i = 0; i < a->kh; i++) {
        for (int64_t j = 0; j < a->kw; j++, col += L) {
            const int64_t x0 = j * a->dw - a->pw; /* the pixel column of window column 0 */
            /* the window columns x whose pixel column x·sw + x0 lies in [0, w) */
            const int64_t first = x0 >= 0 ? 0 : (-x0 + a->sw - 1) / a->sw;
            const int64_t reach = a->w - 1 - x0 >= 0 ? (a->w - 1 - x0) / a->sw + 1 : 0;
            const int64_t end = reach < a->ow ? reach : a->ow;
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
