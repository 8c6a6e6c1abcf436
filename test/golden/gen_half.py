#!/usr/bin/python3
"""gen_half.py — golden data for nabla's float16 and bfloat16 conversions (suite half), made by
PyTorch's own conversions (c10::Half, c10::BFloat16).

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_half.py
It rewrites test/golden/half/*.npy. Half results are stored as their bit patterns in '<f2' arrays
(bfloat16 has no NumPy dtype: its bits travel in a float16 container, read back as bits), float32
inputs as float32 arrays (NaN payloads survive .npy).

PyTorch 1.13's vectorised CPU copy turns float32 NaN into bfloat16 0xFFFF while its strided (and
CUDA) copy gives c10::BFloat16's 0x7FC0; nabla follows c10's scalar rule, so the conversions here
run on strided views (the scalar path), and the script checks that the contiguous path agrees
everywhere except on NaN.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "half")


def save(name, a):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a))


def bits16(t):
    """int64 bit patterns of a float16 or bfloat16 tensor"""
    return t.contiguous().view(torch.int16).numpy().astype(np.int64) & 0xFFFF


def as_f2(bits):
    """16-bit patterns in a float16 array, to be read back as bits"""
    return np.asarray(bits, dtype=np.uint16).view(np.float16)


def halves(pattern, dtype):
    """the tensor of dtype with these 16-bit patterns"""
    return torch.from_numpy(np.asarray(pattern, dtype=np.uint16).view(np.int16)).view(dtype)


def convert(x, dtype):
    """x.to(dtype) through the strided (scalar) path, checked against the contiguous path"""
    wide = torch.zeros(2 * x.numel(), dtype=x.dtype)
    wide[::2] = x
    got = wide[::2].to(dtype)
    fast = x.to(dtype)
    if dtype in (torch.float16, torch.bfloat16) and x.is_floating_point():
        keep = ~torch.isnan(x)
        assert (bits16(got)[keep.numpy()] == bits16(fast)[keep.numpy()]).all()
    elif dtype in (torch.float16, torch.bfloat16):
        assert (bits16(got) == bits16(fast)).all()
    return got


def f32_inputs(g):
    """every half value as float32, the midpoints between neighbours and +-1 ulp of them,
    boundaries, subnormals, NaNs and random floats"""
    out = []
    for dtype in (torch.float16, torch.bfloat16):
        every = halves(np.arange(65536), dtype).float()
        finite = every[torch.isfinite(every)].double()
        vals = torch.unique(finite)  # sorted, -0 and 0 once
        mid = ((vals[1:] + vals[:-1]) / 2).float()  # exact in float32: one more bit
        assert torch.equal(mid.double(), (vals[1:] + vals[:-1]) / 2)
        mid_bits = mid.view(torch.int32)
        out += [every, mid, (mid_bits + 1).view(torch.float32), (mid_bits - 1).view(torch.float32)]
    special = np.array([
        0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x00000001, 0x80000001, 0x007FFFFF,
        0x7F7FFFFF, 0xFF7FFFFF, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FA00000,
        0x7FFFFFFF, 0xFFFFFFFF, 0x7F812345, 0xFFBFFFFF, 0x7FC02000, 0x7F802000, 0x7FFFE000,
        0x477FEFFF, 0x477FF000, 0x477FF001, 0x477FFFFF, 0x47800000, 0xC77FF000, 0xC77FEFFF,
        0x7F7F8000, 0x7F7F7FFF, 0x7F7FC000, 0x33000000, 0x33000001, 0x32FFFFFF, 0x33800000,
        0x33C00000, 0x33C00001, 0x387FC000, 0x387FE000, 0x387FFFFF, 0x38800000, 0xB3000001,
    ], dtype=np.uint32).view(np.float32)
    out.append(torch.from_numpy(special.copy()))
    r = torch.randn(3000, generator=g) * torch.pow(10.0, torch.randint(-9, 7, (3000,), generator=g).float())
    out.append(r)
    out.append(torch.randint(0, 2**32, (2000,), generator=g, dtype=torch.int64).to(torch.int32).view(torch.float32))
    return torch.cat(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    g = torch.Generator().manual_seed(16)

    # every bit pattern -> float32
    for dtype, tag in ((torch.float16, "f16"), (torch.bfloat16, "bf16")):
        x = halves(np.arange(65536), dtype)
        save(tag + "_to_f32", convert(x, torch.float32).numpy())
        # and -> int64 for finite values below 2^62 in magnitude (0 elsewhere: nabla saturates
        # where PyTorch's result is undefined), stored as float32, which holds them exactly
        f = x.float()
        ok = torch.isfinite(f) & (f.abs() < 2.0**62)
        i = torch.zeros(65536, dtype=torch.int64)
        i[ok] = convert(x[ok], torch.int64)
        assert torch.equal(i.float().long(), i)
        save(tag + "_to_i64", i.float().numpy())
        save(tag + "_to_b8", convert(x, torch.bool).numpy())

    x = f32_inputs(g)
    save("f32_in", x.numpy())
    save("f32_to_f16", as_f2(bits16(convert(x, torch.float16))))
    save("f32_to_bf16", as_f2(bits16(convert(x, torch.bfloat16))))

    # float64: rounded to float32 first, then to the half type (double rounding)
    d = [1 + 2**-11 + 2**-40, 1 + 2**-11, 1 + 2**-11 - 2**-40, 1 + 2**-8 + 2**-30, 1 + 2**-8,
         65519.99, 65520.0, 65504.0, 65519.999999, 1e300, -1e300, 1e-300, 2.0**-25, 2.0**-25 + 2**-60,
         2.0**-24 * 1.5, float("inf"), float("-inf"), float("nan"), -0.0, 0.1, 1 / 3,
         3.3895313892515355e38, 3.4e38, 3.402823466e38, 1 + 2**-24, 1 + 2**-24 + 2**-50]
    d64 = torch.cat([torch.tensor(d, dtype=torch.float64), torch.randn(500, generator=g, dtype=torch.float64) * 100])
    save("f64_in", d64.numpy())
    save("f64_to_f16", as_f2(bits16(convert(d64, torch.float16))))
    save("f64_to_bf16", as_f2(bits16(convert(d64, torch.bfloat16))))

    # int64 -> half (through float32)
    i = [0, 1, -1, 2048, 2049, 2051, 65504, 65519, 65520, -65520, 2**24 + 1, 2**31, -2**53 - 1,
         2**62, -2**63, 2**63 - 1, 256, 257, 259, 16777217, 2**40 + 2**16 + 1]
    i64 = torch.cat([torch.tensor(i, dtype=torch.int64), torch.randint(-100000, 100000, (300,), generator=g)])
    save("i64_in", i64.numpy())
    save("i64_to_f16", as_f2(bits16(convert(i64, torch.float16))))
    save("i64_to_bf16", as_f2(bits16(convert(i64, torch.bfloat16))))

    ops_golden(g)


# ops at float16 and bfloat16 where PyTorch 1.13's CPU has half kernels (with (3, 5) inputs a, b
# and labels (4, 0, 2)); nabla computes them in float32 and rounds once, which PyTorch's results
# match within one unit in the last place (its bfloat16 layer norm, 14 units off, is left out)
OPS = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "exp": lambda a, b: a.exp(), "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(),
    "gelu": lambda a, b: F.gelu(a), "sum": lambda a, b: a.sum(), "mean_dim1": lambda a, b: a.mean(1),
    "softmax1": lambda a, b: a.softmax(1), "log_softmax1": lambda a, b: a.log_softmax(1),
    "mm": lambda a, b: a @ b.t(), "cross_entropy": lambda a, b: F.cross_entropy(a, torch.tensor([4, 0, 2])),
    "mse": lambda a, b: F.mse_loss(a, b), "amax0": lambda a, b: a.amax(0), "cumsum1": lambda a, b: a.cumsum(1),
    "var1": lambda a, b: a.var(1), "logsumexp1": lambda a, b: a.logsumexp(1), "norm1": lambda a, b: a.norm(2, 1),
    "add_bcast": lambda a, b: a + b[1:2], "mul_t": lambda a, b: a.t() * b.t(),
}


def ops_golden(g):
    x = torch.randn(3, 5, generator=g)
    y = torch.rand(3, 5, generator=g) + 0.5
    for dtype, tag in ((torch.float16, "f16"), (torch.bfloat16, "bf16")):
        a, b = x.to(dtype), y.to(dtype)
        save("ops_a_" + tag, a.float().numpy())
        save("ops_b_" + tag, b.float().numpy())
        for name, f in OPS.items():
            try:
                r = f(a, b)
            except RuntimeError:  # no CPU kernel for this half dtype in PyTorch 1.13
                continue
            save("op_%s_%s" % (name, tag), as_f2(bits16(r.reshape(-1))))


if __name__ == "__main__":
    main()
