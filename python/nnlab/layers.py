"""Layers by Keras's names, each one entry of an nnlab model config (``[model] layers`` in an experiment
file). They hold settings only: the C++ library builds, checks and trains them, so a bad value is
refused with the library's message (a ValueError) when the model is built."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Dropout", "Activation", "BatchNormalization", "Flatten",
           "Maxout", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Reshape",
           "SpatialDropout2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D"]


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


def _kernel_options(use_bias: bool, kernel_initializer: str, kernel_regularizer: Any,
                    kernel_constraint: Any) -> Dict[str, Any]:
    """Dense's and Conv2D's kernel settings as config keys, the defaults left out."""
    options: Dict[str, Any] = {}
    if not use_bias:
        options["use_bias"] = False
    if kernel_initializer != "glorot_uniform":
        options["kernel_initializer"] = kernel_initializer
    options.update(_regularizer(kernel_regularizer, "kernel"))
    if kernel_constraint is not None:
        options["max_norm"] = float(getattr(kernel_constraint, "max_value", kernel_constraint))
    return options


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
        options.update(_kernel_options(use_bias, kernel_initializer, kernel_regularizer, kernel_constraint))
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
    """``keras.layers.BatchNormalization(momentum=0.99, epsilon=0.001)``: per feature, or after an image
    layer per channel (the last axis, as Keras's ``axis=-1``)."""

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


# --- images: NHWC (samples, height, width, channels), as Keras; start with Input(shape=(28, 28, 1)) ---

_Pair = Union[int, Sequence[int]]


def _pair(value: _Pair, name: str) -> Union[int, List[int]]:
    """Keras's (height, width) argument: one whole number for both, or two."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return [int(v) for v in value]
    raise TypeError(f"{name} must be a whole number or a tuple of two, got {value!r}")


def _channels_last(data_format: Optional[str]) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"data_format={data_format!r}: nnlab's images are channels_last (samples, height, width, "
                         "channels), Keras's default")


def _padding(value: str) -> str:
    padding = str(value).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f'padding must be "valid" or "same", got {value!r}')
    return padding


class Conv2D(Layer):
    """``keras.layers.Conv2D(filters, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
    activation=None, use_bias=True, kernel_initializer="glorot_uniform")``: images NHWC, the kernel
    (kernel_h, kernel_w, in_channels, filters) as Keras's. ``padding="same"`` pads as TensorFlow (the odd
    row or column at the end). ``kernel_regularizer`` and ``kernel_constraint`` as Dense's (MaxNorm per
    filter); ``input_shape`` (height, width, channels) fixes the model's input."""

    type = "conv2d"

    def __init__(self, filters: int, kernel_size: _Pair, strides: _Pair = (1, 1), padding: str = "valid",
                 dilation_rate: _Pair = (1, 1), activation: Optional[str] = None, use_bias: bool = True,
                 kernel_initializer: str = "glorot_uniform", kernel_regularizer: Any = None,
                 kernel_constraint: Any = None, input_shape: Optional[Sequence[int]] = None,
                 data_format: Optional[str] = None, name: Optional[str] = None) -> None:
        _channels_last(data_format)
        options: Dict[str, Any] = {"filters": filters, "kernel_size": _pair(kernel_size, "kernel_size"),
                                   "strides": _pair(strides, "strides"), "padding": _padding(padding),
                                   "dilation_rate": _pair(dilation_rate, "dilation_rate"),
                                   "activation": activation or "linear"}
        options.update(_kernel_options(use_bias, kernel_initializer, kernel_regularizer, kernel_constraint))
        super().__init__(name=name, **options)
        self.filters = filters
        self.input_shape = tuple(input_shape) if input_shape is not None else None


class _Pooling2D(Layer):
    def __init__(self, pool_size: _Pair = (2, 2), strides: Optional[_Pair] = None, padding: str = "valid",
                 data_format: Optional[str] = None, name: Optional[str] = None) -> None:
        _channels_last(data_format)
        super().__init__(name=name, pool_size=_pair(pool_size, "pool_size"),
                         strides=None if strides is None else _pair(strides, "strides"), padding=_padding(padding))


class MaxPooling2D(_Pooling2D):
    """``keras.layers.MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid")``: strides None is
    pool_size; "same" windows take the maximum of the image's values alone."""

    type = "max_pool2d"


class AveragePooling2D(_Pooling2D):
    """``keras.layers.AveragePooling2D(pool_size=(2, 2), strides=None, padding="valid")``: "same" windows
    average the image's values alone (the padding is not counted), as Keras's."""

    type = "average_pool2d"


class GlobalAveragePooling2D(Layer):
    """``keras.layers.GlobalAveragePooling2D()``: (height, width, channels) images become one mean per
    channel."""

    type = "global_average_pool2d"

    def __init__(self, data_format: Optional[str] = None, name: Optional[str] = None) -> None:
        _channels_last(data_format)
        super().__init__(name=name)


class Reshape(Layer):
    """``keras.layers.Reshape(target_shape)``: each sample seen as ``target_shape`` (without the batch
    dimension; one -1 stands for the rest), e.g. 784 values as (28, 28, 1) images."""

    type = "reshape"

    def __init__(self, target_shape: Sequence[int], name: Optional[str] = None) -> None:
        if isinstance(target_shape, (int, np.integer)):
            target_shape = (int(target_shape),)
        super().__init__(name=name, target_shape=[int(d) for d in target_shape])
        self.target_shape = tuple(int(d) for d in target_shape)


class SpatialDropout2D(Layer):
    """``keras.layers.SpatialDropout2D(rate)``: while training, drops whole channels of each sample's
    images (scaling the rest), as Dropout drops single values."""

    type = "spatial_dropout2d"

    def __init__(self, rate: float, name: Optional[str] = None) -> None:
        super().__init__(name=name, rate=rate)
        self.rate = rate


# Keras's aliases.
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
