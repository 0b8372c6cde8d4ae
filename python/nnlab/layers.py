"""Layers by Keras's names, each one entry of an nnlab model config (``[model] layers`` in an experiment
file). They hold settings only: the C++ library builds, checks and trains them, so a bad value is
refused with the library's message (a ValueError) when the model is built."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Dropout", "Activation", "BatchNormalization", "Flatten",
           "Maxout"]


class Layer:
    """A layer's settings; ``get_config()`` is its table in an nnlab experiment."""

    type: str = ""

    def __init__(self, name: Optional[str] = None, **options: Any) -> None:
        self.name = name
        self._options = {k: v for k, v in options.items() if v is not None}

    def get_config(self) -> Dict[str, Any]:
        config: Dict[str, Any] = {"type": self.type, **self._options}
        if self.name is not None:
            config["name"] = self.name
        return config

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._options.items())
        return f"{type(self).__name__}({args})"


class InputLayer:
    """The shape of one sample, as ``keras.Input(shape=(784,))``: fixes the model's input before ``fit``."""

    def __init__(self, shape: Sequence[int], name: Optional[str] = None) -> None:
        if isinstance(shape, int):
            shape = (shape,)
        self.shape: Tuple[int, ...] = tuple(int(s) for s in shape)
        self.name = name

    def __repr__(self) -> str:
        return f"Input(shape={self.shape})"


def Input(shape: Sequence[int], name: Optional[str] = None) -> InputLayer:  # noqa: N802 (Keras's name)
    """``keras.Input``: the shape of one sample, without the batch dimension."""
    return InputLayer(shape, name=name)


def _regularizer(value: Any, kind: str) -> Dict[str, float]:
    """Keras's kernel_regularizer: a number (taken as L2), regularizers.L1/L2/L1L2, or None."""
    if value is None:
        return {}
    if isinstance(value, (int, float)):
        return {"l2": float(value)} if kind == "kernel" else {}
    if hasattr(value, "get_config"):
        return {k: v for k, v in value.get_config().items() if v}
    raise TypeError(f"{kind}_regularizer must be nnlab.regularizers.L1, L2, L1L2 or a number, got {value!r}")


class Dense(Layer):
    """``keras.layers.Dense(units, activation=None, use_bias=True, kernel_initializer="glorot_uniform")``.

    ``kernel_regularizer`` takes ``nnlab.regularizers.L1/L2/L1L2``; ``kernel_constraint`` takes
    ``nnlab.constraints.MaxNorm``. ``input_shape`` (Keras's first-layer argument) fixes the model's input.
    """

    type = "dense"

    def __init__(self, units: int, activation: Optional[str] = None, use_bias: bool = True,
                 kernel_initializer: str = "glorot_uniform", kernel_regularizer: Any = None,
                 kernel_constraint: Any = None, input_shape: Optional[Sequence[int]] = None,
                 name: Optional[str] = None) -> None:
        options: Dict[str, Any] = {"units": units, "activation": activation or "linear"}
        if not use_bias:
            options["use_bias"] = False
        if kernel_initializer != "glorot_uniform":
            options["kernel_initializer"] = kernel_initializer
        options.update(_regularizer(kernel_regularizer, "kernel"))
        if kernel_constraint is not None:
            options["max_norm"] = float(getattr(kernel_constraint, "max_value", kernel_constraint))
        super().__init__(name=name, **options)
        self.units = units
        self.input_shape = tuple(input_shape) if input_shape is not None else None


class Dropout(Layer):
    """``keras.layers.Dropout(rate)``: zeroes that fraction of inputs while training, scaling the rest."""

    type = "dropout"

    def __init__(self, rate: float, name: Optional[str] = None) -> None:
        super().__init__(name=name, rate=rate)
        self.rate = rate


class Activation(Layer):
    """``keras.layers.Activation("relu")``."""

    type = "activation"

    def __init__(self, activation: str, name: Optional[str] = None) -> None:
        super().__init__(name=name, activation=activation)


class BatchNormalization(Layer):
    """``keras.layers.BatchNormalization(momentum=0.99, epsilon=0.001)``."""

    type = "batch_norm"

    def __init__(self, momentum: float = 0.99, epsilon: float = 0.001, name: Optional[str] = None) -> None:
        super().__init__(name=name, momentum=momentum, epsilon=epsilon)


class Flatten(Layer):
    """``keras.layers.Flatten()``: (28, 28) images become 784 values."""

    type = "flatten"


class Maxout(Layer):
    """nnlab's maxout layer: ``units`` outputs, each the largest of ``pieces`` linear units."""

    type = "maxout"

    def __init__(self, units: int, pieces: Optional[int] = None, name: Optional[str] = None) -> None:
        super().__init__(name=name, units=units, pieces=pieces)
