"""``nnlab.Sequential``: Keras's model API over nnlab's C++ library.

The model is an nnlab experiment config (the same JSON an experiment file becomes): its layers, loss,
optimizer, schedule and callback tables. The library reads and checks it, builds the model, trains it
with the GIL released, and saves it as the ``model.safetensors`` a run folder holds, so
``nnlab.load_model`` reads the command line's run folders and ``nnlab predict`` reads what ``save``
writes.

Inputs (``x``): a C-contiguous float32 array is used in place, without a copy. Any other layout or
numeric dtype is copied to float32 once per call, unchanged, except **uint8, taken as pixels and divided
by 255** (as nnlab's data loader scales images). Targets (``y``): class indices (integers, shape (n,)
or (n, 1)) or one-hot rows for the categorical losses; numbers of the model's output shape otherwise.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import callbacks as callbacks_module
from . import layers as layers_module
from . import losses as losses_module
from . import optimizers as optimizers_module
from . import utils
from .reports import Curves, epoch_logs, library_output
from ._ext import _nnlab

__all__ = ["Sequential", "History", "load_model"]

_ACCURACY = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy")


class History(callbacks_module.Callback, Curves):
    """What ``fit`` returns, as Keras's: ``history`` maps each log name to its list over the epochs.
    Beyond Keras: ``plot()`` / ``plots()`` draw its charts, ``diagnose()`` says whether the model
    overfits, and in a notebook it shows both."""

    def __init__(self) -> None:
        self.history: Dict[str, List[float]] = {}
        self.epoch: List[int] = []
        self.params: Dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def _epochs(self) -> List[int]:
        return list(self.epoch)


def as_inputs(x: Any, what: str = "x") -> np.ndarray:
    """x as a C-contiguous float32 array: the same array when it already is one; uint8 / 255."""
    if isinstance(x, (list, tuple)):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {type(x).__name__}")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / np.float32(255)
    elif x.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers (float, int, uint8 or bool), got dtype {x.dtype}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"{what} must hold at least one sample (shape (n, ...)), got shape {x.shape}")
    if not np.isfinite(x).all():
        bad = int(np.argwhere(~np.isfinite(x.reshape(len(x), -1)))[0][0])
        raise ValueError(f"{what} holds a value that is not finite (NaN or infinity) in sample {bad}")
    return x


def as_targets(y: Any, loss: str, outputs: int, n: int, what: str = "y") -> np.ndarray:
    """y as a C-contiguous float32 array of one row per sample; class indices checked against outputs."""
    if isinstance(y, (list, tuple)):
        y = np.asarray(y)
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {type(y).__name__}")
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, got dtype {y.dtype}")
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError(f"{what} must have one row per sample ({n}), got shape {y.shape}")
    if y.ndim > 2:
        y = y.reshape(n, -1)
    column = y.ndim == 1 or y.shape[1] == 1
    if loss in losses_module.CLASSIFICATION and column and outputs > 1:
        labels = y.reshape(n)
        if labels.dtype.kind == "f":
            bad = np.flatnonzero(labels != np.round(labels))
            if bad.size:
                raise ValueError(f"{what}: class index {labels[bad[0]]} of sample {bad[0]} is not a whole number")
        bad = np.flatnonzero((labels < 0) | (labels >= outputs))
        if bad.size:
            raise ValueError(f"{what}: class index {labels[bad[0]]} of sample {bad[0]} is out of range: the model "
                             f"has {outputs} outputs, so classes 0 to {outputs - 1}")
        return np.ascontiguousarray(labels.reshape(n, 1), dtype=np.float32)
    y = y.reshape(n, 1) if y.ndim == 1 else y
    y = np.ascontiguousarray(y, dtype=np.float32)
    if not np.isfinite(y).all():
        raise ValueError(f"{what} holds a value that is not finite (NaN or infinity)")
    return y


class Sequential:
    """``keras.Sequential([layers...])``: a stack of ``nnlab.layers``. The input shape is fixed by an
    ``nnlab.layers.Input(shape)`` first, a first layer's ``input_shape``, ``build(input_shape)`` or the
    first ``fit`` / ``predict``; the weights are initialised from ``nnlab.utils.set_random_seed``'s seed
    (42 by default)."""

    def __init__(self, layers: Optional[Sequence[Any]] = None, name: str = "sequential") -> None:
        self.name = name
        self.layers: List[layers_module.Layer] = []
        self.stop_training = False
        self.history: Optional[History] = None
        self._input_shape: Optional[Tuple[int, ...]] = None
        self._net: Any = None
        self._loss: Optional[losses_module.Loss] = None
        self._optimizer: Optional[optimizers_module.Optimizer] = None
        self._metrics: List[str] = []
        self._fits = 0
        self._compiled = ""
        for layer in layers or []:
            self.add(layer)

    # --- building -------------------------------------------------------------------------------
    def add(self, layer: Any) -> None:
        if self._net is not None:
            raise ValueError("add: the model is already built; add layers before fit, predict or build")
        if isinstance(layer, layers_module.InputLayer):
            if self.layers:
                raise ValueError("add: Input must come before the first layer")
            self._input_shape = layer.shape
            return
        if not isinstance(layer, layers_module.Layer):
            raise TypeError(f"add: expected a layer of nnlab.layers, got {layer!r}")
        shape = getattr(layer, "input_shape", None)
        if shape is not None and not self.layers and self._input_shape is None:
            self._input_shape = tuple(int(s) for s in shape)
        self.layers.append(layer)

    def _config(self, native_callbacks: Sequence[Any] = ()) -> Dict[str, Any]:
        """The experiment config the library reads: model layers and, once compiled, training."""
        config: Dict[str, Any] = {"name": self.name, "seed": utils.get_random_seed(),
                                  "model": {"layers": [layer.get_config() for layer in self.layers]}}
        if self._loss is not None and self._optimizer is not None:
            config["train"] = {"loss": self._loss.name, "optimizer": self._optimizer.name}
            config["optimizer"] = self._optimizer.get_config()
            if self._loss.get_config():
                config["loss"] = self._loss.get_config()
            if self._optimizer.schedule is not None:
                config["schedule"] = self._optimizer.schedule.get_config()
        for cb in native_callbacks:
            config[cb.table] = cb.get_config()
        return config

    def build(self, input_shape: Sequence[int]) -> None:
        """Fixes the input shape (with or without a leading None batch dimension) and the weights."""
        shape = tuple(input_shape)
        if shape and shape[0] is None:
            shape = shape[1:]
        if self._net is not None:
            if tuple(self._net.input_shape()) != shape and int(np.prod(shape)) != int(np.prod(self._net.input_shape())):
                raise ValueError(f"build: the model's input is already {tuple(self._net.input_shape())}, got {shape}")
            return
        if not self.layers:
            raise ValueError("build: the model has no layers")
        self._input_shape = tuple(int(s) for s in shape)
        config = self._config()
        self._net = _nnlab.Network(json.dumps(config), list(self._input_shape))
        self._compiled = json.dumps(config, sort_keys=True)

    @property
    def built(self) -> bool:
        return self._net is not None

    def _require_built(self, what: str) -> Any:
        if self._net is None:
            if self._input_shape is None:
                raise ValueError(f"{what}: the model is not built yet; call fit, build(input_shape) or start with "
                                 "nnlab.layers.Input(shape)")
            self.build(self._input_shape)
        return self._net

    # --- compiling ------------------------------------------------------------------------------
    def compile(self, optimizer: Union[str, optimizers_module.Optimizer] = "rmsprop",
                loss: Union[str, losses_module.Loss, None] = None, metrics: Optional[Sequence[str]] = None) -> None:
        """``optimizer``: a name (Keras's defaults) or ``nnlab.optimizers.*``; ``loss``: a name or
        ``nnlab.losses.*``; ``metrics``: ``["accuracy"]`` (the accuracy that suits the loss) or none."""
        if loss is None:
            raise ValueError("compile: loss is required (e.g. 'categorical_crossentropy', 'mse')")
        metrics = list(metrics or [])
        for m in metrics:
            if m not in _ACCURACY:
                raise ValueError(f"compile: unsupported metric {m!r} (nnlab reports the loss and, with "
                                 f"metrics=['accuracy'], the accuracy that suits the loss)")
        self._optimizer = optimizers_module.get(optimizer)
        self._loss = losses_module.get(loss)
        self._metrics = metrics
        if self._net is not None:
            self._recompile(self._config())
        else:  # checked now, with the library's messages, even before the input shape is known
            _nnlab.check_config(json.dumps(self._config()))

    def _recompile(self, config: Dict[str, Any]) -> None:
        # A new trainer (and optimizer state) only when the settings change: fit after fit continues
        # the optimizer's moments, as in Keras.
        text = json.dumps(config, sort_keys=True)
        if text != self._compiled:
            self._net.compile(text)
            self._compiled = text

    def _require_compiled(self, what: str) -> None:
        if self._loss is None:
            raise ValueError(f"{what}: compile the model first (model.compile(optimizer=..., loss=...))")

    def _accuracy(self) -> bool:
        return any(m in _ACCURACY for m in self._metrics)

    def _keep(self, key: str) -> bool:
        return self._accuracy() or key not in ("accuracy", "val_accuracy")

    # --- data -----------------------------------------------------------------------------------
    def _xy(self, x: Any, y: Any, what: str = "") -> Tuple[np.ndarray, np.ndarray]:
        x = as_inputs(x, what + "x")
        if self._net is None:
            self.build(self._input_shape or x.shape[1:] or (1,))
        outputs = int(np.prod(self._net.output_shape()))
        return x, as_targets(y, self._loss.name if self._loss else "", outputs, len(x), what + "y")

    # --- training -------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: Optional[int] = None, epochs: int = 1,
            verbose: Union[str, int] = "auto", callbacks: Optional[Sequence[Any]] = None,
            validation_split: float = 0.0, validation_data: Optional[Tuple[Any, Any]] = None,
            shuffle: bool = True, initial_epoch: int = 0) -> History:
        """Trains for ``epochs`` (Keras's arguments and defaults: batch_size 32); returns a History.
        The GIL is released while the library trains; Ctrl-C stops within a batch (KeyboardInterrupt)."""
        self._require_compiled("fit")
        if x is None or y is None:
            raise ValueError("fit: x and y are required")
        x, y = self._xy(x, y)
        if not 0.0 <= float(validation_split) < 1.0:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        val_x = val_y = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("fit: validation_data must be a tuple (x_val, y_val)")
            val_x, val_y = self._xy(validation_data[0], validation_data[1], "validation_data ")
        elif validation_split > 0:  # Keras: the last fraction of the samples, before shuffling
            split = int(len(x) * (1.0 - float(validation_split)))
            if split < 1 or split >= len(x):
                raise ValueError(f"fit: validation_split {validation_split} of {len(x)} samples leaves no "
                                 "training or no validation samples")
            x, val_x, y, val_y = x[:split], x[split:], y[:split], y[split:]
        native, python = [], []
        for cb in callbacks or []:
            (native if isinstance(cb, callbacks_module._Native) else python).append(cb)
            if not isinstance(cb, (callbacks_module._Native, callbacks_module.Callback)):
                raise TypeError(f"fit: callbacks must be nnlab.callbacks objects, got {cb!r}")
        self._recompile(self._config(native))
        history = History()
        history.set_model(self)
        history.params = {"verbose": verbose, "epochs": epochs, "steps": -(-len(x) // (batch_size or 32))}
        for cb in python:
            cb.set_model(self)
        self.stop_training = False

        def hook(event: str, index: int, logs: Dict[str, float]) -> bool:
            for cb in python:
                if event == "epoch_end":
                    cb.on_epoch_end(index, logs)
                elif event == "batch_end":
                    cb.on_train_batch_end(index, logs)
                elif event == "epoch_begin":
                    cb.on_epoch_begin(index, logs)
                elif event == "train_begin":
                    cb.on_train_begin(logs)
                elif event == "train_end":
                    cb.on_train_end(logs)
            return self.stop_training

        batch_hook = any(type(cb).on_train_batch_end is not callbacks_module.Callback.on_train_batch_end
                         or "on_train_batch_end" in vars(cb) for cb in python)
        seed = utils.get_random_seed() + self._fits
        self._fits += 1
        with library_output():
            logs = self._net.fit(x, y, val_x, val_y, int(epochs), int(initial_epoch), int(batch_size or 32),
                                 bool(shuffle), seed, 0 if verbose == 0 else 1, hook if python else None, batch_hook)
        for i, entry in enumerate(logs):
            history.epoch.append(int(initial_epoch) + i)
            for key, value in entry.items():
                if self._keep(key):
                    history.history.setdefault(key, []).append(value)
        self.history = history
        return history

    def evaluate(self, x: Any = None, y: Any = None, batch_size: Optional[int] = None, verbose: Any = "auto",
                 return_dict: bool = False) -> Union[float, List[float], Dict[str, float]]:
        """The loss (and the accuracy with metrics=["accuracy"]), as Keras returns them."""
        self._require_compiled("evaluate")
        x, y = self._xy(x, y)
        logs = {k: v for k, v in self._net.evaluate(x, y, int(batch_size or 32)).items() if self._keep(k)}
        if return_dict:
            return logs
        if len(logs) == 1:
            return logs["loss"]
        return [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]

    def predict(self, x: Any, batch_size: Optional[int] = None, verbose: Any = "auto") -> np.ndarray:
        """The outputs for x, a float32 array of shape (n, outputs...)."""
        x = as_inputs(x, "x")
        if self._net is None:
            self.build(self._input_shape or x.shape[1:] or (1,))
        return self._net.predict(x, int(batch_size or 32))

    def __call__(self, x: Any) -> np.ndarray:
        return self.predict(x)

    # --- inspecting -----------------------------------------------------------------------------
    def summary(self, print_fn: Any = None) -> None:
        """Keras's table: each layer, its output shape and parameters, and the totals."""
        text = self._require_built("summary").summary()
        (print_fn or print)(text.rstrip("\n"))

    def count_params(self) -> int:
        return int(self._require_built("count_params").count_params())

    def get_weights(self) -> List[np.ndarray]:
        """The weights (and batch-norm statistics) in the model's order, as copies."""
        return [value for _, value in self._require_built("get_weights").weights()]

    def get_weight_dict(self) -> Dict[str, np.ndarray]:
        """The weights by their names in the model file ("dense_1.kernel": (inputs, units))."""
        return dict(self._require_built("get_weight_dict").weights())

    def set_weights(self, weights: Sequence[Any]) -> None:
        self._require_built("set_weights").set_weights(
            [np.ascontiguousarray(w, dtype=np.float32) for w in weights])

    @property
    def input_shape(self) -> Optional[Tuple[Optional[int], ...]]:
        shape = tuple(self._net.input_shape()) if self._net is not None else self._input_shape
        return None if shape is None else (None, *shape)

    @property
    def output_shape(self) -> Tuple[Optional[int], ...]:
        return (None, *self._require_built("output_shape").output_shape())

    # --- files ----------------------------------------------------------------------------------
    def export(self, filepath: Union[str, os.PathLike], format: str = "onnx", verbose: bool = True) -> None:
        """Keras 3's ``model.export``: the model as an ONNX file (opset 17; input "input" of any batch
        size, output "output") that ONNX Runtime runs and ``nnlab.load_model`` reads back. ONNX is the
        one format nnlab writes; Keras's default, a TensorFlow SavedModel, needs TensorFlow."""
        net = self._require_built("export")
        if format != "onnx":
            raise ValueError(f"format={format!r}: nnlab exports format='onnx' only (Keras's 'tf_saved_model' "
                             "and 'openvino' need TensorFlow or OpenVINO)")
        path = os.fspath(filepath)
        net.export_onnx(path)
        if verbose:
            print(f"Saved artifact at '{path}'.")  # Keras's words

    def save(self, filepath: Union[str, os.PathLike]) -> None:
        """A ``.safetensors`` path: the model file alone. Any other path: a run folder as
        ``nnlab train`` writes one (model.safetensors, config.json, summary.txt, and history.csv after fit),
        which ``nnlab evaluate`` / ``predict`` and ``nnlab.load_model`` read."""
        net = self._require_built("save")
        path = os.fspath(filepath)
        if path.endswith(".safetensors"):
            net.save(path)
            return
        os.makedirs(path, exist_ok=True)
        history = self.history if self.history is not None else History()
        net.save_folder(path, history.epoch, epoch_logs(history.history, len(history.epoch)))


def load_model(filepath: Union[str, os.PathLike]) -> Sequential:
    """A model saved by ``Sequential.save`` or trained by ``nnlab train``: a run folder or a
    ``.safetensors`` file. It comes back compiled with the loss and optimizer it was trained with.
    An ``.onnx`` file (``Sequential.export``'s, or an MLP that Keras's ``model.export(format="onnx")``
    or PyTorch's ``torch.onnx.export`` wrote) loads too; one from elsewhere is compiled with the loss
    its output implies (softmax: categorical cross-entropy) and Adam."""
    path = os.fspath(filepath)
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    net = _nnlab.Network.load(path)
    config = json.loads(net.config())
    model = Sequential(name=config.get("name", "sequential"))
    for layer_config in json.loads(net.model_config())["layers"]:
        model.layers.append(_LoadedLayer(layer_config))
    model._net = net
    model._input_shape = tuple(net.input_shape())
    train = config.get("train", {})
    loss = train.get("loss", "categorical_crossentropy")
    model._loss = losses_module.get(loss)
    if config.get("loss"):
        model._loss._options = dict(config["loss"])
    optimizer = optimizers_module.get(train.get("optimizer", "adam"))
    optimizer._options = {k: v for k, v in config.get("optimizer", {}).items() if k != "learning_rate"}
    optimizer.learning_rate = config.get("optimizer", {}).get("learning_rate", optimizer.learning_rate)
    model._optimizer = optimizer
    model._metrics = ["accuracy"] if loss not in ("mse", "mae", "mean_squared_error", "mean_absolute_error") else []
    return model


class _LoadedLayer(layers_module.Layer):
    """A layer read back from a model file: its config as the library wrote it."""

    def __init__(self, config: Dict[str, Any]) -> None:
        config = dict(config)
        self.type = config.pop("type")
        name = config.pop("name", None)
        super().__init__(name=name, **config)

    def __repr__(self) -> str:
        return f"{self.type}({', '.join(f'{k}={v!r}' for k, v in self._options.items())})"
