/* linalg.c — matrix products: nb_mm (2-D) and nb_matmul (PyTorch's matmul: dot, matrix-vector,
 * batched with broadcast batch dims).
 *
 * Every product ends in product(), which multiplies 2-D (n, k) x (k, m) or 3-D batched
 * (B, n, k) x (B, k, m) operands with their own strides in one call to the device's gemm (BLIS
 * on the CPU, cuBLAS on CUDA) and records exactly those operands for autograd. nb_matmul reduces
 * its cases to that with views (unsqueeze, expand, reshape), each recorded by lib/view.c, so
 * gradients flow back through them to the caller's tensors. */
#include "autograd/record.h"
#include "autocast.h"
#include "device.h"
#include "dtype.h"
#include "half.h"
#include "error.h"
#include "precision.h"
#include "ewise.h"

#include <string.h>

/* ---------------------------------------------------------------- checks */

/* Same device, float32 or float64, one dtype for both. */
static bool check_dtypes_devices(const char *name, const nb_tensor *a, const nb_tensor *b)
{
    const nb_tensor *pair[2] = {a, b};
    if (!nb__check_devices(name, 2, pair)) return false;
    if (!nb__is_float_kind(a->dtype) || !nb__is_float_kind(b->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected float32 or float64 tensors (or float16, bfloat16), got %s and %s", name,
                        nb_dtype_name(a->dtype), nb_dtype_name(b->dtype)),
               false;
    if (a->dtype != b->dtype)
        return nb__fail(NB_ERR_DTYPE,
                        "%s: expected both tensors to have the same dtype, got %s and %s "
                        "(convert one with nb_to_dtype)",
                        name, nb_dtype_name(a->dtype), nb_dtype_name(b->dtype)),
               false;
    return true;
}

static bool inner_sizes_match(const char *name, const nb_tensor *a, const nb_tensor *b, int64_t ka,
                              int64_t kb)
{
    if (ka == kb) return true;
    char as[160], bs[160];
    nb__fail(NB_ERR_SHAPE, "%s: cannot multiply %s by %s: inner sizes differ (%lld vs %lld)", name,
             nb__shape_string(a->ndim, a->shape, as, sizeof as),
             nb__shape_string(b->ndim, b->shape, bs, sizeof bs), (long long)ka, (long long)kb);
    return false;
}

/* ---------------------------------------------------------------- the product */

/* The GEMM view of a 2-D or 3-D operand: its last two dims as a matrix, its first as the batch. */
static nbk_matrix as_matrix(const nb_tensor *t)
{
    const int r = t->ndim - 2, c = t->ndim - 1;
    return (nbk_matrix){.data = nb__ptr(t), .rs = t->strides[r], .cs = t->strides[c],
                        .bs = t->ndim == 3 ? t->strides[0] : 0};
}

/* out = a @ b for checked 2-D (n, k) x (k, m) or 3-D (B, n, k) x (B, k, m) operands of one
 * floating dtype on one device, in one call to the device (which copies an operand its library
 * cannot take as it is); records the product on the tape. */
static nb_tensor *product(const char *name, const nb_tensor *a, const nb_tensor *b)
{
    const bool batched = a->ndim == 3;
    const int nd = a->ndim;
    const int64_t n = a->shape[nd - 2], k = a->shape[nd - 1], m = b->shape[nd - 1];
    int64_t shape[3] = {batched ? a->shape[0] : n, batched ? n : m, m}; /* (B, n, m) or (n, m) */
    const nb_device dev = a->storage->device;
    nb_tensor *out = nb__alloc(name, nd, shape, a->dtype, dev);
    if (!out) return NULL;
    const nbk_gemm_args g = {.dtype = a->dtype, .batch = batched ? a->shape[0] : 1, .n = n, .k = k, .m = m,
                             .a = as_matrix(a), .b = as_matrix(b), .c = as_matrix(out),
                             .tf32 = a->dtype == NB_FLOAT32 && nb__float32_matmul_tf32()};
    const nbk_device *table = nb__device_table(dev.type); /* the allocation found it */
    nb_status (*gemm)(nbk_call, const nbk_gemm_args *) = nb__is_half(a->dtype) ? table->gemm_half : table->gemm;
    if (nb__kernel_status(name, gemm(nb__call(name, dev), &g)) != NB_OK ||
        !nb__autograd_record_mm(name, out, a, b)) {
        nb_release(out);
        return NULL;
    }
    return out;
}

/* Whether a and b (float16 or bfloat16) are multiplied as they are, by the device's half GEMM
 * (CUDA: cublasGemmEx on tensor cores, float32 accumulation, rounded once to the half dtype). */
static bool has_half_gemm(const nb_tensor *a)
{
    const nbk_device *table = nb__device_table(a->storage->device.type);
    return table && table->gemm_half;
}

/* float16 and bfloat16 operands on a device without a half GEMM (the CPU, whose BLIS has none
 * that nabla uses): converted to float32, multiplied by BLIS's sgemm and the product rounded once
 * (lib/half.c). The conversions cost two passes over the operands and one over the result. */
static nb_tensor *half_product(nb_tensor *(*op)(const nb_tensor *, const nb_tensor *), const nb_tensor *a,
                               const nb_tensor *b)
{
    nb_tensor *wa = nb__widen(a), *wb = wa ? nb__widen(b) : NULL;
    nb_tensor *r = wb ? op(wa, wb) : NULL;
    nb_release(wa);
    nb_release(wb);
    return nb__narrow(r, a->dtype);
}

/* ---------------------------------------------------------------- nb_mm */

nb_tensor *nb_mm(const nb_tensor *a, const nb_tensor *b)
{
    if (nb__is_null("nb_mm", "a", a) || nb__is_null("nb_mm", "b", b)) return NULL;
    nb__autocast ac;
    if (nb__autocast_lower(&ac, NB__AUTOCAST_ALL, 2, (const nb_tensor *[]){a, b}))
        return nb__autocast_done(&ac, nb_mm(ac.t[0], ac.t[1]));
    if (a->ndim != 2 || b->ndim != 2) {
        char as[160], bs[160];
        return nb__fail(NB_ERR_SHAPE,
                        "nb_mm: expected two 2-D tensors, got %s (%d-D) and %s (%d-D); "
                        "nb_matmul takes other dims",
                        nb__shape_string(a->ndim, a->shape, as, sizeof as), a->ndim,
                        nb__shape_string(b->ndim, b->shape, bs, sizeof bs), b->ndim);
    }
    if (!check_dtypes_devices("nb_mm", a, b)) return NULL;
    if (!inner_sizes_match("nb_mm", a, b, a->shape[1], b->shape[0])) return NULL;
    if (nb__is_half(a->dtype) && !has_half_gemm(a)) return half_product(nb_mm, a, b);
    return product("nb_mm", a, b);
}

/* ---------------------------------------------------------------- nb_matmul */

/* Releases the temporaries and returns result (NULL on error). */
static nb_tensor *finish(nb_tensor *result, int n, nb_tensor **temps)
{
    for (int i = 0; i < n; i++) nb_release(temps[i]);
    return result;
}

/* Both operands 1-D or 2-D: dot, matrix-vector, vector-matrix or mm; out_shape is the result's. */
static nb_tensor *matmul_2d(const nb_tensor *a, const nb_tensor *b, int out_nd, const int64_t *out_shape)
{
    nb_tensor *t[3] = {NULL, NULL, NULL};
    const nb_tensor *a2 = a, *b2 = b;
    if (a->ndim == 1 && !(a2 = t[0] = nb_unsqueeze(a, 0))) return finish(NULL, 3, t); /* (1, k) */
    if (b->ndim == 1 && !(b2 = t[1] = nb_unsqueeze(b, 1))) return finish(NULL, 3, t); /* (k, 1) */
    if (!(t[2] = product("nb_matmul", a2, b2))) return finish(NULL, 3, t);
    if (a->ndim == 2 && b->ndim == 2) {
        nb_tensor *out = t[2];
        t[2] = NULL;
        return finish(out, 3, t);
    }
    return finish(nb_reshape(t[2], out_nd, out_shape), 3, t);
}

/* a has 3 or more dims, b 1 or 2: a's batch dims fold into its rows, one (rows, k) x (k, m). */
static nb_tensor *matmul_folded(const nb_tensor *a, const nb_tensor *b, int out_nd, const int64_t *out_shape)
{
    nb_tensor *t[3] = {NULL, NULL, NULL};
    int64_t k = a->shape[a->ndim - 1];
    int64_t rows = nb__numel_of(a->ndim - 1, a->shape);
    const nb_tensor *b2 = b;
    int64_t a_shape[2] = {rows, k};
    if (!(t[0] = nb_reshape(a, 2, a_shape))) return finish(NULL, 3, t);                  /* (rows, k) */
    if (b->ndim == 1 && !(b2 = t[1] = nb_unsqueeze(b, 1))) return finish(NULL, 3, t);    /* (k, 1) */
    if (!(t[2] = product("nb_matmul", t[0], b2))) return finish(NULL, 3, t);             /* (rows, m) */
    return finish(nb_reshape(t[2], out_nd, out_shape), 3, t);
}

/* a and b broadcast to (batch..., n, k) and (batch..., k, m), viewed as (B, n, k) and (B, k, m)
 * (reshape copies only where the broadcast batch dims cannot merge), one batched product. */
static nb_tensor *matmul_batched(const nb_tensor *a, const nb_tensor *b, int batch_nd,
                                 const int64_t *batch, int out_nd, const int64_t *out_shape)
{
    nb_tensor *t[6] = {NULL};
    const nb_tensor *a2 = a;
    if (a->ndim == 1 && !(a2 = t[0] = nb_unsqueeze(a, 0))) return finish(NULL, 6, t); /* (1, k) */
    const int64_t n = a2->shape[a2->ndim - 2], k = a2->shape[a2->ndim - 1], m = b->shape[b->ndim - 1];
    int64_t nbatch; /* the broadcast batch dims of two tensors may multiply past what one can hold */
    if (!nb__checked_numel("nb_matmul", batch_nd, batch, &nbatch)) return finish(NULL, 6, t);
    int64_t full[NB_MAX_DIMS];
    memcpy(full, batch, (size_t)batch_nd * sizeof(int64_t));

    full[batch_nd] = n, full[batch_nd + 1] = k;
    int64_t a3_shape[3] = {nbatch, n, k};
    if (!(t[1] = nb_expand(a2, batch_nd + 2, full))) return finish(NULL, 6, t);
    if (!(t[2] = nb_reshape(t[1], 3, a3_shape))) return finish(NULL, 6, t);

    full[batch_nd] = k, full[batch_nd + 1] = m;
    int64_t b3_shape[3] = {nbatch, k, m};
    if (!(t[3] = nb_expand(b, batch_nd + 2, full))) return finish(NULL, 6, t);
    if (!(t[4] = nb_reshape(t[3], 3, b3_shape))) return finish(NULL, 6, t);

    if (!(t[5] = product("nb_matmul", t[2], t[4]))) return finish(NULL, 6, t); /* (B, n, m) */
    return finish(nb_reshape(t[5], out_nd, out_shape), 6, t);
}

/* The broadcast of a's and b's batch dims (all but their matrix dims; a 1-D operand has none). */
static bool batch_shape(const nb_tensor *a, const nb_tensor *b, int *nd, int64_t *shape)
{
    int an = a->ndim > 2 ? a->ndim - 2 : 0, bn = b->ndim > 2 ? b->ndim - 2 : 0;
    *nd = an > bn ? an : bn;
    for (int i = 0; i < *nd; i++) {
        int ia = i - (*nd - an), ib = i - (*nd - bn);
        int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            char as[160], bs[160], ab[160], bb[160];
            nb__fail(NB_ERR_SHAPE,
                     "nb_matmul: cannot multiply %s by %s: batch dims %s and %s do not broadcast "
                     "(%lld vs %lld)",
                     nb__shape_string(a->ndim, a->shape, as, sizeof as),
                     nb__shape_string(b->ndim, b->shape, bs, sizeof bs),
                     nb__shape_string(an, a->shape, ab, sizeof ab),
                     nb__shape_string(bn, b->shape, bb, sizeof bb), (long long)sa, (long long)sb);
            return false;
        }
        shape[i] = sa == 1 ? sb : sa;
    }
    return true;
}

nb_tensor *nb_matmul(const nb_tensor *a, const nb_tensor *b)
{
    if (nb__is_null("nb_matmul", "a", a) || nb__is_null("nb_matmul", "b", b)) return NULL;
    nb__autocast ac;
    if (nb__autocast_lower(&ac, NB__AUTOCAST_ALL, 2, (const nb_tensor *[]){a, b}))
        return nb__autocast_done(&ac, nb_matmul(ac.t[0], ac.t[1]));
    if (a->ndim == 0 || b->ndim == 0) {
        char as[160], bs[160];
        return nb__fail(NB_ERR_SHAPE, "nb_matmul: both tensors need at least 1 dim, got %s (%d-D) and %s (%d-D)",
                        nb__shape_string(a->ndim, a->shape, as, sizeof as), a->ndim,
                        nb__shape_string(b->ndim, b->shape, bs, sizeof bs), b->ndim);
    }
    if (!check_dtypes_devices("nb_matmul", a, b)) return NULL;
    if (nb__is_half(a->dtype) && !has_half_gemm(a)) return half_product(nb_matmul, a, b);
    int64_t ka = a->shape[a->ndim - 1], kb = b->shape[b->ndim == 1 ? 0 : b->ndim - 2];
    if (!inner_sizes_match("nb_matmul", a, b, ka, kb)) return NULL;

    int batch_nd;
    int64_t batch[NB_MAX_DIMS];
    if (!batch_shape(a, b, &batch_nd, batch)) return NULL;
    /* the result: batch dims, then n unless a is 1-D, then m unless b is 1-D */
    int out_nd = batch_nd;
    int64_t out_shape[NB_MAX_DIMS];
    memcpy(out_shape, batch, (size_t)batch_nd * sizeof(int64_t));
    if (a->ndim >= 2) out_shape[out_nd++] = a->shape[a->ndim - 2];
    if (b->ndim >= 2) out_shape[out_nd++] = b->shape[b->ndim - 1];

    if (a->ndim <= 2 && b->ndim <= 2) return matmul_2d(a, b, out_nd, out_shape);
    if (b->ndim <= 2) return matmul_folded(a, b, out_nd, out_shape);
    return matmul_batched(a, b, batch_nd, batch, out_nd, out_shape);
}
