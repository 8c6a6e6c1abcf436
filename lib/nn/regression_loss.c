/* regression_loss.c — nb_l1_loss, nb_smooth_l1_loss and nb_huber_loss (PyTorch's, with
 * reduction), and the reduction helpers of reduction.h. Each is composed from recorded
 * elementwise ops and a reduction, so it runs on every device and its gradient is theirs. */
#include "../autocast.h"
#include "../autograd/autograd.h"
#include "../dtype.h"
#include "../half.h"
#include "../error.h"
#include "../ewise.h"
#include "../iter.h"
#include "../tensor.h"
#include "reduction.h"

bool nb__check_reduction(const char *op, nb_reduction reduction)
{
    if (reduction == NB_REDUCTION_MEAN || reduction == NB_REDUCTION_SUM || reduction == NB_REDUCTION_NONE)
        return true;
    nb__fail(NB_ERR_ARGUMENT, "%s: expected reduction NB_REDUCTION_MEAN, NB_REDUCTION_SUM or NB_REDUCTION_NONE, got %d",
             op, (int)reduction);
    return false;
}

nb_tensor *nb__reduce_loss(nb_tensor *loss, nb_reduction reduction)
{
    if (!loss || reduction == NB_REDUCTION_NONE) return loss;
    nb_tensor *out = reduction == NB_REDUCTION_MEAN ? nb_mean(loss) : nb_sum(loss);
    nb_release(loss);
    return out;
}

/* input and target: floating, one device, shapes that broadcast */
static bool check_pair(const char *op, const nb_tensor *input, const nb_tensor *target, nb_reduction reduction)
{
    if (nb__is_null(op, "input", input) || nb__is_null(op, "target", target)) return false;
    const nb_tensor *both[2] = {input, target};
    if (!nb__check_devices(op, 2, both)) return false;
    if (!nb__is_floating(input->dtype) || !nb__is_floating(target->dtype))
        return nb__fail(NB_ERR_DTYPE, "%s: expected a floating input and target (float32, float64, float16 or bfloat16), got %s and %s", op,
                        nb_dtype_name(input->dtype), nb_dtype_name(target->dtype)),
               false;
    int nd;
    int64_t shape[NB_MAX_DIMS];
    return nb__broadcast_shapes(op, 2, both, &nd, shape) && nb__check_reduction(op, reduction);
}

/* The elementwise loss of d = |input - target|: d (kind 0), or below t quadratic and above it
 * linear: smooth L1 (kind 1) 0.5 d^2 / t, else d - 0.5 t; Huber (kind 2) 0.5 d^2, else
 * t (d - 0.5 t). Every temporary is released here; the result is the caller's. */
static nb_tensor *pointwise(const nb_tensor *input, const nb_tensor *target, int kind, double t)
{
    nb_tensor *diff = nb_sub(input, target);
    nb_tensor *d = nb_abs(diff);
    nb_release(diff);
    if (kind == 0 || !d) return d;
    nb_tensor *near = nb_lt_scalar(d, t);
    nb_tensor *square = nb_pow_scalar(d, 2.0);
    nb_tensor *quad = nb_mul_scalar(square, kind == 1 ? 0.5 / t : 0.5);
    nb_tensor *lin0 = nb_sub_scalar(d, 0.5 * t);
    nb_tensor *lin = kind == 1 ? NULL : nb_mul_scalar(lin0, t);
    nb_tensor *out = nb_where(near, quad, kind == 1 ? lin0 : lin);
    nb_release(d);
    nb_release(near);
    nb_release(square);
    nb_release(quad);
    nb_release(lin0);
    nb_release(lin);
    return out;
}

static nb_tensor *regression_loss(const char *op, const nb_tensor *input, const nb_tensor *target,
                                  nb_reduction reduction, int kind, double t)
{
    nb__autocast ac; /* float32 under autocast, on the CPU and CUDA */
    if (nb__autocast_fp32(&ac, NB__AUTOCAST_ALL, 2, (const nb_tensor *[]){input, target}))
        return nb__autocast_done(&ac, regression_loss(op, ac.t[0], ac.t[1], reduction, kind, t));
    const nb_tensor *pair[2] = {input, target};
    if (input && target && nb__any_half(2, pair) && nb__is_float_kind(input->dtype) &&
        nb__is_float_kind(target->dtype)) { /* in float32, rounded once to the promoted dtype (lib/half.c) */
        nb_tensor *wi = nb__widen(input), *wt = wi ? nb__widen(target) : NULL;
        nb_tensor *r = wt ? regression_loss(op, wi, wt, reduction, kind, t) : NULL;
        nb_release(wi);
        nb_release(wt);
        return nb__narrow(r, nb__promote(input->dtype, target->dtype));
    }
    if (!check_pair(op, input, target, reduction)) return NULL;
    nb__tracking_pause();
    nb_tensor *loss = nb__reduce_loss(pointwise(input, target, kind, t), reduction);
    nb__tracking_resume();
    if (loss) nb__scope_register(loss);
    return loss;
}

nb_tensor *nb_l1_loss(const nb_tensor *input, const nb_tensor *target, nb_reduction reduction)
{
    return regression_loss("nb_l1_loss", input, target, reduction, 0, 0.0);
}

nb_tensor *nb_smooth_l1_loss(const nb_tensor *input, const nb_tensor *target, nb_reduction reduction, double beta)
{
    const char *op = "nb_smooth_l1_loss";
    if (!(beta >= 0))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected beta >= 0, got %g", op, beta);
    /* beta 0 is the L1 loss (PyTorch's rule), without the division by zero */
    return regression_loss(op, input, target, reduction, beta == 0 ? 0 : 1, beta);
}

nb_tensor *nb_huber_loss(const nb_tensor *input, const nb_tensor *target, nb_reduction reduction, double delta)
{
    const char *op = "nb_huber_loss";
    if (!(delta > 0))
        return nb__fail(NB_ERR_ARGUMENT, "%s: expected delta > 0, got %g", op, delta);
    return regression_loss(op, input, target, reduction, 2, delta);
}
