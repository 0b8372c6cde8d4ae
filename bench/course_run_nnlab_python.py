#!/usr/bin/env python3
"""nnlab from Python, for bench/run_course.py: the course's real run on Fashion-MNIST written as a Keras
user writes it (the code of course_run_keras.py with `keras` replaced by `nnlab`): Sequential
Dense(1024, relu), Dense(512, relu), Dense(256, relu), Dense(10, softmax), Adam(learning_rate=1e-3),
sparse categorical cross-entropy, metrics=["accuracy"], `model.fit(x, y, batch_size, epochs,
validation_data=(test images))`. The data comes from nnlab.data.load (the same files as the command).
The library prints its own epoch lines, which run_course.py reads as it reads `nnlab train`'s.

    PYTHONPATH=python:build/python build/python-venv/bin/python bench/course_run_nnlab_python.py --threads 1 --batch 32
"""
import argparse

import nnlab


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()

    nnlab.set_num_threads(a.threads)
    (xs, ys), (xt, yt) = nnlab.data.load("fashion-mnist", limit=a.limit)
    model = nnlab.Sequential([
        nnlab.layers.Input((784,)),
        nnlab.layers.Dense(1024, activation="relu"),
        nnlab.layers.Dense(512, activation="relu"),
        nnlab.layers.Dense(256, activation="relu"),
        nnlab.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=nnlab.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(xs, ys, batch_size=a.batch, epochs=a.epochs, validation_data=(xt, yt))


if __name__ == "__main__":
    main()
