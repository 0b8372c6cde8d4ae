"""The image layers by Keras's names (Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
Reshape, SpatialDropout2D, BatchNormalization over channels): their configs, a small CNN trained on tiny
images, Keras's parameter counts, save / load and ONNX export giving the same predictions."""
import json
import os

import numpy as np
import pytest

import nnlab
from nnlab import layers


def bright_quadrant(n=96, seed=0):
    """8x8 one-channel images; the class is the brightest of three quadrants (top left, top right,
    bottom left), so a small CNN can learn it."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.5, size=(n, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=n)
    corners = [(slice(0, 4), slice(0, 4)), (slice(0, 4), slice(4, 8)), (slice(4, 8), slice(0, 4))]
    for i, c in enumerate(y):
        rows, cols = corners[c]
        x[i, rows, cols, 0] += 0.5
    return x, y


def every_layer_cnn():
    """Every image layer and option: "same" and "valid", strides, dilation, no bias, the activations."""
    return nnlab.Sequential([
        layers.Input(shape=(8, 8, 1)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.SpatialDropout2D(0.2),
        layers.Conv2D(6, (3, 2), strides=(1, 1), dilation_rate=(1, 1), activation="tanh", use_bias=False),
        layers.AveragePooling2D(pool_size=2, padding="same"),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])


def compiled(model):
    model.compile(optimizer=nnlab.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_configs_use_the_library_keys_and_keras_defaults():
    assert layers.Conv2D(8, 3).get_config() == {
        "type": "conv2d", "filters": 8, "kernel_size": 3, "strides": [1, 1], "padding": "valid",
        "dilation_rate": [1, 1], "activation": "linear"}
    c = layers.Conv2D(8, (3, 2), strides=2, padding="SAME", activation="relu", use_bias=False,
                      kernel_initializer="he_normal", kernel_regularizer=nnlab.regularizers.L2(1e-4),
                      name="c1").get_config()
    assert c["kernel_size"] == [3, 2] and c["strides"] == 2 and c["padding"] == "same"
    assert c["use_bias"] is False and c["kernel_initializer"] == "he_normal" and c["l2"] == pytest.approx(1e-4)
    assert c["name"] == "c1"
    assert layers.MaxPooling2D().get_config() == {"type": "max_pool2d", "pool_size": [2, 2], "padding": "valid"}
    assert layers.AveragePooling2D(3, strides=1, padding="same").get_config() == {
        "type": "average_pool2d", "pool_size": 3, "strides": 1, "padding": "same"}
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool2D is layers.AveragePooling2D
    assert layers.GlobalAveragePooling2D().get_config() == {"type": "global_average_pool2d"}
    assert layers.Reshape((28, 28, 1)).get_config() == {"type": "reshape", "target_shape": [28, 28, 1]}
    assert layers.SpatialDropout2D(0.25).get_config() == {"type": "spatial_dropout2d", "rate": 0.25}
    with pytest.raises(ValueError, match='padding must be "valid" or "same"'):
        layers.Conv2D(8, 3, padding="full")
    with pytest.raises(TypeError, match="kernel_size must be a whole number or a tuple of two"):
        layers.Conv2D(8, (3, 3, 3))
    for make in (lambda f: layers.Conv2D(8, 3, data_format=f), lambda f: layers.MaxPooling2D(data_format=f),
                 lambda f: layers.GlobalAveragePooling2D(data_format=f)):
        assert make("channels_last").get_config() == make(None).get_config()
        with pytest.raises(ValueError, match="nnlab's images are channels_last"):
            make("channels_first")


def test_library_refuses_bad_values_with_its_message():
    model = nnlab.Sequential([layers.Input(shape=(8, 8, 1)), layers.Conv2D(0, 3)])
    with pytest.raises(ValueError, match="filters must be at least 1"):
        model.build((8, 8, 1))
    model = nnlab.Sequential([layers.Input(shape=(4, 4, 1)), layers.Conv2D(2, 5)])
    with pytest.raises(ValueError, match="larger than the input"):
        model.summary()


def test_cnn_learns_and_predicts_evaluates():
    x, y = bright_quadrant()
    model = compiled(every_layer_cnn())
    assert model.input_shape == (None, 8, 8, 1)
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.6  # chance is 1/3
    p = model.predict(x[:10])
    assert p.shape == (10, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    loss, accuracy = model.evaluate(x, y)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    # Flat rows of the same pixels read as the same images.
    np.testing.assert_array_equal(model.predict(x.reshape(len(x), -1)[:10]), p)


def test_param_counts_are_keras_formulas(capsys):
    model = every_layer_cnn()
    conv1 = (3 * 3 * 1 + 1) * 4          # (kh * kw * in + bias) * filters
    batch_norm = 4 * 4                   # gamma, beta, moving mean and variance per channel
    conv2 = (3 * 2 * 4) * 6              # no bias
    dense = (1 * 2 * 6 + 1) * 3          # after (1, 2, 6) images: 8 -> 4 (pool) -> 2 x 3 -> 1 x 2 (pool)
    assert model.count_params() == conv1 + batch_norm + conv2 + dense
    assert model.output_shape == (None, 3)
    weights = model.get_weight_dict()
    kernels = {k: v.shape for k, v in weights.items() if k.endswith("kernel")}
    assert sorted(kernels.values()) == sorted([(3, 3, 1, 4), (3, 2, 4, 6), (12, 3)])
    assert [v.shape for k, v in weights.items() if k.endswith("gamma")] == [(4,)]  # over the channels
    model.summary()
    out = capsys.readouterr().out
    for count in (conv1, batch_norm, conv2, dense):
        assert str(count) in out
    assert f"Total params: {conv1 + batch_norm + conv2 + dense}" in out
    assert "(None, 2, 3, 6)" in out  # the second convolution's output, NHWC


def test_global_pool_and_reshape_from_flat_input():
    x, y = bright_quadrant(48, seed=1)
    flat = x.reshape(len(x), 64)
    model = compiled(nnlab.Sequential([
        layers.Input(shape=(64,)),
        layers.Reshape((8, 8, 1)),
        layers.Conv2D(5, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2D(4, 2, dilation_rate=2, activation="elu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(3, activation="softmax"),
    ]))
    assert model.count_params() == (9 * 1 + 1) * 5 + (4 * 5 + 1) * 4 + (4 + 1) * 3
    model.fit(flat, y, epochs=1, batch_size=16, verbose=0)
    assert model.predict(flat).shape == (48, 3)


def test_input_shape_on_the_first_conv2d():
    model = nnlab.Sequential([layers.Conv2D(2, 3, input_shape=(6, 6, 3)), layers.Flatten()])
    assert model.input_shape == (None, 6, 6, 3)
    assert model.output_shape == (None, 32)


def test_save_and_load_give_identical_predictions(tmp_path):
    x, y = bright_quadrant(48, seed=2)
    model = compiled(every_layer_cnn())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    want = model.predict(x)
    for path in (tmp_path / "run", tmp_path / "cnn.safetensors"):
        model.save(path)
        back = nnlab.load_model(path)
        np.testing.assert_array_equal(back.predict(x), want)
        assert back.count_params() == model.count_params()


def test_export_onnx_loads_back_and_runs_in_onnx_runtime(tmp_path):
    x, y = bright_quadrant(32, seed=3)
    model = compiled(every_layer_cnn())
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    want = model.predict(x)
    path = tmp_path / "cnn.onnx"
    model.export(path, verbose=False)
    back = nnlab.load_model(path)
    np.testing.assert_allclose(back.predict(x), want, atol=1e-5)
    assert back.count_params() == model.count_params()
    assert [layer.type for layer in back.layers] == ["conv2d", "batch_norm", "max_pool2d", "conv2d",
                                                     "average_pool2d", "flatten", "dense"]
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": x})[0], want, atol=1e-5)


@pytest.mark.parametrize("name", ["keras_cnn", "torch_cnn"])
def test_load_model_reads_keras_and_pytorch_cnns(name):
    # tests/data/onnx/make_keras_cnn.py: Keras 3's export of a CNN (torch backend); make_torch_cnn.py: a
    # PyTorch CNN on (N, 1, 12, 10) images, whose bytes are nnlab's (N, 12, 10, 1).
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "onnx")
    with open(os.path.join(data, name + ".json")) as f:
        ref = json.load(f)
    model = nnlab.load_model(os.path.join(data, name + ".onnx"))
    assert model.input_shape == (None, 12, 10, 1)
    x = np.array(ref["input"], dtype=np.float32).reshape(-1, 12, 10, 1)
    np.testing.assert_allclose(model.predict(x), np.array(ref["output"]), atol=1e-5)
