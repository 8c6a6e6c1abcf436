#!/usr/bin/python3
"""gen_norm.py — golden data for nabla's layer and RMS normalisation (suite nn), computed by
PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_norm.py
It rewrites test/golden/norm/*.npy. Every name ends in _f32 or _f64. Inputs are saved next to the
results so the C tests compute from exactly the same values. float32 results are computed in
float64 from the float32 inputs and rounded once. torch 1.13 has no rms_norm: it is written out
here as torch.nn.functional.rms_norm (torch 2.4) defines it, eps=None being finfo(dtype).eps.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm")
TAGS = {torch.float32: "f32", torch.float64: "f64"}


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def rms_norm(x, shape, weight, eps):
    dims = tuple(range(-len(shape), 0))
    y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
    return y * weight if weight is not None else y


def grads(f, inputs, gy):
    """f(*inputs) and the gradients of sum(f * gy) for each input (None stays None)."""
    leaves = [v.clone().requires_grad_(True) if v is not None else None for v in inputs]
    y = f(*leaves)
    y.backward(gy)
    return y, [v.grad if v is not None else None for v in leaves]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(4242)

    def randn(*shape, scale=1.0, shift=0.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift

    base = {
        "x2": randn(6, 10, scale=2.0, shift=3.0),  # rows with an offset: the mean matters
        "w10": randn(10, scale=0.5, shift=1.0),
        "b10": randn(10, scale=0.5),
        "gy2": randn(6, 10),
        "x4": randn(2, 3, 4, 5),                  # normalised over the last two dims (4, 5)
        "w45": randn(4, 5, scale=0.5, shift=1.0),
        "b45": randn(4, 5, scale=0.5),
        "gy4": randn(2, 3, 4, 5),
        # a large common offset: a one-pass E[x^2] - E[x]^2 would lose every digit of the variance
        "xoff": randn(3, 64, scale=1e-3, shift=1e4),
        "gyoff": randn(3, 64),
    }
    for dt, k in TAGS.items():
        t = {name: v.to(dt) for name, v in base.items()}
        for name, v in t.items():
            save(f"{name}_{k}", v)
        d = {name: v.double() for name, v in t.items()}  # the same values, computed in float64

        def out(name, v):
            save(f"{name}_{k}", v.to(dt))

        eps_none = torch.finfo(dt).eps
        cases = {
            # name: (function of (x, w, b), inputs, output gradient)
            "ln2": (lambda x, w, b: F.layer_norm(x, (10,), w, b, 1e-5), (d["x2"], d["w10"], d["b10"]), d["gy2"]),
            "ln2_plain": (lambda x: F.layer_norm(x, (10,), None, None, 1e-5), (d["x2"],), d["gy2"]),
            "ln2_w": (lambda x, w: F.layer_norm(x, (10,), w, None, 1e-3), (d["x2"], d["w10"]), d["gy2"]),
            "ln4": (lambda x, w, b: F.layer_norm(x, (4, 5), w, b, 1e-5), (d["x4"], d["w45"], d["b45"]), d["gy4"]),
            "lnoff": (lambda x: F.layer_norm(x, (64,), None, None, 1e-5), (d["xoff"],), d["gyoff"]),
            "rms2": (lambda x, w: rms_norm(x, (10,), w, eps_none), (d["x2"], d["w10"]), d["gy2"]),
            "rms2_plain": (lambda x: rms_norm(x, (10,), None, 1e-6), (d["x2"],), d["gy2"]),
            "rms4": (lambda x, w: rms_norm(x, (4, 5), w, 1e-5), (d["x4"], d["w45"]), d["gy4"]),
        }
        for name, (f, inputs, gy) in cases.items():
            y, gs = grads(f, inputs, gy)
            out(f"{name}_y", y)
            for i, gr in enumerate(gs):
                out(f"{name}_g{i}", gr)


if __name__ == "__main__":
    main()
