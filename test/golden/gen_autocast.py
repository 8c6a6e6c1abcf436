#!/usr/bin/python3
"""gen_autocast.py — golden data for nabla's autocast (suite amp), made by PyTorch's CPU autocast
(torch.autocast("cpu", dtype=torch.bfloat16)).

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_autocast.py
It rewrites test/golden/autocast/*.npy:
  cpu_dtypes.npy  int64 (len(OPS), 2): the dtype of each op's result inside the region, with
                  float32 inputs (column 0) and with bfloat16 inputs (column 1), as nabla's
                  nb_dtype numbers (float32 0, float64 1, int64 2, bool 3, float16 4, bfloat16 5);
                  -1 where PyTorch 1.13 refuses the op. The rows follow OPS, which
                  test/test_amp.c lists in the same order.
  mlp_*.npy       a two-layer MLP (linear, relu, linear) and its MSE loss inside the region:
                  the inputs, the parameters (float32), the output (bfloat16 values as float32),
                  the loss (float32) and the parameters' gradients (float32).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autocast")
CODES = {torch.float32: 0, torch.float64: 1, torch.int64: 2, torch.bool: 3, torch.float16: 4, torch.bfloat16: 5}


def save(name, a):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a))


def inputs(dtype):
    g = torch.Generator().manual_seed(5)

    def r(*shape):
        return torch.randn(*shape, generator=g).to(dtype)

    return {
        "a": r(4, 6), "b": r(6, 5), "a3": r(2, 4, 6), "b3": r(2, 6, 5),
        "x": r(3, 6), "w": r(5, 6), "bias": r(5),
        "x3": r(2, 3, 8), "w3": r(4, 3, 3), "b4": r(4),
        "x4": r(2, 3, 6, 6), "w4": r(4, 3, 3, 3), "wt4": r(3, 4, 3, 3),
        "ln_w": r(6), "ln_b": r(6),
        "p": (torch.rand(4, 6, generator=g) + 0.5).to(dtype),
        "labels": torch.tensor([1, 0, 5, 2]),
        "bn_w": torch.randn(3, generator=g), "bn_b": torch.randn(3, generator=g),  # float32: a layer's parameters
    }


# (name in test/test_amp.c, PyTorch's op on the inputs)
OPS = [
    ("mm", lambda t: torch.mm(t["a"], t["b"])),
    ("matmul", lambda t: torch.matmul(t["a3"], t["b3"])),
    ("linear", lambda t: F.linear(t["x"], t["w"], t["bias"])),
    ("conv1d", lambda t: F.conv1d(t["x3"], t["w3"], t["b4"])),
    ("conv2d", lambda t: F.conv2d(t["x4"], t["w4"], t["b4"])),
    ("conv_transpose2d", lambda t: F.conv_transpose2d(t["x4"], t["wt4"], t["b4"])),
    ("softmax", lambda t: torch.softmax(t["a"], -1)),
    ("log_softmax", lambda t: torch.log_softmax(t["a"], -1)),
    ("layer_norm", lambda t: F.layer_norm(t["a"], (6,), t["ln_w"], t["ln_b"])),
    ("sum", lambda t: torch.sum(t["a"])),
    ("sum_dim", lambda t: torch.sum(t["a"], 1)),
    ("cumsum", lambda t: torch.cumsum(t["a"], 1)),
    ("prod", lambda t: torch.prod(t["p"])),
    ("prod_dim", lambda t: torch.prod(t["p"], 1)),
    ("norm", lambda t: torch.norm(t["a"], 2, [0, 1])),
    ("logsumexp", lambda t: torch.logsumexp(t["a"], [1])),
    ("exp", lambda t: torch.exp(t["a"])),
    ("log", lambda t: torch.log(t["p"])),
    ("log1p", lambda t: torch.log1p(t["p"])),
    ("pow_scalar", lambda t: t["p"] ** 0.5),
    ("rsqrt", lambda t: torch.rsqrt(t["p"])),
    ("reciprocal", lambda t: torch.reciprocal(t["p"])),
    ("softplus", lambda t: F.softplus(t["a"])),
    ("mse_loss", lambda t: F.mse_loss(t["a"], t["p"])),
    ("l1_loss", lambda t: F.l1_loss(t["a"], t["p"])),
    ("smooth_l1_loss", lambda t: F.smooth_l1_loss(t["a"], t["p"])),
    ("huber_loss", lambda t: F.huber_loss(t["a"], t["p"])),
    ("cross_entropy", lambda t: F.cross_entropy(t["a"], t["labels"])),
    ("nll_loss", lambda t: F.nll_loss(t["a"], t["labels"])),
    ("bce_with_logits", lambda t: F.binary_cross_entropy_with_logits(t["a"], torch.sigmoid(t["p"]))),
    ("add", lambda t: t["a"] + t["p"]),
    ("mul", lambda t: t["a"] * t["p"]),
    ("relu", lambda t: torch.relu(t["a"])),
    ("gelu", lambda t: F.gelu(t["a"])),
    ("mean", lambda t: torch.mean(t["a"])),
    ("tanh", lambda t: torch.tanh(t["a"])),
    ("batch_norm", lambda t: F.batch_norm(t["x4"], torch.zeros(3), torch.ones(3), t["bn_w"], t["bn_b"], True)),
    ("max_pool2d", lambda t: F.max_pool2d(t["x4"], 2)),
    ("avg_pool2d", lambda t: F.avg_pool2d(t["x4"], 2)),
    ("adaptive_avg_pool2d", lambda t: F.adaptive_avg_pool2d(t["x4"], (2, 3))),
]


def dtype_table():
    table = np.full((len(OPS), 2), -1, dtype=np.int64)
    for col, dtype in enumerate([torch.float32, torch.bfloat16]):
        t = inputs(dtype)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            for row, (name, op) in enumerate(OPS):
                try:
                    table[row, col] = CODES[op(t).dtype]
                except RuntimeError as e:
                    print(f"{name} with {dtype}: refused ({str(e).splitlines()[0]})")
    save("cpu_dtypes", table)
    for (name, _), (f32, bf16) in zip(OPS, table):
        print(f"{name:18s} {f32:3d} {bf16:3d}")


def mlp():
    g = torch.Generator().manual_seed(11)
    x = torch.randn(8, 16, generator=g)
    target = torch.randn(8, 4, generator=g)
    w1 = (torch.randn(32, 16, generator=g) * 0.25).requires_grad_()
    b1 = (torch.randn(32, generator=g) * 0.1).requires_grad_()
    w2 = (torch.randn(4, 32, generator=g) * 0.2).requires_grad_()
    b2 = (torch.randn(4, generator=g) * 0.1).requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = F.linear(torch.relu(F.linear(x, w1, b1)), w2, b2)
        loss = F.mse_loss(y, target)
    assert y.dtype == torch.bfloat16 and loss.dtype == torch.float32
    loss.backward()
    for name, t in [("x", x), ("target", target), ("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)]:
        save("mlp_" + name, t.detach().numpy().astype(np.float32))
    save("mlp_y", y.detach().float().numpy())
    save("mlp_loss", loss.detach().numpy().astype(np.float32))
    for name, t in [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)]:
        assert t.grad.dtype == torch.float32
        save("mlp_grad_" + name, t.grad.numpy())


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    dtype_table()
    mlp()
