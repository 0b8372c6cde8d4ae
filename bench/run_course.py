#!/usr/bin/env python3
"""The course's real runs, whole and timed epoch by epoch, for nnlab, PyTorch and Keras in one run.

Fashion-MNIST, all 60,000 training images, 10 epochs, the course MLP 784-1024-512-256-10 with Adam 1e-3,
validation on the 10,000 test images after every epoch; batch 32 and 128, on 1 and on 2 threads:

  - nnlab:  `build/nnlab train fashion-mnist --set train.batch_size=B --threads T` exactly as a user runs it
            (and, for comparison, the same with --keep-denormals: IEEE denormals instead of flush-to-zero);
  - nnlab-python: the same network and data from Python's `model.fit` (bench/course_run_nnlab_python.py,
            the module of build/python with build/python-venv's Python, as scripts/test.sh builds them);
  - PyTorch from PyPI (.venv): bench/course_run_torch.py, as installed (set_num_threads) and with
            set_num_interop_threads(1) + set_flush_denormal(True);
  - Keras 3 on TensorFlow from PyPI (.venv-keras: tensorflow-cpu, keras): bench/course_run_keras.py,
            model.fit with validation_data, as the course runs it.

Each process is pinned to T cores (taskset: core 0, or cores 0-1) so that no framework's helper threads
borrow the other core in a 1-thread cell, and runs under SCHED_FIFO (chrt -f 10) when run as root unless
--no-rt: these machines are shared, and other tenants' load would otherwise dominate.

Reported per framework and cell: the step time of the first and the last epoch (the epoch's seconds,
validation included as a progress bar counts an epoch, over its steps), the whole run (all epochs), the
process's wall time (start-up and data loading too), and the time until the test accuracy first
reaches 88%. Targets: nnlab's last-epoch step within 10% of its first; nnlab's whole run at least 3x
faster than the faster of PyTorch and Keras at batch 32 and 1.5x at batch 128, on 1 and on 2 threads;
nnlab-python's whole run within 3% of the command's.

    python3 bench/run_course.py [--build build] [--epochs 10] [--out bench/results/course-....json]
    sh bench/setup_pytorch.sh && sh bench/setup_keras.sh     # the two virtual environments, once
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from machine_info import describe, processor, versions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_WHOLE = {32: 3.0, 128: 1.5}  # nnlab's whole run / the faster of PyTorch and Keras
TARGET_DRIFT = 1.10                 # nnlab's last-epoch step / its first
TARGET_PYTHON = 1.03                # nnlab-python's whole run / the command's


def run(cmd, threads, rt, log, pythonpath=None):
    """Runs cmd pinned to the first `threads` cores (under SCHED_FIFO with rt), without the caller's
    thread settings; returns its stdout (None if it failed), wall seconds and CPU seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_", "MKL_", "OPENBLAS_", "KMP_", "TF_"))}
    env["PYTHONPATH"] = pythonpath or os.path.join(ROOT, "bench")
    full = ["taskset", "-c", "0" if threads == 1 else f"0-{threads - 1}"]
    if rt:
        full = ["chrt", "-f", "10"] + full
    full += cmd
    t0 = time.time()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(full, env=env, stdout=out, stderr=err, text=True, cwd=ROOT)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.time() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    cpu = usage.ru_utime + usage.ru_stime
    print(f"  [{wall:6.1f}s wall, {cpu:6.1f}s cpu] {' '.join(cmd)}", file=log, flush=True)
    if os.waitstatus_to_exitcode(status) != 0:
        print(stdout[-1000:] + stderr[-3000:], file=log, flush=True)
        return None, wall, cpu
    return stdout, wall, cpu


EPOCH_LINE = re.compile(r"^Epoch (\d+)/(\d+) - (\d+)/\d+ - ([\d.]+)s ([\d.]+)ms/step(.*)$")


def parse_nnlab(stdout):
    epochs = []
    for line in stdout.splitlines():
        m = EPOCH_LINE.match(line.strip())
        if not m:
            continue
        logs = dict((k, float(v)) for k, v in re.findall(r"(\w+): ([-\d.eE+na]+)", m.group(6)))
        # The seconds from the step time (printed to 0.1 ms) rather than the epoch's (to 0.1 s).
        steps = int(m.group(3))
        epochs.append({"epoch": int(m.group(1)), "seconds": steps * float(m.group(5)) / 1000, "steps": steps, **logs})
    return epochs


def parse_json(stdout):
    rows = [json.loads(l) for l in stdout.splitlines() if l.startswith("{")]
    return [r for r in rows if r.get("kind") == "epoch"], next((r for r in rows if r.get("kind") == "start"), {})


def fmt(value, pattern):
    return "-" if value is None else pattern.format(value)


def summarise(epochs, wall):
    if not epochs:
        return None
    first, last = epochs[0], epochs[-1]
    total, to88 = 0.0, None
    for e in epochs:
        total += e["seconds"]
        if to88 is None and (e.get("val_accuracy") or 0) >= 0.88:
            to88 = total
    return {"first_step_ms": 1000 * first["seconds"] / first["steps"], "last_step_ms": 1000 * last["seconds"] / last["steps"],
            "drift": last["seconds"] / first["seconds"], "whole_seconds": total, "wall_seconds": wall,
            "seconds_to_88": to88, "final_val_accuracy": last.get("val_accuracy"),
            "best_val_accuracy": max((e.get("val_accuracy") or 0) for e in epochs),
            "epoch_seconds": [e["seconds"] for e in epochs]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0, help="training images (0: all 60,000); for a quick try only")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--frameworks", default="nnlab,nnlab-python,nnlab-keep-denormals,pytorch,pytorch-flush,keras")
    ap.add_argument("--no-rt", action="store_true")
    ap.add_argument("--out", default="")
    ap.add_argument("--log", default="", help="progress log (default: stderr)")
    a = ap.parse_args()

    rt = not a.no_rt and os.geteuid() == 0 and shutil.which("chrt") is not None
    log = open(a.log, "a") if a.log else sys.stderr
    nnlab = os.path.join(ROOT, a.build, "nnlab")
    torch_py = os.path.join(ROOT, ".venv", "bin", "python")
    keras_py = os.path.join(ROOT, ".venv-keras", "bin", "python")
    frameworks = a.frameworks.split(",")
    runs_dir = tempfile.mkdtemp(prefix="nnlab-course-")
    cpu = processor()
    print(f"processor: {cpu}; SCHED_FIFO: {rt}", file=log, flush=True)
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    results = []
    for threads in [int(t) for t in a.threads.split(",")]:
        for batch in [int(b) for b in a.batches.split(",")]:
            print(f"cell: {threads} thread(s), batch {batch}", file=log, flush=True)
            for fw in frameworks:
                extra = {}
                if fw == "nnlab-python":
                    py = os.path.join(ROOT, a.build, "python-venv", "bin", "python")
                    if not os.path.exists(py) or not any(f.startswith("_nnlab") for f in os.listdir(os.path.join(ROOT, a.build, "python"))):
                        print(f"  skipped {fw}: no Python module in {a.build}/python (bash scripts/test.sh builds it)", file=log, flush=True)
                        continue
                    cmd = [py, os.path.join("bench", "course_run_nnlab_python.py"), "--threads", str(threads), "--batch", str(batch),
                           "--epochs", str(a.epochs), "--limit", str(a.limit)]
                    out, wall, _ = run(cmd, threads, rt, log, pythonpath=os.pathsep.join([os.path.join(ROOT, "python"), os.path.join(ROOT, a.build, "python")]))
                    epochs = parse_nnlab(out) if out else []
                elif fw.startswith("nnlab"):
                    cmd = [nnlab, "train", "fashion-mnist", "--set", f"train.batch_size={batch}", "--threads", str(threads),
                           "--epochs", str(a.epochs), "--out", os.path.join(runs_dir, f"{fw}-{threads}-{batch}")]
                    if a.limit:
                        cmd += ["--limit", str(a.limit)]
                    if fw == "nnlab-keep-denormals":
                        cmd.append("--keep-denormals")
                    out, wall, _ = run(cmd, threads, rt, log)
                    epochs = parse_nnlab(out) if out else []
                else:
                    py, script = (keras_py, "course_run_keras.py") if fw == "keras" else (torch_py, "course_run_torch.py")
                    if not os.path.exists(py):
                        print(f"  skipped {fw}: {py} is missing (bench/setup_*.sh)", file=log, flush=True)
                        continue
                    cmd = [py, os.path.join("bench", script), "--threads", str(threads), "--batch", str(batch),
                           "--epochs", str(a.epochs), "--limit", str(a.limit)]
                    if fw == "pytorch-flush":
                        cmd += ["--interop", "1", "--flush-denormal"]
                    out, wall, _ = run(cmd, threads, rt, log)
                    epochs, start = parse_json(out) if out else ([], {})
                    extra = {k: v for k, v in (epochs[0] if epochs else start).items()
                             if k in ("version", "tensorflow", "interop", "flush_denormal", "inter")}
                    extra["startup_seconds"] = start.get("startup_seconds")
                s = summarise(epochs, wall)
                if s is None:
                    print(f"  {fw}: FAILED", file=log, flush=True)
                    continue
                results.append({"framework": fw, "threads": threads, "batch": batch, **extra, **s})
                print(f"  {fw}: first {s['first_step_ms']:.2f} ms/step, last {s['last_step_ms']:.2f}, whole "
                      f"{s['whole_seconds']:.1f}s, to 88% {s['seconds_to_88']}, best val {s['best_val_accuracy']:.4f}",
                      file=log, flush=True)
    shutil.rmtree(runs_dir, ignore_errors=True)

    # Ratios and targets, from figures of this run only.
    verdicts = []
    print(f"\nprocessor: {describe(cpu)}")
    print("| threads | batch | framework | first epoch ms/step | last epoch ms/step | last/first | whole run s | wall s | s to 88% | best val acc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['threads']} | {r['batch']} | {r['framework']} | {r['first_step_ms']:.2f} | {r['last_step_ms']:.2f} | "
              f"{r['drift']:.2f} | {r['whole_seconds']:.1f} | {r['wall_seconds']:.1f} | "
              f"{fmt(r['seconds_to_88'], '{:.1f}')} | {100 * r['best_val_accuracy']:.2f}% |")
    print("\n| threads | batch | nnlab last/first (target <= 1.10) | nnlab vs faster of PyTorch and Keras, whole run (target) | met |")
    print("|---|---|---|---|---|")
    for threads in sorted({r["threads"] for r in results}):
        for batch in sorted({r["batch"] for r in results}):
            cell = {r["framework"]: r for r in results if r["threads"] == threads and r["batch"] == batch}
            if "nnlab" not in cell:
                continue
            others = [cell[f]["whole_seconds"] for f in ("pytorch", "pytorch-flush", "keras") if f in cell]
            ratio = min(others) / cell["nnlab"]["whole_seconds"] if others else None
            drift_ok = cell["nnlab"]["drift"] <= TARGET_DRIFT
            speed_ok = ratio is not None and ratio >= TARGET_WHOLE.get(batch, 0)
            verdicts.append({"threads": threads, "batch": batch, "nnlab_drift": cell["nnlab"]["drift"], "speedup": ratio,
                             "target": TARGET_WHOLE.get(batch), "drift_met": drift_ok, "speed_met": speed_ok})
            print(f"| {threads} | {batch} | {cell['nnlab']['drift']:.2f} | "
                  f"{fmt(ratio, '{:.2f}x')} ({TARGET_WHOLE.get(batch)}x) | "
                  f"{'yes' if drift_ok and speed_ok else 'NO'} |")
            if "nnlab-python" in cell:
                py_ratio = cell["nnlab-python"]["whole_seconds"] / cell["nnlab"]["whole_seconds"]
                verdicts[-1].update({"python_vs_command": py_ratio, "python_met": py_ratio <= TARGET_PYTHON})
    python_rows = [v for v in verdicts if "python_vs_command" in v]
    if python_rows:
        print(f"\n| threads | batch | nnlab-python whole run / the command's (target <= {TARGET_PYTHON:.2f}) | met |")
        print("|---|---|---|---|")
        for v in python_rows:
            print(f"| {v['threads']} | {v['batch']} | {v['python_vs_command']:.3f} | {'yes' if v['python_met'] else 'NO'} |")
    doc = {"kind": "course_run", "started": started, "processor": cpu, "versions": versions(pytorch=torch_py, keras=keras_py), "sched_fifo": rt,
           "epochs": a.epochs, "limit": a.limit, "results": results, "verdicts": verdicts}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"\nresults: {a.out}")


if __name__ == "__main__":
    main()
