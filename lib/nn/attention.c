/* attention.c — nb_scaled_dot_product_attention: argument checks (shapes, dtypes, devices, the
 * mask, causality and dropout), the broadcast of the batch dims of q, k, v and the mask folded
 * into one, one fused call of the device forward (kernels/attention.h) that keeps only the
 * output and each row's log-sum-exp, and the node ScaledDotProductAttentionBackward, whose
 * backward is one fused call that recomputes the attention weights. The mask gets no gradient. */
#include "../autocast.h"
#include "../half.h"
#include "../autograd/autograd.h"
#include "../autograd/backward.h"
#include "../device.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../random.h"
#include "../tensor.h"

#include <math.h>
#include <string.h>

static const char *const OP = "nb_scaled_dot_product_attention";

/* The problem once checked: the broadcast batch dims and their product, and the sizes. */
typedef struct sdpa_shape {
    int batch_nd;
    int64_t batch[NB_MAX_DIMS];
    int64_t nbatch, l, s, e, ev;
} sdpa_shape;

/* Broadcasts the batch dims (all but the last two) of the n tensors, right-aligned. */
static bool broadcast_batch(int n, const nb_tensor *const *ts, sdpa_shape *sh)
{
    sh->batch_nd = 0;
    for (int t = 0; t < n; t++)
        if (ts[t]->ndim - 2 > sh->batch_nd) sh->batch_nd = ts[t]->ndim - 2;
    for (int d = 0; d < sh->batch_nd; d++) sh->batch[d] = 1;
    for (int t = 0; t < n; t++) {
        const int nd = ts[t]->ndim - 2, lead = sh->batch_nd - nd;
        for (int d = 0; d < nd; d++) {
            const int64_t size = ts[t]->shape[d], have = sh->batch[lead + d];
            if (size == have || size == 1) continue;
            if (have != 1) {
                char qs[160], ks[160], vs[160];
                return nb__fail(NB_ERR_SHAPE,
                                "%s: the batch dims of query %s, key %s and value %s do not broadcast", OP,
                                nb__shape_string(ts[0]->ndim, ts[0]->shape, qs, sizeof qs),
                                nb__shape_string(ts[1]->ndim, ts[1]->shape, ks, sizeof ks),
                                nb__shape_string(ts[2]->ndim, ts[2]->shape, vs, sizeof vs)),
                       false;
            }
            sh->batch[lead + d] = size;
        }
    }
    return nb__checked_numel(OP, sh->batch_nd, sh->batch, &sh->nbatch);
}

static bool check_mask(const nb_tensor *q, const nb_tensor *mask, const nb_sdpa_options *o, const sdpa_shape *sh)
{
    if (o->is_causal)
        return nb__fail(NB_ERR_ARGUMENT, "%s: an explicit attn_mask cannot be given with is_causal = true", OP),
               false;
    const nb_tensor *pair[2] = {q, mask};
    if (!nb__check_devices(OP, 2, pair)) return false;
    if (mask->dtype != NB_BOOL && mask->dtype != q->dtype)
        return nb__fail(NB_ERR_DTYPE, "%s: expected a bool attn_mask or one of the query's dtype %s, got %s", OP,
                        nb_dtype_name(q->dtype), nb_dtype_name(mask->dtype)),
               false;
    int64_t target[NB_MAX_DIMS];
    const int tnd = sh->batch_nd + 2;
    memcpy(target, sh->batch, (size_t)sh->batch_nd * sizeof(int64_t));
    target[sh->batch_nd] = sh->l, target[sh->batch_nd + 1] = sh->s;
    bool fits = mask->ndim <= tnd;
    for (int d = 0; d < mask->ndim && fits; d++) {
        const int64_t size = mask->shape[d], want = target[tnd - mask->ndim + d];
        fits = size == want || size == 1;
    }
    if (!fits) {
        char ms[160], ts[160];
        return nb__fail(NB_ERR_SHAPE, "%s: expected an attn_mask broadcastable to (N..., L, S) = %s, got %s", OP,
                        nb__shape_string(tnd, target, ts, sizeof ts),
                        nb__shape_string(mask->ndim, mask->shape, ms, sizeof ms)),
               false;
    }
    return true;
}

static bool check_args(const nb_tensor *q, const nb_tensor *k, const nb_tensor *v, const nb_sdpa_options *o,
                       sdpa_shape *sh)
{
    if (nb__is_null(OP, "query", q) || nb__is_null(OP, "key", k) || nb__is_null(OP, "value", v)) return false;
    const nb_tensor *qkv[3] = {q, k, v};
    const char *names[3] = {"query", "key", "value"};
    if (!nb__check_devices(OP, 3, qkv)) return false;
    if (!nb__is_float_kind(q->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a float32 or float64 query (or float16 or bfloat16), got %s", OP,
                        nb_dtype_name(q->dtype)),
               false;
    for (int t = 1; t < 3; t++)
        if (qkv[t]->dtype != q->dtype)
            return nb__fail(NB_ERR_DTYPE, "%s: expected a %s of the query's dtype %s, got %s", OP, names[t],
                            nb_dtype_name(q->dtype), nb_dtype_name(qkv[t]->dtype)),
                   false;
    for (int t = 0; t < 3; t++)
        if (qkv[t]->ndim < 2) {
            char s[160];
            return nb__fail(NB_ERR_SHAPE, "%s: expected a %s of at least 2 dims (..., %s, %s), got %s", OP,
                            names[t], t == 0 ? "L" : "S", t == 2 ? "Ev" : "E",
                            nb__shape_string(qkv[t]->ndim, qkv[t]->shape, s, sizeof s)),
                   false;
        }
    char qs[160], ks[160], vs[160];
    sh->l = q->shape[q->ndim - 2], sh->e = q->shape[q->ndim - 1];
    sh->s = k->shape[k->ndim - 2], sh->ev = v->shape[v->ndim - 1];
    if (k->shape[k->ndim - 1] != sh->e)
        return nb__fail(NB_ERR_SHAPE, "%s: query %s and key %s differ in their last dim E (%lld vs %lld)", OP,
                        nb__shape_string(q->ndim, q->shape, qs, sizeof qs),
                        nb__shape_string(k->ndim, k->shape, ks, sizeof ks), (long long)sh->e,
                        (long long)k->shape[k->ndim - 1]),
               false;
    if (v->shape[v->ndim - 2] != sh->s)
        return nb__fail(NB_ERR_SHAPE, "%s: key %s and value %s differ in their number of keys S (%lld vs %lld)", OP,
                        nb__shape_string(k->ndim, k->shape, ks, sizeof ks),
                        nb__shape_string(v->ndim, v->shape, vs, sizeof vs), (long long)sh->s,
                        (long long)v->shape[v->ndim - 2]),
               false;
    if (!(o->dropout_p >= 0 && o->dropout_p <= 1))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a dropout_p between 0 and 1, got %g", OP, o->dropout_p), false;
    if (!isfinite(o->scale))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected a finite scale (0: 1/sqrt(E)), got %g", OP, o->scale), false;
    if (!broadcast_batch(3, qkv, sh)) return false;
    if (o->attn_mask && !check_mask(q, o->attn_mask, o, sh)) return false;
    /* every (batch, l, s) element has an index (dropout's): the product must fit */
    const int64_t weights[3] = {sh->nbatch, sh->l, sh->s};
    int64_t n;
    return nb__checked_numel(OP, 3, weights, &n);
}

/* t's last two dims (rows, cols) behind the broadcast batch dims, as a dense (nbatch, rows, cols)
 * tensor (t itself, viewed, when it already is one); NULL and an error on failure. Runs in
 * no-grad mode with tracking paused: the caller owns the result. */
static nb_tensor *folded(const nb_tensor *t, const sdpa_shape *sh, int64_t rows, int64_t cols)
{
    int64_t full[NB_MAX_DIMS];
    memcpy(full, sh->batch, (size_t)sh->batch_nd * sizeof(int64_t));
    full[sh->batch_nd] = rows, full[sh->batch_nd + 1] = cols;
    nb_tensor *x = nb_expand(t, sh->batch_nd + 2, full);
    nb_tensor *c = x ? nb_contiguous(x) : NULL;
    const int64_t shape3[3] = {sh->nbatch, rows, cols};
    nb_tensor *r = c ? nb_reshape(c, 3, shape3) : NULL;
    nb_release(x);
    nb_release(c);
    return r;
}

/* The mask as dense rows (l, s): one for all batches (*bs = 0) when its batch dims are all 1,
 * else (nbatch, l, s) (*bs = l·s). */
static nb_tensor *folded_mask(const nb_tensor *m, const sdpa_shape *sh, int64_t *bs)
{
    bool shared = true;
    for (int d = 0; d + 2 < m->ndim; d++) shared = shared && m->shape[d] == 1;
    if (!shared) {
        *bs = sh->l * sh->s;
        return folded(m, sh, sh->l, sh->s);
    }
    *bs = 0;
    const int64_t shape2[2] = {sh->l, sh->s};
    nb_tensor *x = nb_expand(m, m->ndim, m->shape); /* an alias */
    nb_tensor *r2 = NULL;
    if (x) {
        /* drop the leading ones, then broadcast the rows and columns */
        int64_t last[2] = {m->ndim >= 2 ? m->shape[m->ndim - 2] : 1, m->ndim >= 1 ? m->shape[m->ndim - 1] : 1};
        nb_tensor *v = nb_reshape(x, 2, last);
        nb_tensor *e = v ? nb_expand(v, 2, shape2) : NULL;
        r2 = e ? nb_contiguous(e) : NULL;
        nb_release(v);
        nb_release(e);
    }
    nb_release(x);
    return r2;
}

/* The kernel arguments of a node's (or the forward's) problem. */
static nbk_attention_args args_of(nb_dtype dtype, const sdpa_shape *sh, double scale, bool causal,
                                  const nb_tensor *mask, int64_t mask_bs, double p, uint64_t seed, uint64_t offset)
{
    return (nbk_attention_args){.dtype = dtype,
                                .batch = sh->nbatch,
                                .l = sh->l,
                                .s = sh->s,
                                .e = sh->e,
                                .ev = sh->ev,
                                .scale = scale,
                                .causal = causal,
                                .mask = mask ? nb__ptr(mask) : NULL,
                                .mask_dtype = mask ? mask->dtype : NB_BOOL,
                                .mask_bs = mask_bs,
                                .dropout_p = p,
                                .seed = seed,
                                .offset = offset};
}

/* The gradients of q, k and v (inputs 0, 1, 2), each over the broadcast batch dims (the engine
 * sums them back to each input's shape), from one fused call of the device. */
nb_status nb__backward_attention(nb_node *node, nb_tensor *g, nb_tensor **gi)
{
    const bool has_mask = node->args.attention.has_mask;
    nb_tensor *saved[6] = {NULL};
    for (int i = 0; i < (has_mask ? 6 : 5); i++)
        if (!(saved[i] = nb__node_saved(node, i))) return nb_last_status();
    nb_tensor *q = saved[0], *out = saved[3], *lse = saved[4];
    const nb_device dev = q->storage->device;
    sdpa_shape sh = {.batch_nd = out->ndim - 2};
    memcpy(sh.batch, out->shape, (size_t)sh.batch_nd * sizeof(int64_t));
    sh.nbatch = node->args.attention.batch, sh.l = node->args.attention.l, sh.s = node->args.attention.s;
    sh.e = node->args.attention.e, sh.ev = node->args.attention.ev;
    /* the kernel reads g in the output's dense layout and dtype: convert only when it differs */
    const bool direct = g->dtype == q->dtype && nb__is_contiguous(g);
    nb_tensor *gc = direct ? NULL : nb__untrack(nb__convert(node->op, g, q->dtype));
    if (!direct && !gc) return nb_last_status();
    int64_t shapes[3][NB_MAX_DIMS];
    const int64_t rows[3] = {sh.l, sh.s, sh.s}, cols[3] = {sh.e, sh.e, sh.ev};
    nb_tensor *grads[3] = {NULL};
    bool ok = true;
    for (int t = 0; t < 3 && ok; t++) {
        memcpy(shapes[t], sh.batch, (size_t)sh.batch_nd * sizeof(int64_t));
        shapes[t][sh.batch_nd] = rows[t], shapes[t][sh.batch_nd + 1] = cols[t];
        ok = (grads[t] = nb__alloc(node->op, sh.batch_nd + 2, shapes[t], q->dtype, dev)) != NULL;
    }
    if (ok) {
        const nbk_attention_args a = args_of(q->dtype, &sh, node->args.attention.scale, node->args.attention.causal,
                                             saved[5], node->args.attention.mask_bs, node->args.attention.dropout_p,
                                             node->args.attention.seed, node->args.attention.offset);
        nbk_attention_args full = a;
        full.q = nb__ptr(q), full.k = nb__ptr(saved[1]), full.v = nb__ptr(saved[2]);
        nb_status st = nb__device_table(dev.type)->attention_backward(
            nb__call(node->op, dev), &full, nb__ptr(out), nb__ptr(lse), nb__ptr(gc ? gc : g), nb__ptr(grads[0]),
            nb__ptr(grads[1]), nb__ptr(grads[2]));
        ok = nb__kernel_status(node->op, st) == NB_OK;
    }
    nb_release(gc);
    for (int t = 0; t < 3; t++) {
        if (ok && node->next[t].node)
            gi[t] = grads[t];
        else
            nb_release(grads[t]);
    }
    return ok ? NB_OK : nb_last_status();
}

nb_tensor *nb_scaled_dot_product_attention(const nb_tensor *q, const nb_tensor *k, const nb_tensor *v,
                                           const nb_sdpa_options *options)
{
    const nb_sdpa_options o = options ? *options : (nb_sdpa_options){0};
    nb__autocast ac; /* query, key, value and a floating mask in the autocast dtype */
    if (nb__autocast_lower(&ac, NB__AUTOCAST_ALL, 4, (const nb_tensor *[]){q, k, v, o.attn_mask})) {
        nb_sdpa_options co = o;
        co.attn_mask = ac.t[3];
        return nb__autocast_done(&ac, nb_scaled_dot_product_attention(ac.t[0], ac.t[1], ac.t[2], &co));
    }
    sdpa_shape sh;
    if (!check_args(q, k, v, &o, &sh)) return NULL;
    const bool half = nb__is_half(q->dtype);
    if (half && !nb__device_table(q->storage->device.type)->half_attention) {
        /* in float32, rounded once (lib/half.c); a half mask widened too */
        nb_tensor *wq = nb__widen(q), *wk = nb__widen(k), *wv = nb__widen(v);
        nb_tensor *wm = o.attn_mask ? nb__widen(o.attn_mask) : NULL;
        nb_sdpa_options wo = o;
        wo.attn_mask = wm;
        nb_tensor *r = wq && wk && wv && (wm || !o.attn_mask) ? nb_scaled_dot_product_attention(wq, wk, wv, &wo) : NULL;
        nb_release(wq), nb_release(wk), nb_release(wv), nb_release(wm);
        return nb__narrow(r, q->dtype);
    }
    const nb_device dev = q->storage->device;
    const double scale = o.scale != 0 ? o.scale : 1.0 / sqrt((double)sh.e);
    const double p = o.dropout_p;

    nb_tensor *q3 = NULL, *k3 = NULL, *v3 = NULL, *m3 = NULL, *out = NULL, *lse = NULL;
    int64_t mask_bs = 0;
    nb__tracking_pause();
    nb_no_grad_begin();
    q3 = folded(q, &sh, sh.l, sh.e);
    k3 = q3 ? folded(k, &sh, sh.s, sh.e) : NULL;
    v3 = k3 ? folded(v, &sh, sh.s, sh.ev) : NULL;
    if (v3 && o.attn_mask) m3 = folded_mask(o.attn_mask, &sh, &mask_bs);
    nb_no_grad_end();
    bool ok = v3 && (m3 || !o.attn_mask);
    int64_t out_shape[NB_MAX_DIMS];
    memcpy(out_shape, sh.batch, (size_t)sh.batch_nd * sizeof(int64_t));
    out_shape[sh.batch_nd] = sh.l, out_shape[sh.batch_nd + 1] = sh.ev;
    const int64_t lse_shape[2] = {sh.nbatch, sh.l};
    if (ok) ok = (out = nb__alloc(OP, sh.batch_nd + 2, out_shape, q->dtype, dev)) != NULL;
    /* (nbatch, l): float32 for half inputs, which the device computes in float32 */
    if (ok) ok = (lse = nb__alloc(OP, 2, lse_shape, half ? NB_FLOAT32 : q->dtype, dev)) != NULL;
    nb__tracking_resume();
    if (!ok) goto fail;

    /* dropout takes its counters from the generator; p = 1 drops everything and draws nothing */
    uint64_t seed = 0, offset = 0;
    if (p > 0 && p < 1) nb__rng_reserve(nbk_attention_counters(sh.nbatch, sh.l, sh.s), &seed, &offset);
    nbk_attention_args a = args_of(q->dtype, &sh, scale, o.is_causal, m3, mask_bs, p, seed, offset);
    a.q = nb__ptr(q3), a.k = nb__ptr(k3), a.v = nb__ptr(v3);
    nb_status st = nb__device_table(dev.type)->attention_forward(nb__call(OP, dev), &a, nb__ptr(out), nb__ptr(lse));
    if (nb__kernel_status(OP, st) != NB_OK) goto fail;

    const nb_tensor *inputs[3] = {q, k, v};
    if (nb__needs_graph(3, inputs)) {
        nb_node *node = nb__node_new(NB_NODE_ATTENTION, OP, 3, inputs);
        if (!node) goto fail;
        node->args.attention.batch = sh.nbatch, node->args.attention.l = sh.l, node->args.attention.s = sh.s;
        node->args.attention.e = sh.e, node->args.attention.ev = sh.ev, node->args.attention.mask_bs = mask_bs;
        node->args.attention.scale = scale, node->args.attention.dropout_p = p;
        node->args.attention.seed = seed, node->args.attention.offset = offset;
        node->args.attention.causal = o.is_causal, node->args.attention.has_mask = m3 != NULL;
        nb__set_history(out, node);
        if (!nb__node_save(node, 0, q3, false) || !nb__node_save(node, 1, k3, false) ||
            !nb__node_save(node, 2, v3, false) || !nb__node_save(node, 3, out, true) ||
            !nb__node_save(node, 4, lse, false) || (m3 && !nb__node_save(node, 5, m3, false)))
            goto fail;
    }
    nb_release(q3);
    nb_release(k3);
    nb_release(v3);
    nb_release(m3);
    nb_release(lse);
    nb__scope_register(out);
    return out;

fail:
    nb_release(q3);
    nb_release(k3);
    nb_release(v3);
    nb_release(m3);
    nb_release(lse);
    nb_release(out);
    return NULL;
}
