/* conv.h — the CPU kernels of convolution, over the layouts of kernels/conv.h: the column kernels
 * (conv.c) and the whole convolution an image at a time (conv2d.c). */
#ifndef NB_KERNELS_CPU_CONV_H
#define NB_KERNELS_CPU_CONV_H

#include "../conv.h"

#include <stddef.h>

/* a->cols (n, c·kh·kw, oh·ow) from a->image (n, c, h, w). */
void nbk_cpu_im2col(const nbk_conv_args *a, int nthreads);
/* a->image (n, c, h, w): each element the sum of the column elements that read it, in a fixed order. */
void nbk_cpu_col2im(const nbk_conv_args *a, int nthreads);
/* One plane's (h, w) columns: kh·kw rows, each oh·ow long and rs elements apart, on the calling
 * thread (a's n and c are not read); and the plane, summed from such columns. */
void nbk_cpu_im2col_plane(const nbk_conv_args *a, const void *plane, void *cols, int64_t rs);
void nbk_cpu_col2im_plane(const nbk_conv_args *a, void *plane, const void *cols, int64_t rs);

/* The chunks that items (images, Winograd's units) split into for a gradient summed over them,
 * each chunk's partial of part_bytes: by the shapes alone, never by the threads, so that the
 * sums do not depend on the thread count (conv2d.c, winograd.c). */
int64_t nbk_cpu_conv_chunks(int64_t items, size_t part_bytes);
/* out (count,) = the sum of parts (chunks, count) in chunk order, in dt (float32 or float64); out
 * may be parts' first chunk. */
void nbk_cpu_conv_sum_chunks(nb_dtype dt, const void *parts, int64_t chunks, int64_t count, void *out);

/* y (n, o, oh, ow) of a's convolution. NB_OK, or NB_ERR_MEMORY (nbk_error) without scratch. */
nb_status nbk_cpu_conv2d_forward(const nbk_conv2d_args *a, void *y, int max_threads);
/* From gy (n, o, oh, ow): gx (x's shape), gw (the weight's), gb (o,), each NULL when not wanted. */
nb_status nbk_cpu_conv2d_backward(const nbk_conv2d_args *a, const void *gy, void *gx, void *gw, void *gb,
                                  int max_threads);

#endif /* NB_KERNELS_CPU_CONV_H */
