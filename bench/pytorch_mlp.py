#!/usr/bin/env python3
"""PyTorch's side of bench/run_vs_pytorch.py: trains the 784-512-256-10 ReLU MLP (or --hidden) with Adam on the real
Fashion-MNIST training images, as nnlab's bench_vs_pytorch does, and prints one JSON object per line.

One process measures one thread setting (PyTorch fixes its thread pools at start-up), for every batch
size asked for. Each measurement: a fresh model and optimizer, one untimed pass over the first
`--samples` training images (warm-up: first touch of every buffer), then `--repeats` timed passes,
each reshuffled, gathering every mini-batch by index as a DataLoader-free training loop does.

    python3 bench/pytorch_mlp.py --threads 1 --batches 32,128,1024
    OMP_NUM_THREADS=2 .venv/bin/python bench/pytorch_mlp.py --threads 2 --interop 1

Environment variables (OMP_*, GOMP_SPINCOUNT, MKL_*) must be set by the caller: they are read when
torch is imported.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from course_data import load_split


def load(samples):
    x, y = load_split("train", samples)
    return x, y.astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    ap.add_argument("--interop", type=int, default=0, help="torch.set_num_interop_threads (0: leave as installed)")
    ap.add_argument("--no-set-threads", action="store_true",
                    help="do not call torch.set_num_threads (PyTorch as installed)")
    ap.add_argument("--batches", default="32,128,1024")
    ap.add_argument("--samples", type=int, default=16384, help="training images per timed pass")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes per batch size")
    ap.add_argument("--optimizer", default="default", choices=["default", "foreach", "fused"],
                    help="Adam's implementation: torch's default for CPU tensors, foreach=True or fused=True")
    ap.add_argument("--predict", action="store_true", help="also time single-sample and batch-1024 prediction")
    ap.add_argument("--hidden", default="512,256", help="hidden layer widths (the course MLP: 1024,512,256)")
    ap.add_argument("--flush-denormal", action="store_true", help="torch.set_flush_denormal(True)")
    ap.add_argument("--label", default="")
    a = ap.parse_args()

    import torch
    from torch import nn

    if a.interop:
        torch.set_num_interop_threads(a.interop)
    if not a.no_set_threads:
        torch.set_num_threads(a.threads)
    flushing = torch.set_flush_denormal(True) if a.flush_denormal else False
    torch.manual_seed(0)
    xs, ys = load(a.samples)
    x_all, y_all = torch.from_numpy(xs), torch.from_numpy(ys)
    n = x_all.shape[0]

    def make():
        sizes = [784] + [int(h) for h in a.hidden.split(",")] + [10]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 2 < len(sizes):
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
        kw = {}
        if a.optimizer == "foreach":
            kw["foreach"] = True
        elif a.optimizer == "fused":
            kw["fused"] = True
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, **kw)
        return model, opt

    loss_fn = nn.CrossEntropyLoss()

    def one_pass(model, opt, batch):
        order = torch.randperm(n)
        total = 0.0
        for b in range(0, n, batch):
            idx = order[b:b + batch]
            xb, yb = x_all[idx], y_all[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item()
        return total

    common = {"framework": "pytorch", "torch": torch.__version__, "label": a.label, "threads": a.threads,
              "torch_threads": torch.get_num_threads(), "interop": torch.get_num_interop_threads(),
              "optimizer": a.optimizer, "flush_denormal": bool(flushing), "python": sys.executable, "model": "784-" + a.hidden.replace(",", "-") + "-10",
              "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_", "MKL_", "KMP_", "OPENBLAS"))}}
    for batch in [int(s) for s in a.batches.split(",")]:
        model, opt = make()
        model.train()
        one_pass(model, opt, batch)  # warm-up
        rates = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            one_pass(model, opt, batch)
            rates.append(n / (time.perf_counter() - t0))
        print(json.dumps({**common, "kind": "train", "batch": batch, "samples_per_s": max(rates),
                          "median_samples_per_s": statistics.median(rates), "rates": rates}), flush=True)

    if a.predict:
        model, _ = make()
        model.eval()
        with torch.inference_mode():
            for batch, calls in ((1, 2000), (1024, 40)):
                xb = x_all[:batch].clone()
                for _ in range(calls // 10):
                    torch.softmax(model(xb), dim=1)
                times = []
                for _ in range(calls):
                    t0 = time.perf_counter()
                    torch.softmax(model(xb), dim=1)
                    times.append(time.perf_counter() - t0)
                print(json.dumps({**common, "kind": "predict", "batch": batch, "median_us": statistics.median(times) * 1e6,
                                  "best_us": min(times) * 1e6}), flush=True)


if __name__ == "__main__":
    main()
