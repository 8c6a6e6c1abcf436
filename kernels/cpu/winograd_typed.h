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

/* One tile row's B^T d B: the tw patches whose top-left corners are (0, 2 tx) of 4 padded rows,
 * each stored as its even columns then its odd ones (tw + 1 of each, row r at p + r·pw), into
 * v[e·vs + tx]. Patch tx's columns 0 to 3 are even[tx], odd[tx], even[tx + 1] and odd[tx + 1], so
 * every access is unit-stride and the loop vectorises across tiles. */
SIMD_CLONES static void TYPED(input_row_transform)(const T *restrict p, int64_t pw, int64_t tw, T *restrict v,
                                                   int64_t vs)
{
    const int64_t h = tw + 1; /* the odd columns' offset in a row */
    const T *restrict p0 = p, *restrict p1 = p + pw, *restrict p2 = p + 2 * pw, *restrict p3 = p + 3 * pw;
    T *restrict v0 = v, *restrict v1 = v + vs, *restrict v2 = v + 2 * vs, *restrict v3 = v + 3 * vs;
    T *restrict v4 = v + 4 * vs, *restrict v5 = v + 5 * vs, *restrict v6 = v + 6 * vs, *restrict v7 = v + 7 * vs;
    T *restrict v8 = v + 8 * vs, *restrict v9 = v + 9 * vs, *restrict v10 = v + 10 * vs, *restrict v11 = v + 11 * vs;
    T *restrict v12 = v + 12 * vs, *restrict v13 = v + 13 * vs, *restrict v14 = v + 14 * vs;
    T *restrict v15 = v + 15 * vs;
#pragma GCC ivdep /* the rows are apart (GCC's dependence analysis cannot see it through the offsets) */
    for (int64_t tx = 0; tx < tw; tx++) {
        /* t = B^T d, column k: (d0 - d2, d1 + d2, d2 - d1, d1 - d3) of the column's four rows */
        const int64_t k0 = tx, k1 = h + tx, k2 = tx + 1, k3 = h + tx + 1;
        const T a0 = p0[k0] - p2[k0], a1 = p0[k1] - p2[k1], a2 = p0[k2] - p2[k2], a3 = p0[k3] - p2[k3];
        const T b0 = p1[k0] + p2[k0], b1 = p1[k1] + p2[k1], b2 = p1[k2] + p2[k2], b3 = p1[k3] + p2[k3];
        const T e0 = p2[k0] - p1[k0], e1 = p2[k1] - p1[k1], e2 = p2[k2] - p1[k2], e3 = p2[k3] - p1[k3];
        const T f0 = p1[k0] - p3[k0], f1 = p1[k1] - p3[k1], f2 = p1[k2] - p3[k2], f3 = p1[k3] - p3[k3];
        /* v = t B, row by row: (t0 - t2, t1 + t2, t2 - t1, t1 - t3) */
        v0[tx] = a0 - a2, v1[tx] = a1 + a2, v2[tx] = a2 - a1, v3[tx] = a1 - a3;
        v4[tx] = b0 - b2, v5[tx] = b1 + b2, v6[tx] = b2 - b1, v7[tx] = b1 - b3;
        v8[tx] = e0 - e2, v9[tx] = e1 + e2, v10[tx] = e2 - e1, v11[tx] = e1 - e3;
        v12[tx] = f0 - f2, v13[tx] = f1 + f2, v14[tx] = f2 - f1, v15[tx] = f1 - f3;
    }
}

/* One tile row's A^T m A plus bias: m[e·ms + tx] for the tw tiles, into the two output rows y0
 * and y1 (each 2 tw long). */
SIMD_CLONES static void TYPED(output_row_transform)(const T *restrict m, int64_t ms, int64_t tw, T bias,
                                                    T *restrict y0, T *restrict y1)
{
    for (int64_t tx = 0; tx < tw; tx++) {
        /* s = A^T m, column k: (m0 + m1 + m2, m1 - m2 - m3) of the column's four rows */
        const T s00 = m[0 * ms + tx] + m[4 * ms + tx] + m[8 * ms + tx];
        const T s01 = m[1 * ms + tx] + m[5 * ms + tx] + m[9 * ms + tx];
        const T s02 = m[2 * ms + tx] + m[6 * ms + tx] + m[10 * ms + tx];
        const T s03 = m[3 * ms + tx] + m[7 * ms + tx] + m[11 * ms + tx];
        const T s10 = m[4 * ms + tx] - m[8 * ms + tx] - m[12 * ms + tx];
        const T s11 = m[5 * ms + tx] - m[9 * ms + tx] - m[13 * ms + tx];
        const T s12 = m[6 * ms + tx] - m[10 * ms + tx] - m[14 * ms + tx];
        const T s13 = m[7 * ms + tx] - m[11 * ms + tx] - m[15 * ms + tx];
        /* y = s A: (s0 + s1 + s2, s1 - s2 - s3) of each row */
        y0[2 * tx] = s00 + s01 + s02 + bias;
        y0[2 * tx + 1] = s01 - s02 - s03 + bias;
        y1[2 * tx] = s10 + s11 + s12 + bias;
        y1[2 * tx + 1] = s11 - s12 - s13 + bias;
    }
}

/* Unit u's input transform: for each of its images and input channels, the rows of the plane
 * that its tile rows read, zero-padded and split into even and odd columns, in pad
 * (2 (ty1 - ty0) + 2 rows of 2 tw + 2, then a row of scratch), then each tile row transformed
 * into v (16, cin, width). */
static void TYPED(unit_input)(const wino_plan *w, const wino_unit *u, const T *in, T *v, T *pad)
{
    const int64_t pw = 2 * w->tw + 2, ph = 2 * (u->ty1 - u->ty0) + 2; /* the padded plane (ph, pw) */
    const int64_t y0 = 2 * u->ty0 - w->pad_top;                       /* input row of padded row 0 */
    const int64_t x0 = w->pad_left;                                   /* padded column of input column 0 */
    const int64_t xn = w->in_w < pw - x0 ? w->in_w : pw - x0;         /* input columns that land in it */
    T *line = pad + ph * pw;                                          /* (pw,): a padded row in order */
    for (int64_t q = 0; q < u->images; q++)
        for (int64_t c = 0; c < w->cin; c++) {
            const T *plane = in + ((u->image + q) * w->cin + c) * w->in_h * w->in_w; /* (in_h, in_w) */
            for (int64_t r = 0; r < ph; r++) {
                T *row = pad + r * pw; /* (2, tw + 1): even columns, odd columns */
                const int64_t iy = y0 + r;
                if (iy < 0 || iy >= w->in_h || xn <= 0) {
                    for (int64_t x = 0; x < pw; x++) row[x] = 0;
                    continue;
                }
                for (int64_t x = 0; x < x0 && x < pw; x++) line[x] = 0;
                memcpy(line + x0, plane + iy * w->in_w, (size_t)xn * sizeof(T));
                for (int64_t x = x0 + xn; x < pw; x++) line[x] = 0;
                for (int64_t j = 0; j <= w->tw; j++) row[j] = line[2 * j], row[w->tw + 1 + j] = line[2 * j + 1];
            }
            for (int64_t ty = u->ty0; ty < u->ty1; ty++) {
                const int64_t col = q * u->tiles + (ty - u->ty0) * w->tw; /* the row's first tile in v */
                TYPED(input_row_transform)(pad + 2 * (ty - u->ty0) * pw, pw, w->tw, v + c * u->width + col,
                                           w->cin * u->width);
            }
        }
}

/* Unit u's output transform: m (16, cout, width) into the outputs (n, cout, out_h, out_w), the
 * bias added, the tiles' rows and columns past the output's edge dropped. */
static void TYPED(unit_output)(const wino_plan *w, const wino_unit *u, const T *m, const T *bias, T *out, T *rows)
{
    const int64_t rw = 2 * w->tw; /* rows: (2, rw), the tile row's two output rows in full */
    for (int64_t q = 0; q < u->images; q++)
        for (int64_t o = 0; o < w->cout; o++) {
            T *plane = out + ((u->image + q) * w->cout + o) * w->out_h * w->out_w; /* (out_h, out_w) */
            const T b = bias ? bias[o] : (T)0;
            for (int64_t ty = u->ty0; ty < u->ty1; ty++) {
                const int64_t col = q * u->tiles + (ty - u->ty0) * w->tw;
                TYPED(output_row_transform)(m + o * u->width + col, w->cout * u->width, w->tw, b, rows, rows + rw);
                for (int r = 0; r < 2 && 2 * ty + r < w->out_h; r++)
                    memcpy(plane + (2 * ty + r) * w->out_w, rows + r * rw, (size_t)w->out_w * sizeof(T));
            }
        }
}

/* The gradient's side: with dY the 2x2 gradient of a tile's outputs, the gradient of its m is
 * A dY A^T (4x4), of the transformed kernel dU = Σ over tiles (A dY A^T) ⊙ (B^T d B), and of the
 * kernel G^T dU G. */

/* One tile row's A dY A^T: the tw tiles' 2x2 gradients from the two rows g0, g1 (each 2 tw long,
 * zeros past the output's edge), into gt[e·gs + tx]. */
SIMD_CLONES static void TYPED(grad_row_transform)(const T *restrict g0, const T *restrict g1, int64_t tw,
                                                  T *restrict gt, int64_t gs)
{
#pragma GCC ivdep /* the 16 rows of gt are apart */
    for (int64_t tx = 0; tx < tw; tx++) {
        const T a = g0[2 * tx], b = g0[2 * tx + 1], c = g1[2 * tx], d = g1[2 * tx + 1];
        /* t = A dY: rows (y0, y0 + y1, y0 - y1, -y1), here by columns */
        const T t00 = a, t01 = b, t10 = a + c, t11 = b + d, t20 = a - c, t21 = b - d, t30 = -c, t31 = -d;
        /* t A^T, row by row: (u, u + v, u - v, -v) */
        gt[0 * gs + tx] = t00, gt[1 * gs + tx] = t00 + t01, gt[2 * gs + tx] = t00 - t01, gt[3 * gs + tx] = -t01;
        gt[4 * gs + tx] = t10, gt[5 * gs + tx] = t10 + t11, gt[6 * gs + tx] = t10 - t11, gt[7 * gs + tx] = -t11;
        gt[8 * gs + tx] = t20, gt[9 * gs + tx] = t20 + t21, gt[10 * gs + tx] = t20 - t21, gt[11 * gs + tx] = -t21;
        gt[12 * gs + tx] = t30, gt[13 * gs + tx] = t30 + t31, gt[14 * gs + tx] = t30 - t31, gt[15 * gs + tx] = -t31;
    }
}

/* Unit u's gradient transform: gy (n, cout, out_h, out_w) into gt (16, cout, width), each tile
 * row's two gradient rows first copied into rows (2, 2 tw) with zeros past the edges. */
static void TYPED(unit_grad)(const wino_plan *w, const wino_unit *u, const T *gy, T *gt, T *rows)
{
    const int64_t rw = 2 * w->tw;
    for (int64_t q = 0; q < u->images; q++)
        for (int64_t o = 0; o < w->cout; o++) {
            const T *plane = gy + ((u->image + q) * w->cout + o) * w->out_h * w->out_w; /* (out_h, out_w) */
            for (int64_t ty = u->ty0; ty < u->ty1; ty++) {
                for (int r = 0; r < 2; r++) {
                    T *row = rows + r * rw;
                    const int64_t y = 2 * ty + r;
                    const int64_t have = y < w->out_h ? w->out_w : 0;
                    if (have) memcpy(row, plane + y * w->out_w, (size_t)have * sizeof(T));
                    for (int64_t x = have; x < rw; x++) row[x] = 0;
                }
                const int64_t col = q * u->tiles + (ty - u->ty0) * w->tw;
                TYPED(grad_row_transform)(rows, rows + rw, w->tw, gt + o * u->width + col, w->cout * u->width);
            }
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
