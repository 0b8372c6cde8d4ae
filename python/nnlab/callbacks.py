"""Callbacks by Keras's names and hooks. A subclass of ``Callback`` runs in Python, with the GIL, at
the hooks it defines (``on_train_begin``, ``on_epoch_begin``, ``on_train_batch_end``, ``on_epoch_end``,
``on_train_end``); setting ``self.model.stop_training = True`` ends training after the epoch.
``EarlyStopping`` and ``ReduceLROnPlateau`` run inside the library (its ``[early_stopping]`` and
``[reduce_lr_on_plateau]`` tables, Keras's semantics) and cost no Python call."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

__all__ = ["Callback", "LambdaCallback", "EarlyStopping", "ReduceLROnPlateau"]


class Callback:
    """Keras's callback interface; override the hooks you need. ``logs`` holds the epoch's
    ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` and ``lr`` as they apply (running means
    over the epoch so far in ``on_train_batch_end``)."""

    model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: Optional[Dict[str, float]] = None) -> None: ...
    def on_train_end(self, logs: Optional[Dict[str, float]] = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: Optional[Dict[str, float]] = None) -> None: ...


class LambdaCallback(Callback):
    """``keras.callbacks.LambdaCallback``: functions for some hooks."""

    def __init__(self, on_epoch_begin: Optional[Callable] = None, on_epoch_end: Optional[Callable] = None,
                 on_train_begin: Optional[Callable] = None, on_train_end: Optional[Callable] = None,
                 on_train_batch_end: Optional[Callable] = None) -> None:
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end),
                         ("on_train_batch_end", on_train_batch_end)):
            if fn is not None:
                setattr(self, name, fn)


class _Native:
    """A callback the library runs: its settings are an experiment table."""

    table: str = ""

    def __init__(self, **options: Any) -> None:
        self._options = {k: v for k, v in options.items() if v is not None}

    def get_config(self) -> Dict[str, Any]:
        return dict(self._options)


class EarlyStopping(_Native):
    """``keras.callbacks.EarlyStopping`` with Keras's defaults."""

    table = "early_stopping"

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: Optional[float] = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        super().__init__(monitor=monitor, min_delta=min_delta, patience=patience, verbose=verbose, mode=mode,
                         baseline=baseline, restore_best_weights=restore_best_weights,
                         start_from_epoch=start_from_epoch)


class ReduceLROnPlateau(_Native):
    """``keras.callbacks.ReduceLROnPlateau`` with Keras's defaults."""

    table = "reduce_lr_on_plateau"

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__(monitor=monitor, factor=factor, patience=patience, verbose=verbose, mode=mode,
                         min_delta=min_delta, cooldown=cooldown, min_lr=min_lr)
