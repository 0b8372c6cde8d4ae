"""nnlab's weights in PyTorch and Keras: equivalent networks given them predict the same, and Keras's
weights given to nnlab do too. Each test skips, saying why, where torch or keras is not installed
(scripts/interop.sh makes a virtual environment with both and runs these)."""
import os

import numpy as np
import pytest

import nnlab
from conftest import small_classifier


def trained(blobs):
    x, y = blobs
    model = small_classifier()
    model.fit(x, y, epochs=2, verbose=0)
    return model


def test_weights_load_into_torch_and_predict_the_same(blobs, tmp_path):
    torch = pytest.importorskip("torch", reason="torch is not installed: the PyTorch interop test is skipped")
    safetensors_numpy = pytest.importorskip("safetensors.numpy", reason="the safetensors package is not installed")
    x, _ = blobs
    model = trained(blobs)
    model.save(tmp_path / "m.safetensors")
    w = safetensors_numpy.load_file(str(tmp_path / "m.safetensors"))
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3), torch.nn.Softmax(dim=1))
    with torch.no_grad():
        for i, k in ((0, "dense_1"), (2, "dense_2")):
            net[i].weight.copy_(torch.from_numpy(w[f"{k}.kernel"].T.copy()))  # nnlab: (inputs, units)
            net[i].bias.copy_(torch.from_numpy(w[f"{k}.bias"]))
        theirs = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.predict(x), theirs, atol=1e-5)


def keras_twin():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras = pytest.importorskip("keras", reason="keras is not installed: the Keras interop test is skipped")
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


def test_keras_given_nnlabs_weights_predicts_the_same(blobs):
    x, _ = blobs
    model = trained(blobs)
    twin = keras_twin()
    twin.set_weights(model.get_weights())  # the same layout: kernels (inputs, units), then biases
    np.testing.assert_allclose(model.predict(x), twin.predict(x, verbose=0), atol=1e-5)


def test_nnlab_given_keras_weights_predicts_the_same(blobs):
    x, _ = blobs
    twin = keras_twin()
    model = small_classifier()
    model.build((4,))
    model.set_weights(twin.get_weights())
    np.testing.assert_allclose(model.predict(x), twin.predict(x, verbose=0), atol=1e-5)
