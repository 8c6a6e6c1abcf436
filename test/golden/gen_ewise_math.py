#!/usr/bin/python3
"""gen_ewise_math.py — golden data for nabla's activations, math, rounding, logical and lerp ops
and for its dtype promotion rules (suite ewise, test_ewise_math.c), computed by PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_ewise_math.py
It rewrites test/golden/ewise_math/*.npy. Names are OP_DT where DT is the input dtype (f32, f64,
i64, b8); the output's dtype is whatever PyTorch gives. Inputs are saved next to the outputs.

promote_*.npy are int64 tables, one row per case, of dtype codes (float32 0, float64 1, int64 2,
bool 3, float16 4, bfloat16 5, -1 for "refused"): see the comments at each table for the columns.
Where PyTorch's CPU has no half kernel for an op (clamp_min), the result dtype is taken from the
same op on the meta device, which applies the same promotion without computing.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ewise_math")
TAGS = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64", torch.bool: "b8"}
DTYPES = [torch.float32, torch.float64, torch.int64, torch.bool, torch.float16, torch.bfloat16]  # nabla's enum order
CODE = {dt: i for i, dt in enumerate(DTYPES)}


def save(name, t):
    t = torch.as_tensor(t)
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


# name, function of one tensor, which input ("x" any sign, "pos" positive, "gt1" above -1)
UNARY = [
    ("gelu", lambda t: F.gelu(t), "x"),
    ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh"), "x"),
    ("silu", F.silu, "x"),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.1), "x"),
    ("leaky_relu_default", lambda t: F.leaky_relu(t, 0.01), "x"),
    ("softplus", lambda t: F.softplus(t, 1.0, 20.0), "x"),
    ("softplus_b2_t1", lambda t: F.softplus(t, 2.0, 1.0), "x"),
    ("erf", torch.erf, "x"),
    ("sin", torch.sin, "x"),
    ("cos", torch.cos, "x"),
    ("log1p", torch.log1p, "gt1"),
    ("expm1", torch.expm1, "x"),
    ("rsqrt", torch.rsqrt, "pos"),
    ("reciprocal", torch.reciprocal, "x"),
    ("floor", torch.floor, "x"),
    ("ceil", torch.ceil, "x"),
    ("round", torch.round, "x"),
    ("sign", torch.sign, "x"),
]
# the ops that take int64 and bool (giving float32, or keeping int64 for the rounding ops)
INTEGER_OK = ["erf", "sin", "cos", "log1p", "expm1", "rsqrt", "reciprocal", "floor", "ceil", "round",
              "sign"]


def promotion_tables():
    """result_type over every pair of dtypes, each operand with dims or 0-d."""
    def dtype_of(f, meta=False):
        try:
            return CODE[f(meta).dtype]
        except (RuntimeError, NotImplementedError) as e:
            if not meta and "not implemented for" in str(e):
                return dtype_of(f, True)
            return -1

    def operand(dt, zero_d, meta=False):
        v = [1, 0] if dt != torch.bool else [True, False]
        return torch.tensor(v[0] if zero_d else v, dtype=dt, device="meta" if meta else "cpu")

    ops = [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div),
           ("maximum", torch.maximum), ("lt", torch.lt), ("logical_and", torch.logical_and)]
    # columns: op index, a dtype, a is 0-d, b dtype, b is 0-d, result dtype (-1: refused)
    rows = []
    for k, (_, f) in enumerate(ops):
        for a in DTYPES:
            for az in (0, 1):
                for b in DTYPES:
                    for bz in (0, 1):
                        rows.append([k, CODE[a], az, CODE[b], bz,
                                     dtype_of(lambda m: f(operand(a, az, m), operand(b, bz, m)))])
    save("promote_binary", torch.tensor(rows, dtype=torch.int64))
    # in place: columns: op index (add_, sub_, mul_, div_), target dtype, target 0-d, other dtype,
    # other 0-d, result dtype (the target's, or -1: refused)
    inplace = [torch.Tensor.add_, torch.Tensor.sub_, torch.Tensor.mul_, torch.Tensor.div_]
    rows = []
    for k, f in enumerate(inplace):
        for a in DTYPES:
            for az in (0, 1):
                for b in DTYPES:
                    for bz in (0, 1):
                        if az and not bz:
                            continue  # a 0-d target cannot take a broadcast result
                        rows.append([k, CODE[a], az, CODE[b], bz,
                                     dtype_of(lambda m: f(operand(a, az, m).clone(), operand(b, bz, m)))])
    save("promote_inplace", torch.tensor(rows, dtype=torch.int64))
    # a number with a tensor: columns: op index (add, mul, pow, clamp_min, div, sub), tensor dtype,
    # the number is integral (1) or 2.5 (0), result dtype
    sops = [lambda t, s: t + s, lambda t, s: t * s, lambda t, s: t ** s, lambda t, s: torch.clamp(t, min=s),
            lambda t, s: t / s, lambda t, s: t - s]
    rows = []
    for k, f in enumerate(sops):
        for a in DTYPES:
            for integral in (1, 0):
                s = 2 if integral else 2.5
                rows.append([k, CODE[a], integral, dtype_of(lambda m: f(operand(a, 0, m), s))])
    save("promote_scalar", torch.tensor(rows, dtype=torch.int64))


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(4321)

    # ---- inputs, (3, 4): halves for round (to even), integers for floor/ceil, both signs
    x64 = torch.randn(3, 4, generator=g, dtype=torch.float64) * 2.0
    x64[0, 0], x64[0, 1], x64[0, 2], x64[0, 3] = 0.5, 1.5, 2.5, -2.5
    x64[1, 0], x64[1, 1], x64[1, 2] = -3.0, 0.0, -0.5
    x64[2, 0] = 25.0  # past softplus's threshold
    pos64 = torch.rand(3, 4, generator=g, dtype=torch.float64) * 3.9 + 0.1
    gt164 = torch.rand(3, 4, generator=g, dtype=torch.float64) * 4 - 0.99
    ins = {torch.float32: {"x": x64.float(), "pos": pos64.float(), "gt1": gt164.float()},
           torch.float64: {"x": x64, "pos": pos64, "gt1": gt164}}
    for dt, d in ins.items():
        for k, v in d.items():
            save(f"{k}_{TAGS[dt]}", v)
    xi = torch.tensor([[0, 1, -1, 2], [-3, 5, 7, -8], [4, -2, 3, 1]])
    xb = torch.tensor([[True, False, False, True], [False, True, True, False], [True, True, False, False]])
    save("x_i64", xi)
    save("x_b8", xb)

    for dt, d in ins.items():
        k = TAGS[dt]
        for name, f, which in UNARY:
            save(f"{name}_{k}", f(d[which]))
    for name, f, which in UNARY:
        if name not in INTEGER_OK:
            continue
        src = xi.abs() + 1 if which in ("pos", "gt1") else xi
        save(f"{name}_i64", f(src))
        if name not in ("floor", "ceil", "round"):  # PyTorch refuses those for bool
            save(f"{name}_b8", f(xb))

    # ---- special values
    for dt in (torch.float32, torch.float64):
        k = TAGS[dt]
        sp = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.0, -1.0, 100.0,
                           -100.0, 0.5, -0.5, 1e-7, 3.5], dtype=dt)
        save(f"special_{k}", sp)
        for name, f, _ in UNARY:
            save(f"special_{name}_{k}", f(sp))

    # ---- logical ops, any dtypes (NaN is true)
    y64 = torch.tensor([[0.0, float("nan"), 2.0, 0.0], [-0.0, 1.0, 0.0, 3.0], [0.5, 0.0, -1.0, 0.0]],
                       dtype=torch.float64)
    save("y_f64", y64)
    save("y_f32", y64.float())
    operands = {"f32": y64.float(), "f64": y64, "i64": xi, "b8": xb}
    for ka, a in operands.items():
        save(f"logical_not_{ka}", torch.logical_not(a))
        for kb, b in operands.items():
            save(f"logical_and_{ka}_{kb}", torch.logical_and(a, b))
            save(f"logical_or_{ka}_{kb}", torch.logical_or(a, b))
    r4 = torch.tensor([0.0, 1.0, float("nan"), -2.0])
    save("r4", r4)
    save("logical_and_b8_r4", torch.logical_and(xb, r4))  # (3, 4) with (4,)
    save("logical_or_r4_i64", torch.logical_or(r4, xi))

    # ---- lerp: weights below and above one half, 0, 1 and outside [0, 1]
    for dt in (torch.float32, torch.float64):
        k = TAGS[dt]
        start = ins[dt]["x"]
        end = ins[dt]["pos"] * 3
        w = torch.tensor([[0.0, 0.25, 0.5, 1.0], [0.75, -0.5, 1.5, 0.4999], [0.6, 0.1, 2.0, 0.5001]], dtype=dt)
        w4 = torch.tensor([0.2, 0.7, 1.0, -1.0], dtype=dt)
        save(f"lerp_end_{k}", end)
        save(f"lerp_w_{k}", w)
        save(f"lerp_w4_{k}", w4)
        save(f"lerp_{k}", torch.lerp(start, end, w))
        save(f"lerp_bcast_{k}", torch.lerp(start[:, :1], end[0], w4))  # (3,1), (4,), (4,)
        for name, ws in [("025", 0.25), ("075", 0.75), ("1", 1.0), ("m05", -0.5)]:
            save(f"lerp_scalar{name}_{k}", torch.lerp(start, end, ws))
        save(f"lerp_special_{k}", torch.lerp(torch.tensor([float("inf"), 1.0, float("nan"), 0.0], dtype=dt),
                                             torch.tensor([1.0, float("inf"), 1.0, -0.0], dtype=dt),
                                             torch.tensor([0.5, 0.25, 0.5, 0.75], dtype=dt)))

    # ---- bool arithmetic and 0-d promotion, by value
    b2 = torch.tensor([[True, True, False, False], [False, False, True, True], [True, False, True, False]])
    save("b2_b8", b2)
    save("bool_add", xb + b2)
    save("bool_mul", xb * b2)
    save("bool_div", xb / b2)        # float32
    save("bool_add_i64", xb + xi)    # int64
    save("bool_add_1", xb + 1)       # int64
    save("bool_mul_25", xb * 2.5)    # float32
    save("bool_pow_2", xb ** 2)      # int64
    save("bool_clamp", torch.clamp(xb, 0, 1))  # int64
    save("bool_add_alpha", torch.add(xb, b2, alpha=3))  # bool
    d0 = torch.tensor(1.25, dtype=torch.float64)
    i0 = torch.tensor(3)
    save("d0", d0)
    save("i0", i0)
    save("f32_add_d0", ins[torch.float32]["x"] + d0)  # float32: a 0-d operand of the same category
    save("i64_add_d0", xi + d0)                       # float64: a higher category
    save("b8_add_i0", xb + i0)                        # int64
    save("i64_mul_f0", xi * torch.tensor(0.5))        # float32
    save("d0_add_d0", d0 + torch.tensor(2.0))         # float64, 0-d
    promotion_tables()


if __name__ == "__main__":
    main()
