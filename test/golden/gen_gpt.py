#!/usr/bin/python3
"""gen_gpt.py — golden data for samples/gpt_model.c (suite gpt, test/test_gpt.c): the same GPT in
PyTorch, written with explicit ops, and its first training steps.

Run from anywhere with Debian's Python (torch 1.13, numpy 1.24):
    /usr/bin/python3 test/golden/gen_gpt.py
It rewrites test/golden/gpt/: the initial weights, one float32 .npy per parameter named as
nabla's list names it (wte.weight.npy, blocks.0.attn.qkv.weight.npy, ...), drawn as nanoGPT
draws them; the token batches (tokens.npy, int64 (STEPS, BATCH, CONTEXT + 1): inputs are the first
CONTEXT of each row, targets the last CONTEXT; rows count in steps of 1 or 2 from a random
start, modulo VOCAB); and the loss of each of the first STEPS steps of
training from those weights with AdamW (lr 1e-3, betas 0.9/0.95, weight decay 0.1 on every
parameter, constant lr, no clipping), in float32 (losses_f32.npy) and in float64 from the same
float32 weights (losses_f64.npy). The model is small and has no dropout, so each step is
deterministic; the loss is recorded before each step's update.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt")
VOCAB, CONTEXT, WIDTH, LAYERS, HEADS = 13, 8, 16, 2, 2
BATCH, STEPS = 4, 20


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))  # (B, H, T, D)
        scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(k.size(-1)))
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        weights = F.softmax(scores.masked_fill(causal, float("-inf")), dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(b, t, c)
        return self.proj(y)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(WIDTH, 4 * WIDTH)
        self.proj = nn.Linear(4 * WIDTH, WIDTH)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(WIDTH)
        self.attn = Attention()
        self.ln2 = nn.LayerNorm(WIDTH)
        self.mlp = Mlp()

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, WIDTH)
        self.wpe = nn.Embedding(CONTEXT, WIDTH)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(WIDTH)
        # nanoGPT's initialisation
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * LAYERS))
            elif name.startswith("w") or (name.endswith(".weight") and "ln" not in name):
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith(".bias") and "ln" not in name:
                nn.init.zeros_(p)

    def forward(self, tokens, targets):
        t = tokens.size(1)
        x = self.wte(tokens) + self.wpe(torch.arange(t))
        for block in self.blocks:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # the head tied to the embedding
        return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))


def train(model, tokens):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    losses = []
    for s in range(STEPS):
        loss = model(tokens[s, :, :-1], tokens[s, :, 1:])
        losses.append(loss.item())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return np.array(losses, dtype=np.float64)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    model = Gpt()
    names = []
    for name, p in model.named_parameters():
        np.save(os.path.join(OUT, name + ".npy"), p.detach().numpy())
        names.append(name)
    with open(os.path.join(OUT, "names.txt"), "w") as f:
        f.write("".join(n + "\n" for n in names))
    # counting rows (start, start + step, ...) mod VOCAB, a pattern the model starts learning at once
    start = torch.randint(0, VOCAB, (STEPS, BATCH, 1))
    step = torch.randint(1, 3, (STEPS, BATCH, 1))
    tokens = (start + step * torch.arange(CONTEXT + 1)) % VOCAB
    np.save(os.path.join(OUT, "tokens.npy"), tokens.numpy())
    state = {k: v.clone() for k, v in model.state_dict().items()}
    np.save(os.path.join(OUT, "losses_f32.npy"), train(model, tokens))
    model64 = Gpt().double()
    model64.load_state_dict({k: v.double() for k, v in state.items()})
    np.save(os.path.join(OUT, "losses_f64.npy"), train(model64, tokens))


if __name__ == "__main__":
    main()
