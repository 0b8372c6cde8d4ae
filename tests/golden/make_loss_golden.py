#!/usr/bin/env python3
"""Golden values for tests/test_losses.cpp's label smoothing, computed by Keras 3.

Writes tests/data/loss_golden.json: Keras's CategoricalCrossentropy and BinaryCrossentropy with
label_smoothing, from probabilities and from logits, on fixed inputs: the loss (mean over the batch)
and its gradient with respect to the input.

    python3 -m venv .venv-keras && .venv-keras/bin/pip install tensorflow-cpu keras
    KERAS_BACKEND=tensorflow .venv-keras/bin/python tests/golden/make_loss_golden.py
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "loss_golden.json"


def case(loss_name, loss, x, target, from_logits, smoothing):
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        value = loss(tf.constant(target), xv)
    grad = tape.gradient(value, xv)
    return {"loss": loss_name, "label_smoothing": smoothing, "from_logits": from_logits,
            "input": x.tolist(), "target": target.tolist(),
            "value": float(value), "grad": grad.numpy().astype(np.float64).tolist()}


def main():
    rng = np.random.default_rng(7)
    cases = []
    for smoothing in (0.0, 0.1, 0.3):
        logits = rng.uniform(-3, 3, size=(4, 5)).astype(np.float32)
        probs = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
        onehot = np.eye(5, dtype=np.float32)[rng.integers(0, 5, size=4)]
        for from_logits, x in ((False, probs), (True, logits)):
            loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=smoothing)
            cases.append(case("categorical_crossentropy", loss, x, onehot, from_logits, smoothing))
        blogits = rng.uniform(-3, 3, size=(4, 3)).astype(np.float32)
        bprobs = (1 / (1 + np.exp(-blogits))).astype(np.float32)
        btarget = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float32)
        for from_logits, x in ((False, bprobs), (True, blogits)):
            loss = keras.losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=smoothing)
            cases.append(case("binary_crossentropy", loss, x, btarget, from_logits, smoothing))
    OUT.write_text(json.dumps({"keras": keras.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
