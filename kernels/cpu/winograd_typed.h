/* winograd_typed.h — the transforms of Winograd's F(2x2, 3x3) for one dtype, included by
 * winograd.c with T (the element type) and SFX (its suffix) defined, and TYPED from there.
 *
 * With d a 4x4 patch of the input, g a 3x3 kernel and m = (G g G^T) ⊙ (B^T d B), the 2x2
 * outputs of the patch are A^T m A (Lavin and Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016):
 *     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *     G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *     A^T = [1 1 1 0; 0 1 -1 -1]
 * Position e = 4 r + c of a transformed 4x4 tile is its row r, column c. */

/* u (16,) = G g G^T of a 3x3 kernel g whose element (i, j) is g[i·si + j·sj] (a rotated
 * kernel reads backwards). */
static void TYPED(kernel_transform)(const T *g, int64_t si, int64_t sj, T *u, int64_t u_stride)
{
    T gg[3][3], t[4][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) gg[i][j] = g[i * si + j * sj];
    for (int j = 0; j < 3; j++) { /* t = G g */
        t[0][j] = gg[0][j];
        t[1][j] = (gg[0][j] + gg[1][j] + gg[2][j]) * (T)0.5;
        t[2][j] = (gg[0][j] - gg[1][j] + gg[2][j]) * (T)0.5;
        t[3][j] = gg[2][j];
    }
    for (int r = 0; r < 4; r++) { /* u = t G^T */
        u[(4 * r + 0) * u_stride] = t[r][0];
        u[(4 * r + 1) * u_stride] = (t[r][0] + t[r][1] + t[r][2]) * (T)0.5;
        u[(4 * r + 2) * u_stride] = (t[r][0] - t[r][1] + t[r][2]) * (T)0.5;
        u[(4 * r + 3) * u_stride] = t[r][2];
    }
}

/* The tiles' views of a plane. A unit's plane is split, once, into 8 arrays whose element t
 * (tile t = (ty, tx) of the unit, t = ty·tw + tx) is the pixel of the padded row 2 ty + p at
 * column 2 (tx + dx) + c, for the row parity p, the column parity c and dx in {0, 1}: array
 * ((p·2 + c)·2 + dx) of xs elements, with one more tile row (ty = rows) for the patches' rows 2
 * and 3, which are rows 0 and 1 of the tile row below. A patch's 16 pixels are then elements t
 * (or t + tw) of the 8 arrays, so every transform is one unit-stride loop over all the plane's
 * tiles, however short its rows. */

/* B^T d B of the unit's tiles (tiles of them) from their 8 views x (xs apart; the rows below at
 * + tw), into v[e·vs + t]. */
SIMD_CLONES static void TYPED(input_transform)(const T *restrict x, int64_t xs, int64_t tw, int64_t tiles,
                                               T *restrict v, int64_t vs)
{
    /* view (p, c, dx): row 0 of a patch is p = 0, row 1 p = 1, rows 2 and 3 the same a tile row down */
    const T *restrict e00 = x, *restrict e01 = x + xs, *restrict o00 = x + 2 * xs, *restrict o01 = x + 3 * xs;
    const T *restrict e10 = x + 4 * xs, *restrict e11 = x + 5 * xs, *restrict o10 = x + 6 * xs;
    const T *restrict o11 = x + 7 * xs;
    T *restrict v0 = v, *restrict v1 = v + vs, *restrict v2 = v + 2 * vs, *restrict v3 = v + 3 * vs;
    T *restrict v4 = v + 4 * vs, *restrict v5 = v + 5 * vs, *restrict v6 = v + 6 * vs, *restrict v7 = v + 7 * vs;
    T *restrict v8 = v + 8 * vs, *restrict v9 = v + 9 * vs, *restrict v10 = v + 10 * vs, *restrict v11 = v + 11 * vs;
    T *restrict v12 = v + 12 * vs, *restrict v13 = v + 13 * vs, *restrict v14 = v + 14 * vs;
    T *restrict v15 = v + 15 * vs;
#pragma GCC ivdep /* the arrays are apart (GCC's dependence analysis cannot see it through the offsets) */
    for (int64_t t = 0; t < tiles; t++) {
        const int64_t u = t + tw; /* the tile row below */
        /* the patch's rows r and columns k: d[r][k] */
        const T d00 = e00[t], d01 = o00[t], d02 = e01[t], d03 = o01[t];
        const T d10 = e10[t], d11 = o10[t], d12 = e11[t], d13 = o11[t];
        const T d20 = e00[u], d21 = o00[u], d22 = e01[u], d23 = o01[u];
        const T d30 = e10[u], d31 = o10[u], d32 = e11[u], d33 = o11[u];
        /* t = B^T d, column k: (d0 - d2, d1 + d2, d2 - d1, d1 - d3) of the column's four rows */
        const T a0 = d00 - d20, a1 = d01 - d21, a2 = d02 - d22, a3 = d03 - d23;
        const T b0 = d10 + d20, b1 = d11 + d21, b2 = d12 + d22, b3 = d13 + d23;
        const T c0 = d20 - d10, c1 = d21 - d11, c2 = d22 - d12, c3 = d23 - d13;
        const T f0 = d10 - d30, f1 = d11 - d31, f2 = d12 - d32, f3 = d13 - d33;
        /* v = t B, row by row: (t0 - t2, t1 + t2, t2 - t1, t1 - t3) */
        v0[t] = a0 - a2, v1[t] = a1 + a2, v2[t] = a2 - a1, v3[t] = a1 - a3;
        v4[t] = b0 - b2, v5[t] = b1 + b2, v6[t] = b2 - b1, v7[t] = b1 - b3;
        v8[t] = c0 - c2, v9[t] = c1 + c2, v10[t] = c2 - c1, v11[t] = c1 - c3;
        v12[t] = f0 - f2, v13[t] = f1 + f2, v14[t] = f2 - f1, v15[t] = f1 - f3;
    }
}

/* A^T m A plus bias of the tiles (tiles of them): m[e·ms + t] into the 4 views y (ys apart) of
 * the outputs: view p·2 + c holds each tile's output (p, c). */
SIMD_CLONES static void TYPED(output_transform)(const T *restrict m, int64_t ms, int64_t tiles, T bias,
                                                T *restrict y, int64_t ys)
{
    T *restrict y00 = y, *restrict y01 = y + ys, *restrict y10 = y + 2 * ys, *restrict y11 = y + 3 * ys;
#pragma GCC ivdep
    for (int64_t t = 0; t < tiles; t++) {
        /* s = A^T m, column k: (m0 + m1 + m2, m1 - m2 - m3) of the column's four rows */
        const T s00 = m[0 * ms + t] + m[4 * ms + t] + m[8 * ms + t];
        const T s01 = m[1 * ms + t] + m[5 * ms + t] + m[9 * ms + t];
        const T s02 = m[2 * ms + t] + m[6 * ms + t] + m[10 * ms + t];
        const T s03 = m[3 * ms + t] + m[7 * ms + t] + m[11 * ms + t];
        const T s10 = m[4 * ms + t] - m[8 * ms + t] - m[12 * ms + t];
        const T s11 = m[5 * ms + t] - m[9 * ms + t] - m[13 * ms + t];
        const T s12 = m[6 * ms + t] - m[10 * ms + t] - m[14 * ms + t];
        const T s13 = m[7 * ms + t] - m[11 * ms + t] - m[15 * ms + t];
        /* y = s A: (s0 + s1 + s2, s1 - s2 - s3) of each row */
        y00[t] = s00 + s01 + s02 + bias;
        y01[t] = s01 - s02 - s03 + bias;
        y10[t] = s10 + s11 + s12 + bias;
        y11[t] = s11 - s12 - s13 + bias;
    }
}

/* dst[i] = src[2 i + offset] for i < count where that index lies in [0, n), else 0: a row of
 * one view, read at stride 2 straight from the input (a loop the compiler vectorises). */
static inline void TYPED(view_of_row)(T *restrict dst, const T *restrict src, int64_t n, int64_t offset,
                                      int64_t count)
{
    int64_t lo = offset >= 0 ? 0 : (-offset + 1) / 2;                    /* first i with 2 i + offset >= 0 */
    int64_t hi = n - 1 - offset >= 0 ? (n - 1 - offset) / 2 + 1 : 0;     /* first i past n - 1 */
    if (hi > count) hi = count;
    if (lo > hi) lo = hi;
    for (int64_t i = 0; i < lo; i++) dst[i] = 0;
    for (int64_t i = lo; i < hi; i++) dst[i] = src[2 * i + offset];
    for (int64_t i = hi; i < count; i++) dst[i] = 0;
}

/* Unit u's input transform: for each of its images and input channels, the plane's 8 views (in
 * views: 8 arrays of (rows + 1)·tw), then all its tiles transformed into v (16, cin, width). */
SIMD_CLONES static void TYPED(unit_input)(const wino_plan *w, const wino_unit *u, const T *in, T *v, T *views)
{
    const int64_t tw = w->tw, rows = u->ty1 - u->ty0, xs = (rows + 1) * tw;
    for (int64_t q = 0; q < u->images; q++)
        for (int64_t c = 0; c < w->cin; c++) {
            const T *plane = in + ((u->image + q) * w->cin + c) * w->in_h * w->in_w; /* (in_h, in_w) */
            for (int64_t ty = 0; ty <= rows; ty++)
                for (int p = 0; p < 2; p++) {
                    const int64_t iy = 2 * (u->ty0 + ty) + p - w->pad_top; /* the padded row's input row */
                    const bool inside = iy >= 0 && iy < w->in_h;
                    for (int k = 0; k < 4; k++) { /* view (p, c = k & 1, dx = k >> 1): padded column 2 tx + k */
                        T *dst = views + (4 * p + 2 * (k & 1) + (k >> 1)) * xs + ty * tw;
                        if (inside) TYPED(view_of_row)(dst, plane + iy * w->in_w, w->in_w, k - w->pad_left, tw);
                        else
                            for (int64_t tx = 0; tx < tw; tx++) dst[tx] = 0;
                    }
                }
            TYPED(input_transform)(views, xs, tw, u->tiles, v + c * u->width + q * u->tiles, w->cin * u->width);
        }
}

/* Unit u's output transform: m (16, cout, width) into the outputs (n, cout, out_h, out_w), the
 * bias added, the tiles' rows and columns past the output's edge dropped; views holds the 4
 * views of a plane's outputs (tiles each). */
SIMD_CLONES static void TYPED(unit_output)(const wino_plan *w, const wino_unit *u, const T *m, const T *bias, T *out,
                                           T *views)
{
    const int64_t tw = w->tw, ys = u->tiles;
    for (int64_t q = 0; q < u->images; q++)
        for (int64_t o = 0; o < w->cout; o++) {
            T *plane = out + ((u->image + q) * w->cout + o) * w->out_h * w->out_w; /* (out_h, out_w) */
            TYPED(output_transform)(m + o * u->width + q * u->tiles, w->cout * u->width, u->tiles,
                                    bias ? bias[o] : (T)0, views, ys);
            const int64_t whole = w->out_w / 2; /* tiles whose two columns are both inside */
            for (int64_t ty = u->ty0; ty < u->ty1; ty++)
                for (int p = 0; p < 2 && 2 * ty + p < w->out_h; p++) {
                    const T *c0 = views + (2 * p) * ys + (ty - u->ty0) * tw, *c1 = c0 + ys; /* columns 2tx, 2tx + 1 */
                    T *row = plane + (2 * ty + p) * w->out_w;                               /* (out_w,) */
                    for (int64_t tx = 0; tx < whole; tx++) row[2 * tx] = c0[tx], row[2 * tx + 1] = c1[tx];
                    if (whole < tw) row[2 * whole] = c0[whole]; /* an odd width's last column */
                }
        }
}

/* The gradient's side: with dY the 2x2 gradient of a tile's outputs, the gradient of its m is
 * A dY A^T (4x4), of the transformed kernel dU = Σ over tiles (A dY A^T) ⊙ (B^T d B), and of the
 * kernel G^T dU G. */

/* A dY A^T of the tiles (tiles of them) from the 4 views g (gs apart) of their 2x2 gradients
 * (view p·2 + c: each tile's (p, c)), into gt[e·ts + t]. */
SIMD_CLONES static void TYPED(grad_transform)(const T *restrict g, int64_t gs, int64_t tiles, T *restrict gt,
                                              int64_t ts)
{
    const T *restrict g00 = g, *restrict g01 = g + gs, *restrict g10 = g + 2 * gs, *restrict g11 = g + 3 * gs;
#pragma GCC ivdep /* the 16 rows of gt are apart */
    for (int64_t t = 0; t < tiles; t++) {
        const T a = g00[t], b = g01[t], c = g10[t], d = g11[t];
        /* t = A dY: rows (y0, y0 + y1, y0 - y1, -y1), here by columns */
        const T t00 = a, t01 = b, t10 = a + c, t11 = b + d, t20 = a - c, t21 = b - d, t30 = -c, t31 = -d;
        /* t A^T, row by row: (u, u + v, u - v, -v) */
        gt[0 * ts + t] = t00, gt[1 * ts + t] = t00 + t01, gt[2 * ts + t] = t00 - t01, gt[3 * ts + t] = -t01;
        gt[4 * ts + t] = t10, gt[5 * ts + t] = t10 + t11, gt[6 * ts + t] = t10 - t11, gt[7 * ts + t] = -t11;
        gt[8 * ts + t] = t20, gt[9 * ts + t] = t20 + t21, gt[10 * ts + t] = t20 - t21, gt[11 * ts + t] = -t21;
        gt[12 * ts + t] = t30, gt[13 * ts + t] = t30 + t31, gt[14 * ts + t] = t30 - t31, gt[15 * ts + t] = -t31;
    }
}

/* Unit u's gradient transform: gy (n, cout, out_h, out_w) into gt (16, cout, width), through a
 * plane's 4 views (views: tiles each, zeros past the edges). */
SIMD_CLONES static void TYPED(unit_grad)(const wino_plan *w, const wino_unit *u, const T *gy, T *gt, T *views)
{
    const int64_t tw = w->tw, gs = u->tiles;
    for (int64_t q = 0; q < u->images; q++)
        for (int64_t o = 0; o < w->cout; o++) {
            const T *plane = gy + ((u->image + q) * w->cout + o) * w->out_h * w->out_w; /* (out_h, out_w) */
            for (int64_t ty = u->ty0; ty < u->ty1; ty++)
                for (int p = 0; p < 2; p++) {
                    const int64_t y = 2 * ty + p;
                    for (int c = 0; c < 2; c++) { /* view (p, c): column 2 tx + c of row y */
                        T *dst = views + (2 * p + c) * gs + (ty - u->ty0) * tw;
                        if (y < w->out_h) TYPED(view_of_row)(dst, plane + y * w->out_w, w->out_w, c, tw);
                        else
                            for (int64_t tx = 0; tx < tw; tx++) dst[tx] = 0;
                    }
                }
            TYPED(grad_transform)(views, gs, u->tiles, gt + o * u->width + q * u->tiles, w->cout * u->width);
        }
}

/* dg (3x3, row-major) = G^T du G of one kernel's transformed gradient du[e·stride]. */
static void TYPED(kernel_untransform)(const T *du, int64_t stride, T *dg)
{
    T t[3][4]; /* G^T du: rows (d0 + (d1 + d2)/2, (d1 - d2)/2, (d1 + d2)/2 + d3) */
    for (int c = 0; c < 4; c++) {
        const T d0 = du[c * stride], d1 = du[(4 + c) * stride], d2 = du[(8 + c) * stride], d3 = du[(12 + c) * stride];
        t[0][c] = d0 + (d1 + d2) * (T)0.5;
        t[1][c] = (d1 - d2) * (T)0.5;
        t[2][c] = (d1 + d2) * (T)0.5 + d3;
    }
    for (int r = 0; r < 3; r++) { /* t G, the same rule along each row */
        dg[3 * r + 0] = t[r][0] + (t[r][1] + t[r][2]) * (T)0.5;
        dg[3 * r + 1] = (t[r][1] - t[r][2]) * (T)0.5;
        dg[3 * r + 2] = (t[r][1] + t[r][2]) * (T)0.5 + t[r][3];
    }
}

#undef T
#undef SFX
