#!/usr/bin/env python3
"""nnlab's single-sample prediction latency beside ONNX Runtime's on the same model, in one run.

usage: python bench/onnx_vs_ort.py RUN_FOLDER [--bench build/bench/bench_onnx] [--repeats 5000] [--threads 1]
(a Python with onnxruntime, e.g. build/python-venv/bin/python)

bench_onnx loads the run's model, exports it (ONNX export and import times, the best of 5), writes one
fixed input and times nnlab's Model::predict on it; then ONNX Runtime runs the exported file on the same
input with the same thread count. Prints both and writes bench/results/onnx-latency-DATE.json with the
processor and versions.
"""
import argparse
import datetime
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import onnxruntime as ort

from machine_info import ROOT, describe, processor, versions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "bench_onnx"))
    ap.add_argument("--repeats", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    out = os.path.join(tempfile.mkdtemp(), "model.onnx")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    nn = json.loads(subprocess.run([args.bench, args.run, out, str(args.repeats)], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    x = np.fromfile(out + ".input.f32", dtype=np.float32)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    start = time.perf_counter()
    session = ort.InferenceSession(out, opts, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - start
    shape = [1] + [d for d in session.get_inputs()[0].shape[1:]]
    feed = {"input": x.reshape(shape)}
    for _ in range(200):
        session.run(["output"], feed)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        session.run(["output"], feed)
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    result = {
        "date": datetime.date.today().isoformat(), "run": args.run, "threads": args.threads,
        "processor": processor(), "versions": versions(), "onnxruntime": ort.__version__,
        "nnlab": nn,
        "onnxruntime_session_s": load_s,
        "onnxruntime_us_median": times[len(times) // 2], "onnxruntime_us_p10": times[len(times) // 10],
    }
    print(f"{describe(result['processor'])}, {args.threads} thread(s)")
    print(f"model: {args.run} ({nn['parameters']} parameters, ONNX file {nn['file_bytes']} bytes)")
    print(f"ONNX export {nn['export_s'] * 1e3:.1f} ms, import {nn['import_s'] * 1e3:.1f} ms (best of 5); "
          f"ONNX Runtime session {load_s * 1e3:.1f} ms")
    print(f"single-sample prediction, median (10th percentile) of {args.repeats}:")
    print(f"  nnlab Model::predict    {nn['predict_us_median']:8.1f} us ({nn['predict_us_p10']:.1f})")
    print(f"  ONNX Runtime run()      {result['onnxruntime_us_median']:8.1f} us ({result['onnxruntime_us_p10']:.1f})"
          f"  (includes Python's call overhead)")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", f"onnx-latency-{result['date']}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
