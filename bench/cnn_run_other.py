#!/usr/bin/env python3
"""PyTorch's and Keras's side of bench/run_cnn.py: experiments/fashion-cnn.toml's network trained on the
real Fashion-MNIST, timed epoch by epoch, the same network read from the experiment file.

The layers of the experiment's [model] (conv2d, max_pool2d, batch_norm, flatten, dropout, dense with their
activations) become torch.nn or keras.layers ones; Adam with Keras's defaults (lr from [optimizer],
eps 1e-7), cross-entropy, all 60,000 training images reshuffled every epoch, then a validation pass over
the 10,000 test images after every epoch. PyTorch runs NCHW (its native layout; its flatten order
differs from Keras's, which changes nothing measured here), `loss.item()` every step as a progress bar
needs; Keras runs `model.fit(validation_data=...)` as the tutorial does. One JSON object per epoch: its
seconds (training + validation, as a progress bar counts an epoch) and the training part alone.

    python bench/cnn_run_other.py --framework torch|keras --threads 2 --batch 128 [--epochs 3]

Environment variables (OMP_*, MKL_*) must be set by the caller.
"""
import argparse
import json
import os
import sys
import time
import tomllib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from course_data import load_fashion
from torch_loop import fit_timed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def experiment(path):
    with open(path, "rb") as f:
        e = tomllib.load(f)
    return e["model"]["layers"], e.get("optimizer", {}).get("learning_rate", 0.001)


def torch_model(layers, torch):
    nn = torch.nn
    acts = {"relu": nn.ReLU, "linear": None, "softmax": None}
    mods, c, h, w = [], 1, 28, 28
    flat = None
    for l in layers:
        t = l["type"]
        if t == "conv2d":
            k = pair(l["kernel_size"])
            same = l.get("padding", "valid") == "same"
            conv = nn.Conv2d(c, l["filters"], k, padding="same" if same else 0)
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
            mods.append(conv)
            c = l["filters"]
            if not same:
                h, w = h - k[0] + 1, w - k[1] + 1
            if acts.get(l.get("activation", "linear")):
                mods.append(acts[l["activation"]]())
        elif t == "max_pool2d":
            p = pair(l.get("pool_size", 2))
            mods.append(nn.MaxPool2d(p))
            h, w = h // p[0], w // p[1]
        elif t == "flatten":
            mods.append(nn.Flatten())
            flat = c * h * w
        elif t == "dropout":
            mods.append(nn.Dropout(l["rate"]))
        elif t == "batch_norm":  # Keras's defaults: momentum 0.99 (torch counts it the other way), epsilon 1e-3
            eps, momentum = l.get("epsilon", 1e-3), 1.0 - l.get("momentum", 0.99)
            mods.append(nn.BatchNorm2d(c, eps=eps, momentum=momentum) if flat is None
                        else nn.BatchNorm1d(flat, eps=eps, momentum=momentum))
        elif t == "dense":
            lin = nn.Linear(flat, l["units"])
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)
            mods.append(lin)
            flat = l["units"]
            if acts.get(l.get("activation", "linear")):
                mods.append(acts[l["activation"]]())
        else:
            raise SystemExit(f"cnn_run_other.py: layer type {t} is not mapped")
    return nn.Sequential(*mods)


def keras_model(layers, keras):
    out = [keras.Input((28, 28, 1))]
    for l in layers:
        t = l["type"]
        if t == "conv2d":
            out.append(keras.layers.Conv2D(l["filters"], pair(l["kernel_size"]), padding=l.get("padding", "valid"),
                                           activation=l.get("activation")))
        elif t == "max_pool2d":
            out.append(keras.layers.MaxPooling2D(pair(l.get("pool_size", 2))))
        elif t == "flatten":
            out.append(keras.layers.Flatten())
        elif t == "dropout":
            out.append(keras.layers.Dropout(l["rate"]))
        elif t == "batch_norm":
            out.append(keras.layers.BatchNormalization(momentum=l.get("momentum", 0.99), epsilon=l.get("epsilon", 1e-3)))
        elif t == "dense":
            out.append(keras.layers.Dense(l["units"], activation=l.get("activation")))
        else:
            raise SystemExit(f"cnn_run_other.py: layer type {t} is not mapped")
    return keras.Sequential(out)


def run_torch(a, layers, lr):
    import torch

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    (xs, ys), (xt, yt) = load_fashion(a.limit)
    x_train = torch.from_numpy(xs).reshape(-1, 1, 28, 28)
    y_train = torch.from_numpy(ys.astype("int64"))
    x_test, y_test = torch.from_numpy(xt).reshape(-1, 1, 28, 28), torch.from_numpy(yt.astype("int64"))
    model = torch_model(layers, torch)
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    common = {"framework": "pytorch", "version": torch.__version__, "threads": a.threads, "batch": a.batch}
    print(json.dumps({**common, "kind": "start", "startup_seconds": time.perf_counter() - a.t_start}), flush=True)
    fit_timed(torch, model, opt, loss_fn, (x_train, y_train), (x_test, y_test), a.batch, a.epochs, common)


def run_keras(a, layers, lr):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    import keras

    keras.utils.set_random_seed(a.seed)
    (xs, ys), (xt, yt) = load_fashion(a.limit)
    xs, xt = xs.reshape(-1, 28, 28, 1), xt.reshape(-1, 28, 28, 1)
    model = keras_model(layers, keras)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    common = {"framework": "keras", "version": keras.__version__, "tensorflow": tf.__version__, "threads": a.threads,
              "batch": a.batch}
    steps = (len(xs) + a.batch - 1) // a.batch

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0, self.t_val = time.perf_counter(), None

        def on_test_begin(self, logs=None):
            self.t_val = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            t, logs = time.perf_counter(), logs or {}
            print(json.dumps({**common, "kind": "epoch", "epoch": epoch + 1, "seconds": t - self.t0,
                              "train_seconds": (self.t_val or t) - self.t0, "steps": steps, "loss": logs.get("loss"),
                              "accuracy": logs.get("accuracy"), "val_accuracy": logs.get("val_accuracy")}), flush=True)

    print(json.dumps({**common, "kind": "start", "startup_seconds": time.perf_counter() - a.t_start}), flush=True)
    model.fit(xs, ys, batch_size=a.batch, epochs=a.epochs, validation_data=(xt, yt), verbose=0, callbacks=[Timer()])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framework", choices=["torch", "keras"], required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--experiment", default=os.path.join(ROOT, "experiments", "fashion-cnn.toml"))
    a = ap.parse_args()
    a.t_start = time.perf_counter()
    layers, lr = experiment(a.experiment)
    (run_torch if a.framework == "torch" else run_keras)(a, layers, lr)


if __name__ == "__main__":
    sys.exit(main())
