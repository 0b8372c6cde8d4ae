"""Optimizers and learning-rate schedules by Keras's names and defaults. Each is the ``[optimizer]``
(and ``[schedule]``) table of an nnlab experiment; the library reads and checks the values."""
from __future__ import annotations

from typing import Any, Dict, Optional, Union

from . import schedules

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "schedules"]


class Optimizer:
    """An optimizer's name and options. ``learning_rate`` may be a number or a schedule of
    ``nnlab.optimizers.schedules`` (its ``initial_learning_rate`` becomes the rate)."""

    name: str = ""

    def __init__(self, learning_rate: Union[float, "schedules.LearningRateSchedule", None] = None,
                 **options: Any) -> None:
        self.schedule: Optional[schedules.LearningRateSchedule] = None
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            self.schedule = learning_rate
            learning_rate = learning_rate.initial_learning_rate
        self.learning_rate = learning_rate
        self._options = {k: v for k, v in options.items() if v is not None}

    def get_config(self) -> Dict[str, Any]:
        config = dict(self._options)
        if self.learning_rate is not None:
            config["learning_rate"] = float(self.learning_rate)
        return config

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """``keras.optimizers.SGD(learning_rate=0.01, momentum=0.0, nesterov=False)``."""

    name = "sgd"

    def __init__(self, learning_rate: Any = 0.01, momentum: Optional[float] = None,
                 nesterov: Optional[bool] = None, **options: Any) -> None:
        super().__init__(learning_rate, momentum=momentum, nesterov=nesterov, **options)


class Adam(Optimizer):
    """``keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)``."""

    name = "adam"

    def __init__(self, learning_rate: Any = 0.001, beta_1: Optional[float] = None, beta_2: Optional[float] = None,
                 epsilon: Optional[float] = None, **options: Any) -> None:
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, **options)


class AdamW(Optimizer):
    """``keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.004)``."""

    name = "adamw"

    def __init__(self, learning_rate: Any = 0.001, weight_decay: Optional[float] = None, **options: Any) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **options)


class RMSprop(Optimizer):
    """``keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9)``."""

    name = "rmsprop"

    def __init__(self, learning_rate: Any = 0.001, rho: Optional[float] = None, **options: Any) -> None:
        super().__init__(learning_rate, rho=rho, **options)


class Adagrad(Optimizer):
    """``keras.optimizers.Adagrad(learning_rate=0.001)``."""

    name = "adagrad"

    def __init__(self, learning_rate: Any = 0.001, **options: Any) -> None:
        super().__init__(learning_rate, **options)


class _Named(Optimizer):
    """An optimizer by name with the library's (Keras's) defaults; the library refuses an unknown name."""

    def __init__(self, name: str) -> None:
        super().__init__(None)
        self.name = name.lower()


def get(identifier: Union[str, Optimizer]) -> Optimizer:
    """An optimizer from its name ("adam") with Keras's defaults, or the optimizer itself."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        for cls in (SGD, Adam, AdamW, RMSprop, Adagrad):
            if cls.name == identifier.lower():
                return cls()
        return _Named(identifier)
    raise TypeError(f"optimizer must be a name or an nnlab.optimizers.Optimizer, got {identifier!r}")
