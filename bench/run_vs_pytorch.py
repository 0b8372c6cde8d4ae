#!/usr/bin/env python3
"""nnlab against PyTorch, back to back in one run, on the 784-512-256-10 ReLU MLP with Adam on the real
Fashion-MNIST training images (docs/PERFORMANCE.md has the figures this prints and how to read them).

    python3 bench/run_vs_pytorch.py [--build build-perf] [--out results.json] [--rounds 2]

Runs, for 1 and 2 threads and batches 32, 128 and 1024:
  - nnlab: build/bench/bench_vs_pytorch (train, gemm, predict), and one epoch of the course MLP;
  - PyTorch from PyPI (.venv/bin/python), as installed (torch.set_num_threads(T) and nothing else) and
    in every candidate thread configuration below; its best configuration is the fastest candidate;
  - Debian's python3-torch (/usr/bin/python3), as installed (its BLAS is whatever apt installed:
    the reference BLAS unless an optimised one was installed) and with OpenBLAS's own library loaded
    from build-perf/openblas (extracted from Debian's libopenblas0-pthread/-openmp packages by
    `sh bench/setup_pytorch.sh`, so the system's BLAS is untouched), with thread settings as candidates.
Every process of a round runs one after the other, and with --rounds N the whole round is repeated and
each figure is the best of its rounds; ratios are formed from figures of the same run.

Processes run under SCHED_FIFO (chrt -f 10) when this script runs as root and --no-rt is not given:
the machines are shared and under load, and without it a 2-thread run can be 10x slower from one
minute to the next. The kernel still keeps 5% of each second for everything else.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from machine_info import describe, processor, versions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {32: 2.5, 128: 1.5, 1024: 1.15}       # nnlab / faster PyTorch build at its best
GEMM_TARGETS = {32: 0.60, 128: 0.75, 1024: 0.75}  # nnlab's step GFLOP/s / oneDNN's rate on the same shapes


def pypi_candidates(t):
    base = {"OMP_NUM_THREADS": str(t), "MKL_NUM_THREADS": str(t)}
    c = [("threads", {}, ["--interop", "1"]),
         ("threads+omp_env", base, ["--interop", "1"]),
         ("threads+omp_env+active", {**base, "OMP_WAIT_POLICY": "ACTIVE"}, ["--interop", "1"]),
         ("threads+omp_env+passive", {**base, "OMP_WAIT_POLICY": "PASSIVE"}, ["--interop", "1"])]
    c.append(("threads+flush_denormal", {}, ["--interop", "1", "--flush-denormal"]))
    c.append(("threads+omp_env+flush_denormal", base, ["--interop", "1", "--flush-denormal"]))
    if t == 2:
        c.append(("threads+omp_env+bind", {**base, "OMP_PROC_BIND": "close", "OMP_PLACES": "cores"}, ["--interop", "1"]))
    return c


def debian_candidates(t, build):
    out = []
    for variant in ("pthread", "openmp"):
        lib = os.path.join(build, "openblas", variant, "usr/lib/x86_64-linux-gnu", "openblas-" + variant)
        if not os.path.isdir(lib):
            continue
        for core in ("Haswell", "Zen"):
            env = {"LD_LIBRARY_PATH": lib, "OPENBLAS_CORETYPE": core, "OMP_NUM_THREADS": str(t),
                   "OPENBLAS_NUM_THREADS": str(t)}
            out.append((f"openblas-{variant}-{core}", env, ["--interop", "1"]))
        if t == 2:
            env = {"LD_LIBRARY_PATH": lib, "OPENBLAS_CORETYPE": "Haswell", "OMP_NUM_THREADS": "2",
                   "OPENBLAS_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}
            out.append((f"openblas-{variant}-Haswell+passive", env, ["--interop", "1"]))
    return out


def run(cmd, env_extra, rt, log):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith(("OMP_", "GOMP_", "MKL_", "OPENBLAS_", "KMP_")):
            del env[k]
    env.update(env_extra)
    if rt:
        cmd = ["chrt", "-f", "10"] + cmd
    t0 = time.time()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    print(f"  [{time.time() - t0:5.1f}s] {' '.join(f'{k}={v}' for k, v in env_extra.items())} {' '.join(cmd)}",
          file=log, flush=True)
    if p.returncode != 0:
        print(p.stderr[-2000:], file=log, flush=True)
        return []
    rows = []
    for line in p.stdout.splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-perf"))
    ap.add_argument("--venv-python", default=os.path.join(ROOT, ".venv", "bin", "python"))
    ap.add_argument("--debian-python", default="/usr/bin/python3")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="32,128,1024")
    ap.add_argument("--samples", type=int, default=8192, help="training images per timed pass")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes per measurement")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="only the as-installed and first tuned candidate of each build")
    ap.add_argument("--no-debian", action="store_true")
    ap.add_argument("--no-epoch", action="store_true")
    ap.add_argument("--no-rt", action="store_true")
    ap.add_argument("--out", default="", help="write every raw result here as JSON")
    ap.add_argument("--report", default="", help="print the tables of a saved --out file instead of running")
    a = ap.parse_args()
    if a.report:
        with open(a.report) as f:
            saved = json.load(f)
        report(saved["results"], saved["threads"], saved["batches"], saved["rt"])
        return
    rt = not a.no_rt and os.geteuid() == 0 and shutil.which("chrt") is not None
    log = sys.stderr
    print(f"processor: {describe(processor())}", file=log, flush=True)
    bench = os.path.join(a.build, "bench", "bench_vs_pytorch")
    if not os.path.exists(bench):
        sys.exit(f"{bench} not found: cmake --build {a.build} --target bench_vs_pytorch")
    threads = [int(t) for t in a.threads.split(",")]
    batches = [int(b) for b in a.batches.split(",")]
    have_pypi = os.path.exists(a.venv_python)
    have_debian = not a.no_debian and subprocess.run([a.debian_python, "-c", "import torch"],
                                                     capture_output=True).returncode == 0
    common = ["--batches", a.batches, "--samples", str(a.samples), "--repeats", str(a.repeats)]
    py = [os.path.join(ROOT, "bench", "pytorch_mlp.py")]
    results = []
    for rnd in range(a.rounds):
        print(f"round {rnd + 1}/{a.rounds}", file=log)
        for t in threads:
            for row in run([bench, "train", "--threads", str(t)] + common, {}, rt, log):
                results.append({**row, "who": "nnlab", "config": "default"})
            for row in run([bench, "gemm", "--threads", str(t), "--batches", a.batches], {}, rt, log):
                results.append({**row, "who": "nnlab", "config": "default"})
            for row in run([bench, "predict", "--threads", str(t)], {}, rt, log):
                results.append({**row, "who": "nnlab", "config": "default"})
            builds = []
            if have_pypi:
                cands = pypi_candidates(t)
                builds.append(("pypi", a.venv_python, cands[:2] if a.quick else cands))
            if have_debian:
                cands = debian_candidates(t, a.build)
                builds.append(("debian", a.debian_python, cands[:1] if a.quick else cands))
            for name, python, cands in builds:
                # Debian's torch as installed runs on the reference BLAS (about 1,000 samples/s): fewer images
                installed_args = (["--batches", a.batches, "--samples", str(min(a.samples, 2048)), "--repeats", "1"]
                                  if name == "debian" else common)
                for row in run([python] + py + ["--threads", str(t), "--predict"] + installed_args, {}, rt, log):
                    results.append({**row, "who": name, "config": "installed"})
                for label, env, extra in cands:
                    for row in run([python] + py + ["--threads", str(t), "--predict"] + common + extra, env, rt, log):
                        results.append({**row, "who": name, "config": label})
            if have_pypi and not a.quick:  # not a thread setting: Adam's fused kernel, for reference only
                label, env, extra = pypi_candidates(t)[1]
                for row in run([a.venv_python] + py + ["--threads", str(t), "--optimizer", "fused"] + common + extra,
                               env, rt, log):
                    results.append({**row, "who": "pypi-fused-adam", "config": label})
        if not a.no_epoch:
            for row in run([bench, "epoch", "--threads", "2", "--batch", "128", "--hidden", "1024,512,256"], {}, rt, log):
                results.append({**row, "who": "nnlab", "config": "default"})
            if have_pypi:
                label, env, extra = pypi_candidates(2)[1]
                for row in run([a.venv_python] + py + ["--threads", "2", "--batches", "128", "--samples", "60000",
                                                       "--repeats", "2", "--hidden", "1024,512,256"] + extra,
                               env, rt, log):
                    results.append({**row, "who": "pypi", "config": label, "kind": "epoch"})
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"processor": processor(), "versions": versions(pypi=a.venv_python, debian=a.debian_python),
                       "results": results, "threads": threads, "batches": batches, "rt": rt}, f, indent=1)
    report(results, threads, batches, rt)


def report(results, threads, batches, rt):
    def train_rows(who, t, b, config=None):
        return [r for r in results if r["who"] == who and r.get("kind") == "train" and r["threads"] == t
                and r["batch"] == b and r.get("model", "784-512-256-10") == "784-512-256-10"
                and (config is None or (r["config"] == "installed") == (config == "installed"))]

    def top(rows):
        return max(rows, key=lambda r: r["samples_per_s"]) if rows else None

    print(f"\nTraining throughput, samples/s (784-512-256-10, Adam, Fashion-MNIST; best of the run's passes"
          f"{'; SCHED_FIFO' if rt else ''})\n")
    print("| threads | batch | nnlab | PyPI torch installed | PyPI torch best (config) | Debian torch installed |"
          " Debian torch best (config) | nnlab / best | target | nnlab / installed | PyPI + fused Adam |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for t in threads:
        for b in batches:
            n = top(train_rows("nnlab", t, b))
            pi, pb = top(train_rows("pypi", t, b, "installed")), top(train_rows("pypi", t, b, "best"))
            di, db = top(train_rows("debian", t, b, "installed")), top(train_rows("debian", t, b, "best"))
            pf = top(train_rows("pypi-fused-adam", t, b))
            # a build's best includes its as-installed run (tuning may not help)
            pb = top([r for r in (pi, pb) if r])
            db = top([r for r in (di, db) if r])
            fastest = top([r for r in (pb, db) if r])
            installed = top([r for r in (pi, di) if r])
            f = lambda r: f"{r['samples_per_s']:,.0f}" if r else "-"
            fc = lambda r: f"{r['samples_per_s']:,.0f} ({r['config']})" if r else "-"
            rb = n["samples_per_s"] / fastest["samples_per_s"] if n and fastest else None
            ri = n["samples_per_s"] / installed["samples_per_s"] if n and installed else None
            ok = lambda x, tgt: ("met" if x >= tgt else "NOT met") if x else "-"
            rbs = f"{rb:.2f}x" if rb else "-"
            ris = f"{ri:.2f}x (2x {ok(ri, 2.0)})" if ri else "-"
            pfs = f"{f(pf)} ({n['samples_per_s'] / pf['samples_per_s']:.2f}x)" if n and pf else "-"
            print(f"| {t} | {b} | {f(n)} | {f(pi)} | {fc(pb)} | {f(di)} | {fc(db)} | {rbs} | "
                  f"{TARGETS[b]}x {ok(rb, TARGETS[b])} | {ris} | {pfs} |")

    print("\nnnlab's training step against oneDNN's matrix-product rate on the same shapes (GFLOP/s)\n")
    print("| threads | batch | nnlab step | oneDNN sgemm | oneDNN matmul | nnlab / oneDNN best | target |")
    print("|---|---|---|---|---|---|---|")
    for t in threads:
        for b in batches:
            n = top(train_rows("nnlab", t, b))
            g = [r for r in results if r["who"] == "nnlab" and r.get("kind") == "gemm" and r["threads"] == t and r["batch"] == b]
            if not n or not g:
                continue
            g = max(g, key=lambda r: r["onednn_gflops"])
            ratio = n["gflops"] / g["onednn_gflops"]
            print(f"| {t} | {b} | {n['gflops']:.1f} | {g['sgemm_gflops']:.1f} | {g['matmul_gflops']:.1f} | "
                  f"{ratio:.0%} | {GEMM_TARGETS[b]:.0%} {'met' if ratio >= GEMM_TARGETS[b] else 'NOT met'} |")

    print("\nTwo threads against one (nnlab)\n")
    print("| batch | 1 thread | 2 threads | speed-up |")
    print("|---|---|---|---|")
    for b in batches:
        one, two = top(train_rows("nnlab", 1, b)), top(train_rows("nnlab", 2, b))
        if one and two:
            print(f"| {b} | {one['samples_per_s']:,.0f} | {two['samples_per_s']:,.0f} | "
                  f"{two['samples_per_s'] / one['samples_per_s']:.2f}x |")

    print("\nPrediction latency, microseconds (median of many calls; softmax included)\n")
    print("| threads | batch | nnlab | PyPI torch installed | PyPI torch best | Debian torch best | PyTorch best / nnlab |")
    print("|---|---|---|---|---|---|---|")
    for t in threads:
        for b in (1, 1024):
            def lat(who, installed=None):
                rows = [r for r in results if r["who"] == who and r.get("kind") == "predict" and r["threads"] == t
                        and r["batch"] == b and (installed is None or (r["config"] == "installed") == installed)]
                return min(rows, key=lambda r: r["median_us"]) if rows else None
            n, pi, pb, db = lat("nnlab"), lat("pypi", True), lat("pypi"), lat("debian")
            f = lambda r: f"{r['median_us']:,.1f}" if r else "-"
            fastest = min([r for r in (pb, db) if r], key=lambda r: r["median_us"], default=None)
            ratio = f"{fastest['median_us'] / n['median_us']:.2f}x" if n and fastest else "-"
            print(f"| {t} | {b} | {f(n)} | {f(pi)} | {f(pb)} ({pb['config'] if pb else ''}) | {f(db)} | {ratio} |")

    ep = [r for r in results if r.get("kind") == "epoch"]
    if ep:
        print("\nOne Fashion-MNIST epoch (60,000 images) of the course MLP 784-1024-512-256-10, batch 128, 2 threads"
              " (best of the run)\n")
        mine = [r for r in ep if r["who"] == "nnlab"]
        theirs = [r for r in ep if r["who"] != "nnlab"]
        if mine:
            r = min(mine, key=lambda r: r["best_epoch_s"])
            print(f"- nnlab: {r['best_epoch_s']:.2f} s (its first, cold epoch: {r['first_epoch_s']:.2f} s)")
        if theirs:
            r = max(theirs, key=lambda r: r["samples_per_s"])
            print(f"- PyTorch {r['torch']} ({r['config']}): {60000 / r['samples_per_s']:.2f} s")

if __name__ == "__main__":
    main()
