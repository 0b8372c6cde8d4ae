"""Weight constraints by Keras's names, for ``Dense(kernel_constraint=...)``."""
from __future__ import annotations

__all__ = ["MaxNorm", "max_norm"]


class MaxNorm:
    """Each unit's incoming weight vector is rescaled to norm at most ``max_value`` after every step."""

    def __init__(self, max_value: float = 2.0) -> None:
        self.max_value = float(max_value)


max_norm = MaxNorm
