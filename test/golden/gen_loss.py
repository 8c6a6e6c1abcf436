#!/usr/bin/python3
"""gen_loss.py — golden data for nabla's losses with reduction (suite nn): L1, smooth L1, Huber,
binary cross entropy with logits, negative log likelihood and cross entropy with options,
computed by PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_loss.py
It rewrites test/golden/loss/*.npy. Every name ends in _f32 or _f64 (labels: _i64). Inputs are
saved next to the results; float32 results are computed in float64 from the float32 inputs and
rounded once. For each loss NAME: NAME_y (the loss) and NAME_g0, NAME_g1 (the gradients of the
loss, weighted by NAME_gy for reduction none, of the first and second input).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loss")
TAGS = {torch.float32: "f32", torch.float64: "f64"}


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(777)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=torch.float64)

    base = {
        "p": randn(4, 5, scale=2.0),
        "t": randn(4, 5, scale=2.0),
        "tb": randn(5, scale=2.0),   # broadcast over the rows of p
        "gy": randn(4, 5),           # the output gradient of reduction none
        # logits across the range, confident ones included (loss e^-30), and their targets
        "x": torch.tensor([[0.0, 1.5, -2.0, 30.0, -30.0],
                           [100.0, -100.0, 0.25, -0.75, 4.0],
                           [-5.0, 5.0, 12.0, -12.0, 0.5],
                           [2.0, -3.0, 0.0, 7.0, -1.0]], dtype=torch.float64),
        "xt": torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.0],
                            [1.0, 0.0, 0.3, 0.7, 1.0],
                            [0.0, 1.0, 1.0, 0.0, 0.5],
                            [0.2, 0.9, 1.0, 1.0, 0.0]], dtype=torch.float64),
        "bw": rand(5) + 0.5,          # weight, broadcast over rows
        "pw": rand(5) * 3 + 0.25,     # pos_weight per class
    }
    for dt, k in TAGS.items():
        t = {name: v.to(dt) for name, v in base.items()}
        for name, v in t.items():
            save(f"{name}_{k}", v)
        d = {name: v.double() for name, v in t.items()}

        def out(name, v):
            save(f"{name}_{k}", v.to(dt))

        def case(name, f, inputs, reduction):
            leaves = [v.clone().requires_grad_(True) for v in inputs]
            y = f(*leaves, reduction)
            gy = torch.ones(()) if reduction != "none" else d["gy"].expand_as(y)
            y.backward(gy.to(torch.float64))
            out(f"{name}_y", y)
            for i, v in enumerate(leaves):
                out(f"{name}_g{i}", v.grad)

        for red in ("mean", "sum", "none"):
            case(f"l1_{red}", lambda a, b, r: F.l1_loss(a, b, reduction=r), (d["p"], d["t"]), red)
            case(f"sl1_{red}", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=1.0), (d["p"], d["t"]), red)
            case(f"huber_{red}", lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=1.5), (d["p"], d["t"]), red)
            case(f"bce_{red}", lambda a, b, r: F.binary_cross_entropy_with_logits(a, b, reduction=r),
                 (d["x"], d["xt"]), red)
        case("l1_bcast", lambda a, b, r: F.l1_loss(a, b.expand_as(a), reduction=r), (d["p"], d["tb"]), "mean")
        case("sl1_b05", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.5), (d["p"], d["t"]), "sum")
        case("sl1_b0", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.0), (d["p"], d["t"]), "mean")
        case("huber_bcast", lambda a, b, r: F.huber_loss(a, b.expand_as(a), reduction=r, delta=0.5),
             (d["p"], d["tb"]), "mean")
        case("bce_w", lambda a, b, r: F.binary_cross_entropy_with_logits(a, b, weight=d["bw"], reduction=r),
             (d["x"], d["xt"]), "none")
        case("bce_pw", lambda a, b, r: F.binary_cross_entropy_with_logits(a, b, pos_weight=d["pw"], reduction=r),
             (d["x"], d["xt"]), "mean")
        case("bce_wpw", lambda a, b, r: F.binary_cross_entropy_with_logits(a, b, weight=d["bw"],
                                                                           pos_weight=d["pw"], reduction=r),
             (d["x"], d["xt"]), "sum")

    # cross entropy and nll with options: labels, some ignored (-100), saved once
    labels = {
        "lab": torch.tensor([1, 0, 4, 2, 2, 3], dtype=torch.int64),
        "lab_ign": torch.tensor([1, -100, 4, 2, -100, 3], dtype=torch.int64),
        "lab_sp": torch.tensor([[[0, 3], [1, -100], [2, 2]], [[3, 3], [-100, 0], [1, 2]]], dtype=torch.int64),
        "lab_1d": torch.tensor(3, dtype=torch.int64),
    }
    for name, v in labels.items():
        save(f"{name}_i64", v)
    gx = torch.Generator().manual_seed(99)
    xbase = {
        "ce_x": torch.randn(6, 5, generator=gx, dtype=torch.float64) * 2,
        "ce_xsp": torch.randn(2, 4, 3, 2, generator=gx, dtype=torch.float64) * 2,
        "ce_x1": torch.randn(5, generator=gx, dtype=torch.float64) * 2,
        "cw": torch.rand(5, generator=gx, dtype=torch.float64) + 0.5,
        "cw4": torch.rand(4, generator=gx, dtype=torch.float64) + 0.5,
        "gy6": torch.randn(6, generator=gx, dtype=torch.float64),
        "gysp": torch.randn(2, 3, 2, generator=gx, dtype=torch.float64),
    }
    for dt, k in TAGS.items():
        t = {name: v.to(dt) for name, v in xbase.items()}
        t["lp"] = torch.log_softmax(t["ce_x"].double(), 1).to(dt)      # log-probabilities for nll
        t["lpsp"] = torch.log_softmax(t["ce_xsp"].double(), 1).to(dt)
        for name, v in t.items():
            save(f"{name}_{k}", v)
        d = {name: v.double() for name, v in t.items()}

        def xcase(name, f, x, red, gy=None):
            leaf = x.clone().requires_grad_(True)
            y = f(leaf, red)
            y.backward(gy if red == "none" else torch.ones((), dtype=torch.float64))
            save(f"{name}_y_{k}", y.to(dt))
            save(f"{name}_g0_{k}", leaf.grad.to(dt))

        L = labels
        for red in ("mean", "sum", "none"):
            xcase(f"ce_{red}", lambda x, r: F.cross_entropy(x, L["lab"], reduction=r), d["ce_x"], red, d["gy6"])
            xcase(f"ce_ign_{red}", lambda x, r: F.cross_entropy(x, L["lab_ign"], reduction=r), d["ce_x"], red, d["gy6"])
            xcase(f"ce_w_{red}", lambda x, r: F.cross_entropy(x, L["lab_ign"], weight=d["cw"], reduction=r),
                  d["ce_x"], red, d["gy6"])
            xcase(f"ce_ls_{red}", lambda x, r: F.cross_entropy(x, L["lab_ign"], weight=d["cw"], reduction=r,
                                                               label_smoothing=0.1), d["ce_x"], red, d["gy6"])
            xcase(f"ce_sp_{red}", lambda x, r: F.cross_entropy(x, L["lab_sp"], weight=d["cw4"], reduction=r,
                                                               label_smoothing=0.05), d["ce_xsp"], red, d["gysp"])
            xcase(f"nll_{red}", lambda x, r: F.nll_loss(x, L["lab_ign"], weight=d["cw"], reduction=r),
                  d["lp"], red, d["gy6"])
            xcase(f"nll_sp_{red}", lambda x, r: F.nll_loss(x, L["lab_sp"], reduction=r), d["lpsp"], red, d["gysp"])
        xcase("ce_ls_plain", lambda x, r: F.cross_entropy(x, L["lab"], reduction=r, label_smoothing=0.3),
              d["ce_x"], "mean")
        xcase("ce_ii2", lambda x, r: F.cross_entropy(x, L["lab"], reduction=r, ignore_index=2), d["ce_x"], "sum")
        xcase("ce_1d", lambda x, r: F.cross_entropy(x, L["lab_1d"], weight=d["cw"], reduction=r), d["ce_x1"], "mean")


if __name__ == "__main__":
    main()
