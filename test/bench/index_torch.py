#!/usr/bin/python3
"""index_torch.py — PyTorch's side of bench_index: the same embedding forward, embedding
backward and gather as bench_index.c, timed the same way, on the threads given.

    /usr/bin/python3 index_torch.py THREADS

Prints one line per workload: "NAME seconds" (the best of 7 rounds of the mean over a round).
"""
import sys
import time

import torch
import torch.nn.functional as F

VOCAB, DIM, TOKENS = 50000, 128, 32768
ROWS, COLS, PICKS = 4096, 1024, 256


def best_of(fn, reps, rounds=7):
    fn()  # warm-up
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t) / reps)
    return best


def main():
    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(0)
    weight = torch.randn(VOCAB, DIM).requires_grad_(True)
    ids = torch.randint(0, VOCAB, (TOKENS,))
    g = torch.randn(TOKENS, DIM)
    x = torch.randn(ROWS, COLS)
    index = torch.randint(0, COLS, (ROWS, PICKS))

    with torch.no_grad():
        print("embedding_forward %.9f" % best_of(lambda: F.embedding(ids, weight), 20))

    def backward():
        out = F.embedding(ids, weight)
        t = time.perf_counter()
        torch.autograd.grad(out, weight, g)
        return time.perf_counter() - t

    backward()
    best = float("inf")
    for _ in range(7):
        best = min(best, sum(backward() for _ in range(10)) / 10)
    print("embedding_backward %.9f" % best)
    print("gather %.9f" % best_of(lambda: torch.gather(x, 1, index), 20))


if __name__ == "__main__":
    main()
