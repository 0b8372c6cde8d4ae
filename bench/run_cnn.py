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
best validation accuracy. Each cell runs the three in turn, --repeats times over, and compares each
framework's median. Target at batch 128: nnlab at least 1.5x faster than the faster of PyTorch and
Keras, both over the whole run and by the last epoch's step (Keras traces its functions in its first
epoch, which flatters nnlab in a short run; a user's 20-epoch run goes at the last epoch's rate).
Then bench_conv's table: nnlab's Conv2D training step as a share of oneDNN's primitives alone on the
same shapes (target 80%), from the median times of each side over --layer-runs separate bench_conv
processes (5), each process's share beside it.

    python3 bench/run_cnn.py [--epochs 2] [--limit 0] [--repeats 1] [--out bench/results/cnn-run-....json]
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
    ap.add_argument("--repeats", type=int, default=1, help="runs of each framework in each cell, in turn (medians over them)")
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

    def run_one(fw, threads, batch, rep):
        extra = {}
        if fw == "nnlab":
            cmd = [nnlab, "train", "fashion-cnn", "--set", f"train.batch_size={batch}", "--threads", str(threads),
                   "--epochs", str(a.epochs), "--out", os.path.join(runs_dir, f"{fw}-{threads}-{batch}-{rep}")]
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
                return None
            cmd = [py, os.path.join("bench", "cnn_run_other.py"), "--framework", "torch" if fw == "pytorch" else "keras",
                   "--threads", str(threads), "--batch", str(batch), "--epochs", str(a.epochs), "--limit", str(a.limit)]
            out, wall, cpu_s = run(cmd, threads, rt, log)
            epochs, start = parse_json(out) if out else ([], {})
            extra = {k: v for k, v in (epochs[0] if epochs else start).items() if k in ("version", "tensorflow")}
            extra["startup_seconds"] = start.get("startup_seconds")
        s = summarise(epochs, wall, cpu_s)
        if s is None:
            print(f"  {fw}: FAILED", file=log, flush=True)
            return None
        print(f"  {fw} (run {rep}): first {s['first_step_ms']:.2f} ms/step, last {s['last_step_ms']:.2f}, "
              f"whole {s['whole_seconds']:.2f}s, cpu {cpu_s:.1f}s, best val {s['best_val_accuracy']:.4f}", file=log, flush=True)
        return {"framework": fw, "threads": threads, "batch": batch, "run": rep, **extra, **s}

    # Each cell runs the frameworks in turn, --repeats times over: on a shared machine the load of the
    # neighbours drifts over minutes, and alternating spreads it over all three.
    results = []
    for threads in [] if a.layers_only else threads_list:
        for batch in [int(b) for b in a.batches.split(",")]:
            print(f"cell: {threads} thread(s), batch {batch}", file=log, flush=True)
            for rep in range(1, a.repeats + 1):
                for fw in a.frameworks.split(","):
                    r = run_one(fw, threads, batch, rep)
                    if r:
                        results.append(r)
    shutil.rmtree(runs_dir, ignore_errors=True)
    layers = [] if a.no_layers else layer_bench(a.build, rt, log, threads_list, a.layer_runs)

    verdicts = []
    print(f"\nprocessor: {describe(cpu)}")
    print("| threads | batch | framework | run | first epoch ms/step | last epoch ms/step | whole run s | wall s | CPU s (user+sys) | best val acc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['threads']} | {r['batch']} | {r['framework']} | {r['run']} | {r['first_step_ms']:.2f} | {r['last_step_ms']:.2f} | "
              f"{r['whole_seconds']:.2f} | {r['wall_seconds']:.1f} | {r['cpu_seconds']:.1f} | {100 * r['best_val_accuracy']:.2f}% |")
    print(f"\nnnlab against the faster of PyTorch and Keras, from each framework's median over its {a.repeats} run(s): the "
          "whole run (all epochs, as a user waits for them) and the last epoch's step (the rate a longer run "
          "settles to, after Keras's first epoch traces its functions). Met: both at the target.")
    print("| threads | batch | whole run | last epoch | target | met |")
    print("|---|---|---|---|---|---|")
    for threads in sorted({r["threads"] for r in results}):
        for batch in sorted({r["batch"] for r in results}):
            runs = {}
            for r in results:
                if r["threads"] == threads and r["batch"] == batch:
                    runs.setdefault(r["framework"], []).append(r)
            med = {fw: {k: statistics.median(r[k] for r in rs) for k in ("whole_seconds", "last_step_ms")}
                   for fw, rs in runs.items()}
            others = [f for f in ("pytorch", "keras") if f in med]
            if "nnlab" not in med or not others:
                continue
            whole = min(med[f]["whole_seconds"] for f in others) / med["nnlab"]["whole_seconds"]
            last = min(med[f]["last_step_ms"] for f in others) / med["nnlab"]["last_step_ms"]
            target = TARGET_WHOLE.get(batch)
            met = None if target is None else whole >= target and last >= target
            verdicts.append({"threads": threads, "batch": batch, "speedup": whole, "speedup_last_epoch": last,
                             "runs": len(runs["nnlab"]), "medians": med, "target": target, "met": met})
            print(f"| {threads} | {batch} | {whole:.2f}x | {last:.2f}x | {f'{target}x' if target else '-'} | "
                  f"{'-' if met is None else 'yes' if met else 'NO'} |")
    if layers:
        print(f"\n| conv | shape | batch | threads | oneDNN primitives GFLOP/s | nnlab Conv2D GFLOP/s | share of the medians (target {TARGET_LAYER:.0%}) | each process's share | nnlab allocs/step |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in layers:
            each = ", ".join(f"{x:.0%}" for x in r["share_each"])
            print(f"| {r['conv']} | {r['shape']} | {r['batch']} | {r['threads']} | {r['onednn_gflops']:.1f} | {r['nnlab_gflops']:.1f} | "
                  f"{r['share']:.0%} {'yes' if r['share'] >= TARGET_LAYER else 'NO'} | {each} | {r['nnlab_allocs_per_step']:.0f} |")
    doc = {"kind": "cnn_run", "started": started, "processor": cpu, "sched_fifo": rt, "epochs": a.epochs, "limit": a.limit,
           "repeats": a.repeats,
           "versions": versions(frameworks=a.python), "results": results, "verdicts": verdicts, "layers": layers}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"\nresults: {a.out}")


if __name__ == "__main__":
    main()
