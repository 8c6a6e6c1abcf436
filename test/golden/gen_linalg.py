#!/usr/bin/python3
"""gen_linalg.py — golden data for nabla's matrix-product tests (suite linalg), computed by
PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_linalg.py
It rewrites test/golden/linalg/*.npy. Every name ends in _f32 or _f64. Inputs are saved next to
the results so the C tests multiply exactly the same values. float32 results are computed by
PyTorch in float64 from the float32 inputs and rounded once, so the tolerance in the tests
measures nabla's rounding only, not PyTorch's.
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linalg")
TAGS = {torch.float32: "f32", torch.float64: "f64"}


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(4321)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    base = {
        "a": randn(5, 7),        # mm's left operand
        "b": randn(7, 3),        # mm's right operand
        "big_a": randn(8, 10),   # narrowed to a (5, 7) view: [1:6, 2:9]
        "big_b": randn(9, 6),    # narrowed to a (7, 3) view: [1:8, 2:5]
        "c3": randn(7, 3, 2),    # c3[:, :, 1] is a (7, 3) view with strides (6, 2)
        "row": randn(1, 7),      # expanded to (5, 7): row stride 0
        "col": randn(5, 1),      # expanded to (5, 7): column stride 0
        "bcol": randn(7, 1),     # expanded to (7, 3): column stride 0
        "v7": randn(7),
        "w7": randn(7),
        "x3": randn(4, 5, 7),
        "y3": randn(4, 7, 3),
        "p": randn(2, 1, 3, 4),
        "q": randn(5, 4, 2),
        "r4": randn(2, 3, 4, 5),
        "s4": randn(2, 3, 5, 6),
    }
    for dt, k in TAGS.items():
        t = {name: v.to(dt) for name, v in base.items()}
        for name, v in t.items():
            save(f"{name}_{k}", v)

        def ref(x, y):
            """x @ y from these exact inputs, in float64, rounded to the inputs' dtype."""
            return torch.matmul(x.double(), y.double()).to(dt)

        save(f"at_{k}", t["a"].t())  # contiguous (7, 5): nb_t of it is a again, as a view
        save(f"bt_{k}", t["b"].t())
        save(f"mm_{k}", ref(t["a"], t["b"]))
        save(f"mm_narrow_{k}", ref(t["big_a"][1:6, 2:9], t["big_b"][1:8, 2:5]))
        save(f"mm_select_{k}", ref(t["a"], t["c3"][:, :, 1]))
        save(f"mm_select_t_{k}", ref(t["c3"][:, :, 1].t(), t["a"].t()))
        save(f"mm_row_{k}", ref(t["row"].expand(5, 7), t["b"]))
        save(f"mm_col_{k}", ref(t["col"].expand(5, 7), t["b"]))
        save(f"mm_bcol_{k}", ref(t["a"], t["bcol"].expand(7, 3)))

        save(f"dot_{k}", ref(t["v7"], t["w7"]))           # ()
        save(f"vm_{k}", ref(t["v7"], t["b"]))             # (3,)
        save(f"mv_{k}", ref(t["a"], t["w7"]))             # (5,)
        save(f"bmm_{k}", ref(t["x3"], t["y3"]))           # (4, 5, 3)
        save(f"bcast_{k}", ref(t["p"], t["q"]))           # (2, 5, 3, 2)
        save(f"mm4d_{k}", ref(t["r4"], t["s4"]))          # (2, 3, 4, 6)
        save(f"nd_vec_{k}", ref(t["x3"], t["w7"]))        # (4, 5)
        save(f"nd_mat_{k}", ref(t["x3"], t["b"]))         # (4, 5, 3)
        save(f"vec_nd_{k}", ref(t["v7"], t["y3"]))        # (4, 3)
        save(f"mat_nd_{k}", ref(t["a"], t["y3"]))         # (4, 5, 3)
        save(f"bmm_t_{k}", ref(t["y3"].transpose(1, 2), t["x3"].transpose(1, 2)))  # (4, 3, 5)


if __name__ == "__main__":
    main()
