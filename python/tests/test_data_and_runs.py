"""nnlab.data.load and nnlab.train: the library's datasets and run folders from Python."""
import json
import os

import numpy as np
import pytest

import nnlab
from conftest import fashion_or_skip


def test_xor_table():
    (x, y), (xt, yt) = nnlab.data.load("xor")
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    assert len(xt) == 0


def test_fashion_mnist_arrays():
    (x, y), (xt, yt) = fashion_or_skip(limit=1000, test_limit=500)
    assert x.dtype == np.float32 and x.shape[0] == 1000 and x[0].size == 784
    assert xt.shape[0] == 500 and 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    assert y.dtype == np.int64 and set(np.unique(y)) <= set(range(10))
    (raw, _), _ = nnlab.data.load("fashion-mnist", limit=10, test_limit=1, scale=False)
    np.testing.assert_allclose(raw / 255, x[:10], rtol=1e-6)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        nnlab.data.load("cifar")


def test_train_writes_the_command_lines_run_folder(tmp_path):
    out = tmp_path / "xor-run"
    run = nnlab.train("xor", epochs=200, out=str(out), verbose=0)
    assert run.run_dir == str(out)
    for f in ("config.json", "history.csv", "model.safetensors", "result.json", "report.html"):
        assert (out / f).exists(), f
    assert len(run.history["loss"]) == 200
    result = json.loads((out / "result.json").read_text())
    assert run.result["test_accuracy"] == result["test_accuracy"]
    # The run folder's model loads, compiled as it was trained, and scores what the run reported.
    model = nnlab.load_model(out)
    (x, y), _ = nnlab.data.load("xor")
    _, acc = model.evaluate(x, y)
    assert acc == pytest.approx(result["test_accuracy"])


def test_train_refuses_a_bad_setting(tmp_path):
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        nnlab.train("xor", epochs=0, out=str(tmp_path / "r"), verbose=0)
    with pytest.raises(ValueError, match="no-such-experiment"):
        nnlab.train("no-such-experiment", verbose=0)


def test_experiments_lists_the_built_in_ones():
    assert {"xor", "fashion-mnist"} <= set(nnlab.experiments())


def test_ctrl_c_leaves_a_run_that_resumes(tmp_path):
    import os
    import signal
    import threading

    out = str(tmp_path / "xor-interrupted")
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        nnlab.train("xor", epochs=800, out=out, verbose=0)
    timer.join()
    assert os.path.exists(os.path.join(out, "checkpoint.safetensors"))
    assert not os.path.exists(os.path.join(out, "result.json"))  # not finished
    run = nnlab.train("xor", epochs=800, out=out, verbose=0, resume=True)
    assert len(run.history["loss"]) == 800  # the checkpoint's epochs and the rest
    assert os.path.exists(os.path.join(out, "result.json"))
