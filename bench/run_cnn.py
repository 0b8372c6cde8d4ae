#!/usr/bin/env python3
"""The Fashion-MNIST CNN (experiments/fashion-cnn.toml) as users run it, for nnlab, PyTorch and Keras in
one run, and its convolution layers against oneDNN's bare primitives (build/bench/bench_conv).

  - nnlab:   `build/nnlab train fashion-cnn --set train.batch_size=B --threads T --epochs E` exactly as a
             user runs it, with the experiment's schedule and validation split switched off (--set) so that all three train the same network on the same 60,000 images and validate on
             the 10,000 test images after every epoch;
  - pytorch: bench/cnn_run_other.py --framework torch (torch.set_num_threads(T), NCHW, its own layout);
  - keras:   bench/cnn_run_other.py --framework keras (Keras 3 on TensorFlow, model.fit), the network
             read from the same experiment file.
PyTorch and Keras come from one Python that has both (--python, default the interop virtual
environment ~/.cache/nnlab/interop-venv, else .venv / .venv-keras as bench/setup_*.sh make them).

Each process is pinned to T cores (taskset) and runs under SCHED_FIFO (chrt -f 10) when run as root
unless --no-rt. Reported per framework and cell (threads 1 and 2, batch 32 and 128): the step time of
the first and the last epoch (training + validation, as a progress bar counts an epoch), the whole run
(all epochs), the process's wall and CPU time (user + sys, of the process and its threads), and the
best validation accuracy. Target: nnlab's whole run at least 1.5x faster than the faster of PyTorch
and Keras at batch 128. Then bench_conv's table: nnlab's Conv2D training step as a share of oneDNN's
primitives alone on the same shapes (target 80%), from the median times of each side over
--layer-runs separate bench_conv processes (5), each process's share beside it.

    python3 bench/run_cnn.py [--epochs 2] [--limit 0] [--out bench/results/cnn-run-....json]
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

from machine_info import describe, processor, versions
from run_course import parse_json, parse_nnlab, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_WHOLE = {128: 1.5}  # nnlab's whole run / the faster of PyTorch and Keras
TARGET_LAYER = 0.80        # nnlab's Conv2D step rate / oneDNN's primitives alone
PLAIN = ["train.validation_split=0", "train.validate_on_test=true", "schedule.type=constant"]


def summarise(epochs, wall, cpu):
    if not epochs:
        return None
    first, last = epochs[0], epochs[-1]
    total = sum(e["seconds"] for e in epochs)
    samples = sum(e["steps"] for e in epochs)
    return {"first_step_ms": 1000 * first["seconds"] / first["steps"], "last_step_ms": 1000 * last["seconds"] / last["steps"],
            "whole_seconds": total, "wall_seconds": wall, "cpu_seconds": cpu, "steps": samples,
            "best_val_accuracy": max((e.get("val_accuracy") or 0) for e in epochs),
            "epoch_seconds": [e["seconds"] for e in epochs]}


def layer_bench(build, rt, log, threads, runs):
    """bench_conv in `runs` separate processes per thread count: on a shared machine one process's
    times of a cell can sit at either of two levels for its whole life (buffers placed by what it
    allocated before, the neighbours' load), so each cell reports the median over the processes of
    each side's time, and every process's share beside it."""
    exe = os.path.join(ROOT, build, "bench", "bench_conv")
    if not os.path.exists(exe):
        print(f"  skipped the layer bench: {exe} is missing (Google Benchmark not found at configure time?)", file=log, flush=True)
        return []
    table = {}
    for t in threads:
        for _ in range(runs):
            out, _, _ = run([exe, f"--benchmark_filter=(OneDNNConv|NnlabConv)/.*/threads:{t}/", "--benchmark_format=json",
                              "--benchmark_min_time=1"], t, rt, log)
            if not out:
                continue
            for b in json.loads(out)["benchmarks"]:
                if b.get("run_type", "iteration") != "iteration":
                    continue
                name, rest = b["name"].split("/", 1)
                args = dict(kv.split(":") for kv in rest.split("/") if ":" in kv)
                key = (int(args["conv"]), int(args["batch"]), int(args["threads"]))
                table.setdefault(key, {}).setdefault("onednn" if name == "BM_OneDNNConv" else "nnlab", []).append(b)
    out = []
    for (conv, batch, threads), pair in sorted(table.items()):
        if "onednn" not in pair or "nnlab" not in pair:
            continue
        median = statistics.median_high  # of an even count, the higher middle value: a time that was measured
        o_ns, n_ns = median([b["real_time"] for b in pair["onednn"]]), median([b["real_time"] for b in pair["nnlab"]])
        flop = pair["onednn"][0]["GFLOP/s"] * pair["onednn"][0]["real_time"]  # GFLOP/s x time: the same work on both sides
        r = {"conv": conv + 1, "batch": batch, "threads": threads, "shape": pair["nnlab"][0].get("label", ""),
             "processes": min(len(pair["onednn"]), len(pair["nnlab"])),
             "onednn_gflops": flop / o_ns, "nnlab_gflops": flop / n_ns, "onednn_ns": o_ns, "nnlab_ns": n_ns,
             "onednn_ns_each": [b["real_time"] for b in pair["onednn"]], "nnlab_ns_each": [b["real_time"] for b in pair["nnlab"]],
             "nnlab_allocs_per_step": pair["nnlab"][0].get("allocs/step")}
        r["share"] = o_ns / n_ns
        r["share_each"] = [a["real_time"] / b["real_time"] for a, b in zip(pair["onednn"], pair["nnlab"])]
        out.append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="training images (0: all 60,000)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--frameworks", default="nnlab,pytorch,keras")
    ap.add_argument("--python", default=os.path.expanduser("~/.cache/nnlab/interop-venv/bin/python"))
    ap.add_argument("--no-layers", action="store_true", help="skip bench_conv")
    ap.add_argument("--layer-runs", type=int, default=5, help="bench_conv processes per thread count (medians over them)")
    ap.add_argument("--layers-only", action="store_true", help="only bench_conv")
    ap.add_argument("--no-rt", action="store_true")
    ap.add_argument("--out", default="")
    ap.add_argument("--log", default="")
    a = ap.parse_args()

    rt = not a.no_rt and os.geteuid() == 0 and shutil.which("chrt") is not None
    log = open(a.log, "a") if a.log else sys.stderr
    nnlab = os.path.join(ROOT, a.build, "nnlab")
    pythons = {"pytorch": a.python if os.path.exists(a.python) else os.path.join(ROOT, ".venv", "bin", "python"),
               "keras": a.python if os.path.exists(a.python) else os.path.join(ROOT, ".venv-keras", "bin", "python")}
    runs_dir = tempfile.mkdtemp(prefix="nnlab-cnn-")
    cpu = processor()
    print(f"processor: {describe(cpu)}; SCHED_FIFO: {rt}", file=log, flush=True)
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    threads_list = [int(t) for t in a.threads.split(",")]

    results = []
    for threads in [] if a.layers_only else threads_list:
        for batch in [int(b) for b in a.batches.split(",")]:
            print(f"cell: {threads} thread(s), batch {batch}", file=log, flush=True)
            for fw in a.frameworks.split(","):
                extra = {}
                if fw == "nnlab":
                    cmd = [nnlab, "train", "fashion-cnn", "--set", f"train.batch_size={batch}", "--threads", str(threads),
                           "--epochs", str(a.epochs), "--out", os.path.join(runs_dir, f"{fw}-{threads}-{batch}")]
                    for s in PLAIN:
                        cmd += ["--set", s]
                    if a.limit:
                        cmd += ["--limit", str(a.limit)]
                    out, wall, cpu_s = run(cmd, threads, rt, log)
                    epochs = parse_nnlab(out) if out else []
                else:
                    py = pythons[fw]
                    if not os.path.exists(py):
                        print(f"  skipped {fw}: {py} is missing", file=log, flush=True)
                        continue
                    cmd = [py, os.path.join("bench", "cnn_run_other.py"), "--framework", "torch" if fw == "pytorch" else "keras",
                           "--threads", str(threads), "--batch", str(batch), "--epochs", str(a.epochs), "--limit", str(a.limit)]
                    out, wall, cpu_s = run(cmd, threads, rt, log)
                    epochs, start = parse_json(out) if out else ([], {})
                    extra = {k: v for k, v in (epochs[0] if epochs else start).items() if k in ("version", "tensorflow")}
                    extra["startup_seconds"] = start.get("startup_seconds")
                s = summarise(epochs, wall, cpu_s)
                if s is None:
                    print(f"  {fw}: FAILED", file=log, flush=True)
                    continue
                results.append({"framework": fw, "threads": threads, "batch": batch, **extra, **s})
                print(f"  {fw}: first {s['first_step_ms']:.2f} ms/step, last {s['last_step_ms']:.2f}, whole {s['whole_seconds']:.1f}s, "
                      f"cpu {cpu_s:.1f}s, best val {s['best_val_accuracy']:.4f}", file=log, flush=True)
    shutil.rmtree(runs_dir, ignore_errors=True)
    layers = [] if a.no_layers else layer_bench(a.build, rt, log, threads_list, a.layer_runs)

    verdicts = []
    print(f"\nprocessor: {describe(cpu)}")
    print("| threads | batch | framework | first epoch ms/step | last epoch ms/step | whole run s | wall s | CPU s (user+sys) | best val acc |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['threads']} | {r['batch']} | {r['framework']} | {r['first_step_ms']:.2f} | {r['last_step_ms']:.2f} | "
              f"{r['whole_seconds']:.1f} | {r['wall_seconds']:.1f} | {r['cpu_seconds']:.1f} | {100 * r['best_val_accuracy']:.2f}% |")
    print("\n| threads | batch | nnlab vs faster of PyTorch and Keras, whole run | target | met |")
    print("|---|---|---|---|---|")
    for threads in sorted({r["threads"] for r in results}):
        for batch in sorted({r["batch"] for r in results}):
            cell = {r["framework"]: r for r in results if r["threads"] == threads and r["batch"] == batch}
            others = [cell[f]["whole_seconds"] for f in ("pytorch", "keras") if f in cell]
            if "nnlab" not in cell or not others:
                continue
            ratio = min(others) / cell["nnlab"]["whole_seconds"]
            target = TARGET_WHOLE.get(batch)
            verdicts.append({"threads": threads, "batch": batch, "speedup": ratio, "target": target,
                             "met": None if target is None else ratio >= target})
            print(f"| {threads} | {batch} | {ratio:.2f}x | {f'{target}x' if target else '-'} | "
                  f"{'-' if target is None else 'yes' if ratio >= target else 'NO'} |")
    if layers:
        print(f"\n| conv | shape | batch | threads | oneDNN primitives GFLOP/s | nnlab Conv2D GFLOP/s | share of the medians (target {TARGET_LAYER:.0%}) | each process's share | nnlab allocs/step |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in layers:
            each = ", ".join(f"{x:.0%}" for x in r["share_each"])
            print(f"| {r['conv']} | {r['shape']} | {r['batch']} | {r['threads']} | {r['onednn_gflops']:.1f} | {r['nnlab_gflops']:.1f} | "
                  f"{r['share']:.0%} {'yes' if r['share'] >= TARGET_LAYER else 'NO'} | {each} | {r['nnlab_allocs_per_step']:.0f} |")
    doc = {"kind": "cnn_run", "started": started, "processor": cpu, "sched_fifo": rt, "epochs": a.epochs, "limit": a.limit,
           "versions": versions(frameworks=a.python), "results": results, "verdicts": verdicts, "layers": layers}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"\nresults: {a.out}")


if __name__ == "__main__":
    main()
