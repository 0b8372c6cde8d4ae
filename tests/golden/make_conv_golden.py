#!/usr/bin/env python3
"""Golden values for tests/test_conv_golden.cpp: the image layers computed by Keras 3 (TensorFlow).

Writes tests/data/conv_golden.json: for each case, a layer as nnlab configures it and as Keras does
(Conv2D with strides 2 and "same" padding whose total is odd, an even kernel under "same", dilation 2
with "valid" and "same", a non-square kernel with strides (2, 1) and no bias, MaxPooling2D and
AveragePooling2D with "valid" and "same" padding and overlapping windows, GlobalAveragePooling2D), a
batch of 2 random inputs, the weights (kernel in Keras's layout (kh, kw, in, filters), as nnlab
stores it), the outputs, and the gradients of the scalar L = sum(outputs * r) for a fixed random r
with respect to the input, the kernel and the bias. Also BatchNormalization over the channels of
images (axis=-1), in inference and in training mode (outputs, gradients of the input, gamma and beta,
and the moving statistics after the training step).

Keras computes in float64 (the layers' dtype) from float32-representable inputs and weights, so the
references carry no float32 rounding of their own. Keras's "same" puts the odd pixel of padding after
(TensorFlow's arithmetic). Each Conv2D case is also computed by PyTorch (torch.nn.functional.conv2d on
the input padded explicitly as TensorFlow pads, the kernel permuted to (filters, in, kh, kw)) and each
"valid" pooling by torch's pooling, outputs and gradients, and the script stops if the two disagree
by more than 1e-10 ("torch_checked" in each case says which were).

    ~/.cache/nnlab/interop-venv/bin/python tests/golden/make_conv_golden.py
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "conv_golden.json"
BATCH = 2


def f32(a):
    """float32-representable values, kept as float64."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def exact32(a):
    """float32 values as the shortest decimals that read back to them."""
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def digits10(a):
    """float64 results to 10 significant digits: far below float32's rounding, and a smaller file."""
    return [float(f"{v:.10g}") for v in np.asarray(a, dtype=np.float64).ravel()]


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(size, k, stride, dilation):
    """TensorFlow's "same": (before, after), the odd pixel after."""
    span = dilation * (k - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def keras_layer(cfg):
    t = cfg["type"]
    d = dict(dtype="float64")
    if t == "conv2d":
        return keras.layers.Conv2D(cfg["filters"], cfg["kernel_size"], strides=cfg.get("strides", 1),
                                   padding=cfg.get("padding", "valid"), dilation_rate=cfg.get("dilation_rate", 1),
                                   activation=cfg.get("activation", "linear"), use_bias=cfg.get("use_bias", True), **d)
    if t in ("max_pool2d", "average_pool2d"):
        cls = keras.layers.MaxPooling2D if t == "max_pool2d" else keras.layers.AveragePooling2D
        return cls(cfg.get("pool_size", 2), strides=cfg.get("strides"), padding=cfg.get("padding", "valid"), **d)
    if t == "global_average_pool2d":
        return keras.layers.GlobalAveragePooling2D(**d)
    raise ValueError(t)


def torch_check(cfg, x, kernel, bias, r, y, grads):
    """The same outputs and gradients by PyTorch (conv2d and "valid" pooling); stops on a disagreement."""
    t = cfg["type"]
    x0 = torch.tensor(x, requires_grad=True)
    xt = x0.permute(0, 3, 1, 2)  # NHWC -> NCHW
    w0 = b = None
    if t == "conv2d":
        kh, kw = pair(cfg["kernel_size"])
        sh, sw = pair(cfg.get("strides", 1))
        dh, dw = pair(cfg.get("dilation_rate", 1))
        if cfg.get("padding", "valid") == "same":
            top, bottom = same_pads(x.shape[1], kh, sh, dh)
            left, right = same_pads(x.shape[2], kw, sw, dw)
            xt = F.pad(xt, (left, right, top, bottom))
        w0 = torch.tensor(kernel, requires_grad=True)
        b = torch.tensor(bias, requires_grad=True) if bias is not None else None
        z = F.conv2d(xt, w0.permute(3, 2, 0, 1), b, stride=(sh, sw), dilation=(dh, dw))  # (f, in, kh, kw)
        act = cfg.get("activation", "linear")
        z = {"linear": lambda v: v, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[act](z)
    elif t in ("max_pool2d", "average_pool2d") and cfg.get("padding", "valid") == "valid":
        p = pair(cfg.get("pool_size", 2))
        s = pair(cfg.get("strides") or cfg.get("pool_size", 2))
        z = (F.max_pool2d if t == "max_pool2d" else F.avg_pool2d)(xt, p, s)
    else:
        return False
    got = z.permute(0, 2, 3, 1)
    (got * torch.tensor(r)).sum().backward()
    mine = [got.detach().numpy(), x0.grad.numpy()] + [v.grad.numpy() for v in (w0, b) if v is not None]
    for name, a, e in zip(("y", "dx", "dkernel", "dbias"), mine, [y] + grads):
        err = np.abs(a - e).max()
        if err > 1e-10:
            raise SystemExit(f"torch and keras disagree on {cfg}, {name}: {err}")
    return True


def case(name, cfg, input_shape, seed):
    rng = np.random.default_rng(seed)
    x = f32(rng.uniform(-1.5, 1.5, (BATCH, *input_shape)))
    layer = keras_layer(cfg)
    layer.build((None, *input_shape))
    kernel = bias = None
    if cfg["type"] == "conv2d":
        kernel = f32(rng.uniform(-1, 1, layer.kernel.shape))
        weights = [kernel]
        if layer.use_bias:
            bias = f32(rng.uniform(-1, 1, layer.bias.shape))
            weights.append(bias)
        layer.set_weights(weights)
    xv = tf.Variable(x)
    y_np = layer(xv).numpy()
    r = f32(rng.uniform(-1, 1, y_np.shape))
    with tf.GradientTape() as tape:
        y = layer(xv)
        loss = tf.reduce_sum(y * tf.constant(r))
    grads = [g.numpy() for g in tape.gradient(loss, [xv] + layer.trainable_weights)]
    out = {"name": name, "layer": cfg, "input_shape": list(input_shape), "output_shape": list(y_np.shape[1:]),
           "x": exact32(x), "r": exact32(r), "y": digits10(y_np), "dx": digits10(grads[0])}
    if kernel is not None:
        out["kernel"] = exact32(kernel)
        out["dkernel"] = digits10(grads[1])
    if bias is not None:
        out["bias"] = exact32(bias)
        out["dbias"] = digits10(grads[2])
    out["torch_checked"] = torch_check(cfg, x, kernel, bias, r, y_np, grads)
    return out


def conv(filters, kernel, **extra):
    return {"type": "conv2d", "filters": filters, "kernel_size": kernel, **extra}


CASES = [
    # name, nnlab layer config (Keras's option names), input (h, w, c)
    ("conv_strides2_same_odd", conv(4, 3, strides=2, padding="same"), (6, 7, 3)),  # h: 0 before, 1 after
    ("conv_strides2_same_k2", conv(2, 2, strides=2, padding="same", activation="sigmoid"), (5, 5, 3)),
    ("conv_same_even_kernel", conv(3, 4, padding="same", activation="tanh"), (5, 6, 2)),  # 1 before, 2 after
    ("conv_dilation2", conv(3, 3, dilation_rate=2, activation="relu"), (8, 7, 2)),
    ("conv_dilation2_same", conv(2, 3, dilation_rate=2, padding="same"), (6, 5, 2)),
    ("conv_nonsquare_nobias", conv(3, [3, 2], strides=[2, 1], use_bias=False), (7, 5, 2)),
    ("conv_nonsquare_same_strides", conv(2, [2, 3], strides=[1, 2], padding="same", activation="relu"), (5, 8, 3)),
    ("max_pool2d_default", {"type": "max_pool2d"}, (4, 6, 2)),
    ("max_pool2d_overlapping", {"type": "max_pool2d", "pool_size": 3, "strides": 2}, (7, 7, 2)),
    ("max_pool2d_same", {"type": "max_pool2d", "padding": "same"}, (5, 5, 2)),
    ("max_pool2d_same_strides1", {"type": "max_pool2d", "pool_size": 3, "strides": 1, "padding": "same"}, (4, 5, 1)),
    ("average_pool2d_default", {"type": "average_pool2d"}, (4, 6, 2)),
    ("average_pool2d_same", {"type": "average_pool2d", "pool_size": [3, 2], "strides": 2, "padding": "same"},
     (5, 5, 2)),
    ("average_pool2d_nonsquare", {"type": "average_pool2d", "pool_size": [2, 3], "strides": [1, 2]}, (4, 7, 3)),
    ("global_average_pool2d", {"type": "global_average_pool2d"}, (3, 4, 5)),
]


def batch_norm_case(training, seed):
    """BatchNormalization (axis=-1) on NHWC images: each channel normalised over the batch and every
    pixel. Random gamma, beta and moving statistics, momentum 0.9; in training mode also the moving
    statistics after the step."""
    rng = np.random.default_rng(seed)
    shape, momentum, epsilon = (4, 5, 3), 0.9, 1e-3
    x = f32(rng.uniform(-1.5, 1.5, (BATCH, *shape)) * np.array([1.0, 3.0, 0.5]) + np.array([0.5, -1.0, 2.0]))
    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, dtype="float64")
    layer.build((None, *shape))
    c = shape[-1]
    weights = [f32(rng.uniform(0.5, 1.5, c)), f32(rng.uniform(-0.5, 0.5, c)), f32(rng.uniform(-0.5, 0.5, c)),
               f32(rng.uniform(0.5, 1.5, c))]
    layer.set_weights(weights)
    r = f32(rng.uniform(-1, 1, (BATCH, *shape)))
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(xv, training=training)
        loss = tf.reduce_sum(y * tf.constant(r))
    dx, dgamma, dbeta = [g.numpy() for g in tape.gradient(loss, [xv, layer.gamma, layer.beta])]
    out = {"name": "batch_norm_" + ("training" if training else "inference"), "training": training,
           "layer": {"type": "batch_norm", "momentum": momentum, "epsilon": epsilon}, "input_shape": list(shape),
           "x": exact32(x), "r": exact32(r), "gamma": exact32(weights[0]), "beta": exact32(weights[1]),
           "moving_mean": exact32(weights[2]), "moving_variance": exact32(weights[3]),
           "y": digits10(y.numpy()), "dx": digits10(dx), "dgamma": digits10(dgamma), "dbeta": digits10(dbeta)}
    if training:
        out["moving_mean_after"] = digits10(layer.moving_mean.numpy())
        out["moving_variance_after"] = digits10(layer.moving_variance.numpy())
    return out


def main():
    keras.utils.set_random_seed(19)
    cases = [case(name, cfg, shape, seed) for seed, (name, cfg, shape) in enumerate(CASES, start=1)]
    batch_norm = [batch_norm_case(False, 101), batch_norm_case(True, 102)]
    doc = {"made_by": "tests/golden/make_conv_golden.py", "keras": keras.__version__,
           "tensorflow": tf.__version__, "torch": torch.__version__.split("+")[0],
           "loss": "sum(y * r)", "batch": BATCH, "cases": cases, "batch_norm": batch_norm}
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}: {len(cases)} cases, {sum(c['torch_checked'] for c in cases)} also checked by PyTorch")


if __name__ == "__main__":
    main()
