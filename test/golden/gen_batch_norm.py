#!/usr/bin/python3
"""gen_batch_norm.py — golden data for nabla's batch normalisation (suite nn), computed by
PyTorch's torch.nn.functional.batch_norm.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_batch_norm.py
It rewrites test/golden/batch_norm/*.npy. Every name ends in _f32 or _f64. Inputs are saved next
to the results so the C tests compute from exactly the same values. float32 results are computed
in float64 from the float32 inputs and rounded once.

Cases (NAME_y the output, NAME_g0.. the gradients of sum(y * gy) for x, weight, bias as given;
NAME_rm, NAME_rv the running statistics after the call, from rm0 and rv0):
  t2, t2_plain       training on x2 (N, C) = (8, 5), with and without weight and bias
  t4, t4_plain, t4_w training on x4 (N, C, H, W) = (3, 4, 5, 6)
  e2, e4, e4_plain   eval with the running statistics rm0/rv0
  toff               training on values with a large common offset
  steps              steps of training over x4 then x4 * 2 + 1 then x4 - 3 (momentum 0.3),
                     the running statistics after each (steps_rm1.., steps_rv1..)
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batch_norm")
TAGS = {torch.float32: "f32", torch.float64: "f64"}


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(2718)

    def randn(*shape, scale=1.0, shift=0.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift

    base = {
        "x2": randn(8, 5, scale=2.0, shift=3.0),
        "w5": randn(5, scale=0.5, shift=1.0),
        "b5": randn(5, scale=0.5),
        "gy2": randn(8, 5),
        "rm5": randn(5, scale=0.5),
        "rv5": randn(5).abs() + 0.5,
        "x4": randn(3, 4, 5, 6, scale=1.5, shift=-1.0),
        "w4": randn(4, scale=0.5, shift=1.0),
        "b4": randn(4, scale=0.5),
        "gy4": randn(3, 4, 5, 6),
        "rm4": randn(4, scale=0.5),
        "rv4": randn(4).abs() + 0.5,
        # a large common offset: a one-pass E[x^2] - E[x]^2 would lose every digit of the variance
        "xoff": randn(16, 3, 8, scale=1e-2, shift=1e4),
        "gyoff": randn(16, 3, 8),
    }

    for dtype, tag in TAGS.items():
        # inputs rounded to the dtype first; results computed in float64 from them
        v = {k: t.to(dtype).to(torch.float64) for k, t in base.items()}
        for k, t in v.items():
            save(f"{k}_{tag}", t.to(dtype))

        def case(name, x, w, b, gy, training, rm, rv, momentum=0.1, eps=1e-5):
            rmr = rm.clone() if rm is not None else None
            rvr = rv.clone() if rv is not None else None
            leaves = [t.clone().requires_grad_(True) if t is not None else None for t in (x, w, b)]
            y = F.batch_norm(leaves[0], rmr, rvr, leaves[1], leaves[2], training, momentum, eps)
            y.backward(gy)
            save(f"{name}_y_{tag}", y.to(dtype))
            i = 0
            for t in leaves:
                if t is None:
                    continue
                save(f"{name}_g{i}_{tag}", t.grad.to(dtype))
                i += 1
            if rmr is not None:
                save(f"{name}_rm_{tag}", rmr.to(dtype))
                save(f"{name}_rv_{tag}", rvr.to(dtype))

        case("t2", v["x2"], v["w5"], v["b5"], v["gy2"], True, v["rm5"], v["rv5"])
        case("t2_plain", v["x2"], None, None, v["gy2"], True, None, None)
        case("t4", v["x4"], v["w4"], v["b4"], v["gy4"], True, v["rm4"], v["rv4"])
        case("t4_plain", v["x4"], None, None, v["gy4"], True, v["rm4"], v["rv4"], 0.25, 1e-3)
        case("t4_w", v["x4"], v["w4"], None, v["gy4"], True, None, None)
        case("e2", v["x2"], v["w5"], v["b5"], v["gy2"], False, v["rm5"], v["rv5"])
        case("e4", v["x4"], v["w4"], v["b4"], v["gy4"], False, v["rm4"], v["rv4"])
        case("e4_plain", v["x4"], None, None, v["gy4"], False, v["rm4"], v["rv4"], 0.1, 1e-3)
        case("toff", v["xoff"], None, None, v["gyoff"], True, None, None)

        # several training steps: the running statistics after each
        rm, rv = v["rm4"].clone(), v["rv4"].clone()
        for step, x in enumerate((v["x4"], v["x4"] * 2 + 1, v["x4"] - 3), start=1):
            y = F.batch_norm(x, rm, rv, v["w4"], v["b4"], True, 0.3, 1e-5)
            save(f"steps_y{step}_{tag}", y.to(dtype))
            save(f"steps_rm{step}_{tag}", rm.to(dtype))
            save(f"steps_rv{step}_{tag}", rv.to(dtype))


if __name__ == "__main__":
    main()
