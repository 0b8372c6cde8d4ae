#!/usr/bin/env python3
"""nnlab's ONNX files in ONNX Runtime (the ctest test onnx_runtime).

Runs each test binary's `*Cases.DISABLED_Write` (test_onnx's OnnxCases: every layer and activation;
test_onnx_image's OnnxImageCases: CNNs with every image layer and option) with NNLAB_ONNX_CASES=<folder>,
which writes one folder per case (model.onnx, input.f32, output.f32: nnlab's prediction, shapes.json); then for
each: onnx.checker.check_model(full_check=True), ONNX Runtime's outputs on the same inputs within 1e-5
of nnlab's, the same at batch size 1 (the batch dimension is free), and for outputs of one row per sample
the same predicted class.
With NNLAB_ONNX_RUN=<run folder> in the environment the run's model on its whole test set is one more
case (the course MLP on Fashion-MNIST's 10,000 test images).

usage: onnx_runtime_check.py CASES_FOLDER TEST_BINARY [TEST_BINARY...]
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-5


def main():
    cases, binaries = sys.argv[1], sys.argv[2:]
    shutil.rmtree(cases, ignore_errors=True)
    os.makedirs(cases)
    env = dict(os.environ, NNLAB_ONNX_CASES=cases)
    for binary in binaries:
        before = len(os.listdir(cases))
        subprocess.run([binary, "--gtest_filter=*Cases.DISABLED_Write", "--gtest_also_run_disabled_tests"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        if len(os.listdir(cases)) == before:
            sys.exit(f"{binary} wrote no cases to {cases}")
    names = sorted(os.listdir(cases))
    if len(names) < 20:
        sys.exit(f"only {len(names)} cases were written to {cases}")
    failures = []
    for name in names:
        d = os.path.join(cases, name)
        path = os.path.join(d, "model.onnx")
        shapes = json.load(open(os.path.join(d, "shapes.json")))
        x = np.fromfile(os.path.join(d, "input.f32"), dtype=np.float32).reshape(shapes["input"])
        want = np.fromfile(os.path.join(d, "output.f32"), dtype=np.float32).reshape(shapes["output"])
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        meta = {p.key: p.value for p in model.metadata_props}
        if "nnlab.version" not in meta:
            failures.append(f"{name}: no nnlab.version in the metadata")
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        class_file = os.path.join(d, "class.i64")
        if os.path.exists(class_file):  # an ensemble: its decision too
            want_class = np.fromfile(class_file, dtype=np.int64)
            got_class = session.run(["class"], {"input": x})[0]
            same = int(np.sum(got_class == want_class))
            print(f"{name:28s} class: {same}/{len(want_class)} as nnlab's ensemble decides")
            if same != len(want_class):
                failures.append(f"{name}: {len(want_class) - same} decisions differ from nnlab's")
        start = time.perf_counter()
        got = session.run(["output"], {"input": x})[0]
        seconds = time.perf_counter() - start
        if got.shape != want.shape:
            failures.append(f"{name}: ONNX Runtime's output has shape {got.shape}, nnlab's {want.shape}")
            continue
        err = float(np.max(np.abs(got - want)))
        one = session.run(["output"], {"input": x[:1]})[0]
        err_one = float(np.max(np.abs(one - want[:1])))
        rows = want.ndim == 2  # one row of outputs per sample (images out: no class to compare)
        same_class = int(np.sum(np.argmax(got, axis=1) == np.argmax(want, axis=1))) if rows else x.shape[0]
        print(f"{name:28s} {x.shape[0]:6d} samples  max |ORT - nnlab| {err:.2e} (batch of 1: {err_one:.2e})  "
              f"same class {same_class}/{x.shape[0]}  ORT {seconds * 1e3:.1f} ms")
        if not (err <= TOLERANCE and err_one <= TOLERANCE):
            failures.append(f"{name}: ONNX Runtime differs from nnlab by {max(err, err_one):.3g} > {TOLERANCE}")
        if rows and want.shape[1] > 1 and same_class != x.shape[0]:
            failures.append(f"{name}: {x.shape[0] - same_class} samples get another class in ONNX Runtime")
    for f in failures:
        print("FAIL", f)
    print(f"{len(names)} models checked with onnx {onnx.__version__}, onnxruntime {ort.__version__}: "
          f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
