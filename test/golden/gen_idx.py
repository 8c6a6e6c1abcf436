"""gen_idx.py — writes the IDX files that test/test_data.c loads (test/golden/idx/).

Run with Debian's Python: /usr/bin/python3 test/golden/gen_idx.py
Each data file is written raw (NAME.idx) and gzip-compressed (NAME.idx.gz), with its values as
float64 in NAME.npy for the test to compare against. The bad_* files are the malformed ones the
loader must refuse. gzip output has mtime 0, so reruns write the same bytes.
If Debian's Fashion-MNIST is installed, it also prints the values test_data.c checks in it.
"""
import gzip
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "idx")
os.makedirs(OUT, exist_ok=True)

# type byte and big-endian struct code of each IDX element type
TYPES = {"ubyte": (0x08, ">u1"), "sbyte": (0x09, ">i1"), "short": (0x0B, ">i2"),
         "int": (0x0C, ">i4"), "float": (0x0D, ">f4"), "double": (0x0E, ">f8")}


def header(code, dims):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def idx_bytes(type_name, arr):
    code, be = TYPES[type_name]
    return header(code, arr.shape) + arr.astype(be).tobytes()


def save(name, type_name, values, shape):
    arr = np.array(values).reshape(shape)
    data = idx_bytes(type_name, arr)
    write(name + ".idx", data)
    write(name + ".idx.gz", gz(data))
    np.save(os.path.join(OUT, name + ".npy"), arr.astype(TYPES[type_name][1]).astype("<f8"))


# one file per element type, 1 to 3 dims, with values at the edges of each type
save("ubyte", "ubyte", [0, 1, 2, 127, 128, 200, 254, 255] + list(range(16)), (2, 3, 4))
save("sbyte", "sbyte", [-128, -1, 0, 1, 100, 127], (6,))
save("short", "short", [-32768, -1, 0, 258, 32767, -300], (2, 3))
save("int", "int", [-2 ** 31, 2 ** 31 - 1, 0, -1, 65539, 16777217], (3, 2))
save("float", "float", [1.5, -2.25, 1e-45, 3.0e38, float("inf"), -0.0], (1, 2, 3))
save("double", "double", [1.0 / 3.0, -1e-300, 2.0 ** 60, float("-inf")], (4,))
save("zero_rows", "ubyte", [], (0, 5))  # (0, 5): no data at all

# ---- malformed files
u8 = header(0x08, [3]) + bytes([1, 2, 3])
write("bad_empty.idx", b"")
write("bad_empty.idx.gz", gz(b""))
write("bad_short_magic.idx", b"\x00\x00")
write("bad_magic.idx", b"\x01\x00" + u8[2:])                         # first byte not zero
write("bad_type.idx", header(0x0A, [3]) + bytes([1, 2, 3]))           # 0x0A is no IDX type
write("bad_zero_dims.idx", bytes([0, 0, 0x08, 0]))
write("bad_many_dims.idx", header(0x08, [1] * 9) + bytes([7]))        # 9 dims > NB_MAX_DIMS
write("bad_short_dims.idx", bytes([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0]))  # 3 dims, 6 bytes of them
write("bad_overflow.idx", header(0x08, [0xFFFFFFFF] * 8))            # product > 2^64
write("bad_absurd.idx", header(0x0D, [65536, 65536, 65536]))         # 2^48 elements
truncated = header(0x08, [60000, 28, 28]) + bytes(range(250)) * 4     # 1000 of 47040000 bytes
write("bad_truncated.idx", truncated)
write("bad_truncated.idx.gz", gz(truncated))
write("bad_trailing.idx", u8 + bytes([4, 5]))
write("bad_trailing.idx.gz", gz(u8 + bytes([4, 5])))

# a gzip stream cut in half: its data ends early (incompressible data, so the cut is in it)
rng = np.random.default_rng(7)
noise = header(0x08, [40, 100]) + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
write("bad_cut.idx.gz", gz(noise)[:2000])
# the first deflate block's type set to 3 (reserved): zlib's "invalid block type"
block = bytearray(gz(u8))
block[10] |= 0x06  # gzip's fixed header is 10 bytes (no name, mtime 0); BTYPE is bits 1-2
write("bad_block.idx.gz", bytes(block))
# a wrong CRC-32 in the gzip trailer: zlib's "incorrect data check"
crc = bytearray(gz(u8))
crc[-8] ^= 0xFF
write("bad_crc.idx.gz", bytes(crc))
# cut inside the gzip trailer: all the data is there, but not the checksum that vouches for it
write("bad_cut_trailer.idx.gz", gz(u8)[:-3])

# ---- facts about Debian's Fashion-MNIST that test_data.c checks
FASHION = "/usr/share/datasets/fashion-mnist"
if os.path.exists(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")):
    with gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(10000, 28, 28)
    with gzip.open(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    print("t10k labels[:10]:", labels[:10].tolist())
    print("t10k images[0].sum():", int(images[0].astype(np.int64).sum()))
    print("t10k images[9999].sum():", int(images[9999].astype(np.int64).sum()))
    print("t10k images[0, 14, 10:18]:", images[0, 14, 10:18].tolist())
    print("t10k images sum:", int(images.astype(np.int64).sum()))
    print("t10k label histogram:", np.bincount(labels, minlength=10).tolist())
