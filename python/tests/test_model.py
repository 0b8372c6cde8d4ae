"""Sequential: shapes, learning, History, evaluate, predict, summary, weights, save and load."""
import json
import os

import numpy as np
import pytest

import nnlab
from conftest import XOR_X, XOR_Y, fashion_or_skip, small_classifier


def test_predict_shapes_and_softmax_rows(blobs):
    x, _ = blobs
    model = small_classifier()
    p = model.predict(x[:10])
    assert p.shape == (10, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert model.count_params() == 4 * 16 + 16 + 16 * 3 + 3
    assert model.input_shape == (None, 4) and model.output_shape == (None, 3)


def test_summary_names_layers_and_parameters(capsys):
    small_classifier().summary()
    out = capsys.readouterr().out
    assert "dense" in out and "131" in out


def test_xor_is_learned():
    model = nnlab.Sequential([nnlab.layers.Dense(8, activation="tanh"), nnlab.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=nnlab.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(XOR_X, XOR_Y, batch_size=4, epochs=300, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    assert history.history["loss"][-1] < 0.1 < history.history["loss"][0]
    p = model.predict(XOR_X)
    assert p.shape == (4, 1)
    assert ((p[:, 0] > 0.5) == (XOR_Y > 0.5)).all()


def test_history_keys_and_lengths(blobs):
    x, y = blobs
    model = small_classifier()
    h = model.fit(x, y, epochs=3, batch_size=32, validation_data=(x[:50], y[:50]), verbose=0)
    assert isinstance(h, nnlab.History) and model.history is h
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(h.history)
    assert all(len(v) == 3 for v in h.history.values())
    assert h.epoch == [0, 1, 2]
    assert h.history["val_accuracy"][-1] > 0.9  # separable clusters


def test_history_without_metrics_has_no_accuracy(blobs):
    x, y = blobs
    model = small_classifier(metrics=None)
    h = model.fit(x, y, epochs=1, validation_split=0.2, verbose=0)
    assert "loss" in h.history and "val_loss" in h.history
    assert "accuracy" not in h.history and "val_accuracy" not in h.history
    assert isinstance(model.evaluate(x, y), float)


def test_validation_split_takes_the_tail(blobs):
    x, y = blobs
    model = small_classifier()
    model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    tail = model.evaluate(x[225:], y[225:], return_dict=True)
    np.testing.assert_allclose(model.history.history["val_loss"][-1], tail["loss"], rtol=1e-5)


def test_one_hot_and_integer_labels_train_alike(blobs):
    x, y = blobs
    a = small_classifier(loss="categorical_crossentropy")
    b = small_classifier(loss="categorical_crossentropy")
    ha = a.fit(x, y, epochs=2, verbose=0)
    hb = b.fit(x, np.eye(3, dtype=np.float32)[y], epochs=2, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-5)


def test_evaluate_returns_loss_and_accuracy(blobs):
    x, y = blobs
    model = small_classifier()
    model.fit(x, y, epochs=5, verbose=0)
    loss, acc = model.evaluate(x, y)
    assert 0 <= loss < 0.5 and acc > 0.9
    assert model.evaluate(x, y, return_dict=True) == {"loss": loss, "accuracy": acc}


def test_uint8_inputs_are_pixels_over_255(blobs):
    model = small_classifier()
    pixels = np.arange(40, dtype=np.uint8).reshape(10, 4) * 6
    np.testing.assert_array_equal(model.predict(pixels), model.predict(pixels.astype(np.float32) / 255))
    np.testing.assert_array_equal(model.predict(pixels.astype(np.float64)), model.predict(pixels.astype(np.float32)))


def test_float32_c_contiguous_inputs_are_not_copied():
    from nnlab.models import as_inputs
    x = np.zeros((5, 4), dtype=np.float32)
    assert as_inputs(x) is x
    assert as_inputs(np.asfortranarray(x)) is not x  # another layout is copied once


def test_set_weights_round_trip_and_named_weights(blobs):
    x, _ = blobs
    a, b = small_classifier(), small_classifier()
    b.build((4,))
    b.set_weights([w * 2 for w in a.get_weights()])
    names = list(b.get_weight_dict())
    assert names == ["dense_1.kernel", "dense_1.bias", "dense_2.kernel", "dense_2.bias"]
    assert b.get_weight_dict()["dense_1.kernel"].shape == (4, 16)
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


@pytest.mark.parametrize("where", ["folder", "model.safetensors"])
def test_save_and_load_give_identical_predictions(blobs, tmp_path, where):
    x, y = blobs
    model = small_classifier()
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / where
    model.save(path)
    if where == "folder":
        assert {"model.safetensors", "config.json", "summary.txt", "history.csv"} <= set(os.listdir(path))
        rows = (path / "history.csv").read_text().splitlines()
        assert rows[0].startswith("epoch,loss") and len(rows) == 3
        assert [float(r.split(",")[1]) for r in rows[1:]] == pytest.approx(model.history.history["loss"], rel=1e-7)
    loaded = nnlab.load_model(path)
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
    # In batches of 7 (the last one short): the same outputs as in one batch.
    np.testing.assert_allclose(loaded.predict(x, batch_size=7), loaded.predict(x, batch_size=len(x)), atol=1e-6)
    assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y), rel=1e-6)
    loaded.fit(x, y, epochs=1, verbose=0)  # comes back compiled with its loss and optimizer


def test_fit_continues_from_the_previous_fit(blobs):
    x, y = blobs
    model = small_classifier()
    first = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    second = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    assert second < first


def test_fashion_mnist_subset_learns():
    (x, y), (xt, yt) = fashion_or_skip(limit=6000, test_limit=2000)
    model = nnlab.Sequential([nnlab.layers.Dense(128, activation="relu"), nnlab.layers.Dropout(0.2),
                              nnlab.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    loss, acc = model.evaluate(xt, yt)
    assert acc > 0.75, f"test accuracy {acc} after 2 epochs on 6,000 images"


def test_export_writes_onnx_that_loads_back(blobs, tmp_path, capsys):
    x, y = blobs
    model = small_classifier()
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "model.onnx"
    model.export(path)
    assert f"Saved artifact at '{path}'." in capsys.readouterr().out
    loaded = nnlab.load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)
    # The experiment travels in the file's metadata: the same loss, so the same evaluation.
    assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y), rel=1e-5)
    with pytest.raises(ValueError, match="nnlab exports format='onnx' only"):
        model.export(tmp_path / "saved", format="tf_saved_model")


def test_exported_onnx_runs_in_onnx_runtime(blobs, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    x, y = blobs
    model = small_classifier()
    model.fit(x, y, epochs=1, verbose=0)
    model.export(tmp_path / "model.onnx", verbose=False)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": x})[0], model.predict(x), atol=1e-5)


@pytest.mark.parametrize("name", ["keras_mlp", "keras_tf_mlp", "torch_mlp"])
def test_load_model_reads_keras_and_pytorch_onnx_exports(name):
    # tests/data/onnx: MLPs exported by Keras 3 (tensorflow and torch backends) and PyTorch, with
    # inputs and the framework's own outputs (tests/data/onnx/make_*.py).
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "onnx")
    with open(os.path.join(data, name + ".json")) as f:
        ref = json.load(f)
    model = nnlab.load_model(os.path.join(data, name + ".onnx"))
    assert model.input_shape == (None, 2, 3)
    x = np.array(ref["input"], dtype=np.float32).reshape(-1, 2, 3)
    np.testing.assert_allclose(model.predict(x), np.array(ref["output"]), atol=1e-5)
    # No experiment in the file: compiled with the loss the softmax output implies.
    labels = np.argmax(ref["output"], axis=1)
    loss, accuracy = model.evaluate(x, labels)
    assert accuracy == 1.0 and loss > 0
