"""``nnlab.utils.set_random_seed``: the one seed of weight initialisation, dropout and shuffling."""
from __future__ import annotations

__all__ = ["set_random_seed", "get_random_seed"]

_seed = 42


def set_random_seed(seed: int) -> None:
    """Like ``keras.utils.set_random_seed``: models built and trained afterwards start from this seed."""
    global _seed
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed: seed must be a non-negative integer, got {seed!r}")
    _seed = seed


def get_random_seed() -> int:
    return _seed
