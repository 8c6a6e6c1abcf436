#!/usr/bin/python3
"""gpt_torch.py — PyTorch's side of the GPT training comparison (bench_gpt.c runs it), and the
reference model test/gpt_torch_eval.py imports.

The model and training of samples/gpt.c at its defaults: a character-level GPT with a context of
128, width 128, 4 pre-LayerNorm blocks of 4-head causal self-attention (a fused qkv Linear and an
output projection) and a GELU MLP of 4x the width, a final LayerNorm, token and learned position
embeddings, the token embedding tied to the output head; nanoGPT's initialisation; AdamW (lr 1e-3,
betas 0.9/0.95, weight decay 0.1 on matrices, none on biases, norms and embeddings), gradient
clipping at 1.0, batches of 32 random windows of the text. Attention is PyTorch's
F.scaled_dot_product_attention where it exists (2.0 and later), else the composition
softmax(q k^T / sqrt(d) + causal mask) v (Debian's 1.13).

    python3 gpt_torch.py [--device cpu|cuda] [--threads T] [--steps N] [--warmup N] [--graphs]
                         [--data PATH]
    python3 gpt_torch.py --train [--steps 2000] [--lr-warmup 100] [--eval-windows 512] [--seed 0] ...

Times --steps training steps after --warmup ones, and prints
    tokens/s: 123456, ms/step: 33.18 (eager)
(with --graphs on CUDA, the whole step, the optimizer included, is captured once and replayed:
"(graphs)"). With --train it trains as the sample does at its defaults instead: --steps steps with
the sample's schedule (a linear warm-up over --lr-warmup steps from 1% of the rate, then a cosine
down to a tenth of it at the last step), and prints the loss every 100 steps and, at the end, the
sample's deterministic validation loss, "val loss (first N windows): X": the mean loss over the
first N consecutive, non-overlapping context windows of the validation part.

The text: PATH, a file or a folder whose files (not .dat or .u8, sorted by name) are joined, as
the sample reads Debian's fortunes; its characters are UTF-8 code points (a byte that is not valid
UTF-8 the character of its value), the sorted characters the vocabulary, the first 90% of them
the training part and the rest the validation part (samples/text_data.h). The parameters are
named as the sample names them (wte.weight, blocks.0.attn.qkv.weight, ...).
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_bytes(path):
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.endswith((".dat", ".u8")))
        parts = []
        for n in names:
            p = os.path.join(path, n)
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    parts.append(f.read())
        return b"".join(parts)
    with open(path, "rb") as f:
        return f.read()


def read_text(path):
    """The text at path as samples/text_data.c reads it: (tokens, a LongTensor of the whole text;
    vocab, the sorted code points; n_train, the training part's length)."""
    raw = read_bytes(path).decode("utf-8", errors="surrogateescape")
    # a byte that is not valid UTF-8 comes back as U+DC80..U+DCFF: the character of its value
    points = [ord(c) - 0xDC00 if 0xDC80 <= ord(c) <= 0xDCFF else ord(c) for c in raw]
    vocab = sorted(set(points))
    index = {c: i for i, c in enumerate(vocab)}
    tokens = torch.tensor([index[c] for c in points], dtype=torch.long)
    return tokens, vocab, len(points) * 9 // 10


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))  # (B, H, T, D)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            y = att.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Mlp(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, 4 * width)
        self.proj = nn.Linear(4 * width, width)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = Mlp(width)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab, context, width, layers, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        for name, p in self.named_parameters():  # nanoGPT's initialisation
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()  # the tied head: (B, T, vocab)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@torch.no_grad()
def evaluate_windows(model, val, windows, context, batch):
    """The sample's deterministic validation loss: the mean loss over the first windows
    consecutive, non-overlapping context windows of val (as many as it holds when fewer), batch
    windows at a time, each batch's mean loss weighted by its windows. (windows, loss)."""
    n = min(windows, (len(val) - 1) // context)
    was_training = model.training
    model.eval()
    total = 0.0
    for first in range(0, n, batch):
        count = min(batch, n - first)
        starts = (first + torch.arange(count, device=val.device)[:, None]) * context
        offsets = torch.arange(context, device=val.device)
        total += count * model(val[starts + offsets], val[starts + offsets + 1]).item()
    model.train(was_training)
    return n, total / n


def lr_at(step, lr, warmup, steps):
    """The sample's rate at step (nb_lr_schedule's WARMUP_COSINE as samples/gpt.c sets it: torch's
    SequentialLR of LinearLR(0.01) over warmup steps and CosineAnnealingLR down to lr / 10)."""
    warmup = warmup if warmup < steps else max(steps - 1, 0)
    total = steps if steps > warmup else warmup + 1
    if step < warmup:
        return lr * (0.01 + 0.99 * step / warmup)
    return lr / 10 + (lr - lr / 10) * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) / 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--graphs", action="store_true")
    parser.add_argument("--data", default="/usr/share/games/fortunes")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--train", action="store_true", help="train as the sample does and evaluate")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--lr-warmup", type=int, default=100)
    parser.add_argument("--eval-windows", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
    tokens, vocab, n_train = read_text(args.data)
    data = tokens.to(device)
    train, val = data[:n_train], data[n_train:]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {device}, vocabulary {len(vocab)}, "
          f"{len(train)} training characters", flush=True)

    model = GPT(len(vocab), args.context, args.width, args.layers, args.heads).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and not n.startswith(("wte", "wpe"))]
    rest = [p for n, p in model.named_parameters() if not (p.dim() == 2 and not n.startswith(("wte", "wpe")))]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
    extra = {"capturable": True} if args.graphs else {}
    optimizer = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8, **extra)
    offsets = torch.arange(args.context, device=device)

    def batch():
        starts = torch.randint(0, len(train) - args.context, (args.batch, 1), device=device)
        return train[starts + offsets], train[starts + offsets + 1]  # (B, T) inputs and targets

    def step(x, y):
        loss = model(x, y)
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    if args.train:
        start, window = time.perf_counter(), 0.0
        for s in range(args.steps):
            for g in optimizer.param_groups:
                g["lr"] = lr_at(s, args.lr, args.lr_warmup, args.steps)
            window += step(*batch()).item()
            if (s + 1) % 100 == 0 or s + 1 == args.steps:
                count = 100 if (s + 1) % 100 == 0 else (s + 1) % 100
                print(f"step {s + 1}/{args.steps}: loss {window / count:.4f}, "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
                window = 0.0
        windows, loss = evaluate_windows(model, val, args.eval_windows, args.context, args.batch)
        print(f"val loss (first {windows} windows): {loss:.6f}", flush=True)
        return

    mode = "eager"
    run = lambda: step(*batch()).item()
    if args.graphs:
        if not cuda:
            raise SystemExit("--graphs needs --device cuda")
        mode = "graphs"
        static_x, static_y = batch()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step(static_x, static_y)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        optimizer.zero_grad(set_to_none=False)
        with torch.cuda.graph(graph):
            static_loss = step(static_x, static_y)

        def run():
            x, y = batch()
            static_x.copy_(x)
            static_y.copy_(y)
            graph.replay()
            return static_loss.item()

    for _ in range(args.warmup):
        run()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = run()
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.steps
    print(f"loss {loss:.4f}", flush=True)
    print(f"tokens/s: {args.batch * args.context / seconds:.0f}, ms/step: {seconds * 1e3:.2f} ({mode})", flush=True)


if __name__ == "__main__":
    main()
