#!/usr/bin/python3
"""gen_grad_scaler.py — golden trajectories for nabla's gradient scaler (test/test_grad_scaler.c):
the scale and the parameters of torch.cuda.amp.GradScaler's rules over runs with Inf and NaN
gradients injected.

PyTorch 1.13's GradScaler works on CUDA only: without a GPU it disables itself, and its two
kernels, torch._amp_foreach_non_finite_check_and_unscale_ and torch._amp_update_scale_, have no
CPU implementation in 1.13 ("Could not run ... with arguments from the 'CPU' backend"). So this
script restates their rules, line for line, from torch/cuda/amp/grad_scaler.py and aten's
AmpKernels.cu (PyTorch 1.13), in float32 tensor arithmetic:

  scale(loss)  = loss * scale                        (scale: a float32 tensor)
  unscale_     : inv_scale = scale.double().reciprocal().float()
                 found_inf = 1 if any grad element is not finite
                 grad = grad * inv_scale            (left as it is when inv_scale == 1)
  step         : optimizer.step() unless found_inf  (torch's _maybe_opt_step)
  update       : _amp_update_scale_:
                 if found_inf: scale = float(scale * backoff_factor); growth_tracker = 0
                 else: successful = growth_tracker + 1
                       if successful == growth_interval:
                           new_scale = float(scale * growth_factor)  (computed in double)
                           if isfinite(new_scale): scale = new_scale
                           growth_tracker = 0
                       else: growth_tracker = successful

The optimizers, the autograd of the scaled loss and the float32 arithmetic are PyTorch's own.

The problem: a float32 parameter w (6,) starting at w0, and at step t (1-based) the loss
sum(x[t - 1] * w), so that w's scaled grad is x[t - 1] * scale; rows of x hold Inf or NaN at the
injected steps. Each step: zero_grad, backward(scale(loss)), step, update.

Writes test/golden/grad_scaler/{w0}.npy and, for each configuration NAME, NAME_x.npy (steps, 6),
NAME_scale.npy (steps,) (the scale after each update) and NAME_w.npy (steps, 6) (w after each
step), all float64 holding float32 values.
Run with Debian's Python: /usr/bin/python3 test/golden/gen_grad_scaler.py
"""
import math
import os

import numpy as np
import torch

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grad_scaler")

# name: (steps, scaler options, optimizer class, its options, {step: injected value})
CONFIGS = {
    # growth every 3 clean steps from 2^100: the scale climbs until x * scale overflows float32 (or
    # its growth would: that growth is skipped), then backs off
    "sgd_interval3": (300, dict(init_scale=2.0 ** 100, growth_factor=2.0, backoff_factor=0.5, growth_interval=3),
                      torch.optim.SGD, dict(lr=0.01), {7: math.inf, 8: math.nan, 40: -math.inf, 41: math.nan,
                                                       150: math.nan}),
    "adam_interval3": (300, dict(init_scale=1024.0, growth_factor=4.0, backoff_factor=0.25, growth_interval=3),
                       torch.optim.Adam, dict(lr=0.05), {1: math.nan, 5: math.inf, 6: math.inf, 99: -math.inf}),
    # PyTorch's defaults: two backoffs, then growth after 2000 clean steps
    "adam_defaults": (2100, dict(init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000),
                      torch.optim.Adam, dict(lr=1e-3), {10: math.inf, 50: math.nan}),
}


def save(name, a):
    os.makedirs(HERE, exist_ok=True)
    np.save(os.path.join(HERE, name + ".npy"), np.ascontiguousarray(a, dtype=np.float64))


class Scaler:
    """The GradScaler rules above, for one optimizer on one device."""

    def __init__(self, init_scale, growth_factor, backoff_factor, growth_interval):
        self.scale_t = torch.full((1,), init_scale, dtype=torch.float32)
        self.growth_tracker = 0
        self.growth_factor, self.backoff_factor, self.growth_interval = growth_factor, backoff_factor, growth_interval
        self.found_inf = None

    def scale(self, loss):
        return loss * self.scale_t

    def unscale_(self, params):
        inv_scale = self.scale_t.double().reciprocal().float()
        found = torch.zeros(1, dtype=torch.float32)
        for p in params:
            if p.grad is None:
                continue
            if not torch.isfinite(p.grad).all():
                found.fill_(1.0)
            if inv_scale.item() != 1.0:
                p.grad.mul_(inv_scale)
        self.found_inf = found

    def step(self, opt, params):
        if self.found_inf is None:
            self.unscale_(params)
        if self.found_inf.item() == 0:
            opt.step()

    def update(self):
        scale = self.scale_t.item()  # a float32 value, exact in a double
        if self.found_inf.item() != 0:
            self.scale_t.fill_(np.float32(scale * self.backoff_factor))
            self.growth_tracker = 0
        else:
            successful = self.growth_tracker + 1
            if successful == self.growth_interval:
                new_scale = np.float32(scale * self.growth_factor)  # overflows to inf: kept out below
                if np.isfinite(new_scale):
                    self.scale_t.fill_(new_scale)
                self.growth_tracker = 0
            else:
                self.growth_tracker = successful
        self.found_inf = None


def run(steps, scaler_options, cls, options, inject, w0, gen):
    x = torch.randn(steps, 6, generator=gen, dtype=torch.float32)  # (steps, 6)
    for t, v in inject.items():
        x[t - 1, (t * 5) % 6] = v
    w = w0.clone().requires_grad_(True)
    opt = cls([w], **options)
    scaler = Scaler(**scaler_options)
    scales, ws = [], []
    for t in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = (x[t] * w).sum()
        scaler.scale(loss).backward()
        scaler.step(opt, [w])
        scaler.update()
        scales.append(scaler.scale_t.item())
        ws.append(w.detach().double().numpy().copy())
    return x.double().numpy(), np.array(scales), np.stack(ws)


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    w0 = torch.randn(6, generator=gen, dtype=torch.float32)
    save("w0", w0.double().numpy())
    with np.errstate(over="ignore"):
        for name, (steps, scaler_options, cls, options, inject) in CONFIGS.items():
            x, scales, ws = run(steps, scaler_options, cls, options, inject, w0, gen)
            assert np.all(np.isfinite(ws)), name
            save(name + "_x", x)
            save(name + "_scale", scales)
            save(name + "_w", ws)
            print(name, "scale min %g max %g, backoffs %d" % (scales.min(), scales.max(),
                                                              int(np.sum(np.diff(scales) < 0))))


if __name__ == "__main__":
    main()
