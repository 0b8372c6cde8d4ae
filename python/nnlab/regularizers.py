"""Weight penalties by Keras's names, for ``Dense(kernel_regularizer=...)``."""
from __future__ import annotations

from typing import Dict

__all__ = ["L1", "L2", "L1L2", "l1", "l2", "l1_l2"]


class L1L2:
    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = float(l1), float(l2)

    def get_config(self) -> Dict[str, float]:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)


class L2(L1L2):
    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)


l1, l2, l1_l2 = L1, L2, L1L2
