#!/usr/bin/python3
"""gen_optim_half.py — golden data for the optimizers on float16 and bfloat16 parameters
(test/test_optim_half.c, suite optim_half), from PyTorch 1.13 on the CPU.

The problem: a (4, 6) parameter p0 (draws of seed 11, rounded to the dtype) stepped STEPS times,
step t with the fixed gradient g[t - 1] (seed 12, also rounded), by each optimizer of CONFIGS.

nabla's rule for a half parameter: each element is computed in float32, op for op as the float32
update (torch's float32 _single_tensor_sgd / _single_tensor_adam), and the stored results (p and
the state: momentum_buffer, exp_avg, exp_avg_sq, all of the parameter's dtype) are rounded once
each, to nearest even. rule_NAME_DT.npy restates that rule here in NumPy float32, op for op (no
fused multiply-adds), so nabla is held to it bit for bit: (STEPS, 3, 4, 6) float32, row t - 1
holding p, slot 0 and slot 1 (SGD: the momentum buffer and zeros; Adam: exp_avg, exp_avg_sq)
after step t.

PyTorch 1.13's CPU optimizers step a half parameter op by op in its dtype (mul_, add_, addcmul_,
sqrt, div, addcdiv_, each result rounded to the dtype), so they round up to six times per
element and step: torch_NAME_DT.npy (STEPS, 4, 6) is that trajectory of p, which nabla follows to
a tolerance measured here (printed; test_optim_half.c states it). PyTorch 1.13 cannot step a
float16 Adam or AdamW on the CPU ("addcmul_cpu_out" not implemented for 'Half'): those have the
rule's data only.

Clipping: three gradients (5, 3), (7,) and (0,) of seed 13 times 2, rounded to the dtype, clipped
with max_norm 1 by each norm type of CLIPS under nabla's rule (the norm from the exact values in
float64; each gradient multiplied by float32(min(1, max_norm / (norm + 1e-6))) in float32 and
rounded once): clip_K_DT.npy is [norm (float64), the 22 values after]. torch_clip_K_DT.npy is
torch.nn.utils.clip_grad_norm_'s result on the half gradients (norm and values), which computes
the norm, the coefficient and the product in the dtype.

Writes test/golden/optim_half/. Run with Debian's Python: /usr/bin/python3 test/golden/gen_optim_half.py
"""
import math
import os

import numpy as np
import torch

STEPS = 10
SHAPE = (4, 6)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_half")

CONFIGS = {
    "sgd_nesterov": ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd_dampening": ("sgd", dict(lr=0.05, momentum=0.8, dampening=0.25, weight_decay=0.02)),
    "adam": ("adam", dict(lr=0.01, weight_decay=0.01)),
    "adamw": ("adamw", dict(lr=0.01, weight_decay=0.01)),
}
CLIPS = [2.0, 1.0, math.inf, 3.0]
DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}
EPS = {"f16": 2.0 ** -10, "bf16": 2.0 ** -7}  # the dtype's ulp at 1.0
F = np.float32


def rounded(a, dt):
    """float32 array a rounded to dt (to nearest even) and back, exactly."""
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dt).float().numpy()


def rule_sgd(p, g, buf, first, o, dt):
    """One step of nabla's half SGD: float32 op for op, p and buf rounded once."""
    wd, mom = o.get("weight_decay", 0.0), o.get("momentum", 0.0)
    d = g
    if wd != 0:
        d = d + F(wd) * p
    if mom != 0:
        if first:
            b = d
        else:
            b = buf * F(mom)
            b = b + F(1 - o.get("dampening", 0.0)) * d
        buf = rounded(b, dt)
        d = d + F(mom) * b if o.get("nesterov", False) else b
    return rounded(p + F(-o["lr"]) * d, dt), buf


def rule_adam(p, g, m, v, t, o, decoupled, dt):
    """One step of nabla's half Adam/AdamW (kernels/optim_adam_typed.h): float32 op for op."""
    lr, wd, b1, b2, eps = o["lr"], o.get("weight_decay", 0.0), 0.9, 0.999, 1e-8
    step_size = lr / (1 - b1 ** float(t))
    bc2s = math.sqrt(1 - b2 ** float(t))
    if wd != 0:
        if decoupled:
            p = p * F(1 - lr * wd)
        else:
            g = g + F(wd) * p
    m = m * F(b1)
    m = m + F(1 - b1) * g
    gg = g * g
    v = v * F(b2)
    v = v + F(1 - b2) * gg
    d = np.sqrt(v)
    d = d / F(bc2s)
    d = d + F(eps)
    d = m / d
    p = p + F(-step_size) * d
    return rounded(p, dt), rounded(m, dt), rounded(v, dt)


def rule_trajectory(kind, o, p0, grads, dt):
    p = p0.copy()
    s0, s1 = np.zeros(SHAPE, F), np.zeros(SHAPE, F)
    out = np.zeros((STEPS, 3) + SHAPE, F)
    for t in range(1, STEPS + 1):
        g = grads[t - 1]
        if kind == "sgd":
            p, s0 = rule_sgd(p, g, s0, t == 1, o, dt)
        else:
            p, s0, s1 = rule_adam(p, g, s0, s1, t, o, kind == "adamw", dt)
        for a in (p, s0, s1):
            assert a.dtype == F
        out[t - 1] = (p, s0, s1)
    return out


def torch_trajectory(kind, o, p0, grads, dt):
    p = torch.from_numpy(p0).to(dt).requires_grad_()
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    opt = make([p], **o)
    out = np.zeros((STEPS,) + SHAPE, F)
    for t in range(STEPS):
        p.grad = torch.from_numpy(grads[t]).to(dt)
        opt.step()
        out[t] = p.detach().float().numpy()
    return out


def ulps(a, b, dt):
    """The largest distance between a and b (values of dt) in units in the last place of dt."""
    bits = lambda x: torch.from_numpy(x).to(dt).view(torch.int16).numpy().astype(np.int64)
    order = lambda k: np.where(k < 0, -(k & 0x7FFF), k)
    return int(np.max(np.abs(order(bits(a)) - order(bits(b)))))


def save(name, a, dtype=np.float32):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a, dtype=dtype))


def clip_rule(grads, max_norm, p, dt):
    flat = np.concatenate([g.ravel().astype(np.float64) for g in grads])
    if math.isinf(p):
        norm = float(np.max(np.abs(flat))) if flat.size else 0.0
    else:
        norm = float(np.sum(np.abs(flat) ** p)) ** (1.0 / p)
    coef = min(1.0, max_norm / (norm + 1e-6))
    after = [rounded(g * F(coef), dt) if coef < 1 else g for g in grads]
    return norm, np.concatenate([a.ravel() for a in after])


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(11)
    p0 = torch.randn(SHAPE).numpy()
    torch.manual_seed(12)
    grads = (torch.randn((STEPS,) + SHAPE) * 0.5).numpy()
    torch.manual_seed(13)
    clip_grads = [(torch.randn(s) * 2).numpy() for s in [(5, 3), (7,), (0,)]]
    for dn, dt in DTYPES.items():
        p0d = rounded(p0, dt)
        gd = rounded(grads, dt)
        save(f"p0_{dn}", p0d)
        save(f"g_{dn}", gd)
        for name, (kind, o) in CONFIGS.items():
            rule = rule_trajectory(kind, o, p0d, gd, dt)
            save(f"rule_{name}_{dn}", rule)
            try:
                got = torch_trajectory(kind, o, p0d, gd, dt)
            except RuntimeError as e:
                print(f"{name} {dn}: PyTorch cannot step it on the CPU ({e}); the rule's data only")
                continue
            save(f"torch_{name}_{dn}", got)
            diff = np.abs(got - rule[:, 0])
            print(f"{name} {dn}: PyTorch's p vs the rule's: at most {diff.max():.3g} apart "
                  f"({diff.max() / EPS[dn]:.3g} ulps of 1.0; step 1: {ulps(got[0], rule[0, 0], dt)} ulps)")
        cg = [rounded(g, dt) for g in clip_grads]
        save(f"clip_grads_{dn}", np.concatenate([g.ravel() for g in cg]))
        for k, p in enumerate(CLIPS):
            norm, after = clip_rule(cg, 1.0, p, dt)
            save(f"clip_{k}_{dn}", np.concatenate([[norm], after]), np.float64)
            tg = [torch.from_numpy(g).to(dt) for g in cg]
            params = [torch.zeros(g.shape, dtype=dt, requires_grad=True) for g in tg]
            for q, g in zip(params, tg):
                q.grad = g
            try:
                tn = torch.nn.utils.clip_grad_norm_([q for q in params if q.numel()] if math.isinf(p) else params,
                                                    1.0, p)
            except RuntimeError as e:
                if k == 0:
                    print(f"clip {dn}: PyTorch cannot clip it on the CPU ({e}); the rule's data only")
                continue
            tafter = np.concatenate([q.grad.float().numpy().ravel() for q in params])
            save(f"torch_clip_{k}_{dn}", np.concatenate([[tn.float().item()], tafter]), np.float64)
            print(f"clip {p} {dn}: norm {norm:.6g} (PyTorch {tn.float().item():.6g}), gradients at most "
                  f"{np.abs(tafter - after).max():.3g} from PyTorch's ({ulps(tafter.astype(F), after.astype(F), dt)} ulps)")


if __name__ == "__main__":
    main()
