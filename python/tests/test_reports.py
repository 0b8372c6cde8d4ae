"""Charts, diagnosis and progress lines in Python; nnlab.sweep and nnlab.ensemble."""
import csv
import json
import os

import numpy as np
import pytest

import nnlab
from conftest import fashion_or_skip, small_classifier

TINY = {"train.epochs": 1, "data.limit": 500, "data.test_limit": 200}


def column(run_dir, name):
    with open(os.path.join(run_dir, "history.csv")) as f:
        return [float(row[name]) for row in csv.DictReader(f)]


def test_history_draws_its_charts_and_diagnosis(blobs):
    x, y = blobs
    model = small_classifier()
    history = model.fit(x, y, epochs=4, validation_split=0.2, verbose=0)
    charts = history.plots()
    assert {"loss", "accuracy"} <= set(charts)
    for name, svg in charts.items():
        assert svg.text.startswith("<svg") and svg.text.rstrip().endswith("</svg>"), name
        assert svg._repr_svg_() == svg.text
    assert history.plot("val_accuracy") is not None  # a validation column names its chart
    assert "highest val_accuracy: epoch" in history.plot("accuracy").text
    with pytest.raises(ValueError, match="no chart 'f1'.*accuracy"):
        history.plot("f1")

    d = history.diagnose()
    assert d.verdict in ("good fit", "overfitting", "underfitting", "undetermined")
    assert 1 <= d.best_epoch <= 4
    lowest = int(np.argmin(history.history["val_loss"])) + 1
    assert d.best_epoch == lowest
    assert d.summary in str(d) and "<b>Diagnosis" in d._repr_html_()
    page = history._repr_html_()
    assert page.count("<svg") == len(charts) and "Diagnosis" in page


def test_saved_chart_is_written_whole(blobs, tmp_path):
    x, y = blobs
    history = small_classifier().fit(x, y, epochs=2, verbose=0)
    history.plot().save(tmp_path / "loss.svg")
    assert (tmp_path / "loss.svg").read_text() == history.plot().text
    assert os.listdir(tmp_path) == ["loss.svg"], "no temporary file left beside it"


def test_progress_lines_reach_python_stdout(blobs, capsys):
    # pytest replaces sys.stdout, as a notebook does: the library's lines must land there, not on fd 1.
    x, y = blobs
    model = small_classifier()
    model.fit(x, y, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out
    model.fit(x, y, epochs=1, verbose=0)
    assert "Epoch" not in capsys.readouterr().out


def test_sweep_from_python(tmp_path):
    fashion_or_skip(limit=1)
    out = tmp_path / "sweep"
    s = nnlab.sweep("fashion-small", activation=["linear", "relu"], set=TINY, out=str(out), verbose=0)
    assert s.metric == "val_accuracy" and s.dir == str(out)
    assert sorted(r["variant"] for r in s.rows) == ["activation=linear", "activation=relu"]
    assert [r["best"] for r in s.rows] == sorted((r["best"] for r in s.rows), reverse=True)
    for r in s.rows:
        assert r["variant"] in s.table
        assert r["best"] == pytest.approx(max(column(r["run_dir"], "val_accuracy")), abs=1e-9)
    assert s.plot().text.startswith("<svg") and s._repr_markdown_() == s.table
    with pytest.raises(ValueError, match="no chart of 'f1'"):
        s.plot("f1")
    with pytest.raises(ValueError, match="preset"):
        nnlab.sweep("fashion-small", preset="wide")


def test_ensemble_from_python(tmp_path):
    fashion_or_skip(limit=1)
    out = tmp_path / "ens"
    e = nnlab.ensemble("fashion-small", members=2, holdout=0.2, parallel=1, combiner_epochs=2, set=TINY,
                       out=str(out), verbose=0)
    assert [m["name"] for m in e.report["members"]] == ["member-1", "member-2"]
    assert set(e.accuracy) == {"vote", "average", "stacking"}
    assert all(0.0 <= a <= 1.0 for a in e.accuracy.values())
    result = json.loads((out / "result.json").read_text())
    assert result["combinations"] == e.report["combinations"]
    assert (out / "ensemble.json").exists() and "member-1" in e.table
    with pytest.raises(ValueError, match="members"):
        nnlab.ensemble("fashion-small", members=0, out=str(tmp_path / "none"))
