"""The experiment world from Python: ``nnlab.train`` is ``nnlab train`` (the same run folder)."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ._ext import _nnlab

__all__ = ["Run", "train", "experiments"]


class Run:
    """A finished run: its folder, its history (log name -> list over the epochs) and result.json."""

    def __init__(self, run_dir: str, history: Dict[str, List[float]], result: Dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.history = history
        self.result = result

    def __repr__(self) -> str:
        acc = self.result.get("test_accuracy")
        return f"Run({self.run_dir!r}, epochs={self.result.get('epochs_run')}" + (
            f", test_accuracy={acc:.4f})" if acc is not None else ")")


def _resolve(name: str) -> str:
    """A file, an experiment shipped in the package, or a name the library resolves itself."""
    if os.path.exists(name):
        return name
    shipped = os.path.join(os.path.dirname(__file__), "experiments")
    for ext in (".toml", ".json"):
        path = os.path.join(shipped, name + ext)
        if os.path.exists(path):
            return path
    return name


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # the shortest text that reads back as the same number
    return str(v)


def train(experiment: Union[str, os.PathLike], epochs: Optional[int] = None, batch_size: Optional[int] = None,
          learning_rate: Optional[float] = None, limit: Optional[int] = None, out: Optional[str] = None,
          set: Union[Mapping[str, Any], Sequence[str], None] = None, verbose: int = 1, resume: bool = False) -> Run:
    """``nnlab train EXPERIMENT [--epochs N] [--batch-size N] [--lr X] [--limit N] [--out DIR] [--set k=v]``:
    trains a built-in experiment ("fashion-mnist", "xor", ...) or a TOML/JSON file into a run folder
    (``runs/<name>-<time>`` by default) and returns its Run. The GIL is released while it trains;
    Ctrl-C stops it within a batch (KeyboardInterrupt), and ``resume=True`` with the same ``out``
    continues from the last finished epoch."""
    overrides: List[str] = []
    if epochs is not None:
        overrides.append(f"train.epochs={int(epochs)}")
    if batch_size is not None:
        overrides.append(f"train.batch_size={int(batch_size)}")
    if learning_rate is not None:
        overrides.append(f"optimizer.learning_rate={_value(float(learning_rate))}")
    if limit is not None:
        overrides.append(f"data.limit={int(limit)}")
    if isinstance(set, Mapping):
        overrides += [f"{k}={_value(v)}" for k, v in set.items()]
    elif set is not None:
        overrides += [str(s) for s in set]
    if resume and not out:
        raise ValueError("train: resume=True needs out, the run folder to continue")
    r = _nnlab.train(_resolve(os.fspath(experiment)), overrides, out or "", int(verbose), bool(resume), None)
    history: Dict[str, List[float]] = {}
    for logs in r["history"]:
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
    return Run(r["run_dir"], history, dict(r["result"]))


def experiments() -> List[str]:
    """The built-in experiments' names."""
    return list(_nnlab.builtin_experiments())
