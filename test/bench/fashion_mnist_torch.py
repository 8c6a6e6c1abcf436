#!/usr/bin/python3
"""fashion_mnist_torch.py — PyTorch's side of the Fashion-MNIST comparison (bench_fashion.c runs it).

The same training as samples/fashion_mnist.c: a 784-256-10 network (nn.Linear's default
initialisation, ReLU), cross entropy, torch.optim.SGD(lr=0.03, momentum=0.9), shuffled batches of
128 (the last, smaller one kept), images scaled to [0, 1] and normalised with the training set's
mean and standard deviation (0.2860, 0.3530), as torchvision's Normalize would. The IDX files are read with gzip and
numpy and held in memory as tensors before the clock starts; each epoch's time covers the
shuffling, the batch gathering and the training steps, not the evaluation.

    /usr/bin/python3 fashion_mnist_torch.py [--epochs N] [--threads T] [--seed S] [--data DIR]

Prints one line per epoch, in the sample's format:
    epoch 1/3: train loss 0.5123, test accuracy: 85.31%, 1.23 s
Needs Debian's python3-torch (1.13) and python3-numpy.
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    """An IDX file (gzip-compressed or not) as a numpy array of its dims."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(data_dir, name):
    for candidate in (os.path.join(data_dir, name + ".gz"), os.path.join(data_dir, name)):
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(f"{data_dir}/{name}.gz (or {data_dir}/{name}) is missing: install the Debian "
                            "package dataset-fashion-mnist or pass --data DIR")


MEAN, STD = 0.2860, 0.3530  # of the training pixels scaled to [0, 1]


def load(data_dir, images, labels):
    pixels = read_idx(find(data_dir, images)).astype(np.float32) / np.float32(255.0)
    x = torch.from_numpy((pixels - np.float32(MEAN)) / np.float32(STD))
    y = torch.from_numpy(read_idx(find(data_dir, labels)).astype(np.int64))
    return x.reshape(x.shape[0], 784), y  # (N, 784), (N,)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}", flush=True)
    train_x, train_y = load(args.data, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    test_x, test_y = load(args.data, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

    model = nn.Sequential(nn.Linear(784, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    n = train_x.shape[0]

    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(n)
        loss_sum, steps = 0.0, 0
        for first in range(0, n, args.batch):
            rows = order[first:first + args.batch]
            x, y = train_x[rows], train_y[rows]  # (B, 784), (B,)
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            steps += 1
        seconds = time.perf_counter() - start
        with torch.no_grad():
            correct = sum(int((model(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum())
                          for i in range(0, test_x.shape[0], 1000))
        accuracy = 100.0 * correct / test_x.shape[0]
        print(f"epoch {epoch}/{args.epochs}: train loss {loss_sum / steps:.4f}, "
              f"test accuracy: {accuracy:.2f}%, {seconds:.2f} s", flush=True)


if __name__ == "__main__":
    main()
