"""gen_safetensors.py — writes the safetensors files that test/test_safetensors.c loads, with
Python's safetensors package (the format's reference writer), and each tensor's values as .npy.

Run with Debian's Python (torch 1.13, numpy 1.24) and safetensors (pip install --user safetensors):
    /usr/bin/python3 test/golden/gen_safetensors.py
The writer orders metadata keys as a hash map does, so reruns may differ in that order only.
Outputs: test/golden/safetensors_numpy.safetensors and safetensors_torch.safetensors, and
test/golden/safetensors/<file>_<tensor>.npy (the name as file_name spells it) holding the values each tensor must load as.
"""
import os

import numpy as np
import safetensors.numpy
import safetensors.torch
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
VALUES = os.path.join(HERE, "safetensors")
os.makedirs(VALUES, exist_ok=True)


def file_name(name):
    """A tensor's name as a file name: letters, digits and '.' kept, anything else '_'."""
    return "".join(c if c.isascii() and (c.isalnum() or c == ".") else "_" for c in name)


def values(prefix, tensors):
    for name, arr in tensors.items():
        np.save(os.path.join(VALUES, f"{prefix}_{file_name(name)}.npy"), np.asarray(arr))


# every dtype nabla reads, 0-d and empty tensors, and a metadata map
rng = np.random.default_rng(7)
arrays = {
    "weight": rng.standard_normal((3, 4)).astype("<f4"),  # (3, 4)
    "bias": np.array([0.5, -1.0, 1.0e-30], dtype="<f8"),  # (3,)
    "steps": np.array([[-(2 ** 63), 2 ** 63 - 1], [0, 42]], dtype="<i8"),  # (2, 2)
    "mask": np.array([True, False, True, True, False], dtype="|b1"),  # (5,)
    "scale": np.array(2.5, dtype="<f4"),  # ()
    "nothing": np.zeros((0, 3), dtype="<f8"),  # (0, 3)
    "odd.name/with spaces": np.arange(6, dtype="<i8").reshape(2, 1, 3),  # (2, 1, 3)
}
safetensors.numpy.save_file(arrays, os.path.join(HERE, "safetensors_numpy.safetensors"),
                            metadata={"format": "np", "epoch": "12", "note": "höhe — 高さ"})
values("numpy", arrays)

# PyTorch's writer: tensors that were views (a transpose, a narrowed row) are saved contiguous
torch.manual_seed(3)
base = torch.randn(4, 5, dtype=torch.float64)
tensors = {
    "layer.0.weight": base.t().contiguous(),  # (5, 4)
    "layer.0.bias": base[1, 1:4].clone(),  # (3,)
    "embed": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7,  # (3, 4)
    "labels": torch.tensor([3, 1, 4, 1, 5], dtype=torch.int64),  # (5,)
    "flags": torch.tensor([[True, False], [False, True]]),  # (2, 2)
}
safetensors.torch.save_file(tensors, os.path.join(HERE, "safetensors_torch.safetensors"))
values("torch", {k: v.numpy() for k, v in tensors.items()})

# half precision as PyTorch writes it: F16 and BF16 (numpy has no bfloat16: the values are saved as
# float32, which holds every half value exactly)
torch.manual_seed(5)
halves = {
    "half": (torch.randn(2, 3) * 100).half(),  # (2, 3)
    "bhalf": (torch.randn(4) * 1e30).bfloat16(),  # (4,)
    "specials": torch.tensor([float("inf"), -0.0, 6.0e-8, 65504.0], dtype=torch.float16),  # (4,) subnormal, max
}
safetensors.torch.save_file(halves, os.path.join(HERE, "safetensors_half.safetensors"))
values("half", {k: v.float().numpy() for k, v in halves.items()})
