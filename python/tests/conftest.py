"""Shared fixtures: small datasets and models, one thread for the library (ctest runs tests side by side)."""
import numpy as np
import pytest

import nnlab

nnlab.set_num_threads(1)

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0], dtype=np.float32)


@pytest.fixture
def blobs():
    """Three separable clusters in 4 dimensions: 300 samples, integer labels."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, size=(3, 4))
    y = rng.integers(0, 3, size=300)
    x = (centres[y] + rng.normal(0, 0.5, size=(300, 4))).astype(np.float32)
    return x, y


def small_classifier(compiled=True, **compile_args):
    model = nnlab.Sequential([nnlab.layers.Input((4,)), nnlab.layers.Dense(16, activation="relu"),
                              nnlab.layers.Dense(3, activation="softmax")])
    if compiled:
        args = dict(optimizer=nnlab.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
        args.update(compile_args)
        model.compile(**args)
    return model


def fashion_or_skip(limit=0, test_limit=0):
    try:
        return nnlab.data.load("fashion-mnist", limit=limit, test_limit=test_limit)
    except ValueError as e:
        pytest.skip(f"Fashion-MNIST is not installed here (Debian's dataset-fashion-mnist): {e}")
