#!/usr/bin/python3
"""gen_pool.py — golden data for nabla's 2-D pooling (suite nn: test_pool.c), computed by PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_pool.py
It rewrites test/golden/pool/*.npy. For each case NAME and dtype TAG (f32, f64): NAME_x_TAG (the
input), NAME_gy_TAG (the output's gradient), NAME_y_TAG (the result), NAME_gx_TAG (the input's
gradient) and for max pooling NAME_i (the int64 indices). float32 results are computed in float64
from the float32 inputs and rounded once. The options of each case are repeated in test_pool.c's
table.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pool")


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def mx(k, s=None, p=0, d=1, ceil=False):
    return lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)


def avg(k, s=None, p=0, ceil=False, include=True, div=None):
    return lambda x: F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=include, divisor_override=div)


def adaptive(oh, ow):
    return lambda x: F.adaptive_avg_pool2d(x, (oh, ow))


# name, input shape, the op (the same options as test_pool.c's table)
CASES = [
    ("max_k2", (2, 3, 6, 7), mx(2)),
    ("max_k3s2p1", (2, 3, 7, 6), mx(3, 2, 1)),
    ("max_dil", (1, 2, 9, 8), mx((3, 2), (1, 2), (1, 1), (2, 3))),
    ("max_ceil", (2, 2, 7, 7), mx(3, 2, ceil=True)),
    ("max_ceil_pad", (1, 2, 6, 5), mx((3, 2), 2, 1, ceil=True)),
    ("max_rect", (2, 1, 5, 9), mx((2, 4), (3, 1))),
    ("max_3d", (3, 5, 5), mx(2, 1)),
    ("max_nan", (1, 2, 4, 4), mx(2, 1)),
    ("avg_k2", (2, 3, 6, 7), avg(2)),
    ("avg_k3s2p1", (2, 3, 7, 6), avg(3, 2, 1)),
    ("avg_k3s2p1_ex", (2, 3, 7, 6), avg(3, 2, 1, include=False)),
    ("avg_ceil", (1, 2, 6, 5), avg((3, 2), 2, 1, ceil=True)),
    ("avg_ceil_ex", (1, 2, 6, 5), avg((3, 2), 2, 1, ceil=True, include=False)),
    ("avg_div", (2, 2, 5, 5), avg(3, 2, 1, div=5)),
    ("avg_3d", (3, 5, 4), avg((2, 3), (1, 1))),
    ("adapt_3x4", (2, 3, 5, 7), adaptive(3, 4)),
    ("adapt_up", (1, 2, 3, 2), adaptive(5, 4)),
    ("adapt_1x1", (2, 3, 4, 5), adaptive(1, 1)),
    ("adapt_3d", (3, 7, 5), adaptive(2, 3)),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(2718)
    for name, shape, op in CASES:
        # distinct values (a permutation, scaled): no ties in a window, so the maximum is unique
        n = int(np.prod(shape))
        x64 = (torch.randperm(n, generator=g).to(torch.float64) / n * 4 - 2).reshape(shape)
        x64 = x64 + torch.rand(shape, generator=g, dtype=torch.float64) * (1.0 / n)
        if name == "max_nan":
            x64.view(-1)[[5, 6, 21]] = float("nan")
        for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
            x = x64.to(dtype)
            leaf = x.to(torch.float64).requires_grad_(True)
            r = op(leaf)
            y, idx = r if isinstance(r, tuple) else (r, None)
            gy = torch.randn(y.shape, generator=torch.Generator().manual_seed(n), dtype=torch.float64).to(dtype)
            y.backward(gy.to(torch.float64))
            save(f"{name}_x_{tag}", x)
            save(f"{name}_gy_{tag}", gy)
            save(f"{name}_y_{tag}", y.to(dtype))
            save(f"{name}_gx_{tag}", leaf.grad.to(dtype))
            if idx is not None and tag == "f64":
                save(f"{name}_i", idx)


if __name__ == "__main__":
    main()
