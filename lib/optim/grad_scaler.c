/* grad_scaler.c — loss scaling: torch.cuda.amp.GradScaler (PyTorch 1.13) on any device.
 *
 *   scale(loss)   = loss * scale                    (recorded: backward gives scaled grads)
 *   unscale_(opt) : found_inf[opt] = 0; for each grad g of opt: found_inf[opt] |= !isfinite(g);
 *                   g *= float32(1 / double(scale))  (one fused device call per NBK_MULTI_MAX grads)
 *                   float16 grads are refused, as torch's unscale_ refuses them ("Attempting to
 *                   unscale FP16 gradients."); bfloat16 ones, which it lets through, are unscaled
 *                   in float32 and rounded once
 *   step(opt)     : unscale_ unless done; opt's step unless found_inf[opt]
 *   update()      : aten's _amp_update_scale_ with the sum of this step's flags (kernels/optim.h)
 *
 * The scale (0-d float32), growth tracker (0-d int64) and each optimizer's flag (0-d float32)
 * are made on the loss's device on first use and only ever read there: Adam and AdamW take the
 * flag into their fused kernel and skip on the device, so scale, unscale, step and update can be
 * captured into a CUDA graph and replayed. SGD's step is a sequence of elementwise ops, so its
 * skip is decided here by reading the flag back (refused during a capture).
 *
 * Each optimizer has a record (its flag and where it is in the step: torch's OptState READY,
 * UNSCALED, STEPPED), kept across steps so that a replayed step allocates nothing. */
#include "optimizer.h"

#include "../device.h"
#include "../dtype.h"
#include "../error.h"
#include "../ewise.h"
#include "../graph.h"
#include "../train_state.h"

#include <math.h>
#include <stdlib.h>

#define DEFAULT_INIT_SCALE 65536.0
#define DEFAULT_GROWTH_FACTOR 2.0
#define DEFAULT_BACKOFF_FACTOR 0.5
#define DEFAULT_GROWTH_INTERVAL 2000

typedef enum opt_stage { READY, UNSCALED, STEPPED } opt_stage;

/* What the scaler knows of one optimizer. */
typedef struct opt_record {
    const nb_optimizer *opt; /* known by address, never dereferenced after the step */
    nb_tensor *found_inf;    /* 0-d float32 on the scale's device */
    opt_stage stage;
} opt_record;

struct nb_grad_scaler {
    nb_grad_scaler_options o; /* defaults filled in */
    nb_tensor *scale;         /* 0-d float32, or NULL before the first scale */
    nb_tensor *growth_tracker; /* 0-d int64, made with the scale */
    opt_record *rec;          /* (nrec,) */
    int nrec;
};

nb_grad_scaler *nb_grad_scaler_new(nb_grad_scaler_options o)
{
    const char *op = "nb_grad_scaler_new";
    if (o.init_scale == 0) o.init_scale = DEFAULT_INIT_SCALE;
    if (o.growth_factor == 0) o.growth_factor = DEFAULT_GROWTH_FACTOR;
    if (o.backoff_factor == 0) o.backoff_factor = DEFAULT_BACKOFF_FACTOR;
    if (o.growth_interval == 0) o.growth_interval = DEFAULT_GROWTH_INTERVAL;
    if (!(o.init_scale > 0) || isinf(o.init_scale))
        return nb__fail(NB_ERR_ARGUMENT, "%s: invalid init_scale %g: expected a finite number > 0", op, o.init_scale);
    if (!(o.growth_factor > 1) || isinf(o.growth_factor))
        return nb__fail(NB_ERR_ARGUMENT, "%s: invalid growth_factor %g: expected a finite number > 1", op,
                        o.growth_factor);
    if (!(o.backoff_factor > 0 && o.backoff_factor < 1))
        return nb__fail(NB_ERR_ARGUMENT, "%s: invalid backoff_factor %g: expected a number in (0, 1)", op,
                        o.backoff_factor);
    if (o.growth_interval < 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: invalid growth_interval %lld: expected a number > 0", op,
                        (long long)o.growth_interval);
    nb_grad_scaler *s = calloc(1, sizeof *s);
    if (!s) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    s->o = o;
    return s;
}

void nb_grad_scaler_free(nb_grad_scaler *s)
{
    if (!s) return;
    nb_release(s->scale);
    nb_release(s->growth_tracker);
    for (int i = 0; i < s->nrec; i++) nb_release(s->rec[i].found_inf);
    free(s->rec);
    free(s);
}

/* An error naming op unless this thread is outside a capture: what is made on first use must not
 * be made again by a replay. */
static bool check_not_capturing(const char *op, const char *what)
{
    if (!nb__graph_capturing()) return true;
    nb__fail(NB_ERR_ARGUMENT, "%s: %s is made on the first step, which a replay must not repeat; run one step "
             "before nb_graph_capture_begin", op, what);
    return false;
}

/* A 0-d tensor of dtype on device holding value, in no scope, or NULL (and an error). */
static nb_tensor *filled(const char *op, nb_dtype dtype, nb_device device, double value)
{
    nb_tensor *t = nb__untrack(nb__alloc(op, 0, NULL, dtype, device));
    if (t && !nb__optim_apply_as(op, NB_EW_FILL, t, 0, NULL, NULL, value)) nb_release(t), t = NULL;
    return t;
}

/* Makes the scale and the growth tracker on device. */
static bool make_scale(const char *op, nb_grad_scaler *s, nb_device device)
{
    if (!check_not_capturing(op, "the scale")) return false;
    s->scale = filled(op, NB_FLOAT32, device, s->o.init_scale);
    s->growth_tracker = s->scale ? filled(op, NB_INT64, device, 0) : NULL;
    if (s->growth_tracker) return true;
    nb_release(s->scale), s->scale = NULL;
    return false;
}

nb_tensor *nb_grad_scaler_scale(nb_grad_scaler *s, const nb_tensor *loss)
{
    const char *op = "nb_grad_scaler_scale";
    if (nb__is_null(op, "scaler", s) || nb__is_null(op, "loss", loss)) return NULL;
    if (s->o.disabled) return nb_reshape(loss, loss->ndim, loss->shape); /* a view: loss itself, in a new handle */
    if (!nb__is_float_kind(loss->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: the loss is %s; expected a floating-point tensor", op,
                        nb_dtype_name(loss->dtype));
    if (!s->scale) {
        nb__tracking_pause();
        const bool ok = make_scale(op, s, loss->storage->device);
        nb__tracking_resume();
        if (!ok) return NULL;
    }
    if (!nb__same_device(s->scale->storage->device, loss->storage->device)) {
        char a[32], b[32];
        return nb__fail(NB_ERR_DEVICE, "%s: the loss is on %s but the scale is on %s: a scaler serves one device",
                        op, nb__device_string(loss->storage->device, a, sizeof a),
                        nb__device_string(s->scale->storage->device, b, sizeof b));
    }
    return nb_mul(loss, s->scale);
}

/* The record of opt, made (READY, with its flag) on first sight; NULL (and an error). */
static opt_record *record_of(const char *op, nb_grad_scaler *s, const nb_optimizer *opt)
{
    for (int i = 0; i < s->nrec; i++)
        if (s->rec[i].opt == opt) return &s->rec[i];
    if (!check_not_capturing(op, "an optimizer's found-inf flag")) return NULL;
    opt_record *more = realloc(s->rec, (size_t)(s->nrec + 1) * sizeof *more);
    if (!more) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    s->rec = more;
    nb__tracking_pause();
    nb_tensor *flag = filled(op, NB_FLOAT32, s->scale->storage->device, 0);
    nb__tracking_resume();
    if (!flag) return NULL;
    s->rec[s->nrec] = (opt_record){opt, flag, READY};
    return &s->rec[s->nrec++];
}

/* An error naming op unless the scale exists (torch: "Attempted unscale_ but _scale is None"). */
static bool check_scaled(const char *op, const nb_grad_scaler *s)
{
    if (s->scale) return true;
    nb__fail(NB_ERR_ARGUMENT, "%s: the scaler has no scale yet: call nb_grad_scaler_scale on the loss (and "
             "backward) before unscaling, stepping or updating", op);
    return false;
}

/* Checks every gradient of opt against the scale: float32 or float64, on its device. */
static bool check_grads(const char *op, const nb_grad_scaler *s, const nb_optimizer *opt)
{
    for (int k = 0; k < opt->ngroups; k++)
        for (int i = 0; i < nb_params_count(opt->groups[k].params); i++) {
            const nb_tensor *g = nb_params_get(opt->groups[k].params, i)->grad;
            if (!g) continue;
            char a[32], b[32];
            if (g->dtype == NB_FLOAT16) /* torch: "Attempting to unscale FP16 gradients." */
                return nb__fail(NB_ERR_DTYPE, "%s: the grad of parameter %d (group %d) is float16: float16 "
                                "gradients are not unscaled (PyTorch's GradScaler refuses them too); keep float32 "
                                "parameters and compute in float16, or use bfloat16 parameters", op, i, k), false;
            if (g->dtype != NB_FLOAT32 && g->dtype != NB_FLOAT64 && g->dtype != NB_BFLOAT16)
                return nb__fail(NB_ERR_DTYPE, "%s: the grad of parameter %d (group %d) is %s; expected float32, "
                                "float64 or bfloat16", op, i, k, nb_dtype_name(g->dtype)), false;
            if (!nb__same_device(g->storage->device, s->scale->storage->device))
                return nb__fail(NB_ERR_DEVICE, "%s: the grad of parameter %d (group %d) is on %s but the scale is on "
                                "%s: a scaler serves one device", op, i, k,
                                nb__device_string(g->storage->device, a, sizeof a),
                                nb__device_string(s->scale->storage->device, b, sizeof b)), false;
        }
    return true;
}

/* The gradients of one device call, with contiguous copies standing in for non-contiguous ones
 * (written back after the call). */
typedef struct unscale_batch {
    nbk_unscale_args args;
    nb_tensor *grad[NBK_MULTI_MAX];
    nb_tensor *copy[NBK_MULTI_MAX]; /* or NULL */
} unscale_batch;

/* Runs the batch (if not empty) and writes its copies back; empties it. */
static bool run_batch(const char *op, nb_device device, unscale_batch *b)
{
    bool ok = true;
    if (b->args.l.n > 0) {
        const nbk_device *dev = nb__device_for(op, device);
        ok = dev && nb__kernel_status(op, dev->grad_unscale(nb__call(op, device), &b->args)) == NB_OK;
    }
    for (int k = 0; k < b->args.l.n; k++) {
        if (ok && b->copy[k]) ok = nb__optim_apply_as(op, NB_EW_MUL_SCALAR, b->grad[k], 1, b->copy[k], NULL, 1.0);
        else if (ok) nb__bump_version(b->grad[k]);
        nb_release(b->copy[k]);
    }
    b->args.l.n = 0;
    return ok;
}

/* found_inf = 0, then every gradient of opt checked and unscaled. */
static bool unscale(const char *op, nb_grad_scaler *s, nb_optimizer *opt, nb_tensor *found_inf)
{
    const nb_device device = s->scale->storage->device;
    if (!nb__optim_apply_as(op, NB_EW_FILL, found_inf, 0, NULL, NULL, 0)) return false;
    unscale_batch b;
    b.args.l.n = 0;
    b.args.scale = (const float *)nb__ptr(s->scale);
    b.args.found_inf = (float *)nb__ptr(found_inf);
    for (int q = 0; q < opt->ngroups; q++)
        for (int i = 0; i < nb_params_count(opt->groups[q].params); i++) {
            nb_tensor *g = nb_params_get(opt->groups[q].params, i)->grad;
            if (!g) continue;
            if ((b.args.l.n == NBK_MULTI_MAX || (b.args.l.n > 0 && b.args.l.dtype != g->dtype)) &&
                !run_batch(op, device, &b))
                return false;
            const int k = b.args.l.n;
            b.grad[k] = g;
            b.copy[k] = NULL;
            if (!nb__is_contiguous(g)) {
                nb_tensor *c = nb__optim_like(g);
                if (!c || !nb__optim_apply_as(op, NB_EW_MUL_SCALAR, c, 1, g, NULL, 1.0)) {
                    nb_release(c);
                    for (int j = 0; j < k; j++) nb_release(b.copy[j]);
                    return false;
                }
                b.copy[k] = c;
            }
            b.args.l.dtype = g->dtype;
            b.args.l.grad[k] = nb__ptr(b.copy[k] ? b.copy[k] : g);
            b.args.l.numel[k] = nb_numel(g);
            b.args.l.n = k + 1;
        }
    return run_batch(op, device, &b);
}

/* The unscale of nb_grad_scaler_unscale_ and nb_grad_scaler_step, checked; the record is
 * UNSCALED after it. */
static opt_record *unscale_checked(const char *op, nb_grad_scaler *s, nb_optimizer *opt)
{
    if (!check_scaled(op, s) || !check_grads(op, s, opt)) return NULL;
    opt_record *r = record_of(op, s, opt);
    if (!r) return NULL;
    if (r->stage == UNSCALED)
        return nb__fail(NB_ERR_ARGUMENT, "%s: nb_grad_scaler_unscale_ has already been called on this optimizer "
                        "since the last nb_grad_scaler_update", op);
    if (r->stage == STEPPED)
        return nb__fail(NB_ERR_ARGUMENT, "%s: nb_grad_scaler_unscale_ is being called after nb_grad_scaler_step "
                        "(the step has unscaled already); call nb_grad_scaler_update first", op);
    int used = 0;
    for (int i = 0; i < s->nrec; i++) used += s->rec[i].stage != READY;
    if (used == NBK_SCALER_FLAGS)
        return nb__fail(NB_ERR_ARGUMENT, "%s: a scaler serves at most %d optimizers between two updates", op,
                        NBK_SCALER_FLAGS);
    nb_no_grad_begin();
    nb__tracking_pause();
    const bool ok = unscale(op, s, opt, r->found_inf);
    nb__tracking_resume();
    nb_no_grad_end();
    if (!ok) return NULL;
    r->stage = UNSCALED;
    return r;
}

nb_status nb_grad_scaler_unscale_(nb_grad_scaler *s, nb_optimizer *opt)
{
    const char *op = "nb_grad_scaler_unscale_";
    if (nb__is_null(op, "scaler", s) || nb__is_null(op, "optimizer", opt)) return NB_ERR_NULL;
    if (s->o.disabled) return NB_OK;
    return unscale_checked(op, s, opt) ? NB_OK : nb_last_status();
}

nb_status nb_grad_scaler_step(nb_grad_scaler *s, nb_optimizer *opt)
{
    const char *op = "nb_grad_scaler_step";
    if (nb__is_null(op, "scaler", s) || nb__is_null(op, "optimizer", opt)) return NB_ERR_NULL;
    if (s->o.disabled) return nb_optimizer_step(opt);
    if (!check_scaled(op, s)) return nb_last_status();
    opt_record *r = record_of(op, s, opt);
    if (!r) return nb_last_status();
    if (r->stage == STEPPED)
        return nb__fail(NB_ERR_ARGUMENT, "%s: nb_grad_scaler_step has already been called on this optimizer since "
                        "the last nb_grad_scaler_update", op), NB_ERR_ARGUMENT;
    if (!opt->vt->skips_on_device && nb__graph_capturing()) /* checked before anything is queued */
        return nb__fail(NB_ERR_ARGUMENT, "%s: %s's step is skipped on the host, which a replay cannot do; "
                        "capture Adam or AdamW, whose kernels skip on the device", op, opt->vt->name),
               NB_ERR_ARGUMENT;
    if (r->stage == READY && !unscale_checked(op, s, opt)) return nb_last_status();
    nb_status st = NB_OK;
    if (opt->vt->skips_on_device) {
        st = nb__optimizer_step_unless(opt, r->found_inf);
    } else {
        const double found = nb_item(r->found_inf); /* torch's `if not sum(v.item() ...)` */
        if (isnan(found)) st = nb_last_status();
        else if (found == 0) st = nb_optimizer_step(opt);
    }
    if (st == NB_OK) r->stage = STEPPED;
    return st;
}

nb_status nb_grad_scaler_update(nb_grad_scaler *s)
{
    const char *op = "nb_grad_scaler_update";
    if (nb__is_null(op, "scaler", s)) return NB_ERR_NULL;
    if (s->o.disabled) return NB_OK;
    if (!check_scaled(op, s)) return nb_last_status();
    nbk_scaler_update_args a = {
        .scale = (float *)nb__ptr(s->scale),
        .growth_tracker = (int64_t *)nb__ptr(s->growth_tracker),
        .growth_factor = s->o.growth_factor,
        .backoff_factor = s->o.backoff_factor,
        .growth_interval = s->o.growth_interval,
    };
    for (int i = 0; i < s->nrec; i++)
        if (s->rec[i].stage != READY) a.found_inf[a.n++] = (const float *)nb__ptr(s->rec[i].found_inf);
    if (a.n == 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: no inf checks were recorded before the update: call "
                        "nb_grad_scaler_unscale_ or nb_grad_scaler_step first", op), NB_ERR_ARGUMENT;
    const nb_device device = s->scale->storage->device;
    const nbk_device *dev = nb__device_for(op, device);
    if (!dev || nb__kernel_status(op, dev->scaler_update(nb__call(op, device), &a)) != NB_OK) return nb_last_status();
    nb__bump_version(s->scale);
    nb__bump_version(s->growth_tracker);
    for (int i = 0; i < s->nrec; i++) s->rec[i].stage = READY;
    return NB_OK;
}

double nb_grad_scaler_get_scale(const nb_grad_scaler *s)
{
    const char *op = "nb_grad_scaler_get_scale";
    if (nb__is_null(op, "scaler", s)) return NAN;
    if (s->o.disabled) return 1.0;
    if (!s->scale) return s->o.init_scale;
    if (nb__graph_capturing())
        return nb__fail(NB_ERR_ARGUMENT, "%s: the scale cannot be read back during a graph capture; read "
                        "nb_grad_scaler_get_scale_tensor after a replay", op), NAN;
    return nb_item(s->scale);
}

nb_tensor *nb_grad_scaler_get_scale_tensor(const nb_grad_scaler *s)
{
    if (nb__is_null("nb_grad_scaler_get_scale_tensor", "scaler", s)) return NULL;
    return s->scale;
}

/* ---------------------------------------------------------------- its state, for checkpoints */

void nb__grad_scaler_state(const nb_grad_scaler *s, nb_tensor **scale, nb_tensor **growth_tracker)
{
    *scale = s->scale;
    *growth_tracker = s->growth_tracker;
}

bool nb__grad_scaler_check(const char *op, const nb_tensor *scale, const nb_tensor *growth_tracker)
{
    if (!scale != !growth_tracker)
        return nb__fail(NB_ERR_ARGUMENT, "%s: the gradient scaler's state has its %s but not its %s", op,
                        scale ? "scale" : "growth tracker", scale ? "growth tracker" : "scale"), false;
    if (scale && (scale->ndim != 0 || !nb__is_float_kind(scale->dtype) || growth_tracker->ndim != 0 ||
                  growth_tracker->dtype != NB_INT64))
        return nb__fail(NB_ERR_ARGUMENT, "%s: the gradient scaler's scale must be a 0-d float and its growth tracker "
                        "a 0-d int64 (got %s with %d dims, %s with %d dims)", op, nb_dtype_name(scale->dtype),
                        scale->ndim, nb_dtype_name(growth_tracker->dtype), growth_tracker->ndim), false;
    return true;
}

bool nb__grad_scaler_restore(const char *op, nb_grad_scaler *s, const nb_tensor *scale,
                             const nb_tensor *growth_tracker, nb_device device)
{
    if (!nb__grad_scaler_check(op, scale, growth_tracker) || !check_not_capturing(op, "a restored scale"))
        return false;
    if (!scale) { /* saved before its first step: as a new scaler */
        nb_release(s->scale), s->scale = NULL;
        nb_release(s->growth_tracker), s->growth_tracker = NULL;
        return true;
    }
    nb__tracking_pause();
    nb_no_grad_begin();
    bool ok = s->scale || make_scale(op, s, device);
    ok = ok && nb_copy_(s->scale, scale) && nb_copy_(s->growth_tracker, growth_tracker);
    nb_no_grad_end();
    nb__tracking_resume();
    return ok;
}
