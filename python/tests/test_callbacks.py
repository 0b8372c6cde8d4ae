"""Python callbacks with Keras's hooks, the library's callbacks, schedules, the GIL and Ctrl-C."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import nnlab
from conftest import small_classifier


class Recorder(nnlab.callbacks.Callback):
    def __init__(self):
        self.events = []
        self.batches = 0

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin {epoch}")

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        assert "loss" in logs

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(f"epoch_end {epoch} {sorted(logs)}")
        logs["my_metric"] = 2.0 * epoch  # Keras lets a callback add to the logs

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_hooks_are_called_in_keras_order(blobs):
    x, y = blobs
    rec = Recorder()
    h = small_classifier().fit(x, y, epochs=2, batch_size=100, callbacks=[rec], verbose=0)
    keys = "['accuracy', 'loss', 'lr']"
    assert rec.events == ["train_begin", "epoch_begin 0", f"epoch_end 0 {keys}", "epoch_begin 1",
                          f"epoch_end 1 {keys}", "train_end"]
    assert rec.batches == 2 * 3
    assert h.history["my_metric"] == [0.0, 2.0]
    assert rec.model is not None


def test_a_callback_stops_training(blobs):
    x, y = blobs

    def stop_after_two(epoch, logs):
        if epoch == 1:
            model.stop_training = True

    model = small_classifier()
    h = model.fit(x, y, epochs=10, verbose=0, callbacks=[nnlab.callbacks.LambdaCallback(on_epoch_end=stop_after_two)])
    assert len(h.history["loss"]) == 2


def test_an_exception_in_a_callback_reaches_the_caller(blobs):
    x, y = blobs

    def fail(epoch, logs):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        small_classifier().fit(x, y, epochs=3, verbose=0, callbacks=[nnlab.callbacks.LambdaCallback(on_epoch_end=fail)])


def test_early_stopping_runs_in_the_library(blobs):
    x, y = blobs
    model = small_classifier(optimizer=nnlab.optimizers.SGD(learning_rate=0.0))  # the loss never improves
    h = model.fit(x, y, epochs=20, verbose=0, callbacks=[nnlab.callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=1e-4)])
    assert len(h.history["loss"]) == 3


def test_a_keras_schedule_sets_the_rate(blobs):
    x, y = blobs
    schedule = nnlab.optimizers.schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.5, staircase=True)
    model = small_classifier(optimizer=nnlab.optimizers.Adam(learning_rate=schedule))
    h = model.fit(x, y, epochs=3, batch_size=100, verbose=0)  # 3 steps an epoch: the rate halves each epoch
    np.testing.assert_allclose(h.history["lr"], [0.01 * 0.5 ** 0, 0.01 * 0.5 ** 1, 0.01 * 0.5 ** 2], rtol=1e-5)


def _long_fit(model, epochs):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20000, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=20000)
    return lambda: model.fit(x, y, epochs=epochs, batch_size=8, verbose=0)


def test_the_gil_is_released_while_training():
    """Another Python thread keeps running while fit computes in the library."""
    model = small_classifier()
    done = threading.Event()
    stamps = []

    def count():
        n = 0
        while not done.is_set():
            n += 1
            if n % 1000 == 0:
                stamps.append(time.perf_counter())

    fit = _long_fit(model, epochs=40)
    t = threading.Thread(target=count)
    t.start()
    t0 = time.perf_counter()
    fit()
    t1 = time.perf_counter()
    done.set()
    t.join()
    assert t1 - t0 > 0.2, "fit too short to tell"
    # With the GIL held through fit, the counter could not run between its start and its end at all.
    margin = 0.1 * (t1 - t0)
    inside = [s for s in stamps if t0 + margin < s < t1 - margin]
    assert len(inside) > 20, f"{len(inside)} counter stamps in {t1 - t0:.2f} s of fit"


def test_ctrl_c_stops_fit_with_keyboard_interrupt():
    model = small_classifier()
    fit = _long_fit(model, epochs=200)  # far longer than the test waits
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        fit()
    timer.join()
    assert time.perf_counter() - t0 < 10
