#!/usr/bin/env python3
"""Golden sequences for tests/test_optimizers.cpp's moving average of the weights (use_ema), computed
by Keras 3.

Writes tests/data/ema_golden.json: an optimizer with use_ema applied to one variable for a fixed
sequence of gradients; after each step the variable, then after the last step the variable as
finalize_variable_values (what the end of fit does) leaves it.

    python3 -m venv .venv-keras && .venv-keras/bin/pip install tensorflow-cpu keras
    KERAS_BACKEND=tensorflow .venv-keras/bin/python tests/golden/make_ema_golden.py
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import keras  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "ema_golden.json"


def run(name, options, steps=7):
    rng = np.random.default_rng(3)
    start = rng.uniform(-1, 1, size=5).astype(np.float32)
    grads = rng.uniform(-1, 1, size=(steps, 5)).astype(np.float32)
    var = keras.Variable(start)
    opt = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}[name](**options)
    after = []
    for g in grads:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
        after.append(np.asarray(var).astype(np.float64).tolist())
    opt.finalize_variable_values([var])
    return {"optimizer": name, "options": options, "start": start.astype(np.float64).tolist(),
            "grads": grads.astype(np.float64).tolist(), "after_each_step": after,
            "finalized": np.asarray(var).astype(np.float64).tolist()}


def main():
    cases = [run("sgd", dict(learning_rate=0.1, use_ema=True, ema_momentum=0.9)),
             run("sgd", dict(learning_rate=0.1, momentum=0.5, use_ema=True, ema_momentum=0.6,
                             ema_overwrite_frequency=3)),
             run("adam", dict(learning_rate=0.01, use_ema=True)),
             run("adam", dict(learning_rate=0.01, use_ema=False))]
    OUT.write_text(json.dumps({"keras": keras.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
