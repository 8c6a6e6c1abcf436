#!/usr/bin/python3
"""gen_mlp.py — golden data for samples/mlp_manual: the seed's two-layer network trained by
hand-written backprop in PyTorch (float32, N=64, D_in=1000, H=100, D_out=10, lr=1e-6, 500 steps).

Writes test/golden/mlp/inputs/{x,y,w1,w2}.npy (drawn with torch.randn after torch.manual_seed(0))
and test/golden/mlp/expected/{w1,w2,losses}.npy (the weights after the last step and every step's
loss). Run with Debian's Python: /usr/bin/python3 test/golden/gen_mlp.py
"""
import os

import numpy as np
import torch

N, D_in, H, D_out = 64, 1000, 100, 10
LEARNING_RATE = 1e-6
STEPS = 500

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlp")


def save(folder, name, t):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    np.save(os.path.join(HERE, folder, name + ".npy"), np.ascontiguousarray(t.numpy(), dtype=np.float32))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    dtype = torch.float32
    x = torch.randn(N, D_in, dtype=dtype)     # (N, D_in)
    y = torch.randn(N, D_out, dtype=dtype)    # (N, D_out)
    w1 = torch.randn(D_in, H, dtype=dtype)    # (D_in, H)
    w2 = torch.randn(H, D_out, dtype=dtype)   # (H, D_out)
    for name, t in (("x", x), ("y", y), ("w1", w1), ("w2", w2)):
        save("inputs", name, t)

    losses = torch.empty(STEPS, dtype=dtype)  # (STEPS,)
    for t in range(STEPS):
        h = x.mm(w1)                          # (N, H)
        h_relu = h.clamp(min=0)
        y_pred = h_relu.mm(w2)                # (N, D_out)
        loss = (y_pred - y).pow(2).sum()
        losses[t] = loss

        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.t().mm(grad_y_pred)  # (H, D_out)
        grad_h_relu = grad_y_pred.mm(w2.t())  # (N, H)
        grad_h = grad_h_relu.clone()
        grad_h[h < 0] = 0
        grad_w1 = x.t().mm(grad_h)            # (D_in, H)

        w1 -= LEARNING_RATE * grad_w1
        w2 -= LEARNING_RATE * grad_w2

    save("expected", "w1", w1)
    save("expected", "w2", w2)
    save("expected", "losses", losses)
    print("losses: first %.6g, step 100 %.6g, last %.6g" % (losses[0], losses[99], losses[-1]))


if __name__ == "__main__":
    main()
