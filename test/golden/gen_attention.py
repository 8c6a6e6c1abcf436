#!/usr/bin/python3
"""gen_attention.py — golden data for nabla's scaled dot-product attention (suite nn:
test_attention.c), computed by PyTorch 1.13 as the explicit composition in float64:

    softmax(q @ k.transpose(-2, -1) * scale + mask) @ v

(a bool mask is True where a key takes part, -inf elsewhere; is_causal is the mask
tril(ones(L, S))). Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_attention.py
It rewrites test/golden/attention/*.npy. For each case NAME and dtype TAG (f32, f64): NAME_q_TAG,
NAME_k_TAG, NAME_v_TAG (the inputs), NAME_g_TAG (the output's gradient), NAME_out_TAG (the
result) and NAME_dq_TAG, NAME_dk_TAG, NAME_dv_TAG (the inputs' gradients, summed over broadcast
batch dims); NAME_mask (bool) or NAME_mask_TAG (additive) where the case has a mask. float32
results are computed in float64 from the float32 inputs and rounded once. The options of each case
are repeated in test_attention.c's table.
"""
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention")


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def sdpa(q, k, v, mask=None, causal=False, scale=None):
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    x = q @ k.transpose(-2, -1) * scale
    if causal:
        mask = torch.ones(L, S, dtype=torch.bool).tril()
    if mask is not None:
        if mask.dtype == torch.bool:
            x = x.masked_fill(~mask, float("-inf"))
        else:
            x = x + mask
    return torch.softmax(x, dim=-1) @ v


# name, q, k, v shapes, mask: None, ("bool", shape) or ("add", shape), causal, scale
CASES = [
    ("plain", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 3), None, False, None),
    ("causal", (2, 2, 5, 8), (2, 2, 7, 8), (2, 2, 7, 5), None, True, None),
    ("causal_long", (1, 2, 7, 4), (1, 2, 5, 4), (1, 2, 5, 4), None, True, None),
    ("bool_mask", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), ("bool", (5, 6)), False, None),
    ("bool_mask_batch", (2, 3, 4, 4), (2, 3, 6, 4), (2, 3, 6, 2), ("bool", (2, 1, 4, 6)), False, None),
    ("add_mask", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), ("add", (3, 1, 6)), False, None),
    ("broadcast", (2, 3, 5, 4), (3, 6, 4), (1, 1, 6, 3), None, False, None),
    ("scale", (4, 5, 6), (4, 7, 6), (4, 7, 6), None, False, 0.3),
    ("matrix", (5, 4), (6, 4), (6, 7), None, False, None),
    ("long", (1, 2, 150, 16), (1, 2, 130, 16), (1, 2, 130, 8), None, False, None),
    ("long_causal", (1, 1, 140, 8), (1, 1, 140, 8), (1, 1, 140, 8), None, True, None),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20261204)
    for name, qs, ks, vs, mask_spec, causal, scale in CASES:
        q64 = torch.randn(qs, generator=gen, dtype=torch.float64)
        k64 = torch.randn(ks, generator=gen, dtype=torch.float64)
        v64 = torch.randn(vs, generator=gen, dtype=torch.float64)
        mask64 = None
        if mask_spec is not None:
            kind, mshape = mask_spec
            if kind == "bool":
                mask64 = torch.rand(mshape, generator=gen) < 0.6
                mask64[..., 0] = True  # every row keeps a key
                save(name + "_mask", mask64)
            else:
                mask64 = torch.randn(mshape, generator=gen, dtype=torch.float64)
        out_shape = sdpa(q64, k64, v64, mask64, causal, scale).shape
        g64 = torch.randn(out_shape, generator=gen, dtype=torch.float64)
        for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
            # the inputs rounded to dtype, the math in float64
            q, k, v, g = (t.to(dtype).to(torch.float64) for t in (q64, k64, v64, g64))
            m = mask64 if mask64 is None or mask64.dtype == torch.bool else mask64.to(dtype).to(torch.float64)
            q.requires_grad_(True), k.requires_grad_(True), v.requires_grad_(True)
            out = sdpa(q, k, v, m, causal, scale)
            out.backward(g)
            for part, t in (("q", q), ("k", k), ("v", v), ("g", g)):
                save(f"{name}_{part}_{tag}", t.detach().to(dtype))
            if m is not None and m.dtype != torch.bool:
                save(f"{name}_mask_{tag}", m.to(dtype))
            save(f"{name}_out_{tag}", out.detach().to(dtype))
            save(f"{name}_dq_{tag}", q.grad.to(dtype))
            save(f"{name}_dk_{tag}", k.grad.to(dtype))
            save(f"{name}_dv_{tag}", v.grad.to(dtype))


if __name__ == "__main__":
    main()
