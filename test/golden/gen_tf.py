"""Golden data for samples/tf_gradients: the seed's TensorFlow example (two-layer net, loss =
mean over rows of the row sums of squared errors, gradients of w1 and w2) at small sizes.

Run with Debian's Python: /usr/bin/python3 test/golden/gen_tf.py (from the project root)."""
import os

import numpy as np
import torch

N, D, H = 16, 50, 20
here = os.path.dirname(os.path.abspath(__file__))
inputs = os.path.join(here, "tf", "inputs")
expected = os.path.join(here, "tf", "expected")
os.makedirs(inputs, exist_ok=True)
os.makedirs(expected, exist_ok=True)

torch.manual_seed(0)
x = torch.randn(N, D)
y = torch.randn(N, D)
w1 = torch.randn(D, H, requires_grad=True)
w2 = torch.randn(H, D, requires_grad=True)

h = torch.clamp(x.mm(w1), min=0)
y_pred = h.mm(w2)
loss = (y_pred - y).pow(2).sum(dim=1).mean()
grad_w1, grad_w2 = torch.autograd.grad(loss, [w1, w2])

for name, t in (("x", x), ("y", y), ("w1", w1), ("w2", w2)):
    np.save(os.path.join(inputs, name + ".npy"), t.detach().numpy())
np.save(os.path.join(expected, "loss.npy"), loss.detach().numpy().reshape(1))
np.save(os.path.join(expected, "grad_w1.npy"), grad_w1.numpy())
np.save(os.path.join(expected, "grad_w2.npy"), grad_w2.numpy())
print("loss", loss.item())
