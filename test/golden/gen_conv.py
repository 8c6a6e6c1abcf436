#!/usr/bin/python3
"""gen_conv.py — golden data for nabla's convolutions (suite conv), computed by PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_conv.py
It rewrites test/golden/conv/*.npy. For each case NAME and dtype tag (f32, f64) it writes the
inputs NAME_x, NAME_w, NAME_b (when the case has a bias) and NAME_gy, the output NAME_y and the
gradients of sum(y * gy): NAME_gx, NAME_gw, NAME_gb. NAME_opts (int64, no tag) holds the case's op
and options: [op (0 conv2d, 1 conv1d, 2 conv_transpose2d), stride h, w, padding h, w, dilation h,
w, groups, padding rule (0 explicit, 1 valid, 2 same), output_padding h, w, has bias]; conv1d's
are in the w slots. float32 results are computed in float64 from the float32 inputs and rounded
once.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv")
CONV2D, CONV1D, TRANSPOSE2D = 0, 1, 2
EXPLICIT, VALID, SAME = 0, 1, 2

# name: (op, x shape, weight shape, bias, options)
CASES = {
    "c2_basic": (CONV2D, (2, 3, 7, 6), (4, 3, 3, 3), True, {}),
    "c2_stride_pad": (CONV2D, (2, 3, 9, 8), (5, 3, 3, 2), True, {"stride": (2, 3), "padding": (1, 2)}),
    "c2_dilation": (CONV2D, (1, 2, 10, 9), (3, 2, 3, 3), False, {"stride": (1, 2), "padding": (2, 0), "dilation": (2, 1)}),
    "c2_groups": (CONV2D, (2, 6, 7, 7), (9, 2, 3, 3), True, {"padding": (1, 1), "groups": 3}),
    "c2_depthwise": (CONV2D, (2, 4, 8, 8), (8, 1, 3, 3), True, {"stride": (2, 2), "padding": (1, 1), "groups": 4}),
    "c2_same_even": (CONV2D, (2, 3, 6, 7), (4, 3, 4, 2), False, {"padding": "same", "dilation": (1, 2)}),
    "c2_valid": (CONV2D, (1, 3, 5, 5), (2, 3, 5, 3), True, {"padding": "valid"}),
    "c2_1x1": (CONV2D, (2, 5, 4, 3), (6, 5, 1, 1), True, {}),
    "c2_1x1_stride": (CONV2D, (2, 3, 5, 5), (4, 3, 1, 1), False, {"stride": (2, 2)}),
    "c2_empty": (CONV2D, (0, 3, 5, 5), (4, 3, 3, 3), True, {"padding": (1, 1)}),
    "c2_unbatched": (CONV2D, (3, 6, 5), (2, 3, 3, 3), True, {"stride": (2, 1)}),
    "c1_basic": (CONV1D, (2, 3, 11), (4, 3, 3), True, {"stride": (2,), "padding": (1,)}),
    "c1_same": (CONV1D, (2, 4, 9), (6, 2, 4), False, {"padding": "same", "dilation": (2,), "groups": 2}),
    "t2_basic": (TRANSPOSE2D, (2, 3, 4, 5), (3, 4, 3, 3), True, {}),
    "t2_stride": (TRANSPOSE2D, (2, 4, 3, 4), (4, 3, 3, 2), True,
                  {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)}),
    "t2_groups_dilation": (TRANSPOSE2D, (1, 6, 4, 4), (6, 2, 3, 3), True,
                           {"stride": (2, 2), "padding": (1, 1), "output_padding": (1, 0), "groups": 3, "dilation": (2, 2)}),
    "t2_depthwise": (TRANSPOSE2D, (2, 4, 5, 5), (4, 1, 3, 3), False, {"groups": 4}),
    # 3x3, stride 1, 16 or more channels: the CPU's Winograd path (forward; the input's gradient
    # where the padding is at most 2)
    "c2_winograd": (CONV2D, (3, 16, 9, 7), (20, 16, 3, 3), True, {"padding": (1, 1)}),
    "c2_winograd_pad2": (CONV2D, (2, 17, 6, 8), (16, 17, 3, 3), False, {"padding": (2, 0)}),
    "c2_winograd_pad3": (CONV2D, (1, 16, 5, 5), (16, 16, 3, 3), True, {"padding": (3, 3)}),
}


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def run(op, x, w, b, o):
    if op == CONV2D:
        return F.conv2d(x, w, b, stride=o.get("stride", 1), padding=o.get("padding", 0),
                        dilation=o.get("dilation", 1), groups=o.get("groups", 1))
    if op == CONV1D:
        return F.conv1d(x, w, b, stride=o.get("stride", 1), padding=o.get("padding", 0),
                        dilation=o.get("dilation", 1), groups=o.get("groups", 1))
    return F.conv_transpose2d(x, w, b, stride=o.get("stride", 1), padding=o.get("padding", 0),
                              output_padding=o.get("output_padding", 0), groups=o.get("groups", 1),
                              dilation=o.get("dilation", 1))


def options_row(op, o, bias):
    def pair(key, default):
        v = o.get(key, default)
        if isinstance(v, str):
            return (0, 0)
        v = tuple(v) if isinstance(v, tuple) else (v,)
        return (default, v[0]) if len(v) == 1 else v

    pad = o.get("padding", 0)
    rule = {"valid": VALID, "same": SAME}.get(pad, EXPLICIT) if isinstance(pad, str) else EXPLICIT
    return np.array([op, *pair("stride", 1), *pair("padding", 0), *pair("dilation", 1), o.get("groups", 1), rule,
                     *pair("output_padding", 0), int(bias)], dtype=np.int64)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(2718)
    for name, (op, xs, ws, has_bias, o) in CASES.items():
        x = torch.randn(*xs, generator=g, dtype=torch.float64)
        w = torch.randn(*ws, generator=g, dtype=torch.float64) * 0.5
        out_ch = ws[1] * o.get("groups", 1) if op == TRANSPOSE2D else ws[0]
        b = torch.randn(out_ch, generator=g, dtype=torch.float64) if has_bias else None
        gy = torch.randn(*run(op, x, w, b, o).shape, generator=g, dtype=torch.float64)
        np.save(os.path.join(OUT, name + "_opts.npy"), options_row(op, o, has_bias))
        for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
            # inputs rounded to the dtype, the results computed in float64 from them
            ins = [v.to(dtype).to(torch.float64) if v is not None else None for v in (x, w, b, gy)]
            leaves = [v.clone().requires_grad_(True) if v is not None else None for v in ins[:3]]
            y = run(op, *leaves, o)
            y.backward(ins[3])
            for key, v in (("x", ins[0]), ("w", ins[1]), ("b", ins[2]), ("gy", ins[3]), ("y", y),
                           ("gx", leaves[0].grad), ("gw", leaves[1].grad),
                           ("gb", leaves[2].grad if has_bias else None)):
                if v is not None:
                    save(f"{name}_{key}_{tag}", v.to(dtype))


if __name__ == "__main__":
    main()
