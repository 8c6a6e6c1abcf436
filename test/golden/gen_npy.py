"""gen_npy.py — writes the .npy files that test/test_npy.c loads (test/golden/npy/).

Run with Debian's Python (numpy 1.24): /usr/bin/python3 test/golden/gen_npy.py
The values are spelled out here and in test_npy.c, so the test checks them exactly.
Files named header_*.npy are compared byte for byte with what nb_save_npy writes.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")
os.makedirs(OUT, exist_ok=True)


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), arr)


# one file per dtype, with values that must survive exactly
save("f32", np.array([[1.5, -2.25, 0.0], [3.0e38, 1.0e-45, float("inf")]], dtype="<f4"))  # (2, 3)
save("f64", np.array([1.0 / 3.0, -1.0e-300, 2.0 ** 60, float("-inf"), 0.1], dtype="<f8"))  # (5,)
save("i64", np.array([[-(2 ** 63), 2 ** 63 - 1], [0, -7], [123456789012345, 42]], dtype="<i8"))  # (3, 2)
save("b1", np.array([True, False, False, True, True, False], dtype="|b1").reshape(2, 3))  # (2, 3)
save("f32_3d", np.arange(24, dtype="<f4").reshape(2, 3, 4) * 0.5 - 3.0)  # (2, 3, 4)
save("scalar", np.array(3.5, dtype="<f8"))  # ()
save("empty", np.zeros((0, 3), dtype="<f4"))  # (0, 3)

# a version 2.0 file (4-byte header length)
with open(os.path.join(OUT, "v2.npy"), "wb") as f:
    np.lib.format.write_array(f, np.arange(6, dtype="<i8").reshape(3, 2) - 2, version=(2, 0))  # (3, 2)

# files whose exact bytes nb_save_npy must reproduce
save("header_f32", np.arange(6, dtype="<f4").reshape(2, 3))  # (2, 3)
save("header_f64", np.arange(5, dtype="<f8") - 1.5)  # (5,)
save("header_i64", np.array(-9, dtype="<i8"))  # ()
save("header_b1", np.zeros((0, 4), dtype="|b1"))  # (0, 4)
save("header_wide", np.ones((1, 1, 1, 1, 1, 1, 1, 1000), dtype="<f4")[..., :3] * 2)  # 8 dims
