"""Guide page 15 (docs/guide/{en,ko}/15-python.md): its nnlab code, the same on both pages, runs as
written on a small stand-in for Sign Language MNIST (the Kaggle CSV format), with fewer epochs."""
import os
import re

import numpy as np
import pytest

import nnlab

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "guide")


def nnlab_blocks(lang):
    with open(os.path.join(GUIDE, lang, "15-python.md"), encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    return [b for b in blocks if "keras" not in b]


def write_sign_mnist(folder, rows, seed):
    """label,pixel1,...,pixel784 with the labels 0-24 but 9, as Kaggle's files have them."""
    os.makedirs(folder, exist_ok=True)
    labels = [c for c in range(25) if c != 9]
    rng = np.random.default_rng(seed)
    name = "sign_mnist_train.csv" if seed == 0 else "sign_mnist_test.csv"
    with open(os.path.join(folder, name), "w") as f:
        f.write("label," + ",".join(f"pixel{i}" for i in range(1, 785)) + "\n")
        for r in range(rows):
            label = labels[r % 24]
            pixels = np.clip(rng.normal(8 * (label + 1), 40, 784), 0, 255).astype(int)
            f.write(f"{label}," + ",".join(map(str, pixels)) + "\n")


def test_both_pages_show_the_same_code():
    en, ko = nnlab_blocks("en"), nnlab_blocks("ko")
    assert len(en) == 2 and en == ko


def test_the_pages_code_runs(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_sign_mnist(str(data / "sign-mnist"), 240, 0)
    write_sign_mnist(str(data / "sign-mnist"), 96, 1)
    monkeypatch.setenv("NNLAB_DATA", str(data))
    monkeypatch.chdir(tmp_path)
    code = "\n".join(nnlab_blocks("en"))
    code = code.replace("epochs=20", "epochs=2", 1)
    code = code.replace('nnlab.train("sign-mnist-best")', 'nnlab.train("sign-mnist-best", epochs=1, verbose=0)')
    assert "epochs=2" in code and "epochs=1" in code, "the page's code changed: update the reductions here"
    scope = {}
    exec(compile(code, "15-python.md", "exec"), scope)
    model, history, run = scope["model"], scope["history"], scope["run"]
    assert model.count_params() == 1466136
    assert scope["x_train"].shape == (240, 784) and set(np.unique(scope["y_train"])) == set(range(24))
    assert history.epoch == [0, 1] and len(history.history["val_accuracy"]) == 2
    assert "<svg" in history.plot("accuracy").text
    assert history.diagnose().verdict
    assert (tmp_path / "runs" / "sign-mnist-python" / "model.safetensors").exists()
    loaded = nnlab.load_model(tmp_path / "runs" / "sign-mnist-python")
    np.testing.assert_array_equal(loaded.predict(scope["x_test"][:5]), model.predict(scope["x_test"][:5]))
    assert 0.0 <= run.result["test_accuracy"] <= 1.0
