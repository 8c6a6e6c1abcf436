#!/usr/bin/python3
"""gen_module.py — golden data for nabla's named modules and the Embedding and LayerNorm layers
(suite nn, test/test_module.c), from PyTorch.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_module.py
It rewrites test/golden/module/: the names of a nested model's named_parameters(),
named_buffers() and state_dict() in PyTorch's order, one per line (*.txt), and the LayerNorm and
Embedding layers' outputs (*.npy). nabla does not count BatchNorm's num_batches_tracked, so that
buffer is left out of the lists; state_dict() lists a tied weight under both names, nabla's state
list once (under the first), as named_parameters() does.
"""
import os

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "module")


class Attention(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.qkv = nn.Linear(width, 3 * width)
        self.register_buffer("mask", torch.ones(4, 4).tril())
        self.proj = nn.Linear(width, width)
        self.drop = nn.Dropout(0.1)


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = Attention(width)
        self.ln2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 4 * width)
        self.proj = nn.Linear(4 * width, width)


class Model(nn.Module):
    """Own parameters registered after children still come first; a tied head is listed once."""

    def __init__(self, vocab=11, width=8):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.blocks = nn.ModuleList([Block(width) for _ in range(2)])
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("steps", torch.zeros(1))
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.wte.weight


def write_names(name, names):
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        f.write("".join(n + "\n" for n in names if not n.endswith("num_batches_tracked")))


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().contiguous().numpy())


def main():
    os.makedirs(OUT, exist_ok=True)
    m = Model()
    write_names("named_parameters", [n for n, _ in m.named_parameters()])
    write_names("named_buffers", [n for n, _ in m.named_buffers()])
    seen, state = set(), []
    for n, t in m.state_dict(keep_vars=True).items():
        if id(t) not in seen:
            seen.add(id(t))
            state.append(n)
    write_names("state", state)

    # LayerNorm layers as made (weight 1, bias 0), over the last dim and the last two dims
    torch.manual_seed(0)
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        x = torch.randn(2, 3, 5, dtype=torch.float64).to(dtype) * 3 + 1
        save("ln_x_" + tag, x)
        save("ln_last_" + tag, nn.LayerNorm(5).to(dtype)(x))
        save("ln_two_" + tag, nn.LayerNorm((3, 5), eps=1e-3).to(dtype)(x))
        save("ln_plain_" + tag, nn.LayerNorm(5, elementwise_affine=False).to(dtype)(x))
        w = torch.randn(6, 4, dtype=torch.float64).to(dtype)
        emb = nn.Embedding(6, 4, padding_idx=-2).to(dtype)
        with torch.no_grad():
            emb.weight.copy_(w)
        idx = torch.tensor([[1, 4, 4], [0, 5, 2]])
        y = emb(idx)
        y.backward(torch.ones_like(y))
        save("emb_w_" + tag, w)
        save("emb_y_" + tag, y)
        save("emb_grad_" + tag, emb.weight.grad)
    save("emb_idx", torch.tensor([[1, 4, 4], [0, 5, 2]]))


if __name__ == "__main__":
    main()
