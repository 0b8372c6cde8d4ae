"""nnlab in Python: Keras's API over nnlab's C++ library.

    import nnlab
    (x, y), (x_test, y_test) = nnlab.data.load("fashion-mnist")
    model = nnlab.Sequential([nnlab.layers.Dense(512, activation="relu"), nnlab.layers.Dropout(0.3),
                              nnlab.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=nnlab.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=3, validation_data=(x_test, y_test))
    model.save("runs/my-model"); model = nnlab.load_model("runs/my-model")

    history.plot("accuracy"); history.diagnose()   # the charts and the fit diagnosis, inline in notebooks

    run = nnlab.train("fashion-mnist", epochs=3)   # nnlab train fashion-mnist --epochs 3
    nnlab.sweep("fashion-mnist", learning_rate=[1e-3, 1e-2], set={"train.epochs": 3})
    nnlab.ensemble("fashion-mnist", members=3)
"""
from . import callbacks, constraints, data, layers, losses, optimizers, regularizers, reports, utils
from ._ext import _nnlab
from .experiments import Ensemble, Run, Sweep, ensemble, experiments, sweep, train
from .models import History, Sequential, load_model

__version__ = "0.1.0"

set_num_threads = _nnlab.set_num_threads
num_threads = _nnlab.num_threads

__all__ = ["Sequential", "History", "load_model", "train", "Run", "sweep", "Sweep", "ensemble", "Ensemble",
           "experiments", "layers", "optimizers", "losses", "callbacks", "regularizers", "constraints", "data",
           "reports", "utils", "set_num_threads", "num_threads", "__version__"]
