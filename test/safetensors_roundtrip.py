"""safetensors_roundtrip.py — a file nabla writes, read by Python's safetensors (NumPy and PyTorch
flavours) and by PyTorch; and a file PyTorch writes, read by nabla.

    safetensors_roundtrip.py LIBNABLA_SO [b_sanitize]

Exits 77 (skipped, for meson) when torch, numpy or safetensors cannot be imported, or when the
library is built with sanitizers (Python cannot load it without preloading their runtimes).
"""
import ctypes
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nabla_ctypes as nb  # noqa: E402

if len(sys.argv) > 2 and sys.argv[2] not in ("", "none"):
    print(f"skip: libnabla is built with -Db_sanitize={sys.argv[2]}")
    sys.exit(nb.SKIP)
try:
    import numpy as np
    import safetensors
    import safetensors.numpy
    import safetensors.torch
    import torch
except ImportError as e:
    print(f"skip: {e} (the test needs torch, numpy and safetensors: pip install --user safetensors)")
    sys.exit(nb.SKIP)

lib = nb.load(sys.argv[1])
rng = np.random.default_rng(5)
weight = rng.standard_normal((3, 4)).astype(np.float32)  # (3, 4)
want = {
    "weight.t": weight.T,  # saved from a transposed (non-contiguous) view
    "bias": np.array([0.25, -1.5, 1e-300], dtype=np.float64),
    "steps": np.array([[2 ** 62, -3], [0, 7]], dtype=np.int64),
    "negative": weight < 0,
    "scalar": np.array(4.5, dtype=np.float64),
    "empty": np.zeros((0, 5), dtype=np.float32),
    "ünïcode name": np.arange(6, dtype=np.int64).reshape(1, 2, 3),
}
w = nb.from_numpy(lib, weight, nb.NB_FLOAT32)
tensors = {
    "weight.t": lib.nb_t(w),
    "bias": nb.from_numpy(lib, want["bias"], nb.NB_FLOAT64),
    "steps": nb.from_numpy(lib, want["steps"], nb.NB_INT64),
    "negative": lib.nb_lt_scalar(w, 0.0),
    "scalar": nb.from_numpy(lib, want["scalar"], nb.NB_FLOAT64),
    "empty": nb.from_numpy(lib, want["empty"], nb.NB_FLOAT32),
    "ünïcode name": nb.from_numpy(lib, want["ünïcode name"], nb.NB_INT64),
}
names = list(tensors)
meta = {"format": "pt", "made by": "nabla"}

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "nabla.safetensors")
    c_names = (ctypes.c_char_p * len(names))(*[n.encode() for n in names])
    c_tensors = (ctypes.c_void_p * len(names))(*[tensors[n] for n in names])
    keys = (ctypes.c_char_p * 2)(*[k.encode() for k in meta])
    values = (ctypes.c_char_p * 2)(*[v.encode() for v in meta.values()])
    st = lib.nb_save_safetensors(path.encode(), len(names), c_names, c_tensors,
                                 ctypes.byref(nb.StrMap(2, keys, values)))
    assert st == 0, lib.nb_last_error().decode()

    got_np = safetensors.numpy.load_file(path)
    got_pt = safetensors.torch.load_file(path)
    with safetensors.safe_open(path, framework="pt") as f:
        assert f.metadata() == meta, f.metadata()
        assert list(f.keys()) == sorted(names), list(f.keys())
    for name, arr in want.items():
        assert got_np[name].dtype == arr.dtype, (name, got_np[name].dtype)
        assert got_np[name].shape == arr.shape, (name, got_np[name].shape)
        assert np.array_equal(got_np[name], arr), name
        assert np.array_equal(got_pt[name].numpy(), arr), name
    print(f"safetensors {safetensors.__version__} (numpy and torch) read the {len(names)} tensors nabla wrote")

    # the other way: PyTorch's writer, nabla's reader
    torch.manual_seed(1)
    theirs = {"a": torch.randn(2, 3), "b": torch.arange(5), "c": torch.randn(4, dtype=torch.float64).t()}
    path2 = os.path.join(tmp, "torch.safetensors")
    safetensors.torch.save_file(theirs, path2, metadata={"k": "v"})
    d = lib.nb_load_safetensors(path2.encode(), None)
    assert d, lib.nb_last_error().decode()
    assert lib.nb_tensor_dict_count(d) == 3
    for name, t in theirs.items():
        got = nb.to_numpy(lib, lib.nb_tensor_dict_get(d, name.encode()))
        assert np.array_equal(got, t.numpy()), name
    lib.nb_tensor_dict_free(d)
    print("nabla read the tensors safetensors.torch wrote")

for t in list(tensors.values()) + [w]:
    lib.nb_release(t)
print("1 passed, 0 failed")
