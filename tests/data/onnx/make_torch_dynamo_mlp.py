"""Makes torch_dynamo_mlp.onnx and torch_dynamo_mlp.json for tests/test_onnx.cpp (Onnx.ImportsPyTorchsExport).

The same kind of MLP as make_torch_mlp.py through PyTorch's default exporter since 2.9, the
torch.export-based one (dynamo=True, opset 20: Flatten as Reshape, BatchNorm1d folded into the Gemm
before it, GELU as the Gelu operator), with its outputs on 5 random inputs. Needs torch, onnx and
onnxscript: python make_torch_dynamo_mlp.py (writes beside itself).
"""
import json
import os

import torch

torch.manual_seed(3)
model = torch.nn.Sequential(
    torch.nn.Flatten(),
    torch.nn.Linear(6, 8),
    torch.nn.BatchNorm1d(8),
    torch.nn.ReLU(),
    torch.nn.Dropout(0.2),
    torch.nn.Linear(8, 6),
    torch.nn.GELU(),
    torch.nn.Linear(6, 6),
    torch.nn.SiLU(),
    torch.nn.Linear(6, 6, bias=False),
    torch.nn.Tanh(),
    torch.nn.Linear(6, 3),
    torch.nn.Softmax(dim=1),
)
with torch.no_grad():
    bn = model[2]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 1.5)
model.eval()
x = torch.rand(5, 2, 3) * 4 - 2
here = os.path.dirname(os.path.abspath(__file__))
torch.onnx.export(model, (x,), os.path.join(here, "torch_dynamo_mlp.onnx"), input_names=["x"], output_names=["p"],
                  dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True, external_data=False)
with torch.no_grad():
    y = model(x)
with open(os.path.join(here, "torch_dynamo_mlp.json"), "w") as f:
    json.dump({"torch": torch.__version__, "input": x.reshape(5, 6).tolist(), "output": y.tolist()}, f)
