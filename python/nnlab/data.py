"""``nnlab.data.load``: the built-in datasets (the library's readers) as numpy arrays."""
from __future__ import annotations

import os
from typing import List, Tuple

import numpy as np

from ._ext import _nnlab

__all__ = ["load", "class_names"]

Arrays = Tuple[Tuple[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]


def load(name: str, limit: int = 0, test_limit: int = 0, scale: bool = True, dir: str = "") -> Arrays:
    """``(x_train, y_train), (x_test, y_test)`` as Keras's ``load_data`` returns them, from the files
    ``nnlab data`` finds ("fashion-mnist", "mnist", "sign-mnist"; "xor", "and", "or" have no test set).

    x: float32, one row of 784 pixels a sample for the image sets, divided by 255 unless
    ``scale=False``; y: int64 class indices. ``limit`` / ``test_limit`` keep the first N samples."""
    if limit < 0 or test_limit < 0:
        raise ValueError(f"load: limit and test_limit must be >= 0, got {limit} and {test_limit}")
    d = _nnlab.load_dataset(name, limit, test_limit, scale, os.fspath(dir))
    x_test, y_test = d["x_test"], d["y_test"]
    if x_test.ndim == 0 or x_test.size == 0:  # no test split (xor, and, or): empty arrays of the right shapes
        x_test = np.zeros((0, *d["x_train"].shape[1:]), dtype=np.float32)
        y_test = np.zeros((0, *d["y_train"].shape[1:]), dtype=np.float32)
    return ((d["x_train"], _labels(d["y_train"])), (x_test, _labels(y_test)))


def class_names(name: str) -> List[str]:
    """The class names of a built-in dataset (empty when it has none)."""
    return list(_nnlab.load_dataset(name, 1, 1, True, "")["class_names"])


def _labels(y: np.ndarray) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        return y.reshape(-1).astype(np.int64)
    return y
