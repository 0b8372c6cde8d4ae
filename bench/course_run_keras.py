#!/usr/bin/env python3
"""Keras's side of bench/run_course.py: the course's real run on Fashion-MNIST, the way the course runs it.

Keras 3 on TensorFlow (PyPI's tensorflow-cpu and keras): Sequential Dense(1024, relu), Dense(512, relu),
Dense(256, relu), Dense(10, softmax), Adam(learning_rate=1e-3), sparse categorical cross-entropy,
metrics=["accuracy"], `model.fit(x, y, batch_size, epochs, validation_data=(test images))`, all as
defaults have it. A callback times each epoch as Keras's own progress line counts it (training and
validation) and the training part alone, and prints one JSON object per epoch.

    .venv-keras/bin/python bench/course_run_keras.py --threads 2 --batch 32

TensorFlow's thread pools are set with tf.config.threading (intra-op --threads, inter-op --inter,
default the same) before anything runs; TensorFlow flushes denormals in its compute threads itself.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from course_data import load_fashion


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--inter", type=int, default=0, help="inter-op threads (0: the same as --threads)")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    t_start = time.perf_counter()
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.inter or a.threads)
    import keras

    keras.utils.set_random_seed(a.seed)
    (xs, ys), (xt, yt) = load_fashion(a.limit)
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    common = {"framework": "keras", "version": keras.__version__, "tensorflow": tf.__version__,
              "threads": a.threads, "inter": a.inter or a.threads, "batch": a.batch}
    steps = (len(xs) + a.batch - 1) // a.batch

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()
            self.t_val = None

        def on_test_begin(self, logs=None):
            self.t_val = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            logs = logs or {}
            print(json.dumps({**common, "kind": "epoch", "epoch": epoch + 1, "seconds": t - self.t0,
                              "train_seconds": (self.t_val or t) - self.t0, "steps": steps,
                              "loss": logs.get("loss"), "accuracy": logs.get("accuracy"),
                              "val_loss": logs.get("val_loss"), "val_accuracy": logs.get("val_accuracy")}),
                  flush=True)

    print(json.dumps({**common, "kind": "start", "startup_seconds": time.perf_counter() - t_start}), flush=True)
    model.fit(xs, ys, batch_size=a.batch, epochs=a.epochs, validation_data=(xt, yt), verbose=0, callbacks=[Timer()])


if __name__ == "__main__":
    sys.exit(main())
