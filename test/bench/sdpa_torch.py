#!/usr/bin/python3
"""sdpa_torch.py — PyTorch's side of the attention benchmark (bench_attention.c runs it):
F.scaled_dot_product_attention on the CPU, float32, timed as bench_attention times nabla's.

    python3 sdpa_torch.py [--threads T] [--causal] [--warmup N] [--repeats N] B,H,T,D [B,H,T,D ...]

For each shape, q, k and v (B, H, T, D) requiring grad, it times the forward, and the forward with
the backward of q, k and v from a gradient of ones, each the best of --repeats after --warmup, and
prints one line per measurement:
    sdpa 32 4 128 32 forward 12.345 ms
    sdpa 32 4 128 32 backward 45.678 ms
(backward: the forward and the backward together). Exits 3 after a message when this torch has no
F.scaled_dot_product_attention (it came in PyTorch 2.0; Debian's 1.13 lacks it).
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F


def best_of(f, warmup, repeats):
    best = float("inf")
    for rep in range(warmup + repeats):
        t0 = time.perf_counter()
        f()
        t1 = time.perf_counter()
        if rep >= warmup:
            best = min(best, t1 - t0)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("shapes", nargs="+", help="B,H,T,D")
    args = parser.parse_args()
    if not hasattr(F, "scaled_dot_product_attention"):
        print(f"torch {torch.__version__} has no F.scaled_dot_product_attention (PyTorch 2.0 and later)")
        sys.exit(3)
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}", flush=True)
    for spec in args.shapes:
        b, h, t, d = (int(x) for x in spec.split(","))
        q, k, v = (torch.randn(b, h, t, d, requires_grad=True) for _ in range(3))  # (B, H, T, D)
        ones = torch.ones(b, h, t, d)

        def forward():  # recording for autograd, as nabla's forward does
            F.scaled_dot_product_attention(q, k, v, is_causal=args.causal)

        def backward():
            y = F.scaled_dot_product_attention(q, k, v, is_causal=args.causal)
            torch.autograd.grad(y, (q, k, v), ones)

        for name, f in (("forward", forward), ("backward", backward)):
            seconds = best_of(f, args.warmup, args.repeats)
            print(f"sdpa {b} {h} {t} {d} {name} {seconds * 1e3:.3f} ms", flush=True)


if __name__ == "__main__":
    main()
