#!/usr/bin/python3
"""gen_reduce.py — golden data for nabla's reductions (suite reduce), computed by PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_reduce.py
It rewrites test/golden/reduce/*.npy:
    DT_ND                  the input: DT is f32, f64, i64 or b8; ND is 1d..4d, shapes in SHAPES
    DT_OP_all              the whole-tensor reductions of the four inputs of DT, stacked: (4,)
                           in float64 (sums of small values and indices are exact in it)
    DT_ND_OP_dimD          OP along dim D (0 <= D < N) with keepdim=True, in PyTorch's dtype
OP is sum, mean (floating inputs only), max, min, argmax, argmin. The int64 inputs are small
integers so ties are common: argmax/argmin must give the first of them. PyTorch 1.13 has no
argmax/argmin for bool; for those the input is widened to int64 first (the same answer).
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reduce")
SHAPES = {1: (7,), 2: (4, 5), 3: (2, 3, 4), 4: (2, 3, 2, 3)}
TAGS = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64", torch.bool: "b8"}


def save(name, t):
    t = torch.as_tensor(t)
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def make_input(dt, shape, g):
    if dt == torch.int64:
        return torch.randint(-4, 5, shape, generator=g)
    if dt == torch.bool:
        x = torch.rand(shape, generator=g) < 0.5
        x.view(-1)[0], x.view(-1)[2] = False, True  # both values, the first True not first
        return x
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dt)


def ops_for(dt):
    ops = ["sum", "max", "min", "argmax", "argmin"]
    return ops[:1] + ["mean"] + ops[1:] if dt.is_floating_point else ops


def whole(op, x):
    if op in ("argmax", "argmin") and x.dtype == torch.bool:
        x = x.long()
    return getattr(torch, op)(x)


def along(op, x, d):
    if op in ("max", "min"):
        return getattr(torch, op)(x, d, keepdim=True).values
    if op in ("argmax", "argmin") and x.dtype == torch.bool:
        x = x.long()
    return getattr(torch, op)(x, d, keepdim=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(20240607)
    for dt, tag in TAGS.items():
        inputs = {n: make_input(dt, shape, g) for n, shape in SHAPES.items()}
        for n, x in inputs.items():
            save(f"{tag}_{n}d", x)
            for op in ops_for(dt):
                for d in range(n):
                    save(f"{tag}_{n}d_{op}_dim{d}", along(op, x, d))
        for op in ops_for(dt):
            save(f"{tag}_{op}_all", torch.stack([whole(op, inputs[n]).double() for n in SHAPES]))


if __name__ == "__main__":
    main()
