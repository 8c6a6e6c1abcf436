#!/usr/bin/python3
"""gen_reduce_more.py — golden data for nabla's reductions over lists of dims, products, running
sums and sorts (suite reduce_more), computed by PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_reduce_more.py
It rewrites test/golden/reduce_more/*.npy:
    in_DT                 the input (2, 3, 4): DT is f32, f64, i64 or b8; in_nan has NaNs (f32)
    in_ex                 a (1, 3, 4) float64 input that the tests expand to (2, 3, 4)
    OP_DT_DIMS_K          OP over the dims DIMS ("all" for dim=[], else the digits, "m1" for -1)
                          with keepdim K (0 or 1), in PyTorch's dtype; OP is sum, mean, amax,
                          amin, any, all, var (correction 1), var0 (correction 0), std,
                          logsumexp, norm1, norm2, norminf
    (PyTorch 1.13 has no topk for bool: nabla refuses it too)
    prod_DT_all, prod_DT_D_K    the product of every element, and along dim D
    cumsum_DT_D           along dim D
    topk_DT_D_L_{v,i}     topk(k=2, dim D, largest L), values and indices
    argsort_DT_D_S        argsort along D, descending S, stable
    OP_ex_DIMS_K          OP of the expanded input (sum, amax, var, logsumexp)
    OP_nan_DIMS_K         OP of the input with NaNs (sum, amax, amin, logsumexp)
The int64 inputs are small integers, so ties are common: sorts are stable (torch's stable=True).
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reduce_more")
TAGS = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64", torch.bool: "b8"}
DIMS = {"all": [], "0": [0], "12": [1, 2], "02": [0, 2], "m1": [-1], "012": [0, 1, 2]}


def save(name, t):
    t = torch.as_tensor(t)
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def make_input(dt, g):
    shape = (2, 3, 4)
    if dt == torch.int64:
        return torch.randint(-3, 4, shape, generator=g)
    if dt == torch.bool:
        return torch.rand(shape, generator=g) < 0.6
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    x[0, 1, 2] = x[0, 1, 0]  # a tie for the sorts and extremes
    return x.to(dt)


def reductions(dt):
    ops = ["sum", "amax", "amin", "any", "all", "logsumexp"]
    if dt.is_floating_point:
        ops += ["mean", "var", "var0", "std", "norm1", "norm2", "norminf"]
    return ops


def reduce(op, x, dims, keep):
    if op == "sum":
        return torch.sum(x, dims, keepdim=keep)
    if op == "mean":
        return torch.mean(x, dims, keepdim=keep)
    if op in ("amax", "amin"):
        return getattr(torch, op)(x, dims, keepdim=keep)
    if op in ("any", "all"):  # torch 1.13 takes one dim at a time
        r = x if x.dtype == torch.bool else x != 0
        for d in sorted([d % x.dim() for d in dims] or range(x.dim()), reverse=True):
            r = getattr(torch, op)(r, d, keepdim=keep)
        return r
    if op == "var":
        return torch.var(x, dims if dims else None, correction=1, keepdim=keep)
    if op == "var0":
        return torch.var(x, dims if dims else None, correction=0, keepdim=keep)
    if op == "std":
        return torch.std(x, dims if dims else None, correction=1, keepdim=keep)
    if op == "logsumexp":
        return torch.logsumexp(x, dims if dims else list(range(x.dim())), keepdim=keep)
    p = {"norm1": 1, "norm2": 2, "norminf": float("inf")}[op]
    return torch.linalg.vector_norm(x, p, dims if dims else None, keepdim=keep)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(20261204)
    for dt, tag in TAGS.items():
        x = make_input(dt, g)
        save(f"in_{tag}", x)
        for op in reductions(dt):
            for dname, dims in DIMS.items():
                for keep in (0, 1):
                    save(f"{op}_{tag}_{dname}_{keep}", reduce(op, x, dims, bool(keep)))
        save(f"prod_{tag}_all", torch.prod(x))
        for d in range(3):
            for keep in (0, 1):
                save(f"prod_{tag}_{d}_{keep}", torch.prod(x, d, keepdim=bool(keep)))
            save(f"cumsum_{tag}_{d}", torch.cumsum(x, d))
            for desc in (0, 1):
                save(f"argsort_{tag}_{d}_{desc}", torch.sort(x.long() if dt == torch.bool else x, dim=d,
                                                             descending=bool(desc), stable=True).indices)
            if dt != torch.bool:
                for largest in (0, 1):
                    # topk's tie order is unspecified in PyTorch; nabla's (lower index first)
                    # is that of a stable sort, which gives the same values
                    s = torch.sort(x, dim=d, descending=bool(largest), stable=True)
                    save(f"topk_{tag}_{d}_{largest}_v", s.values.narrow(d, 0, 2))
                    save(f"topk_{tag}_{d}_{largest}_i", s.indices.narrow(d, 0, 2))
                    v = torch.topk(x, 2, d, largest=bool(largest)).values
                    assert torch.equal(v, s.values.narrow(d, 0, 2))
    ex = torch.randn((1, 3, 4), generator=g, dtype=torch.float64)
    save("in_ex", ex)
    xe = ex.expand(2, 3, 4)
    for op in ("sum", "amax", "var", "logsumexp"):
        for dname in ("0", "12", "all"):
            save(f"{op}_ex_{dname}_0", reduce(op, xe, DIMS[dname], False))
    xn = torch.randn((2, 3, 4), generator=g)
    xn[0, 0, 1] = float("nan")
    xn[1, 2, 3] = float("nan")
    save("in_nan", xn)
    for op in ("sum", "amax", "amin", "logsumexp"):
        for dname in ("0", "12", "all"):
            save(f"{op}_nan_{dname}_0", reduce(op, xn, DIMS[dname], False))
    for d in range(3):
        save(f"argsort_nan_{d}_0", torch.sort(xn, dim=d, stable=True).indices)
        save(f"argsort_nan_{d}_1", torch.sort(xn, dim=d, descending=True, stable=True).indices)


if __name__ == "__main__":
    main()
