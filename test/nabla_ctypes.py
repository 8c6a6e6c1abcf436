"""nabla_ctypes.py — the few nabla calls the Python interop scripts need, through ctypes on the
built libnabla.so (test/safetensors_roundtrip.py, test/dlpack_torch.py)."""
import ctypes

NB_FLOAT32, NB_FLOAT64, NB_INT64, NB_BOOL = 0, 1, 2, 3
NB_CPU, NB_CUDA = 0, 1
SKIP = 77  # meson's exit code for a skipped test


class Device(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("index", ctypes.c_int)]


class Options(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("device", Device), ("requires_grad", ctypes.c_bool)]


class StrMap(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int), ("keys", ctypes.POINTER(ctypes.c_char_p)),
                ("values", ctypes.POINTER(ctypes.c_char_p))]


def load(path):
    lib = ctypes.CDLL(path)
    p, i64p = ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)
    sigs = {
        "nb_from_array": (p, [p, ctypes.c_int, i64p, Options]),
        "nb_zeros": (p, [ctypes.c_int, i64p, Options]),
        "nb_t": (p, [p]),
        "nb_lt_scalar": (p, [p, ctypes.c_double]),
        "nb_release": (None, [p]),
        "nb_numel": (ctypes.c_int64, [p]),
        "nb_ndim": (ctypes.c_int, [p]),
        "nb_shape": (i64p, [p]),
        "nb_strides": (i64p, [p]),
        "nb_dtype_of": (ctypes.c_int, [p]),
        "nb_dtype_size": (ctypes.c_size_t, [ctypes.c_int]),
        "nb_copy_to_array": (ctypes.c_int, [p, p, ctypes.c_size_t]),
        "nb_mul_scalar_": (p, [p, ctypes.c_double]),
        "nb_fill_": (p, [p, ctypes.c_double]),
        "nb_to": (p, [p, Device]),
        "nb_last_error": (ctypes.c_char_p, []),
        "nb_cuda_device_count": (ctypes.c_int, []),
        "nb_save_safetensors": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                               ctypes.POINTER(p), ctypes.POINTER(StrMap)]),
        "nb_load_safetensors": (p, [ctypes.c_char_p, p]),
        "nb_tensor_dict_get": (p, [p, ctypes.c_char_p]),
        "nb_tensor_dict_count": (ctypes.c_int, [p]),
        "nb_tensor_dict_free": (None, [p]),
        "nb_to_dlpack": (p, [p]),
        "nb_from_dlpack": (p, [p]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


def shape_of(lib, t):
    n = lib.nb_ndim(t)
    s = lib.nb_shape(t)
    return tuple(s[i] for i in range(n))


def to_numpy(lib, t):
    """A copy of a CPU tensor's values as a NumPy array."""
    import numpy as np
    dtypes = {NB_FLOAT32: np.float32, NB_FLOAT64: np.float64, NB_INT64: np.int64, NB_BOOL: np.bool_}
    out = np.empty(shape_of(lib, t), dtype=dtypes[lib.nb_dtype_of(t)])
    st = lib.nb_copy_to_array(t, out.ctypes.data, out.nbytes)
    if st != 0:
        raise RuntimeError(lib.nb_last_error().decode())
    return out


def from_numpy(lib, arr, dtype):
    """A new nabla tensor with arr's values (copied)."""
    import numpy as np
    arr = np.require(arr, requirements="C")  # ascontiguousarray would make a 0-d array 1-d
    shape = (ctypes.c_int64 * max(arr.ndim, 1))(*arr.shape)
    t = lib.nb_from_array(arr.ctypes.data, arr.ndim, shape, Options(dtype, Device(NB_CPU, 0), False))
    if not t:
        raise RuntimeError(lib.nb_last_error().decode())
    return t
