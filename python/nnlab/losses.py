"""Losses by Keras's names. A string ("categorical_crossentropy") or one of these objects goes to
``compile(loss=...)``; the library computes them (Keras's values: the batch mean of the per-sample loss).

nnlab takes the last layer's sigmoid or softmax and computes cross-entropies from its logits itself, so
``from_logits=True`` is refused: give the last layer ``activation="softmax"`` (or ``"sigmoid"``) instead."""
from __future__ import annotations

from typing import Any, Dict, Union

__all__ = ["Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "get"]

_ALIASES = {"mean_squared_error": "mse", "mean_absolute_error": "mae"}
CLASSIFICATION = ("categorical_crossentropy", "sparse_categorical_crossentropy")


class Loss:
    name: str = ""

    def __init__(self, from_logits: bool = False, **options: Any) -> None:
        if from_logits:
            raise ValueError(f"{type(self).__name__}: from_logits=True is not supported; nnlab computes the loss "
                             "from the logits of the last layer's sigmoid or softmax itself, so give the last layer "
                             "that activation")
        self._options = {k: v for k, v in options.items() if v}

    def get_config(self) -> Dict[str, Any]:
        """nnlab's ``[loss]`` table."""
        return dict(self._options)


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(from_logits, label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(Loss):
    name = "sparse_categorical_crossentropy"


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(from_logits, label_smoothing=label_smoothing)


class MeanSquaredError(Loss):
    name = "mse"


class MeanAbsoluteError(Loss):
    name = "mae"


class _Named(Loss):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = _ALIASES.get(name, name)


def get(identifier: Union[str, Loss]) -> Loss:
    """A loss from its name (the library refuses an unknown one, listing the known names) or itself."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return _Named(identifier)
    raise TypeError(f"loss must be a name or an nnlab.losses.Loss, got {identifier!r}")
