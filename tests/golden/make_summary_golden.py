#!/usr/bin/env python3
"""Keras's summary of nnlab's CNNs, for tests/test_summary_golden.cpp.

Writes tests/data/summary_golden.json: for each model, nnlab's layer configs (read from the
experiment file, or written below), and what Keras 3 says of the same layers: each layer's output
shape and parameter count, and the total, trainable and non-trainable parameter counts. The models:
the CNN of experiments/fashion-cnn.toml, the course's CNNs (experiments/mnist-cnn.toml,
experiments/sign-mnist-cnn.toml), and one with strides, "same" padding, dilation, a non-square
kernel, no bias, batch normalisation over channels, spatial dropout and global average pooling.

    ~/.cache/nnlab/interop-venv/bin/python tests/golden/make_summary_golden.py
"""
import json
import os
import pathlib
import tomllib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "tests" / "data" / "summary_golden.json"

MIXED = {
    "input_shape": [32, 32, 3],
    "layers": [
        {"type": "conv2d", "filters": 16, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
        {"type": "batch_norm"},
        {"type": "conv2d", "filters": 32, "kernel_size": 3, "dilation_rate": 2, "padding": "same", "use_bias": False},
        {"type": "batch_norm", "momentum": 0.9},
        {"type": "activation", "activation": "relu"},
        {"type": "spatial_dropout2d", "rate": 0.2},
        {"type": "conv2d", "filters": 24, "kernel_size": [3, 2], "strides": [2, 1]},
        {"type": "average_pool2d", "pool_size": 3, "strides": 2, "padding": "same"},
        {"type": "max_pool2d", "pool_size": [2, 1]},
        {"type": "global_average_pool2d"},
        {"type": "dropout", "rate": 0.3},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ],
}


def keras_layer(c):
    """nnlab's layer config (Keras's option names) as the Keras layer."""
    t, L = c["type"], keras.layers
    if t == "conv2d":
        return L.Conv2D(c["filters"], c["kernel_size"], strides=c.get("strides", 1), padding=c.get("padding", "valid"),
                        dilation_rate=c.get("dilation_rate", 1), activation=c.get("activation", "linear"),
                        use_bias=c.get("use_bias", True))
    if t == "max_pool2d":
        return L.MaxPooling2D(c.get("pool_size", 2), strides=c.get("strides"), padding=c.get("padding", "valid"))
    if t == "average_pool2d":
        return L.AveragePooling2D(c.get("pool_size", 2), strides=c.get("strides"), padding=c.get("padding", "valid"))
    if t == "global_average_pool2d":
        return L.GlobalAveragePooling2D()
    if t == "batch_norm":
        return L.BatchNormalization(momentum=c.get("momentum", 0.99), epsilon=c.get("epsilon", 1e-3))
    if t == "dropout":
        return L.Dropout(c["rate"])
    if t == "spatial_dropout2d":
        return L.SpatialDropout2D(c["rate"])
    if t == "flatten":
        return L.Flatten()
    if t == "activation":
        return L.Activation(c["activation"])
    if t == "dense":
        return L.Dense(c["units"], activation=c.get("activation", "linear"), use_bias=c.get("use_bias", True))
    raise ValueError(f"no Keras layer for {t}")


def describe(name, source, input_shape, layers):
    model = keras.Sequential([keras.Input(tuple(input_shape))] + [keras_layer(c) for c in layers])
    rows = [{"class": layer.__class__.__name__, "output_shape": list(layer.output.shape[1:]),
             "params": layer.count_params()} for layer in model.layers]
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    non_trainable = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return {"name": name, "source": source, "input_shape": input_shape, "layers": layers, "keras": rows,
            "total": model.count_params(), "trainable": trainable, "non_trainable": non_trainable}


def from_experiment(name):
    path = ROOT / "experiments" / (name + ".toml")
    doc = tomllib.loads(path.read_text())
    model = doc["model"]
    shape = model.get("input_shape") or doc.get("data", {}).get("input_shape")
    return describe(name, f"experiments/{name}.toml", shape, model["layers"])


def main():
    models = [from_experiment(n) for n in ("fashion-cnn", "mnist-cnn", "sign-mnist-cnn")
              if (ROOT / "experiments" / (n + ".toml")).exists()]
    models.append(describe("mixed", None, MIXED["input_shape"], MIXED["layers"]))
    # One line per layer, so that a change reads as one in a diff.
    lines = [f'{{"made_by": "tests/golden/make_summary_golden.py", "keras": "{keras.__version__}", "models": [']
    for i, m in enumerate(models):
        lines.append(" {" + ", ".join(f'"{k}": {json.dumps(m[k])}' for k in ("name", "source", "input_shape")) + ",")
        for key in ("layers", "keras"):
            lines.append(f'  "{key}": [')
            lines += [f"   {json.dumps(v)}" + ("," if j + 1 < len(m[key]) else "") for j, v in enumerate(m[key])]
            lines.append("  ],")
        lines.append("  " + ", ".join(f'"{k}": {m[k]}' for k in ("total", "trainable", "non_trainable")) +
                     "}" + ("," if i + 1 < len(models) else ""))
    lines.append("]}")
    text = "\n".join(lines) + "\n"
    json.loads(text)
    OUT.write_text(text)
    print(f"wrote {OUT}: " + ", ".join(f"{m['name']} {m['total']:,}" for m in models))


if __name__ == "__main__":
    main()
