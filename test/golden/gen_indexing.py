#!/usr/bin/python3
"""gen_indexing.py — golden data for nabla's indexing and shape ops (suite index), computed by
PyTorch: index_select, gather, scatter, scatter_add, index_add, embedding (values and the
weight's gradient), one_hot, stack, split and chunk, pad, tril and triu, repeat, flip, roll.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_indexing.py
It rewrites test/golden/indexing/*.npy. Names end in the dtype of the data (f32, f64, i64, b8);
inputs are saved next to the outputs so the C tests compute from exactly the same values.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "indexing")
TAGS = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64", torch.bool: "b8"}


def save(name, t):
    t = torch.as_tensor(t)
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def as_dtype(x64, dt):
    if dt == torch.bool:
        return x64 > 0
    if dt == torch.int64:
        return (x64 * 3).long()
    return x64.to(dt)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(4321)
    x64 = torch.randn(4, 5, generator=g, dtype=torch.float64)
    s64 = torch.randn(4, 5, generator=g, dtype=torch.float64)  # sources of scatters
    c64 = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)

    # ---- indices (saved once; int64)
    isel0 = torch.tensor([3, 0, 3])              # duplicates
    isel1 = torch.tensor([4, 1])
    empty = torch.zeros(0, dtype=torch.long)
    scalar = torch.tensor(2)
    gat1 = torch.randint(0, 5, (4, 3), generator=g)   # gather along dim 1 (fits in x except dim 1)
    gat0 = torch.randint(0, 4, (2, 5), generator=g)   # along dim 0
    gat_t = torch.randint(0, 5, (3, 4), generator=g).t()  # (4, 3), transposed: not contiguous
    sc1 = torch.stack([torch.randperm(5, generator=g)[:2] for _ in range(3)])  # (3, 2), no duplicates in a row
    sa0 = torch.tensor([[1, 3, 1, 0, 3], [1, 1, 2, 2, 0]])  # (2, 5) duplicates along dim 0
    iadd = torch.tensor([1, 3, 1])
    for name, t in [("isel0", isel0), ("isel1", isel1), ("empty", empty), ("scalar", scalar), ("gat1", gat1),
                    ("gat0", gat0), ("gat_t", gat_t), ("sc1", sc1), ("sa0", sa0), ("iadd", iadd)]:
        save("idx_" + name, t)

    for dt, k in TAGS.items():
        x = as_dtype(x64, dt)
        s = as_dtype(s64, dt)
        c = as_dtype(c64, dt)
        save("x_" + k, x)
        save("s_" + k, s)
        save("c_" + k, c)
        save("index_select_d0_" + k, x.index_select(0, isel0))
        save("index_select_d1_" + k, x.index_select(-1, isel1))
        save("index_select_t_" + k, x.t().index_select(0, isel1))  # a transposed input
        save("index_select_empty_" + k, x.index_select(1, empty))
        save("index_select_scalar_" + k, x.index_select(1, scalar))
        save("gather_d1_" + k, x.gather(1, gat1))
        save("gather_d0_" + k, x.gather(0, gat0))
        save("gather_t_" + k, x.gather(1, gat_t))
        save("gather_xt_" + k, x.t().gather(0, gat0.t()[:3]))  # transposed input and index
        save("scatter_d1_" + k, x.scatter(1, sc1, s))
        save("scatter_add_d0_" + k, x.scatter_add(0, sa0, s))
        save("scatter_add_d1_" + k, x.scatter_add(1, gat1, s))
        alpha = 1 if dt == torch.bool else 2
        save("index_add_d0_" + k, x.index_add(0, iadd, s[:3], alpha=alpha))
        save("index_add_d1_" + k, x.index_add(1, iadd, s[:, :3], alpha=alpha))
        save("stack_d0_" + k, torch.stack([x, s], 0))
        save("stack_d1_" + k, torch.stack([x, s, x], 1))
        save("stack_last_" + k, torch.stack([x.t(), s.t()], -1))
        save("tril_" + k, torch.tril(x))
        save("tril_m1_" + k, torch.tril(c, -1))
        save("triu_" + k, torch.triu(x))
        save("triu_2_" + k, torch.triu(c, 2))
        save("triu_t_" + k, torch.triu(x.t(), -1))
        save("repeat_" + k, x[:2, :3].repeat(2, 1, 2))
        save("repeat_1d_" + k, x[0].repeat(2, 2))
        save("repeat_zero_" + k, x.repeat(0, 2))
        save("flip_" + k, torch.flip(c, [0, 2]))
        save("flip_last_" + k, torch.flip(x.t(), [-1]))
        save("roll_flat_" + k, torch.roll(x, 3))
        save("roll_dims_" + k, torch.roll(c, (1, -2), (0, 2)))
        save("roll_twice_" + k, torch.roll(x, (2, 7), (1, 1)))
        save("pad_const_" + k, F.pad(c, (1, 2), value=1.5 if dt != torch.bool else 1))
        save("pad_const2_" + k, F.pad(c, (1, 1, 2, 0), value=-2 if dt != torch.bool else 0))
        save("pad_crop_" + k, F.pad(c, (-1, 2, 0, -1)))
    for dt in (torch.float32, torch.float64):  # reflect and replicate: torch 1.13 takes floats only
        k = TAGS[dt]
        c = as_dtype(c64, dt)
        save("pad_reflect_" + k, F.pad(c, (2, 1), mode="reflect"))
        save("pad_reflect2_" + k, F.pad(c, (1, 3, 2, 1), mode="reflect"))
        save("pad_replicate_" + k, F.pad(c, (2, 1, 0, 3), mode="replicate"))
        save("pad_replicate_t_" + k, F.pad(c.transpose(1, 2), (3, 0), mode="replicate"))

    # ---- embedding: weight (6, 3), indices (2, 4) with duplicates; gradient of sum(out * w)
    for dt in (torch.float32, torch.float64):
        k = TAGS[dt]
        weight = torch.randn(6, 3, generator=g, dtype=torch.float64).to(dt)
        ids = torch.tensor([[1, 2, 4, 1], [5, 2, 1, 0]])
        w = torch.randn(2, 4, 3, generator=g, dtype=torch.float64).to(dt)
        save("emb_weight_" + k, weight)
        save("emb_ids_" + k, ids)
        save("emb_w_" + k, w)
        for pad, tag in [(None, "none"), (2, "2"), (-1, "m1")]:
            wt = weight.clone().requires_grad_(True)
            out = F.embedding(ids, wt, padding_idx=pad)
            (out * w).sum().backward()
            save("emb_out_%s_%s" % (tag, k), out)
            save("emb_grad_%s_%s" % (tag, k), wt.grad)

    # ---- one_hot
    oh = torch.tensor([[0, 3, 1], [3, 3, 2]])
    save("oh_idx", oh)
    save("one_hot_5", F.one_hot(oh, 5))
    save("one_hot_infer", F.one_hot(oh))
    save("one_hot_t", F.one_hot(oh.t(), 4))
    save("one_hot_scalar", F.one_hot(torch.tensor(2), 4))

    # ---- split and chunk: the sizes of the pieces for sizes 0 to 7 (rows) and 1 to 5 (columns),
    # padded with -1
    split = -torch.ones(8, 5, 8, dtype=torch.long)
    chunk = -torch.ones(8, 5, 8, dtype=torch.long)
    for n in range(8):
        for m in range(1, 6):
            for i, p in enumerate(torch.empty(n).split(m)):
                split[n, m - 1, i] = p.shape[0]
            for i, p in enumerate(torch.empty(n).chunk(m)):
                chunk[n, m - 1, i] = p.shape[0]
    save("split_sizes", split)
    save("chunk_sizes", chunk)


if __name__ == "__main__":
    main()
