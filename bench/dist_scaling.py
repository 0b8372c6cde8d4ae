#!/usr/bin/env python3
"""Data-parallel scaling of the course MLP (784-1024-512-256-10, Adam, Fashion-MNIST from Debian's
dataset-fashion-mnist) at batch 128 per rank, measured in one run, configurations interleaved:

  1 rank x 1 thread      nnlab train ... --threads 1
  2 ranks x 1 thread     mpirun -np 2 nnlab train ... --threads 1   (global batch 256)
  1 rank x 2 threads     nnlab train ... --threads 2
  2 ranks, no overlap    the same 2 ranks with one gradient bucket started after backward
                         (NNLAB_BUCKET_BYTES=1000000000), so no sum hides behind backward

Each run trains the same number of samples (--limit) for --epochs epochs without validation; the
figure is samples per second of training time (result.json's train_seconds, which leaves out loading
the data and evaluating). Scaling efficiency = throughput / (1-rank-1-thread throughput x cores used).
For 2 ranks the share of training time spent waiting for the sums over ranks (the gradient allreduce not
hidden behind backward, plus the per-step sum of the loss) is what rank 0 prints at the end of fit, with
the mean step, the wait for the gradient sums per step and its share of the step, and the share of the
gradient values sent while backward ran. The overlap: the wait per step without overlap minus the wait
with it is the time the buckets hid behind backward.
The results file records the processor (machine_info.py).

  python3 bench/dist_scaling.py [--nnlab build/nnlab] [--limit 25600] [--epochs 2] [--repeats 2]

Throughput figures are the fastest repeat's; per-step figures (step, backward, wait) the median of the
repeats; "overlap" compares the two 2-rank configurations' medians.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machine_info  # noqa: E402

ROOT = machine_info.ROOT


def run(cmd, env):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if p.returncode != 0:
        sys.exit(f"dist_scaling: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnlab", default=os.path.join(ROOT, "build", "nnlab"))
    ap.add_argument("--limit", type=int, default=25600, help="training samples per epoch")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2, help="runs of each configuration (the fastest counts)")
    ap.add_argument("--note", default="", help="recorded in the results file (e.g. what else loaded the machine)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", f"dist-scaling-{datetime.date.today()}.json"))
    args = ap.parse_args()
    mpirun = shutil.which("mpirun")
    if not mpirun:
        sys.exit("dist_scaling: mpirun not found (install openmpi-bin)")
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    common = ["train", "fashion-mnist", "--batch-size", "128", "--epochs", str(args.epochs), "--limit", str(args.limit),
              "--set", "train.validate_on_test=false", "--set", "data.test_limit=1000"]
    configs = {
        "1 rank x 1 thread": ([], 1, 1),
        "2 ranks x 1 thread": ([mpirun, "-np", "2", "--oversubscribe", "--bind-to", "none"], 1, 2),
        "1 rank x 2 threads": ([], 2, 2),
        "2 ranks, no overlap": ([mpirun, "-np", "2", "--oversubscribe", "--bind-to", "none", "-x", "NNLAB_BUCKET_BYTES=1000000000"], 1, 2),
    }
    runs = {name: [] for name in configs}
    load_before = os.getloadavg()
    work = tempfile.mkdtemp(prefix="nnlab_dist_bench_")
    try:
        for rep in range(args.repeats):
            for name, (launcher, threads, cores) in configs.items():
                out = os.path.join(work, f"{len(runs[name])}-{name.replace(' ', '')}")
                text = run(launcher + [args.nnlab] + common + ["--threads", str(threads), "--out", out], env)
                result = json.load(open(os.path.join(out, "result.json")))
                seconds = result["train_seconds"]
                entry = {"train_seconds": seconds, "samples_per_s": args.limit * args.epochs / seconds}
                m = re.search(r"data-parallel: ([\d.]+)% of the training time .* \(gradients ([\d.]+) s\)", text)
                if m:
                    entry["wait_share"] = float(m.group(1)) / 100
                    entry["gradient_wait_s"] = float(m.group(2))
                m = re.search(r"data-parallel: a step ([\d.]+) ms \(backward ([\d.]+) ms\); waiting for the gradient sums "
                              r"([\d.]+) ms \(([\d.]+)% of the step\); ([\d.]+)% of the gradient values", text)
                if m:
                    entry.update({"step_ms": float(m.group(1)), "backward_ms": float(m.group(2)),
                                  "gradient_wait_ms_per_step": float(m.group(3)),
                                  "gradient_wait_share_of_step": float(m.group(4)) / 100,
                                  "values_sent_during_backward": float(m.group(5)) / 100})
                runs[name].append(entry)
                print(f"{name}: {entry}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    best = {name: max(r, key=lambda e: e["samples_per_s"]) for name, r in runs.items()}
    base = best["1 rank x 1 thread"]["samples_per_s"]
    summary = {}
    for name, (_, threads, cores) in configs.items():
        b = best[name]
        summary[name] = {"samples_per_s": round(b["samples_per_s"]), "speedup": round(b["samples_per_s"] / base, 3),
                         "efficiency": round(b["samples_per_s"] / base / cores, 3)}
        if "wait_share" in b:
            summary[name]["wait_share_of_training"] = b["wait_share"]
        for k in ("step_ms", "backward_ms", "gradient_wait_ms_per_step", "gradient_wait_share_of_step",
                  "values_sent_during_backward"):
            if k in b:
                # the median over the repeats: per-step figures, not only the fastest run's
                summary[name][k] = round(statistics.median(e[k] for e in runs[name] if k in e), 4)
    with_o, without = summary["2 ranks x 1 thread"], summary["2 ranks, no overlap"]
    if "gradient_wait_ms_per_step" in with_o and "gradient_wait_ms_per_step" in without:
        hidden = without["gradient_wait_ms_per_step"] - with_o["gradient_wait_ms_per_step"]
        summary["overlap"] = {
            "gradient_wait_ms_per_step_with_buckets": with_o["gradient_wait_ms_per_step"],
            "gradient_wait_ms_per_step_one_bucket_after_backward": without["gradient_wait_ms_per_step"],
            "hidden_ms_per_step": round(hidden, 3),
            "hidden_share_of_the_unoverlapped_wait": round(hidden / without["gradient_wait_ms_per_step"], 3)
            if without["gradient_wait_ms_per_step"] > 0 else None}
    cpu = machine_info.processor()
    doc = {"benchmark": "data-parallel scaling, course MLP 784-1024-512-256-10, Fashion-MNIST, batch 128 per rank",
           "date": datetime.datetime.now().isoformat(timespec="seconds"), "processor": cpu,
           "processor_text": machine_info.describe(cpu), "limit": args.limit, "epochs": args.epochs,
           "repeats": args.repeats, "load_average_before_after": [load_before, os.getloadavg()], "note": args.note,
           "summary": summary, "runs": runs}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(json.dumps(summary, indent=2))
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
