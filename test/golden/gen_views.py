#!/usr/bin/python3
"""gen_views.py — golden data for nabla's view and shape tests (suite views), computed by PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_views.py
It rewrites test/golden/views/*.npy. For each view NAME there is NAME.npy (its values, in row-major
order) and, where the op makes a view, NAME_strides.npy (PyTorch's strides, in elements, int64), so
the tests check that nabla makes the same view without copying.
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "views")


def save(name, t, strides=True):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())
    if strides:
        np.save(os.path.join(OUT, name + "_strides.npy"), np.array(t.stride(), dtype=np.int64))


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) * 0.5 - 3  # (2, 3, 4)
    m34 = torch.arange(12, dtype=torch.float32).reshape(3, 4) + 1              # (3, 4)
    save("base", base)
    save("m34", m34)

    # permute, transpose, t
    save("permute_201", base.permute(2, 0, 1))
    save("permute_m1_0_1", base.permute(-1, 0, 1))
    save("transpose_02", base.transpose(0, 2))
    save("transpose_m1m2", base.transpose(-1, -2))
    save("t", m34.t())

    # narrow and select
    save("narrow_1_1_2", base.narrow(1, 1, 2))
    save("narrow_m1_2_2", base.narrow(-1, 2, 2))
    save("narrow_2_m3_2", base.narrow(2, -3, 2))  # a negative start counts from the end
    save("narrow_0_0_0", base.narrow(0, 0, 0))    # an empty view
    save("select_1_2", base.select(1, 2))
    save("select_m1_m1", base.select(-1, -1))
    save("select_0_1", base.select(0, 1))

    # squeeze and unsqueeze
    s = m34.reshape(1, 3, 1, 4)
    save("sq_in", s)
    save("squeeze", s.squeeze())
    save("squeeze_0", s.squeeze(0))
    save("squeeze_m2", s.squeeze(-2))
    save("squeeze_1", s.squeeze(1))  # size 3: unchanged
    save("unsqueeze_0", m34.unsqueeze(0))
    save("unsqueeze_1", m34.unsqueeze(1))
    save("unsqueeze_m1", m34.unsqueeze(-1))
    save("unsqueeze_t_1", m34.t().unsqueeze(1))

    # expand
    col = torch.tensor([[1.0], [2.0], [3.0]])  # (3, 1)
    save("col", col)
    save("expand_col_234", col.expand(2, 3, 4))
    save("expand_col_m1", col.expand(2, -1, 4))
    save("expand_col_same", col.expand(3, 1))

    # reshape / view / flatten
    save("reshape_4_m1", base.reshape(4, -1))
    save("view_6_4", base.view(6, 4))
    save("view_m1", base.view(-1))
    save("view_t_2_2_3", m34.t().view(2, 2, 3))   # a view of a transposed tensor that needs no copy
    save("view_t_4_3_1", m34.t().view(4, 3, 1))
    save("view_perm_4_6", base.permute(2, 0, 1).view(4, 6))  # dims 1, 2 of the permutation merge
    save("reshape_perm_4_6", base.permute(2, 1, 0).reshape(4, 6), strides=False)  # copies
    save("flatten_perm", base.permute(2, 0, 1).flatten(), strides=False)
    save("reshape_narrow", base.narrow(2, 1, 2).reshape(2, 6), strides=False)

    # cat
    a = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    b = torch.tensor([[10.0, 20.0, 30.0]])
    c = torch.tensor([[-1.0, -2.0], [-3.0, -4.0]])
    save("cat_a", a, strides=False)
    save("cat_b", b, strides=False)
    save("cat_c", c, strides=False)
    save("cat_ab_0", torch.cat([a, b], 0), strides=False)
    save("cat_ac_1", torch.cat([a, c], 1), strides=False)
    save("cat_aca_m1", torch.cat([a, c, a], -1), strides=False)
    d64 = torch.tensor([[0.1], [0.2]], dtype=torch.float64)
    i64 = torch.tensor([[7], [8]], dtype=torch.int64)
    save("cat_d64", d64, strides=False)
    save("cat_i64", i64, strides=False)
    save("cat_a_d64_1", torch.cat([a, d64], 1), strides=False)  # float64
    save("cat_i64_a_1", torch.cat([i64, a], 1), strides=False)  # float32
    save("cat_base_1", torch.cat([base, base.narrow(1, 0, 1)], 1), strides=False)
    save("cat_t_0", torch.cat([m34.t(), m34.t()], 0), strides=False)  # non-contiguous inputs


if __name__ == "__main__":
    main()
