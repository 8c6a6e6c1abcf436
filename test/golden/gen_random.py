#!/usr/bin/python3
"""gen_random.py — golden data for nabla's generator and its draws (suite random).

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_random.py
It rewrites test/golden/random/*.npy.

Philox4x32-10 is written here a second time, in Python from the published definition (Salmon et
al., SC 2011), and checked against Random123's published known-answer vectors before anything is
written; the vectors themselves are saved (philox_kat_i64: counter[4], key[2], output[4] per row)
for the C test. The draws follow the mapping documented in kernels/random.h: every file is what
nabla must draw for the seed and shape in its name. PyTorch gives the dropout values: the output
and the input's gradient of x * keep / (1 - p) for nabla's keep mask, as PyTorch's dropout scales.
"""
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "random")
M32 = 0xFFFFFFFF

# Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, output
KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([M32] * 4, [M32] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


def philox(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for rnd in range(10):
        if rnd:
            k0 = (k0 + 0x9E3779B9) & M32
            k1 = (k1 + 0xBB67AE85) & M32
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & M32, p1 & M32, ((p0 >> 32) ^ c3 ^ k1) & M32, p0 & M32
    return c0, c1, c2, c3


def at(seed, c):
    c &= (1 << 64) - 1
    return philox([c & M32, c >> 32, 0, 0], [seed & M32, seed >> 32])


def u24(x):
    return np.float32((x >> 8) * 2.0 ** -24)


def u53(hi, lo):
    return ((hi << 21) | (lo >> 11)) * 2.0 ** -53


def bits64(seed, offset, i):  # two elements per output: words 0, 1 or 2, 3
    x = at(seed, offset + i // 2)
    j = 2 * (i % 2)
    return (x[j] << 32) | x[j + 1]


def u53_at(seed, offset, i):
    return (bits64(seed, offset, i) >> 11) * 2.0 ** -53


def rand(seed, offset, n, f32):
    if f32:  # four elements per output
        return np.array([u24(at(seed, offset + i // 4)[i % 4]) for i in range(n)], dtype=np.float32)
    return np.array([u53_at(seed, offset, i) for i in range(n)], dtype=np.float64)


def uniform(seed, offset, n, a, b):  # float64
    out = []
    for i in range(n):
        v = a + (b - a) * u53_at(seed, offset, i)
        out.append(np.nextafter(b, a) if v >= b else v)
    return np.array(out)


def normal(seed, offset, n, mean=0.0, std=1.0):  # float64
    out = []
    for i in range(n):
        x = at(seed, offset + i // 2)
        r = math.sqrt(-2.0 * math.log(1.0 - u53(x[0], x[1])))
        theta = 6.283185307179586 * u53(x[2], x[3])
        out.append(mean + std * (r * (math.sin(theta) if i & 1 else math.cos(theta))))
    return np.array(out)


def randint(seed, offset, n, low, high):
    out = []
    for i in range(n):
        out.append(low + bits64(seed, offset, i) % (high - low))
    return np.array(out, dtype=np.int64)


def bernoulli(seed, offset, p):  # p: float64 array
    flat = p.reshape(-1)
    return np.array([1.0 if u53_at(seed, offset, i) < flat[i] else 0.0 for i in range(flat.size)]).reshape(p.shape)


def multinomial(seed, offset, probs, s, replacement):
    rows, k = probs.shape
    out = np.zeros((rows, s), dtype=np.int64)
    for r in range(rows):
        p = probs[r]
        if replacement:
            total = sum(p)  # in order, as nabla sums
            last = max(c for c in range(k) if p[c] > 0)
            for j in range(s):
                target = u53(*at(seed, offset + r * s + j)[:2]) * total
                acc, pick = 0.0, last
                for c in range(k):
                    acc += p[c]
                    if acc > target:
                        pick = c
                        break
                out[r, j] = pick
        else:
            keys = [(-math.log(1.0 - u53(*at(seed, offset + r * k + c)[:2])) / p[c], c) for c in range(k) if p[c] > 0]
            out[r] = [c for _, c in sorted(keys)[:s]]
    return out


def save(name, a):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a))


def main():
    for ctr, key, want in KAT:
        assert list(philox(ctr, key)) == want, (ctr, key)
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    save("philox_kat_i64", np.array([c + k + w for c, k, w in KAT], dtype=np.int64))

    # seed 42: rand (3, 5) then, continuing, rand (4,) — the offset moves past the first draw's
    # ceil(15 / 4) = 4 counters
    save("rand_seed42_3x5_f32", rand(42, 0, 15, True).reshape(3, 5))
    save("rand_seed42_3x5_then_4_f32", rand(42, 4, 4, True))
    save("rand_seed42_3x5_f64", rand(42, 0, 15, False).reshape(3, 5))
    # a seed above 2^32 uses both key words
    save("rand_seed_big_6_f64", rand(0x123456789ABCDEF0, 0, 6, False))
    # randn of an odd count (7): the last pair's sine is unused; then randn (2,) from offset 4
    save("randn_seed7_7_f64", normal(7, 0, 7))
    save("randn_seed7_7_then_2_f64", normal(7, 4, 2))
    save("randn_seed7_2x3_f32", normal(7, 0, 6).astype(np.float32).reshape(2, 3))
    save("randint_seed3_m5_17_4x6_i64", randint(3, 0, 24, -5, 17).reshape(4, 6))
    save("randint_seed3_0_2_10_i64", randint(3, 0, 10, 0, 2))
    save("uniform_seed5_m2_3_2x4_f64", uniform(5, 0, 8, -2.0, 3.0).reshape(2, 4))
    save("normal_seed5_1p5_2_2x4_f64", normal(5, 0, 8, 1.5, 2.0).reshape(2, 4))
    probs = np.array([[0.0, 0.1, 0.5, 0.9, 1.0], [0.25, 0.75, 0.3, 0.6, 0.05]])
    save("bernoulli_probs_f64", probs)
    save("bernoulli_seed11_f64", bernoulli(11, 0, probs))
    save("bernoulli_scalar_seed11_0p3_12_f64", bernoulli(11, 0, np.full(12, 0.3)))
    mprobs = np.array([[0.1, 0.0, 0.3, 0.6, 0.2], [1.0, 2.0, 0.0, 0.5, 4.0], [0.0, 0.0, 0.0, 1.0, 0.0]])
    save("multinomial_probs_f64", mprobs)
    save("multinomial_seed13_repl_6_i64", multinomial(13, 0, mprobs, 6, True))
    save("multinomial_seed13_norepl_3_i64", multinomial(13, 0, mprobs[:2], 3, False))

    # dropout: p = 0.25 on x (3, 4) float64, seed 17; its keep mask is bernoulli(0.75)
    p = 0.25
    x = torch.linspace(-2.0, 3.5, 12, dtype=torch.float64).reshape(3, 4).requires_grad_(True)
    keep = torch.from_numpy(bernoulli(17, 0, np.full((3, 4), 1.0 - p)))
    y = x * keep / (1.0 - p)
    gy = torch.linspace(0.5, 1.6, 12, dtype=torch.float64).reshape(3, 4)
    (gx,) = torch.autograd.grad(y, x, gy)
    save("dropout_x_f64", x.detach().numpy())
    save("dropout_gy_f64", gy.numpy())
    save("dropout_seed17_0p25_y_f64", y.detach().numpy())
    save("dropout_seed17_0p25_gx_f64", gx.numpy())


if __name__ == "__main__":
    main()
