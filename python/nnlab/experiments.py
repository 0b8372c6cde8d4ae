"""The experiment world from Python: ``nnlab.train``, ``nnlab.sweep`` and ``nnlab.ensemble`` are
``nnlab train``, ``nnlab sweep`` and ``nnlab ensemble`` (the same folders, tables and charts)."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ._ext import _nnlab
from .reports import SVG, Curves, library_output

__all__ = ["Run", "Sweep", "Ensemble", "train", "sweep", "ensemble", "experiments"]

Settings = Union[Mapping[str, Any], Sequence[str], None]


class Run(Curves):
    """A finished run: its folder, its history (log name -> list over the epochs) and result.json;
    ``plot()`` and ``diagnose()`` as on a ``History``, and both inline in a notebook."""

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


def _settings(set: Settings) -> List[str]:
    """``set={"train.epochs": 3}`` or ``set=["train.epochs=3"]`` as the command line's --set k=v."""
    if isinstance(set, Mapping):
        return [f"{k}={_value(v)}" for k, v in set.items()]
    if isinstance(set, str):
        return [set]
    return [str(s) for s in set or []]


def train(experiment: Union[str, os.PathLike], epochs: Optional[int] = None, batch_size: Optional[int] = None,
          learning_rate: Optional[float] = None, limit: Optional[int] = None, out: Optional[str] = None,
          set: Settings = None, verbose: int = 1, resume: bool = False) -> Run:
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
    overrides += _settings(set)
    if resume and not out:
        raise ValueError("train: resume=True needs out, the run folder to continue")
    with library_output():
        r = _nnlab.train(_resolve(os.fspath(experiment)), overrides, out or "", int(verbose), bool(resume), None)
    history: Dict[str, List[float]] = {}
    for logs in r["history"]:
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
    return Run(r["run_dir"], history, dict(r["result"]))


def experiments() -> List[str]:
    """The built-in experiments' names."""
    return list(_nnlab.builtin_experiments())


class Sweep:
    """A finished sweep: ``rows`` (one dict per variant, best first: variant, run_dir, params, best,
    best_epoch, final, test_accuracy, train_seconds, verdict), ``table`` (Markdown, shown in a notebook),
    ``dir`` and ``metric``; ``plot(column)`` overlays that column of every variant."""

    def __init__(self, d: Mapping[str, Any]) -> None:
        self.name: str = d["name"]
        self.dir: str = d["dir"]
        self.metric: str = d["metric"]
        self.rows: List[Dict[str, Any]] = [dict(r) for r in d["rows"]]
        self.table: str = d["table"]

    def __repr__(self) -> str:
        return f"Sweep({self.dir!r}, {len(self.rows)} variants)\n{self.table}"

    def _repr_markdown_(self) -> str:
        return self.table

    def plot(self, column: Optional[str] = None) -> SVG:
        """The chart ``nnlab sweep`` drew of one column over every variant (default: the metric)."""
        column = column or self.metric
        path = os.path.join(self.dir, f"compare-{column}.svg")
        if not os.path.exists(path):
            drawn = sorted(f[len("compare-"):-4] for f in os.listdir(self.dir) if f.startswith("compare-"))
            raise ValueError(f"plot: the sweep drew no chart of {column!r}; it drew {drawn}")
        with open(path, encoding="utf-8") as f:
            return SVG(f.read(), column)


def sweep(experiment: Union[str, os.PathLike], width: Optional[Sequence[float]] = None,
          depth: Optional[Sequence[int]] = None, activation: Optional[Sequence[str]] = None,
          dropout: Optional[Sequence[float]] = None, learning_rate: Optional[Sequence[float]] = None,
          batch_size: Optional[Sequence[int]] = None, preset: Optional[str] = None, set: Settings = None,
          metric: Optional[str] = None, out: Optional[str] = None, verbose: int = 1) -> Sweep:
    """``nnlab sweep``: a sweep file, or a base experiment varied along the axes given (their cartesian
    product) or by ``preset="families"`` (the course's baseline, wider, deeper, both). Trains every
    variant into ``out`` (``runs/<name>`` by default; call again to resume) and returns the table."""
    if preset not in (None, "families"):
        raise ValueError(f"sweep: preset must be 'families' or None, got {preset!r}")
    axes = _nnlab.SweepAxes()
    for name, values, kind in (("width", width, float), ("depth", depth, int), ("activation", activation, str),
                               ("dropout", dropout, float), ("learning_rate", learning_rate, float),
                               ("batch_size", batch_size, int)):
        if values is not None:
            if isinstance(values, (str, int, float)):
                values = [values]
            setattr(axes, name, [kind(v) for v in values])
    axes.families = preset == "families"
    with library_output():
        d = _nnlab.sweep(_resolve(os.fspath(experiment)), axes, _settings(set), metric or "", out or "", int(verbose))
    return Sweep(d)


class Ensemble:
    """A trained ensemble: ``dir`` (which ``nnlab evaluate`` / ``predict`` accept), ``report`` (members
    and combinations with their test accuracies), ``table`` (Markdown, shown in a notebook),
    ``train_seconds`` and ``accuracy`` (combination name -> test accuracy)."""

    def __init__(self, d: Mapping[str, Any]) -> None:
        self.name: str = d["name"]
        self.dir: str = d["dir"]
        self.report: Dict[str, Any] = json.loads(d["report"])
        self.table: str = d["table"]
        self.train_seconds: float = float(d["train_seconds"])
        self.parallel: int = int(d["parallel"])

    @property
    def accuracy(self) -> Dict[str, float]:
        return {c["name"]: float(c["accuracy"]) for c in self.report.get("combinations", [])}

    def __repr__(self) -> str:
        return f"Ensemble({self.dir!r})\n{self.table}"

    def _repr_markdown_(self) -> str:
        return self.table


def ensemble(experiment: Union[str, os.PathLike], members: int = 5, architectures: Optional[Sequence[str]] = None,
             holdout: float = 0.1, parallel: int = 0, combination: str = "average",
             combiner_epochs: Optional[int] = None, set: Settings = None, out: Optional[str] = None,
             verbose: int = 1) -> Ensemble:
    """``nnlab ensemble``: ``members`` copies of an experiment with seeds seed, seed+1, ... (or one member
    per experiment in ``architectures``), trained ``parallel`` side by side (0: one per thread), each on
    the training set less its last ``holdout`` fraction, on which a stacking combiner learns; evaluated
    by vote, average and stacking on the test set. Call again with the same ``out`` to resume."""
    arch = [_resolve(os.fspath(a)) for a in architectures or []]
    with library_output():
        d = _nnlab.ensemble(_resolve(os.fspath(experiment)), _settings(set), int(members), arch, float(holdout),
                            int(parallel), combination, int(combiner_epochs or 0), out or "", int(verbose))
    return Ensemble(d)
