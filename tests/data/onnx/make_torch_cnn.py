"""Makes torch_cnn.onnx and torch_cnn.json for tests/test_onnx_image.cpp (OnnxImage.ImportsPyTorchsCnn).

A small CNN on one-channel images as PyTorch users write one (Conv2d with padding 1, BatchNorm2d, ReLU,
MaxPool2d, a Conv2d with a 3x2 kernel and no padding, Tanh, AvgPool2d, Dropout2d, Flatten of 6 channels of
2x2, Linear, Softmax), with random weights and running statistics, exported with torch.onnx.export (the
TorchScript exporter, opset 17): its input is NCHW (N, 1, 12, 10) and its Flatten orders the values
channel first. With its outputs on 5 random inputs. Run with a Python that has torch and onnx:
python make_torch_cnn.py (writes beside itself).
"""
import json
import os

import torch

torch.manual_seed(23)
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3, padding=1),
    torch.nn.BatchNorm2d(4),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(4, 6, (3, 2)),
    torch.nn.Tanh(),
    torch.nn.AvgPool2d(2),
    torch.nn.Dropout2d(0.2),
    torch.nn.Flatten(),
    torch.nn.Linear(6 * 2 * 2, 5),
    torch.nn.Softmax(dim=1),
)
with torch.no_grad():
    bn = model[1]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 1.5)
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.5, 0.5)
model.eval()
x = torch.rand(5, 1, 12, 10) * 4 - 2
here = os.path.dirname(os.path.abspath(__file__))
torch.onnx.export(model, (x,), os.path.join(here, "torch_cnn.onnx"), input_names=["x"], output_names=["probabilities"],
                  dynamic_axes={"x": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=17, dynamo=False)
with torch.no_grad():
    y = model(x)
with open(os.path.join(here, "torch_cnn.json"), "w") as f:
    json.dump({"torch": torch.__version__, "input": x.reshape(5, 120).tolist(), "output": y.tolist()}, f)
