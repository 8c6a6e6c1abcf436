#!/usr/bin/python3
"""gen_optim.py — golden trajectories for nabla's optimizers (test/test_optim.c, suite optim):
torch.optim.SGD, Adam and AdamW (PyTorch 1.13) stepped 20 times on a small fixed problem.

The problem: parameters W (5, 3), b (3,) and c (2,), data x (8, 5), y (8, 3) and d (2,), and

    loss_t = sum((x @ W + b - y)^2) + sum(tanh(W))                  for steps t = 1..10
    loss_t = sum((x @ W + b - y)^2) + sum(tanh(W)) + sum(tanh(c) * d)   for steps t = 11..20

so c has no grad for the first ten steps (the optimizer must skip it and create its state only at
step 11). Each step: zero_grad (which zeroes existing grads, PyTorch 1.13's default), loss,
backward, step. Some configurations change the learning rate before step 11.

Writes test/golden/optim/{x,y,w0,b0,c0,d}.npy (float64 inputs) and, for every configuration NAME,
test/golden/optim/NAME_f64.npy and NAME_f32.npy: (20, 20) float64 arrays whose row t - 1 holds
[W.flatten(), b, c] after step t, run in float64 and in float32 (inputs cast with .float()).
Run with Debian's Python: /usr/bin/python3 test/golden/gen_optim.py
"""
import os

import numpy as np
import torch

STEPS = 20
SWITCH = 10  # c joins the loss, and schedules change the learning rate, after this many steps

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim")

# name: (optimizer class, options, learning rate from step SWITCH + 1 on, or None)
CONFIGS = {
    "sgd": (torch.optim.SGD, dict(lr=0.01), None),
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.01, momentum=0.9), None),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True), None),
    "sgd_weight_decay": (torch.optim.SGD, dict(lr=0.01, weight_decay=0.1), None),
    "sgd_dampening": (torch.optim.SGD, dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.05), None),
    "sgd_schedule": (torch.optim.SGD, dict(lr=0.01, momentum=0.9), 0.002),
    "adam": (torch.optim.Adam, dict(lr=0.05), None),
    "adam_weight_decay": (torch.optim.Adam, dict(lr=0.05, weight_decay=0.1), None),
    "adam_betas": (torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6), None),
    "adamw": (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1), None),
    "adamw_schedule": (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1), 0.01),
}


def save(name, a):
    os.makedirs(HERE, exist_ok=True)
    np.save(os.path.join(HERE, name + ".npy"), np.ascontiguousarray(a, dtype=np.float64))


def trajectory(inputs, dtype, cls, options, later_lr):
    x, y, w0, b0, c0, d = (t.to(dtype) for t in inputs)
    W = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    c = c0.clone().requires_grad_(True)
    opt = cls([W, b, c], **options)
    rows = []
    for t in range(1, STEPS + 1):
        if t == SWITCH + 1 and later_lr is not None:
            for group in opt.param_groups:
                group["lr"] = later_lr
        opt.zero_grad(set_to_none=False)
        loss = ((x @ W + b - y) ** 2).sum() + torch.tanh(W).sum()
        if t > SWITCH:
            loss = loss + (torch.tanh(c) * d).sum()
        loss.backward()
        opt.step()
        rows.append(torch.cat([W.detach().flatten(), b.detach(), c.detach()]).double().numpy())
    return np.stack(rows)  # (STEPS, 20)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = 0.5 * torch.randn(8, 5, dtype=torch.float64)  # (8, 5)
    y = torch.randn(8, 3, dtype=torch.float64)        # (8, 3)
    w0 = 0.5 * torch.randn(5, 3, dtype=torch.float64)  # (5, 3)
    b0 = 0.5 * torch.randn(3, dtype=torch.float64)     # (3,)
    c0 = torch.randn(2, dtype=torch.float64)           # (2,)
    d = torch.tensor([1.5, -2.0], dtype=torch.float64)  # (2,)
    inputs = (x, y, w0, b0, c0, d)
    for name, t in zip(("x", "y", "w0", "b0", "c0", "d"), inputs):
        save(name, t.numpy())
    for name, (cls, options, later_lr) in CONFIGS.items():
        for suffix, dtype in (("f64", torch.float64), ("f32", torch.float32)):
            rows = trajectory(inputs, dtype, cls, options, later_lr)
            assert np.all(np.isfinite(rows)), name
            save(name + "_" + suffix, rows)


if __name__ == "__main__":
    main()
