"""nnlab's safetensors weights in PyTorch: the same predictions from an equivalent nn.Sequential."""
import numpy as np
import pytest

import nnlab
from conftest import small_classifier

torch = pytest.importorskip("torch", reason="torch is not installed: the PyTorch interop test is skipped")
safetensors_numpy = pytest.importorskip("safetensors.numpy", reason="the safetensors package is not installed")


def test_weights_load_into_torch_and_predict_the_same(blobs, tmp_path):
    x, y = blobs
    model = small_classifier()
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.safetensors")
    w = safetensors_numpy.load_file(str(tmp_path / "m.safetensors"))
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3), torch.nn.Softmax(dim=1))
    with torch.no_grad():
        for i, k in ((0, "dense_1"), (2, "dense_2")):
            net[i].weight.copy_(torch.from_numpy(w[f"{k}.kernel"].T.copy()))  # nnlab: (inputs, units)
            net[i].bias.copy_(torch.from_numpy(w[f"{k}.bias"]))
        theirs = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.predict(x), theirs, atol=1e-5)
