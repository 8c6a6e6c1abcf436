/* schedule.c — learning-rate schedules as pure functions of the step, in the closed forms of
 * torch.optim.lr_scheduler (PyTorch 1.13): StepLR, LinearLR, CosineAnnealingLR, and linear warmup
 * followed by cosine decay (SequentialLR of LinearLR and CosineAnnealingLR); the formulas are in
 * include/nabla/optim.h. nb_optimizer_schedule_step sets each group from its base rate, as a
 * torch scheduler sets each group from its initial_lr. */
#include "optimizer.h"

#include "../error.h"

#include <math.h>

#define AT_OP "nb_lr_schedule_at"

static const double PI = 3.14159265358979323846;

/* An error naming the field unless ok. */
static bool field(bool ok, const char *kind, const char *name, double value, const char *expected)
{
    if (!ok) nb__fail(NB_ERR_ARGUMENT, AT_OP ": %s schedule: invalid %s %g: expected %s", kind, name, value, expected);
    return ok;
}

/* torch's CosineAnnealingLR closed form at step e of period t_max */
static double cosine(double base, double eta_min, int64_t e, int64_t t_max)
{
    return eta_min + (base - eta_min) * (1 + cos(PI * (double)e / (double)t_max)) / 2;
}

static bool valid(const nb_lr_schedule *s)
{
    switch (s->kind) {
    case NB_LR_CONSTANT: return true;
    case NB_LR_STEP:
        return field(s->step_size > 0, "StepLR", "step_size", (double)s->step_size, "> 0") &&
               field(isfinite(s->gamma), "StepLR", "gamma", s->gamma, "a finite number");
    case NB_LR_LINEAR:
        return field(s->start_factor > 0 && s->start_factor <= 1, "LinearLR", "start_factor", s->start_factor,
                     "a number in (0, 1]") &&
               field(s->end_factor >= 0 && s->end_factor <= 1, "LinearLR", "end_factor", s->end_factor,
                     "a number in [0, 1]") &&
               field(s->total_iters > 0, "LinearLR", "total_iters", (double)s->total_iters, "> 0");
    case NB_LR_COSINE:
        return field(s->t_max > 0, "CosineAnnealingLR", "t_max", (double)s->t_max, "> 0") &&
               field(isfinite(s->eta_min), "CosineAnnealingLR", "eta_min", s->eta_min, "a finite number");
    case NB_LR_WARMUP_COSINE:
        return field(s->start_factor >= 0 && s->start_factor <= 1, "warmup-cosine", "start_factor", s->start_factor,
                     "a number in [0, 1]") &&
               field(s->warmup_steps >= 0, "warmup-cosine", "warmup_steps", (double)s->warmup_steps, ">= 0") &&
               field(s->total_steps > s->warmup_steps, "warmup-cosine", "total_steps", (double)s->total_steps,
                     "more than warmup_steps") &&
               field(isfinite(s->eta_min), "warmup-cosine", "eta_min", s->eta_min, "a finite number");
    }
    nb__fail(NB_ERR_ARGUMENT, AT_OP ": unknown schedule kind %d", (int)s->kind);
    return false;
}

double nb_lr_schedule_at(const nb_lr_schedule *s, double base_lr, int64_t step)
{
    if (nb__is_null(AT_OP, "schedule", s)) return NAN;
    if (step < 0) return nb__fail(NB_ERR_ARGUMENT, AT_OP ": invalid step %lld: expected >= 0", (long long)step), NAN;
    if (!valid(s)) return NAN;
    switch (s->kind) {
    case NB_LR_CONSTANT: return base_lr;
    case NB_LR_STEP: return base_lr * pow(s->gamma, (double)(step / s->step_size));
    case NB_LR_LINEAR: {
        const int64_t e = step < s->total_iters ? step : s->total_iters;
        return base_lr * (s->start_factor + (s->end_factor - s->start_factor) * (double)e / (double)s->total_iters);
    }
    case NB_LR_COSINE: return cosine(base_lr, s->eta_min, step, s->t_max);
    case NB_LR_WARMUP_COSINE:
        if (step < s->warmup_steps)
            return base_lr * (s->start_factor + (1 - s->start_factor) * (double)step / (double)s->warmup_steps);
        return cosine(base_lr, s->eta_min, step - s->warmup_steps, s->total_steps - s->warmup_steps);
    }
    return NAN; /* not reached: valid() knows every kind */
}

nb_status nb_optimizer_schedule_step(nb_optimizer *opt, const nb_lr_schedule *s, int64_t step)
{
    const char *op = "nb_optimizer_schedule_step";
    if (nb__is_null(op, "optimizer", opt)) return NB_ERR_NULL;
    if (!nb__optim_lr_settable(op)) return NB_ERR_ARGUMENT;
    for (int k = 0; k < opt->ngroups; k++) { /* every rate first: a refused schedule changes nothing */
        const double lr = nb_lr_schedule_at(s, opt->groups[k].base_lr, step);
        if (isnan(lr)) return nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_ARGUMENT;
        if (lr < 0)
            return nb__fail(NB_ERR_ARGUMENT, "%s: the schedule gives group %d the rate %g at step %lld: expected "
                            ">= 0", op, k, lr, (long long)step), NB_ERR_ARGUMENT;
    }
    for (int k = 0; k < opt->ngroups; k++)
        if (!nb__optim_write_lr(op, &opt->groups[k], nb_lr_schedule_at(s, opt->groups[k].base_lr, step)))
            return nb_last_status();
    opt->schedule_step = step;
    return NB_OK;
}

int64_t nb_optimizer_last_schedule_step(const nb_optimizer *opt)
{
    if (nb__is_null("nb_optimizer_last_schedule_step", "optimizer", opt)) return -1;
    return opt->schedule_step;
}
