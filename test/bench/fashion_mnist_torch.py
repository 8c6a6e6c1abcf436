#!/usr/bin/python3
"""fashion_mnist_torch.py — PyTorch's side of the Fashion-MNIST comparisons (bench_fashion.c runs it).

--model mlp (the default) is the training of samples/fashion_mnist.c: a 784-256-10 network
(nn.Linear's default initialisation, ReLU), cross entropy, torch.optim.SGD(lr=0.03, momentum=0.9).
--model cnn is that of samples/fashion_cnn.c: conv 3x3 32 -> BatchNorm2d -> ReLU -> max-pool 2 ->
conv 3x3 64 -> BatchNorm2d -> ReLU -> max-pool 2 -> linear 3136-128 -> ReLU -> dropout 0.25 ->
linear 128-10, with torch.optim.AdamW(lr=1e-3, weight_decay=1e-2), evaluated in eval mode.
Both take shuffled batches of 128 (the last, smaller one kept), images scaled to [0, 1] and
normalised with the training set's mean and standard deviation (0.2860, 0.3530), as torchvision's
Normalize would. The IDX files are read with gzip and numpy and held in memory as tensors (on
--device) before the clock starts; each epoch's time covers the shuffling, the batch gathering
and the training steps (synchronised on CUDA), not the evaluation.

    python3 fashion_mnist_torch.py [--model mlp|cnn] [--device cpu|cuda] [--epochs N] [--threads T]
                                   [--seed S] [--data DIR]

Prints one line per epoch, in the sample's format:
    epoch 1/3: train loss 0.5123, test accuracy: 85.31%, 1.23 s
Needs PyTorch (Debian's python3-torch 1.13 or later) and numpy. On CUDA, cuDNN picks its
convolution algorithms (torch.backends.cudnn.benchmark) and TF32 stays off, as nabla computes in
float32.
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
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=None, help="0.03 (mlp) or 1e-3 (cnn)")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.model} on {device}", flush=True)
    train_x, train_y = (t.to(device) for t in load(args.data, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"))
    test_x, test_y = (t.to(device) for t in load(args.data, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))

    if args.model == "mlp":
        model = nn.Sequential(nn.Linear(784, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
        optimizer_of = lambda params: torch.optim.SGD(params, lr=args.lr or 0.03, momentum=args.momentum)
    else:
        model = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))
        optimizer_of = lambda params: torch.optim.AdamW(params, lr=args.lr or 1e-3, weight_decay=1e-2)
    model = model.to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optimizer_of(model.parameters())
    n = train_x.shape[0]

    for epoch in range(1, args.epochs + 1):
        model.train()
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        order = torch.randperm(n, device=device)
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
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum())
                          for i in range(0, test_x.shape[0], 1000))
        accuracy = 100.0 * correct / test_x.shape[0]
        print(f"epoch {epoch}/{args.epochs}: train loss {loss_sum / steps:.4f}, "
              f"test accuracy: {accuracy:.2f}%, {seconds:.2f} s", flush=True)


if __name__ == "__main__":
    main()
