"""Makes torch_mlp.onnx and torch_mlp.json for tests/test_onnx.cpp (Onnx.ImportsPyTorchsExport).

A small MLP as PyTorch users write one (Flatten, Linear with and without bias, BatchNorm1d, Dropout, and
ReLU, Tanh, LeakyReLU, GELU, SiLU, ELU, SELU, Hardsigmoid, Softplus, Softsign, Sigmoid, Softmax),
trained for no step but with random weights and running statistics, exported with torch.onnx.export
(the TorchScript exporter, opset 17), and its outputs on 5 random inputs. Run with a Python that has
torch: python make_torch_mlp.py (writes beside itself).
"""
import json
import os

import torch

torch.manual_seed(17)
model = torch.nn.Sequential(
    torch.nn.Flatten(),
    torch.nn.Linear(6, 8),
    torch.nn.BatchNorm1d(8),
    torch.nn.ReLU(),
    torch.nn.Dropout(0.3),
    torch.nn.Linear(8, 8),
    torch.nn.Tanh(),
    torch.nn.Linear(8, 4, bias=False),
    torch.nn.LeakyReLU(0.1),
    torch.nn.Linear(4, 6),
    torch.nn.GELU(),
    torch.nn.Linear(6, 6),
    torch.nn.SiLU(),
    torch.nn.Linear(6, 6),
    torch.nn.ELU(0.5),
    torch.nn.Linear(6, 6),
    torch.nn.SELU(),
    torch.nn.Linear(6, 6),
    torch.nn.Hardsigmoid(),
    torch.nn.Linear(6, 6),
    torch.nn.Softplus(),
    torch.nn.Linear(6, 6),
    torch.nn.Softsign(),
    torch.nn.Linear(6, 6),
    torch.nn.Sigmoid(),
    torch.nn.Linear(6, 3),
    torch.nn.Softmax(dim=1),
)
with torch.no_grad():
    bn = model[2]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 1.5)
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.5, 0.5)
model.eval()
x = torch.rand(5, 2, 3) * 4 - 2
here = os.path.dirname(os.path.abspath(__file__))
torch.onnx.export(model, (x,), os.path.join(here, "torch_mlp.onnx"), input_names=["x"], output_names=["probabilities"],
                  dynamic_axes={"x": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=17, dynamo=False)
with torch.no_grad():
    y = model(x)
with open(os.path.join(here, "torch_mlp.json"), "w") as f:
    json.dump({"torch": torch.__version__, "input": x.reshape(5, 6).tolist(), "output": y.tolist()}, f)
