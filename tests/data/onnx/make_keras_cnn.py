"""Makes keras_cnn.onnx and keras_cnn.json for tests/test_onnx_image.cpp (OnnxImage.ImportsKerassCnn).

A small CNN as Keras users write one (Conv2D "same" with relu, BatchNormalization over channels,
MaxPooling2D, a Conv2D with a 3x2 kernel and no padding with tanh, AveragePooling2D, Flatten, Dense with
softmax) on (12, 10, 1) images, with random biases and batch-normalisation weights and statistics,
exported by Keras's own exporter, model.export(format="onnx"), on the torch backend (which hands the graph
to torch.onnx.export): images NHWC at the input, a Transpose to NCHW and back around each Conv and
pooling, each convolution's bias as an Add on NHWC values, the batch normalisation as Sub, Mul and Add,
Casts between them, and the flatten as a Reshape to a computed (batch, -1). With its outputs on 5 random
inputs. Needs keras, torch and onnx: KERAS_BACKEND=torch python make_keras_cnn.py (writes beside itself).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

keras.utils.set_random_seed(3)
layers = keras.layers
model = keras.Sequential([
    keras.Input((12, 10, 1)),
    layers.Conv2D(4, 3, padding="same", activation="relu"),
    layers.BatchNormalization(),
    layers.MaxPooling2D(2),
    layers.Conv2D(6, (3, 2), activation="tanh"),
    layers.AveragePooling2D(2),
    layers.Flatten(),
    layers.Dense(5, activation="softmax"),
])
rng = np.random.default_rng(3)
for layer in model.layers:
    if isinstance(layer, (layers.Conv2D, layers.Dense)):
        layer.bias.assign(rng.uniform(-0.5, 0.5, layer.bias.shape))
bn = model.layers[1]
bn.set_weights([rng.uniform(0.5, 1.5, 4), rng.uniform(-0.5, 0.5, 4), rng.uniform(-0.5, 0.5, 4), rng.uniform(0.5, 1.5, 4)])
x = (rng.random((5, 12, 10, 1)) * 4 - 2).astype("float32")
y = model.predict(x, verbose=0)  # also the call the exporter needs first
here = os.path.dirname(os.path.abspath(__file__))
model.export(os.path.join(here, "keras_cnn.onnx"), format="onnx")
with open(os.path.join(here, "keras_cnn.json"), "w") as f:
    json.dump({"keras": keras.__version__, "backend": keras.backend.backend(), "input": x.reshape(5, 120).tolist(),
               "output": y.tolist()}, f)
