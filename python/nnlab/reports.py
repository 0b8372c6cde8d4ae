"""Pictures and the fit diagnosis in Python, drawn by the library as ``nnlab plot`` draws them.

``history.plot()`` (after ``model.fit``) and ``run.plot()`` (after ``nnlab.train``) return an ``SVG``
that a notebook shows inline; ``history.diagnose()`` says whether the run overfits or underfits and what to
try; a ``History`` or ``Run`` left as a cell's last value shows its charts and diagnosis."""
from __future__ import annotations

import contextlib
import html
import os
import sys
import tempfile
import threading
from typing import Any, Dict, Iterator, List, Mapping, Sequence

from ._ext import _nnlab

__all__ = ["SVG", "Diagnosis"]


class SVG:
    """An SVG picture: inline in a notebook (``_repr_svg_``), its text as ``str(svg)``, ``save(path)``."""

    def __init__(self, text: str, name: str = "") -> None:
        self.text = text
        self.name = name

    def _repr_svg_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"SVG({self.name!r}, {len(self.text)} characters)"

    def save(self, path: "str | os.PathLike[str]") -> None:
        """Writes the picture to ``path`` atomically (a temporary file beside it, then renamed)."""
        path = os.fspath(path)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-", suffix=".svg")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise


class Diagnosis:
    """The fit diagnosis of a history: ``verdict`` ("good fit", "overfitting", "underfitting",
    "undetermined"), ``summary`` with the figures, ``cures`` (what the course suggests trying),
    ``best_epoch`` (1-based, lowest validation loss) and ``overfitting_from`` (0 when not overfitting)."""

    def __init__(self, d: Mapping[str, Any]) -> None:
        self.verdict: str = d["verdict"]
        self.best_epoch: int = int(d["best_epoch"])
        self.overfitting_from: int = int(d["overfitting_from"])
        self.summary: str = d["summary"]
        self.cures: List[str] = list(d["cures"])
        self.text: str = d["text"]

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Diagnosis({self.verdict!r}, best_epoch={self.best_epoch})"

    def _repr_html_(self) -> str:
        cures = "".join(f"<li>{html.escape(c)}</li>" for c in self.cures)
        return (f"<div class=\"nnlab-diagnosis\"><b>Diagnosis: {html.escape(self.verdict)}</b>"
                f"<p>{html.escape(self.summary)}</p>" + (f"<p>What to try:</p><ul>{cures}</ul>" if cures else "")
                + "</div>")


def epoch_logs(history: Mapping[str, Sequence[float]], epochs: int) -> List[Dict[str, float]]:
    """Keras's history (name -> list over the epochs) as one dict of logs per epoch."""
    return [{k: float(v[i]) for k, v in history.items() if i < len(v)} for i in range(epochs)]


class Curves:
    """What a ``History`` and a ``Run`` share: charts and diagnosis of ``self.history`` (a dict of lists)."""

    history: Dict[str, List[float]]

    def _epochs(self) -> List[int]:
        return list(range(max((len(v) for v in self.history.values()), default=0)))

    def _logs(self) -> List[Dict[str, float]]:
        return epoch_logs(self.history, len(self._epochs()))

    def plots(self) -> Dict[str, SVG]:
        """Every chart ``nnlab plot`` draws for the run: "loss" (with the learning rate when it
        changes), "accuracy", ..., the best epoch marked."""
        if not self._epochs():
            raise ValueError("plot: the history has no epochs")
        return {name: SVG(text, name) for name, text in _nnlab.history_svgs(self._epochs(), self._logs())}

    def plot(self, metric: str = "loss") -> SVG:
        """One chart: "loss" (training and validation) or a metric's name ("accuracy")."""
        charts = self.plots()
        if metric.startswith("val_"):
            metric = metric[4:]
        if metric not in charts:
            raise ValueError(f"plot: no chart {metric!r}; the history has {sorted(charts)}")
        return charts[metric]

    def diagnose(self) -> Diagnosis:
        """Overfitting, underfitting or a good fit, from the training and validation losses."""
        return Diagnosis(_nnlab.diagnose(self._epochs(), self._logs()))

    def _repr_html_(self) -> str:
        if not self._epochs():
            return f"<pre>{html.escape(repr(self))}</pre>"
        charts = "".join(svg.text for svg in self.plots().values())
        return f"<div class=\"nnlab-run\"><p>{html.escape(repr(self))}</p>{charts}{self.diagnose()._repr_html_()}</div>"


def _prints_to_fd1() -> bool:
    try:
        return sys.stdout is sys.__stdout__ and sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def library_output() -> Iterator[None]:
    """The library prints its progress lines and tables to the process's standard output (fd 1). Where
    ``sys.stdout`` is something else (a notebook cell, pytest's capture), this sends them there, line
    by line as they come, while the library works with the GIL released."""
    if _prints_to_fd1():
        yield
        return
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 at all: nothing to carry
        yield
        return
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    os.dup2(write_end, 1)
    os.close(write_end)
    target = sys.stdout

    def pump() -> None:
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                target.write(line.decode("utf-8", errors="replace"))
                target.flush()

    thread = threading.Thread(target=pump, name="nnlab-output", daemon=True)
    thread.start()
    try:
        yield
    finally:
        os.dup2(saved, 1)  # the pipe's last writer goes: the pump reads to its end and stops
        os.close(saved)
        thread.join()
