#!/usr/bin/env python3
"""PyTorch's side of bench/run_course.py: the course's real run on Fashion-MNIST, timed epoch by epoch.

The course MLP 784-1024-512-256-10 (nn.Linear + nn.ReLU, CrossEntropyLoss on the logits), Adam with
Keras's defaults (lr 1e-3, eps 1e-7), all 60,000 training images reshuffled every epoch and gathered
by index per batch, then a validation pass over the 10,000 test images, for --epochs epochs; the loop
and what it prints are bench/torch_loop.py's.

    .venv/bin/python bench/course_run_torch.py --threads 2 --batch 32 [--flush-denormal] [--interop 1]

Environment variables (OMP_*, MKL_*) must be set by the caller: torch reads them when imported.
"""
import argparse
import json
import sys
import time

from course_data import load_fashion
from torch_loop import fit_timed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images (0: all)")
    ap.add_argument("--interop", type=int, default=0, help="torch.set_num_interop_threads (0: as installed)")
    ap.add_argument("--flush-denormal", action="store_true", help="torch.set_flush_denormal(True)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    t_start = time.perf_counter()
    import torch
    from torch import nn

    if a.interop:
        torch.set_num_interop_threads(a.interop)
    torch.set_num_threads(a.threads)
    flushing = torch.set_flush_denormal(True) if a.flush_denormal else False
    torch.manual_seed(a.seed)

    (xs, ys), (xt, yt) = load_fashion(a.limit)
    x_train, y_train = torch.from_numpy(xs), torch.from_numpy(ys.astype("int64"))
    x_test, y_test = torch.from_numpy(xt), torch.from_numpy(yt.astype("int64"))

    sizes = [784, 1024, 512, 256, 10]
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        nn.init.xavier_uniform_(lin.weight)  # Keras's glorot_uniform and zero biases, as nnlab
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    common = {"framework": "pytorch", "version": torch.__version__, "threads": a.threads,
              "torch_threads": torch.get_num_threads(), "interop": torch.get_num_interop_threads(),
              "flush_denormal": bool(flushing), "batch": a.batch}
    print(json.dumps({**common, "kind": "start", "startup_seconds": time.perf_counter() - t_start}), flush=True)
    fit_timed(torch, model, opt, loss_fn, (x_train, y_train), (x_test, y_test), a.batch, a.epochs, common)


if __name__ == "__main__":
    sys.exit(main())
