#!/usr/bin/env python3
"""Golden sequences for tests/test_schedules.cpp and tests/test_callbacks.cpp, computed by Keras 3.

Writes tests/data/schedule_golden.json: learning-rate schedules evaluated at every step, and
ReduceLROnPlateau / EarlyStopping fed crafted monitored values through their own callback code.

    python3 -m venv .venv && .venv/bin/pip install keras jax scipy
    KERAS_BACKEND=jax .venv/bin/python tests/golden/make_schedule_golden.py
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
from keras.optimizers import schedules  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "schedule_golden.json"


def steps_of(schedule, n):
    return [float(schedule(step)) for step in range(n)]


def schedule_cases():
    cases = []

    def add(kind, options, n, schedule):
        cases.append({"type": kind, "base_lr": options.pop("initial_learning_rate"), "options": options,
                      "rates": steps_of(schedule, n)})

    for o in [dict(initial_learning_rate=1.0, first_decay_steps=4, t_mul=2.0, m_mul=0.5, alpha=0.1),
              dict(initial_learning_rate=0.1, first_decay_steps=5, t_mul=1.0, m_mul=0.8, alpha=0.0),
              dict(initial_learning_rate=0.01, first_decay_steps=3, t_mul=1.5, m_mul=1.0, alpha=0.05),
              dict(initial_learning_rate=0.5, first_decay_steps=10, t_mul=3.0, m_mul=0.9, alpha=0.2)]:
        add("cosine_restarts", dict(o), 60, schedules.CosineDecayRestarts(**o))
    for o in [dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase=False),
              dict(initial_learning_rate=0.1, decay_steps=4, decay_rate=0.9, staircase=True)]:
        add("exponential", dict(o), 25, schedules.ExponentialDecay(**o))
    for o in [dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5, staircase=False),
              dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=2.0, staircase=True)]:
        add("inverse_time", dict(o), 25, schedules.InverseTimeDecay(**o))
    for o in [dict(initial_learning_rate=0.1, decay_steps=20, alpha=0.1),
              dict(initial_learning_rate=0.0, decay_steps=20, alpha=0.0, warmup_target=0.1, warmup_steps=5)]:
        add("cosine", dict(o), 30, schedules.CosineDecay(**o))
    return cases


def make_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    return model


def plateau_cases():
    cases = []
    scenarios = [
        (dict(monitor="val_loss", factor=0.5, patience=2, cooldown=0, min_lr=0.0),
         [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]),
        (dict(monitor="val_loss", factor=0.5, patience=2, cooldown=2, min_lr=0.1),
         [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
        (dict(monitor="val_loss", factor=0.1, patience=1, min_delta=0.05),
         [1.0, 0.96, 0.90, 0.86, 0.85, 0.70, 0.69, 0.69]),
        (dict(monitor="val_accuracy", mode="max", factor=0.2, patience=2, cooldown=1),
         [0.5, 0.6, 0.6, 0.55, 0.7, 0.7, 0.7, 0.7, 0.7, 0.71, 0.7, 0.7, 0.7]),
        (dict(monitor="val_loss", factor=0.3, patience=0, cooldown=1, min_lr=0.05),
         [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
        (dict(), [1.0] + [1.0] * 25),  # Keras defaults: factor 0.1, patience 10
    ]
    for options, values in scenarios:
        model = make_model()
        cb = keras.callbacks.ReduceLROnPlateau(**options)
        cb.set_model(model)
        cb.on_train_begin()
        lrs = []  # the rate after each epoch's on_epoch_end (what the next epoch uses)
        monitor = options.get("monitor", "val_loss")
        for epoch, v in enumerate(values):
            cb.on_epoch_begin(epoch)
            cb.on_epoch_end(epoch, {monitor: v})
            lrs.append(float(model.optimizer.learning_rate))
        cases.append({"options": options, "values": values, "initial_lr": 1.0, "lr_after": lrs})
    return cases


def early_stopping_cases():
    cases = []
    scenarios = [
        (dict(patience=0), [1.0, 0.9, 0.95, 0.8]),
        (dict(patience=2), [1.0, 0.9, 0.95, 0.92, 0.91, 0.8]),
        (dict(patience=2, min_delta=0.05), [1.0, 0.9, 0.88, 0.87, 0.86, 0.5]),
        (dict(patience=2, baseline=0.5), [1.0, 0.9, 0.8, 0.7, 0.6]),
        (dict(patience=1, start_from_epoch=3), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        (dict(monitor="val_accuracy", mode="max", patience=1), [0.5, 0.6, 0.6, 0.7, 0.65, 0.6]),
        (dict(patience=3, restore_best_weights=True), [1.0, 0.7, 0.8, 0.9, 0.95, 0.6]),
    ]
    for options, values in scenarios:
        model = make_model()
        cb = keras.callbacks.EarlyStopping(**options)
        cb.set_model(model)
        model.stop_training = False
        cb.on_train_begin()
        monitor = options.get("monitor", "val_loss")
        epochs_run = 0
        for epoch, v in enumerate(values):
            cb.on_epoch_end(epoch, {monitor: v})
            epochs_run += 1
            if model.stop_training:
                break
        cases.append({"options": options, "values": values, "epochs_run": epochs_run,
                      "stopped_epoch": cb.stopped_epoch, "best_epoch": cb.best_epoch, "wait": cb.wait})
    return cases


def main():
    golden = {"keras_version": keras.__version__, "backend": keras.backend.backend(),
              "schedules": schedule_cases(), "reduce_lr_on_plateau": plateau_cases(),
              "early_stopping": early_stopping_cases()}
    OUT.write_text(json.dumps(golden, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
