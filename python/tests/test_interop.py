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


def image_stacks(m):
    """Two CNNs written alike with nnlab.layers or keras.layers (m): every image layer and option by
    Keras's names ("same" with strides 1 and 2, uneven pads, dilation, no bias, pooling of both
    kinds, batch normalisation over channels, spatial dropout, reshape and global pooling)."""
    return [
        [m.Input(shape=(9, 8, 2)),
         m.Conv2D(3, (3, 2), padding="same", activation="relu"),
         m.BatchNormalization(),
         m.Conv2D(4, 3, strides=2, padding="same", activation="tanh", use_bias=False),
         m.SpatialDropout2D(0.3),
         m.MaxPooling2D(2, strides=1, padding="same"),
         m.Conv2D(3, 2, dilation_rate=2, activation="elu"),
         m.AveragePooling2D(2, padding="same"),
         m.Flatten(),
         m.Dense(5, activation="softmax")],
        [m.Input(shape=(36,)),
         m.Reshape((6, 6, 1)),
         m.Conv2D(4, 3, strides=(2, 1), padding="same", activation="swish"),
         m.AveragePooling2D((2, 3), strides=(1, 2), padding="same"),
         m.MaxPooling2D(2),
         m.GlobalAveragePooling2D(),
         m.Dense(2, activation="sigmoid")],
    ]


def test_keras_cnn_given_nnlabs_weights_predicts_the_same():
    keras_twin()  # skips without keras
    import keras
    rng = np.random.default_rng(4)
    for ours, theirs in zip(image_stacks(nnlab.layers), image_stacks(keras.layers)):
        model = nnlab.Sequential(ours)
        twin = keras.Sequential(theirs)
        names = list(model.get_weight_dict())
        weights = [rng.uniform(0.2, 1.0, w.shape).astype(np.float32) if name.endswith("moving_variance")
                   else rng.uniform(-1.0, 1.0, w.shape).astype(np.float32)
                   for name, w in zip(names, model.get_weights())]
        model.set_weights(weights)
        twin.set_weights(weights)  # the same layout: kernels (kh, kw, in, filters), gamma, beta, mean, variance
        assert model.count_params() == twin.count_params()
        x = rng.uniform(-2.0, 2.0, (7, *model.input_shape[1:])).astype(np.float32)
        np.testing.assert_allclose(model.predict(x), twin.predict(x, verbose=0), atol=1e-5)
