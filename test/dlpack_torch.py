"""dlpack_torch.py — tensors exchanged with PyTorch through DLPack capsules, both ways, without
copies: a change made on either side is seen on the other; strides survive; the memory outlives
the side that made it for as long as the other holds it.

    dlpack_torch.py LIBNABLA_SO [b_sanitize]

Exits 77 (skipped, for meson) when torch cannot be imported or the library is built with
sanitizers. CUDA tensors are exchanged too where both PyTorch and nabla see a device.
"""
import ctypes
import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nabla_ctypes as nb  # noqa: E402

if len(sys.argv) > 2 and sys.argv[2] not in ("", "none"):
    print(f"skip: libnabla is built with -Db_sanitize={sys.argv[2]}")
    sys.exit(nb.SKIP)
try:
    import numpy as np
    import torch
    from torch.utils.dlpack import from_dlpack, to_dlpack
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(nb.SKIP)

lib = nb.load(sys.argv[1])
capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
capsule_pointer.restype, capsule_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
capsule_rename = ctypes.pythonapi.PyCapsule_SetName
capsule_rename.restype, capsule_rename.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]
capsule_new = ctypes.pythonapi.PyCapsule_New
capsule_new.restype, capsule_new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
checks = 0


def torch_to_nabla(t):
    """nabla's tensor over t's memory: the capsule is consumed as the protocol says (renamed
    used_dltensor, so that its deleter is nabla's to call)."""
    cap = to_dlpack(t)
    n = lib.nb_from_dlpack(capsule_pointer(cap, b"dltensor"))
    assert n, lib.nb_last_error().decode()
    capsule_rename(cap, b"used_dltensor")
    return n


def nabla_to_torch(n):
    m = lib.nb_to_dlpack(n)
    assert m, lib.nb_last_error().decode()
    return from_dlpack(capsule_new(m, b"dltensor", None))


def settle(n, device):
    """Waits for both sides' queued work on the device (a capsule carries no stream): PyTorch's
    streams, and nabla's through a copy of n to the host, which waits for its queue."""
    if device == "cuda":
        torch.cuda.synchronize()
        lib.nb_release(lib.nb_to(n, nb.Device(nb.NB_CPU, 0)))


def check(cond, what):
    global checks
    assert cond, what
    checks += 1


def exchange(device, nb_device):
    # PyTorch -> nabla: a narrowed view (non-contiguous), float32
    base = torch.arange(12, dtype=torch.float32, device=device).reshape(3, 4)
    view = base[:, 1:]  # (3, 3), strides (4, 1), offset 1
    n = torch_to_nabla(view)
    check(nb.shape_of(lib, n) == (3, 3), "shape")
    s = lib.nb_strides(n)
    check((s[0], s[1]) == (4, 1), f"strides {(s[0], s[1])}")
    lib.nb_mul_scalar_(n, 2.0)  # nabla writes, PyTorch sees
    settle(n, device)
    check(torch.equal(base[:, 0], torch.tensor([0.0, 4.0, 8.0], device=device)), "column 0 untouched")
    check(torch.equal(view, 2 * torch.arange(12, dtype=torch.float32, device=device).reshape(3, 4)[:, 1:]),
          "nabla's in-place op is seen by PyTorch")
    view.add_(1)  # PyTorch writes, nabla sees
    settle(n, device)
    host = lib.nb_to(n, nb.Device(nb.NB_CPU, 0))
    check(np.array_equal(nb.to_numpy(lib, host), view.cpu().numpy()), "PyTorch's in-place op is seen by nabla")
    lib.nb_release(host)
    want = view.cpu().numpy().copy()
    del base, view
    gc.collect()
    host = lib.nb_to(n, nb.Device(nb.NB_CPU, 0))  # nabla alone holds the memory now
    check(np.array_equal(nb.to_numpy(lib, host), want), "the memory outlives PyTorch's tensor")
    lib.nb_release(host)
    lib.nb_release(n)  # calls PyTorch's deleter

    # nabla -> PyTorch: a transposed int64 and a float64, on nabla's side first
    for dtype, np_dtype in ((nb.NB_INT64, np.int64), (nb.NB_FLOAT64, np.float64)):
        src = nb.from_numpy(lib, np.arange(6, dtype=np_dtype).reshape(2, 3), dtype)
        moved = lib.nb_to(src, nb_device)
        tr = lib.nb_t(moved)  # (3, 2), strides (1, 3)
        t = nabla_to_torch(tr)
        check(t.device.type == device and t.stride() == (1, 3), f"{t.device} strides {t.stride()}")
        check(np.array_equal(t.cpu().numpy(), np.arange(6, dtype=np_dtype).reshape(2, 3).T), "values")
        t.mul_(3)  # PyTorch writes, nabla sees
        settle(moved, device)
        host = lib.nb_to(moved, nb.Device(nb.NB_CPU, 0))
        check(np.array_equal(nb.to_numpy(lib, host), 3 * np.arange(6, dtype=np_dtype).reshape(2, 3)), "PyTorch's write")
        lib.nb_release(host)
        lib.nb_fill_(moved, 5)  # nabla writes, PyTorch sees
        settle(moved, device)
        check(bool((t == 5).all()), "nabla's write")
        for x in (tr, moved, src):
            lib.nb_release(x)
        check(bool((t == 5).all()), "the memory outlives nabla's tensors")
        del t  # PyTorch calls nabla's deleter
        gc.collect()


exchange("cpu", nb.Device(nb.NB_CPU, 0))
if torch.cuda.is_available() and lib.nb_cuda_device_count() > 0:
    exchange("cuda", nb.Device(nb.NB_CUDA, 0))
    print("exchanged CPU and CUDA tensors with PyTorch", torch.__version__)
else:
    print("exchanged CPU tensors with PyTorch", torch.__version__, "(no CUDA device: CUDA not exchanged)")
print(f"{checks} checks; 1 passed, 0 failed")
