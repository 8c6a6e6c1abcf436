#!/usr/bin/python3
"""gen_nn.py — golden data for nabla's layers, activations and losses (suite nn), computed by
PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_nn.py
It rewrites test/golden/nn/*.npy. Every name ends in _f32 or _f64 (labels: _i64). Inputs are
saved next to the results so the C tests compute from exactly the same values. float32 results
are computed by PyTorch in float64 from the float32 inputs and rounded once, so the tolerance in
the tests measures nabla's rounding only, not PyTorch's.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn")
TAGS = {torch.float32: "f32", torch.float64: "f64"}


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(2024)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    labels = torch.tensor([2, 0, 4, 4, 1, 3, 0, 2], dtype=torch.int64)  # for logits (8, 5)
    save("labels_i64", labels)
    base = {
        "lin_x": randn(6, 7),          # nn.Linear(7, 4) on a batch of 6
        "lin_w": randn(4, 7, scale=0.3),
        "lin_b": randn(4, scale=0.3),
        "lin_x3": randn(2, 3, 7),      # a batched (2, 3, 7) input
        "sm2": randn(4, 6, scale=3.0),  # softmax along dims 0, 1, -1
        "sm3": randn(2, 3, 5, scale=2.0),  # along dim 1: elements 5 apart
        # values whose naive exp overflows (float32 and float64 alike) or underflows to 0
        "big": torch.tensor([[1000.0, 0.0, -1000.0, 999.0],
                             [-1000.0, -1001.0, -999.5, -1000.0],
                             [800.0, 800.0, 800.0, 800.0]], dtype=torch.float64),
        "logits": randn(8, 5, scale=2.0),
        # confident rows: a probability near 1 (its gradient p - 1 is small) and huge logits
        "logits_big": torch.tensor([[30.0, 0.0, -5.0, 1.0, 2.0],
                                    [1000.0, -1000.0, 0.0, 500.0, 999.0],
                                    [-800.0, -801.0, -799.0, -800.0, -800.0]], dtype=torch.float64),
        "mse_p": randn(3, 4),
        "mse_t": randn(3, 4),
        "mse_tb": randn(4),            # broadcast over the rows of mse_p
    }
    big_labels = torch.tensor([0, 4, 2], dtype=torch.int64)
    save("labels_big_i64", big_labels)

    for dt, k in TAGS.items():
        t = {name: v.to(dt) for name, v in base.items()}
        for name, v in t.items():
            save(f"{name}_{k}", v)
        d = {name: v.double() for name, v in t.items()}  # the same values, computed in float64

        def out(name, v):
            save(f"{name}_{k}", v.to(dt))

        out("lin_y", F.linear(d["lin_x"], d["lin_w"], d["lin_b"]))
        out("lin_y_nobias", F.linear(d["lin_x"], d["lin_w"]))
        out("lin_y3", F.linear(d["lin_x3"], d["lin_w"], d["lin_b"]))

        out("softmax_sm2_d0", torch.softmax(d["sm2"], 0))
        out("softmax_sm2_d1", torch.softmax(d["sm2"], 1))
        out("softmax_sm3_d1", torch.softmax(d["sm3"], 1))
        out("softmax_sm3_d2", torch.softmax(d["sm3"], -1))
        out("softmax_big_d1", torch.softmax(d["big"], 1))
        out("softmax_big_d0", torch.softmax(d["big"], 0))
        out("log_softmax_sm2_d0", torch.log_softmax(d["sm2"], 0))
        out("log_softmax_sm2_d1", torch.log_softmax(d["sm2"], 1))
        out("log_softmax_sm3_d1", torch.log_softmax(d["sm3"], 1))
        out("log_softmax_sm3_d2", torch.log_softmax(d["sm3"], -1))
        out("log_softmax_big_d1", torch.log_softmax(d["big"], 1))
        out("log_softmax_big_d0", torch.log_softmax(d["big"], 0))

        # gradients of sum(softmax(x) * w) for a fixed weighting w (the "sm2" tensor reversed)
        w = d["sm2"].flip(0).flip(1)
        out("sm2_w", w)
        for fn, name in ((torch.softmax, "softmax"), (torch.log_softmax, "log_softmax")):
            for dim in (0, 1):
                x = d["sm2"].clone().requires_grad_(True)
                (fn(x, dim) * w).sum().backward()
                out(f"{name}_grad_sm2_d{dim}", x.grad)

        for lg, lb, name in (("logits", labels, "ce"), ("logits_big", big_labels, "ce_big")):
            x = d[lg].clone().requires_grad_(True)
            loss = F.cross_entropy(x, lb)
            loss.backward()
            out(f"{name}_loss", loss)
            out(f"{name}_grad", x.grad)

        for tg, name in (("mse_t", "mse"), ("mse_tb", "mse_b")):
            p = d["mse_p"].clone().requires_grad_(True)
            q = d[tg].clone().requires_grad_(True)
            loss = F.mse_loss(p, q.expand_as(p))
            loss.backward()
            out(f"{name}_loss", loss)
            out(f"{name}_grad_pred", p.grad)
            out(f"{name}_grad_target", q.grad)


if __name__ == "__main__":
    main()
