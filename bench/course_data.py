"""Fashion-MNIST for the Python sides of bench/run_course.py: Debian's dataset-fashion-mnist IDX files,
read with gzip and numpy, pixels / 255 as float32 (N, 784), labels as uint8."""
import gzip
import os

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def load_split(prefix, limit=0):
    x = read_idx(os.path.join(DATA, f"{prefix}-images-idx3-ubyte.gz")).reshape(-1, 784)
    y = read_idx(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte.gz"))
    if limit:
        x, y = x[:limit], y[:limit]
    return np.ascontiguousarray(x.astype(np.float32) / 255.0), y.copy()


def load_fashion(limit=0):
    return load_split("train", limit), load_split("t10k")
