#!/usr/bin/python3
"""gen_ewise.py — golden data for nabla's elementwise, conversion and arange tests (suite ewise
and core), computed by PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_ewise.py
It rewrites test/golden/ewise/*.npy. Names are OP_DT where DT is the input dtype (f32, f64, i64,
b8); the output's dtype is whatever PyTorch gives (int64 / int64 is float32, and so on). Inputs
are saved next to the outputs so the C tests compute from exactly the same values.
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ewise")
TAGS = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64", torch.bool: "b8"}


def save(name, t):
    t = torch.as_tensor(t)
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(1234)

    # ---- inputs, (3, 4); float64 values carry full precision, float32 ones are their rounding
    x64 = torch.randn(3, 4, generator=g, dtype=torch.float64) * 1.5
    x64[0, 0], x64[0, 1], x64[1, 2] = 0.0, 0.5, -1.0
    y64 = torch.randn(3, 4, generator=g, dtype=torch.float64)
    y64 = torch.where(y64.abs() < 0.3, y64 + 1.0, y64)  # no division by (nearly) zero
    y64[0, 1], y64[2, 3] = 0.5, x64[2, 3]                 # some equal elements for eq/ne/le/ge
    pos64 = torch.rand(3, 4, generator=g, dtype=torch.float64) * 3.9 + 0.1
    e64 = (torch.rand(3, 4, generator=g, dtype=torch.float64) * 4 - 2)  # exponents in [-2, 2)
    xi = torch.randint(-5, 6, (3, 4), generator=g)
    xi[0, 0] = 0
    yi = torch.randint(1, 5, (3, 4), generator=g) * (torch.randint(0, 2, (3, 4), generator=g) * 2 - 1)
    yi[0, 0] = -3
    xi[1, 1], yi[1, 1] = 3, 3  # an equal pair for eq/ne/le/ge
    ei = torch.randint(-1, 4, (3, 4), generator=g)
    xi[0, 2], xi[2, 0], xi[2, 2] = -4, -1, -1  # negatives, and bases of +-1 for negative powers
    ei[1, 0], ei[2, 2], ei[0, 2] = -1, -1, 3
    m = torch.tensor([[True, False, False, True], [False, True, True, False], [True, True, False, False]])
    b2 = torch.tensor([[True, True, False, False], [False, False, True, True], [True, False, True, False]])
    mrow = torch.tensor([False, True, True, False])
    ins = {
        torch.float32: (x64.float(), y64.float(), pos64.float(), e64.float()),
        torch.float64: (x64, y64, pos64, e64),
    }
    for dt, (x, y, pos, e) in ins.items():
        k = TAGS[dt]
        save("x_" + k, x)
        save("y_" + k, y)
        save("pos_" + k, pos)
        save("e_" + k, e)
    save("x_i64", xi)
    save("y_i64", yi)
    save("e_i64", ei)
    save("m_b8", m)
    save("b2_b8", b2)
    save("mrow_b8", mrow)

    # ---- floating ops, each in float32 and float64
    for dt, (x, y, pos, e) in ins.items():
        k = TAGS[dt]
        for name, f in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div),
                        ("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge),
                        ("eq", torch.eq), ("ne", torch.ne)]:
            save(f"{name}_{k}", f(x, y))
        save(f"pow_{k}", torch.pow(pos, e))
        save(f"maximum_{k}", torch.maximum(x, y))  # x and y share elements at [2, 3]
        save(f"minimum_{k}", torch.minimum(x, y))
        save(f"pow2_{k}", x ** 2)
        save(f"pow05_{k}", x ** 0.5)  # NaN for the negative elements
        save(f"pow3_{k}", x ** 3)
        save(f"powm1_{k}", x ** -1)  # inf at the zero
        save(f"pow05pos_{k}", pos ** 0.5)
        save(f"pow15pos_{k}", pos ** 1.5)
        save(f"neg_{k}", -x)
        save(f"exp_{k}", torch.exp(x))
        save(f"log_{k}", torch.log(pos))
        save(f"sqrt_{k}", torch.sqrt(pos))
        save(f"abs_{k}", torch.abs(x))
        save(f"relu_{k}", torch.relu(x))
        save(f"sigmoid_{k}", torch.sigmoid(x))
        save(f"tanh_{k}", torch.tanh(x))
        save(f"clamp_{k}", torch.clamp(x, -1.0, 1.5))
        save(f"clamp_min_{k}", torch.clamp(x, min=0.25))
        save(f"clamp_max_{k}", torch.clamp(x, max=-0.5))
        save(f"clamp_inverted_{k}", torch.clamp(x, 1.0, -1.0))  # min > max: every element is max
        save(f"add_scalar_{k}", torch.add(x, 1.5))
        save(f"sub_scalar_{k}", torch.sub(x, 0.75))
        save(f"rsub_scalar_{k}", torch.rsub(x, 2.0))
        save(f"mul_scalar_{k}", torch.mul(x, -2.5))
        save(f"div_scalar_{k}", torch.div(x, 3.0))
        for name, f in [("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge),
                        ("eq", torch.eq), ("ne", torch.ne)]:
            save(f"{name}_scalar_{k}", f(x, 0.5))
        save(f"where_{k}", torch.where(m, x, y))
        save(f"masked_fill_{k}", x.masked_fill(m, -7.5))
        # the seed's step: w -= lr * g, and w += alpha * g
        save(f"sub_scaled_{k}", x.sub(y, alpha=0.01))
        save(f"add_scaled_{k}", x.add(y, alpha=-0.3))

    # ---- int64: arithmetic stays int64 except where PyTorch makes it float32
    for name, f in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div),
                    ("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge),
                    ("eq", torch.eq), ("ne", torch.ne)]:
        save(f"{name}_i64", f(xi, yi))
    save("maximum_i64", torch.maximum(xi, yi))
    save("minimum_i64", torch.minimum(xi, yi))
    save("maximum_b8", torch.maximum(m, b2))  # logical or
    save("minimum_b8", torch.minimum(m, b2))  # logical and
    save("pow_i64", torch.pow(xi, ei))  # negative exponents give 0 (or +-1 for a base of +-1)
    save("pow2_i64", xi ** 2)
    save("pow3_i64", xi ** 3)
    save("pow05_i64", xi ** 0.5)        # float32, NaN for negatives
    for name, f in [("neg", torch.neg), ("abs", torch.abs), ("relu", torch.relu), ("exp", torch.exp),
                    ("sqrt", torch.sqrt), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)]:
        save(f"{name}_i64", f(xi))
    save("clamp_i64", torch.clamp(xi, -2, 3))
    save("clamp_min_i64", torch.clamp(xi, min=0))
    save("clamp_max_i64", torch.clamp(xi, max=1))
    save("clamp_inverted_i64", torch.clamp(xi, 3, -2))
    save("clampf_i64", torch.clamp(xi, -2.5, 3))    # float32
    save("clamp_minf_i64", torch.clamp(xi, min=0.5))  # float32
    save("clamp_maxf_i64", torch.clamp(xi, max=1.5))  # float32
    save("add_scalar_i64", xi + 3)
    save("add_scalarf_i64", xi + 0.5)  # float32
    save("sub_scalar_i64", xi - 2)
    save("rsub_scalar_i64", torch.rsub(xi, 2))
    save("mul_scalar_i64", xi * 2)
    save("mul_scalarf_i64", xi * 0.5)  # float32
    save("div_scalar_i64", xi / 2)     # float32
    for name, f in [("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge),
                    ("eq", torch.eq), ("ne", torch.ne)]:
        save(f"{name}_scalar_i64", f(xi, 2))
        save(f"{name}_scalarf_i64", f(xi, 2.5))
        save(f"{name}_b8", f(m, b2))
        save(f"{name}_scalar_b8", f(m, 0.5))
    save("where_i64", torch.where(m, xi, yi))
    save("where_b8", torch.where(m, b2, ~b2))
    save("where_mixed", torch.where(m, xi, ins[torch.float32][0]))  # int64, float32 -> float32
    save("masked_fill_i64", xi.masked_fill(m, 9))
    save("masked_fillf_i64", xi.masked_fill(m, 0.5))  # stays int64: the value is truncated
    save("masked_fill_b8", b2.masked_fill(m, 1))

    # ---- broadcasting
    x32, y32 = ins[torch.float32][0], ins[torch.float32][1]
    a31 = torch.randn(3, 1, generator=g)
    b14 = torch.randn(1, 4, generator=g)
    c234 = torch.randn(2, 3, 4, generator=g)
    r4 = torch.randn(4, generator=g)
    s0 = torch.tensor(-1.25)
    save("a31", a31)
    save("b14", b14)
    save("c234", c234)
    save("r4", r4)
    save("s0", s0)
    for name, f in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)]:
        save(f"{name}_31_14", f(a31, b14))
        save(f"{name}_234_4", f(c234, r4))
        save(f"{name}_0_34", f(s0, x32))
        save(f"{name}_34_0", f(x32, s0))
    save("add_0_0", s0 + s0)
    save("lt_31_14", a31 < b14)
    save("maximum_31_14", torch.maximum(a31, b14))
    save("minimum_234_4", torch.minimum(c234, r4))
    save("pow_4_0", torch.pow(r4.abs(), s0))
    save("add_34_4", x32 + r4)
    save("where_bcast", torch.where(mrow, x32, s0))
    save("masked_fill_bcast", x32.masked_fill(mrow, 2.0))

    # ---- dtype promotion
    x64, y64 = ins[torch.float64][0], ins[torch.float64][1]
    save("promote_f32_f64", x32 + y64)  # float64
    save("promote_i64_f32", xi + y32)   # float32
    save("promote_b8_i64", m + yi)      # int64
    save("promote_b8_f64", m * x64)     # float64
    save("promote_div_i64", xi / yi)    # float32
    save("promote_lt_i64_f32", xi < y32)  # bool
    save("promote_maximum_i64_f32", torch.maximum(xi, y32))  # float32

    # ---- special values
    for dt in (torch.float32, torch.float64):
        k = TAGS[dt]
        sp = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.0, -1.0, 100.0,
                           -100.0], dtype=dt)
        save(f"special_{k}", sp)
        for name, f in [("exp", torch.exp), ("log", torch.log), ("sqrt", torch.sqrt),
                        ("abs", torch.abs), ("relu", torch.relu), ("sigmoid", torch.sigmoid),
                        ("tanh", torch.tanh), ("neg", torch.neg)]:
            save(f"special_{name}_{k}", f(sp))
        save(f"special_clamp_{k}", torch.clamp(sp, -1.0, 1.0))
        save(f"special_clamp_inverted_{k}", torch.clamp(sp, 1.0, -1.0))
        save(f"special_lt_{k}", sp < 0.0)
        # NaN on either side wins; no +0/-0 pair (which of the two PyTorch gives depends on its path)
        sp2 = torch.tensor([1.0, float("nan"), 2.0, float("inf"), -float("inf"), 0.0, 5.0, -1.0, float("nan")], dtype=dt)
        save(f"special2_{k}", sp2)
        save(f"special_maximum_{k}", torch.maximum(sp, sp2))
        save(f"special_minimum_{k}", torch.minimum(sp, sp2))
        save(f"special_ne_{k}", sp != sp)

    # ---- conversions (nb_to_dtype): float -> int64 truncates toward zero; nonzero -> True
    conv_src = {"f32": x32, "f64": x64, "i64": xi, "b8": m}
    for src_tag, src in conv_src.items():
        for dst_dt, dst_tag in TAGS.items():
            if dst_tag != src_tag:
                save(f"cast_{src_tag}_{dst_tag}", src.to(dst_dt))

    # ---- arange
    save("arange_0_5_1_f32", torch.arange(0, 5, 1, dtype=torch.float32))
    save("arange_05_3_025_f64", torch.arange(0.5, 3.0, 0.25, dtype=torch.float64))
    save("arange_5_0_m15_f32", torch.arange(5, 0, -1.5, dtype=torch.float32))
    save("arange_m3_3_07_f32", torch.arange(-3, 3, 0.7, dtype=torch.float32))
    save("arange_0_10_3_i64", torch.arange(0, 10, 3, dtype=torch.int64))
    save("arange_10_0_m3_i64", torch.arange(10, 0, -3, dtype=torch.int64))


if __name__ == "__main__":
    main()
