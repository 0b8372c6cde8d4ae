"""Learning-rate schedules by Keras's names (``keras.optimizers.schedules``), each nnlab's ``[schedule]``
table. Pass one as an optimizer's ``learning_rate``."""
from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts"]


class LearningRateSchedule:
    type: str = ""

    def __init__(self, initial_learning_rate: float, **options: Any) -> None:
        self.initial_learning_rate = float(initial_learning_rate)
        self._options = {k: v for k, v in options.items() if v is not None}

    def get_config(self) -> Dict[str, Any]:
        """nnlab's ``[schedule]`` table (the initial rate is the optimizer's learning_rate)."""
        return {"type": self.type, **self._options}


class ExponentialDecay(LearningRateSchedule):
    type = "exponential"

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False) -> None:
        super().__init__(initial_learning_rate, decay_steps=decay_steps, decay_rate=decay_rate, staircase=staircase)


class InverseTimeDecay(LearningRateSchedule):
    type = "inverse_time"

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False) -> None:
        super().__init__(initial_learning_rate, decay_steps=decay_steps, decay_rate=decay_rate, staircase=staircase)


class CosineDecay(LearningRateSchedule):
    type = "cosine"

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 warmup_target: Optional[float] = None, warmup_steps: int = 0) -> None:
        super().__init__(initial_learning_rate, decay_steps=decay_steps, alpha=alpha, warmup_target=warmup_target,
                         warmup_steps=warmup_steps)


class CosineDecayRestarts(LearningRateSchedule):
    type = "cosine_restarts"

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0) -> None:
        super().__init__(initial_learning_rate, first_decay_steps=first_decay_steps, t_mul=t_mul, m_mul=m_mul,
                         alpha=alpha)
