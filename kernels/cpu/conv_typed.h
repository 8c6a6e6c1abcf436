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

/* The plane's (h, w) pixels, each the sum of the column elements that read it, windows in
 * order (i, then j). */
static void TYPED(col2im_plane)(const nbk_conv_args *a, int64_t p)
{
    T *img = (T *)a->image + p * a->h * a->w; /* (h, w) */
    const int64_t L = a->oh * a->ow;
    const T *col = (const T *)a->cols + p * a->kh * a->kw * L; /* (kh·kw, oh·ow) */
    for (int64_t iy = 0; iy < a->h; iy++) {
        for (int64_t ix = 0; ix < a->w; ix++) {
            double s = 0;
            for (int64_t i = 0; i < a->kh; i++) {
                const int64_t ty = iy + a->ph - i * a->dh;
                if (ty < 0 || ty % a->sh != 0 || ty / a->sh >= a->oh) continue;
                const int64_t y = ty / a->sh;
                for (int64_t j = 0; j < a->kw; j++) {
                    const int64_t tx = ix + a->pw - j * a->dw;
                    if (tx < 0 || tx % a->sw != 0 || tx / a->sw >= a->ow) continue;
                    s += (double)col[(i * a->kw + j) * L + y * a->ow + tx / a->sw];
                }
            }
            img[iy * a->w + ix] = (T)s;
        }
    }
}

#undef T
#undef SFX
