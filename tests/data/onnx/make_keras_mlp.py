"""Makes keras_mlp.onnx and keras_mlp.json (torch backend), or keras_tf_mlp.onnx and .json (tensorflow
backend), for tests/test_onnx.cpp (Onnx.ImportsPyTorchsAndKerassExports).

An MLP as Keras users write one (Dense with and without bias, BatchNormalization, Dropout, and the
activations relu, tanh, elu, selu, gelu, silu, softplus, softsign, sigmoid, hard_sigmoid, leaky_relu,
softmax), with random weights and moving statistics, exported by Keras's own exporter,
model.export(format="onnx"), and its outputs on 5 random inputs. On the torch backend Keras 3 hands
the graph to torch.onnx.export; on the tensorflow backend to tf2onnx (which folds constants: the bias
and batch normalisation become one Add or Mul after the MatMul). The torch backend's graph has what
torch.onnx.export adds around Keras's layers: Cast nodes (float to float), Identity nodes sharing equal initializers, the flatten as a
Reshape to a computed (Shape -> Gather -> Unsqueeze -> Concat) shape, batch normalisation as Sub,
Mul and Add, and a Cast between each MatMul and its bias's Add.
Needs keras, onnx, and torch with onnxscript or tensorflow with tf2onnx (tf2onnx 1.16 pins an old
protobuf but works with today's: pip install --no-deps tf2onnx). Writes beside itself:
KERAS_BACKEND=torch python make_keras_mlp.py; KERAS_BACKEND=tensorflow python make_keras_mlp.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

keras.utils.set_random_seed(5)
layers = keras.layers
model = keras.Sequential([
    keras.Input((2, 3)),
    layers.Flatten(),
    layers.Dense(8),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dropout(0.2),
    layers.Dense(6, activation="tanh"),
    layers.Dense(6, activation="elu"),
    layers.Dense(6, activation="selu"),
    layers.Dense(6, activation="gelu"),
    layers.Dense(6, activation="silu", use_bias=False),
    layers.Dense(6, activation="softplus"),
    layers.Dense(6, activation="softsign"),
    layers.Dense(6, activation="hard_sigmoid"),
    layers.Dense(6, activation="sigmoid"),
    layers.Dense(6),
    layers.LeakyReLU(negative_slope=0.3),
    layers.Dense(3, activation="softmax"),
])
rng = np.random.default_rng(5)
dense = [layer for layer in model.layers if isinstance(layer, layers.Dense) and layer.use_bias]
for layer in dense[::2]:  # random biases; the other layers keep Keras's zeros, which the exporter shares
    layer.bias.assign(rng.uniform(-0.5, 0.5, layer.bias.shape))
bn = model.layers[2]
bn.set_weights([rng.uniform(0.5, 1.5, 8), rng.uniform(-0.5, 0.5, 8), rng.uniform(-0.5, 0.5, 8), rng.uniform(0.5, 1.5, 8)])
x = (rng.random((5, 2, 3)) * 4 - 2).astype("float32")
y = model.predict(x, verbose=0)  # also the call the exporter needs first
here = os.path.dirname(os.path.abspath(__file__))
name = "keras_mlp" if keras.backend.backend() == "torch" else "keras_tf_mlp"
model.export(os.path.join(here, name + ".onnx"), format="onnx")
with open(os.path.join(here, name + ".json"), "w") as f:
    json.dump({"keras": keras.__version__, "backend": keras.backend.backend(), "input": x.reshape(5, 6).tolist(),
               "output": y.tolist()}, f)
