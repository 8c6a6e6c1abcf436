#!/usr/bin/python3
"""gen_optim_kit.py — golden data for nabla's training kit (test/test_optim_kit.c, suite optim):
parameter groups, gradient clipping and learning-rate schedules, from PyTorch 1.13.

Parameter groups: the problem of gen_optim.py (its inputs test/golden/optim/{x,y,w0,b0,c0,d}.npy,
20 steps, c joining the loss after step 10) with two groups: [W] at the optimizer's lr and
weight_decay, and [b, c] with lr 0.02 and weight_decay 0. Writes optim_kit/groups_NAME_{f64,f32}.npy,
(20, 20) float64 arrays whose row t - 1 holds [W.flatten(), b, c] after step t. groups_adamw_sched
also steps SequentialLR(LinearLR(0.1, 1.0, 5), CosineAnnealingLR(15, 1e-3), [5]) after every step.

Clipping: four gradients (7, 5), (11,), (0,) and (3, 4, 2) (the last given to torch as the
transpose of a contiguous (2, 4, 3), so non-contiguous) drawn from seed 3 and scaled by 0.3, clipped
by torch.nn.utils.clip_grad_norm_ for each (max_norm, norm_type) of CLIPS (for the max norm
without the empty gradient, which torch 1.13 refuses there). Writes
optim_kit/clip_grads.npy (the 70 gradient values before, flattened in order, float64) and for each
case clip_K_{f64,f32}.npy: [norm, the 70 values after].

Schedules: torch's schedulers stepped 150 times on an SGD optimizer with two groups (base lr 0.1
and 0.02); sched_NAME.npy is (151, 2): row e holds both groups' lr after e scheduler steps (row 0:
before the first).
Run with Debian's Python: /usr/bin/python3 test/golden/gen_optim_kit.py
"""
import math
import os

import numpy as np
import torch

STEPS = 20
SWITCH = 10
SCHED_STEPS = 150

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "optim_kit")

GROUP_CONFIGS = {
    "sgd": (torch.optim.SGD, dict(lr=0.01, momentum=0.9, weight_decay=0.05)),
    "adam": (torch.optim.Adam, dict(lr=0.05, weight_decay=0.1)),
    "adamw": (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
    "adamw_sched": (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
}

CLIPS = [(0.5, 2.0), (100.0, 2.0), (0.1, math.inf), (1.0, 1.0), (0.7, 3.0), (0.2, 0.5)]

SCHEDULES = {
    "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    "linear": lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=40),
    "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=60, eta_min=1e-3),
    "warmup_cosine": lambda o: torch.optim.lr_scheduler.SequentialLR(
        o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=10),
            torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=90, eta_min=1e-3)], milestones=[10]),
}


def save(name, a):
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a, dtype=np.float64))


def load(name):
    return torch.from_numpy(np.load(os.path.join(HERE, "optim", name + ".npy")))


def warmup_cosine(opt):
    return torch.optim.lr_scheduler.SequentialLR(
        opt, [torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5),
              torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=15, eta_min=1e-3)], milestones=[5])


def group_trajectory(dtype, name):
    cls, options = GROUP_CONFIGS[name]
    x, y, w0, b0, c0, d = (load(n).to(dtype) for n in ("x", "y", "w0", "b0", "c0", "d"))
    W = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    c = c0.clone().requires_grad_(True)
    opt = cls([{"params": [W]}, {"params": [b, c], "lr": 0.02, "weight_decay": 0.0}], **options)
    sched = warmup_cosine(opt) if name == "adamw_sched" else None
    rows = []
    for t in range(1, STEPS + 1):
        opt.zero_grad(set_to_none=False)
        loss = ((x @ W + b - y) ** 2).sum() + torch.tanh(W).sum()
        if t > SWITCH:
            loss = loss + (torch.tanh(c) * d).sum()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        rows.append(torch.cat([W.detach().flatten(), b.detach(), c.detach()]).double().numpy())
    return np.stack(rows)  # (STEPS, 20)


def clip_grads():
    torch.manual_seed(3)
    g1 = 0.3 * torch.randn(7, 5, dtype=torch.float64)
    g2 = 0.3 * torch.randn(11, dtype=torch.float64)
    g3 = torch.zeros(0, dtype=torch.float64)
    g4 = (0.3 * torch.randn(2, 4, 3, dtype=torch.float64)).permute(2, 1, 0)  # (3, 4, 2), non-contiguous
    return [g1, g2, g3, g4]


def flat(ts):
    return torch.cat([t.detach().reshape(-1).double() for t in ts]).numpy()


def main():
    torch.set_num_threads(1)
    for name in GROUP_CONFIGS:
        save("groups_%s_f64" % name, group_trajectory(torch.float64, name))
        save("groups_%s_f32" % name, group_trajectory(torch.float32, name))

    grads = clip_grads()
    save("clip_grads", flat(grads))
    for k, (max_norm, norm_type) in enumerate(CLIPS):
        for dtype, sfx in ((torch.float64, "f64"), (torch.float32, "f32")):
            params = []
            for g in grads:
                p = torch.zeros(g.shape, dtype=dtype, requires_grad=True)
                p.grad = g.to(dtype).clone()  # a copy (to() of the same dtype is g itself), in g4's layout
                params.append(p)
            assert not params[3].grad.is_contiguous()
            # torch 1.13 refuses an empty gradient in the max norm (max() of nothing); it adds
            # nothing to the norm, so that case leaves it out (nabla takes it and skips it)
            used = [p for p in params if not (math.isinf(norm_type) and p.numel() == 0)]
            norm = torch.nn.utils.clip_grad_norm_(used, max_norm, norm_type)
            save("clip_%d_%s" % (k, sfx), np.concatenate([[norm.double().item()], flat([p.grad for p in params])]))

    for name, make in SCHEDULES.items():
        p1 = torch.zeros(1, requires_grad=True)
        p2 = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.02}], lr=0.1)
        sched = make(opt)
        rows = [[g["lr"] for g in opt.param_groups]]
        for _ in range(SCHED_STEPS):
            opt.step()
            sched.step()
            rows.append([g["lr"] for g in opt.param_groups])
        save("sched_" + name, np.array(rows))


if __name__ == "__main__":
    main()
